// Applying planned targets to one OVH zone: find each record (or trust what is remembered),
// create or update only what differs, then refresh the zone once.
//
// Order of work, and why:
// 1. Resolve every record in parallel: a remembered record confirmed within `recheckAfter`
//    costs nothing; an older one costs one read; an unknown one a list (and a read).
// 2. Decide per host: a name that matches more than one record is `dnserr` for its host and
//    nothing of that host is written (we cannot know which record the user meant). (A
//    remembered record that vanished is found again only when its write answers 404; if the
//    name then turns out duplicated, that name is left alone but the host's other names may
//    already be written.)
// 3. Write everything that differs, in parallel, then one refresh if anything was written.
//    Only a write confirmed by a successful refresh is remembered as done.
import { sameAddress } from "./address";
import type { RecordType } from "./config";
import { OvhError } from "./ovh/client";
import type { OvhRecord, OvhZoneApi } from "./ovh/records";
import type { Desired } from "./plan";

/** What is remembered of one record between reports. */
export interface RecordState {
  id: number;
  target: string;
  ttl: number;
  /** Unix ms when OVH last confirmed this state (read it, or accepted a write and refresh). */
  confirmedAt: number;
  /** Unix ms when the target last changed through us. */
  changedAt: number;
}

/** Remembered records of one zone, keyed by recordKey(). */
export interface RecordMemory {
  get(key: string): RecordState | undefined;
  set(key: string, state: RecordState): void;
  delete(key: string): void;
}

export function recordKey(type: RecordType, subdomain: string): string {
  return `${type} ${subdomain.toLowerCase()}`;
}

export interface RecordChange {
  host: string;
  name: string;
  type: RecordType;
  from?: string;
  to: string;
}

/** A change in one line, as the log line and the status page show it. */
export function describeChange(c: RecordChange): string {
  return `${c.type} ${c.name}: ${c.from ?? "(new)"} -> ${c.to}`;
}

export type HostResult =
  | { status: "good"; changes: RecordChange[] }
  | { status: "nochg" }
  | { status: "dnserr"; reason: string }
  | { status: "911"; reason: string }
  | { status: "abuse"; reason: string };

export interface ZoneResult {
  hosts: Map<string, HostResult>;
  /** Problems worth a log line (conflicting records, OVH failures), already free of secrets. */
  notes: string[];
}

export interface ApplyOptions {
  now: number;
  recheckAfterMs: number;
  /** Asked once per host that would be written; false answers `abuse` and writes nothing. */
  mayWrite?: (host: string) => boolean;
  /** Awaited once before the first write (the coordinator's leases run out). */
  beforeWrite?: () => Promise<void>;
}

/** A name that matches more than one record: the user must delete all but one. */
export class DuplicateRecords extends Error {
  constructor(name: string, type: RecordType, records: OvhRecord[]) {
    const list = records.map((r) => `${r.id} (${r.target})`).join(", ");
    super(`${type} ${name} matches ${records.length} records: ${list}; delete all but one`);
    this.name = "DuplicateRecords";
  }
}

type Current =
  | { kind: "none" }
  | { kind: "one"; record: Pick<OvhRecord, "id" | "target" | "ttl">; fresh: boolean }
  | { kind: "conflict"; records: OvhRecord[] }
  | { kind: "error"; error: OvhError };

const fqdnOf = (d: Desired): string =>
  d.spec.subdomain ? `${d.spec.subdomain}.${d.spec.zone}` : d.spec.zone;

