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
import { clockNow, followTestClock } from "../core/clock";
import type { Desired } from "../core/plan";
import { tcpConnect } from "../dns/tcp";
import type { Env } from "../env";
import { notify } from "../notify/notify";
import { CallPolicy, type Job } from "../ovh/calls";
import { NotSent, zoneNameServers } from "../ovh/records";
import { checkZone } from "./health/check";
import { holdsAny, resumed } from "./health/drift";
import { afterRefusal, afterReport, healthOf, noteFor, transitions } from "./health/state";
import { advance, type Finished, type JobRecord, withBatch } from "./job";
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
  zoneBatch,
} from "./protocol";
import { answeredFromMemory, type HostAnswer, hostResult } from "./reconcile";
import { History, historyEntry } from "./store/history";
import { HostRecords } from "./store/hosts";
import { ChangeLimit, writerOf } from "./store/limit";
import { Pending } from "./store/pending";
import { StoredPolicy } from "./store/policy";
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
  private readonly storedPolicy: StoredPolicy;
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
    this.storedPolicy = new StoredPolicy(this.sql);
    this.watch = new Watch({
      store: new ServedRecords(this.sql),
      hosts: this.hostRecords,
      connect: tcpConnect,
      readNameServers: (zone) => zoneNameServers(this.job(zone, clockNow()).client, zone),
    });
  }

  /**
   * Apply one report's targets for this zone, after every earlier report has finished. A report
   * that memory answers (nothing to write or read) and that no queued report or the zone's job
   * touches is answered at once: it never waits behind writes.
   */
  apply(batch: ZoneBatch): Promise<ZoneReport> {
    const arrived = clockNow();
    const config = loadConfig(this.env);
    const keys = batch.desired.map(keyOf);
    const recheckAfterMs = config.ok ? config.value.settings.recheckAfter * 1000 : 0;
    const pending = this.pending.keys();
    if (
      keys.every((k) => !this.busy.has(k) && !pending.has(k)) &&
      answeredFromMemory(batch.desired, (k) => this.records.get(k), clockNow(), recheckAfterMs)
    )
      return this.answered(batch, NOCHG_HOSTS(batch), [], clockNow());
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

  /**
   * Continue the zone's job (src/zone/job.ts), the records reports could not finish, and ask the
   * name servers what is due.
   */
  override async alarm(): Promise<void> {
    await followTestClock(this.env.TEST_CLOCK);
    const config = loadConfig(this.env);
    if (!config.ok) return;
    await this.inTurn(async () => {
      const job = this.pending.job(config.value);
      const [first] = job;
      if (!first) return;
      const zone = first.d.spec.zone;
      const { run, client } = await this.advanceJob(job, zone, clockNow());
      const events = await this.noteFinished(zone, run.finished, client.queryIds, clockNow());
      if (events.length > 0) this.ctx.waitUntil(notify(this.env, events));
    });
    // The name servers, asked apart from the reports: a report never waits for them.
    try {
      const round = await this.watch.due(config.value, clockNow());
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
    const now = clockNow();
    const last = this.checkedNow.get(client) ?? 0;
    if (now - last < CHECK_NOW_EVERY_MS)
      return { retryAfter: Math.ceil((last + CHECK_NOW_EVERY_MS - now) / 1000) };
    this.checkedNow.set(client, now);
    await this.resumeHeld(zone, client, now);
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
      const { api, client } = this.job(zone, now);
      const input = { config, api, memory: this.records, hosts: this.hostRecords };
      const outcome = await checkZone(zone, { ...input, now, at });
      this.history.add(outcome.entries);
      this.hostRecords.flush();
      if (this.calls) this.storedPolicy.set(this.calls.state());
      return { config, outcome, client };
    });
    // Then what the name servers serve, against what is now written (OVH's list of them read
    // again), out of the reports' turn: a report never waits for a name server.
    const round = await this.watch.all(zone, config, this.records, true, clockNow());
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

  /**
   * "Check now" resumes setting back the records of the client's hosts (every host for an admin)
   * that the check holds after repeated drift (src/zone/health/drift.ts), in turn with the
   * reports and checks that change the same host records.
   */
  private async resumeHeld(zone: string, client: string, now: number): Promise<void> {
    const config = this.config();
    const who = config.clients.get(client);
    const hosts = [...config.hosts.values()]
      .filter((h) => h.zone === zone && (who?.admin || who?.hosts.has(h.name)))
      .map((h) => h.name);
    if (!hosts.some((h) => holdsAny(this.hostRecords.get(h)))) return;
    await this.inTurn(async () => {
      for (const host of hosts) {
        const record = this.hostRecords.get(host);
        if (record && holdsAny(record)) this.hostRecords.set(host, resumed(record, client, now));
      }
      this.hostRecords.flush();
    });
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

  /**
   * Take the batch into the zone's job and continue the job as far as the pace allows before the
   * report's deadline; answer each host of the batch from the job (a host still in it answers
   * 911, and says when it goes on), keep what it did (health, history, changes), and notify.
   */
  private async applyNow(batch: ZoneBatch, arrived: number): Promise<ZoneReport> {
    const config = this.config();
    const job = withBatch(this.pending.job(config), batch);
    const { run, client, dueAt } = await this.advanceJob(job, batch.zone, arrived, true);
    const now = clockNow();
    const finished = new Map(run.finished.map((f) => [f.host, f.answer]));
    const answers = batch.hosts.map((host) => ({
      host,
      answer:
        finished.get(host) ??
        (run.left.some((r) => r.d.host === host) ? inProgress(run.left, host, dueAt) : NOCHG),
    }));
    const hosts = answers.map(({ host, answer }) => ({ host, result: hostResult(answer) }));
    const others = run.finished.filter((f) => !batch.hosts.includes(f.host));
    const report = await this.answered(batch, hosts, client.queryIds, now, others);
    const waiting = answers.flatMap(({ answer: a }) => (a.status === "held" ? [a.reason] : []));
    return { ...report, notes: [...run.notes, ...waiting], ovhCalls: client.calls.length };
  }

  /**
   * The report of `batch` with these results: each host's health and history entry kept, and
   * those of hosts the job finished for earlier reports (`others`); the events sent on.
   */
  private async answered(
    batch: ZoneBatch,
    hosts: { host: string; result: HostResult }[],
    queryIds: string[],
    now: number,
    others: Finished[] = [],
  ): Promise<ZoneReport> {
    const events = await this.noteBatch(batch, hosts, queryIds, now);
    events.push(...(await this.noteFinished(batch.zone, others, queryIds, now)));
    if (events.length > 0) this.ctx.waitUntil(notify(this.env, events));
    return { zone: batch.zone, hosts, notes: [], ovhCalls: 0, queryIds };
  }

  /**
   * One continuation of the zone's job: as many OVH calls as the pace gives it before its
   * deadline (REPORT_DEADLINE_MS after `arrived`, less a call's time-out), at most the budget of
   * one report; then the job and the call policy are kept, and the alarm set for what is left.
   */
  private async advanceJob(job: JobRecord[], zone: string, arrived: number, clientWaits = false) {
    const config = this.config();
    const { settings } = config;
    const deadline = arrived + REPORT_DEADLINE_MS - settings.ovhTimeoutMs - 1000;
    const policy = this.policy(zone, config);
    const { api, client } = policy.job(config, deadline);
    const now = clockNow();
    const run = await advance(job, {
      api,
      zone,
      memory: this.records,
      now,
      recheckAfterMs: settings.recheckAfter * 1000,
      limited: this.limitedIn(job, config, now),
      budget: Math.min(policy.available(deadline), settings.maxOvhCalls),
      clientWaits,
    });
    this.pending.save(run.left);
    this.storedPolicy.set(policy.state());
    const dueAt = this.jobDueAt(run.calls > 0);
    if (dueAt !== undefined) await this.wakeAt(dueAt);
    return { run, client, dueAt };
  }

  /** The hosts of the job past the change limit of their report's writer, with the seconds to wait. */
  private limitedIn(job: JobRecord[], { settings }: Config, now: number): Map<string, number> {
    const byWriter = new Map<string, string[]>();
    for (const { d, origin } of job) {
      const writer = writerOf(origin.client, origin.source, settings.authIpv6Prefix);
      byWriter.set(writer, [...(byWriter.get(writer) ?? []), d.host]);
    }
    const limited = new Map<string, number>();
    const windowMs = settings.changeWindow * 1000;
    for (const [writer, hosts] of byWriter)
      for (const [host, wait] of this.limit.limited(hosts, writer, settings.changeLimit, windowMs, now))
        limited.set(host, wait);
    return limited;
  }

  /** Health, history and changes of hosts a continuation finished for earlier reports; their events. */
  private async noteFinished(
    zone: string,
    finished: Finished[],
    queryIds: string[],
    now: number,
  ): Promise<HealthEvent[]> {
    const events: HealthEvent[] = [];
    for (const f of finished) {
      const batch = { ...zoneBatch(zone, f.origin), desired: f.desired, hosts: [f.host] };
      const hosts = [{ host: f.host, result: hostResult(f.answer) }];
      events.push(...(await this.noteBatch(batch, hosts, queryIds, now)));
    }
    return events;
  }

  /**
   * Keep what `batch` did to `hosts`: their health and history, its writer's changes for the
   * change limit, and a watch of the records it changed; the events to send.
   */
  private async noteBatch(
    batch: ZoneBatch,
    hosts: { host: string; result: HostResult }[],
    queryIds: string[],
    now: number,
  ): Promise<HealthEvent[]> {
    const { settings } = this.config();
    const writer = writerOf(batch.client, batch.source, settings.authIpv6Prefix);
    const { entries, events } = this.noteReports(batch, hosts, queryIds, now);
    this.keep(entries, writer, now, now - settings.changeWindow * 1000);
    await this.watchChanges(batch, hosts, now);
    return events;
  }

  /** Unix ms when the zone's job goes on (the pace has a call again), or undefined when there is none. */
  private jobDueAt(progressed = true): number | undefined {
    if (this.pending.size() === 0) return undefined;
    const next = this.calls?.nextAt() ?? clockNow();
    // A continuation that could make no call waits for more of the pace than its next one.
    return progressed ? next : Math.max(next, clockNow() + NO_PROGRESS_WAIT_MS);
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

  /** The zone's breaker and pace, as the last instance left them (src/zone/store/policy.ts). */
  private policy(zone: string, config: Config): CallPolicy {
    this.calls ??= new CallPolicy(zone, config, this.storedPolicy.get());
    return this.calls;
  }

  /** The way to OVH of one job that began at `arrived`: the zone's breaker and pace, and the job's deadline. */
  private job(zone: string, arrived: number): Job {
    const config = this.config();
    return this.policy(zone, config).job(
      config,
      arrived + REPORT_DEADLINE_MS - config.settings.ovhTimeoutMs - 1000,
    );
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
/** How long the job waits after a continuation that could make no call at all. */
const NO_PROGRESS_WAIT_MS = 5_000;
const NOCHG_HOSTS = (batch: ZoneBatch) =>
  batch.hosts.map((host) => ({ host, result: { status: "nochg" } as const }));

/** A host still in the job: held back by the pace, with how much is left and when it goes on. */
function inProgress(left: JobRecord[], host: string, dueAt: number | undefined): HostAnswer {
  const n = left.filter((r) => r.d.host === host).length;
  const when = dueAt === undefined ? "shortly" : `at ${new Date(dueAt).toISOString()}`;
  const why = `paced: OVH is asked for at most ovh_calls_per_minute calls; ${n} record${n === 1 ? "" : "s"} of ${host} left, continued ${when}; a retry is answered from this job`;
  return { status: "held", by: "pace", reason: new NotSent("pace", why).message };
}

/** The targets a batch planned for one host, by record key. */
function targetsOf(desired: Desired[], host: string): Record<string, string> {
  const targets: Record<string, string> = {};
  for (const d of desired) if (d.host === host) targets[keyOf(d)] = d.target;
  return targets;
}
