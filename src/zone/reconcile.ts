// Bringing one zone's records to the targets a report planned, in five steps:
//
//   read    (I/O)  each record: trust what is remembered while it is fresh (`recheckAfter`)
//                  and confirmed, else list the name and read its records (the remembered id
//                  in parallel with the list), so a record added to the name is seen
//   decide  (pure) per host: a name with several records is `dnserr`, a failed read `911`, a
//                  read held back by the call policy `held`, a host over its change limit
//                  `abuse`; the rest is the writes that differ, and every record whose last
//                  write was not confirmed (written again)
//   write   (I/O)  every write in parallel; a remembered id that vanished is found again, and so
//                  is a created record whose id OVH did not give (id 0)
//   refresh (I/O)  once, when anything was written: only then is a write served
//   settle  (pure) each host's result, and what to remember: only a write confirmed by the
//                  refresh is remembered as done; any other write leaves its record unconfirmed
//
// The record API and its contract are in src/ovh/records.ts.
import type { RecordType } from "../config";
import { sameAddress } from "../core/address";
import type { Desired } from "../core/plan";
import { messageOf } from "../core/text";
import { type Hold, heldBack, mayHaveLanded, type RecordApi, type ZoneRecord } from "../ovh/records";
import { fqdnOf, type HostResult, keyOf, type RecordChange, type RecordState } from "./protocol";

/** Remembered records of one zone, keyed by recordKey(). */
export interface RecordMemory {
  get(key: string): RecordState | undefined;
  set(key: string, state: RecordState): void;
  delete(key: string): void;
}

/** A change to what is remembered, as settle() and decide() hand it back. */
export type MemoryUpdate = { key: string; state: RecordState } | { key: string; forget: true };

export interface ReconcileOptions {
  now: number;
  recheckAfterMs: number;
  /**
   * Hosts whose writer is past the change limit, with the seconds until it may write them
   * again: such a host that would be written answers `abuse` and writes nothing.
   */
  limited?: ReadonlyMap<string, number>;
}

/**
 * What happened to one host: a dyndns2 result, or `held`: a call the call policy held back
 * (src/ovh/policy/) cut its job short, and nothing of that call reached OVH. The client hears
 * 911 (hostResult()); the coordinator continues a paced job later, the scheduled check leaves
 * the host to its next run.
 */
export type HostAnswer = HostResult | ({ status: "held" } & Hold);

/** The dyndns2 result a host's answer gives its client: a held-back job answers 911. */
export function hostResult(answer: HostAnswer): HostResult {
  return answer.status === "held" ? { status: "911", reason: answer.reason } : answer;
}

export interface ZoneResult {
  hosts: Map<string, HostAnswer>;
  /** Problems worth a log line (conflicting records, OVH failures), already free of secrets. */
  notes: string[];
}

/** What reading found for one desired record. */
export type Reading =
  | { kind: "none" }
  | { kind: "one"; record: ReadRecord; fresh: boolean }
  | { kind: "conflict"; records: ZoneRecord[] }
  | { kind: "failed"; message: string }
  | { kind: "held"; hold: Hold };

/** A record as read: from OVH, or from memory while fresh (then with the id it was confirmed with). */
export type ReadRecord = { id: number | null; target: string; ttl: number };

/**
 * One write to make: update the record read (`current`), or create one when there is none.
 * `last` is what is remembered of the record once read (undefined when there is none): what
 * the write changes from, and what stays remembered, marked unconfirmed, if it is not confirmed.
 */
export interface Write {
  d: Desired;
  current?: ReadRecord;
  last?: RecordState;
}

/** What decide() knows besides the readings, as data. */
export interface Known {
  /** What is remembered of the desired records after reading, by record key. */
  remembered: ReadonlyMap<string, RecordState>;
  /** Hosts past the change limit, with the seconds until their writer may write them again. */
  limited: ReadonlyMap<string, number>;
}

export interface Decision {
  /** Hosts answered without a write (dnserr, 911, held, abuse), with why. */
  failed: Map<string, HostAnswer>;
  writes: Write[];
  /** Records read from OVH: remembered as read, whether they are written or not. */
  remember: MemoryUpdate[];
  notes: string[];
}

/** A write done (`id` null: a create whose record was not found yet), or why not. */
export type WriteOutcome =
  | { ok: true; id: number | null }
  | { ok: false; message: string; duplicate: boolean; mayHaveLanded?: boolean; held?: Hold };

/** Why the refresh failed: its message, and the hold when it was never sent. */
export type RefreshFailure = { message: string; held?: Hold };

export interface Settled extends ZoneResult {
  remember: MemoryUpdate[];
}

