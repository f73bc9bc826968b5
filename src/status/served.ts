// "Check now" on the status page: each zone of the client's hosts asks its name servers about
// its records at once (src/zone/watch.ts), and the page shows what they answered. A client may
// ask once per 10 s per zone (the coordinator counts); another client's hosts are not shown.
import type { ClientSpec, Config } from "../config";
import type { Env } from "../env";
import { zoneStub } from "../zone/stubs";
import { type Served, servedOf } from "./report";

export interface CheckNowAnswer {
  /** The client's records that were asked about, with what the servers answered. */
  records: { host: string; name: string; type: string; served: Served }[];
  /** The servers asked, per zone. */
  servers: Record<string, string[]>;
  /** Why a zone's servers could not be asked. */
  problems: string[];
}

export async function checkServedNow(
  env: Env,
  config: Config,
  client: ClientSpec,
): Promise<CheckNowAnswer | { retryAfter: number }> {
  const mine = new Set(client.admin ? config.hosts.keys() : client.hosts);
  const zones = [...new Set([...mine].map((h) => config.hosts.get(h)?.zone).filter((z) => z !== undefined))];
  const answers = await Promise.all(zones.map((zone) => zoneStub(env, zone).checkNow(zone, client.name)));
  const waits = answers.flatMap((a) => ("retryAfter" in a ? [a.retryAfter] : []));
  if (waits.length > 0) return { retryAfter: Math.max(...waits) };
  const out: CheckNowAnswer = { records: [], servers: {}, problems: [] };
  answers.forEach((a, i) => {
    if ("retryAfter" in a) return;
    out.servers[zones[i] as string] = a.servers;
    if (a.problem) out.problems.push(a.problem);
    for (const r of a.records) {
      const served = servedOf(r);
      if (mine.has(r.host) && served) out.records.push({ host: r.host, name: r.name, type: r.type, served });
    }
  });
  out.records.sort((a, b) => a.name.localeCompare(b.name) || a.type.localeCompare(b.type));
  return out;
}
