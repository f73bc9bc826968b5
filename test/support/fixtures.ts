// The configuration most tests share: the two designs of the brief, plus a few edge hosts.
import type { OvhSimulator } from "../../sim/ovh-simulator";
import { type Endpoint, sha256Hex } from "./endpoint";

export const ZONE = "example.tld";
export const OTHER_ZONE = "example.org";
export const HOME_PASSWORD = "home-password";
export const NEIGHBOUR_PASSWORD = "neighbour-password";
/** SESSION_SECRET for tests of the status page's login. */
export const SESSION_SECRET = "test-session-secret-0123456789abcdefghijklmnop";

/** wg-end's interface bits: subnet 10 of the /56, interface id 211:32ff:fe12:3456. */
export const WG_HOST_ID = "::10:211:32ff:fe12:3456";

export async function testVars(): Promise<Record<string, unknown>> {
  return {
    HOSTS: {
      // Design 1: WireGuard endpoint; both AAAA follow the prefix, A only when IPv4 is reported.
      "wg-end.example.tld": {
        zone: ZONE,
        allow_private: true,
        records: [
          { subdomain: "wg-end", type: "AAAA", host_id: WG_HOST_ID, prefix_length: 56 },
          { subdomain: "firewall", type: "AAAA", host_id: WG_HOST_ID, prefix_length: 56 },
        ],
      },
      "firewall.example.tld": {
        zone: ZONE,
        allow_private: true,
        records: [{ subdomain: "firewall", type: "A" }],
      },
      // Design 2: home service behind CGNAT; A of "service" points at a proxy and is not ours.
      "service.example.tld": {
        zone: ZONE,
        allow_private: true,
        records: [
          { subdomain: "service", type: "AAAA" },
          { subdomain: "service6", type: "AAAA" },
        ],
      },
      // Prefix + host bits with the reported length (a /64 LAN).
      "nas.example.tld": {
        zone: ZONE,
        allow_private: true,
        ttl: 120,
        records: [
          { subdomain: "nas", type: "AAAA", host_id: "::211:32ff:fe12:3456" },
          { subdomain: "nas", type: "A" },
        ],
      },
      // No allow_private: documentation and private addresses are refused here.
      "strict.example.tld": {
        zone: ZONE,
        records: [
          { subdomain: "strict", type: "AAAA" },
          { subdomain: "strict", type: "A" },
        ],
      },
      "apex.example.org": {
        zone: OTHER_ZONE,
        allow_private: true,
        records: [{ subdomain: "", type: "AAAA" }],
      },
      "other.example.tld": {
        zone: ZONE,
        allow_private: true,
        records: [{ subdomain: "other", type: "AAAA" }],
      },
    },
    CLIENTS: {
      home: {
        password_sha256: await sha256Hex(HOME_PASSWORD),
        hosts: [
          "wg-end.example.tld",
          "firewall.example.tld",
          "service.example.tld",
          "nas.example.tld",
          "strict.example.tld",
          "apex.example.org",
        ],
      },
      neighbour: { password_sha256: await sha256Hex(NEIGHBOUR_PASSWORD), hosts: ["other.example.tld"] },
    },
  };
}

/** The targets OVH would serve (the live zone) for one name and type. */
export function liveTargets(sim: OvhSimulator, type: string, sub: string, zone = ZONE): string[] {
  return sim
    .liveRecords(zone)
    .filter((r) => r.fieldType === type && r.subDomain === sub)
    .map((r) => r.target);
}

/** The unchanged reports a host's history keeps (KEEP_PER_HOST in src/zone/store/history.ts)… */
export const HISTORY_KEEPS = 500;
/** …and up to TRIM_EVERY - 1 (49) more between trims. */
export const HISTORY_KEPT_AT_MOST = HISTORY_KEEPS + 49;

/**
 * `count` reports of `query` that change nothing (each must be answered `reply`), 25 at a time,
 * each from a source of its own: the history counts a report that repeats the host's newest entry
 * in that entry, so only reports that differ from the one before take an entry each.
 */
export async function unchangedReports(
  ep: Pick<Endpoint, "update">,
  query: Record<string, string>,
  reply: string,
  count: number,
): Promise<void> {
  for (let done = 0; done < count; done += 25) {
    await Promise.all(
      Array.from({ length: Math.min(25, count - done) }, async (_, i) => {
        const source = `2001:db8:f100::${(done + i + 1).toString(16)}`;
        const answer = await ep.update(query, { headers: { "CF-Connecting-IP": source } });
        if (answer.body !== reply)
          throw new Error(`report ${done + i + 1}: ${answer.body} instead of ${reply}`);
      }),
    );
  }
}
