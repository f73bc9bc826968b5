// What crosses the boundary between the Worker and a zone's coordinator (a Durable Object): the
// batch a report sends, the report that comes back, the history and status the coordinator
// keeps, and the constants both sides go by. Plain data only, since it is serialized across the
// boundary. Both sides import this module; neither imports the other.
import type { RecordSpec, RecordType } from "../config";
import type { Desired } from "../core/plan";

/**
 * Every report is answered within this, whatever OVH or the coordinator do: clients (ours
 * included) give up after 30 s. The coordinator starts no OVH call it could not end by then.
 */
export const REPORT_DEADLINE_MS = 20_000;

/** One zone's share of a dyndns2 report: what each configured record should hold. */
export interface ZoneBatch {
  zone: string;
  client: string;
  source: string | undefined;
  /** Everything the report carried: its addresses, its prefix, prefix fields sent empty (reportedText). */
  reported: string;
  desired: Desired[];
  /** Hosts of this zone in the request (some may plan no record for the families reported). */
  hosts: string[];
  /** The client's User-Agent (at most 120 characters), for the host's last report. */
  agent: string | null;
  /** Per host, why part of the report changes nothing (a family with no record, an empty field). */
  notes: Record<string, string>;
}

/** Who made a report, from where, and what it reported: what every batch of it carries. */
export type ReportOrigin = Pick<ZoneBatch, "client" | "source" | "agent" | "reported">;

/** A batch of `zone` for a report, before its hosts are planned into it. */
export function zoneBatch(zone: string, origin: ReportOrigin): ZoneBatch {
  return { zone, ...origin, desired: [], hosts: [], notes: {} };
}

/** Outcomes of reports refused before they reach OVH, which still belong in the history. */
export type RefusedOutcome = "badrequest" | "nohost";

/** One zone's share of a refused report from an authenticated client. */
export interface RefusedBatch {
  zone: string;
  client: string;
  source: string | undefined;
  agent: string | null;
  reported: string;
  hosts: { host: string; outcome: RefusedOutcome; note: string }[];
}

/** The coordinators as the update flow reaches them (src/zone/stubs.ts). */
export interface ZoneSide {
  apply(batch: ZoneBatch): Promise<ZoneReport>;
  /** Keep a refused report in the zone's history; never fails the request. */
  refuse(batch: RefusedBatch): Promise<void>;
}

/** One record's target changed (or was created: no `from`). */
export interface RecordChange {
  host: string;
  name: string;
  type: RecordType;
  from?: string;
  to: string;
  /** For a record with host_id: the prefix `to` was derived from (reported, or an address's /64). */
  prefix?: string;
}

/** What happened to one host of a batch. */
export type HostResult =
  | { status: "good"; changes: RecordChange[] }
  | { status: "nochg" }
  | { status: "dnserr"; reason: string }
  | { status: "911"; reason: string }
  /** `retryAfter`: seconds until the change limit lets this writer write the host again. */
  | { status: "abuse"; reason: string; retryAfter?: number };

/** The coordinator's answer to a batch. */
export interface ZoneReport {
  zone: string;
  hosts: { host: string; result: HostResult }[];
  /** Problems worth a log line (conflicting records, OVH failures), free of secrets. */
  notes: string[];
  ovhCalls: number;
  queryIds: string[];
}

/** What the coordinator remembers of one record between reports. */
export interface RecordState {
  /** OVH's id; null only while `unconfirmed` after a create whose id is not known (found by listing). */
  id: number | null;
  /** The target and TTL OVH last confirmed; "" (and confirmedAt 0) when it never confirmed one. */
  target: string;
  ttl: number;
  /** Unix ms when OVH last confirmed this state (read it, or accepted a write and refresh). */
  confirmedAt: number;
  /** Unix ms when the target last changed through us. */
  changedAt: number;
  /**
   * A write of this record was sent after that and no refresh confirmed it (the refresh failed,
   * or the write's answer was lost). OVH may stage it, and any later refresh of the zone would
   * publish it: what is served is unknown. Such a record is never trusted from memory; the next
   * report reads OVH and writes again, so that its refresh publishes what the report asks for.
   */
  unconfirmed?: true;
}

/** The key a record is remembered under: its type and subdomain (names are case-insensitive). */
export function recordKey(type: RecordType, subdomain: string): string {
  return `${type} ${subdomain.toLowerCase()}`;
}

/** The key of a configured record, or of a planned one's. */
export function keyOf(record: RecordSpec | Desired): string {
  const { type, subdomain } = "spec" in record ? record.spec : record;
  return recordKey(type, subdomain);
}

/** A configured record's name: its subdomain in its zone, or the zone's apex. */
export function fqdnOf({ subdomain, zone }: Pick<RecordSpec, "subdomain" | "zone">): string {
  return subdomain ? `${subdomain}.${zone}` : zone;
}

/** A change in one line, as the log line and the status page show it. */
export function describeChange(c: RecordChange): string {
  const from = c.prefix ? ` (from prefix ${c.prefix})` : "";
  return `${c.type} ${c.name}: ${c.from ?? "(new)"} -> ${c.to}${from}`;
}

/** How many history entries a zone keeps. */
export const HISTORY_LIMIT = 1000;

