// The zone's job in the real runtime (issue 21, items 1 and 2): a report bigger than one
// continuation converges, client retries are answered from the job (nothing is read twice), and
// a restarted coordinator keeps the pace it had (no new burst) and the job's progress. The pace's
// timing on a fake clock is test/unit/job.property.test.ts.
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type Endpoint, startEndpoint, startTestSimulator } from "../support/endpoint";
import { testVars, ZONE } from "../support/fixtures";
import { ownWorkers } from "../support/slots";

const keep = ownWorkers();

/** Four hosts of two records each, cold (nothing at OVH), as a router reporting them together would. */
async function fourHosts(settings: Record<string, number>) {
  const vars = await testVars();
  const hosts: Record<string, unknown> = {};
  const names: string[] = [];
  for (let h = 0; h < 4; h++) {
    names.push(`h${h}.${ZONE}`);
    hosts[`h${h}.${ZONE}`] = {
      zone: ZONE,
      allow_private: true,
      records: [
        { subdomain: `h${h}`, type: "A" },
        { subdomain: `h${h}-alias`, type: "A" },
      ],
    };
  }
  const home = (vars.CLIENTS as { home: object }).home;
  return { vars: { HOSTS: hosts, CLIENTS: { home: { ...home, hosts: names } }, SETTINGS: settings }, names };
}

/** How often each name was listed. */
const listsPerName = (ep: Endpoint) => {
  const counts = new Map<string, number>();
  for (const c of ep.sim.calls({ kind: "list" })) {
    const name = `${c.query.fieldType} ${c.query.subDomain}`;
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return counts;
};

describe("a job bigger than one continuation (item 1)", () => {
  it("converges while its client retries; each retry goes on from the job, so no name is listed twice", async () => {
    // Five calls a continuation: the report's 17 calls (8 lists, 8 creates, a refresh) take several.
    const { vars, names } = await fourHosts({ max_ovh_calls: 5 });
    const ep = keep(await startEndpoint({ vars }));
    ep.sim.addZone(ZONE);
    const report = { hostname: names.join(","), myip: "198.51.100.9" };
    const first = await ep.update(report);
    expect(first.body).toContain("911");
    let reply = first;
    for (let i = 0; i < 20 && reply.body.includes("911"); i++) reply = await ep.update(report);
    // Every host is live; the retries, and the alarm between them, went on where the job was.
    expect(ep.sim.liveRecords(ZONE).map((r) => r.target)).toEqual(Array(8).fill("198.51.100.9"));
    expect(ep.sim.records(ZONE)).toHaveLength(8);
    expect([...listsPerName(ep).values()].every((n) => n === 1)).toBe(true);
    expect(listsPerName(ep).size).toBe(8);
    expect(reply.body).toMatch(/^(good|nochg) 198\.51\.100\.9\n/);
    const history = await ep.fetch("/status", {
      headers: { Authorization: `Basic ${btoa("home:home-password")}` },
    });
    expect(history.status).toBe(200);
  }, 60_000);
});

describe("a restarted coordinator (item 2)", () => {
  it("goes on at the pace it had, with no new burst, and with the job's progress", async () => {
    // Two calls a minute: a burst of one, then one a minute. A cold record needs a list, a create
    // and a refresh: the first report has the list only.
    const sim = await startTestSimulator();
    sim.addZone(ZONE);
    const dir = await mkdtemp(join(tmpdir(), "paced-"));
    const options = {
      vars: { ...(await testVars()), SETTINGS: { ovh_calls_per_minute: 2 } },
      sim,
      persist: dir,
    };
    const firewall = { hostname: `firewall.${ZONE}`, myip: "198.51.100.7" };
    try {
      const before = await startEndpoint(options);
      expect((await before.update(firewall)).body).toBe("911\n");
      expect(
        sim
          .calls()
          .filter((c) => c.kind !== "auth-time")
          .map((c) => c.kind),
      ).toEqual(["list"]);
      await before.close();

      const after = keep(await startEndpoint(options));
      sim.resetCalls();
      // The bucket is as the first instance left it: no call now, and the retry is answered from
      // the job (what the list found is kept), not with a new list.
      const retry = await after.update(firewall);
      expect(retry.body).toBe("911\n");
      expect(sim.calls().filter((c) => c.kind !== "auth-time")).toEqual([]);
      await after.flushLogs();
      expect(after.logs.some((l) => l.includes("continued at"))).toBe(true);
    } finally {
      await sim.close();
    }
  }, 60_000);
});
