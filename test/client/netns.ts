// Network namespaces for the watch tests and the watch benchmark: create one, reach the
// endpoint from inside it, and run the shell client's watcher in it as a long-lived process.
//
// How the client reaches the endpoint (as in client.test.ts): the client runs wholly inside the
// namespace with ENDPOINT=http://127.0.0.1:PORT of the namespace's own loopback, where
// netns-bridge.mjs passes each connection to a Unix socket that this process serves from the
// root namespace and forwards to the endpoint. Unix sockets are files, shared across network
// namespaces; so the script needs no test hook, and every connection it opens is counted.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { ROOT } from "../support/endpoint";
import { CLIENT, missing, run, which } from "./support";

/** iproute2's ip, by absolute path: some runs put busybox's ip first on the client's PATH. */
export const IP = which("ip") ?? "ip";
export const PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Run ip(8) now; throws with its message. */
export function ipSync(...args: string[]): string {
  const r = spawnSync(IP, args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`ip ${args.join(" ")}: ${(r.stderr || r.error?.message || "").trim()}`);
  return r.stdout;
}

export async function ip(...args: string[]): Promise<string> {
  const r = await run(IP, args);
  if (r.code !== 0) throw new Error(`ip ${args.join(" ")}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** Write a sysctl inside the namespace (its own /proc/sys/net). */
export function sysctl(ns: string, key: string, value: string): void {
  sysctls(ns, { [key]: value });
}

/** Write several sysctls inside the namespace, in order, with one process. */
export function sysctls(ns: string, values: Record<string, string>): void {
  const writes = Object.entries(values).map(([key, value]) => `echo ${value} > /proc/sys/${key}`);
  ipSync("netns", "exec", ns, "sh", "-ec", writes.join("\n"));
}

/**
 * Duplicate address detection on `dev` as the kernel does it (one Neighbor Solicitation, then
 * the address is usable if nobody answered), only sooner: the probe goes at once instead of
 * after a random delay of up to 1 s, and the answer is awaited 100 ms instead of 1 s.
 */
export function quickDad(dev: string): Record<string, string> {
  return {
    [`net/ipv6/conf/${dev}/dad_transmits`]: "1",
    [`net/ipv6/conf/${dev}/router_solicitation_delay`]: "0",
    [`net/ipv6/neigh/${dev}/retrans_time_ms`]: "100",
  };
}

/**
 * Create the namespace with its loopback up; undefined, or why it cannot be done here (no root,
 * no ip), so that a suite can skip with the reason instead of failing.
 */
export function createNamespace(ns: string): string | undefined {
  const absent = missing("ip");
  if (absent) return absent;
  try {
    ipSync("netns", "add", ns);
  } catch (e) {
    return `cannot create a network namespace (${(e as Error).message}); this needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN)`;
  }
  try {
    ipSync("-n", ns, "link", "set", "lo", "up");
  } catch (e) {
    spawnSync(IP, ["netns", "del", ns]);
    return `cannot bring up the namespace's loopback (${(e as Error).message})`;
  }
  return undefined;
}

export function deleteNamespace(ns: string): void {
  advertisers.get(ns)?.child.kill();
  advertisers.delete(ns);
  spawnSync(IP, ["netns", "del", ns]);
}

/**
 * A veth pair A/B in the namespace, both up, IPv6 on. DAD: the kernel's defaults; `dad: false`
 * turns it off on A; `dad: "quick"` keeps it on both ends, quicker (quickDad), from the start
 * (their link-local addresses too).
 */
export function addVeth(ns: string, a: string, b: string, o: { dad?: boolean | "quick" } = {}): void {
  ipSync("-n", ns, "link", "add", a, "type", "veth", "peer", "name", b);
  sysctls(ns, {
    [`net/ipv6/conf/${a}/disable_ipv6`]: "0",
    [`net/ipv6/conf/${b}/disable_ipv6`]: "0",
    ...(o.dad === false ? { [`net/ipv6/conf/${a}/accept_dad`]: "0" } : {}),
    ...(o.dad === "quick" ? { ...quickDad(a), ...quickDad(b) } : {}),
  });
  for (const dev of [a, b]) ipSync("-n", ns, "link", "set", dev, "up");
}

export interface Bridge {
  /** The port on the namespace's 127.0.0.1 that leads to the endpoint. */
  port: number;
  /** Connections opened through the bridge so far. */
  connections(): number;
  close(): Promise<void>;
}

