// The remembered records of the zone (src/zone/reconcile.ts reads and updates them), in SQLite
// and, once read, in memory as well: the coordinator is the only writer of its storage, and a
// failed storage write resets the object.
import type { RecordState } from "../protocol";
import type { RecordMemory } from "../reconcile";
import { ensureTable } from "./schema";

type RecordRow = {
  key: string;
  id: number | null;
  target: string;
  ttl: number;
  confirmed_at: number;
  changed_at: number;
  unconfirmed: number | null;
};

export class StoredRecords implements RecordMemory {
  private cache: Map<string, RecordState> | undefined;

  constructor(private readonly sql: SqlStorage) {
    ensureTable(sql, "records", [
      "key TEXT PRIMARY KEY",
      "id INTEGER",
      "target TEXT",
      "ttl INTEGER",
      "confirmed_at INTEGER",
      "changed_at INTEGER",
      // Added after the first layout: a write sent and not confirmed (RecordState.unconfirmed).
      "unconfirmed INTEGER",
    ]);
  }

  get(key: string): RecordState | undefined {
    return this.all().get(key);
  }

  set(key: string, s: RecordState): void {
    this.sql.exec(
      "INSERT OR REPLACE INTO records (key, id, target, ttl, confirmed_at, changed_at, unconfirmed) VALUES (?,?,?,?,?,?,?)",
      key,
      s.id,
      s.target,
      s.ttl,
      s.confirmedAt,
      s.changedAt,
      s.unconfirmed ? 1 : null,
    );
    this.all().set(key, { ...s });
  }

  delete(key: string): void {
    this.sql.exec("DELETE FROM records WHERE key = ?", key);
    this.all().delete(key);
  }

  private all(): Map<string, RecordState> {
    if (!this.cache) {
      this.cache = new Map();
      for (const row of this.sql.exec<RecordRow>("SELECT * FROM records")) {
        const { key, id, target, ttl, confirmed_at: confirmedAt, changed_at: changedAt } = row;
        this.cache.set(key, {
          id,
          target,
          ttl,
          confirmedAt,
          changedAt,
          ...(row.unconfirmed ? { unconfirmed: true } : {}),
        });
      }
    }
    return this.cache;
  }
}
