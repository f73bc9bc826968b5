// One authenticated update from parameters to reply: parse the report, plan each host's records,
// send each zone's share to its coordinator, and turn the results into dyndns2 outcomes. The
// zone step is injected (ZoneApplier), so the flow runs against a coordinator or a test double.
import { type ClientSpec, type Config, isFqdn } from "../config";
import { planHost } from "../core/plan";
import { describeChange, type ZoneBatch, type ZoneReport } from "../zone/protocol";
import type { Params } from "./params";
import type { HostOutcome, Reply } from "./reply";
import { parseUpdate, reportedAddresses } from "./report";

export type ZoneApplier = (batch: ZoneBatch) => Promise<ZoneReport>;

/** What the log line says about the request (no secrets by construction: no credential field). */
export interface UpdateFacts {
  hosts?: string[];
  reported?: string;
  changes?: string[];
  notes?: string[];
  ovhCalls?: number;
  queryIds?: string[];
}

export interface UpdateInput {
  params: Params;
  connectingIp: string | undefined;
}

/** An authenticated client's update: its reply, and the facts for its log line. */
export async function handleUpdate(
  config: Config,
  client: ClientSpec,
  input: UpdateInput,
  applyZone: ZoneApplier,
): Promise<{ reply: Reply; facts: UpdateFacts }> {
  const parsed = parseUpdate(input.params, input.connectingIp);
  if (!parsed.ok) {
    const reply: Reply =
      parsed.error === "badrequest" ? { kind: "badrequest", reason: parsed.reason } : { kind: parsed.error };
    return { reply, facts: {} };
  }
  const req = parsed.value;
  const reported = reportedAddresses(req);
  const facts: UpdateFacts = { hosts: req.hostnames, reported };

  // Per hostname: notfqdn, nohost (unknown and not-yours look the same), or a plan.
  const outcomes: (HostOutcome | undefined)[] = [];
  const zones = new Map<string, ZoneBatch>();
  for (const [i, name] of req.hostnames.entries()) {
    if (!isFqdn(name)) {
      outcomes[i] = { code: "notfqdn" };
      continue;
    }
    const host = client.hosts.has(name) ? config.hosts.get(name) : undefined;
    if (!host) {
      outcomes[i] = { code: "nohost" };
      continue;
    }
    let batch = zones.get(host.zone);
    if (!batch) {
      batch = {
        zone: host.zone,
        client: client.name,
        source: input.connectingIp,
        reported,
        desired: [],
        hosts: [],
      };
      zones.set(host.zone, batch);
    }
    if (batch.hosts.includes(name)) continue; // listed twice: planned once, answered twice
    const plan = planHost(host, req);
    if (!plan.ok) return { reply: { kind: "badrequest", reason: plan.reason }, facts };
    batch.hosts.push(name);
    batch.desired.push(...plan.records);
  }

  const reports = await Promise.all([...zones.values()].map((batch) => applyZone(batch)));
  const byHost = new Map<string, HostOutcome>();
  for (const report of reports) {
    facts.notes = [...(facts.notes ?? []), ...report.notes];
    facts.ovhCalls = (facts.ovhCalls ?? 0) + report.ovhCalls;
    facts.queryIds = [...(facts.queryIds ?? []), ...report.queryIds];
    for (const { host: name, result: r } of report.hosts) {
      if (r.status === "good") {
        byHost.set(name, { code: "good", addresses: reported });
        facts.changes = [...(facts.changes ?? []), ...r.changes.map(describeChange)];
      } else if (r.status === "nochg") byHost.set(name, { code: "nochg", addresses: reported });
      else byHost.set(name, { code: r.status });
    }
  }
  const hosts = req.hostnames.map(
    (name, i) => outcomes[i] ?? byHost.get(name) ?? { code: "nochg" as const, addresses: reported },
  );
  return { reply: { kind: "hosts", hosts }, facts };
}
