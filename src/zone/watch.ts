// Whether the zone's name servers serve what was written: "good" ends where the user's truth is.
// After a report changes a record (and the zone's refresh), the coordinator's alarm asks each of
// the zone's authoritative servers for it, over DNS over TCP, on a back-off (BACKOFF_S, then
// every LATER_S) until every server answers the target (`served`) or serve_within has passed
// (`unserved`: which server answers what). The scheduled check asks about every record the
// coordinator holds, so a record served wrongly is noticed without a change; the status page's
// "Check now" does the same at once. An unchanged report asks nothing.
//
// The servers are OVH's (GET /domain/zone/{zone}, kept in the coordinator and read again at each
// scheduled check) unless `name_servers` names others. One TCP connection per server per round,
// every question pipelined on it, at most DNS_MAX_OPEN at once (a Worker invocation may hold 6
// connections, OVH's calls and the notifier's included); each counts as a subrequest.
import { type Config, serveWithinOf } from "../config";
import { sameAddress } from "../core/address";
import { clockNow } from "../core/clock";
import { iso, messageOf } from "../core/text";
import { askServers, type Connect, type NameServer, parseNameServer } from "../dns/client";
import {
  fqdnOf,
  type HealthEvent,
  type HostRecord,
  recordKey,
  type ServedRecord,
  type ServerAnswer,
} from "./protocol";
import type { RecordMemory } from "./reconcile";

/** Seconds between asks after a change: the first ask 2 s after the report, then 4 s later, … */
export const BACKOFF_S = [2, 4, 8, 15, 30, 60];
/** Then every 3 minutes, until serve_within. */
export const LATER_S = 180;
/** For each server, from connecting to its last answer. */
export const DNS_TIMEOUT_MS = 4000;
/** DNS connections open at once, at most: two of the invocation's six stay for OVH and the notifier. */
export const DNS_MAX_OPEN = 4;

/** A record whose target should now be served. */
export interface Watched {
  key: string;
  host: string;
  name: string;
  type: ServedRecord["type"];
  target: string;
}

/** A new watch: waiting, first asked BACKOFF_S[0] after `at`. */
export function startWatch(w: Watched, at: number, cause: ServedRecord["cause"]): ServedRecord {
  return {
    ...w,
    startedAt: at,
    cause,
    state: "waiting",
    since: at,
    tookMs: null,
    attempts: 0,
    nextAt: at + (BACKOFF_S[0] as number) * 1000,
    answers: [],
  };
}

/** Whether this server answered exactly the target. */
const answersTarget = (a: ServerAnswer, target: string): boolean =>
  a.records?.length === 1 && sameAddress(a.records[0] as string, target);

/** Whether every server answered exactly the target. */
export function servedByAll(target: string, answers: ServerAnswer[]): boolean {
  return answers.length > 0 && answers.every((a) => answersTarget(a, target));
}

/**
 * The record after the servers' `answers` at `now`: served when every server answers the target;
 * else unserved once serve_within has passed since the watch began (asked no more: the scheduled
 * check asks again); else waiting, asked again after the next back-off step, and at the latest
 * when serve_within ends. Pure.
 */
export function judge(
  r: ServedRecord,
  answers: ServerAnswer[],
  now: number,
  serveWithinMs: number,
): ServedRecord {
  const attempts = r.attempts + 1;
  if (servedByAll(r.target, answers)) {
    const served = r.state === "served";
    // From the report to served; a watch a check began has no report to count from.
    const tookMs = r.state === "waiting" && r.cause === "report" ? now - r.startedAt : r.tookMs;
    return { ...r, answers, attempts, state: "served", since: served ? r.since : now, tookMs, nextAt: null };
  }
  const deadline = r.startedAt + serveWithinMs;
  if (now >= deadline || r.state === "unserved") {
    const since = r.state === "unserved" ? r.since : now;
    return { ...r, answers, attempts, state: "unserved", since, nextAt: null };
  }
  const step = (BACKOFF_S[attempts] ?? LATER_S) * 1000;
  return { ...r, answers, attempts, state: "waiting", nextAt: Math.min(now + step, deadline) };
}

/** One line on what the servers that do not serve the target answer. */
export function whatServersSay(r: ServedRecord): string {
  if (r.answers.length === 0) return "no name server could be asked";
  return r.answers
    .filter((a) => !answersTarget(a, r.target))
    .map((a) => {
      if (a.records === null) return `${a.server} gives no answer (${a.reason ?? "unknown"})`;
      if (a.reason === "NXDOMAIN") return `${a.server} answers that the name does not exist`;
      if (a.records.length === 0) return `${a.server} answers no ${r.type} record`;
      return `${a.server} answers ${a.records.join(", ")}`;
    })
    .join("; ");
}

