// The benchmark's own configuration: a client allowed every bench host, in zones made for the
// scenarios, and the simulator seeded with the records those hosts write.
import type { OvhSimulator } from "../sim/ovh-simulator";
import { allowTestKey, sha256Hex, TEST_OVH } from "../test/support/endpoint";

export const USER = "bench";
export const PASSWORD = "bench-password";
export const AUTHORIZATION = `Basic ${btoa(`${USER}:${PASSWORD}`)}`;

/** Two AAAA records (svc, svc6) for one host: the "one host, two records" scenarios. */
export const ONE = { zone: "one.bench.test", host: "svc.one.bench.test" } as const;
/** Two AAAA records like ONE, in a zone of their own: the restarted-Worker scenario's. */
export const RESTART = { zone: "restart.bench.test", host: "svc.restart.bench.test" } as const;
/** Four hosts of one AAAA each, two per zone. */
export const SPREAD = {
  zones: ["a.bench.test", "b.bench.test"],
  hosts: ["m1.a.bench.test", "m2.a.bench.test", "m3.b.bench.test", "m4.b.bench.test"],
} as const;
/** Twenty hosts of one AAAA each in one zone: the most one request may name. */
export const MANY = {
  zone: "many.bench.test",
  hosts: Array.from({ length: 20 }, (_, i) => `h${String(i + 1).padStart(2, "0")}.many.bench.test`),
} as const;
/**
 * The pace's rows (bench/pace.ts), at the default ovh_calls_per_minute: twenty hosts of one AAAA
 * each, remembered by no coordinator yet (a list, a read and an update each), and twenty hosts of
 * two AAAA records that OVH does not have yet (40 records: a list and a create each).
 */
export const PACED = {
  many: {
    zone: "paced-many.bench.test",
    hosts: Array.from({ length: 20 }, (_, i) => `p${i + 1}.paced-many.bench.test`),
  },
  cold: {
    zone: "paced-cold.bench.test",
    hosts: Array.from({ length: 20 }, (_, i) => `q${i + 1}.paced-cold.bench.test`),
  },
} as const;

/** Zone i of the cold-coordinator scenario: a zone no coordinator has seen yet. */
export const coldZone = (i: number) => `cold-${i}.bench.test`;
export const coldHost = (i: number) => `svc.${coldZone(i)}`;

/** The address every record holds before the first report: never reported by the bench. */
export const SEEDED = "2001:db8:ffff::1";

type HostVars = { zone: string; allow_private: true; records: { subdomain: string; type: "AAAA" }[] };

const label = (host: string) => host.split(".")[0] as string;

function twoRecords(zone: string): HostVars {
  return {
    zone,
    allow_private: true, // the bench reports documentation addresses (2001:db8::/32)
    records: [
      { subdomain: "svc", type: "AAAA" },
      { subdomain: "svc6", type: "AAAA" },
    ],
  };
}

function oneRecord(host: string, zone: string): HostVars {
  return { zone, allow_private: true, records: [{ subdomain: label(host), type: "AAAA" }] };
}

const zoneOf = (host: string) => host.slice(host.indexOf(".") + 1);

/**
 * Worker vars and secrets for the bench, with `coldZones` zones for the cold-coordinator runs.
 * `paced`: at the default pace (the pace's rows); else the pace is out of the way, so the
 * latency rows measure a report, not the pace (twenty changes in a row spend its burst).
 */
export async function benchBindings(
  simUrl: string,
  coldZones: number,
  { paced = false } = {},
): Promise<Record<string, unknown>> {
  const hosts: Record<string, HostVars> = {
    [ONE.host]: twoRecords(ONE.zone),
    [RESTART.host]: twoRecords(RESTART.zone),
  };
  for (const host of [...SPREAD.hosts, ...MANY.hosts, ...PACED.many.hosts])
    hosts[host] = oneRecord(host, zoneOf(host));
  for (const host of PACED.cold.hosts)
    hosts[host] = {
      ...twoRecords(PACED.cold.zone),
      records: [
        { subdomain: label(host), type: "AAAA" },
        { subdomain: `${label(host)}-6`, type: "AAAA" },
      ],
    };
  for (let i = 0; i < coldZones; i++) hosts[coldHost(i)] = twoRecords(coldZone(i));
  return {
    OVH_ENDPOINT: simUrl,
    OVH_APPLICATION_KEY: TEST_OVH.applicationKey,
    OVH_APPLICATION_SECRET: TEST_OVH.applicationSecret,
    OVH_CONSUMER_KEY: TEST_OVH.consumerKey,
    HOSTS: hosts,
    CLIENTS: { [USER]: { password_sha256: await sha256Hex(PASSWORD), hosts: Object.keys(hosts) } },
    // The change scenarios alternate two addresses; the default (20 changes an hour) would
    // answer `abuse` after the twentieth.
    // max_ovh_calls as on a paid plan (1,000 subrequests): the cold 20-host report needs 61 calls
    // in one go. With the Free plan's default (45) it takes three reports; a test covers that.
    SETTINGS: paced
      ? { change_limit: 10_000 }
      : { change_limit: 10_000, max_ovh_calls: 1000, ovh_calls_per_minute: 10_000 },
  };
}

/** Credentials, zones and the records every bench host writes, holding SEEDED. */
export function seed(sim: OvhSimulator, coldZones: number): void {
  allowTestKey(sim);
  const add = (zone: string, subDomain: string) =>
    sim.addRecord(zone, { fieldType: "AAAA", subDomain, target: SEEDED, ttl: 60 });
  const zones: string[] = [
    ONE.zone,
    RESTART.zone,
    ...SPREAD.zones,
    MANY.zone,
    PACED.many.zone,
    PACED.cold.zone,
  ];
  for (let i = 0; i < coldZones; i++) zones.push(coldZone(i));
  for (const zone of zones) sim.addZone(zone);
  for (const zone of [ONE.zone, RESTART.zone, ...zones.filter((z) => z.startsWith("cold-"))]) {
    add(zone, "svc");
    add(zone, "svc6");
  }
  for (const host of [...SPREAD.hosts, ...MANY.hosts, ...PACED.many.hosts]) add(zoneOf(host), label(host));
}
