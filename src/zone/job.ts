// A zone's job: the records reports asked for that are not yet served, brought to their targets
// over as many continuations as the pace needs, each continuation sized to the OVH calls it may
// make. Nothing learnt is learnt twice: each record only moves forward, and what it has learnt
// is kept (src/zone/store/pending.ts) between continuations, across evictions:
//
//   listed    the ids the list of its name gave
//   read      each of those ids read (a 404 for an id the list gave is read once more: OVH's read
//             can lag a create; twice, and its host answers 911, never a create)
//   planned   once every record of its host is read: the host's answer if it fails (dnserr,
//             abuse, 911), else each record's write, or none (reconcile.ts's decide())
//   written   the write made (staged at OVH), waiting for a refresh
//   refreshed the refresh publishes every write staged so far; a host is finished once each of
//             its records is served
//
// A continuation writes what is planned before it reads more, reads a host only when its reads
// and writes fit the calls left (else reads what fits, to be kept), and refreshes once the job
// has nothing else to do, after REFRESH_EVERY writes, or before a waiting client's reply, so that
// a job of many records pays for a few refreshes, not one per continuation.
import { sameAddress } from "../core/address";
import type { Desired } from "../core/plan";
import { messageOf } from "../core/text";
import { type Hold, heldBack, type RecordApi, type ZoneRecord } from "../ovh/records";
import {
  fqdnOf,
  keyOf,
  type RecordChange,
  type RecordState,
  type ReportOrigin,
  type ZoneBatch,
} from "./protocol";
import {
  decide,
  type HostAnswer,
  matches,
  type Reading,
  type RecordMemory,
  type Write,
  write,
} from "./reconcile";

/** Writes after which a continuation refreshes though the job has more to do. */
export const REFRESH_EVERY = 8;

/** What one record of a job has learnt and done so far. */
export interface Progress {
  /** The ids the list of the record's name gave. */
  ids?: number[];
  /** The records read, by id. */
  got?: Record<string, ZoneRecord>;
  /** Ids the list gave whose read answered 404 once. */
  missed?: number[];
  /** Planned: the write to make (`write` absent: none). */
  plan?: { write?: Omit<Write, "d"> };
  /** The write made, staged at OVH: the id written (null: a create whose id is not known yet). */
  written?: { id: number | null };
  /** The change a refresh published (the host's answer lists it once the host is finished). */
  served?: RecordChange;
}

/** One record of a job: what it should hold, for which report, and its progress. */
export interface JobRecord {
  d: Desired;
  origin: ReportOrigin;
  progress: Progress;
}

export interface Continuation {
  api: RecordApi;
  zone: string;
  memory: RecordMemory;
  now: number;
  recheckAfterMs: number;
  /** Hosts whose writer is past the change limit, with the seconds until it may write again. */
  limited: ReadonlyMap<string, number>;
  /** The OVH calls this continuation may make. */
  budget: number;
  /** A client waits for this continuation: what it wrote is refreshed, so its hosts can answer good. */
  clientWaits?: boolean;
}

/** A host the continuation finished: its answer, and the report it answers. */
export interface Finished {
  host: string;
  answer: HostAnswer;
  origin: ReportOrigin;
  /** The records of the host in the job, with their targets. */
  desired: Desired[];
}

export interface Advanced {
  finished: Finished[];
  /** The records still to do, with their progress. */
  left: JobRecord[];
  /** Problems worth a log line, free of secrets. */
  notes: string[];
  /** OVH calls made. */
  calls: number;
}

/**
 * The job with `batch` taken in: a record asked for again with the same target and TTL keeps its
 * progress (a client retrying is answered from the job, which reads nothing again); another
 * target starts it again.
 */
export function withBatch(job: JobRecord[], batch: ZoneBatch): JobRecord[] {
  const { client, source, agent, reported } = batch;
  const origin: ReportOrigin = { client, source, agent, reported };
  const byKey = new Map(job.map((r) => [keyOf(r.d), r]));
  for (const d of batch.desired) {
    const prior = byKey.get(keyOf(d));
    const same =
      prior !== undefined &&
      prior.d.host === d.host &&
      sameAddress(prior.d.target, d.target) &&
      prior.d.spec.ttl === d.spec.ttl;
    byKey.set(keyOf(d), { d, origin, progress: same ? prior.progress : {} });
  }
  return [...byKey.values()];
}