/** Why a host is unserved: its records that are, what should be served and what is. */
export function unservedReason(records: ServedRecord[], serveWithinS: number): string {
  const parts = records.map((r) => `${r.type} ${r.name} should be ${r.target}, but ${whatServersSay(r)}`);
  return `${parts.join("; ")} (${serveWithinS} s after the change); check that the zone is delegated to these servers and that the record was not edited by hand`;
}

/**
 * The host's record after its records' served states: unserved while any of them is (a failing
 * or drifting host stays so: that says more), ok again when none is; with the event to send.
 */
export function afterServed(
  host: string,
  prior: HostRecord,
  unserved: ServedRecord[],
  serveWithinS: number,
  now: number,
): { next: HostRecord; event?: HealthEvent } {
  if (
    unserved.length > 0 &&
    (prior.state === "ok" || prior.state === "stale" || prior.state === "unserved")
  ) {
    const reason = unservedReason(unserved, serveWithinS);
    const since = prior.state === "unserved" && prior.since !== null ? prior.since : now;
    const next = { ...prior, state: "unserved" as const, reason, since };
    if (prior.state === "unserved") return { next };
    return { next, event: { kind: "unserved", host, at: now, message: `${host} is not served: ${reason}` } };
  }
  if (unserved.length === 0 && prior.state === "unserved") {
    const was = prior.since ? ` since ${iso(prior.since)}` : "";
    return {
      next: { ...prior, state: "ok", reason: "", since: now },
      event: {
        kind: "recovered",
        host,
        at: now,
        message: `${host} is served again: every name server answers its records (it was unserved${was})`,
      },
    };
  }
  return { next: prior };
}

/** Ask every server about every record, on one connection per server; each record gets each server's answer. */
export async function askAbout(
  records: ServedRecord[],
  servers: NameServer[],
  connect: Connect,
  now: () => number,
): Promise<Map<string, ServerAnswer[]>> {
  const questions = records.map((r) => ({ name: r.name, type: r.type }));
  const results = await askServers(servers, questions, {
    connect,
    timeoutMs: DNS_TIMEOUT_MS,
    maxOpen: DNS_MAX_OPEN,
  });
  const at = now();
  const byKey = new Map<string, ServerAnswer[]>();
  records.forEach((r, i) => {
    byKey.set(
      r.key,
      results.map(({ server, answers }) => {
        const reading = answers[i];
        if (!reading?.ok)
          return { server: server.label, records: null, reason: reading?.reason ?? "no answer", at };
        const nx = reading.rcode === "NXDOMAIN" ? { reason: "NXDOMAIN" } : {};
        return { server: server.label, records: reading.records, ...nx, at };
      }),
    );
  });
  return byKey;
}

/** What a round of asking found. */
export interface Round {
  events: HealthEvent[];
  /** The records asked about, after the answers. */
  records: ServedRecord[];
  /** The servers asked. */
  servers: string[];
  /** Why the servers could not be asked, when they could not. */
  problem?: string;
}

/** Where the watches are kept (src/zone/store/served.ts). */
export interface ServedStore {
  get(key: string): ServedRecord | undefined;
  set(r: ServedRecord): void;
  /** Write `r`, which followed from `was`, unless the row was replaced meanwhile. */
  update(r: ServedRecord, was: ServedRecord | undefined): void;
  delete(key: string): void;
  due(now: number): ServedRecord[];
  nextAt(): number | null;
  nameServers(zone: string): { list: string[]; readAt: number } | undefined;
  keepNameServers(zone: string, list: string[], at: number): void;
}

/** The hosts' health records (src/zone/store/hosts.ts). */
export interface HostStore {
  get(host: string): HostRecord | undefined;
  set(host: string, record: HostRecord): void;
  flush(): void;
}

export interface WatchDeps {
  store: ServedStore;
  hosts: HostStore;
  connect: Connect;
  /** The zone's name servers as OVH lists them (one API call). */
  readNameServers(zone: string, config: Config): Promise<string[]>;
}

/** The coordinator's watches: started by reports, asked about from its alarm and at the scheduled check. */
export class Watch {
  constructor(private readonly d: WatchDeps) {}

  /** Watch these records from `at` (a report changed them). */
  start(records: Watched[], at: number): void {
    for (const w of records) this.d.store.set(startWatch(w, at, "report"));
  }

  /** Unix ms of the next ask, or null. */
  nextAt(): number | null {
    return this.d.store.nextAt();
  }

  /** The served state of these records. */
  status(keys: string[]): Record<string, ServedRecord> {
    const out: Record<string, ServedRecord> = {};
    for (const key of keys) {
      const r = this.d.store.get(key);
      if (r) out[key] = r;
    }
    return out;
  }

