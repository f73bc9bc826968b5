// A zone's history of reports, in the coordinator's SQLite storage: one entry per host and
// report. Each host keeps its own last KEEP_PER_HOST entries that changed a record and its own
// last KEEP_PER_HOST that did not, so no client can push another host's history out, and a
// flood of unchanged reports cannot push out a change. A report that repeats the host's
// previous entry (same client, source, addresses, outcome and note; neither changed a record nor
// called OVH) adds to that entry's count instead of taking a new one, like syslog's "repeated N
// times".
import { CHECK_CLIENT, type HistoryEntry, type RecordChange } from "../protocol";
import { ensureTable } from "./schema";

/** Entries of each kind (changed a record, or not) each host keeps. */
export const KEEP_PER_HOST = 500;
/** Trimming costs a query; every TRIM_EVERY new entries of a host is enough (so a host may hold up to TRIM_EVERY - 1 more). */
const TRIM_EVERY = 50;
/** Refused reports for names that are not the client's (nohost) each client keeps. */
export const KEEP_NOHOST = 50;

/** What a new entry says of its report; what it did not change or call is left empty. */
export type EntryFields = Pick<HistoryEntry, "client" | "host" | "source" | "reported" | "outcome"> & {
  changes?: RecordChange[];
  queryIds?: string[];
  note?: string | undefined;
};

/** A new entry of one report at `at` (unix ms). */
export function historyEntry(at: number, fields: EntryFields): HistoryEntry {
  const { changes = [], queryIds = [], note, ...report } = fields;
  return { at, lastAt: at, repeats: 1, ...report, changes, queryIds, ...(note ? { note } : {}) };
}

export class History {
  /** Entries not written yet, in the order of their reports (see later()). */
  private waiting: HistoryEntry[] = [];
  /** The newest stored entry per host, as far as this instance knows it. */
  private readonly newest = new Map<string, { seq: number; entry: HistoryEntry }>();
  /** New entries per host since this instance started (a host is trimmed at its first). */
  private readonly added = new Map<string, number>();

  constructor(private readonly sql: SqlStorage) {
    // Not named history: that table, of the unreleased 0.1 layout, has no repeats.
    ensureTable(
      sql,
      "reports",
      [
        "seq INTEGER PRIMARY KEY AUTOINCREMENT",
        "at INTEGER",
        "last_at INTEGER",
        "repeats INTEGER",
        "client TEXT",
        "host TEXT",
        "source TEXT",
        "reported TEXT",
        "outcome TEXT",
        "changed INTEGER",
        "changes TEXT",
        "query_ids TEXT",
        // Added after the first layout (NULL in older rows).
        "note TEXT",
      ],
      { reports_host: "host, at", reports_host_kind: "host, changed, seq" },
    );
  }

  /** Write the entries now (with any still waiting, in order). */
  add(entries: HistoryEntry[]): void {
    this.waiting.push(...entries);
    this.flush();
  }

  /**
   * Write the entries just after the reply: the history is an audit trail, and this spares an
   * unchanged report a durable write before its answer.
   */
  later(entries: HistoryEntry[]): void {
    if (entries.length > 0 && this.waiting.length === 0) setTimeout(() => this.flush(), 0);
    this.waiting.push(...entries);
  }

  /**
   * The newest `limit` entries of these hosts, and of the refused reports `client` made for
   * names that are not its own, newest first. Another client's refused names stay out.
   */
  recent(hosts: string[], client: string, limit: number): HistoryEntry[] {
    this.flush();
    const marks = hosts.map(() => "?").join(",");
    return this.sql
      .exec<HistoryRow>(
        `SELECT * FROM reports WHERE (host IN (${marks}) AND outcome != 'nohost') OR (client = ? AND outcome = 'nohost') ORDER BY seq DESC LIMIT ?`,
        ...hosts,
        client,
        limit,
      )
      .toArray()
      .map(toEntry);
  }