/** Take the job as far as `c.budget` calls allow. */
export async function advance(job: JobRecord[], c: Continuation): Promise<Advanced> {
  const run = new Run(job, c);
  await run.go();
  return run.result();
}

class Run {
  private records: JobRecord[];
  private readonly finished: Finished[] = [];
  private readonly notes: string[] = [];
  private readonly api: RecordApi;
  private used = 0;

  constructor(
    job: JobRecord[],
    private readonly c: Continuation,
  ) {
    this.records = job.map((r) => ({ ...r, progress: structuredClone(r.progress) }));
    const count =
      <A extends unknown[], T>(f: (...a: A) => Promise<T>) =>
      (...a: A) => {
        this.used++;
        return f(...a);
      };
    const api = c.api;
    this.api = {
      list: count(api.list.bind(api)),
      get: count(api.get.bind(api)),
      create: count(api.create.bind(api)),
      update: count(api.update.bind(api)),
      refresh: count(api.refresh.bind(api)),
    };
  }

  result(): Advanced {
    return { finished: this.finished, left: this.records, notes: this.notes, calls: this.used };
  }

  async go(): Promise<void> {
    for (;;) {
      this.plan();
      if (await this.writeSome()) continue;
      if (await this.readSome()) continue;
      break;
    }
    await this.refreshIfDue();
  }

  private left(): number {
    return this.c.budget - this.used;
  }

  private hosts(): string[] {
    return [...new Set(this.records.map((r) => r.d.host))];
  }

  private of(host: string): JobRecord[] {
    return this.records.filter((r) => r.d.host === host);
  }

  private finish(host: string, answer: HostAnswer): void {
    const records = this.of(host);
    const [first] = records;
    if (!first) return;
    if (answer.status !== "good" && answer.status !== "nochg" && answer.status !== "held")
      this.notes.push(answer.reason);
    this.finished.push({ host, answer, origin: first.origin, desired: records.map((r) => r.d) });
    this.records = this.records.filter((r) => r.d.host !== host);
  }

  /** A call that failed: its host is finished (911, or held by the breaker), unless the pace or budget held it. */
  private failed(host: string, error: unknown): void {
    const hold = heldBack(error);
    if (hold && hold.by !== "breaker") return;
    this.finish(host, hold ? { status: "held", ...hold } : { status: "911", reason: messageOf(error) });
  }

  // Planning.

  /** What reading has found for a record, once it has all it needs. */
  private reading(r: JobRecord): Reading | undefined {
    const { ids, got = {} } = r.progress;
    if (!ids) {
      const known = this.c.memory.get(keyOf(r.d));
      const fresh = known && !known.unconfirmed && this.c.now - known.confirmedAt < this.c.recheckAfterMs;
      return fresh ? { kind: "one", record: known, fresh: true } : undefined;
    }
    const records: ZoneRecord[] = [];
    for (const id of ids) {
      const record = got[id];
      if (!record) return undefined;
      if (matches(record, r.d.spec.type, r.d.spec.subdomain)) records.push(record);
    }
    if (records.length === 0) return { kind: "none" };
    if (records.length > 1) return { kind: "conflict", records };
    return { kind: "one", record: records[0] as ZoneRecord, fresh: false };
  }

  /** Plan each host whose records are all read and not yet planned (decide(), once per host). */
  private plan(): void {
    for (const host of this.hosts()) {
      const records = this.of(host);
      if (records.every((r) => r.progress.plan)) continue;
      const readings = records.map((r) => this.reading(r));
      if (readings.some((x) => x === undefined)) continue;
      const desired = records.map((r) => r.d);
      const remembered = new Map<string, RecordState>();
      records.forEach((r, i) => {
        const known = this.c.memory.get(keyOf(r.d));
        // A remembered record that vanished is forgotten (deleted by hand: nothing to remember).
        if (known && readings[i]?.kind === "none") this.c.memory.delete(keyOf(r.d));
        else if (known) remembered.set(keyOf(r.d), known);
      });
      const decision = decide(
        desired,
        readings as Reading[],
        { remembered, limited: this.c.limited },
        this.c.now,
      );
      for (const u of decision.remember)
        if ("state" in u) this.c.memory.set(u.key, u.state);
        else this.c.memory.delete(u.key);
      const failure = decision.failed.get(host);
      if (failure) {
        this.finish(host, failure);
        continue;
      }
      for (const r of records) {
        const w = decision.writes.find((x) => x.d === r.d);
        r.progress.plan = w ? { write: { current: w.current, last: w.last } } : {};
      }
      if (records.every((r) => !r.progress.plan?.write)) {
        const changes = records.flatMap((r) => (r.progress.served ? [r.progress.served] : []));
        this.finish(host, changes.length > 0 ? { status: "good", changes } : { status: "nochg" });
      }
    }
  }

