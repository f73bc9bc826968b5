// `npm run bench:served`: time-to-served, from a report that changes a record to the moment the
// Worker has seen every name server answer the new address, next to the floor (the report's OVH
// round trips, measured as its reply time, plus one DNS round trip over TCP), with the
// simulator's propagation delay at 0. The Worker in workerd (the test harness), the OVH simulator
// adding --rtt per call, its two name servers on loopback. Also what a change and a scheduled
// check cost in DNS connections and queries. One run; prints a table and writes
// bench/results/served.md. Never part of `npm test`. See docs/benchmarks.md.
import { mkdir, writeFile } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { askServers, type NameServer, parseNameServer } from "../src/dns/client";
import { BACKOFF_S } from "../src/zone/watch";
import { nodeConnect } from "../test/support/dns";
import { ROOT, sha256Hex, startEndpoint } from "../test/support/endpoint";
import { quantile } from "./client";

const USAGE = `npm run bench:served -- [options]
  --rtt MS        OVH round trip the simulator injects (default 50)
  --changes N     changes to measure (default 10)`;

const { values } = parseArgs({
  options: {
    rtt: { type: "string", default: "50" },
    changes: { type: "string", default: "10" },
    help: { type: "boolean", short: "h" },
  },
});
const rtt = Number(values.rtt);
const changes = Number(values.changes);
if (
  values.help ||
  !Number.isInteger(rtt) ||
  rtt < 0 ||
  rtt > 1000 ||
  !Number.isInteger(changes) ||
  changes < 1
) {
  console.error(USAGE);
  process.exit(values.help ? 0 : 2);
}

const ZONE = "served.bench.test";
const HOST = `svc.${ZONE}`;
const PASSWORD = "bench-password";

interface Served {
  state: string;
  target: string;
  since: string;
  nextAt: string | null;
}

async function main(): Promise<void> {
  const ep = await startEndpoint({
    vars: {
      HOSTS: {
        [HOST]: {
          zone: ZONE,
          allow_private: true,
          records: [
            { subdomain: "svc", type: "AAAA" },
            { subdomain: "svc6", type: "AAAA" },
          ],
        },
      },
      CLIENTS: { bench: { password_sha256: await sha256Hex(PASSWORD), hosts: [HOST] } },
    },
  });
  ep.sim.addZone(ZONE);
  ep.sim.dns.setDelay(0);
  const auth = { user: "bench", password: PASSWORD };
  const status = async (): Promise<Served | undefined> => {
    const r = await ep.fetch("/status", { headers: { Authorization: `Basic ${btoa(`bench:${PASSWORD}`)}` } });
    const body = (await r.json()) as { hosts: { records: { name: string; served: Served | null }[] }[] };
    return body.hosts[0]?.records.find((x) => x.name === HOST)?.served ?? undefined;
  };
  const servers = ep.sim.dns.servers().map((s) => parseNameServer(s.address) as NameServer);
  // Warm: the first report creates the records (and reads OVH's clock).
  await ep.update({ hostname: HOST, myipv6: "2001:db8::1" }, auth);
  ep.sim.setLatency(rtt);

  const rows: { toServed: number; reply: number; dnsRtt: number; floor: number }[] = [];
  const cost: { connections: number; queries: number }[] = [];
  for (let i = 0; i < changes; i++) {
    const target = `2001:db8::${(i + 2).toString(16)}`;
    ep.sim.dns.resetLog();
    const t0 = Date.now();
    const reply = await ep.update({ hostname: HOST, myipv6: target }, auth);
    const replied = Date.now() - t0;
    if (!reply.body.startsWith("good")) throw new Error(`report ${i}: ${reply.body}`);
    let served: Served | undefined;
    for (;;) {
      served = await status();
      if (served?.state === "served" && served.target === target) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const toServed = new Date(served.since).getTime() - t0;
    cost.push({ connections: ep.sim.dns.connections().total, queries: ep.sim.dns.queries().length });
    // One DNS round trip: both servers asked once, in parallel, as the Worker asks them.
    const d0 = performance.now();
    await askServers(servers, [{ name: HOST, type: "AAAA" }], {
      connect: nodeConnect,
      timeoutMs: 4000,
      maxOpen: 4,
    });
    const dnsRtt = performance.now() - d0;
    rows.push({ toServed, reply: replied, dnsRtt, floor: replied + dnsRtt });
  }

  // A scheduled check: every record held, in one round.
  ep.sim.dns.resetLog();
  const worker = await ep.mf.getWorker();
  await worker.scheduled({ scheduledTime: new Date(), cron: "*/15 * * * *" });
  const check = { connections: ep.sim.dns.connections().total, queries: ep.sim.dns.queries().length };
  // An unchanged report: nochg, and nothing left to ask (no ask is due: nextAt null).
  ep.sim.dns.resetLog();
  const same = await ep.update({ hostname: HOST, myipv6: `2001:db8::${(changes + 1).toString(16)}` }, auth);
  if (!same.body.startsWith("nochg") || (await status())?.nextAt !== null)
    throw new Error(`the unchanged report: ${same.body}`);
  const unchanged = { connections: ep.sim.dns.connections().total, queries: ep.sim.dns.queries().length };
  await ep.close();

  const q = (f: (r: (typeof rows)[number]) => number, p: number) => Math.round(quantile(rows.map(f), p));
  const poll = (BACKOFF_S[0] as number) * 1000;
  const lines = [
    `# Time-to-served (npm run bench:served)`,
    "",
    `${changes} changes of two AAAA records, OVH round trip ${rtt} ms, propagation delay 0; ${cpus().length} CPUs, load ${loadavg()[0]?.toFixed(1)} at the end. One run: compare within it.`,
    "",
    "| ms | p50 | p95 |",
    "|---|---|---|",
    `| report → served (every name server answers) | ${q((r) => r.toServed, 0.5)} | ${q((r) => r.toServed, 0.95)} |`,
    `| floor: the report's reply + one DNS round trip | ${q((r) => r.floor, 0.5)} | ${q((r) => r.floor, 0.95)} |`,
    `| of which one DNS round trip (both servers, TCP) | ${q((r) => r.dnsRtt, 0.5)} | ${q((r) => r.dnsRtt, 0.95)} |`,
    `| served − floor | ${q((r) => r.toServed - r.floor, 0.5)} | ${q((r) => r.toServed - r.floor, 0.95)} |`,
    "",
    `The first ask comes ${poll} ms after the report (the first poll interval): served − floor stays within it when the servers serve at once.`,
    "",
    "| what | DNS connections | DNS queries |",
    "|---|---|---|",
    `| a change of 2 records (until served) | ${Math.max(...cost.map((c) => c.connections))} | ${Math.max(...cost.map((c) => c.queries))} |`,
    `| a scheduled check (2 records held) | ${check.connections} | ${check.queries} |`,
    `| an unchanged report | ${unchanged.connections} | ${unchanged.queries} |`,
    "",
  ];
  const text = lines.join("\n");
  console.log(text);
  await mkdir(join(ROOT, "bench", "results"), { recursive: true });
  await writeFile(join(ROOT, "bench", "results", "served.md"), text);
}

await main();
