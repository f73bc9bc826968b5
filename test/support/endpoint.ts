// Runs the Worker in workerd (Miniflare) against the OVH simulator, the way tests, the demo
// (`npm start`) and the benchmarks use it. Every outbound request of the Worker passes through
// `outboundService`: requests to the simulator are forwarded over real HTTP, anything else is
// recorded in `unexpected` and answered 599 — close() fails when there were any, so every test
// that starts an endpoint gets that check.
import { mkdir, readFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { type BuildOptions, build } from "esbuild";
import { type Json, type Request as MfRequest, Response as MfResponse, Miniflare } from "miniflare";
import { type OvhSimulator, type SimOptions, startOvhSimulator } from "../../sim/ovh-simulator";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const COMPATIBILITY_DATE = "2026-07-01";

/** The OVH credentials tests give the Worker and register in the simulator. */
export const TEST_OVH = {
  applicationKey: "test-app-key-0123",
  applicationSecret: "test-app-secret-4567",
  consumerKey: "test-consumer-key-89ab",
} as const;

/** Register TEST_OVH's application and consumer key (all rights) in `sim`. */
export function allowTestKey(sim: OvhSimulator): void {
  sim.addApplication(TEST_OVH.applicationKey, TEST_OVH.applicationSecret);
  sim.addConsumerKey(TEST_OVH.consumerKey, { applicationKey: TEST_OVH.applicationKey });
}

/** A simulator that knows TEST_OVH's key, as startEndpoint() starts one of its own. */
export async function startTestSimulator(options?: SimOptions): Promise<OvhSimulator> {
  const sim = await startOvhSimulator(options);
  allowTestKey(sim);
  return sim;
}

/** The Worker secrets of TEST_OVH's key, as a test Worker gets them by default. */
export const OVH_SECRETS = {
  OVH_APPLICATION_KEY: TEST_OVH.applicationKey,
  OVH_APPLICATION_SECRET: TEST_OVH.applicationSecret,
  OVH_CONSUMER_KEY: TEST_OVH.consumerKey,
};

/** Every password a test hashed for CLIENTS: none may ever appear in the Worker's output. */
export const TEST_PASSWORDS = new Set<string>();

/** How wrangler bundles the Worker (esbuild, ESM, workerd's conditions), for tests and benchmarks. */
export const WORKER_BUILD = {
  entryPoints: [join(ROOT, "src", "index.ts")],
  bundle: true,
  format: "esm",
  platform: "neutral",
  target: "es2022",
  conditions: ["workerd", "worker", "browser"],
  mainFields: ["module", "main"],
  external: ["cloudflare:*"],
  logLevel: "error",
} satisfies BuildOptions;

let bundle: Promise<string> | undefined;
let bundleSource: Promise<string> | undefined;

/** Bundle src/index.ts the way wrangler does (esbuild, ESM, workerd conditions), once per process. */
export function buildWorker(): Promise<string> {
  bundle ??= (async () => {
    const outfile = join(ROOT, ".tmp", `worker-${process.pid}.mjs`);
    await mkdir(dirname(outfile), { recursive: true });
    await build({ ...WORKER_BUILD, outfile });
    return outfile;
  })();
  return bundle;
}

export interface EndpointOptions {
  /** Worker vars (HOSTS, CLIENTS, SETTINGS …). OVH_ENDPOINT defaults to the simulator. */
  vars: Record<string, unknown>;
  /** Secrets; defaults to TEST_OVH. Pass {} to start without any. */
  secrets?: Record<string, string>;
  /** An existing simulator; otherwise one is started (and closed with the endpoint). */
  sim?: OvhSimulator;
  /** Listen on this port (0 = any) for clients outside Node, such as ddclient. */
  port?: number;
  host?: string;
  /**
   * Run a second copy of the Worker (its own isolate, as in another data center) bound to the
   * same Durable Objects; `update(…, { isolate: 2 })` reaches it.
   */
  secondIsolate?: boolean;
  /** Keep Durable Object storage in this directory (one SQLite file per object), to look at it. */
  persist?: string;
  /** Serve /cdn-cgi/handler/scheduled, which runs the Cron Trigger's handler (the demo's hand run). */
  triggerHandlers?: boolean;
  /**
   * Stand-ins for outside services, in tests only: a real origin ("https://ntfy.sh") → a local
   * receiver's origin (test/support/receivers.ts). The Worker's requests to it are forwarded
   * there as sent; a receiver's own origin may map to itself (a generic+http:// target).
   */
  receivers?: Record<string, string>;
  /**
   * Give the Worker the TEST_CLOCK binding (src/core/clock.ts), so that `clock.advance()` runs its
   * dates ahead: records age past recheck_after, hosts go stale, without waiting.
   */
  clock?: boolean;
  /**
   * Let the Worker ask OVH for the zone's name servers (GET /domain/zone/{zone}), as deployed.
   * By default name_servers names the simulator's, so a test's OVH calls are only its reports'.
   */
  nameServersFromOvh?: boolean;
}

export interface UpdateReply {
  status: number;
  body: string;
  headers: Headers;
}

export interface Endpoint {
  /** http://127.0.0.1:PORT */
  url: string;
  sim: OvhSimulator;
  mf: Miniflare;
  /** Every line the Worker printed (console.log/error), in order. */
  logs: string[];
  /** Outbound requests that went anywhere but the simulator. */
  unexpected: string[];
  /** GET /nic/update with the query; credentials as Basic unless `auth: "query"` or none. */
  update(query: Record<string, string> | string, init?: UpdateInit): Promise<UpdateReply>;
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** Resolves once the log lines printed so far have been read. */
  flushLogs(): Promise<void>;
  /** The Worker's clock (EndpointOptions.clock); it takes a move at its next request, scheduled run or alarm. */
  clock: TestClock;
  /**
   * Run the zone coordinator's alarm now (of `zone`; or the AuthGuard `name`'s), as workerd runs a
   * due one (the alarm cleared, then alarm()), and resolve when it has finished, with the time the
   * alarm was set for (null: none was set): with `clock.advance()`, the name-server watch's
   * back-off and serve_within, the pace and a guard's window pass without waiting.
   */
  fireAlarm(name: string, of?: "ZONES" | "GUARD"): Promise<number | null>;
  close(): Promise<void>;
}

export interface UpdateInit {
  user?: string;
  password?: string;
  auth?: "basic" | "query" | "none";
  headers?: Record<string, string>;
  method?: "GET" | "POST";
  path?: string;
  /** 2: send to the second isolate (EndpointOptions.secondIsolate). */
  isolate?: 1 | 2;
}

export interface TestClock {
  /** How far ahead of Date.now() the Worker dates things, in ms. */
  readonly aheadMs: number;
  /** The Worker's Date.now() plus aheadMs. */
  now(): number;
  /** Run the Worker's dates `ms` further ahead. */
  advance(ms: number): void;
}

function testClock(enabled: boolean): TestClock {
  let aheadMs = 0;
  return {
    get aheadMs() {
      return aheadMs;
    },
    now: () => Date.now() + aheadMs,
    advance(ms) {
      if (!enabled) throw new Error("this endpoint has no TEST_CLOCK: start it with { clock: true }");
      aheadMs += ms;
    },
  };
}

/**
 * The entry module tests run: the bundle as built, its ZoneCoordinator and AuthGuard given one more
 * RPC method, fireAlarm() (workerd lets no one call alarm() over RPC), the way
 * @cloudflare/vitest-pool-workers' runDurableObjectAlarm reaches into an object. Nothing else
 * differs from what is deployed.
 */
const UNDER_TEST = (bundle: string) => `
import worker, { AuthGuard as DeployedGuard, ZoneCoordinator as Deployed } from "./${bundle}";
export * from "./${bundle}";
const fireAlarm = async (object) => {
  const at = await object.ctx.storage.getAlarm();
  await object.ctx.storage.deleteAlarm();
  await object.alarm();
  return at;
};
export class ZoneCoordinator extends Deployed {
  fireAlarm() {
    return fireAlarm(this);
  }
}
export class AuthGuard extends DeployedGuard {
  fireAlarm() {
    return fireAlarm(this);
  }
}
export default worker;
`;

export async function startEndpoint(options: EndpointOptions): Promise<Endpoint> {
  const scriptPath = await buildWorker();
  // The bundle as one module with its text: Miniflare would otherwise parse it again at each
  // start to look for imports (it has none), a fifth of the CPU a start costs in Node.
  bundleSource ??= readFile(scriptPath, "utf8");
  const contents = await bundleSource;
  const ownSim = !options.sim;
  const sim = options.sim ?? (await startTestSimulator());
  const secrets = options.secrets ?? OVH_SECRETS;
  const logs: string[] = [];
  const unexpected: string[] = [];
  let lastOutput = Date.now();
  const readLines = (stream: Readable) => {
    createInterface({ input: stream }).on("line", (line) => {
      logs.push(line);
      lastOutput = Date.now();
    });
  };
  /**
   * Resolves once the Worker's output has been quiet for `ms` (at most a second): after
   * mf.dispose() what workerd wrote is still being read, and its streams never end.
   */
  const quiet = async (ms: number) => {
    const until = Date.now() + 1000;
    await new Promise((resolve) => setTimeout(resolve, ms));
    while (Date.now() - lastOutput < ms && Date.now() < until)
      await new Promise((resolve) => setTimeout(resolve, ms - (Date.now() - lastOutput)));
  };

  const outboundService = async (request: MfRequest) => {
    const url = new URL(request.url);
    const stand = options.receivers?.[url.origin];
    if (url.origin !== sim.origin && !stand) {
      unexpected.push(`${request.method} ${url.origin}${url.pathname}`);
      return new MfResponse("unexpected outbound request in a test", { status: 599 });
    }
    const target = stand ? `${stand}${url.pathname}${url.search}` : request.url;
    // Forward as sent; Node's fetch sets its own framing headers.
    const headers = new Headers();
    request.headers.forEach((value: string, key: string) => {
      if (!["content-length", "host", "connection", "transfer-encoding"].includes(key))
        headers.set(key, value);
    });
    const body =
      request.method === "GET" || request.method === "HEAD" ? undefined : await request.arrayBuffer();
    const answer = await fetch(target, { method: request.method, headers, body, redirect: "manual" });
    // A 204 (OVH's refresh sometimes) or 304 has no body, and a Response may not be given one.
    const nullBody = [204, 205, 304].includes(answer.status);
    return new MfResponse(nullBody ? null : await answer.arrayBuffer(), {
      status: answer.status,
      headers: [...answer.headers],
    });
  };
  const clock = testClock(options.clock ?? false);
  const worker = {
    modules: [
      {
        type: "ESModule" as const,
        path: join(dirname(scriptPath), "under-test.mjs"),
        contents: UNDER_TEST(basename(scriptPath)),
      },
      { type: "ESModule" as const, path: scriptPath, contents },
    ],
    modulesRoot: dirname(scriptPath),
    // As wrangler.toml's [assets]: the status page's files, served ahead of the Worker.
    assets: {
      directory: join(ROOT, "public"),
      binding: "ASSETS",
      routerConfig: { has_user_worker: true },
      assetConfig: { html_handling: "none" as const },
    },
    compatibilityDate: COMPATIBILITY_DATE,
    bindings: {
      OVH_ENDPOINT: sim.url,
      ...withTestSettings(
        options.vars,
        options.nameServersFromOvh ? [] : sim.dns.servers().map((s) => s.address),
      ),
      ...secrets,
    } as Record<string, Json>,
    outboundService,
    ...(options.clock
      ? { serviceBindings: { TEST_CLOCK: () => new MfResponse(String(clock.aheadMs)) } }
      : {}),
  };
  const mf = new Miniflare({
    workers: [
      {
        ...worker,
        name: "first",
        durableObjects: {
          ZONES: { className: "ZoneCoordinator", useSQLite: true },
          GUARD: { className: "AuthGuard", useSQLite: true },
          NOTIFY: { className: "Notifier", useSQLite: true },
        },
      },
      ...(options.secondIsolate
        ? [
            {
              ...worker,
              name: "second",
              durableObjects: {
                ZONES: { className: "ZoneCoordinator", scriptName: "first", useSQLite: true },
                GUARD: { className: "AuthGuard", scriptName: "first", useSQLite: true },
                NOTIFY: { className: "Notifier", scriptName: "first", useSQLite: true },
              },
            },
          ]
        : []),
    ],
    ...(options.persist ? { durableObjectsPersist: options.persist } : {}),
    host: options.host ?? "127.0.0.1",
    port: options.port ?? 0,
    unsafeTriggerHandlers: options.triggerHandlers ?? false,
    handleRuntimeStdio: (stdout: Readable, stderr: Readable) => {
      readLines(stdout);
      readLines(stderr);
    },
  });
  const url = (await mf.ready).origin;

  const endpoint: Endpoint = {
    url,
    sim,
    mf,
    logs,
    unexpected,
    clock,
    async fireAlarm(name, of = "ZONES") {
      const objects = await mf.getDurableObjectNamespace(of);
      const stub = objects.get(objects.idFromName(name)) as unknown as {
        fireAlarm(): Promise<number | null>;
      };
      return await stub.fireAlarm();
    },
    async fetch(path, init) {
      return fetch(url + path, init);
    },
    async update(query, init = {}) {
      const search = typeof query === "string" ? query : new URLSearchParams(query).toString();
      const headers: Record<string, string> = { "User-Agent": "ovh-dyndns-tests", ...init.headers };
      const user = init.user ?? "home";
      const password = init.password ?? "home-password";
      let qs = search;
      if (init.auth === "query") qs += `${qs ? "&" : ""}username=${user}&password=${password}`;
      else if (init.auth !== "none") headers.Authorization = `Basic ${btoa(`${user}:${password}`)}`;
      const target = `${url}${init.path ?? "/nic/update"}?${qs}`;
      if (init.isolate === 2) {
        const second = await mf.getWorker("second");
        const response = await second.fetch(target, { method: init.method ?? "GET", headers });
        const body = await response.text();
        return { status: response.status, body, headers: new Headers([...response.headers]) };
      }
      const response = await fetch(target, { method: init.method ?? "GET", headers });
      return { status: response.status, body: await response.text(), headers: response.headers };
    },
    async flushLogs() {
      // workerd writes a request's log lines before its response completes; a short tick lets
      // the pipe deliver them to the reader.
      await new Promise((resolve) => setTimeout(resolve, 50));
    },
    async close() {
      await mf.dispose();
      await quiet(50);
      if (ownSim) await sim.close();
      const problems: string[] = [];
      // Every test gets this check, whether or not it also checks after each case.
      if (unexpected.length > 0) problems.push(`unexpected outbound requests: ${unexpected.join(", ")}`);
      // The log line of every request carries its reply, so this covers replies too.
      const leaks = findSecrets(logs, secretsOf(options.vars, secrets));
      if (leaks.length > 0) problems.push(`secrets in the Worker's output: ${leaks.join("; ")}`);
      if (problems.length > 0) throw new Error(problems.join("; "));
    },
  };
  return endpoint;
}

/**
 * Let `seconds` pass on `ep`'s clock and run `zone`'s coordinator alarm (EndpointOptions.clock):
 * what was due by then runs, as the watch's next ask. The time the alarm was set for, or null.
 */
export async function elapse(ep: Endpoint, zone: string, seconds: number): Promise<number | null> {
  ep.clock.advance(seconds * 1000);
  return ep.fireAlarm(zone);
}

/**
 * Send a report until it is answered otherwise than 911, for at most `ms`; the last reply. After a
 * call timed out, the zone's breaker answers 911 at once for twice ovh_timeout_ms: this waits for
 * it to close without guessing how long that takes on a loaded machine.
 */
export async function untilServed(report: () => Promise<UpdateReply>, ms = 10_000): Promise<UpdateReply> {
  const until = Date.now() + ms;
  for (;;) {
    const reply = await report();
    if (reply.body !== "911\n" || Date.now() >= until) return reply;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** SHA-256 hex of a password, as `password_sha256` in CLIENTS wants it. */
export async function sha256Hex(password: string): Promise<string> {
  TEST_PASSWORDS.add(password);
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(password));
  return Buffer.from(digest).toString("hex");
}

/** The secret values a Worker started with these options knows, in every form that could leak. */
export function secretsOf(
  vars: Record<string, unknown>,
  secrets: Record<string, string>,
): { what: string; value: string }[] {
  const found: { what: string; value: string }[] = [];
  for (const [key, value] of Object.entries(secrets))
    if (key !== "OVH_APPLICATION_KEY") found.push({ what: key, value });
  const clients = (vars.CLIENTS ?? {}) as Record<string, { password_sha256?: string }>;
  for (const [name, client] of Object.entries(clients)) {
    if (client.password_sha256)
      found.push({ what: `${name}'s password hash`, value: client.password_sha256 });
    for (const password of TEST_PASSWORDS)
      found.push({ what: `${name}'s Authorization`, value: btoa(`${name}:${password}`) });
  }
  for (const password of TEST_PASSWORDS) found.push({ what: "a client password", value: password });
  return found;
}

export function findSecrets(lines: string[], secrets: { what: string; value: string }[]): string[] {
  const text = lines.join("\n");
  return secrets.filter((s) => s.value.length >= 6 && text.includes(s.value)).map((s) => s.what);
}

/**
 * Tests make many reports a minute against one zone; OVH's pace (60 calls a minute by default)
 * would hold them back. Unless a test sets ovh_calls_per_minute itself, the pace is out of the way.
 * And unless it sets name_servers, the Worker asks the simulator's name servers (`nameServers`).
 */
function withTestSettings(vars: Record<string, unknown>, nameServers: string[]): Record<string, unknown> {
  const settings = vars.SETTINGS;
  if (
    settings !== undefined &&
    (typeof settings !== "object" || settings === null || Array.isArray(settings))
  )
    return vars;
  const defaults = {
    ovh_calls_per_minute: 10_000,
    ...(nameServers.length > 0 ? { name_servers: nameServers } : {}),
  };
  return { ...vars, SETTINGS: { ...defaults, ...(settings as object | undefined) } };
}