  // Writing.

  /** Make the planned writes that the calls left allow; whether any was made. */
  private async writeSome(): Promise<boolean> {
    const due = this.records.filter((r) => r.progress.plan?.write && !r.progress.written);
    // The last call is kept for the refresh, unless it is the only one and no refresh is due.
    const left = this.left();
    const keep = this.refreshWanted() || (due.length >= left && left > 1) ? 1 : 0;
    const now = due.slice(0, Math.max(0, left - keep));
    if (now.length === 0) return false;
    await Promise.all(now.map((r) => this.writeOne(r)));
    return true;
  }

  private async writeOne(r: JobRecord): Promise<void> {
    const planned = { d: r.d, ...r.progress.plan?.write };
    const outcome = await write(this.api, this.c.zone, planned);
    const key = keyOf(r.d);
    if (outcome.ok) {
      r.progress.written = { id: outcome.id };
      // Staged, not served: remembered as unconfirmed until the refresh.
      this.c.memory.set(key, unconfirmedState(planned, outcome.id));
      return;
    }
    if (outcome.held && outcome.held.by !== "breaker") return;
    if (outcome.mayHaveLanded) this.c.memory.set(key, unconfirmedState(planned, null));
    const answer: HostAnswer = outcome.held
      ? { status: "held", ...outcome.held }
      : { status: outcome.duplicate ? "dnserr" : "911", reason: outcome.message };
    this.finish(r.d.host, answer);
  }

  // Reading.

  /** Calls still needed to read a record, as far as can be told. */
  private readCost(r: JobRecord): number {
    if (r.progress.plan || this.reading(r)) return 0;
    const { ids, got = {} } = r.progress;
    if (ids) return ids.filter((id) => !got[id]).length;
    // A list, and most likely a read of the one record it names (a remembered id is read with it).
    return 2;
  }

  /** Calls a record's write will likely take (one, unless it is read and needs none). */
  private writeCost(r: JobRecord): number {
    if (r.progress.plan) return r.progress.plan.write && !r.progress.written ? 1 : 0;
    const reading = this.reading(r);
    if (reading?.kind === "one" && sameAddress(reading.record.target, r.d.target)) return 0;
    return 1;
  }

  private knownId(r: JobRecord): number | undefined {
    return this.c.memory.get(keyOf(r.d))?.id ?? undefined;
  }

  /**
   * Read the hosts, in order, whose reads and writes fit the calls left (keeping one for the
   * refresh); when not even the first fits, read what fits of it. Whether any read was made.
   */
  private async readSome(): Promise<boolean> {
    const unread = this.hosts().filter((h) => this.of(h).some((r) => this.readCost(r) > 0));
    const steps: [JobRecord, number][] = [];
    let room = this.left() - 1;
    for (const host of unread) {
      const records = this.of(host);
      const cost = records.reduce((n, r) => n + this.readCost(r) + this.writeCost(r), 0);
      if (cost > room) break;
      for (const r of records) if (this.readCost(r) > 0) steps.push([r, this.stepCost(r, room)]);
      room -= cost;
    }
    if (steps.length === 0) {
      // What fits of the first host, keeping a call for the refresh of what is staged.
      const staged = this.records.some((r) => r.progress.written);
      room = this.left() - (this.refreshWanted() || (staged && this.left() > 1) ? 1 : 0);
      for (const r of unread.flatMap((h) => this.of(h)).filter((x) => this.readCost(x) > 0)) {
        const step = this.stepCost(r, room);
        if (step > room) break;
        steps.push([r, step]);
        room -= step;
      }
    }
    if (steps.length === 0) return false;
    await Promise.all(steps.map(([r, cost]) => this.readStep(r, cost)));
    return true;
  }

