// The zone side against OVH as it really behaves (issue 13, zone items): writes OVH did not
// confirm, records added to a name later, OVH's quirky answers. Tests with the same settings
// share a Worker and simulator, each test in a zone of its own (test/support/slots.ts), so with
// fresh coordinator storage and records; the others get a fresh Worker and simulator.
import { describe, expect, it, onTestFinished } from "vitest";
import type { Quirks } from "../../sim/ovh-simulator";
import { type Endpoint, elapse, startEndpoint, untilServed } from "../support/endpoint";
import { HOME_PASSWORD, liveTargets, testVars, ZONE } from "../support/fixtures";
import { ownWorkers, sharedBySettings, sharedWorkers } from "../support/slots";

let ep: Endpoint;
/** This test's zone: example.tld in a Worker of its own, another in a shared one. */
let zone = ZONE;
/** A host or record name of the fixtures in this test's zone ("service" → service.example.tld). */
const fqdn = (name: string) => `${name}.${zone}`;
const keep = ownWorkers();

async function fresh(settings: Record<string, number> = {}): Promise<void> {
  ep = keep(await startEndpoint({ vars: { ...(await testVars()), SETTINGS: settings }, clock: true }));
  zone = ZONE;
  ep.sim.addZone(ZONE);
}
const useShared = sharedWorkers(6);
/** In a describe block: its tests share the Worker with these settings, each in a zone of its own. */
const shared = (settings: Record<string, number> = {}) =>
  sharedBySettings(useShared, settings, (slot) => {
    ({ ep, zone } = slot);
  });

const live = (type: string, sub: string) => liveTargets(ep.sim, type, sub, zone);
/** The OVH calls made for this test's zone (and the signature's clock). */
const calls = () =>
  ep.sim.calls().filter((c) => c.kind === "auth-time" || c.path.startsWith(`/domain/zone/${zone}/`));
const kinds = () =>
  calls()
    .filter((c) => c.kind !== "auth-time")
    .map((c) => c.kind)
    .sort();

async function status(): Promise<{ hosts: { name: string; records: Record<string, unknown>[] }[] }> {
  const r = await ep.fetch("/status", {
    headers: { Authorization: `Basic ${btoa(`home:${HOME_PASSWORD}`)}` },
  });
  return (await r.json()) as { hosts: { name: string; records: Record<string, unknown>[] }[] };
}

describe("a write OVH did not confirm (item 1)", () => {
  describe("default settings", () => {
    shared();
    it("after a failed refresh, the old address reported again is written back, though another host's refresh published the new one", async () => {
      expect((await ep.update({ hostname: fqdn("service"), myip: "2001:db8::1" })).body).toBe(
        "good 2001:db8::1\n",
      );
      ep.sim.injectFault({
        method: "POST",
        path: `/domain/zone/${zone}/refresh`,
        times: 1,
        fault: { kind: "status", status: 503, body: '{"message":"Service Unavailable"}' },
      });
      expect((await ep.update({ hostname: fqdn("service"), myip: "2001:db8::2" })).body).toBe("911\n");
      const pending = (await status()).hosts.find((h) => h.name === fqdn("service"));
      expect(pending?.records[0]).toMatchObject({ target: "2001:db8::1", unconfirmed: true });

      // Another host's change: its refresh publishes the staged write of service as well.
      expect((await ep.update({ hostname: fqdn("firewall"), myip: "198.51.100.7" })).body).toBe(
        "good 198.51.100.7\n",
      );
      expect(live("AAAA", "service")).toEqual(["2001:db8::2"]);

      ep.sim.resetCalls();
      const back = await ep.update({ hostname: fqdn("service"), myip: "2001:db8::1" });
      expect(back.body).toBe("good 2001:db8::1\n");
      expect(kinds()).toEqual(["get", "get", "list", "list", "refresh", "update", "update"]);
      expect(live("AAAA", "service")).toEqual(["2001:db8::1"]);
      expect(live("AAAA", "service6")).toEqual(["2001:db8::1"]);
      const settled = (await status()).hosts.find((h) => h.name === fqdn("service"));
      expect(settled?.records[0]).toMatchObject({ target: "2001:db8::1" });
      expect(settled?.records[0]).not.toHaveProperty("unconfirmed");
    });
  });

  it("after a write whose answer was lost (a time-out), the old address reported again is written back, not answered nochg", async () => {
    await fresh({ ovh_timeout_ms: 500 });
    expect((await ep.update({ hostname: fqdn("firewall"), myip: "198.51.100.7" })).body).toBe(
      "good 198.51.100.7\n",
    );
    const [record] = ep.sim.records(zone);
    // The PUT arrives and is applied, but its answer never comes.
    ep.sim.injectFault({
      method: "PUT",
      path: `/domain/zone/${zone}/record/${record?.id}`,
      times: 1,
      fault: { kind: "lost" },
    });
    expect((await ep.update({ hostname: fqdn("firewall"), myip: "198.51.100.8" })).body).toBe("911\n");
    // Once the breaker's cool-down (twice ovh_timeout_ms) is over, on the Worker's clock, another
    // host's change publishes the staged write (tried again while a call of a loaded machine
    // outlasts the short time-out and the breaker answers 911, at most 10 s).
    ep.clock.advance(1000);
    const published = await untilServed(() => ep.update({ hostname: fqdn("service"), myip: "2001:db8::1" }));
    expect(published.body).toBe("good 2001:db8::1\n");
    expect(live("A", "firewall")).toEqual(["198.51.100.8"]);

    const back = await ep.update({ hostname: fqdn("firewall"), myip: "198.51.100.7" });
    expect(back.body).toBe("good 198.51.100.7\n");
    expect(live("A", "firewall")).toEqual(["198.51.100.7"]);
  });
});