/** Apply `desired` to `zone`: the five steps above, with `memory` read and updated. */
export async function reconcile(
  api: RecordApi,
  zone: string,
  desired: Desired[],
  memory: RecordMemory,
  { now, recheckAfterMs, limited = new Map() }: ReconcileOptions,
): Promise<ZoneResult> {
  const readings = await Promise.all(desired.map((d) => read(api, zone, d, memory, now, recheckAfterMs)));
  const decision = decide(desired, readings, { remembered: rememberedOf(desired, memory), limited }, now);
  applyMemory(memory, decision.remember);
  const outcomes = await Promise.all(decision.writes.map((w) => write(api, zone, w)));
  const refreshFailure = outcomes.some((o) => o.ok) ? await refresh(api, zone) : undefined;
  const settled = settle(desired, decision, outcomes, refreshFailure, now);
  applyMemory(memory, settled.remember);
  return { hosts: settled.hosts, notes: settled.notes };
}

/** What memory holds of the desired records, by record key. */
function rememberedOf(desired: Desired[], memory: RecordMemory): Map<string, RecordState> {
  const remembered = new Map<string, RecordState>();
  for (const d of desired) {
    const state = memory.get(keyOf(d));
    if (state) remembered.set(keyOf(d), state);
  }
  return remembered;
}

function applyMemory(memory: RecordMemory, updates: MemoryUpdate[]): void {
  for (const u of updates) {
    if ("forget" in u) memory.delete(u.key);
    else memory.set(u.key, u.state);
  }
}

/**
 * Whether memory alone answers these records: each is remembered, confirmed, fresh and holds
 * its target and TTL, so reconcile() would make no OVH call and write nothing. Pure.
 */
export function answeredFromMemory(
  desired: Desired[],
  remembered: (key: string) => RecordState | undefined,
  now: number,
  recheckAfterMs: number,
): boolean {
  return desired.every((d) => {
    const known = remembered(keyOf(d));
    return (
      known !== undefined &&
      !known.unconfirmed &&
      now - known.confirmedAt < recheckAfterMs &&
      sameAddress(known.target, d.target) &&
      known.ttl === d.spec.ttl
    );
  });
}

// 1. Read.

/** What OVH holds for one desired record. A remembered record that vanished is forgotten. */
export async function read(
  api: RecordApi,
  zone: string,
  d: Desired,
  memory: RecordMemory,
  now: number,
  recheckAfterMs: number,
): Promise<Reading> {
  const { type, subdomain } = d.spec;
  const key = keyOf(d);
  try {
    const known = memory.get(key);
    if (known && !known.unconfirmed && now - known.confirmedAt < recheckAfterMs)
      return { kind: "one", record: known, fresh: true };
    const found = await find(api, zone, type, subdomain, known?.id ?? undefined);
    if (known && found.kind === "none") memory.delete(key); // deleted by hand: nothing to remember
    return found;
  } catch (error) {
    const hold = heldBack(error);
    return hold ? { kind: "held", hold } : { kind: "failed", message: messageOf(error) };
  }
}

/**
 * The records of exactly this type and name: one list, and a read of each id it gives. The
 * remembered id, if any, is read in parallel with the list, so a recheck that finds only that
 * record takes one round trip.
 */
export async function recordsNamed(
  api: RecordApi,
  zone: string,
  type: RecordType,
  subdomain: string,
  knownId?: number,
): Promise<ZoneRecord[]> {
  const [ids, known] = await Promise.all([
    api.list(zone, type, subdomain),
    knownId === undefined ? undefined : api.get(zone, knownId),
  ]);
  const listed = async (id: number) => {
    // The list names the id, so the record exists: a 404 is OVH's read lagging a create (or a
    // deletion just now). Read it once more; if it is still missing, nothing is known, and a
    // record that exists must never be taken for none (a create would make a duplicate).
    const record = (id === knownId ? known : await api.get(zone, id)) ?? (await api.get(zone, id));
    if (!record)
      throw new Error(
        `${type} ${fqdnOf({ subdomain, zone })}: OVH lists record ${id} but reading it answers 404 twice; left for the next report`,
      );
    return record;
  };
  return (await Promise.all(ids.map(listed))).filter((r) => matches(r, type, subdomain));
}

/** What recordsNamed() finds, as a reading: none, one, or a conflict. */
async function find(
  api: RecordApi,
  zone: string,
  type: RecordType,
  subdomain: string,
  knownId?: number,
): Promise<Reading> {
  const records = await recordsNamed(api, zone, type, subdomain, knownId);
  if (records.length === 0) return { kind: "none" };
  if (records.length > 1) return { kind: "conflict", records };
  const [record] = records as [ZoneRecord];
  return { kind: "one", record, fresh: false };
}

