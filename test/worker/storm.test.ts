// A storm (issue 21, item 15): concurrent reports while OVH fails at random on every method,
// reads a created record as missing once (its 404-on-the-first-read quirk), answers creates with
// id 0, and renumbers the zone's ids (a text-mode edit in its console); then calm reports. However
// the storm went, each name ends with exactly one record, written and live, and the calm reports
// are answered good or nochg: no duplicate is ever created and no dnserr stays.
//
// STORM_ROUNDS=n (default 6) makes a longer storm, for running it by hand many times.
import { afterEach, describe, expect, it } from "vitest";
import { type Endpoint, startEndpoint } from "../support/endpoint";
import { testVars, ZONE } from "../support/fixtures";

let ep: Endpoint;
afterEach(async () => {
  expect(ep.unexpected).toEqual([]);
  await ep.close();
});

const ROUNDS = Number(process.env.STORM_ROUNDS ?? 6);
/** The names the storm's hosts write, as type and subdomain. */
const NAMES = [
  "AAAA wg-end",
  "AAAA firewall",
  "A firewall",
  "AAAA service",
  "AAAA service6",
  "A nas",
  "AAAA nas",
];

const pick = <T>(list: readonly T[]): T => list[Math.floor(Math.random() * list.length)] as T;
const byte = () => Math.floor(Math.random() * 250) + 1;

/** A random report of one host (its address or prefix changes most of the time). */
function randomReport(): Record<string, string> {
  const host = pick(["wg-end", "firewall", "service", "nas"] as const);
  switch (host) {
    case "wg-end":
      return { hostname: "wg-end.example.tld", myip: `2001:db8:${byte().toString(16)}:ab00::1` };
    case "firewall":
      return { hostname: "firewall.example.tld", myip: `198.51.100.${byte()}` };
    case "service":
      return { hostname: "service.example.tld", myip: `2001:db8::${byte().toString(16)}` };
    case "nas":
      return {
        hostname: "nas.example.tld",
        myip: `198.51.100.${byte()},2001:db8:0:${byte().toString(16)}::1`,
      };
  }
}

/** The final, calm report of every host. */
const CALM = [
  { hostname: "wg-end.example.tld", myip: "2001:db8:77:ab00::1" },
  { hostname: "firewall.example.tld", myip: "198.51.100.77" },
  { hostname: "service.example.tld", myip: "2001:db8::77" },
  { hostname: "nas.example.tld", myip: "198.51.100.78,2001:db8:0:77::1" },
];

describe("a storm of reports against a failing, quirky OVH (item 15)", () => {
  it("leaves exactly one live record per name, and the calm reports that follow answer good or nochg", async () => {
    ep = await startEndpoint({
      vars: {
        ...(await testVars()),
        SETTINGS: { recheck_after: 1, change_limit: 10_000, ovh_calls_per_minute: 10_000 },
      },
    });
    ep.sim.addZone(ZONE);
    ep.sim.setQuirks({ readAfterCreate404: true, createIdZero: true, refreshAnswer: "204" });
    for (const method of ["GET", "POST", "PUT"])
      ep.sim.injectFault({
        method,
        path: /^\/domain\//,
        chance: 0.2,
        fault: { kind: "status", status: 503 },
      });

    const answers = new Set<string>();
    for (let round = 0; round < ROUNDS; round++) {
      const replies = await Promise.all(Array.from({ length: 8 }, () => ep.update(randomReport())));
      for (const r of replies) answers.add(r.body.split(/[ \n]/)[0] ?? "");
      if (round % 3 === 2) ep.sim.renumberRecords(ZONE);
    }
    // OVH failing answers 911; a duplicate would have answered dnserr.
    expect([...answers].filter((a) => !["good", "nochg", "911"].includes(a))).toEqual([]);

    ep.sim.clearFaults();
    // Calm: each host's report, repeated until its answer settles (at most a few times).
    for (const report of CALM) {
      let body = "";
      for (let i = 0; i < 3 && !/^(good|nochg) /.test(body); i++) {
        body = (await ep.update(report)).body;
        expect(body).not.toMatch(/^dnserr/);
      }
      expect(body).toBe(`${/^(good|nochg)/.exec(body)?.[0] ?? "good"} ${report.myip}\n`);
    }
    const count = (records: { fieldType: string; subDomain: string }[], name: string) =>
      records.filter((r) => `${r.fieldType} ${r.subDomain}` === name).length;
    for (const name of NAMES) {
      expect({ name, written: count(ep.sim.records(ZONE), name) }).toEqual({ name, written: 1 });
      expect({ name, live: count(ep.sim.liveRecords(ZONE), name) }).toEqual({ name, live: 1 });
    }
  }, 120_000);
});
