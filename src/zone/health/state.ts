// Each host's health: what the coordinator keeps per host (its last report, the last report that
// was not refused, a stored state with its reason and start), and what follows from it at a
// given time. The states:
//
//   ok       the last report or check found nothing wrong
//   never    no report yet
//   stale    no accepted report for stale_after seconds (follows from the time; the scheduled
//            check stores it, so that its start and end can be told)
//   failing  the last attempt to write ended in 911 or dnserr (OVH failed, refused the
//            credentials, or the name has several records)
//   drift    a check found OVH holding something other than what was last written, and could
//            not set it back (a drift set back at once is history, not a state)
//   unserved a record written was not served by every name server of the zone within
//            serve_within (src/zone/watch.ts sets and clears it)
import { iso } from "../../core/text";
import type { Health, HealthEvent, HostRecord, HostResult, LastReport, StoredHealth } from "../protocol";

/** The health of a host from what is kept of it, at `now`; staleAfter in seconds, 0 = off. */
export function healthOf(record: HostRecord | undefined, staleAfter: number, now: number): Health {
  if (!record?.last) {
    return {
      state: "never",
      reason: "no report yet: check that a client is set up to report for this host",
      since: null,
    };
  }
  const { last } = record;
  if (record.acceptedAt === null) {
    const reason = `no report accepted yet: the last one, at ${iso(last.at)} from ${last.client}, was refused (${last.outcome}; the history says why)`;
    return { state: "never", reason, since: null };
  }
  if (record.state !== "ok") return { state: record.state, reason: record.reason, since: record.since };
  const staleAt = staleSince(record, staleAfter);
  if (staleAt !== null && staleAt <= now)
    return { state: "stale", reason: staleReason(record), since: staleAt };
  return { state: "ok", reason: "", since: record.since };
}

/** When the host goes (or went) stale, or null when it cannot (stale_after 0, never accepted). */
export function staleSince(record: HostRecord, staleAfter: number): number | null {
  return staleAfter > 0 && record.acceptedAt !== null ? record.acceptedAt + staleAfter * 1000 : null;
}

/**
 * Why a host is stale, for a record with an accepted report. Every client of the host reads it
 * (and the notification), so it names the client but not its source address, which only that
 * client and an admin see (on the status page's last report).
 */
export function staleReason(record: HostRecord): string {
  const last = record.last as LastReport;
  const accepted = record.acceptedAt ?? last.at;
  let reason = `no report since ${iso(accepted)}: check that the client ${last.client} is online and still reports`;
  if (last.at > accepted) reason += `; a later report at ${iso(last.at)} was refused (${last.outcome})`;
  return reason;
}

/**
 * What the host's record becomes after a report that reached the coordinator. `targets` are the
 * targets the report planned for the host, by record key: they become what the scheduled check
 * keeps the records at, unless the change limit refused them. The drift counted since the last
 * report is forgotten: a report resumes setting back records held after repeated drift.
 */
export function afterReport(
  prior: HostRecord | undefined,
  last: LastReport,
  result: HostResult,
  targets: Record<string, string>,
): HostRecord {
  const base = { last, acceptedAt: last.at, targets: { ...prior?.targets, ...targets } };
  switch (result.status) {
    case "good":
    case "nochg":
      // Written is not served: an unserved host stays so until its name servers catch up (src/zone/watch.ts).
      if (prior?.state === "unserved") return { ...base, ...keep(prior, last.at) };
      return { ...base, ...enter(prior, "ok", "", last.at) };
    case "911":
    case "dnserr":
      return { ...base, ...enter(prior, "failing", failingReason(result.status, result.reason), last.at) };
    case "abuse":
      // The change limit refuses the write; the host keeps its state, targets and drift (the
      // history says why).
      return {
        ...base,
        targets: prior?.targets ?? {},
        ...keep(prior, last.at),
        ...(prior?.drift ? { drift: prior.drift } : {}),
      };
  }
}

