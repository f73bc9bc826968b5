// Requests per second at a fixed concurrency, ovh-dyndns-worker (unchanged reports) against the
// hello-world Worker, served the same way and driven by the same client loop in the same run.
// Rounds alternate between the two so that a noisy neighbour hurts both alike; the median round
// counts. workerd's CPU time per request says where the difference comes from.
import { type LoadResult, load, median } from "./client";
import { cpuSeconds, type RunningWorker } from "./worker";

export interface Target {
  name: string;
  worker: RunningWorker;
  path: string;
  headers: Record<string, string>;
}

export interface LoadOptions {
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  rounds: number;
}

export interface TargetLoad {
  name: string;
  /** Median requests per second over the rounds. */
  perSecond: number;
  rounds: number[];
  p50Ms: number;
  p99Ms: number;
  /** workerd CPU per request, ms (user + system, all threads). */
  workerdCpuMs: number | undefined;
  /** The client's CPU, as a share of one core. */
  clientCpu: number;
  errors: number;
}

export async function measureLoad(
  target: Target,
  o: Omit<LoadOptions, "rounds">,
): Promise<LoadResult & { cpuMs?: number }> {
  const result = await load(
    target.worker.url + target.path,
    target.headers,
    { ...o, expectStatus: 200 },
    () => cpuSeconds(target.worker.pid),
  );
  const cpuMs = result.probed === undefined ? undefined : (result.probed * 1000) / result.requests;
  return { ...result, cpuMs };
}

/** Alternate rounds over the targets; per target the median round. */
export async function compareLoad(targets: Target[], o: LoadOptions): Promise<TargetLoad[]> {
  const runs = new Map<string, (LoadResult & { cpuMs?: number })[]>(targets.map((t) => [t.name, []]));
  for (let round = 0; round < o.rounds; round++) {
    for (const target of round % 2 === 0 ? targets : [...targets].reverse()) {
      runs.get(target.name)?.push(await measureLoad(target, o));
    }
  }
  return targets.map((t) => summarize(t.name, runs.get(t.name) ?? []));
}

export function summarize(name: string, runs: (LoadResult & { cpuMs?: number })[]): TargetLoad {
  const cpu = runs.flatMap((r) => (r.cpuMs === undefined ? [] : [r.cpuMs]));
  return {
    name,
    perSecond: median(runs.map((r) => r.perSecond)),
    rounds: runs.map((r) => Math.round(r.perSecond)),
    p50Ms: median(runs.map((r) => r.p50)),
    p99Ms: median(runs.map((r) => r.p99)),
    workerdCpuMs: cpu.length ? median(cpu) : undefined,
    clientCpu: median(runs.map((r) => r.clientCpu)),
    errors: runs.reduce((n, r) => n + r.errors, 0),
  };
}
