// The per-zone coordinator: one Durable Object (SQLite-backed) owns each OVH zone. Every update
// of the zone goes through it, one at a time, so two reports that arrive together cannot both
// create a record; it remembers each record's id and target, so an unchanged report costs no
// OVH call; it keeps the zone's history and the per-host change rate for the abuse limit.
//
// Leases: with its answer, the coordinator tells the calling isolate what the zone's records
// hold, and the isolate may answer unchanged reports from that for LEASE_MS without calling
// (src/lines.ts). Before it writes a record, the coordinator waits until every lease it gave
// another isolate has run out, so no isolate answers `nochg` from a target that has changed.
// The calling isolate's own lease does not hold the write up: it stopped using it when it
// called. The reports isolates answer on their own reach the history as counts (Served).
import { DurableObject } from "cloudflare:workers";
import { applyZone, type HostResult, type RecordChange, type RecordMemory, type RecordState } from "./apply";
import { loadConfig } from "./config";
import type { Env } from "./env";
import { addRepeats, type Lease, type Served, type ZoneAnswer } from "./lines";
import { OvhClient } from "./ovh/client";
import { OvhZoneApi } from "./ovh/records";
import type { ZoneBatch } from "./update";

/** How many entries the history keeps per zone. */
export const HISTORY_LIMIT = 1000;
const TRIM_EVERY = 50;
/** How long a lease lasts, from when the coordinator answered. */
export const LEASE_MS = 1000;

export interface HistoryEntry {
  /** Unix ms of the first report of the entry; lastAt of the last (they differ when repeats > 1). */
  at: number;
  lastAt: number;
  /** Identical reports (same client, source, addresses and outcome, no OVH call) in a row. */
  repeats: number;
  client: string;
  host: string;
  source: string | null;
  reported: string;
  outcome: string;
  changes: RecordChange[];
  queryIds: string[];
}

export interface ZoneStatus {
  /** Remembered state by record key (recordKey()). */
  records: Record<string, RecordState>;
  history: HistoryEntry[];
}