/** Make `endpointUrl` (on the root namespace's 127.0.0.1) reachable from inside `ns`. */
export async function startBridge(ns: string, endpointUrl: string, dir: string): Promise<Bridge> {
  let connections = 0;
  const socketPath = join(dir, `endpoint-${ns}.sock`);
  const endpointPort = Number(new URL(endpointUrl).port);
  const server = createServer((inbound) => {
    connections += 1;
    const outbound = connect(endpointPort, "127.0.0.1");
    inbound.pipe(outbound);
    outbound.pipe(inbound);
    inbound.on("error", () => outbound.destroy());
    outbound.on("error", () => inbound.destroy());
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  const child = spawn(
    IP,
    ["netns", "exec", ns, process.execPath, join(ROOT, "test", "client", "netns-bridge.mjs"), socketPath],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const stdout = child.stdout;
  if (!stdout) throw new Error("no stdout from the bridge");
  const first = await new Promise<string>((resolve, reject) => {
    createInterface({ input: stdout }).once("line", resolve);
    child.once("exit", (code) => reject(new Error(`the namespace bridge exited (${code})`)));
  });
  return {
    port: Number(first),
    connections: () => connections,
    async close() {
      child.kill("SIGTERM");
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The shell client in --watch mode, inside a namespace, with its log (stderr) kept. */
export class Watcher {
  readonly child: ChildProcess;
  /** Everything it logged so far (with --verbose: every event and every step). */
  log = "";
  /** When each complete log line arrived (performance.now()), for the benchmark. */
  readonly lines: { at: number; line: string }[] = [];
  private partial = "";
  private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly waiters = new Set<() => void>();

  constructor(ns: string, shell: string[], config: string, o: { env?: Record<string, string> } = {}) {
    this.child = spawn(
      IP,
      ["netns", "exec", ns, ...shell, CLIENT, "-c", config, "--stderr", "--verbose", "--watch"],
      { env: { PATH, ...o.env }, stdio: ["ignore", "ignore", "pipe"] },
    );
    this.child.stderr?.on("data", (d: Buffer) => {
      const text = d.toString();
      this.log += text;
      const at = performance.now();
      const parts = (this.partial + text).split("\n");
      this.partial = parts.pop() ?? "";
      for (const line of parts) this.lines.push({ at, line });
      for (const w of this.waiters) w();
    });
    this.exited = new Promise((resolve) => {
      this.child.on("exit", (code, signal) => {
        for (const w of this.waiters) w();
        resolve({ code, signal });
      });
    });
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /**
   * Resolve with the log from `from` on once `re` matches it; reject after `timeoutMs` or when
   * the watcher exits first. `from`: a log length seen before (`watcher.log.length`).
   */
  waitFor(re: RegExp, from = 0, timeoutMs = 20_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const tail = this.log.slice(from);
        if (re.test(tail)) {
          done();
          resolve(tail);
        } else if (!this.running) {
          done();
          reject(new Error(`the watcher exited before ${re}; its log:\n${this.log}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no ${re} within ${timeoutMs} ms; the watcher's log:\n${this.log}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** SIGTERM, and its exit (SIGKILL if it is still there after 10 s). */
  async stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.running) this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 10_000);
    const result = await this.exited;
    clearTimeout(timer);
    return result;
  }
}

/** Per namespace: `ra.py -`, started at the first advertisement, ended by deleteNamespace. */
const advertisers = new Map<string, { child: ChildProcess; waiting: ((answer: string) => void)[] }>();

function startAdvertiser(ns: string): { child: ChildProcess; waiting: ((answer: string) => void)[] } {
  const child = spawn(IP, ["netns", "exec", ns, "python3", join(ROOT, "test", "client", "ra.py"), "-"], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const sender = { child, waiting: [] as ((answer: string) => void)[] };
  // Written to after it died: the exit below answers what waits.
  child.stdin?.on("error", () => {});
  if (child.stdout) createInterface({ input: child.stdout }).on("line", (l) => sender.waiting.shift()?.(l));
  child.on("exit", (code, signal) => {
    if (advertisers.get(ns) === sender) advertisers.delete(ns);
    for (const answer of sender.waiting.splice(0)) answer(`error: ra.py exited (${code ?? signal})`);
  });
  advertisers.set(ns, sender);
  return sender;
}

/**
 * Send one router advertisement from `router` (ra.py): each spec "PREFIX/LEN[,VALID,PREFERRED]".
 * Undefined once it is sent, or why not (such as "Cannot assign requested address" while
 * `router` has no usable link-local address yet). One Python process per namespace sends them
 * all, in order.
 */
export function sendAdvertisement(
  ns: string,
  router: string,
  ...specs: string[]
): Promise<string | undefined> {
  const sender = advertisers.get(ns) ?? startAdvertiser(ns);
  return new Promise((resolve) => {
    sender.waiting.push((answer) => resolve(answer === "ok" ? undefined : answer.replace(/^error: /, "")));
    sender.child.stdin?.write(`${router} ${specs.join(" ")}\n`);
  });
}

/**
 * Send one router advertisement from `router` (sendAdvertisement); throws if it cannot be sent.
 * Waits first (bounded) for `router`'s link-local address, the RA's source, to be usable.
 */
export async function advertise(ns: string, router: string, ...specs: string[]): Promise<void> {
  for (let i = 0; ; i++) {
    const out = await ip("-n", ns, "-6", "-o", "addr", "show", "dev", router, "scope", "link");
    if (/inet6 fe80:/.test(out) && !/tentative/.test(out)) break;
    if (i >= 100) throw new Error(`${router} has no usable link-local address:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const failed = await sendAdvertisement(ns, router, ...specs);
  if (failed) throw new Error(`ra.py: ${failed}`);
}

/** The processes whose parent is `pid`, recursively: pid and command line (read from /proc). */
export function descendants(pid: number): { pid: number; args: string }[] {
  const rows: { pid: number; ppid: number; args: string }[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // The parent is the second field after the command name, which is in parentheses.
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const args = readFileSync(`/proc/${name}/cmdline`, "utf8").split("\0").join(" ").trim();
      rows.push({ pid: Number(name), ppid, args });
    } catch {
      // It ended while the list was read.
    }
  }
  const found: { pid: number; args: string }[] = [];
  const walk = (parent: number) => {
    for (const row of rows.filter((x) => x.ppid === parent)) {
      found.push({ pid: row.pid, args: row.args });
      walk(row.pid);
    }
  };
  walk(pid);
  return found;
}
