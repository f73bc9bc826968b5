// The change limit (`change_limit` changes in `change_window`), counted per host and per writer:
// the client that reported and the network it reported from (sourceNetwork(), as the
// failed-login guard counts sources). A writer past the limit gets `abuse` for writes to that
// host; every other writer of the host is untouched, so a stolen credential used from
// elsewhere, or a second client sharing the host, cannot spend the real router's changes and
// lock it out of correcting the record (SECURITY.md says what this does and does not stop).
import { sourceNetwork } from "../../core/address";
import { ensureTable } from "./schema";

/** Who a change is counted against: the client and its source network. */
export function writerOf(client: string, source: string | undefined, ipv6Prefix: number): string {
  return `${client} ${sourceNetwork(source, ipv6Prefix)}`;
}

/** The changes each writer made to each host, in the coordinator's SQLite storage. */
export class ChangeLimit {
  constructor(private readonly sql: SqlStorage) {
    // `changes` (per host only) was the first layout; what it counted ages out within a window.
    sql.exec("DROP TABLE IF EXISTS changes");
    ensureTable(sql, "host_changes", ["host TEXT", "writer TEXT", "at INTEGER"], {
      host_changes_by: "host, writer, at",
    });
  }

  /**
   * The hosts `writer` may not write now, since its changes to them within the window (`windowMs`
   * before `now`) reached `limit`, each with the seconds until its oldest one ages out (at least 1).
   */
  limited(
    hosts: string[],
    writer: string,
    limit: number,
    windowMs: number,
    now: number,
  ): Map<string, number> {
    const over = new Map<string, number>();
    for (const host of new Set(hosts)) {
      const { n, oldest } = this.sql
        .exec<{ n: number; oldest: number | null }>(
          "SELECT COUNT(*) AS n, MIN(at) AS oldest FROM host_changes WHERE host = ? AND writer = ? AND at >= ?",
          host,
          writer,
          now - windowMs,
        )
        .one();
      if (n >= limit) over.set(host, Math.max(1, Math.ceil(((oldest ?? now) + windowMs - now) / 1000)));
    }
    return over;
  }

  /** Count one change of each host, and forget changes older than the window. */
  record(hosts: string[], writer: string, now: number, since: number): void {
    this.sql.exec("DELETE FROM host_changes WHERE at < ?", since);
    for (const host of hosts)
      this.sql.exec("INSERT INTO host_changes (host, writer, at) VALUES (?, ?, ?)", host, writer, now);
  }
}