export class ZoneCoordinator extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private tail: Promise<unknown> = Promise.resolve();
  /** Leases given by this instance: caller (an isolate's ZoneLines) → until (Unix ms). */
  private readonly leases = new Map<string, number>();
  /** Until when leases given by any instance may run (stored, so a restart honours them). */
  private leasesUntil: number;
  /** The same, as stored when this instance started: leases an earlier instance gave. */
  private readonly inherited: number;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    // records: what is remembered per record key. reports: the history, its last HISTORY_LIMIT
    // entries (not named history: that table, of the unreleased 0.1 layout, has no repeats).
    // changes: address changes per host for change_limit, apart from the history, whose
    // entries could push out the changes the limit must count. meta: leases_until.
    this.sql.exec(
      "CREATE TABLE IF NOT EXISTS records (key TEXT PRIMARY KEY, id INTEGER, target TEXT, ttl INTEGER, confirmed_at INTEGER, changed_at INTEGER);" +
        "CREATE TABLE IF NOT EXISTS reports (seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER, last_at INTEGER, repeats INTEGER, client TEXT, host TEXT, source TEXT, reported TEXT, outcome TEXT, changed INTEGER, changes TEXT, query_ids TEXT);" +
        "CREATE INDEX IF NOT EXISTS reports_host ON reports (host, at);" +
        "CREATE TABLE IF NOT EXISTS changes (host TEXT, at INTEGER);" +
        "CREATE INDEX IF NOT EXISTS changes_host ON changes (host, at);" +
        "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER)",
    );
    this.inherited =
      this.sql.exec<{ value: number }>("SELECT value FROM meta WHERE key = 'leases_until'").toArray()[0]
        ?.value ?? 0;
    this.leasesUntil = this.inherited;
  }

  /**
   * Apply one request's targets for this zone, after every earlier request has finished, and
   * count the reports the caller answered on its own. The answer carries a lease for the caller.
   */
  apply(batch: ZoneBatch, served: Served[], caller: string): Promise<ZoneAnswer> {
    this.record(served);
    const run = this.tail.then(
      () => this.applyNow(batch, caller),
      () => this.applyNow(batch, caller),
    );
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Count reports an isolate answered on its own (its lease ran out before it called again). */
  record(served: Served[]): void {
    this.recordSoon(
      served.flatMap(({ hosts, ...s }) =>
        hosts.map((host) => ({ ...s, host, outcome: "nochg", changes: [], queryIds: [] })),
      ),
    );
  }

  /** Remembered records (by record key) and recent history of the given hosts. */
  status(keys: string[], hosts: string[], limit = 50): ZoneStatus {
    this.recordWaiting();
    const records: Record<string, RecordState> = {};
    for (const key of keys) {
      const state = this.memory.get(key);
      if (state) records[key] = state;
    }
    const marks = hosts.map(() => "?").join(",");
    const rows = hosts.length
      ? this.sql
          .exec<HistoryRow>(
            `SELECT * FROM reports WHERE host IN (${marks}) ORDER BY seq DESC LIMIT ?`,
            ...hosts,
            limit,
          )
          .toArray()
      : [];
    return { records, history: rows.map(toEntry) };
  }

  private async applyNow(batch: ZoneBatch, caller: string): Promise<ZoneAnswer> {
    const config = loadConfig(this.env);
    if (!config.ok) throw new Error(`invalid configuration: ${config.errors.join("; ")}`);
    const { settings } = config.value;
    const now = Date.now();
    const client = new OvhClient({
      endpoint: config.value.endpoint,
      credentials: config.value.credentials,
      timeoutMs: settings.ovhTimeoutMs,
      maxCalls: settings.maxOvhCalls,
    });
    const since = now - settings.changeWindow * 1000;
    const result = await applyZone(new OvhZoneApi(client), batch.zone, batch.desired, this.memory, {
      now,
      recheckAfterMs: settings.recheckAfter * 1000,
      mayWrite: (host) => this.changesSince(host, since) < settings.changeLimit,
      beforeWrite: () => this.leasesRunOut(caller),
    });

    const hosts = batch.hosts.map((host) => ({
      host,
      result: result.hosts.get(host) ?? ({ status: "nochg" } as HostResult),
    }));
    const queryIds = client.queryIds;
    const drafts = hosts.map(({ host, result: r }): HistoryEntry => {
      const changes = r.status === "good" ? r.changes : [];
      const { client: who, source = null, reported } = batch;
      return {
        at: now,
        lastAt: now,
        repeats: 1,
        client: who,
        host,
        source,
        reported,
        outcome: r.status,
        changes,
        queryIds,
      };
    });
    // A report that changed records is written to history before the reply, together with what
    // is remembered. One that changed nothing is written just after the reply: the history is
    // an audit trail, and this spares the common unchanged report a durable write.
    if (drafts.some((d) => d.changes.length > 0)) {
      this.unrecorded.push(...drafts);
      this.recordWaiting();
      this.sql.exec("DELETE FROM changes WHERE at <= ?", since);
      for (const d of drafts) {
        if (d.changes.length > 0) this.sql.exec("INSERT INTO changes (host, at) VALUES (?, ?)", d.host, now);
      }
    } else this.recordSoon(drafts);
    const report = { zone: batch.zone, hosts, notes: result.notes, ovhCalls: client.calls.length, queryIds };
    return { report, lease: this.grant(caller, settings.recheckAfter) };
  }

  /** Waits until the leases of every caller but `caller` have run out. */
  private async leasesRunOut(caller: string): Promise<void> {
    this.leases.delete(caller);
    const wait = Math.max(this.inherited, ...this.leases.values()) - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    this.leases.clear();
  }

  /**
   * A lease on the records confirmed recently enough that they are still fresh (recheck_after)
   * when it runs out. Stored first, so that a restarted coordinator waits for it too.
   */
  private grant(caller: string, recheckAfter: number): Lease | undefined {
    const now = Date.now();
    const until = now + LEASE_MS;
    const records: Lease["records"] = {};
    let any = false;
    for (const [key, state] of this.all()) {
      if (state.confirmedAt + recheckAfter * 1000 <= until) continue;
      records[key] = { target: state.target, ttl: state.ttl };
      any = true;
    }
    if (!any) return undefined;
    this.leases.set(caller, until);
    if (until > this.leasesUntil) {
      // One stored write per LEASE_MS at most: store a little further ahead than needed.
      this.leasesUntil = until + LEASE_MS;
      this.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('leases_until', ?)", this.leasesUntil);
    }
    return { forMs: LEASE_MS, records };
  }

  /** History entries not written yet, in the order of their reports. */
  private unrecorded: HistoryEntry[] = [];

  /**
   * Write the entries just after the reply, with every other entry waiting by then. An entry
   * that repeats the host's previous one waiting (same client, source, addresses and outcome;
   * neither made a change or an OVH call) adds to its count.
   */
  private recordSoon(entries: HistoryEntry[]): void {
    if (entries.length > 0 && this.unrecorded.length === 0) setTimeout(() => this.recordWaiting(), 0);
    for (const e of entries) {
      const previous = this.unrecorded.findLast((p) => p.host === e.host);
      if (previous && repeats(previous, e)) addRepeats(previous, e);
      else this.unrecorded.push(e);
    }
  }

  private recordWaiting(): void {
    for (const e of this.unrecorded) {
      this.sql.exec(
        "INSERT INTO reports (at, last_at, repeats, client, host, source, reported, outcome, changed, changes, query_ids) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        e.at,
        e.lastAt,
        e.repeats,
        e.client,
        e.host,
        e.source,
        e.reported,
        e.outcome,
        e.changes.length > 0 ? 1 : 0,
        JSON.stringify(e.changes),
        JSON.stringify(e.queryIds),
      );
      // Trimming costs a query; every TRIM_EVERY entries is enough, since readers take at most
      // HISTORY_LIMIT entries anyway.
      if (this.unTrimmed++ % TRIM_EVERY === 0) {
        this.sql.exec(
          "DELETE FROM reports WHERE seq <= (SELECT seq FROM reports ORDER BY seq DESC LIMIT 1 OFFSET ?)",
          HISTORY_LIMIT,
        );
      }
    }
    this.unrecorded = [];
  }

  private unTrimmed = 0;

  private changesSince(host: string, since: number): number {
    const row = this.sql
      .exec<{ n: number }>("SELECT COUNT(*) AS n FROM changes WHERE host = ? AND at >= ?", host, since)
      .one();
    return row.n;
  }

  /**
   * Every remembered record, read once from SQLite and then kept in memory as well: this object
   * is the only one that writes its storage, and a failed storage write resets the object.
   */
  private all(): Map<string, RecordState> {
    if (!this.remembered) {
      this.remembered = new Map();
      for (const row of this.sql.exec<RecordRow>("SELECT * FROM records")) {
        const { key, id, target, ttl, confirmed_at: confirmedAt, changed_at: changedAt } = row;
        this.remembered.set(key, { id, target, ttl, confirmedAt, changedAt });
      }
    }
    return this.remembered;
  }

  private remembered: Map<string, RecordState> | undefined;

  private readonly memory: RecordMemory = {
    get: (key) => this.all().get(key),
    set: (key, s) => {
      this.sql.exec(
        "INSERT OR REPLACE INTO records (key, id, target, ttl, confirmed_at, changed_at) VALUES (?,?,?,?,?,?)",
        key,
        s.id,
        s.target,
        s.ttl,
        s.confirmedAt,
        s.changedAt,
      );
      this.all().set(key, { ...s });
    },
    delete: (key) => {
      this.sql.exec("DELETE FROM records WHERE key = ?", key);
      this.all().delete(key);
    },
  };
}

type RecordRow = {
  key: string;
  id: number;
  target: string;
  ttl: number;
  confirmed_at: number;
  changed_at: number;
};

type HistoryRow = {
  seq: number;
  at: number;
  last_at: number;
  repeats: number;
  client: string;
  host: string;
  source: string | null;
  reported: string;
  outcome: string;
  changed: number;
  changes: string;
  query_ids: string;
};

function toEntry(row: HistoryRow): HistoryEntry {
  return {
    at: row.at,
    lastAt: row.last_at,
    repeats: row.repeats,
    client: row.client,
    host: row.host,
    source: row.source,
    reported: row.reported,
    outcome: row.outcome,
    changes: JSON.parse(row.changes) as RecordChange[],
    queryIds: JSON.parse(row.query_ids) as string[],
  };
}

const repeats = (a: HistoryEntry, b: HistoryEntry): boolean =>
  a.changes.length + a.queryIds.length + b.changes.length + b.queryIds.length === 0 &&
  a.client === b.client &&
  a.source === b.source &&
  a.reported === b.reported &&
  a.outcome === b.outcome;
