// The notifier: one small Durable Object (SQLite-backed, named "notify") that sends every event
// to the NOTIFY_URLS targets. It is one object, not a table in each zone's coordinator, because
// events come from every zone and from the Worker itself (an invalid configuration), and both
// the "once per host and kind per hour" rule (src/notify/dedupe.ts) and the retry queue are
// account-wide.
//
//   - an event of a kind and host already sent within the hour is held back and counted; the
//     next message of that kind and host says how many were, and the scheduled check sends
//     what is still held once its hour is over
//   - a failed delivery is logged and tried once more at the next scheduled check
//   - a client's test message goes to every target at most once a minute
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import { log } from "../log";
import type { HealthEvent } from "../zone/protocol";
import { admit, release, type Sent, testWait } from "./dedupe";
import { type Delivery, deliver } from "./send";
import { parseTargets, type Target } from "./targets";

/** A test message's result: per target, by label, delivered or why not; what is wrong with NOTIFY_URLS (positions and services only). */
export interface TestResult {
  targets: Delivery[];
  errors: string[];
}

/** A test message's result, or how long the client must wait for its next one. */
export type TestAnswer = TestResult | { waitMs: number };

export class Notifier extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(
      "CREATE TABLE IF NOT EXISTS sent (kind TEXT, host TEXT, at INTEGER, held INTEGER, held_since INTEGER, last TEXT, PRIMARY KEY (kind, host));" +
        "CREATE TABLE IF NOT EXISTS pending (id INTEGER PRIMARY KEY AUTOINCREMENT, target TEXT, event TEXT);" +
        "CREATE TABLE IF NOT EXISTS tests (client TEXT PRIMARY KEY, at INTEGER)",
    );
  }

  /** Send the events that are not held back; answers what each delivery did. */
  async notify(events: HealthEvent[]): Promise<Delivery[]> {
    const now = Date.now();
    const due = events.flatMap((event) => {
      const host = event.host ?? "";
      const { send, keep } = admit(this.sent(event.kind, host), event, now);
      this.keep(event.kind, host, keep);
      return send ? [send] : [];
    });
    return this.send(due);
  }

  /** A test message (`event`, asked for by `client`) to every target now, unless the client had one within the minute. */
  async test(client: string, event: HealthEvent): Promise<TestAnswer> {
    const { targets, errors } = parseTargets(this.env.NOTIFY_URLS);
    if (targets.length === 0) return { targets: [], errors };
    const last = this.sql.exec<{ at: number }>("SELECT at FROM tests WHERE client = ?", client).toArray()[0];
    const waitMs = testWait(last?.at, event.at);
    if (waitMs > 0) return { waitMs };
    this.sql.exec("INSERT OR REPLACE INTO tests (client, at) VALUES (?, ?)", client, event.at);
    return { targets: await Promise.all(targets.map((t) => deliver(t, event))), errors };
  }

  /**
   * At the scheduled check (`at`: the time it stands for): what is still held once its hour is
   * over, then one more try of each failed delivery.
   */
  async check(at: number): Promise<Delivery[]> {
    const held = this.sql
      .exec<SentRow>("SELECT * FROM sent WHERE held > 0")
      .toArray()
      .flatMap((row) => {
        const kind = row.kind as HealthEvent["kind"];
        const { send, keep } = release(toSent(row), kind, row.host || undefined, at);
        this.keep(row.kind, row.host, keep);
        return send ? [send] : [];
      });
    const retries = this.sql.exec<PendingRow>("SELECT * FROM pending ORDER BY id").toArray();
    this.sql.exec("DELETE FROM pending");
    const targets = this.targets();
    const again = retries.flatMap((r) => {
      const target = targets.find((t) => t.label === r.target);
      return target ? [this.deliverLogged(target, JSON.parse(r.event) as HealthEvent, "retry")] : [];
    });
    return [...(await this.send(held)), ...(await Promise.all(again))];
  }

  private send(events: HealthEvent[]): Promise<Delivery[]> {
    const targets = this.targets();
    return Promise.all(events.flatMap((e) => targets.map((t) => this.deliverLogged(t, e, "first"))));
  }

  private async deliverLogged(
    target: Target,
    event: HealthEvent,
    attempt: "first" | "retry",
  ): Promise<Delivery> {
    const delivery = await deliver(target, event);
    const about = { kind: event.kind, host: event.host, target: target.label };
    if (delivery.delivered) {
      if (attempt === "retry")
        log("notify", { ...about, delivered: true, note: "delivered when tried again" });
      return delivery;
    }
    if (attempt === "first")
      this.sql.exec("INSERT INTO pending (target, event) VALUES (?, ?)", target.label, JSON.stringify(event));
    const note = attempt === "first" ? "tried again at the next scheduled check" : "tried twice; given up";
    log("notify", { ...about, delivered: false, error: delivery.error, note });
    return delivery;
  }

  private sent(kind: string, host: string): Sent | undefined {
    const row = this.sql
      .exec<SentRow>("SELECT * FROM sent WHERE kind = ? AND host = ?", kind, host)
      .toArray()[0];
    return row && toSent(row);
  }

  private keep(kind: string, host: string, s: Sent): void {
    this.sql.exec(
      "INSERT OR REPLACE INTO sent (kind, host, at, held, held_since, last) VALUES (?, ?, ?, ?, ?, ?)",
      kind,
      host,
      s.at,
      s.held,
      s.heldSince,
      s.last,
    );
  }

  private targets(): Target[] {
    return parseTargets(this.env.NOTIFY_URLS).targets;
  }
}

type SentRow = {
  kind: string;
  host: string;
  at: number;
  held: number;
  held_since: number | null;
  last: string;
};
type PendingRow = { id: number; target: string; event: string };

function toSent(row: SentRow): Sent {
  return { at: row.at, held: row.held, heldSince: row.held_since, last: row.last };
}