  /** Ask about the watches that are due at `now`. */
  async due(config: Config, now: number): Promise<Round> {
    const due = this.d.store.due(now).filter((r) => {
      const configured = config.hosts.has(r.host);
      if (!configured) this.d.store.delete(r.key);
      return configured;
    });
    const zone = due[0] ? config.hosts.get(due[0].host)?.zone : undefined;
    if (zone === undefined) return { events: [], records: [], servers: [] };
    return this.round(zone, config, due, false, (r, answers, at) =>
      judge(r, answers, at, this.serveWithinMs(r.host, config)),
    );
  }

  /**
   * Ask about every record of `zone` the coordinator holds (`memory`), against what it holds:
   * the scheduled check (`reread`: OVH's list of servers read again) and "Check now".
   */
  async all(
    zone: string,
    config: Config,
    memory: RecordMemory,
    reread: boolean,
    now: number,
  ): Promise<Round> {
    const records: ServedRecord[] = [];
    for (const host of config.hosts.values()) {
      if (host.zone !== zone) continue;
      for (const spec of host.records) {
        const key = recordKey(spec.type, spec.subdomain);
        const known = memory.get(key);
        if (!known?.target || known.unconfirmed) continue;
        const name = fqdnOf({ subdomain: spec.subdomain, zone });
        const kept = this.d.store.get(key);
        const same = kept && sameAddress(kept.target, known.target);
        records.push(
          same
            ? kept
            : startWatch({ key, host: host.name, name, type: spec.type, target: known.target }, now, "check"),
        );
      }
    }
    return this.round(zone, config, records, reread, (r, answers, at) => {
      // A record served until now and no longer: a new watch, from now.
      const from = r.state === "served" && !servedByAll(r.target, answers) ? startWatch(r, at, "check") : r;
      return judge(from, answers, at, this.serveWithinMs(r.host, config));
    });
  }

  private serveWithinMs(host: string, config: Config): number {
    const spec = config.hosts.get(host);
    return (spec ? serveWithinOf(spec, config.settings) : config.settings.serveWithin) * 1000;
  }

  private async round(
    zone: string,
    config: Config,
    records: ServedRecord[],
    reread: boolean,
    next: (r: ServedRecord, answers: ServerAnswer[], at: number) => ServedRecord,
  ): Promise<Round> {
    if (records.length === 0) return { events: [], records: [], servers: [] };
    const stored = records.map((r) => this.d.store.get(r.key));
    const { servers, problem } = await this.servers(zone, config, reread);
    const answers =
      servers.length > 0
        ? await askAbout(records, servers, this.d.connect, clockNow)
        : new Map<string, ServerAnswer[]>();
    const at = clockNow();
    const after = records.map((r) => next(r, answers.get(r.key) ?? [], at));
    for (const [i, r] of after.entries()) this.d.store.update(r, stored[i]);
    const events: HealthEvent[] = [];
    for (const host of new Set(after.map((r) => r.host))) {
      const prior = this.d.hosts.get(host);
      const spec = config.hosts.get(host);
      if (!prior || !spec) continue;
      const unserved = spec.records
        .map((s) => this.d.store.get(recordKey(s.type, s.subdomain)))
        .filter((r): r is ServedRecord => r?.state === "unserved");
      const { next: record, event } = afterServed(
        host,
        prior,
        unserved,
        serveWithinOf(spec, config.settings),
        at,
      );
      if (record !== prior) this.d.hosts.set(host, record);
      if (event) events.push(event);
    }
    this.d.hosts.flush();
    return { events, records: after, servers: servers.map((s) => s.label), ...(problem ? { problem } : {}) };
  }

  /** The servers to ask: name_servers, else OVH's list (kept; read again when `reread`). */
  private async servers(
    zone: string,
    config: Config,
    reread: boolean,
  ): Promise<{ servers: NameServer[]; problem?: string }> {
    let labels = config.settings.nameServers;
    let problem: string | undefined;
    if (labels.length === 0) {
      const kept = this.d.store.nameServers(zone);
      labels = kept?.list ?? [];
      if (!kept || reread) {
        try {
          labels = await this.d.readNameServers(zone, config);
          this.d.store.keepNameServers(zone, labels, clockNow());
        } catch (error) {
          problem = `the zone's name servers could not be read from OVH: ${messageOf(error)}`;
        }
      }
    }
    const servers = labels.map(parseNameServer).filter((s): s is NameServer => s !== undefined);
    if (servers.length === 0 && !problem) problem = `OVH lists no name server for ${zone}`;
    return { servers, ...(problem ? { problem } : {}) };
  }
}
