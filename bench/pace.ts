// The pace's own rows: reports bigger than the pace's burst, at the default ovh_calls_per_minute,
// on a Worker of their own (the latency rows run with the pace out of the way). For each, the
// reply (what it answered, how long it took) and the time until every record is live at the
// simulator, against the pace's ideal time for the calls the report cannot do without.

import type { OvhSimulator } from "../sim/ovh-simulator";
import { DEFAULT_SETTINGS } from "../src/config";
import { BURST } from "../src/ovh/policy/pace";
import { BenchClient, sleep } from "./client";
import { AUTHORIZATION, PACED } from "./config";
import type { RunningWorker } from "./worker";

export interface PaceRow {
  title: string;
  records: number;
  /** OVH calls until every record was live (auth-time excluded), and the fewest the report needs. */
  calls: number;
  neededCalls: number;
  reply: { ms: number; good: number; other: number };
  /** Until every record was live, ms (undefined: not within the bench's wait). */
  liveMs: number | undefined;
  /** The pace's time for the needed calls: those beyond the burst, at the rest of the minute's rate. */
  idealMs: number;
}

/** How long the bench waits for a paced report's records to be live. */
const WAIT_MS = 240_000;

export async function paceRows(sim: OvhSimulator, worker: RunningWorker): Promise<PaceRow[]> {
  const perMinute = DEFAULT_SETTINGS.ovhCallsPerMinute;
  const rate = (perMinute - BURST) / 60_000;
  const ideal = (calls: number) => Math.max(0, calls - BURST) / rate;
  const many = PACED.many;
  const cold = PACED.cold;
  // Each zone has its own coordinator and pace: the two run side by side.
  return Promise.all([
    row(
      sim,
      worker,
      "20 hosts of one AAAA, cold coordinator (list, read, update each)",
      many.zone,
      many.hosts,
      20,
      61,
      ideal(61),
    ),
    row(
      sim,
      worker,
      "20 hosts of two AAAA, 40 records OVH does not have (list, create each)",
      cold.zone,
      cold.hosts,
      40,
      81,
      ideal(81),
    ),
  ]);
}

async function row(
  sim: OvhSimulator,
  worker: RunningWorker,
  title: string,
  zone: string,
  hosts: readonly string[],
  records: number,
  neededCalls: number,
  idealMs: number,
): Promise<PaceRow> {
  const ip = "2001:db8:77::1";
  const client = new BenchClient();
  const started = Date.now();
  try {
    const reply = await client.get(`${worker.url}/nic/update?hostname=${hosts.join(",")}&myip=${ip}`, {
      Authorization: AUTHORIZATION,
      "User-Agent": "ovh-dyndns-bench",
    });
    const lines = reply.body.trim().split("\n");
    const good = lines.filter((l) => l.startsWith("good ")).length;
    const live = () => sim.liveRecords(zone).filter((r) => r.target === ip).length === records;
    while (!live() && Date.now() - started < WAIT_MS) await sleep(100);
    const liveMs = live() ? Date.now() - started : undefined;
    const calls = sim.calls().filter((c) => c.path.includes(`/${zone}/`) && c.kind !== "auth-time").length;
    return {
      title,
      records,
      calls,
      neededCalls,
      reply: { ms: reply.ms, good, other: lines.length - good },
      liveMs,
      idealMs,
    };
  } finally {
    client.close();
  }
}
