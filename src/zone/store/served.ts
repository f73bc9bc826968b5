// What the zone's name servers serve (src/zone/watch.ts): one row per watched record, and the
// zone's name servers as OVH last listed them, in the coordinator's SQLite storage.
import type { ServedRecord } from "../protocol";
import type { ServedStore } from "../watch";
import { ensureTable } from "./schema";

type ServedRow = {
  key: string;
  host: string;
  name: string;
  type: string;
  target: string;
  started_at: number;
  cause: string;
  state: string;
  since: number;
  took_ms: number | null;
  attempts: number;
  next_at: number | null;
  answers: string;
};

export class ServedRecords implements ServedStore {
  constructor(private readonly sql: SqlStorage) {
    ensureTable(
      sql,
      "served",
      [
        "key TEXT PRIMARY KEY",
        "host TEXT",
        "name TEXT",
        "type TEXT",
        "target TEXT",
        "started_at INTEGER",
        "cause TEXT",
        "state TEXT",
        "since INTEGER",
        "took_ms INTEGER",
        "attempts INTEGER",
        "next_at INTEGER",
        "answers TEXT",
      ],
      { served_next: "next_at" },
    );
    ensureTable(sql, "name_servers", ["zone TEXT PRIMARY KEY", "list TEXT", "read_at INTEGER"]);
  }

  get(key: string): ServedRecord | undefined {
    const row = this.sql.exec<ServedRow>("SELECT * FROM served WHERE key = ?", key).toArray()[0];
    return row ? toRecord(row) : undefined;
  }

  all(): ServedRecord[] {
    return this.sql.exec<ServedRow>("SELECT * FROM served").toArray().map(toRecord);
  }

  /** Watches whose next ask is due at `now`. */
  due(now: number): ServedRecord[] {
    return this.sql
      .exec<ServedRow>("SELECT * FROM served WHERE next_at IS NOT NULL AND next_at <= ?", now)
      .toArray()
      .map(toRecord);
  }

  /** Unix ms of the earliest ask to come, or null. */
  nextAt(): number | null {
    const row = this.sql
      .exec<{ at: number | null }>("SELECT MIN(next_at) AS at FROM served WHERE next_at IS NOT NULL")
      .toArray()[0];
    return row?.at ?? null;
  }

  set(r: ServedRecord): void {
    this.sql.exec(
      "INSERT OR REPLACE INTO served (key, host, name, type, target, started_at, cause, state, since, took_ms, attempts, next_at, answers) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
      r.key,
      r.host,
      r.name,
      r.type,
      r.target,
      r.startedAt,
      r.cause,
      r.state,
      r.since,
      r.tookMs,
      r.attempts,
      r.nextAt,
      JSON.stringify(r.answers),
    );
  }

  /**
   * Write `r`, which followed from `was` (the row as it was read before the servers were asked),
   * unless a report replaced that row meanwhile: the newer watch wins.
   */
  update(r: ServedRecord, was: ServedRecord | undefined): void {
    const now = this.get(r.key);
    if (now?.startedAt !== was?.startedAt || now?.target !== was?.target) return;
    this.set(r);
  }

  delete(key: string): void {
    this.sql.exec("DELETE FROM served WHERE key = ?", key);
  }

  /** The name servers OVH last listed for `zone`, and when. */
  nameServers(zone: string): { list: string[]; readAt: number } | undefined {
    const row = this.sql
      .exec<{ list: string; read_at: number }>("SELECT list, read_at FROM name_servers WHERE zone = ?", zone)
      .toArray()[0];
    return row ? { list: JSON.parse(row.list) as string[], readAt: row.read_at } : undefined;
  }

  keepNameServers(zone: string, list: string[], at: number): void {
    this.sql.exec(
      "INSERT OR REPLACE INTO name_servers (zone, list, read_at) VALUES (?,?,?)",
      zone,
      JSON.stringify(list),
      at,
    );
  }
}

function toRecord(row: ServedRow): ServedRecord {
  return {
    key: row.key,
    host: row.host,
    name: row.name,
    type: row.type as ServedRecord["type"],
    target: row.target,
    startedAt: row.started_at,
    cause: row.cause === "check" ? "check" : "report",
    state: row.state as ServedRecord["state"],
    since: row.since,
    tookMs: row.took_ms,
    attempts: row.attempts,
    nextAt: row.next_at,
    answers: JSON.parse(row.answers) as ServedRecord["answers"],
  };
}
