// One authenticated update from parameters to reply: parse the report, plan each host's records,
// send each zone's share to its coordinator, and turn the results into dyndns2 outcomes. Refused
// reports (badrequest, nohost) go to the history too. The zone side is injected (ZoneSide), so
// the flow runs against coordinators or a test double.
import { type ClientSpec, type Config, isFqdn } from "../config";
import { planHost } from "../core/plan";
import {
  describeChange,
  type RefusedBatch,
  type RefusedOutcome,
  type ZoneBatch,
  type ZoneSide,
} from "../zone/protocol";
import { hostNote } from "./notes";
import { PARAM_NAMES, type Params, values } from "./params";
import type { HostOutcome, Reply } from "./reply";
import { parseUpdate, reportedAddresses, reportedText, splitHostnames } from "./report";

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
  /** The User-Agent, at most 120 characters. */
  agent: string | null;
}

/** An authenticated client's update: its reply, and the facts for its log line. */
export async function handleUpdate(
  config: Config,
  client: ClientSpec,
  input: UpdateInput,
  zones: ZoneSide,
): Promise<{ reply: Reply; facts: UpdateFacts }> {
  const refused = new Refusals(config, client, input);
  const parsed = parseUpdate(input.params, input.connectingIp);
  if (!parsed.ok) {
    if (parsed.error !== "badrequest") return { reply: { kind: parsed.error }, facts: {} };
    const names = splitHostnames(
      values(input.params, PARAM_NAMES.hostname)
        .map((h) => h.value)
        .join(","),
    );
    for (const name of names) refused.add(name, "badrequest", parsed.reason);
    await refused.send(zones, "");
    return { reply: { kind: "badrequest", reason: parsed.reason }, facts: {} };
  }
  const req = parsed.value;
  // What came, for the log line and the history; the reply echoes only the addresses.
  const reported = reportedText(req);
  const echo = reportedAddresses(req);
  const facts: UpdateFacts = { hosts: req.hostnames, reported };
  const notes: string[] = [];

  // Per hostname: notfqdn, nohost (unknown and not-yours look the same), or a plan.
  const outcomes: (HostOutcome | undefined)[] = [];
  const batches = new Map<string, ZoneBatch>();
  for (const [i, name] of req.hostnames.entries()) {
    if (!isFqdn(name)) {
      outcomes[i] = { code: "notfqdn" };
      continue;
    }
    const host = client.hosts.has(name) ? config.hosts.get(name) : undefined;
    if (!host) {
      outcomes[i] = { code: "nohost" };
      refused.add(name, "nohost", `${name} is not a host of ${client.name}`);
      continue;
    }
    let batch = batches.get(host.zone);
    if (!batch) {
      batch = {
        zone: host.zone,
        client: client.name,
        source: input.connectingIp,
        agent: input.agent,
        reported,
        desired: [],
        hosts: [],
        notes: {},
      };
      batches.set(host.zone, batch);
    }
    if (batch.hosts.includes(name)) continue; // listed twice: planned once, answered twice
    const plan = planHost(host, req);
    if (!plan.ok) {
      // The whole report is refused: every host of the client in it, with the reason.
      const all = new Refusals(config, client, input);
      for (const other of req.hostnames) all.add(other, "badrequest", plan.reason);
      await all.send(zones, reported);
      return { reply: { kind: "badrequest", reason: plan.reason }, facts };
    }
    batch.hosts.push(name);
    batch.desired.push(...plan.records);
    const note = hostNote(host, req, plan.records, input.params);
    if (note) {
      batch.notes[name] = note;
      notes.push(note);
    }
  }

  const [reports] = await Promise.all([
    Promise.all([...batches.values()].map((batch) => zones.apply(batch))),
    refused.send(zones, reported),
  ]);
  const byHost = new Map<string, HostOutcome>();
  if (notes.length > 0) facts.notes = notes;
  for (const report of reports) {
    facts.notes = [...(facts.notes ?? []), ...report.notes];
    facts.ovhCalls = (facts.ovhCalls ?? 0) + report.ovhCalls;
    facts.queryIds = [...(facts.queryIds ?? []), ...report.queryIds];
    for (const { host: name, result: r } of report.hosts) {
      if (r.status === "good") {
        byHost.set(name, { code: "good", addresses: echo });
        facts.changes = [...(facts.changes ?? []), ...r.changes.map(describeChange)];
      } else if (r.status === "nochg") byHost.set(name, { code: "nochg", addresses: echo });
      else if (r.status === "abuse") byHost.set(name, { code: "abuse", retryAfter: r.retryAfter });
      else byHost.set(name, { code: r.status });
    }
  }
  const hosts = req.hostnames.map(
    (name, i) => outcomes[i] ?? byHost.get(name) ?? { code: "nochg" as const, addresses: echo },
  );
  return { reply: { kind: "hosts", hosts }, facts };
}

/**
 * Refused reports of an authenticated client, by zone: a host of the client under its zone; a
 * name that is not its own (nohost) under the zone of the client's first host, where its status
 * finds it. Names that are not domain names are not kept.
 */
class Refusals {
  private readonly byZone = new Map<string, RefusedBatch["hosts"]>();

  constructor(
    private readonly config: Config,
    private readonly client: ClientSpec,
    private readonly input: UpdateInput,
  ) {}

  add(name: string, outcome: RefusedOutcome, note: string): void {
    const own = this.client.hosts.has(name) ? this.config.hosts.get(name) : undefined;
    const home = this.config.hosts.get([...this.client.hosts][0] ?? "");
    const zone = own?.zone ?? (outcome === "nohost" && isFqdn(name) ? home?.zone : undefined);
    if (!zone) return;
    const list = this.byZone.get(zone) ?? [];
    if (!list.some((h) => h.host === name)) list.push({ host: name, outcome, note });
    this.byZone.set(zone, list);
  }

  async send(zones: ZoneSide, reported: string): Promise<void> {
    const { client, input } = this;
    await Promise.all(
      [...this.byZone].map(([zone, hosts]) =>
        zones.refuse({
          zone,
          client: client.name,
          source: input.connectingIp,
          agent: input.agent,
          reported,
          hosts,
        }),
      ),
    );
    this.byZone.clear();
  }
}
