// What each kind of report costs: sequential requests against the Worker in workerd, the
// simulator answering every OVH call after the injected round-trip time. Per report: its OVH
// calls (the simulator's log; the Worker answers only once its calls are done), its latency, and
// on the metered Worker (bench/meter/) its Durable Object requests, SQLite rows and workerd CPU.
import type { CallLogEntry, OvhSimulator } from "../sim/ovh-simulator";
import { BenchClient, quantile, sleep } from "./client";
import { AUTHORIZATION, coldHost, MANY, ONE, RESTART, SPREAD } from "./config";
import type { Meter } from "./meter/meter";
import { cpuMs, type RunningWorker } from "./worker";

export interface ScenarioResult {
  id: string;
  title: string;
  iterations: number;
  /** OVH API calls per request (auth-time excluded): fewest and most seen. */
  apiCalls: { min: number; max: number };
  /** GET /auth/time calls per request (the client syncs its clock once per isolate). */
  authTime: { min: number; max: number };
  /** Calls by kind in the last iteration, e.g. "2 list, 2 get, 2 update, 1 refresh". */
  kinds: string;
  /** The calls of the last iteration grouped by when they arrived: what ran in parallel. */
  waves: string;
  p50Ms: number;
  p95Ms: number;
  /** Latency as a multiple of the injected round-trip time. */
  p50Rtt: number;
  p95Rtt: number;
  /** What the design predicts: API calls, auth-time calls and round trips, and why. */
  expected: { apiCalls: number; authTime: number; rtt: number; why: string };
  /**
   * Where the time goes besides the injected round trips (medians, ms): from sending the report
   * to the first OVH call, between the OVH round trips, and from the last OVH answer to the reply.
   * Undefined when no OVH call was made.
   */
  overheadMs?: { beforeFirstCall: number; betweenCalls: number; afterLastAnswer: number };
  /** Every request's latency, ms, in order. */
  samplesMs: number[];
  /**
   * workerd's CPU per report, ms: every thread of the process (Miniflare's entry, HTTP in and
   * out, the Worker, its Durable Objects, SQLite), from sending the report until it settled.
   */
  cpuMs?: Spread & { p50: number };
  /** Whether every report met a fresh workerd (its first request: nothing compiled, nothing cached). */
  fresh: boolean;
  /** What the Workers Free plan counts, per report (undefined for the floor, which is not metered). */
  footprint?: Footprint;
}

/** Per report: mean, fewest and most over the scenario's measured reports. */
export interface Spread {
  mean: number;
  min: number;
  max: number;
}

export interface Footprint {
  /** Calls on Durable Object stubs: the zone coordinators and the failed-login guard. */
  doRequests: Spread;
  guardRequests: Spread;
  rowsWritten: Spread;
  rowsRead: Spread;
}

export interface Context {
  sim: OvhSimulator;
  /** The long-lived Worker (warm isolate). */
  worker: RunningWorker;
  /** bench/floor: the hops of a warm change without the logic, measured alongside it. */
  floor?: RunningWorker;
  /**
   * Starts a fresh Worker (new workerd process: new isolate), with empty Durable Object storage
   * or the storage kept in `persist`.
   */
  freshWorker(persist?: string): Promise<RunningWorker>;
  /** An empty directory for the storage of the restarted-Worker scenario. */
  persistDir: string;
  rttMs: number;
  iterations: number;
  /** Iterations of the scenarios that start a fresh Worker for every request. */
  coldIterations: number;
}

const addr = (group: number, i: number) => `2001:db8:${group}::${(i + 1).toString(16)}`;

interface Sample {
  ms: number;
  calls: CallLogEntry[];
  /** Date.now() around the request (the simulator stamps calls with the same clock). */
  sentAt: number;
  doneAt: number;
  /** workerd's CPU for the report, and on the metered Worker what the meter counted. */
  cpuMs?: number;
  meter?: Meter;
}

/**
 * After the reply, how long the metered Worker gets to finish the report's work (the history
 * entry of an unchanged report is written just after the reply) before its CPU and meter are read.
 */
const SETTLE_MS = 15;