/** Whether OVH's record is of this type and name (OVH's list compares names case-insensitively). */
export function matches(r: ZoneRecord, type: string, subdomain: string): boolean {
  return r.fieldType === type && (r.subDomain ?? "").toLowerCase() === subdomain.toLowerCase();
}

// 2. Decide.

/**
 * Whether the record must be written: it does not hold the desired target and TTL, or its last
 * write was not confirmed. OVH's read answers the staged copy, so an unconfirmed write reads as
 * done though it may not be served: only writing again (and the refresh after it) settles it.
 */
function mustWrite(d: Desired, reading: Reading, prior: RecordState | undefined): boolean {
  return (
    reading.kind !== "one" ||
    prior?.unconfirmed === true ||
    !sameAddress(reading.record.target, d.target) ||
    reading.record.ttl !== d.spec.ttl
  );
}

/**
 * Per host, whether it can be written and what to write. Pure. A host with a record it cannot
 * resolve gets nothing written, not even its other records (we cannot know which record the
 * user meant).
 */
export function decide(
  desired: Desired[],
  readings: Reading[],
  { remembered, limited }: Known,
  now: number,
): Decision {
  const failed = new Map<string, HostAnswer>();
  const notes: string[] = [];
  desired.forEach((d, i) => {
    const reading = readings[i];
    if (failed.has(d.host) || !reading) return;
    if (reading.kind === "conflict") {
      const message = duplicateMessage(d, reading.records);
      notes.push(message);
      failed.set(d.host, { status: "dnserr", reason: message });
    } else if (reading.kind === "failed") {
      notes.push(reading.message);
      failed.set(d.host, { status: "911", reason: reading.message });
    } else if (reading.kind === "held") {
      notes.push(reading.hold.reason);
      failed.set(d.host, { status: "held", ...reading.hold });
    }
  });
  desired.forEach((d, i) => {
    const retryAfter = limited.get(d.host);
    if (retryAfter === undefined || failed.has(d.host)) return;
    if (mustWrite(d, readings[i] as Reading, remembered.get(keyOf(d))))
      failed.set(d.host, { status: "abuse", reason: "the host's addresses change too often", retryAfter });
  });

  const remember: MemoryUpdate[] = [];
  const writes: Write[] = [];
  desired.forEach((d, i) => {
    const reading = readings[i] as Reading;
    const key = keyOf(d);
    const prior = remembered.get(key);
    let last = reading.kind === "one" ? prior : undefined;
    if (reading.kind === "one" && !reading.fresh && reading.record.id !== null) {
      // Whatever was read is remembered, written or not: the id is found once. A record whose
      // last write was not confirmed keeps what OVH last confirmed, and stays unconfirmed
      // until a write of it is refreshed.
      const { id, target, ttl } = reading.record;
      if (prior?.unconfirmed) last = { ...prior, id };
      else {
        const changedAt = prior?.id === id && sameAddress(prior.target, target) ? prior.changedAt : now;
        last = { id, target, ttl, confirmedAt: now, changedAt };
      }
      remember.push({ key, state: last });
    }
    if (failed.has(d.host) || !mustWrite(d, reading, prior)) return;
    writes.push({ d, current: reading.kind === "one" ? reading.record : undefined, last });
  });
  return { failed, writes, remember, notes };
}

// 3. Write.

/** Create or update one record; a remembered id that vanished is found again, then written. */
export async function write(api: RecordApi, zone: string, { d, current }: Write): Promise<WriteOutcome> {
  const { type, subdomain, ttl } = d.spec;
  const change = { target: d.target, ttl };
  const duplicate = (records: ZoneRecord[]): WriteOutcome => ({
    ok: false,
    message: duplicateMessage(d, records),
    duplicate: true,
  });
  try {
    if (current) {
      if (current.id !== null && (await api.update(zone, current.id, change)))
        return { ok: true, id: current.id };
      const again = await find(api, zone, type, subdomain);
      if (again.kind === "conflict") return duplicate(again.records);
      if (
        again.kind === "one" &&
        again.record.id !== null &&
        (await api.update(zone, again.record.id, change))
      )
        return { ok: true, id: again.record.id };
    }
    const created = await api.create(zone, { type, subdomain, target: d.target, ttl });
    if (isRecordId(created.id)) return { ok: true, id: created.id };
    // OVH can answer a create with id 0 (a known bug, docs/reference/ovh-api.md): the record
    // exists; find it by listing. Not found yet (a read can lag a create): no id to remember.
    const made = await find(api, zone, type, subdomain);
    if (made.kind === "conflict") return duplicate(made.records);
    return { ok: true, id: made.kind === "one" ? made.record.id : null };
  } catch (error) {
    const held = heldBack(error);
    const failure = { ok: false as const, message: messageOf(error), duplicate: false };
    return held
      ? { ...failure, mayHaveLanded: false, held }
      : { ...failure, mayHaveLanded: mayHaveLanded(error) };
  }
}

