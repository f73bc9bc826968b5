// The per-zone coordinator: one Durable Object (SQLite-backed) owns each OVH zone. Every report
// for the zone goes through it, one at a time, so two reports that arrive together cannot both
// create a record. It remembers each record's id and target (src/zone/store/records.ts), so an
// unchanged report costs no OVH call; it keeps the zone's history, each host's health record and
// each writer's changes for the change limit (src/zone/store/), runs the zone's scheduled check
// (src/zone/health/check.ts) in turn with the reports, and hands what its reports changed in the
// hosts' health to the notifier. After a change it watches the zone's name servers serve it
// (src/zone/watch.ts), from its alarm.
import { DurableObject } from "cloudflare:workers";
import { type Config, loadConfig, staleAfterOf } from "../config";
import { clockNow } from "../core/clock";
import type { Desired } from "../core/plan";
import { tcpConnect } from "../dns/tcp";
import type { Env } from "../env";
import { notify } from "../notify/notify";
import { CallPolicy, type Job } from "../ovh/calls";
import { zoneNameServers } from "../ovh/records";
import { checkZone } from "./health/check";
import { afterRefusal, afterReport, healthOf, noteFor, transitions } from "./health/state";
import {
  type CheckReport,
  describeChange,
  fqdnOf,
  type Health,
  type HealthEvent,
  type HistoryEntry,
  type HostRecord,
  type HostResult,
  keyOf,
  REPORT_DEADLINE_MS,
  type RecordState,
  type RefusedBatch,
  type ServedCheck,
  type ZoneBatch,
  type ZoneReport,
  type ZoneStatus,
} from "./protocol";
import { answeredFromMemory, type HostAnswer, hostResult, reconcile } from "./reconcile";
import { History, historyEntry } from "./store/history";
import { HostRecords } from "./store/hosts";
import { ChangeLimit, writerOf } from "./store/limit";
import { Pending } from "./store/pending";
import { StoredRecords } from "./store/records";
import { ServedRecords } from "./store/served";
import { Watch, type Watched } from "./watch";

/** "Check now" runs at most once in this many milliseconds per client. */
const CHECK_NOW_EVERY_MS = 10_000;