describe("the recheck sees records added later (item 2)", () => {
  shared();
  it("a second record added by hand to a remembered name answers dnserr at the recheck, and nothing is written", async () => {
    await ep.update({ hostname: fqdn("firewall"), myip: "198.51.100.7" });
    ep.sim.addRecord(zone, { fieldType: "A", subDomain: "firewall", target: "198.51.100.66", ttl: 60 });
    ep.clock.advance(3_601_000); // past recheck_after
    ep.sim.resetCalls();
    const reply = await ep.update({ hostname: fqdn("firewall"), myip: "198.51.100.7" });
    expect(reply.body).toBe("dnserr\n");
    expect(kinds()).toEqual(["get", "get", "list"]);
  });
});

describe("OVH's quirks (item 17)", () => {
  shared();
  /** Switch a quirk of the shared simulator on, for this test only. */
  const quirk = (quirks: Quirks) => {
    ep.sim.setQuirks(quirks);
    onTestFinished(() => ep.sim.setQuirks({ createIdZero: false, refreshAnswer: "null" }));
  };
  it("a create answered with id 0: the record is found by listing, and the next change updates it", async () => {
    quirk({ createIdZero: true });
    expect((await ep.update({ hostname: fqdn("firewall"), myip: "198.51.100.7" })).body).toBe(
      "good 198.51.100.7\n",
    );
    ep.sim.resetCalls();
    expect((await ep.update({ hostname: fqdn("firewall"), myip: "198.51.100.8" })).body).toBe(
      "good 198.51.100.8\n",
    );
    const [record] = ep.sim.records(zone);
    expect(ep.sim.calls({ kind: "update" }).map((c) => c.path)).toEqual([
      `/domain/zone/${zone}/record/${record?.id}`,
    ]);
    expect(ep.sim.records(zone)).toHaveLength(1);
    expect(live("A", "firewall")).toEqual(["198.51.100.8"]);
  });

  for (const refreshAnswer of ["null", "204", "empty"] as const) {
    it(`a refresh answered ${refreshAnswer === "null" ? "200 null" : refreshAnswer === "204" ? "204 No Content" : "200 with an empty body"} is success`, async () => {
      quirk({ refreshAnswer });
      expect((await ep.update({ hostname: fqdn("firewall"), myip: "198.51.100.7" })).body).toBe(
        "good 198.51.100.7\n",
      );
      ep.sim.resetCalls();
      // Confirmed: the next identical report costs nothing.
      expect((await ep.update({ hostname: fqdn("firewall"), myip: "198.51.100.7" })).body).toBe(
        "nochg 198.51.100.7\n",
      );
      expect(calls()).toEqual([]);
      expect(live("A", "firewall")).toEqual(["198.51.100.7"]);
    });
  }
});