/** One report; fails loudly when the answer is not the expected outcome for every host. */
async function report(
  client: BenchClient,
  worker: RunningWorker,
  sim: OvhSimulator,
  hosts: readonly string[],
  ip: string,
  outcome: "good" | "nochg",
): Promise<Sample> {
  const cpuBefore = await cpuMs(worker.pid);
  sim.resetCalls();
  const url = `${worker.url}/nic/update?hostname=${hosts.join(",")}&myip=${ip}`;
  const sentAt = Date.now();
  const reply = await client.get(url, { Authorization: AUTHORIZATION, "User-Agent": "ovh-dyndns-bench" });
  const doneAt = Date.now();
  const expected = hosts.map(() => `${outcome} ${ip}\n`).join("");
  if (reply.status !== 200 || reply.body !== expected) {
    throw new Error(
      `report of ${ip} for ${hosts.length} host(s) answered ${reply.status} ${JSON.stringify(reply.body.slice(0, 200))}, expected ${JSON.stringify(expected.slice(0, 60))}…` +
        (worker.stderrTail.length ? `\nworkerd: ${worker.stderrTail.slice(-5).join("\n")}` : ""),
    );
  }
  // A report never reads the bare zone: GET /domain/zone/{zone} is the name-server watch's read
  // of the zone's servers, from an earlier report's alarm (2 s after it), not this report's call.
  const calls = sim.calls().filter((c) => !(c.method === "GET" && /^\/domain\/zone\/[^/]+$/.test(c.path)));
  const sample: Sample = { ms: reply.ms, calls, sentAt, doneAt };
  if (cpuBefore !== undefined) {
    await sleep(SETTLE_MS);
    const cpuAfter = await cpuMs(worker.pid);
    if (cpuAfter !== undefined) sample.cpuMs = cpuAfter - cpuBefore;
  }
  // Read after the CPU: the meter's own request is in neither.
  if (worker.metered)
    sample.meter = JSON.parse((await client.get(`${worker.url}/__bench/meter`)).body) as Meter;
  return sample;
}

function summarize(
  ctx: Context,
  id: string,
  title: string,
  samples: Sample[],
  expected: ScenarioResult["expected"],
  fresh = false,
): ScenarioResult {
  const api = samples.map((s) => s.calls.filter((c) => c.kind !== "auth-time").length);
  const auth = samples.map((s) => s.calls.filter((c) => c.kind === "auth-time").length);
  const ms = samples.map((s) => s.ms);
  const last = samples.at(-1)?.calls ?? [];
  const p50Ms = quantile(ms, 0.5);
  const p95Ms = quantile(ms, 0.95);
  return {
    id,
    title,
    iterations: samples.length,
    apiCalls: { min: Math.min(...api), max: Math.max(...api) },
    authTime: { min: Math.min(...auth), max: Math.max(...auth) },
    kinds: countKinds(last).join(", ") || "none",
    waves: waves(last, ctx.rttMs),
    p50Ms,
    p95Ms,
    p50Rtt: p50Ms / ctx.rttMs,
    p95Rtt: p95Ms / ctx.rttMs,
    expected,
    overheadMs: overhead(samples, ctx.rttMs),
    samplesMs: ms.map((v) => Math.round(v * 100) / 100),
    cpuMs: cpuOf(samples),
    fresh,
    footprint: footprint(samples),
  };
}

function cpuOf(samples: Sample[]): ScenarioResult["cpuMs"] {
  const cpu = samples.flatMap((s) => (s.cpuMs === undefined ? [] : [s.cpuMs]));
  return cpu.length === samples.length ? { ...spread(cpu), p50: quantile(cpu, 0.5) } : undefined;
}

function spread(values: number[]): Spread {
  return {
    mean: values.reduce((a, b) => a + b, 0) / values.length,
    min: Math.min(...values),
    max: Math.max(...values),
  };
}

function footprint(samples: Sample[]): Footprint | undefined {
  const meters = samples.flatMap((s) => (s.meter ? [s.meter] : []));
  if (meters.length !== samples.length) return undefined;
  return {
    doRequests: spread(meters.map((m) => m.zones + m.guard)),
    guardRequests: spread(meters.map((m) => m.guard)),
    rowsWritten: spread(meters.map((m) => m.rowsWritten)),
    rowsRead: spread(meters.map((m) => m.rowsRead)),
  };
}

