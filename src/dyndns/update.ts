// One authenticated update from parameters to reply: parse the report, plan each host's records,
// send each zone's share to its coordinator, and turn the results into dyndns2 outcomes. Refused
// reports (badrequest, nohost) go to the history too.
import { type ClientSpec, type Config, isFqdn } from "../config";
import { planHost } from "../core/plan";
import {
  describeChange,
  type RefusedBatch,
  type RefusedOutcome,
  type ReportOrigin,
  type ZoneBatch,
  type ZoneReport,
  type ZoneSide,
  zoneBatch,
} from "../zone/protocol";
import { hostNote } from "./notes";
import { PARAM_NAMES, type Params, values } from "./params";
import type { HostOutcome, Reply } from "./reply";
import { parseUpdate, reportedAddresses, reportedText, splitHostnames, type UpdateRequest } from "./report";

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
    // Every host of the client named, with the reason; other names are not kept.
    for (const name of namedHosts(input.params)) refused.badrequest(name, parsed.reason);
    await refused.send(zones, "");
    return { reply: { kind: "badrequest", reason: parsed.reason }, facts: {} };
  }
  const req = parsed.value;
  // What came, for the log line and the history; the reply echoes only the addresses.
  const reported = reportedText(req);
  const echo = reportedAddresses(req);
  const facts: UpdateFacts = { hosts: req.hostnames, reported };
  const origin = { client: client.name, source: input.connectingIp, agent: input.agent, reported };
  const plan = planReport(config, client, req, origin, input.params);
  if (!plan.ok) {
    // The whole report is refused: every host of the client in it, with the reason, and every
    // other name as not the client's.
    refused.refuse(req.hostnames, plan.reason);
    await refused.send(zones, reported);
    return { reply: { kind: "badrequest", reason: plan.reason }, facts };
  }
  for (const name of plan.nohost) refused.nohost(name);
  const [reports] = await Promise.all([
    Promise.all(plan.batches.map((batch) => zones.apply(batch))),
    refused.send(zones, reported),
  ]);
  const byHost = outcomesOf(reports, echo);
  const hosts = req.hostnames.map(
    (name, i) => plan.early[i] ?? byHost.get(name) ?? { code: "nochg" as const, addresses: echo },
  );
  return { reply: { kind: "hosts", hosts }, facts: { ...facts, ...factsOf(reports, plan.notes) } };
}

/** The hostnames of the request's parameters, as far as they can be read. */
const namedHosts = (params: Params): string[] =>
  splitHostnames(
    values(params, PARAM_NAMES.hostname)
      .map((h) => h.value)
      .join(","),
  );

/**
 * The report planned, per zone: a batch of each zone's hosts; per hostname in request order,
 * the outcome of a name answered at once (notfqdn, nohost: unknown and not-yours look the same);
 * the names that are not the client's; the notes on what part of the report changes nothing.
 * Or the reason a host's plan refuses the whole report.
 */
type ReportPlan =
  | { ok: true; batches: ZoneBatch[]; early: (HostOutcome | undefined)[]; nohost: string[]; notes: string[] }
  | { ok: false; reason: string };

function planReport(
  config: Config,
  client: ClientSpec,
  req: UpdateRequest,
  origin: ReportOrigin,
  params: Params,
): ReportPlan {
  const early: (HostOutcome | undefined)[] = [];
  const nohost: string[] = [];
  const notes: string[] = [];
  const batches = new Map<string, ZoneBatch>();
  for (const [i, name] of req.hostnames.entries()) {
    if (!isFqdn(name)) {
      early[i] = { code: "notfqdn" };
      continue;
    }
    const host = client.hosts.has(name) ? config.hosts.get(name) : undefined;
    if (!host) {
      early[i] = { code: "nohost" };
      nohost.push(name);
      continue;
    }
    const batch = batches.get(host.zone) ?? zoneBatch(host.zone, origin);
    batches.set(host.zone, batch);
    if (batch.hosts.includes(name)) continue; // listed twice: planned once, answered twice
    const plan = planHost(host, req);
    if (!plan.ok) return plan;
    batch.hosts.push(name);
    batch.desired.push(...plan.records);
    const note = hostNote(host, req, plan.records, params);
    if (note) {
      batch.notes[name] = note;
      notes.push(note);
    }
  }
  return { ok: true, batches: [...batches.values()], early, nohost, notes };
}

/** Each host's dyndns2 outcome from its zone's report; `echo`: the addresses the reply echoes. */
function outcomesOf(reports: ZoneReport[], echo: string): Map<string, HostOutcome> {
  const byHost = new Map<string, HostOutcome>();
  for (const { host: name, result: r } of reports.flatMap((report) => report.hosts)) {
    if (r.status === "good" || r.status === "nochg") byHost.set(name, { code: r.status, addresses: echo });
    else if (r.status === "abuse") byHost.set(name, { code: "abuse", retryAfter: r.retryAfter });
    else byHost.set(name, { code: r.status });
  }
  return byHost;
}

/** What the log line says of the zones' reports: changes, notes, OVH calls and query ids. */
function factsOf(reports: ZoneReport[], notes: string[]): UpdateFacts {
  const facts: UpdateFacts = {};
  if (notes.length > 0) facts.notes = notes;
  for (const report of reports) {
    facts.notes = [...(facts.notes ?? []), ...report.notes];
    facts.ovhCalls = (facts.ovhCalls ?? 0) + report.ovhCalls;
    facts.queryIds = [...(facts.queryIds ?? []), ...report.queryIds];
    for (const { result: r } of report.hosts)
      if (r.status === "good") facts.changes = [...(facts.changes ?? []), ...r.changes.map(describeChange)];
  }
  return facts;
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

  /** A host of the client, in a report refused for `reason` (any other name is not kept). */
  badrequest(name: string, reason: string): void {
    this.add(name, "badrequest", reason);
  }

  /** A name that is not the client's. */
  nohost(name: string): void {
    this.add(name, "nohost", `${name} is not a host of ${this.client.name}`);
  }

  /** Report names refused for `reason`: the client's as badrequest, the others as not its own. */
  refuse(names: string[], reason: string): void {
    for (const name of names) {
      if (this.client.hosts.has(name)) this.badrequest(name, reason);
      else this.nohost(name);
    }
  }

  private add(name: string, outcome: RefusedOutcome, note: string): void {
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