describe("the change limit is no lock-out weapon (item 7)", () => {
  shared({ change_limit: 3, change_window: 3600 });
  it("a credential spending the limit from its own network refuses only itself (429, Retry-After); the router from its network still corrects the record", async () => {
    const thief = { headers: { "CF-Connecting-IP": "203.0.113.66" } };
    for (const ip of ["198.51.100.61", "198.51.100.62", "198.51.100.63"]) {
      expect((await ep.update({ hostname: fqdn("firewall"), myip: ip }, thief)).body).toBe(`good ${ip}\n`);
    }
    const refused = await ep.update({ hostname: fqdn("firewall"), myip: "198.51.100.64" }, thief);
    expect(refused.status).toBe(429);
    expect(refused.body).toBe("abuse\n");
    const wait = Number(refused.headers.get("Retry-After"));
    expect(wait).toBeGreaterThan(3500);
    expect(wait).toBeLessThanOrEqual(3600);
    expect(live("A", "firewall")).toEqual(["198.51.100.63"]);

    // The router, with the same credential, from its own network (the IPv6 /64 it reports from).
    const router = { headers: { "CF-Connecting-IP": "2001:db8:ab:cd00::1" } };
    const fixed = await ep.update({ hostname: fqdn("firewall"), myip: "198.51.100.7" }, router);
    expect(fixed.body).toBe("good 198.51.100.7\n");
    expect(live("A", "firewall")).toEqual(["198.51.100.7"]);
    // Another address of the same /64 is the same writer: its count goes on.
    const sameNet = { headers: { "CF-Connecting-IP": "2001:db8:ab:cd00::2" } };
    expect((await ep.update({ hostname: fqdn("firewall"), myip: "198.51.100.8" }, sameNet)).body).toBe(
      "good 198.51.100.8\n",
    );
  });

  it("a request with a refused host and an accepted one answers 200, each host on its line", async () => {
    for (const ip of ["198.51.100.1", "198.51.100.11", "198.51.100.12"])
      await ep.update({ hostname: fqdn("firewall"), myip: ip });
    const mixed = await ep.update({
      hostname: `${fqdn("firewall")},${fqdn("service")}`,
      myip: "198.51.100.2,2001:db8::5",
    });
    expect(mixed.status).toBe(200);
    expect(mixed.body).toBe("abuse\ngood 198.51.100.2,2001:db8::5\n");
  });
});

