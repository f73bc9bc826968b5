// `npm run bench:client`: how soon after a prefix change the home client's watcher
// (`ovh-dyndns-client --watch`) has the new address live in the zone, next to the floor the
// kernel and OVH allow. In a network namespace (needs root): a veth pair whose end `b0` keeps
// the kernel's default duplicate address detection (one probe, 1 s); the Worker as `npm run
// bench` runs it (built by wrangler, in workerd, OVH calls straight to the simulator, which adds
// an OVH round trip, default 50 ms), reached from the namespace as in test/client/netns.ts.
//
// Each of N prefix changes: in one `ip -batch`, add 2001:db8:NN:10::5/64 (tentative until DAD
// ends) and delete the previous prefix's address. Measured from just before that batch starts:
//   dad   when the kernel announces the new address without "tentative" (our own `ip monitor`);
//   live  when the simulator's live zone first serves the new AAAA (polled every 2 ms);
//   floor dad + 2 OVH round trips (a warm change writes the records, then refreshes the zone);
//   served when every one of the simulator's name servers answers the new AAAA over DNS (TCP),
//         asked round after round from live on (propagation delay 0; bounded at 30 s);
//   served floor  floor + one DNS round trip (that last round: every server asked at once), as
//         `npm run bench:served` defines it.
// Prints p50 and p95 of each, of live - floor and of served - served floor, one run; writes
// bench/results/home-client.json.
// Never part of `npm test`: timings depend on the machine. See docs/benchmarks.md.
import { spawn } from "node:child_process";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { startOvhSimulator } from "../sim/ovh-simulator";
import { askServers, type NameServer, parseNameServer } from "../src/dns/client";
import { addVeth, createNamespace, deleteNamespace, IP, ip, sysctl, Watcher } from "../test/client/netns";
import { clientConfig, missing, tempDir, writePrivate } from "../test/client/support";
import { nodeConnect } from "../test/support/dns";
import { ROOT } from "../test/support/endpoint";
import { liveTargets } from "../test/support/fixtures";
import { buildDeployable } from "./build";
import { BenchClient, quantile, sleep } from "./client";
import { AUTHORIZATION, benchBindings, ONE, PASSWORD, SEEDED, seed, USER } from "./config";
import { MAIN_DURABLE_OBJECTS, startWorker } from "./worker";

const USAGE = `npm run bench:client -- [options]
  --rtt MS        OVH round trip the simulator injects (default 50)
  --changes N     prefix changes to measure (default 20)
  --shell NAME    dash or busybox (busybox ash; default dash)`;

