// The scheduled check of one zone, run by its coordinator between reports (src/scheduled.ts
// starts it from the Cron Trigger). For each host of the zone it keeps the records at what the
// host's clients last asked for, through the same reconcile as a report:
//
//   - a record whose recheck_after is due is confirmed as a report would (a list of its name
//     and a read); if OVH holds something else (edited or deleted by hand), that is drift: the
//     last reported target is written back and the zone refreshed
//   - a record whose last write failed (or was not confirmed) is written again
//   - a name with several records is found (duplicates), as a report would find it
//
// then marks hosts stale that have not reported for stale_after. Fresh records cost no OVH call.
import { type Config, type HostSpec, type RecordSpec, staleAfterOf } from "../../config";
import { sameAddress } from "../../core/address";
import type { Desired } from "../../core/plan";
import type { RecordApi } from "../../ovh/records";
import {
  CHECK_CLIENT,
  fqdnOf,
  type HealthEvent,
  type HistoryEntry,
  type HostRecord,
  type HostResult,
  keyOf,
  type RecordChange,
} from "../protocol";
import { type RecordMemory, reconcile } from "../reconcile";
import { historyEntry } from "../store/history";
import type { HostRecords } from "../store/hosts";
import { believedAt, changedAgain, counted, heldReason, holdsAny, isHeld, onLastSetBack } from "./drift";
import { enter, failingReason, goneStale, transitions } from "./state";

export interface CheckInput {
  config: Config;
  api: RecordApi;
  memory: RecordMemory;
  hosts: HostRecords;
  /** Unix ms now, for what is remembered of the records. */
  now: number;
  /** Unix ms the check stands for (the cron's scheduled time), for staleness. */
  at: number;
}

export interface CheckOutcome {
  /** Hosts of the zone in the configuration. */
  checked: number;
  events: HealthEvent[];
  /** For the zone's history: drift set back, failed writes made good, failures that began. */
  entries: HistoryEntry[];
  notes: string[];
}

export async function checkZone(zone: string, input: CheckInput): Promise<CheckOutcome> {
  const { config, api, memory, hosts, now, at } = input;
  const specs = [...config.hosts.values()].filter((h) => h.zone === zone);
  const asked = lastAskedFor(specs, hosts, memory);
  const { desired, believed } = asked;
  // A record on its last set-back is read before anything is written: changed by hand once
  // more, it is left as it is (src/zone/health/drift.ts).
  const recheckAfterMs = config.settings.recheckAfter * 1000;
  const watched = desired.filter((d) => believed.has(keyOf(d)) && onLastSetBack(hosts.get(d.host), keyOf(d)));
  const changed = await changedAgain(api, zone, watched, memory, now, recheckAfterMs);
  const rest = desired.filter((d) => !changed.has(d));
  const result = await reconcile(api, zone, rest, memory, { now, recheckAfterMs });

  const outcome: CheckOutcome = { checked: specs.length, events: [], entries: [], notes: result.notes };
  for (const host of specs) {
    const prior = hosts.get(host.name);
    if (!prior) continue;
    const answer = result.hosts.get(host.name);
    const setBack = answer?.status === "good" ? written(host.name, answer.changes, asked, now, outcome) : [];
    // A call the zone's pace, breaker or deadline held back never reached OVH: the next check goes on.
    const r = answer?.status === "held" ? undefined : answer;
    let next = r ? afterCheck(host, prior, r, believed, memory, now, outcome) : prior;
    next = counted(next, setBack, now, false);
    const held = [...changed].filter((d) => d.host === host.name);
    if (held.length > 0) next = heldAfterDrift(host.name, prior, next, held, asked, now, outcome);
    outcome.events.push(...transitions(host.name, prior, next, r, now));
    const stale = goneStale(host.name, next, staleAfterOf(host, config.settings), at);
    if (stale) {
      next = stale.record;
      outcome.events.push(stale.event);
    }
    if (next !== prior) hosts.set(host.name, next);
  }
  return outcome;
}

/** What the check asks of the records, and how it names them. */
interface Asked {
  /** What the hosts' clients last asked each record to hold (records held after drift aside). */
  desired: Desired[];
  /** Record keys of those OVH was believed to hold at that target: a difference read now is drift. */
  believed: Set<string>;
  /** Record key by name with its type ("AAAA wg-end.example.tld", as a change names it), and back. */
  keys: Map<string, string>;
  names: Map<string, string>;
}

/** A record's name with its type ("AAAA wg-end.example.tld"), as a change names it too. */
const named = (spec: RecordSpec): string => `${spec.type} ${fqdnOf(spec)}`;

