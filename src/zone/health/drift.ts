// Records changed by hand (drift), counted per record between a host's reports. The scheduled
// check sets such a record back to what the host's clients last asked for; when one record is
// changed by hand again and again (DRIFT_LIMIT times), a person means it (a deliberate edit, or
// an owner undoing an address someone else reported), so the check stops setting it back and
// says so: the host's health is `drift` until its next report, or "Check now" on the status
// page, resumes.
import { sameAddress } from "../../core/address";
import type { Desired } from "../../core/plan";
import { iso } from "../../core/text";
import type { RecordApi } from "../../ovh/records";
import { type HostRecord, keyOf, type RecordState } from "../protocol";
import { type RecordMemory, read } from "../reconcile";

/** Changes by hand of one record, since the host's last report, after which it is left alone. */
export const DRIFT_LIMIT = 3;

/** Whether the check leaves this record of the host as it is (held after repeated drift). */
export function isHeld(record: HostRecord | undefined, key: string): boolean {
  return record?.drift?.[key]?.held === true;
}

/** Whether the host has a record the check leaves as it is. */
export function holdsAny(record: HostRecord | undefined): boolean {
  return Object.values(record?.drift ?? {}).some((d) => d.held);
}

/** Whether the next change by hand of this record is the one that stops the set-backs. */
export function onLastSetBack(record: HostRecord | undefined, key: string): boolean {
  return (record?.drift?.[key]?.count ?? 0) >= DRIFT_LIMIT - 1;
}

/** The host's record with one more change by hand of each of `keys`: set back, or now held. */
export function counted(record: HostRecord, keys: string[], now: number, held: boolean): HostRecord {
  if (keys.length === 0) return record;
  const drift = { ...record.drift };
  for (const key of keys) {
    const prior = drift[key];
    drift[key] = {
      count: (prior?.count ?? 0) + 1,
      since: prior?.since ?? now,
      ...(held ? { held: true } : {}),
    };
  }
  return { ...record, drift };
}

/** One line for a person: which records are left as they are, and how to resume. */
export function heldReason(record: HostRecord, nameOf: (key: string) => string): string {
  const held = Object.entries(record.drift ?? {}).filter(([, d]) => d.held);
  const what = held.map(
    ([key, d]) => `${nameOf(key)} changed by hand ${d.count} times since ${iso(d.since)}`,
  );
  return `${what.join(", ")}; not set back; report again or press Check now to resume`;
}

/**
 * The host's record once "Check now" resumed setting back its held records (`by` a client, at
 * `now`): their counts start over, and the next scheduled check sets them back as drift.
 */
export function resumed(record: HostRecord, by: string, now: number): HostRecord {
  const drift = { ...record.drift };
  for (const [key, d] of Object.entries(drift)) if (d.held) drift[key] = { count: 0, since: now };
  const reason = `setting back resumed by ${by} at ${iso(now)}: the next scheduled check puts the records right`;
  return { ...record, drift, reason };
}

/**
 * Whether OVH is taken to hold what the host asked, so that a difference read now is drift: it
 * was confirmed at the target, or it is a record found changed by hand that is being watched.
 */
export function believedAt(
  record: HostRecord | undefined,
  key: string,
  known: RecordState | undefined,
  target: string,
): boolean {
  if (!known || known.unconfirmed) return false;
  return sameAddress(known.target, target) || record?.drift?.[key] !== undefined;
}

/**
 * Of records on their last set-back (onLastSetBack), those OVH no longer holds at their target:
 * read as a report would (from memory while fresh), before anything is written, so that they
 * are not written. What was read is remembered, so the status shows what OVH holds.
 */
export async function changedAgain(
  api: RecordApi,
  zone: string,
  watched: Desired[],
  memory: RecordMemory,
  now: number,
  recheckAfterMs: number,
): Promise<Set<Desired>> {
  const changed = new Set<Desired>();
  await Promise.all(
    watched.map(async (d) => {
      const key = keyOf(d);
      const prior = memory.get(key);
      const reading = await read(api, zone, d, memory, now, recheckAfterMs);
      if (reading.kind === "none") changed.add(d);
      if (reading.kind !== "one" || reading.fresh) return;
      const { id, target, ttl } = reading.record;
      const same = sameAddress(target, d.target);
      if (!same) changed.add(d);
      // Remembered as read, so that the reconcile after this reads it no more.
      const changedAt = same && prior ? prior.changedAt : now;
      if (id !== null) memory.set(key, { id, target, ttl, confirmedAt: now, changedAt });
    }),
  );
  return changed;
}
