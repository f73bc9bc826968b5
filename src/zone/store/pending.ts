// The zone's job (src/zone/job.ts): the records reports asked for that are not served yet, each
// with the report it answers and its progress (what was listed, read, planned and written), kept
// in the coordinator's SQLite storage between continuations, so an evicted coordinator goes on
// where it stopped. One row per record: a later report of the same record takes it over.
import type { Config } from "../../config";
import type { JobRecord, Progress } from "../job";
import { keyOf } from "../protocol";
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
  progress: string | null;
  prefix: string | null;
};

export class Pending {
  /** Rows stored, as this instance knows them (a save that changes nothing writes nothing). */
  private stored: string | undefined;
  private inJob: Set<string> | undefined;

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
      // Added with the job's progress: NULL (nothing learnt yet) in older rows.
      "progress TEXT",
      "prefix TEXT",
    ]);
  }

  /**
   * The job, planned again from the configuration: a record no longer configured is dropped.
   */
  job(config: Config): JobRecord[] {
    const job: JobRecord[] = [];
    let dropped = false;
    for (const row of this.sql.exec<PendingRow>("SELECT * FROM pending ORDER BY rowid").toArray()) {
      const spec = config.hosts.get(row.host)?.records.find((r) => keyOf(r) === row.key);
      if (!spec) {
        dropped = true;
        continue;
      }
      const { client, agent, reported } = row;
      const progress = row.progress ? (JSON.parse(row.progress) as Progress) : {};
      job.push({
        d: { host: row.host, spec, target: row.target, ...(row.prefix ? { prefix: row.prefix } : {}) },
        origin: { client, source: row.source ?? undefined, agent, reported },
        progress,
      });
    }
    this.stored = dropped ? undefined : JSON.stringify(job);
    return job;
  }

  /** How many records the job has left. */
  size(): number {
    return this.keys().size;
  }

  /** The record keys in the job. */
  keys(): ReadonlySet<string> {
    this.inJob ??= new Set(
      this.sql
        .exec<{ key: string }>("SELECT key FROM pending")
        .toArray()
        .map((r) => r.key),
    );
    return this.inJob;
  }

  /** Keep `job` as the zone's job (what is not in it is done). */
  save(job: JobRecord[]): void {
    const image = JSON.stringify(job);
    if (image === this.stored) return;
    this.sql.exec("DELETE FROM pending");
    for (const { d, origin, progress } of job)
      this.sql.exec(
        "INSERT INTO pending (key, zone, host, target, client, source, agent, reported, progress, prefix) VALUES (?,?,?,?,?,?,?,?,?,?)",
        keyOf(d),
        d.spec.zone,
        d.host,
        d.target,
        origin.client,
        origin.source ?? null,
        origin.agent,
        origin.reported,
        JSON.stringify(progress),
        d.prefix ?? null,
      );
    this.stored = image;
    this.inJob = new Set(job.map((r) => keyOf(r.d)));
  }
}