describe("a hung OVH queues no one (item 11)", () => {
  it("reports that need a write fail at once behind a hung call (the breaker), and an unchanged report is answered while they wait", async () => {
    await fresh({ ovh_timeout_ms: 2000 });
    expect((await ep.update({ hostname: fqdn("firewall"), myip: "198.51.100.7" })).body).toBe(
      "good 198.51.100.7\n",
    );
    ep.sim.resetCalls();
    ep.sim.injectFault({ path: /^\/domain\//, fault: { kind: "hang" } });
    const settled: string[] = [];
    const changes = [
      "198.51.100.11",
      "198.51.100.12",
      "198.51.100.13",
      "198.51.100.14",
      "198.51.100.15",
      "198.51.100.16",
    ].map(async (ip, i) => {
      const host = i % 2 === 0 ? fqdn("nas") : fqdn("service");
      const reply = await ep.update({ hostname: host, myip: i % 2 === 0 ? ip : `2001:db8::${i}` });
      settled.push(reply.body);
      return reply;
    });
    // Queued behind six writes stuck on a hung OVH (once the first call has reached it), an
    // unchanged report does not wait.
    for (let i = 0; i < 500 && calls().every((c) => c.kind === "auth-time"); i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    expect(kinds()).not.toEqual([]);
    const unchanged = await ep.update({ hostname: fqdn("firewall"), myip: "198.51.100.7" });
    expect(unchanged.body).toBe("nochg 198.51.100.7\n");
    expect(settled).toEqual([]);

    const replies = await Promise.all(changes);
    for (const r of replies) {
      expect(r.status).toBe(503);
      expect(r.body).toBe("911\n");
    }
    // Only the first report's calls reached OVH; the breaker failed the others before sending.
    const reached = ep.sim.calls().filter((c) => c.kind !== "auth-time");
    expect(reached.length).toBeLessThanOrEqual(2);
    await ep.flushLogs();
    expect(ep.logs.filter((l) => l.includes('"event":"ovh-breaker"'))).toHaveLength(1);
  });
});

describe("OVH calls are paced (item 16)", () => {
  it("a cold change of 25 records never exceeds ovh_calls_per_minute, and the zone ends right with no further report", async () => {
    const hosts: Record<string, unknown> = {};
    const names: string[] = [];
    // Five hosts of five A records each (a request names at most 20 hosts).
    for (let h = 0; h < 5; h++) {
      names.push(`h${h}.example.tld`);
      const records = Array.from({ length: 5 }, (_, r) => ({ subdomain: `p${h * 5 + r}`, type: "A" }));
      hosts[`h${h}.example.tld`] = { zone: ZONE, allow_private: true, records };
    }
    const vars = await testVars();
    // A burst of 10, then 10 a minute: the job's 80 calls or so take minutes, on the Worker's
    // clock. With the longest time-out, a continuation's calls start within 4 s (the report's 20
    // s, less the time-out and a second), less than the pace's 6 s a call: each continuation
    // takes the calls its bucket holds, and none waits for one in real time.
    const perMinute = 20;
    ep = await startEndpoint({
      vars: {
        HOSTS: hosts,
        CLIENTS: { home: { ...(vars.CLIENTS as { home: object }).home, hosts: names } },
        SETTINGS: { ovh_calls_per_minute: perMinute, ovh_timeout_ms: 15_000 },
      },
      clock: true,
    });
    keep(ep);
    zone = ZONE;
    ep.sim.addZone(ZONE);
    for (let i = 0; i < 25; i++)
      ep.sim.addRecord(ZONE, { fieldType: "A", subDomain: `p${i}`, target: "198.51.100.1", ttl: 60 });
    // An hour ahead: the coordinator's alarms come due an hour after real time, so none runs on
    // its own; the test runs each once it is due on the clock.
    ep.clock.advance(3_600_000);
    // Each OVH call at the Worker's time: the clock stands still while the Worker calls.
    const at: number[] = [];
    const stamp = () => {
      const calls = ep.sim.calls().filter((c) => c.kind !== "auth-time");
      for (const c of calls.slice(at.length)) at.push(c.at + ep.clock.aheadMs);
    };

    const first = await ep.update({ hostname: names.join(","), myip: "198.51.100.2" });
    expect(first.status).toBe(503); // more than fits: the rest continues from the coordinator's alarm
    stamp();
    const done = () => ep.sim.liveRecords(ZONE).every((r) => r.target === "198.51.100.2");
    for (let i = 0; i < 20 && !done(); i++) {
      const due = await elapse(ep, ZONE, 60); // the bucket full again
      expect(due).not.toBeNull(); // the coordinator set its alarm, and it is due
      expect(due).toBeLessThanOrEqual(ep.clock.now());
      stamp();
    }
    expect(ep.sim.liveRecords(ZONE).map((r) => r.target)).toEqual(Array(25).fill("198.51.100.2"));
    expect(ep.sim.records(ZONE)).toHaveLength(25);
    expect(at.length).toBeGreaterThan(3 * perMinute);

    // In every stretch of time, at most the burst plus what the rate allows (one call of slack
    // for the timers' rounding).
    const rate = (perMinute - 10) / 60_000;
    for (let i = 0; i < at.length; i++)
      for (let j = i; j < at.length; j++)
        expect(j - i + 1).toBeLessThanOrEqual(10 + rate * ((at[j] ?? 0) - (at[i] ?? 0)) + 1);

    ep.sim.resetCalls();
    const again = await ep.update({ hostname: names.join(","), myip: "198.51.100.2" });
    expect(again.body).toBe(`${Array(5).fill("nochg 198.51.100.2").join("\n")}\n`);
    expect(ep.sim.calls()).toEqual([]);
  });
});