/** What the host's record becomes after a refused report (badrequest, nohost): only `last`. */
export function afterRefusal(prior: HostRecord | undefined, last: LastReport): HostRecord {
  return {
    ...keep(prior, last.at),
    last,
    acceptedAt: prior?.acceptedAt ?? null,
    targets: prior?.targets ?? {},
    // A refused report resumes nothing: records held after drift stay held.
    ...(prior?.drift ? { drift: prior.drift } : {}),
  };
}

/** The stored state as it becomes, its start kept when the state does not change. */
export function enter(
  prior: HostRecord | undefined,
  state: StoredHealth,
  reason: string,
  now: number,
): Pick<HostRecord, "state" | "reason" | "since"> {
  const since = prior && prior.state === state && prior.since !== null ? prior.since : now;
  return { state, reason, since };
}

function keep(prior: HostRecord | undefined, now: number): Pick<HostRecord, "state" | "reason" | "since"> {
  return prior
    ? { state: prior.state, reason: prior.reason, since: prior.since }
    : { state: "ok", reason: "", since: now };
}

/**
 * What a person should hear about a host whose record went from `prior` to `next`: a failure
 * episode that began (or duplicates found) or ended, a stale host that reports again. Changes
 * and drift are told by whoever made them (the report, the check).
 */
export function transitions(
  host: string,
  prior: HostRecord | undefined,
  next: HostRecord,
  result: HostResult | undefined,
  at: number,
): HealthEvent[] {
  const events: HealthEvent[] = [];
  const was = prior?.state ?? "ok";
  if (
    next.state === "failing" &&
    was !== "failing" &&
    result &&
    result.status !== "good" &&
    result.status !== "nochg"
  ) {
    const kind = result.status === "dnserr" ? "duplicates" : "failing";
    events.push({ kind, host, at, message: `${host} is failing (${result.status}): ${next.reason}` });
  }
  if ((was === "failing" || was === "drift") && next.state === "ok") {
    const since = prior?.since ? ` since ${iso(prior.since)}` : "";
    events.push({ kind: "recovered", host, at, message: `${host} works again: it was ${was}${since}` });
  }
  if (was === "stale" && next.acceptedAt !== prior?.acceptedAt && next.last) {
    events.push({
      kind: "reporting",
      host,
      at,
      message: `${host} reports again: ${next.last.client}, after no report since ${iso(prior?.acceptedAt ?? at)}`,
    });
  }
  return events;
}

/** The record of a host that the scheduled check finds stale at `at`, and the event; or nothing. */
export function goneStale(
  host: string,
  record: HostRecord | undefined,
  staleAfter: number,
  at: number,
): { record: HostRecord; event: HealthEvent } | undefined {
  if (record?.state !== "ok") return undefined;
  const staleAt = staleSince(record, staleAfter);
  if (staleAt === null || staleAt > at) return undefined;
  const reason = staleReason(record);
  return {
    record: { ...record, state: "stale", reason, since: staleAt },
    event: { kind: "stale", host, at, message: `${host} is stale: ${reason}` },
  };
}

/** One line for a person: what failed and what to check. */
export function failingReason(status: "911" | "dnserr", reason: string): string {
  if (status === "dnserr") return `not written: ${reason}`;
  if (/^OVH \S+ \S+: 40[13] /.test(reason) || /no token: /.test(reason))
    return `OVH refuses the credentials: ${reason}; check the OVH keys and their rights with npm run check`;
  return `not written, OVH failed: ${reason}; the client retries, and the scheduled check tries again`;
}

/** The history entry's note for a host's result: the batch's note, then why it failed. */
export function noteFor(batchNote: string | undefined, result: HostResult): string | undefined {
  const parts = [
    batchNote,
    result.status === "good" || result.status === "nochg" ? undefined : result.reason,
  ];
  const note = parts.filter((p) => p).join("; ");
  return note || undefined;
}