/** One report of one host, as the history keeps it. */
export interface HistoryEntry {
  /** Unix ms of the first report of the entry; lastAt of the last (they differ when repeats > 1). */
  at: number;
  lastAt: number;
  /** Identical reports (same client, source, addresses and outcome, no change) in a row. */
  repeats: number;
  client: string;
  host: string;
  source: string | null;
  reported: string;
  outcome: string;
  changes: RecordChange[];
  queryIds: string[];
  /** Why nothing changed, or why the report was refused (one line, no secrets). */
  note?: string;
}

/** A host's last report, whatever its outcome. */
export interface LastReport {
  at: number;
  client: string;
  source: string | null;
  agent: string | null;
  outcome: string;
}

/** The health states a coordinator stores; `never` and `stale` follow from the reports' times. */
export type StoredHealth = "ok" | "stale" | "failing" | "drift" | "unserved";

/** The health states a host can be in (src/zone/health/state.ts says what each means). */
export type HealthState = StoredHealth | "never";

/** A host's health as /status shows it: `reason` is one line for a person, "" when ok. */
export interface Health {
  state: HealthState;
  reason: string;
  since: number | null;
}

/** What the coordinator keeps per host to state its health (src/zone/health/state.ts). */
export interface HostRecord {
  last: LastReport | null;
  /** Unix ms of the last report that was not refused (good, nochg, dnserr, 911, abuse). */
  acceptedAt: number | null;
  state: StoredHealth;
  /** One line for a person; "" when ok. */
  reason: string;
  /** Unix ms when `state` began. */
  since: number | null;
  /**
   * What the host's clients last asked its records to hold, by record key (recordKey()): the
   * scheduled check writes these back when OVH holds something else.
   */
  targets: Record<string, string>;
  /**
   * Records the scheduled check found changed by hand since the host's last report, by record
   * key (src/zone/health/drift.ts): absent when none.
   */
  drift?: Record<string, DriftCount>;
}

/** How often one record was found changed by hand since the host's last report. */
export interface DriftCount {
  count: number;
  /** Unix ms of the first of them. */
  since: number;
  /** The check no longer sets the record back (after DRIFT_LIMIT changes), until a report. */
  held?: true;
}

/** What a notification is about (src/notify/ sends them). */
export type EventKind =
  | "changed"
  | "failing"
  | "recovered"
  | "stale"
  | "reporting"
  | "drift"
  | "unserved"
  | "duplicates"
  | "config"
  | "test";

/** Something a person should hear about: one line, free of secrets. */
export interface HealthEvent {
  kind: EventKind;
  /** The host it is about, when it is about one. */
  host?: string;
  message: string;
  /** Unix ms. */
  at: number;
}

/** The client name the scheduled check's history entries carry (no client name has a space). */
export const CHECK_CLIENT = "scheduled check";

/** What a zone's scheduled check did. */
export interface CheckReport {
  zone: string;
  /** Hosts of the zone that were checked. */
  hosts: number;
  events: HealthEvent[];
  /** Problems worth a log line (OVH failures, duplicates), free of secrets. */
  notes: string[];
  ovhCalls: number;
  queryIds: string[];
  /** Hosts that need attention after the check ("host: state"), for the heartbeat. */
  attention: string[];
}

/** What the coordinator tells the status page about some of its hosts. */
export interface ZoneStatus {
  /** Remembered state by record key (recordKey()). */
  records: Record<string, RecordState>;
  history: HistoryEntry[];
  /** Per host asked for: what its health follows from (absent: never reported). */
  hosts: Record<string, HostRecord>;
  /** Per host asked for: its health now. */
  health: Record<string, Health>;
  /** What the name servers serve, by record key (src/zone/watch.ts). */
  served: Record<string, ServedRecord>;
}

/**
 * Whether the zone's name servers serve a record's target (src/zone/watch.ts): `waiting` (not
 * every server does yet), `served` (every one does), `unserved` (not every one did within
 * serve_within).
 */
export type ServedState = "waiting" | "served" | "unserved";

/** What one name server last said about a record. */
export interface ServerAnswer {
  /** The server as configured or listed by OVH ("dns200.anycast.me", "127.0.0.1:5300"). */
  server: string;
  /** The addresses it serves for the name (none: it serves none), or null: no answer to trust. */
  records: string[] | null;
  /** Why there is no answer to trust, or "NXDOMAIN" (no such name). */
  reason?: string;
  /** Unix ms. */
  at: number;
}

/** One record's watch: whether its target is served, since when, and each server's last answer. */
export interface ServedRecord {
  key: string;
  host: string;
  /** The record's name and type, as people write them: "wg-end.example.tld", "AAAA". */
  name: string;
  type: RecordType;
  target: string;
  /** Unix ms the watch began: the report that changed the record, or the check that found it served wrongly. */
  startedAt: number;
  cause: "report" | "check";
  state: ServedState;
  /** Unix ms `state` began. */
  since: number;
  /** Served: milliseconds from startedAt until every server answered the target. */
  tookMs: number | null;
  /** Times the servers were asked since startedAt. */
  attempts: number;
  /** Unix ms of the next time the servers are asked; null when the watch has ended. */
  nextAt: number | null;
  answers: ServerAnswer[];
}

/** What a check of the name servers found (the status page's "Check now"). */
export interface ServedCheck {
  /** The records asked about, after the answers. */
  records: ServedRecord[];
  servers: string[];
  /** Why the servers could not be asked, when they could not. */
  problem?: string;
}