  /** Calls of a record's next read step, with `room` calls left for it. */
  private stepCost(r: JobRecord, room: number): number {
    const { ids, got = {} } = r.progress;
    if (ids) return ids.filter((id) => !got[id]).length;
    return this.knownId(r) !== undefined && room >= 2 ? 2 : 1;
  }

  /** One step of reading a record: the list of its name (with the remembered id), or the reads of the ids it gave. */
  private async readStep(r: JobRecord, cost: number): Promise<void> {
    const p = r.progress;
    const { zone } = this.c;
    try {
      if (!p.ids) {
        const knownId = cost >= 2 ? this.knownId(r) : undefined;
        const [ids, known] = await Promise.all([
          this.api.list(zone, r.d.spec.type, r.d.spec.subdomain),
          knownId === undefined ? undefined : this.api.get(zone, knownId).catch(() => undefined),
        ]);
        p.ids = ids;
        p.got = {};
        if (known && ids.includes(known.id)) p.got[known.id] = known;
        return;
      }
      p.got ??= {};
      const got = p.got;
      await Promise.all(
        p.ids
          .filter((id) => !got[id])
          .map(async (id) => {
            const record = await this.api.get(zone, id);
            if (record) got[id] = record;
            else if (!p.missed?.includes(id)) p.missed = [...(p.missed ?? []), id];
            else
              throw new Error(
                `${r.d.spec.type} ${fqdnOf(r.d.spec)}: OVH lists record ${id} but reading it answers 404 twice; left for the next report`,
              );
          }),
      );
    } catch (error) {
      this.failed(r.d.host, error);
    }
  }

  // Refreshing.

  /** Whether this continuation must keep a call for a refresh: a client waits for what it staged, or enough is staged. */
  private refreshWanted(): boolean {
    const staged = this.records.filter((r) => r.progress.written).length;
    return staged > 0 && (this.c.clientWaits === true || staged >= REFRESH_EVERY);
  }

  /**
   * Publish the staged writes when the job has nothing else to do, or after REFRESH_EVERY
   * writes; then each host whose records are all served is finished.
   */
  private async refreshIfDue(): Promise<void> {
    const written = this.records.filter((r) => r.progress.written);
    if (written.length === 0 || this.left() < 1) return;
    const onlyRefresh = this.records.every(
      (r) => r.progress.plan && (!r.progress.plan.write || r.progress.written),
    );
    if (!onlyRefresh && !this.c.clientWaits && written.length < REFRESH_EVERY) return;
    try {
      await this.api.refresh(this.c.zone);
    } catch (error) {
      const hold = heldBack(error);
      if (hold && hold.by !== "breaker") return;
      const answer: HostAnswer = hold
        ? { status: "held", ...hold }
        : { status: "911", reason: messageOf(error) };
      for (const host of new Set(written.map((r) => r.d.host))) this.finish(host, answer);
      return;
    }
    for (const r of written) {
      const { d } = r;
      const id = r.progress.written?.id ?? null;
      if (id === null) this.c.memory.delete(keyOf(d));
      else
        this.c.memory.set(keyOf(d), {
          id,
          target: d.target,
          ttl: d.spec.ttl,
          confirmedAt: this.c.now,
          changedAt: this.c.now,
        });
      const { current, last } = r.progress.plan?.write ?? {};
      const from = last?.unconfirmed ? last.target || undefined : current?.target;
      const served: RecordChange = {
        host: d.host,
        name: fqdnOf(d.spec),
        type: d.spec.type,
        from,
        to: d.target,
      };
      if (d.prefix) served.prefix = d.prefix;
      r.progress = { plan: {}, served };
    }
    for (const host of this.hosts()) {
      const records = this.of(host);
      if (records.some((r) => !r.progress.plan || r.progress.plan.write)) continue;
      const changes = records.flatMap((r) => (r.progress.served ? [r.progress.served] : []));
      this.finish(host, changes.length > 0 ? { status: "good", changes } : { status: "nochg" });
    }
  }
}

/** What to remember of a record whose write was sent and not confirmed (yet). */
function unconfirmedState({ d, current, last }: Write, id: number | null): RecordState {
  const base = last ?? { target: "", ttl: d.spec.ttl, confirmedAt: 0, changedAt: 0 };
  return { ...base, id: id ?? last?.id ?? current?.id ?? null, unconfirmed: true };
}

export type { Hold };