const { values } = parseArgs({
  options: {
    rtt: { type: "string", default: "50" },
    changes: { type: "string", default: "20" },
    shell: { type: "string", default: "dash" },
    help: { type: "boolean", short: "h" },
    // Set by the bench itself when it runs again inside the namespace it made.
    inside: { type: "string" },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const rtt = Number(values.rtt);
const changes = Number(values.changes);
const shell =
  values.shell === "busybox" ? ["busybox", "ash"] : values.shell === "dash" ? ["dash"] : undefined;
if (!Number.isInteger(rtt) || rtt < 0 || rtt > 1000 || !Number.isInteger(changes) || changes < 1 || !shell) {
  console.error(USAGE);
  process.exit(2);
}
const absent = missing(shell[0] ?? "dash", "curl");
if (absent) {
  console.error(`bench:client: ${absent}`);
  process.exit(1);
}

const loadStart = loadavg();
const say = (line: string) => console.error(`bench:client: ${line}`);
const NS = values.inside ?? `ovh-dyndns-bench-${process.pid}`;
const DEV = "b0";
const address = (i: number) => `2001:db8:${(0x100 + i).toString(16)}:10::5`;

interface Change {
  dadMs: number;
  liveMs: number;
  /** When the watcher logged "sending GET": the end of the burst, the address chosen. */
  sentMs: number;
  /** When the watcher logged "reported …": the Worker's answer is in. */
  answeredMs: number;
  floorMs: number;
  /** When every name server first answered the new AAAA (and only it). */
  servedMs: number;
  /** The asking round that saw it served: one DNS round trip to every server at once. */
  dnsRttMs: number;
  /** floorMs + dnsRttMs: no watcher sees the servers answer sooner. */
  servedFloorMs: number;
  /** Rounds of asks, from live to served. */
  rounds: number;
  /** Reports the watcher sent for this change. */
  connections: number;
}

/**
 * Make the namespace, run this bench again inside it (`ip netns exec`), so that the Worker, the
 * simulator and the client share the namespace's loopback as on one host; then remove it.
 */
async function outside(): Promise<number> {
  const noNamespace = createNamespace(NS);
  if (noNamespace) {
    console.error(`bench:client: ${noNamespace}`);
    return 1;
  }
  const args = process.argv.slice(2);
  const child = spawn(
    IP,
    [
      "netns",
      "exec",
      NS,
      process.execPath,
      ...process.execArgv,
      process.argv[1] ?? "",
      ...args,
      "--inside",
      NS,
    ],
    { stdio: "inherit" },
  );
  const stop = () => child.kill("SIGTERM");
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  const code = await new Promise<number>((resolve) => child.on("exit", (c) => resolve(c ?? 1)));
  deleteNamespace(NS);
  return code;
}

/**
 * Ask every name server for the host's AAAA, round after round (each round one TCP connection
 * per server, all at once; the next starts when it ends, no wait between), until all answer
 * `target` and nothing else, or `deadline` (performance.now()) passes.
 */
async function waitServed(
  servers: NameServer[],
  target: string,
  deadline: number,
): Promise<{ at: number; roundMs: number; rounds: number }> {
  for (let rounds = 1; ; rounds++) {
    const began = performance.now();
    const asked = await askServers(servers, [{ name: ONE.host, type: "AAAA" }], {
      connect: nodeConnect,
      timeoutMs: 4000,
      maxOpen: servers.length,
    });
    const at = performance.now();
    const answers = asked.map((a) => a.answers[0]);
    if (answers.every((r) => r?.ok === true && r.records.length === 1 && r.records[0] === target))
      return { at, roundMs: at - began, rounds };
    if (at > deadline)
      throw new Error(`${target} not served after ${rounds} rounds: ${JSON.stringify(answers)}`);
  }
}

async function main(): Promise<void> {
  const tmp = await tempDir("ovh-dyndns-bench-client");
  // Under the repository, as `npm run bench` does: workerd resolves the bundle's path from there.
  const work = join(ROOT, ".tmp", `bench-client-${process.pid}`);
  let sim: Awaited<ReturnType<typeof startOvhSimulator>> | undefined;
  let worker: Awaited<ReturnType<typeof startWorker>> | undefined;
  let watcher: Watcher | undefined;
  // Our own view of the kernel's announcements: when DAD ends for each address.
  const monitor = spawn(IP, ["-n", NS, "-6", "-o", "monitor", "address"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const usable = new Map<string, number>();
  createInterface({ input: monitor.stdout }).on("line", (line) => {
    const m = /^\d+: b0\s+inet6 ([0-9a-f:]+)\/64 scope global (.*)$/.exec(line);
    if (m?.[1] && !/tentative|Deleted/.test(m[2] ?? "") && !usable.has(m[1]))
      usable.set(m[1], performance.now());
  });
  try {
    say("building the Worker (wrangler deploy --dry-run)");
    const bundle = await buildDeployable(join(ROOT, "wrangler.toml"), work);
    sim = await startOvhSimulator({ latencyMs: rtt });
    seed(sim, 0);
    sim.dns.setDelay(0);
    const servers = sim.dns.servers().map((s) => parseNameServer(s.address) as NameServer);
    worker = await startWorker({
      scriptPath: bundle.scriptPath,
      bindings: await benchBindings(sim.url, 0),
      durableObjects: MAIN_DURABLE_OBJECTS,
    });
    addVeth(NS, DEV, "b1");
    // The kernel's defaults, written out: one DAD probe, 1 s to wait for an answer.
    sysctl(NS, `net/ipv6/conf/${DEV}/dad_transmits`, "1");
    sysctl(NS, `net/ipv6/neigh/${DEV}/retrans_time_ms`, "1000");
    await ip("-n", NS, "addr", "add", `${address(0)}/64`, "dev", DEV, "nodad");
    // One report first, so the records hold an address the Worker wrote (a warm change follows).
    const http = new BenchClient();
    const reply = await http.get(`${worker.url}/nic/update?hostname=${ONE.host}&myip=${SEEDED}`, {
      Authorization: AUTHORIZATION,
    });
    http.close();
    if (!/^(good|nochg) /.test(reply.body)) throw new Error(`the first report: ${reply.body}`);

    const config = join(tmp.path, "client.conf");
    await writePrivate(
      config,
      clientConfig({
        ENDPOINT: `${worker.url}/nic/update`,
        USERNAME: USER,
        PASSWORD: `'${PASSWORD}'`,
        INTERFACE: DEV,
        HOSTNAMES: ONE.host,
        STATE_DIR: join(tmp.path, "state"),
      }),
    );
    watcher = new Watcher(NS, shell as string[], config);
    await watcher.waitFor(new RegExp(`reported ${address(0)} for`));
    say(`watcher (${shell?.join(" ")}) running; ${changes} prefix changes, OVH round trip ${rtt} ms`);

    const results: Change[] = [];
    for (let i = 1; i <= changes; i++) {
      const next = address(i);
      const batch = join(tmp.path, `batch-${i}`);
      await writeFile(
        batch,
        `address add ${next}/64 dev ${DEV}\naddress del ${address(i - 1)}/64 dev ${DEV}\n`,
      );
      const mark = watcher.log.length;
      const start = performance.now();
      const batchRun = spawn(IP, ["-n", NS, "-batch", batch], { stdio: "ignore" });
      let liveAt = 0;
      while (liveAt === 0) {
        if (performance.now() - start > 30_000)
          throw new Error(`${next} not live after 30 s:\n${watcher.log}`);
        if (liveTargets(sim, "AAAA", "svc", ONE.zone)[0] === next) liveAt = performance.now();
        else await sleep(2);
      }
      // The servers serve what the last refresh made live: ask from live on, while the watcher
      // still waits for its answer (its time is taken as soon as it logs it).
      const [served, answeredAt] = await Promise.all([
        waitServed(servers, next, start + 30_000),
        watcher.waitFor(new RegExp(`reported ${next} for`), mark).then(() => performance.now()),
      ]);
      await new Promise((resolve) =>
        batchRun.exitCode === null ? batchRun.once("exit", resolve) : resolve(0),
      );
      const dadAt = usable.get(next);
      const sentAt =
        watcher.lines.find((l) => l.at >= start && l.line.includes(`myipv6=${next}`))?.at ?? Number.NaN;
      if (dadAt === undefined) throw new Error(`no end of DAD seen for ${next}`);
      // Anything left of the burst (none expected) would show in the next change's count.
      await sleep(400);
      const r: Change = {
        dadMs: dadAt - start,
        liveMs: liveAt - start,
        sentMs: sentAt - start,
        answeredMs: answeredAt - start,
        floorMs: dadAt - start + 2 * rtt,
        servedMs: served.at - start,
        dnsRttMs: served.roundMs,
        servedFloorMs: dadAt - start + 2 * rtt + served.roundMs,
        rounds: served.rounds,
        connections: watcher.log
          .slice(mark)
          .split("\n")
          .filter((l) => /sending GET /.test(l)).length,
      };
      results.push(r);
      say(
        `${String(i).padStart(2)}: DAD ${r.dadMs.toFixed(0)} ms, sent ${r.sentMs.toFixed(0)} ms, live ${r.liveMs.toFixed(0)} ms (floor ${r.floorMs.toFixed(0)}, +${(r.liveMs - r.floorMs).toFixed(0)}), answer ${r.answeredMs.toFixed(0)} ms, served ${r.servedMs.toFixed(0)} ms (floor ${r.servedFloorMs.toFixed(0)}, +${(r.servedMs - r.servedFloorMs).toFixed(0)}, ${r.rounds} round(s)), ${r.connections} request(s)`,
      );
    }
    await report(results);
  } finally {
    await watcher?.stop();
    monitor.kill("SIGTERM");
    await worker?.close();
    await sim?.close();
    await tmp.remove();
    await rm(work, { recursive: true, force: true });
  }
}

/** The rows of the report, in the order a change goes through them: what each measures. */
const STAGES: [string, keyof Change][] = [
  ["DAD over (the kernel announces the address usable)", "dadMs"],
  ["floor: DAD + 2 OVH round trips", "floorMs"],
  ["the watcher sends the report (0.1 s after the last event)", "sentMs"],
  ["**records live in the zone**", "liveMs"],
  ["the watcher has the Worker's answer", "answeredMs"],
  ["served floor: floor + one DNS round trip", "servedFloorMs"],
  ["of which one DNS round trip (every server, TCP)", "dnsRttMs"],
  ["**every name server answers the new AAAA (served)**", "servedMs"],
];

async function report(results: Change[]): Promise<void> {
  const pick = (f: (c: Change) => number) => results.map(f);
  const row = (name: string, v: number[]) =>
    `| ${name} | ${quantile(v, 0.5).toFixed(0)} ms | ${quantile(v, 0.95).toFixed(0)} ms |`;
  const over = pick((c) => c.liveMs - c.floorMs);
  const servedOver = pick((c) => c.servedMs - c.servedFloorMs);
  const requests = pick((c) => c.connections);
  const goalMs = 500;
  const met = quantile(over, 0.95) <= goalMs;
  const lines = [
    `Home client watcher: ${results.length} prefix changes, OVH round trip ${rtt} ms, ${shell?.join(" ")}, ${new Date().toISOString()}, ${cpus().length} CPUs, load average ${loadStart.map((l) => l.toFixed(1)).join(" ")} before, ${loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")} after`,
    "",
    "| from `ip addr add` (new prefix, old deleted) to … | p50 | p95 |",
    "|---|---|---|",
    ...STAGES.map(([name, key]) =>
      row(
        name,
        pick((c) => c[key]),
      ),
    ),
    row("live - floor (per change)", over),
    row("served - served floor (per change)", servedOver),
    "",
    `Requests per prefix change: ${Math.min(...requests)}–${Math.max(...requests)} (one per burst expected).`,
    `Goal p95(live - floor) ≤ ${goalMs} ms: ${met ? "met" : "MISSED"} (${quantile(over, 0.95).toFixed(0)} ms). The timer: up to 300 000 ms (every 5 minutes).`,
  ];
  console.log(lines.join("\n"));
  const summary = (p: number) => ({
    dad: quantile(
      pick((c) => c.dadMs),
      p,
    ),
    floor: quantile(
      pick((c) => c.floorMs),
      p,
    ),
    live: quantile(
      pick((c) => c.liveMs),
      p,
    ),
    over: quantile(over, p),
    served: quantile(
      pick((c) => c.servedMs),
      p,
    ),
    servedFloor: quantile(
      pick((c) => c.servedFloorMs),
      p,
    ),
    servedOver: quantile(servedOver, p),
  });
  const json = {
    date: new Date().toISOString(),
    rttMs: rtt,
    loadAverage: { start: loadStart, end: loadavg() },
    shell: shell?.join(" "),
    changes: results,
    p50: summary(0.5),
    p95: summary(0.95),
    goalMet: met,
  };
  const dir = join(ROOT, "bench", "results");
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "home-client.json"), `${JSON.stringify(json, null, 2)}\n`);
}

if (values.inside) {
  main().catch((e) => {
    console.error(`bench:client: ${e instanceof Error ? e.stack : String(e)}`);
    process.exitCode = 1;
  });
} else {
  outside().then((code) => {
    process.exitCode = code;
  });
}