function lastAskedFor(specs: HostSpec[], hosts: HostRecords, memory: RecordMemory): Asked {
  const asked: Asked = { desired: [], believed: new Set(), keys: new Map(), names: new Map() };
  for (const host of specs) {
    const prior = hosts.get(host.name);
    for (const spec of host.records) {
      const key = keyOf(spec);
      asked.keys.set(named(spec), key);
      asked.names.set(key, named(spec));
      const target = prior?.targets[key];
      if (target === undefined || isHeld(prior, key)) continue;
      asked.desired.push({ host: host.name, spec, target });
      if (believedAt(prior, key, memory.get(key), target)) asked.believed.add(key);
    }
  }
  return asked;
}

/**
 * The history entries of what the check wrote for a host: drift set back (told), and the rest.
 * Answers the keys of the records set back.
 */
function written(
  host: string,
  changes: RecordChange[],
  { believed, keys }: Asked,
  now: number,
  outcome: CheckOutcome,
): string[] {
  const keyOfChange = (c: RecordChange) => keys.get(`${c.type} ${c.name}`) ?? "";
  const isDrift = (c: RecordChange) => believed.has(keyOfChange(c)) && !(c.from && sameAddress(c.from, c.to));
  const drift = changes.filter(isDrift);
  const rest = changes.filter((c) => !isDrift(c));
  if (drift.length > 0) {
    const held = drift.map((c) => `${c.type} ${c.name} held ${c.from ?? "no record"} instead of ${c.to}`);
    const message = `${host}: ${held.join(", ")} (changed outside this Worker); set back`;
    outcome.events.push({ kind: "drift", host, at: now, message });
    outcome.entries.push(checkEntry(now, host, "drift", drift, "changed outside this Worker; set back"));
  }
  if (rest.length > 0) {
    const note = "written by the scheduled check (the last write had failed, or the TTL changed)";
    outcome.entries.push(checkEntry(now, host, "good", rest, note));
  }
  return drift.map(keyOfChange);
}

/**
 * The host's record after the check's result: ok again after a success (unless records are held
 * after drift), failing after a failure, or drift when a believed record changed outside this
 * Worker and could not be set back.
 */
function afterCheck(
  host: HostSpec,
  prior: HostRecord,
  r: HostResult,
  believed: Set<string>,
  memory: RecordMemory,
  now: number,
  outcome: CheckOutcome,
): HostRecord {
  if (r.status === "good" || r.status === "nochg")
    return (prior.state === "failing" || prior.state === "drift") && !holdsAny(prior)
      ? { ...prior, ...enter(prior, "ok", "", now) }
      : prior;
  if (r.status !== "911" && r.status !== "dnserr") return prior;
  // Believed records that OVH no longer holds, and that could not be set back.
  const drifted = host.records.filter((spec) => {
    const target = prior.targets[keyOf(spec)];
    const known = memory.get(keyOf(spec));
    return believed.has(keyOf(spec)) && target !== undefined && !(known && sameAddress(known.target, target));
  });
  let next: HostRecord;
  if (drifted.length > 0 && r.status === "911") {
    const reason = `${drifted.map(named).join(", ")} changed outside this Worker, and setting it back failed: ${r.reason}`;
    next = { ...prior, ...enter(prior, "drift", reason, now) };
    if (prior.state !== "drift")
      outcome.events.push({ kind: "drift", host: host.name, at: now, message: `${host.name}: ${reason}` });
  } else next = { ...prior, ...enter(prior, "failing", failingReason(r.status, r.reason), now) };
  if (prior.state !== next.state) outcome.entries.push(checkEntry(now, host.name, r.status, [], r.reason));
  return next;
}

/** Records found changed by hand once more on their last set-back: held as they are, and said so. */
function heldAfterDrift(
  host: string,
  prior: HostRecord,
  next: HostRecord,
  held: Desired[],
  { names }: Asked,
  now: number,
  outcome: CheckOutcome,
): HostRecord {
  const record = counted(next, held.map(keyOf), now, true);
  const reason = heldReason(record, (key) => names.get(key) ?? key);
  outcome.events.push({ kind: "drift", host, at: now, message: `${host}: ${reason}` });
  outcome.entries.push(checkEntry(now, host, "drift", [], reason));
  return { ...record, ...enter(prior, "drift", reason, now) };
}

/** A history entry of the scheduled check. */
const checkEntry = (at: number, host: string, outcome: string, changes: RecordChange[], note: string) =>
  historyEntry(at, { client: CHECK_CLIENT, host, source: null, reported: "", outcome, changes, note });
