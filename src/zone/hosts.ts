// What the coordinator keeps per host to state its health (src/zone/health.ts says what follows
// from it), in its SQLite storage.
import type { HostRecord, LastReport, StoredHealth } from "./protocol";

/**
 * What the coordinator keeps per host, in its SQLite storage. Reads come from memory after the
 * first; writes are kept for flush(), which the coordinator runs with the history's.
 */
export class HostRecords {
  private readonly known = new Map<string, HostRecord | null>();
  private readonly dirty = new Set<string>();

  constructor(private readonly sql: SqlStorage) {
    sql.exec(
      "CREATE TABLE IF NOT EXISTS hosts (host TEXT PRIMARY KEY, last TEXT, accepted_at INTEGER, state TEXT, reason TEXT, since INTEGER)",
    );
  }

  get(host: string): HostRecord | undefined {
    if (!this.known.has(host)) {
      const row = this.sql.exec<HostRow>("SELECT * FROM hosts WHERE host = ?", host).toArray()[0];
      this.known.set(host, row ? toRecord(row) : null);
    }
    return this.known.get(host) ?? undefined;
  }

  set(host: string, record: HostRecord): void {
    this.known.set(host, record);
    this.dirty.add(host);
  }

  /** Write what changed since the last flush. */
  flush(): void {
    for (const host of this.dirty) {
      const r = this.known.get(host);
      if (!r) continue;
      this.sql.exec(
        "INSERT OR REPLACE INTO hosts (host, last, accepted_at, state, reason, since) VALUES (?,?,?,?,?,?)",
        host,
        JSON.stringify(r.last),
        r.acceptedAt,
        r.state,
        r.reason,
        r.since,
      );
    }
    this.dirty.clear();
  }
}

type HostRow = {
  host: string;
  last: string;
  accepted_at: number | null;
  state: string;
  reason: string;
  since: number | null;
};

function toRecord(row: HostRow): HostRecord {
  return {
    last: JSON.parse(row.last) as LastReport | null,
    acceptedAt: row.accepted_at,
    state: row.state as StoredHealth,
    reason: row.reason,
    since: row.since,
  };
}