export async function applyZone(
  api: OvhZoneApi,
  zone: string,
  desired: Desired[],
  memory: RecordMemory,
  { now, recheckAfterMs, mayWrite = () => true, beforeWrite }: ApplyOptions,
): Promise<ZoneResult> {
  const notes: string[] = [];
  const hosts = new Map<string, HostResult>();

  // 1. Resolve.
  const resolved = await Promise.all(
    desired.map(async (d) => {
      const current = await resolve(api, zone, d, memory, now, recheckAfterMs);
      return { d, current };
    }),
  );

  // 2. Decide per host.
  const failedHosts = new Map<string, HostResult>();
  for (const { d, current } of resolved) {
    if (failedHosts.has(d.host)) continue;
    if (current.kind === "conflict") {
      const duplicate = new DuplicateRecords(fqdnOf(d), d.spec.type, current.records);
      notes.push(duplicate.message);
      failedHosts.set(d.host, { status: "dnserr", reason: duplicate.message });
    } else if (current.kind === "error") {
      notes.push(current.error.message);
      failedHosts.set(d.host, { status: "911", reason: current.error.message });
    }
  }

  // 3. Write what differs, in parallel.
  type Work = { d: Desired; current: Current; write?: Promise<RecordState> };
  const differs = (d: Desired, current: Current): boolean =>
    current.kind !== "one" ||
    !sameAddress(current.record.target, d.target) ||
    current.record.ttl !== d.spec.ttl;
  const asked = new Set<string>(); // mayWrite is a query: once per host
  for (const { d, current } of resolved) {
    if (failedHosts.has(d.host) || asked.has(d.host) || !differs(d, current)) continue;
    asked.add(d.host);
    if (!mayWrite(d.host))
      failedHosts.set(d.host, { status: "abuse", reason: "the host's addresses change too often" });
  }
  // Whatever was read from OVH is remembered as read, written or not: the id is found once,
  // and a write that fails (or is not confirmed by a refresh) is simply repeated next time.
  for (const { d, current } of resolved) {
    if (current.kind !== "one" || current.fresh) continue;
    const key = recordKey(d.spec.type, d.spec.subdomain);
    const { id, target, ttl } = current.record;
    const prior = memory.get(key);
    const changedAt = prior?.id === id && sameAddress(prior.target, target) ? prior.changedAt : now;
    memory.set(key, { id, target, ttl, confirmedAt: now, changedAt });
  }
  const todo = resolved.filter(({ d }) => !failedHosts.has(d.host));
  if (beforeWrite && todo.some(({ d, current }) => differs(d, current))) await beforeWrite();
  const work: Work[] = todo.map(({ d, current }) => {
    const one = current.kind === "one" ? current.record : undefined;
    if (one && !differs(d, current)) return { d, current };
    return { d, current, write: write(api, zone, d, one?.id, now) };
  });
  const writes = await Promise.allSettled(work.map((w) => w.write ?? Promise.resolve(undefined)));

  let written = 0;
  writes.forEach((outcome, i) => {
    const w = work[i];
    if (!w?.write) return;
    if (outcome.status === "fulfilled") written++;
    else {
      const message = outcome.reason instanceof Error ? outcome.reason.message : String(outcome.reason);
      notes.push(message);
      const status = outcome.reason instanceof DuplicateRecords ? "dnserr" : "911";
      if (!failedHosts.has(w.d.host)) failedHosts.set(w.d.host, { status, reason: message });
    }
  });

  // 4. Refresh once; only then remember the writes as done.
  let refreshError: string | undefined;
  if (written > 0) {
    try {
      await api.refresh(zone);
    } catch (error) {
      refreshError = error instanceof Error ? error.message : String(error);
      notes.push(refreshError);
    }
  }

  const changes = new Map<string, RecordChange[]>();
  writes.forEach((outcome, i) => {
    const w = work[i];
    if (!w?.write || outcome.status !== "fulfilled" || !outcome.value) return;
    // Not published: remember the state before the write (a created record is found again).
    if (refreshError) {
      if (w.current.kind !== "one") memory.delete(recordKey(w.d.spec.type, w.d.spec.subdomain));
      return;
    }
    memory.set(recordKey(w.d.spec.type, w.d.spec.subdomain), outcome.value);
    const from = w.current.kind === "one" ? w.current.record.target : undefined;
    const list = changes.get(w.d.host) ?? [];
    list.push({ host: w.d.host, name: fqdnOf(w.d), type: w.d.spec.type, from, to: w.d.target });
    changes.set(w.d.host, list);
  });

  const wroteFor = new Set(work.filter((w) => w.write).map((w) => w.d.host));
  for (const { d } of resolved) {
    if (hosts.has(d.host)) continue;
    const failed = failedHosts.get(d.host);
    const c = changes.get(d.host);
    if (failed) hosts.set(d.host, failed);
    else if (refreshError && wroteFor.has(d.host)) hosts.set(d.host, { status: "911", reason: refreshError });
    else hosts.set(d.host, c ? { status: "good", changes: c } : { status: "nochg" });
  }
  return { hosts, notes };
}

async function resolve(
  api: OvhZoneApi,
  zone: string,
  d: Desired,
  memory: RecordMemory,
  now: number,
  recheckAfterMs: number,
): Promise<Current> {
  const { type, subdomain } = d.spec;
  try {
    const known = memory.get(recordKey(type, subdomain));
    if (known && now - known.confirmedAt < recheckAfterMs) {
      return { kind: "one", record: known, fresh: true };
    }
    if (known) {
      const record = await api.get(zone, known.id);
      if (record && matches(record, type, subdomain)) return { kind: "one", record, fresh: false };
      memory.delete(recordKey(type, subdomain)); // deleted or changed by hand: find it again
    }
    return await find(api, zone, type, subdomain);
  } catch (error) {
    if (error instanceof OvhError) return { kind: "error", error };
    throw error;
  }
}

async function find(api: OvhZoneApi, zone: string, type: RecordType, subdomain: string): Promise<Current> {
  const ids = await api.list(zone, type, subdomain);
  const records = (await Promise.all(ids.map((id) => api.get(zone, id)))).filter(
    (r): r is OvhRecord => r !== undefined && matches(r, type, subdomain),
  );
  if (records.length === 0) return { kind: "none" };
  if (records.length > 1) return { kind: "conflict", records };
  const [record] = records as [OvhRecord];
  return { kind: "one", record, fresh: false };
}

function matches(r: OvhRecord, type: RecordType, subdomain: string): boolean {
  return r.fieldType === type && (r.subDomain ?? "").toLowerCase() === subdomain.toLowerCase();
}

/** Create or update one record; a remembered id that vanished is found again, then written. */
async function write(
  api: OvhZoneApi,
  zone: string,
  d: Desired,
  id: number | undefined,
  now: number,
): Promise<RecordState> {
  const { type, subdomain, ttl } = d.spec;
  const state = (recordId: number): RecordState => ({
    id: recordId,
    target: d.target,
    ttl,
    confirmedAt: now,
    changedAt: now,
  });
  if (id !== undefined) {
    try {
      await api.update(zone, id, { target: d.target, ttl });
      return state(id);
    } catch (error) {
      if (!(error instanceof OvhError && error.notFound)) throw error;
    }
    const again = await find(api, zone, type, subdomain);
    if (again.kind === "conflict") throw new DuplicateRecords(fqdnOf(d), type, again.records);
    if (again.kind === "one") {
      await api.update(zone, again.record.id, { target: d.target, ttl });
      return state(again.record.id);
    }
  }
  const created = await api.create(zone, { type, subdomain, target: d.target, ttl });
  return state(created.id);
}
