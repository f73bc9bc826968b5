// The per-zone coordinator: one Durable Object (SQLite-backed) owns each OVH zone. Every update
// of the zone goes through it, one at a time, so two reports that arrive together cannot both
// create a record; it remembers each record's id and target, so an unchanged report costs no
// OVH call; it keeps the zone's history and the per-host change rate for the abuse limit.
import { DurableObject } from "cloudflare:workers";
import { applyZone, type HostResult, type RecordChange, type RecordMemory, type RecordState } from "./apply";
import { loadConfig } from "./config";
import type { Env } from "./env";
import { OvhClient } from "./ovh/client";
import { OvhZoneApi } from "./ovh/records";
import type { ZoneBatch, ZoneReport } from "./update";

/** How many reports the history keeps per zone. */
export const HISTORY_LIMIT = 1000;
const TRIM_EVERY = 50;

export interface HistoryEntry {
  at: number;
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

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    // records: what is remembered per record key. history: the last HISTORY_LIMIT reports.
    // changes: address changes per host for change_limit, apart from the history, whose rows of
    // mostly unchanged reports could push out the changes the limit must count.
    this.sql.exec(
      "CREATE TABLE IF NOT EXISTS records (key TEXT PRIMARY KEY, id INTEGER, target TEXT, ttl INTEGER, confirmed_at INTEGER, changed_at INTEGER);" +
        "CREATE TABLE IF NOT EXISTS history (seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER, client TEXT, host TEXT, source TEXT, reported TEXT, outcome TEXT, changed INTEGER, changes TEXT, query_ids TEXT);" +
        "CREATE INDEX IF NOT EXISTS history_host ON history (host, at);" +
        "CREATE TABLE IF NOT EXISTS changes (host TEXT, at INTEGER);" +
        "CREATE INDEX IF NOT EXISTS changes_host ON changes (host, at)",
    );
  }

  /** Apply one request's targets for this zone, after every earlier request has finished. */
  apply(batch: ZoneBatch): Promise<ZoneReport> {
    const run = this.tail.then(
      () => this.applyNow(batch),
      () => this.applyNow(batch),
    );
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Remembered records (by record key) and recent history of the given hosts. */
  status(keys: string[], hosts: string[], limit = 50): ZoneStatus {
    const records: Record<string, RecordState> = {};
    for (const key of keys) {
      const state = this.memory.get(key);
      if (state) records[key] = state;
    }
    const marks = hosts.map(() => "?").join(",");
    const rows = hosts.length
      ? this.sql
          .exec<HistoryRow>(
            `SELECT * FROM history WHERE host IN (${marks}) ORDER BY seq DESC LIMIT ?`,
            ...hosts,
            limit,
          )
          .toArray()
      : [];
    return { records, history: rows.map(toEntry) };
  }

  private async applyNow(batch: ZoneBatch): Promise<ZoneReport> {
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
    });

    const hosts = batch.hosts.map((host) => ({
      host,
      result: result.hosts.get(host) ?? ({ status: "nochg" } as HostResult),
    }));
    const queryIds = client.queryIds;
    const rows = hosts.map(({ host, result: r }) => ({
      host,
      outcome: r.status,
      changes: r.status === "good" ? r.changes : [],
    }));
    const record = () => this.recordHistory(now, batch, rows, queryIds, settings.changeWindow);
    // A report that changed records is written to history before the reply, together with what
    // is remembered. One that changed nothing is written just after the reply: the history is
    // an audit trail, and this spares the common unchanged report a durable write (~1 ms, and
    // most of its latency tail).
    if (rows.some((r) => r.changes.length > 0)) record();
    else setTimeout(record, 0);
    return { zone: batch.zone, hosts, notes: result.notes, ovhCalls: client.calls.length, queryIds };
  }

  private recordHistory(
    now: number,
    batch: ZoneBatch,
    rows: { host: string; outcome: string; changes: RecordChange[] }[],
    queryIds: string[],
    changeWindow: number,
  ): void {
    for (const { host, outcome, changes } of rows) {
      this.sql.exec(
        "INSERT INTO history (at, client, host, source, reported, outcome, changed, changes, query_ids) VALUES (?,?,?,?,?,?,?,?,?)",
        now,
        batch.client,
        host,
        batch.source ?? null,
        batch.reported,
        outcome,
        changes.length > 0 ? 1 : 0,
        JSON.stringify(changes),
        JSON.stringify(queryIds),
      );
      if (changes.length > 0) {
        this.sql.exec("DELETE FROM changes WHERE at <= ?", now - changeWindow * 1000);
        this.sql.exec("INSERT INTO changes (host, at) VALUES (?, ?)", host, now);
      }
    }
    // Trimming costs a query; every TRIM_EVERY reports is enough, since readers take at most
    // HISTORY_LIMIT rows anyway.
    if (this.unTrimmed++ % TRIM_EVERY === 0) this.trimHistory();
  }

  private unTrimmed = 0;

  /** Keep the last HISTORY_LIMIT reports. */
  private trimHistory(): void {
    this.sql.exec(
      "DELETE FROM history WHERE seq <= (SELECT seq FROM history ORDER BY seq DESC LIMIT 1 OFFSET ?)",
      HISTORY_LIMIT,
    );
  }

  private changesSince(host: string, since: number): number {
    const row = this.sql
      .exec<{ n: number }>("SELECT COUNT(*) AS n FROM changes WHERE host = ? AND at >= ?", host, since)
      .one();
    return row.n;
  }

  private readonly memory: RecordMemory = {
    get: (key) => {
      const row = this.sql.exec<RecordRow>("SELECT * FROM records WHERE key = ?", key).toArray()[0];
      return (
        row && {
          id: row.id,
          target: row.target,
          ttl: row.ttl,
          confirmedAt: row.confirmed_at,
          changedAt: row.changed_at,
        }
      );
    },
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
    },
    delete: (key) => {
      this.sql.exec("DELETE FROM records WHERE key = ?", key);
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
    client: row.client,
    host: row.host,
    source: row.source,
    reported: row.reported,
    outcome: row.outcome,
    changes: JSON.parse(row.changes) as RecordChange[],
    queryIds: JSON.parse(row.query_ids) as string[],
  };
}
