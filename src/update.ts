// One update request from credentials to reply: authenticate, parse, plan per host, apply per
// zone, and the facts for the request's log line. The zone step is injected (ZoneApplier), so
// the same flow runs with a direct OVH client or through the per-zone coordinator.
import { describeChange, type HostResult } from "./apply";
import { type ClientSpec, type Config, isFqdn } from "./config";
import type { HostOutcome, Reply } from "./outcome";
import { type Desired, planHost } from "./plan";
import { type Params, parseUpdate, reportedAddresses } from "./request";

export interface ZoneBatch {
  zone: string;
  client: string;
  source: string | undefined;
  reported: string;
  desired: Desired[];
  /** Hosts of this zone in the request (some may plan no record for the families reported). */
  hosts: string[];
}

/** What applying one zone's batch reports back (plain data: it crosses the Durable Object boundary). */
export interface ZoneReport {
  zone: string;
  hosts: { host: string; result: HostResult }[];
  /** Problems worth a log line (conflicting records, OVH failures), free of secrets. */
  notes: string[];
  ovhCalls: number;
  queryIds: string[];
  /** Answered from a lease as a repeat of a report already logged (src/lines.ts). */
  quiet?: boolean;
}

export type ZoneApplier = (batch: ZoneBatch) => Promise<ZoneReport>;

/** What the log line says about the request (no secrets by construction: no credential field). */
export interface UpdateFacts {
  client?: string;
  ovhCalls?: number;
  queryIds?: string[];
  hosts?: string[];
  reported?: string;
  changes?: string[];
  notes?: string[];
  /** Every host was answered from a lease as a repeat: the request gets no line of its own. */
  quiet?: boolean;
}

export interface UpdateInput {
  params: Params;
  connectingIp: string | undefined;
}

/** An authenticated client's update: parse, plan per host, apply per zone. */
export async function handleUpdate(
  config: Config,
  client: ClientSpec,
  input: UpdateInput,
  applyZone: ZoneApplier,
  facts: UpdateFacts,
): Promise<Reply> {
  const parsed = parseUpdate(input.params, input.connectingIp);
  if (!parsed.ok)
    return parsed.error === "badrequest"
      ? { kind: "badrequest", reason: parsed.reason }
      : { kind: parsed.error };
  const req = parsed.value;
  facts.hosts = req.hostnames;
  const reported = reportedAddresses(req);
  facts.reported = reported;

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
    if (!plan.ok) return { kind: "badrequest", reason: plan.reason };
    batch.hosts.push(name);
    batch.desired.push(...plan.records);
  }

  const results = await Promise.all([...zones.values()].map((batch) => applyZone(batch)));
  facts.quiet = outcomes.length === 0 && results.every((r) => r.quiet);
  const byHost = new Map<string, HostOutcome>();
  for (const result of results) {
    facts.notes = [...(facts.notes ?? []), ...result.notes];
    facts.ovhCalls = (facts.ovhCalls ?? 0) + result.ovhCalls;
    facts.queryIds = [...(facts.queryIds ?? []), ...result.queryIds];
    for (const { host: name, result: r } of result.hosts) {
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
  return { kind: "hosts", hosts };
}
