// The /status answer: what a client's hosts hold and their recent reports, asked of each zone's
// coordinator. Scripts read it as JSON, and so does the status page. Nothing secret is in the
// report to begin with.
import { loginsGuardName } from "../access/guard";
import type { ClientSpec, Config } from "../config";
import { iso } from "../core/text";
import type { Env } from "../env";
import {
  fqdnOf,
  type HealthState,
  HISTORY_LIMIT,
  type HistoryEntry,
  keyOf,
  type LastReport,
  type ServedRecord,
  type ServedState,
} from "../zone/protocol";
import { zoneStub } from "../zone/stubs";

export interface StatusReport {
  client: string;
  hosts: {
    name: string;
    zone: string;
    /** `reason`: one line for a person, what is wrong and what to check ("" when ok). */
    health: { state: HealthState; reason: string; since: string | null };
    lastReport: {
      at: string;
      client: string;
      source: string | null;
      agent: string | null;
      outcome: string;
    } | null;
    records: {
      name: string;
      type: string;
      target: string | null;
      ttl: number;
      changedAt: string | null;
      confirmedAt: string | null;
      /** A write was sent and OVH has not confirmed it: what is served is not known. */
      unconfirmed?: true;
      /** Whether the zone's name servers serve it (null: not asked yet). */
      served: Served | null;
    }[];
  }[];
  history: HistoryEntry[];
  /** Failed logins with the client's own user name in the last day, per source network. */
  failedLogins: { user: string; source: string; count: number; lastAt: string }[];
}

/** What the name servers serve for a record (src/zone/watch.ts says what each state means). */
export interface Served {
  state: ServedState;
  /** The target the servers are asked about. */
  target: string;
  since: string;
  /** Served after a report: seconds from the report until every server answered the target. */
  seconds: number | null;
  /** The report (or check) the watch began with. */
  startedAt: string;
  cause: "report" | "check";
  /** When the servers are asked next; null once served, or unserved (the scheduled check asks again). */
  nextAt: string | null;
  /** Each server's last answer: the addresses it serves, or null and why not. */
  servers: { server: string; records: string[] | null; reason?: string; at: string }[];
}

export function servedOf(r: ServedRecord | undefined): Served | null {
  if (!r) return null;
  return {
    state: r.state,
    target: r.target,
    since: iso(r.since),
    seconds: r.tookMs === null ? null : Math.round(r.tookMs / 100) / 10,
    startedAt: iso(r.startedAt),
    cause: r.cause,
    nextAt: r.nextAt === null ? null : iso(r.nextAt),
    servers: r.answers.map((a) => ({ ...a, at: iso(a.at) })),
  };
}

/** How many history entries `?history=N` shows: N within 0…HISTORY_LIMIT, 50 when unset or not a number. */
export function historyLength(asked: string | undefined): number {
  const n = Number(asked ?? 50);
  return Number.isInteger(n) ? Math.min(Math.max(n, 0), HISTORY_LIMIT) : 50;
}

/** The status of the client's hosts, one coordinator call per zone. */
export async function statusReport(
  env: Env,
  config: Config,
  client: ClientSpec,
  historyLength: number,
): Promise<StatusReport> {
  const byZone = new Map<string, string[]>();
  // An admin client sees every host; the others the hosts they report for.
  for (const name of client.admin ? config.hosts.keys() : client.hosts) {
    const host = config.hosts.get(name);
    if (host) byZone.set(host.zone, [...(byZone.get(host.zone) ?? []), name]);
  }
  const report: StatusReport = { client: client.name, hosts: [], history: [], failedLogins: [] };
  const logins = env.GUARD.get(env.GUARD.idFromName(loginsGuardName(client.name))).failedLogins();
  await Promise.all(
    [...byZone].map(async ([zone, names]) => {
      const keys = names.flatMap((n) => config.hosts.get(n)?.records.map(keyOf) ?? []);
      const status = await zoneStub(env, zone).status(keys, names, client.name, historyLength);
      for (const name of names) {
        const host = config.hosts.get(name);
        const health = status.health[name] ?? { state: "never", reason: "", since: null };
        const last = status.hosts[name]?.last;
        report.hosts.push({
          name,
          zone,
          health: { ...health, since: health.since === null ? null : iso(health.since) },
          lastReport: last ? lastReportOf(last, client) : null,
          records: (host?.records ?? []).map((r) => {
            const key = keyOf(r);
            const state = status.records[key];
            return {
              name: fqdnOf(r),
              type: r.type,
              target: state?.target || null,
              ttl: state?.ttl ?? r.ttl,
              changedAt: state?.changedAt ? iso(state.changedAt) : null,
              confirmedAt: state?.confirmedAt ? iso(state.confirmedAt) : null,
              ...(state?.unconfirmed ? { unconfirmed: true as const } : {}),
              served: servedOf(status.served[key]),
            };
          }),
        });
      }
      // A host shared with another client: that client's source addresses and OVH query ids
      // are its own business (the admin, the owner of them all, sees them).
      report.history.push(
        ...status.history.map((e) =>
          e.client === client.name || client.admin ? e : { ...e, source: null, queryIds: [] as string[] },
        ),
      );
    }),
  );
  report.failedLogins = (await logins).map((f) => ({ user: client.name, ...f, lastAt: iso(f.lastAt) }));
  report.hosts.sort((a, b) => a.name.localeCompare(b.name));
  report.history.sort((a, b) => b.lastAt - a.lastAt);
  report.history.splice(historyLength);
  return report;
}

/** The last report as JSON; another client's source and user agent are its own business. */
function lastReportOf(last: LastReport, client: ClientSpec): StatusReport["hosts"][number]["lastReport"] {
  const theirs = last.client !== client.name && !client.admin;
  return {
    ...last,
    at: iso(last.at),
    source: theirs ? null : last.source,
    agent: theirs ? null : last.agent,
  };
}