// 4. Refresh.

/** Publish the zone's staged writes; undefined when done, or why not. */
async function refresh(api: RecordApi, zone: string): Promise<RefreshFailure | undefined> {
  try {
    await api.refresh(zone);
    return undefined;
  } catch (error) {
    const held = heldBack(error);
    return held ? { message: held.reason, held } : { message: messageOf(error) };
  }
}

// 5. Settle.

/**
 * Each host's result and what to remember, from the decision, the writes' outcomes (in the
 * order of `decision.writes`) and the refresh. Pure. A write the refresh did not confirm, and a
 * failed write that may have reached OVH all the same (a time-out, a 5xx), leave the record
 * remembered as unconfirmed: the next report reads it and writes again.
 */
export function settle(
  desired: Desired[],
  decision: Decision,
  outcomes: WriteOutcome[],
  refreshFailure: RefreshFailure | undefined,
  now: number,
): Settled {
  const notes = [...decision.notes];
  const failed = new Map(decision.failed);
  const remember: MemoryUpdate[] = [];
  const changes = new Map<string, RecordChange[]>();
  const wroteFor = new Set<string>();
  decision.writes.forEach(({ d, current, last }, i) => {
    const outcome = outcomes[i];
    if (!outcome) return;
    wroteFor.add(d.host);
    const key = keyOf(d);
    if (!outcome.ok) {
      notes.push(outcome.message);
      if (!failed.has(d.host)) failed.set(d.host, failureOf(outcome));
    }
    if (!outcome.ok || refreshFailure) {
      if (outcome.ok || outcome.mayHaveLanded)
        remember.push({ key, state: unconfirmed(d, current, last, outcome) });
      return;
    }
    // Confirmed: remembered as done, unless OVH never told the id (found by listing next time).
    if (outcome.id === null) remember.push({ key, forget: true });
    else
      remember.push({
        key,
        state: { id: outcome.id, target: d.target, ttl: d.spec.ttl, confirmedAt: now, changedAt: now },
      });
    const from = last?.unconfirmed ? last.target || undefined : current?.target;
    const list = changes.get(d.host) ?? [];
    const change: RecordChange = {
      host: d.host,
      name: fqdnOf(d.spec),
      type: d.spec.type,
      from,
      to: d.target,
    };
    if (d.prefix) change.prefix = d.prefix;
    list.push(change);
    changes.set(d.host, list);
  });
  if (refreshFailure) notes.push(refreshFailure.message);

  const hosts = new Map<string, HostAnswer>();
  for (const d of desired) {
    if (hosts.has(d.host)) continue;
    const failure = failed.get(d.host);
    const c = changes.get(d.host);
    if (failure) hosts.set(d.host, failure);
    else if (refreshFailure && wroteFor.has(d.host)) hosts.set(d.host, failureOf(refreshFailure));
    else hosts.set(d.host, c ? { status: "good", changes: c } : { status: "nochg" });
  }
  return { hosts, notes, remember };
}

/** A host's answer after a failed write or refresh: held back, a duplicate found, or 911. */
function failureOf(f: { message: string; duplicate?: boolean; held?: Hold }): HostAnswer {
  if (f.held) return { status: "held", ...f.held };
  return { status: f.duplicate ? "dnserr" : "911", reason: f.message };
}

/** What to remember of a record whose write was sent and not confirmed. */
function unconfirmed(
  d: Desired,
  current: ReadRecord | undefined,
  last: RecordState | undefined,
  outcome: WriteOutcome,
): RecordState {
  const id = (outcome.ok ? outcome.id : null) ?? last?.id ?? current?.id ?? null;
  const base = last ?? { target: "", ttl: d.spec.ttl, confirmedAt: 0, changedAt: 0 };
  return { ...base, id, unconfirmed: true };
}

/** An id OVH really gave a record: a positive whole number (a create can answer 0). */
const isRecordId = (id: unknown): id is number => Number.isSafeInteger(id) && (id as number) > 0;

/** A name that matches more than one record: the user must delete all but one. */
function duplicateMessage(d: Desired, records: ZoneRecord[]): string {
  const list = records.map((r) => `${r.id} (${r.target})`).join(", ");
  return `${d.spec.type} ${fqdnOf(d.spec)} matches ${records.length} records: ${list}; delete all but one`;
}
