// What the coordinator keeps per host to state its health (src/zone/health/state.ts says what follows
// from it), in its SQLite storage. A record is written when something a person reads in it
// changes; an unchanged report moves only its times, which the history's newest entry of the
// host already keeps exactly, so those are written at most once per PERSIST_AFTER_MS.
import type { DriftCount, HostRecord, LastReport, StoredHealth } from "../protocol";
import { ensureTable } from "./schema";

const PERSIST_AFTER_MS = 3_600_000;

/** The newest report of a host as its history keeps it (the scheduled check's entries aside). */
export type NewestReport = (
  host: string,
) => (Pick<LastReport, "client" | "source" | "outcome"> & { lastAt: number }) | undefined;

/** Outcomes of reports that were refused before they reached the coordinator's reconcile. */
const REFUSED = new Set(["badrequest", "nohost"]);

/**
 * What the coordinator keeps per host, in its SQLite storage. Reads come from memory after the
 * first; writes are kept for flush(), which the coordinator runs with the history's.
 */
export class HostRecords {
  private readonly known = new Map<string, HostRecord | null>();
  /** As last written or read, to tell whether a new record needs a write. */
  private readonly stored = new Map<string, HostRecord>();
  private readonly dirty = new Set<string>();

  constructor(
    private readonly sql: SqlStorage,
    private readonly newestReport: NewestReport,
  ) {
    ensureTable(sql, "hosts", [
      "host TEXT PRIMARY KEY",
      "last TEXT",
      "accepted_at INTEGER",
      "state TEXT",
      "reason TEXT",
      "since INTEGER",
      // Added after the first layout (NULL in older rows: no targets, no drift).
      "targets TEXT",
      "drift TEXT",
    ]);
  }

  /** Every host this zone keeps a record of. */
  hosts(): string[] {
    return this.sql
      .exec<{ host: string }>("SELECT host FROM hosts")
      .toArray()
      .map((r) => r.host);
  }

  get(host: string): HostRecord | undefined {
    if (!this.known.has(host)) {
      const row = this.sql.exec<HostRow>("SELECT * FROM hosts WHERE host = ?", host).toArray()[0];
      const record = row ? toRecord(row) : undefined;
      if (record) this.stored.set(host, record);
      this.known.set(host, record ? this.withNewest(host, record) : null);
    }
    return this.known.get(host) ?? undefined;
  }

  set(host: string, record: HostRecord): void {
    this.known.set(host, record);
    const stored = this.stored.get(host);
    if (!stored || needsWrite(stored, record)) this.dirty.add(host);
  }

  /**
   * `host` now writes the records `keys` (record keys new to its targets): no other host keeps a
   * target for them, so the scheduled check never writes back what another host asked before a
   * record moved to this one in the configuration (and maybe back).
   */
  takeOver(host: string, keys: string[]): void {
    if (keys.length === 0) return;
    for (const other of new Set([...this.hosts(), ...this.known.keys()])) {
      const record = other === host ? undefined : this.get(other);
      if (!record || !keys.some((k) => k in record.targets)) continue;
      const targets = { ...record.targets };
      for (const k of keys) delete targets[k];
      this.set(other, { ...record, targets });
    }
  }

  /** Write what changed since the last flush. */
  flush(): void {
    for (const host of this.dirty) {
      const r = this.known.get(host);
      if (!r) continue;
      this.sql.exec(
        "INSERT OR REPLACE INTO hosts (host, last, accepted_at, state, reason, since, targets, drift) VALUES (?,?,?,?,?,?,?,?)",
        host,
        JSON.stringify(r.last),
        r.acceptedAt,
        r.state,
        r.reason,
        r.since,
        JSON.stringify(r.targets),
        r.drift ? JSON.stringify(r.drift) : null,
      );
      this.stored.set(host, r);
    }
    this.dirty.clear();
  }

  /** The record with the times of the host's newest report in the history, when it is the same report. */
  private withNewest(host: string, record: HostRecord): HostRecord {
    const newest = this.newestReport(host);
    const last = record.last;
    if (!newest || !last || newest.lastAt <= last.at) return record;
    if (newest.client !== last.client || newest.source !== last.source || newest.outcome !== last.outcome)
      return record;
    const acceptedAt = REFUSED.has(newest.outcome) ? record.acceptedAt : newest.lastAt;
    return { ...record, last: { ...last, at: newest.lastAt }, acceptedAt };
  }
}

/** Whether `next` differs from the stored record in more than times that moved less than PERSIST_AFTER_MS. */
function needsWrite(stored: HostRecord, next: HostRecord): boolean {
  const a = stored.last;
  const b = next.last;
  const moved = (from: number | null | undefined, to: number | null | undefined) =>
    (from === null || from === undefined) !== (to === null || to === undefined) ||
    (to ?? 0) - (from ?? 0) >= PERSIST_AFTER_MS;
  return (
    stored.state !== next.state ||
    stored.reason !== next.reason ||
    stored.since !== next.since ||
    JSON.stringify(stored.targets) !== JSON.stringify(next.targets) ||
    JSON.stringify(stored.drift) !== JSON.stringify(next.drift) ||
    a?.client !== b?.client ||
    a?.source !== b?.source ||
    a?.agent !== b?.agent ||
    a?.outcome !== b?.outcome ||
    moved(stored.acceptedAt, next.acceptedAt) ||
    moved(a?.at, b?.at)
  );
}

type HostRow = {
  host: string;
  last: string;
  accepted_at: number | null;
  state: string;
  reason: string;
  since: number | null;
  targets: string | null;
  drift: string | null;
};

function toRecord(row: HostRow): HostRecord {
  return {
    last: JSON.parse(row.last) as LastReport | null,
    acceptedAt: row.accepted_at,
    state: row.state as StoredHealth,
    reason: row.reason,
    since: row.since,
    targets: row.targets ? (JSON.parse(row.targets) as Record<string, string>) : {},
    ...(row.drift ? { drift: JSON.parse(row.drift) as Record<string, DriftCount> } : {}),
  };
}
