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
import { type Config, staleAfterOf } from "../../config";
import { sameAddress } from "../../core/address";
import type { Desired } from "../../core/plan";
import type { RecordApi } from "../../ovh/records";
import {
  CHECK_CLIENT,
  type HealthEvent,
  type HistoryEntry,
  type HostRecord,
  type RecordChange,
  recordKey,
} from "../protocol";
import { type RecordMemory, reconcile } from "../reconcile";
import type { HostRecords } from "../store/hosts";
import { changedAgain, counted, heldReason, holdsAny, isHeld, onLastSetBack } from "./drift";
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
  const desired: Desired[] = [];
  /** Records OVH was believed to hold at their target: a difference read now is drift. */
  const believed = new Set<string>();
  const keyOf = new Map<string, string>(); // "TYPE fqdn" → record key, for the changes
  const nameOf = new Map<string, string>(); // and back
  for (const host of specs) {
    const prior = hosts.get(host.name);
    for (const spec of host.records) {
      const key = recordKey(spec.type, spec.subdomain);
      const name = `${spec.type} ${spec.subdomain ? `${spec.subdomain}.${zone}` : zone}`;
      keyOf.set(name, key);
      nameOf.set(key, name);
      const target = prior?.targets[key];
      if (target === undefined || isHeld(prior, key)) continue;
      desired.push({ host: host.name, spec, target });
      const known = memory.get(key);
      if (known && !known.unconfirmed && sameAddress(known.target, target)) believed.add(key);
    }
  }
  // A record on its last set-back is read before anything is written: changed by hand once
  // more, it is left as it is (src/zone/health/drift.ts).
  const recheckAfterMs = config.settings.recheckAfter * 1000;
  const watched = desired.filter((d) => {
    const key = recordKey(d.spec.type, d.spec.subdomain);
    return believed.has(key) && onLastSetBack(hosts.get(d.host), key);
  });
  const changed = await changedAgain(api, zone, watched, memory, now, recheckAfterMs);
  const rest = desired.filter((d) => !changed.has(d));
  const result = await reconcile(api, zone, rest, memory, { now, recheckAfterMs });

  const outcome: CheckOutcome = { checked: specs.length, events: [], entries: [], notes: result.notes };
  const entry = (host: string, outcome: string, changes: RecordChange[], note: string): HistoryEntry => ({
    at: now,
    lastAt: now,
    repeats: 1,
    client: CHECK_CLIENT,
    host,
    source: null,
    reported: "",
    outcome,
    changes,
    queryIds: [],
    note,
  });
  for (const host of specs) {
    const prior = hosts.get(host.name);
    if (!prior) continue;
    const r = result.hosts.get(host.name);
    let next: HostRecord = prior;
    let setBack: string[] = [];
    if (r?.status === "good") {
      const isDrift = (c: RecordChange) =>
        believed.has(keyOf.get(`${c.type} ${c.name}`) ?? "") && !(c.from && sameAddress(c.from, c.to));
      const drift = r.changes.filter(isDrift);
      setBack = drift.map((c) => keyOf.get(`${c.type} ${c.name}`) ?? "");
      const rest = r.changes.filter((c) => !isDrift(c));
      if (drift.length > 0) {
        const held = drift.map((c) => `${c.type} ${c.name} held ${c.from ?? "no record"} instead of ${c.to}`);
        const message = `${host.name}: ${held.join(", ")} (changed outside this Worker); set back`;
        outcome.events.push({ kind: "drift", host: host.name, at: now, message });
        outcome.entries.push(entry(host.name, "drift", drift, "changed outside this Worker; set back"));
      }
      if (rest.length > 0) {
        const note = "written by the scheduled check (the last write had failed, or the TTL changed)";
        outcome.entries.push(entry(host.name, "good", rest, note));
      }
    }
    if (
      r &&
      (r.status === "good" || r.status === "nochg") &&
      (prior.state === "failing" || prior.state === "drift") &&
      !holdsAny(prior)
    )
      next = { ...prior, ...enter(prior, "ok", "", now) };
    // A call the zone's pace, breaker or deadline held back never reached OVH: the next check goes on.
    const heldBack = r?.status === "911" && r.reason.includes("not sent: ");
    if (r && !heldBack && (r.status === "911" || r.status === "dnserr")) {
      // Believed records that OVH no longer holds, and that could not be set back.
      const drifted = host.records.filter((spec) => {
        const key = recordKey(spec.type, spec.subdomain);
        const target = prior.targets[key];
        const known = memory.get(key);
        return believed.has(key) && target !== undefined && !(known && sameAddress(known.target, target));
      });
      if (drifted.length > 0 && r.status === "911") {
        const what = drifted
          .map((s) => `${s.type} ${s.subdomain ? `${s.subdomain}.${zone}` : zone}`)
          .join(", ");
        const reason = `${what} changed outside this Worker, and setting it back failed: ${r.reason}`;
        next = { ...prior, ...enter(prior, "drift", reason, now) };
        if (prior.state !== "drift")
          outcome.events.push({
            kind: "drift",
            host: host.name,
            at: now,
            message: `${host.name}: ${reason}`,
          });
      } else next = { ...prior, ...enter(prior, "failing", failingReason(r.status, r.reason), now) };
      if (prior.state !== next.state) outcome.entries.push(entry(host.name, r.status, [], r.reason));
    }
    next = counted(next, setBack, now, false);
    const held = [...changed].filter((d) => d.host === host.name);
    if (held.length > 0) {
      next = counted(
        next,
        held.map((d) => recordKey(d.spec.type, d.spec.subdomain)),
        now,
        true,
      );
      const reason = heldReason(next, (key) => nameOf.get(key) ?? key);
      next = { ...next, ...enter(prior, "drift", reason, now) };
      outcome.events.push({ kind: "drift", host: host.name, at: now, message: `${host.name}: ${reason}` });
      outcome.entries.push(entry(host.name, "drift", [], reason));
    }
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