export class ZoneCoordinator extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private readonly records: StoredRecords;
  private readonly limit: ChangeLimit;
  private readonly history: History;
  private readonly hostRecords: HostRecords;
  private readonly pending: Pending;
  /** The report being applied: the next one starts when it has finished. */
  private tail: Promise<unknown> = Promise.resolve();
  /** Record keys of the reports queued or being applied, with how many of them. */
  private readonly busy = new Map<string, number>();
  /** The breaker and pace shared by every job of the zone (src/ovh/calls.ts). */
  private calls: CallPolicy | undefined;
  /** Whether the name servers serve what was written (src/zone/watch.ts). */
  private readonly watch: Watch;
  /** When each client last ran "Check now". */
  private readonly checkedNow = new Map<string, number>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    // The changes are counted apart from the history, whose entries could push them out.
    this.limit = new ChangeLimit(this.sql);
    this.records = new StoredRecords(this.sql);
    this.history = new History(this.sql);
    const history = this.history;
    this.hostRecords = new HostRecords(this.sql, (host) => history.newestReport(host));
    this.pending = new Pending(this.sql);
    this.watch = new Watch({
      store: new ServedRecords(this.sql),
      hosts: this.hostRecords,
      connect: tcpConnect,
      readNameServers: (zone) => zoneNameServers(this.job(zone, Date.now()).client, zone),
    });
  }

  /**
   * Apply one report's targets for this zone, after every earlier report has finished. A report
   * that memory answers (nothing to write or read) and that no queued report touches is answered
   * at once: it never waits behind writes.
   */
  apply(batch: ZoneBatch): Promise<ZoneReport> {
    const arrived = Date.now();
    const config = loadConfig(this.env);
    const keys = batch.desired.map(keyOf);
    const recheckAfterMs = config.ok ? config.value.settings.recheckAfter * 1000 : 0;
    if (
      keys.every((k) => !this.busy.has(k)) &&
      answeredFromMemory(batch.desired, (k) => this.records.get(k), clockNow(), recheckAfterMs)
    )
      return this.applyNow(batch, arrived);
    for (const k of keys) this.busy.set(k, (this.busy.get(k) ?? 0) + 1);
    const done = () => {
      for (const k of keys) {
        const n = (this.busy.get(k) ?? 1) - 1;
        if (n > 0) this.busy.set(k, n);
        else this.busy.delete(k);
      }
    };
    const run = this.inTurn(() => this.applyNow(batch, arrived));
    run.then(done, done);
    return run;
  }

  /** Continue the records reports could not finish (paced, or out of time or calls). */
  override async alarm(): Promise<void> {
    const config = loadConfig(this.env);
    if (!config.ok) return;
    for (const batch of this.pending.batches(config.value)) await this.apply(batch);
    // The name servers, asked apart from the reports: a report never waits for them.
    try {
      const round = await this.watch.due(config.value, Date.now());
      if (round.events.length > 0) this.ctx.waitUntil(notify(this.env, round.events));
    } finally {
      await this.wakeForWatch();
    }
  }

  /** Run the alarm at `at`, or sooner if it is already due sooner (the pace's and the watch's share it). */
  private async wakeAt(at: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    if (current === null || at < current) await this.ctx.storage.setAlarm(at);
  }

  private async wakeForWatch(): Promise<void> {
    const at = this.watch.nextAt();
    if (at !== null) await this.wakeAt(at);
  }

  /**
   * "Check now" on the status page: ask the name servers about every record of the zone at once,
   * at most once per CHECK_NOW_EVERY_MS per client.
   */
  async checkNow(zone: string, client: string): Promise<ServedCheck | { retryAfter: number }> {
    const now = Date.now();
    const last = this.checkedNow.get(client) ?? 0;
    if (now - last < CHECK_NOW_EVERY_MS)
      return { retryAfter: Math.ceil((last + CHECK_NOW_EVERY_MS - now) / 1000) };
    this.checkedNow.set(client, now);
    const round = await this.watch.all(zone, this.config(), this.records, false, now);
    if (round.events.length > 0) this.ctx.waitUntil(notify(this.env, round.events));
    await this.wakeForWatch();
    const { records, servers, problem } = round;
    return { records, servers, ...(problem ? { problem } : {}) };
  }

  /**
   * The scheduled check of this zone (src/zone/health/check.ts), in turn with the reports. `at` is the
   * time the check stands for (the cron's scheduled time), for staleness.
   */
  async check(zone: string, at: number): Promise<CheckReport> {
    const { config, outcome, client } = await this.inTurn(async () => {
      const config = this.config();
      const now = clockNow();
      // Through the zone's breaker and pace, like a report: a call held back is left to the next check.
      const { api, client } = this.job(zone, Date.now());
      const input = { config, api, memory: this.records, hosts: this.hostRecords };
      const outcome = await checkZone(zone, { ...input, now, at });
      this.history.add(outcome.entries);
      this.hostRecords.flush();
      return { config, outcome, client };
    });
    // Then what the name servers serve, against what is now written (OVH's list of them read
    // again), out of the reports' turn: a report never waits for a name server.
    const round = await this.watch.all(zone, config, this.records, true, Date.now());
    await this.wakeForWatch();
    const { checked: hosts, notes } = outcome;
    const events = [...outcome.events, ...round.events];
    if (round.problem) notes.push(round.problem);
    const attention = [...config.hosts.values()]
      .filter((h) => h.zone === zone)
      .map((h) => ({ host: h.name, state: this.hostRecords.get(h.name)?.state ?? "ok" }))
      .filter((h) => h.state !== "ok")
      .map((h) => `${h.host}: ${h.state}`);
    const { calls, queryIds } = client;
    return { zone, hosts, events, notes, ovhCalls: calls.length, queryIds, attention };
  }

  /** Run `work` after everything before it has finished (reports and checks, one at a time). */
  private inTurn<T>(work: () => Promise<T>): Promise<T> {
    const run = this.tail.then(work, work);
    this.tail = run.catch(() => undefined);
    return run;
  }

  private config(): Config {
    const config = loadConfig(this.env);
    if (!config.ok) throw new Error(`invalid configuration: ${config.errors.join("; ")}`);
    return config.value;
  }

  /** Keep a refused report of an authenticated client in the history (and as its hosts' last report). */
  refuse(batch: RefusedBatch): void {
    const now = clockNow();
    const { client, source = null, agent, reported } = batch;
    this.history.later(
      batch.hosts.map(({ host, outcome, note }) => {
        if (outcome !== "nohost") {
          const last = { at: now, client, source, agent, outcome };
          this.hostRecords.set(host, afterRefusal(this.hostRecords.get(host), last));
        }
        return historyEntry(now, { client, host, source, reported, outcome, note });
      }),
    );
    this.persistLater();
  }

  /**
   * Remembered records (by record key), health records and health of the given hosts, and the
   * recent history of those hosts and of the client's refused reports.
   */
  status(keys: string[], hosts: string[], client: string, limit = 50): ZoneStatus {
    const records: Record<string, RecordState> = {};
    for (const key of keys) {
      const state = this.records.get(key);
      if (state) records[key] = state;
    }
    const config = loadConfig(this.env);
    const now = clockNow();
    const kept: Record<string, HostRecord> = {};
    const health: Record<string, Health> = {};
    for (const host of hosts) {
      const record = this.hostRecords.get(host);
      if (record) kept[host] = record;
      const spec = config.ok ? config.value.hosts.get(host) : undefined;
      const staleAfter = config.ok && spec ? staleAfterOf(spec, config.value.settings) : 0;
      health[host] = healthOf(record, staleAfter, now);
    }
    const served = this.watch.status(keys);
    return { records, history: this.history.recent(hosts, client, limit), hosts: kept, health, served };
  }

  /** Reconcile the batch, keep what it did (health, history, changes, what is left to do), and notify. */
  private async applyNow(batch: ZoneBatch, arrived: number): Promise<ZoneReport> {
    const { settings } = this.config();
    const now = clockNow();
    const writer = writerOf(batch.client, batch.source, settings.authIpv6Prefix);
    this.pending.drop(batch.desired); // this report takes them over
    // No call starts once it could not end before the report's deadline.
    const { api, client } = this.job(batch.zone, arrived);
    const windowMs = settings.changeWindow * 1000;
    const result = await reconcile(api, batch.zone, batch.desired, this.records, {
      now,
      recheckAfterMs: settings.recheckAfter * 1000,
      limited: this.limit.limited(batch.hosts, writer, settings.changeLimit, windowMs, now),
    });
    const answers = batch.hosts.map((host) => ({ host, answer: result.hosts.get(host) ?? NOCHG }));
    const hosts = answers.map(({ host, answer }) => ({ host, result: hostResult(answer) }));
    const { entries, events } = this.noteReports(batch, hosts, client.queryIds, now);
    this.keep(entries, writer, now, now - windowMs);
    await this.continueLater(batch, answers);
    await this.watchChanges(batch, hosts, now);
    if (events.length > 0) this.ctx.waitUntil(notify(this.env, events));
    const { queryIds } = client;
    return { zone: batch.zone, hosts, notes: result.notes, ovhCalls: client.calls.length, queryIds };
  }

  /** Each host's health after the report: its history entry, and the events a person should hear of. */
  private noteReports(
    batch: ZoneBatch,
    hosts: { host: string; result: HostResult }[],
    queryIds: string[],
    now: number,
  ): { entries: HistoryEntry[]; events: HealthEvent[] } {
    const { client, source = null, agent, reported } = batch;
    const events: HealthEvent[] = [];
    const entries = hosts.map(({ host, result: r }) => {
      const prior = this.hostRecords.get(host);
      const last = { at: now, client, source, agent, outcome: r.status };
      const next = afterReport(prior, last, r, targetsOf(batch.desired, host));
      this.hostRecords.set(host, next);
      this.hostRecords.takeOver(
        host,
        Object.keys(next.targets).filter((k) => !(k in (prior?.targets ?? {}))),
      );
      if (r.status === "good" && r.changes.length > 0)
        events.push({
          kind: "changed",
          host,
          at: now,
          message: `${host}: ${r.changes.map(describeChange).join(", ")}`,
        });
      events.push(...transitions(host, prior, next, r, now));
      const changes = r.status === "good" ? r.changes : [];
      const note = noteFor(batch.notes[host], r);
      return historyEntry(now, {
        client,
        host,
        source,
        reported,
        outcome: r.status,
        changes,
        queryIds,
        note,
      });
    });
    return { entries, events };
  }

  /**
   * Store the report's entries and count its changes. A report that changed records is in the
   * history before the reply, as what is remembered is; one that changed nothing just after it.
   */
  private keep(entries: HistoryEntry[], writer: string, now: number, since: number): void {
    const changed = entries.filter((e) => e.changes.length > 0).map((e) => e.host);
    if (changed.length > 0) {
      this.history.add(entries);
      this.limit.record(changed, writer, now, since);
      this.hostRecords.flush();
    } else {
      this.history.later(entries);
      this.persistLater();
    }
  }

  /** The way to OVH of one job that began at `arrived`: the zone's breaker and pace, and the job's deadline. */
  private job(zone: string, arrived: number): Job {
    const config = this.config();
    this.calls ??= new CallPolicy(zone, config);
    return this.calls.job(config, arrived + REPORT_DEADLINE_MS - config.settings.ovhTimeoutMs - 1000);
  }

  /**
   * Keep the records of hosts whose job the pace, its deadline or its call budget cut short, for
   * the alarm to continue. (A call the breaker held back is not continued: the client retries.)
   */
  private async continueLater(
    batch: ZoneBatch,
    answers: { host: string; answer: HostAnswer }[],
  ): Promise<void> {
    const unfinished = new Set(
      answers.filter(({ answer: a }) => a.status === "held" && a.by !== "breaker").map((a) => a.host),
    );
    if (unfinished.size === 0) return;
    this.pending.keep(
      batch,
      batch.desired.filter((d) => unfinished.has(d.host)),
    );
    await this.wakeAt(this.calls?.nextAt() ?? Date.now() + 1000);
  }

  /** Watch the name servers serve the records this report changed (asked from the alarm). */
  private async watchChanges(batch: ZoneBatch, hosts: { host: string; result: HostResult }[], now: number) {
    const watched: Watched[] = [];
    for (const { host, result } of hosts) {
      if (result.status !== "good") continue;
      for (const c of result.changes) {
        const d = batch.desired.find(
          (x) => x.host === host && x.spec.type === c.type && fqdnOf(x.spec) === c.name,
        );
        if (d) watched.push({ key: keyOf(d), host, name: c.name, type: c.type, target: c.to });
      }
    }
    if (watched.length === 0) return;
    this.watch.start(watched, now);
    await this.wakeForWatch();
  }

  /** Write the hosts' records just after the reply, as the history's entries are. */
  private persistLater(): void {
    setTimeout(() => this.hostRecords.flush(), 0);
  }
}

const NOCHG: HostAnswer = { status: "nochg" };

/** The targets a batch planned for one host, by record key. */
function targetsOf(desired: Desired[], host: string): Record<string, string> {
  const targets: Record<string, string> = {};
  for (const d of desired) if (d.host === host) targets[keyOf(d)] = d.target;
  return targets;
}
