// How this isolate talks to the zone coordinators, one line per zone. Each answer carries a
// lease: what the zone's records hold, good for a moment. A report the lease shows as already
// done is answered `nochg` here, without a call, and counted for the history; the coordinator
// waits for every other caller's lease to run out before it writes (src/zone.ts), so a lease
// never shows a target that has changed. A call in flight may change records, so while one is,
// the lease is not used; a lease is taken only from the latest call, and only when no other is
// in flight. In workerd an unchanged report without a call costs a fraction of one with a
// Durable Object call (docs/benchmarks.md).
import { sameAddress } from "./address";
import { recordKey } from "./apply";
import { log } from "./log";
import type { ZoneBatch, ZoneReport } from "./update";

/** What the coordinator tells a caller the zone's records hold, good for `forMs` from the call. */
export interface Lease {
  forMs: number;
  /** recordKey → target and TTL, each confirmed and fresh (recheck_after) past the lease. */
  records: Record<string, { target: string; ttl: number }>;
}

export interface ZoneAnswer {
  report: ZoneReport;
  lease?: Lease;
}

/** Identical unchanged reports this isolate answered on its own: history in the making. */
export interface Served {
  hosts: string[];
  client: string;
  source: string | null;
  reported: string;
  /** Unix ms of the first and the last of them, and how many. */
  at: number;
  lastAt: number;
  repeats: number;
}

export interface Coordinators {
  /** `caller` names these lines: the coordinator holds no write up for their own lease. */
  apply(zone: string, batch: ZoneBatch, served: Served[], caller: string): Promise<ZoneAnswer>;
  record(zone: string, served: Served[]): Promise<void>;
}

/**
 * A lease is used for this much less than it lasts: the isolate's clock stands still while
 * code runs (it moves on I/O), and the lease is counted from before the call was sent.
 */
const LEASE_MARGIN_MS = 250;

interface Line {
  /** Calls sent so far, and in flight. */
  calls: number;
  inFlight: number;
  lease?: { until: number; records: Map<string, { target: string; ttl: number }> };
  /** Per kind of report answered from the lease; `logged`: how many of them have a log line. */
  served: Map<string, Served & { logged: number }>;
  flushing?: boolean;
}

export class ZoneLines {
  private readonly lines = new Map<string, Line>();
  /** Random, made on first use (a Worker may not make random numbers outside a request). */
  private caller?: string;

  constructor(private readonly coordinators: Coordinators) {}

  /**
   * Apply one zone's share of a report. `keepAlive` (waitUntil) keeps the request alive for
   * the counts it leaves to be sent when the lease has run out.
   */
  async apply(batch: ZoneBatch, keepAlive: (work: Promise<unknown>) => void): Promise<ZoneReport> {
    const zone = batch.zone;
    let line = this.lines.get(zone);
    if (!line) {
      line = { calls: 0, inFlight: 0, served: new Map() };
      this.lines.set(zone, line);
    }
    const now = Date.now();
    const lease = line.lease;
    if (
      lease &&
      now < lease.until &&
      batch.desired.every((d) => {
        const held = lease.records.get(recordKey(d.spec.type, d.spec.subdomain));
        return held && held.ttl === d.spec.ttl && sameAddress(held.target, d.target);
      })
    ) {
      const { client, reported, source = null, hosts } = batch;
      // Like syslog's "last message repeated N times": the first of a kind gets its log line as
      // usual, the others one line together (drain()).
      const seen = count(line, { hosts, client, source, reported, at: now, lastAt: now, repeats: 1 }, 0);
      if (!line.flushing) {
        line.flushing = true;
        keepAlive(this.flushLater(zone, line, lease.until - now));
      }
      const results = hosts.map((host) => ({ host, result: { status: "nochg" } as const }));
      return { zone, hosts: results, notes: [], ovhCalls: 0, queryIds: [], quiet: seen };
    }

    const call = ++line.calls;
    line.inFlight++;
    line.lease = undefined;
    const served = drain(line);
    this.caller ??= crypto.randomUUID();
    let answer: ZoneAnswer;
    try {
      answer = await this.coordinators.apply(zone, batch, served, this.caller);
    } catch (error) {
      for (const s of served) count(line, s, s.repeats); // sent with the next call; logged already
      throw error;
    } finally {
      line.inFlight--;
    }
    if (answer.lease && call === line.calls && line.inFlight === 0) {
      const records = new Map(Object.entries(answer.lease.records));
      line.lease = { until: now + answer.lease.forMs - LEASE_MARGIN_MS, records };
    }
    return answer.report;
  }

  /** Counts reach the coordinator with the next call, or once the lease has run out. */
  private async flushLater(zone: string, line: Line, ms: number): Promise<void> {
    try {
      await new Promise((resolve) => setTimeout(resolve, ms));
      for (let served = drain(line); served.length > 0; served = drain(line)) {
        await this.coordinators.record(zone, served);
      }
    } catch {
      // The coordinator did not answer: those counts are lost; no record is affected.
    } finally {
      line.flushing = false;
    }
  }
}

/**
 * Add reports of one kind to the line's counts, `logged` of them with a log line of their own
 * (the first of a kind always has one); whether that kind was counted already.
 */
function count(line: Line, s: Served, logged: number): boolean {
  const kind = `${s.client}\n${s.source}\n${s.reported}\n${s.hosts}`;
  const seen = line.served.get(kind);
  if (!seen) line.served.set(kind, { ...s, logged: Math.max(logged, 1) });
  else {
    addRepeats(seen, s);
    seen.logged += logged;
  }
  return seen !== undefined;
}

type Repeats = Pick<Served, "at" | "lastAt" | "repeats">;

/** Fold identical reports into `into`: its count grows, its span covers both. */
export function addRepeats(into: Repeats, more: Repeats): void {
  into.repeats += more.repeats;
  into.at = Math.min(into.at, more.at);
  into.lastAt = Math.max(into.lastAt, more.lastAt);
}

/** Take the counts to send, and write the log line for those not logged yet. */
function drain(line: Line): Served[] {
  const served = [...line.served.values()];
  line.served.clear();
  return served.map(({ logged, ...s }) => {
    if (s.repeats > logged) {
      const { client, source, hosts, reported, lastAt } = s;
      log("update-repeats", {
        client,
        source: source ?? undefined,
        hosts,
        reported,
        repeats: s.repeats - logged,
        lastAt,
      });
    }
    return s;
  });
}
