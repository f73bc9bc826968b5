// Records a report could not finish (held back by the pace, the call budget or its deadline),
// kept in the coordinator's SQLite storage until its alarm continues them. One row per record:
// a later report of the same record replaces it.
import type { Config } from "../../config";
import type { Desired } from "../../core/plan";
import { keyOf, type ZoneBatch, zoneBatch } from "../protocol";
import { ensureTable } from "./schema";

type PendingRow = {
  key: string;
  zone: string;
  host: string;
  target: string;
  client: string;
  source: string | null;
  agent: string | null;
  reported: string;
};

export class Pending {
  constructor(private readonly sql: SqlStorage) {
    ensureTable(sql, "pending", [
      "key TEXT PRIMARY KEY",
      "zone TEXT",
      "host TEXT",
      "target TEXT",
      "client TEXT",
      "source TEXT",
      "agent TEXT",
      "reported TEXT",
    ]);
  }

  /** Forget these records: a newer report takes them over. */
  drop(desired: Desired[]): void {
    for (const d of desired) this.sql.exec("DELETE FROM pending WHERE key = ?", keyOf(d));
  }

  /** Keep these records of `batch` for later. */
  keep(batch: ZoneBatch, desired: Desired[]): void {
    for (const d of desired) {
      this.sql.exec(
        "INSERT OR REPLACE INTO pending (key, zone, host, target, client, source, agent, reported) VALUES (?,?,?,?,?,?,?,?)",
        keyOf(d),
        batch.zone,
        d.host,
        d.target,
        batch.client,
        batch.source ?? null,
        batch.agent,
        batch.reported,
      );
    }
  }

  /**
   * What is pending, as batches (one per client, source and report), planned again from the
   * configuration: a record no longer configured is dropped.
   */
  batches(config: Config): ZoneBatch[] {
    const batches = new Map<string, ZoneBatch>();
    for (const row of this.sql.exec<PendingRow>("SELECT * FROM pending").toArray()) {
      const spec = config.hosts.get(row.host)?.records.find((r) => keyOf(r) === row.key);
      if (!spec) {
        this.sql.exec("DELETE FROM pending WHERE key = ?", row.key);
        continue;
      }
      const id = JSON.stringify([row.client, row.source, row.agent, row.reported]);
      let batch = batches.get(id);
      if (!batch) {
        const { client, agent, reported } = row;
        batch = zoneBatch(row.zone, { client, source: row.source ?? undefined, agent, reported });
        batches.set(id, batch);
      }
      batch.desired.push({ host: row.host, spec, target: row.target });
      if (!batch.hosts.includes(row.host)) batch.hosts.push(row.host);
    }
    return [...batches.values()];
  }
}