function overhead(samples: Sample[], rttMs: number): ScenarioResult["overheadMs"] {
  const parts = samples.flatMap((s) => {
    if (s.calls.length === 0) return [];
    const arrivals = s.calls.map((c) => c.at);
    const before = Math.min(...arrivals) - s.sentAt;
    const after = s.doneAt - (Math.max(...arrivals) + rttMs);
    const rounds = waveGroups(s.calls, rttMs).length;
    return [{ before, after, between: s.doneAt - s.sentAt - before - after - rounds * rttMs }];
  });
  if (parts.length === 0) return undefined;
  return {
    beforeFirstCall: quantile(
      parts.map((p) => p.before),
      0.5,
    ),
    betweenCalls: quantile(
      parts.map((p) => p.between),
      0.5,
    ),
    afterLastAnswer: quantile(
      parts.map((p) => p.after),
      0.5,
    ),
  };
}

function countKinds(calls: CallLogEntry[]): string[] {
  const counts = new Map<string, number>();
  for (const c of calls) counts.set(c.kind, (counts.get(c.kind) ?? 0) + 1);
  return [...counts].map(([kind, n]) => `${n} ${kind}`);
}

/**
 * Calls grouped into waves: a call that arrives more than half a round trip after the first call
 * of the current wave starts the next one. "list×2 → get×2" means two lists in parallel, then two
 * reads in parallel.
 */
export function waves(calls: CallLogEntry[], rttMs: number): string {
  if (calls.length === 0) return "-";
  if (rttMs < 10) return "(needs --rtt ≥ 10)";
  return waveGroups(calls, rttMs)
    .map((g) =>
      countKinds(g)
        .map((k) => {
          const [n, kind] = k.split(" ");
          return n === "1" ? kind : `${kind}×${n}`;
        })
        .join(" + "),
    )
    .join(" → ");
}

function waveGroups(calls: CallLogEntry[], rttMs: number): CallLogEntry[][] {
  const sorted = [...calls].sort((a, b) => a.at - b.at || a.seq - b.seq);
  const groups: CallLogEntry[][] = [];
  let start = Number.NEGATIVE_INFINITY;
  for (const call of sorted) {
    if (rttMs === 0 || call.at - start > rttMs / 2) {
      if (groups.length === 0 || rttMs > 0) groups.push([]);
      start = call.at;
    }
    groups.at(-1)?.push(call);
  }
  return groups;
}

/**
 * What one OVH round trip costs beyond the injected latency when nothing but the simulator is
 * involved (Node's timer and HTTP on loopback): p50 of `GET /auth/time` from here, minus the RTT.
 */
export async function simulatorOverhead(sim: OvhSimulator, rttMs: number, n = 20): Promise<number> {
  const client = new BenchClient();
  try {
    const ms: number[] = [];
    for (let i = 0; i < n; i++) ms.push((await client.get(`${sim.url}/auth/time`)).ms);
    return quantile(ms, 0.5) - rttMs;
  } finally {
    client.close();
    sim.resetCalls();
  }
}

/**
 * workerd's CPU per request of a Worker that is not metered (hello-world): `n` requests one at a
 * time, each read like a report's (from sending to settled).
 */
export async function cpuPerRequest(
  worker: RunningWorker,
  path: string,
  headers: Record<string, string>,
  n: number,
): Promise<Spread & { p50: number }> {
  const client = new BenchClient();
  try {
    await client.get(worker.url + path, headers); // the isolate's first request is not a typical one
    const cpu: number[] = [];
    for (let i = 0; i < n; i++) {
      const before = await cpuMs(worker.pid);
      const reply = await client.get(worker.url + path, headers);
      if (reply.status !== 200) throw new Error(`${path} answered ${reply.status}`);
      await sleep(SETTLE_MS);
      const after = await cpuMs(worker.pid);
      if (before === undefined || after === undefined) throw new Error("workerd's CPU time is unknown");
      cpu.push(after - before);
    }
    return { ...spread(cpu), p50: quantile(cpu, 0.5) };
  } finally {
    client.close();
  }
}