  /** The newest entry of a host that a client's report made (the scheduled check's aside). */
  newestReport(host: string): HistoryEntry | undefined {
    this.flush();
    const row = this.sql
      .exec<HistoryRow>(
        "SELECT * FROM reports WHERE host = ? AND client != ? ORDER BY seq DESC LIMIT 1",
        host,
        CHECK_CLIENT,
      )
      .toArray()[0];
    return row && toEntry(row);
  }

  /** Write the waiting entries, in order: each repeats the host's newest entry, or is a new one. */
  private flush(): void {
    for (const e of this.waiting) {
      const last = this.last(e.host);
      if (last && repeats(last.entry, e)) this.repeat(last, e);
      else if (e.outcome === "nohost") this.insertNohost(e);
      else this.insert(e);
    }
    this.waiting = [];
  }

  /** Count `e` as one more of the host's newest entry. */
  private repeat(last: { seq: number; entry: HistoryEntry }, e: HistoryEntry): void {
    last.entry.repeats += e.repeats;
    last.entry.lastAt = Math.max(last.entry.lastAt, e.lastAt);
    this.sql.exec(
      "UPDATE reports SET repeats = ?, last_at = ? WHERE seq = ?",
      last.entry.repeats,
      last.entry.lastAt,
      last.seq,
    );
  }

  /** A new entry of one of the client's hosts; every TRIM_EVERY of them, the host's oldest of that kind go. */
  private insert(e: HistoryEntry): void {
    this.newest.set(e.host, { seq: this.write(e), entry: { ...e } });
    const added = this.added.get(e.host) ?? 0;
    this.added.set(e.host, added + 1);
    if (added % TRIM_EVERY !== 0) return;
    // Only older entries of this host and kind go: the host's newest entry (this one) stays.
    const changed = e.changes.length > 0 ? 1 : 0;
    this.sql.exec(
      "DELETE FROM reports WHERE host = ? AND changed = ? AND seq <= (SELECT seq FROM reports WHERE host = ? AND changed = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)",
      e.host,
      changed,
      e.host,
      changed,
      KEEP_PER_HOST,
    );
  }

  /**
   * A new entry of a name that is not the client's. Such names are any names: their entries are
   * capped per client, not per name, so made-up names cannot grow the table.
   */
  private insertNohost(e: HistoryEntry): void {
    this.write(e);
    this.sql.exec(
      "DELETE FROM reports WHERE client = ? AND outcome = 'nohost' AND seq <= (SELECT seq FROM reports WHERE client = ? AND outcome = 'nohost' ORDER BY seq DESC LIMIT 1 OFFSET ?)",
      e.client,
      e.client,
      KEEP_NOHOST,
    );
    this.newest.delete(e.host);
  }

  /** Store one entry; its sequence number. */
  private write(e: HistoryEntry): number {
    return this.sql
      .exec<{ seq: number }>(
        "INSERT INTO reports (at, last_at, repeats, client, host, source, reported, outcome, changed, changes, query_ids, note) VALUES (?,?,?,?,?,?,?,?,?,?,?,?) RETURNING seq",
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
        e.note ?? null,
      )
      .one().seq;
  }

  private last(host: string): { seq: number; entry: HistoryEntry } | undefined {
    let last = this.newest.get(host);
    if (!last) {
      const row = this.sql
        .exec<HistoryRow>("SELECT * FROM reports WHERE host = ? ORDER BY seq DESC LIMIT 1", host)
        .toArray()[0];
      if (!row) return undefined;
      last = { seq: row.seq, entry: toEntry(row) };
      this.newest.set(host, last);
    }
    return last;
  }
}

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
  note: string | null;
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
    ...(row.note ? { note: row.note } : {}),
  };
}

/** Whether `b` repeats `a`: the same report again (and the same note), and neither changed a record or called OVH. */
function repeats(a: HistoryEntry, b: HistoryEntry): boolean {
  return (
    a.changes.length + a.queryIds.length + b.changes.length + b.queryIds.length === 0 &&
    a.client === b.client &&
    a.source === b.source &&
    a.reported === b.reported &&
    a.outcome === b.outcome &&
    a.note === b.note
  );
}