/** workerd's CPU for the first request of `n` fresh starts, read like a report's. */
export async function firstRequestCpu(
  start: () => Promise<RunningWorker>,
  path: string,
  headers: Record<string, string>,
  n: number,
): Promise<Spread & { p50: number }> {
  const cpu: number[] = [];
  for (let i = 0; i < n; i++) {
    const worker = await start();
    const client = new BenchClient();
    try {
      const before = await cpuMs(worker.pid);
      const reply = await client.get(worker.url + path, headers);
      if (reply.status !== 200) throw new Error(`${path} answered ${reply.status}`);
      await sleep(SETTLE_MS);
      const after = await cpuMs(worker.pid);
      if (before === undefined || after === undefined) throw new Error("workerd's CPU time is unknown");
      cpu.push(after - before);
    } finally {
      client.close();
      await worker.close();
    }
  }
  return { ...spread(cpu), p50: quantile(cpu, 0.5) };
}

/** Unmeasured reports before a warm scenario's measured ones. */
const WARM_UP = 5;

/**
 * Reports against the long-lived Worker, after `prime` reports that are not measured. With
 * `floor`, each measured report is followed by the same report to that Worker, whose samples
 * fill `floor.samples`: both see the same moments of the machine.
 */
async function warm(
  ctx: Context,
  hosts: readonly string[],
  prime: { ip: string; outcome: "good" | "nochg" }[],
  ip: (i: number) => string,
  outcome: "good" | "nochg",
  floor?: { worker: RunningWorker; samples: Sample[] },
): Promise<Sample[]> {
  const client = new BenchClient();
  try {
    for (const p of prime) {
      await report(client, ctx.worker, ctx.sim, hosts, p.ip, p.outcome);
      if (floor) await report(client, floor.worker, ctx.sim, hosts, p.ip, p.outcome);
    }
    const samples: Sample[] = [];
    for (let i = 0; i < ctx.iterations; i++) {
      samples.push(await report(client, ctx.worker, ctx.sim, hosts, ip(i), outcome));
      if (floor) floor.samples.push(await report(client, floor.worker, ctx.sim, hosts, ip(i), outcome));
    }
    return samples;
  } finally {
    client.close();
  }
}

/** One report per fresh Worker: new isolate (clock not synced), no remembered record. */
async function coldIsolate(ctx: Context, hosts: readonly string[], group: number): Promise<Sample[]> {
  const samples: Sample[] = [];
  for (let i = 0; i < ctx.coldIterations; i++) {
    const worker = await ctx.freshWorker();
    const client = new BenchClient();
    try {
      samples.push(await report(client, worker, ctx.sim, hosts, addr(group, i), "good"));
    } finally {
      client.close();
      await worker.close();
    }
  }
  return samples;
}

/**
 * The same unchanged report, each time to a fresh workerd on the storage the first report left:
 * what a client that reports every few minutes meets. The isolate is new (it trusts no source
 * yet, so the guard is asked) and the Durable Objects start from their stored rows, as after an
 * eviction.
 */
async function restarted(ctx: Context, hosts: readonly string[], ip: string): Promise<Sample[]> {
  const once = async (outcome: "good" | "nochg") => {
    const worker = await ctx.freshWorker(ctx.persistDir);
    const client = new BenchClient();
    try {
      return await report(client, worker, ctx.sim, hosts, ip, outcome);
    } finally {
      client.close();
      await worker.close();
    }
  };
  // The first report writes the records; the first unchanged one starts the history entry that
  // the next ones count their repeats in, as a client's do day after day.
  await once("good");
  await once("nochg");
  const samples: Sample[] = [];
  for (let i = 0; i < ctx.coldIterations; i++) samples.push(await once("nochg"));
  return samples;
}

export async function runScenarios(
  ctx: Context,
  progress: (line: string) => void,
): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  const add = (r: ScenarioResult) => {
    results.push(r);
    progress(
      `${r.title}: ${r.apiCalls.max} calls (+${r.authTime.max} auth-time), p50 ${r.p50Ms.toFixed(1)} ms`,
    );
  };
  const one = [ONE.host];
  // Changes alternate two addresses; WARM_UP unmeasured changes first, ending on the address
  // the first measured report changes from: the ids are known and the isolate has run the path.
  const warmUp = (n: number) =>
    Array.from({ length: WARM_UP }, (_, k) => ({ ip: addr(n, (k + 1) % 2), outcome: "good" as const }));

  // One report first writes the records and remembers them, then WARM_UP unchanged reports run
  // the path unmeasured; the measured ones are all unchanged too.
  const unchanged = [
    { ip: addr(1, 0), outcome: "good" as const },
    ...Array.from({ length: WARM_UP }, () => ({ ip: addr(1, 0), outcome: "nochg" as const })),
  ];
  add(
    summarize(
      ctx,
      "unchanged",
      "unchanged report (warm)",
      await warm(ctx, one, unchanged, () => addr(1, 0), "nochg"),
      { apiCalls: 0, authTime: 0, rtt: 0, why: "remembered and confirmed within recheck_after: no OVH call" },
    ),
  );
  add(
    summarize(
      ctx,
      "unchanged-restarted",
      "unchanged report, restarted workerd (storage kept)",
      await restarted(ctx, [RESTART.host], addr(9, 0)),
      {
        apiCalls: 0,
        authTime: 0,
        rtt: 0,
        why: "the coordinator reads its stored records; confirmed within recheck_after: no OVH call",
      },
      true,
    ),
  );
  const floor = ctx.floor && { worker: ctx.floor, samples: [] as Sample[] };
  add(
    summarize(
      ctx,
      "change-warm",
      "1 host, 2 AAAA change (warm ids)",
      await warm(ctx, one, warmUp(1), (i) => addr(1, i % 2), "good", floor),
      { apiCalls: 3, authTime: 0, rtt: 2, why: "2 updates in parallel, then 1 refresh" },
    ),
  );
  if (floor)
    add(
      summarize(ctx, "floor", "floor: the same hops, no logic (bench/floor)", floor.samples, {
        apiCalls: 0,
        authTime: 3,
        rtt: 2,
        why: "3 unsigned auth-time calls, 2 in parallel then 1, and one stored row: what the machine costs",
      }),
    );

  // A zone no coordinator has seen: its ids are unknown, the isolate's clock is already synced.
  const coldSamples: Sample[] = [];
  const client = new BenchClient();
  try {
    for (let i = 0; i < ctx.iterations; i++)
      coldSamples.push(await report(client, ctx.worker, ctx.sim, [coldHost(i)], addr(2, i), "good"));
  } finally {
    client.close();
  }
  add(
    summarize(ctx, "change-cold-zone", "same, cold coordinator (new zone)", coldSamples, {
      apiCalls: 7,
      authTime: 0,
      rtt: 4,
      why: "per record list → get (records in parallel), 2 updates in parallel, refresh",
    }),
  );

  add(
    summarize(
      ctx,
      "change-cold-isolate",
      "same, cold isolate (fresh workerd)",
      await coldIsolate(ctx, one, 3),
      {
        apiCalls: 7,
        authTime: 1,
        rtt: 5,
        why: "auth-time sync first (1 RTT), then as the cold coordinator",
      },
      true,
    ),
  );

  add(
    summarize(
      ctx,
      "spread",
      "4 hosts over 2 zones change",
      await warm(ctx, SPREAD.hosts, warmUp(4), (i) => addr(4, i % 2), "good"),
      {
        apiCalls: 6,
        authTime: 0,
        rtt: 2,
        why: "zones in parallel; per zone 2 updates in parallel, then its refresh",
      },
    ),
  );
  add(
    summarize(
      ctx,
      "many-warm",
      "20 hosts in one request change (warm)",
      await warm(ctx, MANY.hosts, warmUp(5), (i) => addr(5, i % 2), "good"),
      // At most six OVH calls in flight (a Worker invocation's connection limit): 4 waves.
      { apiCalls: 21, authTime: 0, rtt: 5, why: "20 updates, six at a time (4 RTT), then 1 refresh" },
    ),
  );
  add(
    summarize(
      ctx,
      "many-cold",
      "20 hosts, cold isolate",
      await coldIsolate(ctx, MANY.hosts, 6),
      {
        apiCalls: 61,
        authTime: 1,
        rtt: 15,
        why: "auth-time, 20 × (list → get) and 20 updates, six calls at a time, then refresh",
      },
      true,
    ),
  );
  return results;
}
