// The per-zone coordinator: serialized writes, remembered records (exact OVH call counts),
// history and status, and the abuse limits. Tests with the same settings share one Worker and
// simulator; each test gets zones of its own in it (so a fresh coordinator, and fresh records).
import ipaddr from "ipaddr.js";
import { describe, expect, it } from "vitest";
import { type Endpoint, startEndpoint } from "../support/endpoint";
import { HOME_PASSWORD, liveTargets, testVars, ZONE } from "../support/fixtures";
import { sharedWorkers } from "../support/slots";

/** How many tests one Worker serves: its configuration has the test hosts once per test. */
const useShared = sharedWorkers(9);

let ep: Endpoint;
/** This test's zones (example.tld and example.org in the fixtures) and its host names. */
let zone: string;
let otherZone: string;
const host = (name: string) => `${name}.${zone}`;

/** Before each test of the block: the Worker with these settings, and zones of the test's own. */
function useWorker(settings: Record<string, number>): void {
  useShared(
    JSON.stringify(settings),
    (vars) => ({ vars: { ...vars, SETTINGS: settings }, clock: true }),
    (slot) => ({ ep, zone, otherZone } = slot),
  );
}

const live = (type: string, sub: string) => liveTargets(ep.sim, type, sub, zone);
/** The OVH calls but those for other zones (the Worker's other tests have zones of their own). */
const calls = () =>
  ep.sim.calls().filter((c) => {
    const m = /^\/domain\/zone\/([^/]+)/.exec(c.path);
    return !m || m[1] === zone;
  });
const apiCalls = () => calls().filter((c) => c.kind !== "auth-time");
const kinds = () => apiCalls().map((c) => c.kind);

/** The settings of most tests: fifty reports of changing addresses would trip the default change limit. */
const PLAIN = { change_limit: 1000 };
/** Low limits, for the abuse tests. */
const STRICT = { auth_fail_limit: 3, auth_fail_window: 600, change_limit: 3, change_window: 3600 };

describe("serialized writes", () => {
  useWorker(PLAIN);

  it("50 concurrent mixed reports for one host leave exactly one A and one AAAA", async () => {
    const v4 = (i: number) => `198.51.100.${100 + (i % 7)}`;
    const v6 = (i: number) => `2001:db8:${i % 5}::1`;
    const queries = Array.from({ length: 50 }, (_, i): Record<string, string> => {
      if (i % 3 === 0) return { hostname: host("nas"), myip: v4(i) };
      if (i % 3 === 1) return { hostname: host("nas"), myipv6: v6(i) };
      return { hostname: host("nas"), myip: `${v4(i)},${v6(i)}` };
    });
    const replies = await Promise.all(queries.map((q) => ep.update(q)));

    for (const r of replies) {
      expect(r.status).toBe(200);
      expect(r.body).toMatch(/^(good|nochg) [0-9a-f.:,]+\n$/);
    }
    const a = ep.sim.liveRecords(zone).filter((r) => r.fieldType === "A");
    const aaaa = ep.sim.liveRecords(zone).filter((r) => r.fieldType === "AAAA");
    expect(a).toHaveLength(1);
    expect(aaaa).toHaveLength(1);
    expect(ep.sim.records(zone)).toHaveLength(2);
    expect(ep.sim.calls({ kind: "create" })).toHaveLength(2);
    const reported4 = new Set(queries.flatMap((_, i) => (i % 3 === 1 ? [] : [v4(i)])));
    // The Worker writes addresses in RFC 5952 form, so the prefix 2001:db8:0::/64 reads 2001:db8::…
    const derived6 = new Set(
      queries.flatMap((_, i) =>
        i % 3 === 0 ? [] : [ipaddr.parse(`2001:db8:${i % 5}:0:211:32ff:fe12:3456`).toString()],
      ),
    );
    expect(reported4.has(a[0]?.target ?? "")).toBe(true);
    expect(derived6.has(aaaa[0]?.target ?? "")).toBe(true);
  });

  it("two zones proceed independently in one request", async () => {
    ep.sim.addZone(otherZone);
    const reply = await ep.update({
      hostname: `apex.${otherZone},${host("service")}`,
      myipv6: "2001:db8:2::2",
    });
    expect(reply.body).toBe("good 2001:db8:2::2\ngood 2001:db8:2::2\n");
    expect(ep.sim.calls({ kind: "refresh" })).toHaveLength(2);
  });
});

describe("OVH calls", () => {
  useWorker(PLAIN);

  it("cold start finds each record once; repeated identical reports cost zero calls", async () => {
    ep.sim.addRecord(zone, { fieldType: "AAAA", subDomain: "service", target: "2001:db8::1", ttl: 60 });
    ep.sim.addRecord(zone, { fieldType: "AAAA", subDomain: "service6", target: "2001:db8::1", ttl: 60 });

    let reply = await ep.update({ hostname: host("service"), myip: "2001:db8::1" });
    expect(reply.body).toBe("nochg 2001:db8::1\n");
    // the finds: one list and one read per record, nothing written
    expect(kinds().sort()).toEqual(["get", "get", "list", "list"]);

    for (let i = 0; i < 5; i++) {
      ep.sim.resetCalls();
      reply = await ep.update({ hostname: host("service"), myip: "2001:db8::1" });
      expect(reply.body).toBe("nochg 2001:db8::1\n");
      expect(calls()).toEqual([]);
    }
  });

  it("a change of two records with known ids costs two writes and one refresh", async () => {
    await ep.update({ hostname: host("service"), myip: "2001:db8::1" });
    ep.sim.resetCalls();
    const reply = await ep.update({ hostname: host("service"), myip: "2001:db8::2" });
    expect(reply.body).toBe("good 2001:db8::2\n");
    expect(kinds().sort()).toEqual(["refresh", "update", "update"]);
    expect(live("AAAA", "service")).toEqual(["2001:db8::2"]);
    expect(live("AAAA", "service6")).toEqual(["2001:db8::2"]);
  });

  it("a record deleted by hand is found missing and created again", async () => {
    await ep.update({ hostname: host("service"), myip: "2001:db8::1" });
    const [gone] = ep.sim.records(zone).filter((r) => r.subDomain === "service");
    ep.sim.deleteRecord(zone, gone?.id ?? 0);
    ep.sim.resetCalls();

    const reply = await ep.update({ hostname: host("service"), myip: "2001:db8::3" });
    expect(reply.body).toBe("good 2001:db8::3\n");
    expect(live("AAAA", "service")).toEqual(["2001:db8::3"]);
    expect(live("AAAA", "service6")).toEqual(["2001:db8::3"]);
    expect(ep.sim.calls({ kind: "create" })).toHaveLength(1);
  });

  it("an OVH failure in the middle of a change is not remembered as done; the next report repairs it", async () => {
    await ep.update({ hostname: host("service"), myip: "2001:db8::1" });
    const service6 = ep.sim.records(zone).find((r) => r.subDomain === "service6");
    ep.sim.injectFault({
      method: "PUT",
      path: `/domain/zone/${zone}/record/${service6?.id}`,
      times: 1,
      fault: { kind: "status", status: 500, body: '{"message":"Internal Server Error"}' },
    });

    let reply = await ep.update({ hostname: host("service"), myip: "2001:db8::4" });
    expect(reply.status).toBe(503);
    expect(reply.body).toBe("911\n");
    expect(live("AAAA", "service6")).toEqual(["2001:db8::1"]);

    reply = await ep.update({ hostname: host("service"), myip: "2001:db8::4" });
    expect(reply.body).toBe("good 2001:db8::4\n");
    expect(live("AAAA", "service")).toEqual(["2001:db8::4"]);
    expect(live("AAAA", "service6")).toEqual(["2001:db8::4"]);
  });
});

describe("recheck_after", () => {
  useWorker(PLAIN);
  /** Past the default recheck_after (an hour), by the Worker's clock. */
  const pastRecheck = () => ep.clock.advance(3_601_000);

  it("past recheck_after, a list of its name and one read per record (in parallel) confirm an unchanged report", async () => {
    await ep.update({ hostname: host("service"), myip: "2001:db8::1" });
    pastRecheck();
    ep.sim.resetCalls();
    const reply = await ep.update({ hostname: host("service"), myip: "2001:db8::1" });
    expect(reply.body).toBe("nochg 2001:db8::1\n");
    expect(kinds().sort()).toEqual(["get", "get", "list", "list"]);
  });

  it("a record changed by hand is noticed at the recheck and set back", async () => {
    await ep.update({ hostname: host("service"), myip: "2001:db8::1" });
    const record = ep.sim.records(zone).find((r) => r.subDomain === "service");
    ep.sim.deleteRecord(zone, record?.id ?? 0);
    pastRecheck();
    const reply = await ep.update({ hostname: host("service"), myip: "2001:db8::1" });
    expect(reply.body).toBe("good 2001:db8::1\n");
    expect(live("AAAA", "service")).toEqual(["2001:db8::1"]);
  });
});

describe("status and history", () => {
  useWorker(PLAIN);

  it("shows the client's hosts only, their targets and the recent reports", async () => {
    ep.sim.addZone(otherZone);
    await ep.update({ hostname: host("service"), myip: "2001:db8::1" });
    await ep.update({ hostname: host("service"), myip: "2001:db8::2" });
    await ep.update(
      { hostname: host("other"), myip: "2001:db8::9" },
      { user: "neighbour", password: "neighbour-password" },
    );

    const r = await ep.fetch("/status", {
      headers: { Authorization: `Basic ${btoa(`home:${HOME_PASSWORD}`)}` },
    });
    expect(r.status).toBe(200);
    const status = (await r.json()) as {
      client: string;
      hosts: { name: string; records: { name: string; type: string; target: string | null }[] }[];
      history: { host: string; outcome: string; changes: { from?: string; to: string }[] }[];
    };
    expect(status.client).toBe("home");
    expect(status.hosts.map((h) => h.name)).not.toContain(host("other"));
    // The Worker's other tests reported for home's hosts in their zones; this test's are its own.
    const history = status.history.filter((h) => h.host.endsWith(`.${zone}`));
    const service = status.hosts.find((h) => h.name === host("service"));
    expect(service?.records).toEqual([
      expect.objectContaining({ name: host("service"), type: "AAAA", target: "2001:db8::2" }),
      expect.objectContaining({ name: host("service6"), type: "AAAA", target: "2001:db8::2" }),
    ]);
    expect(history.map((h) => [h.host, h.outcome])).toEqual([
      [host("service"), "good"],
      [host("service"), "good"],
    ]);
    expect(history[0]?.changes).toContainEqual(
      expect.objectContaining({ from: "2001:db8::1", to: "2001:db8::2" }),
    );
    expect(JSON.stringify(status)).not.toContain("2001:db8::9");
  });
});

describe("abuse limits", () => {
  useWorker(STRICT);

  it("repeated bad logins from one source answer abuse, even with the right password; other sources still work", async () => {
    const from = (ip: string) => ({ "CF-Connecting-IP": ip });
    for (let i = 0; i < 2; i++) {
      const r = await ep.update(
        { hostname: host("nas"), myip: "198.51.100.1" },
        { password: "guess", headers: from("203.0.113.9") },
      );
      expect(r.body).toBe("badauth\n");
    }
    const third = await ep.update(
      { hostname: host("nas"), myip: "198.51.100.1" },
      { password: "guess", headers: from("203.0.113.9") },
    );
    expect(third.status).toBe(429);
    expect(third.body).toBe("abuse\n");
    expect(Number(third.headers.get("Retry-After"))).toBeGreaterThan(500);

    const right = await ep.update(
      { hostname: host("nas"), myip: "198.51.100.1" },
      { headers: from("203.0.113.9") },
    );
    expect(right.body).toBe("abuse\n");
    const elsewhere = await ep.update(
      { hostname: host("nas"), myip: "198.51.100.1" },
      { headers: from("203.0.113.10") },
    );
    expect(elsewhere.body).toBe("good 198.51.100.1\n");
  });

  it("a host whose address changes too often is refused writes; unchanged reports stay free", async () => {
    for (const ip of ["198.51.100.1", "198.51.100.2", "198.51.100.3"]) {
      expect((await ep.update({ hostname: host("nas"), myip: ip })).body).toBe(`good ${ip}\n`);
    }
    const fourth = await ep.update({ hostname: host("nas"), myip: "198.51.100.4" });
    expect(fourth.body).toBe("abuse\n");
    expect(live("A", "nas")).toEqual(["198.51.100.3"]);
    const same = await ep.update({ hostname: host("nas"), myip: "198.51.100.3" });
    expect(same.body).toBe("nochg 198.51.100.3\n");
    // another host of the same client is not affected
    expect((await ep.update({ hostname: host("service"), myip: "2001:db8::5" })).body).toBe(
      "good 2001:db8::5\n",
    );
  });
});

describe("OVH call budget", () => {
  it("a first report bigger than max_ovh_calls makes progress within the budget and converges from the alarm", async () => {
    const hosts: Record<string, unknown> = {};
    const names: string[] = [];
    for (let i = 0; i < 12; i++) {
      names.push(`h${i}.example.tld`);
      hosts[`h${i}.example.tld`] = {
        zone: ZONE,
        allow_private: true,
        records: [{ subdomain: `h${i}`, type: "AAAA" }],
      };
    }
    const vars = await testVars();
    const own = await startEndpoint({
      vars: {
        HOSTS: hosts,
        CLIENTS: { home: { ...(vars.CLIENTS as { home: object }).home, hosts: names } },
        SETTINGS: { max_ovh_calls: 20 },
      },
    });
    own.sim.addZone(ZONE);
    for (let i = 0; i < 12; i++)
      own.sim.addRecord(ZONE, { fieldType: "AAAA", subDomain: `h${i}`, target: "2001:db8::1" });

    const first = await own.update({ hostname: names.join(","), myipv6: "2001:db8::2" });
    expect(first.status).toBe(503); // it did not fit in one report
    // The coordinator's alarm continues it, each run within the budget, with no further report.
    for (let i = 0; i < 100 && !own.sim.liveRecords(ZONE).every((r) => r.target === "2001:db8::2"); i++)
      await new Promise((resolve) => setTimeout(resolve, 100));
    own.sim.resetCalls();
    const last = (await own.update({ hostname: names.join(","), myipv6: "2001:db8::2" })).body
      .trim()
      .split("\n");
    expect(last).toEqual(Array(12).fill("nochg 2001:db8::2"));
    expect(own.sim.calls()).toEqual([]);
    expect(own.sim.liveRecords(ZONE).map((r) => r.target)).toEqual(Array(12).fill("2001:db8::2"));
    expect(own.sim.records(ZONE)).toHaveLength(12);
    await own.close();
  });
});

describe("what counts as a failed login", () => {
  useWorker(STRICT);

  it("requests without credentials (a browser before its prompt) are not counted", async () => {
    const from = { "CF-Connecting-IP": "203.0.113.20" };
    for (let i = 0; i < 5; i++) {
      expect((await ep.fetch("/status", { headers: from })).status).toBe(401);
    }
    const r = await ep.fetch("/status", {
      headers: { ...from, Authorization: `Basic ${btoa(`home:${HOME_PASSWORD}`)}` },
    });
    expect(r.status).toBe(200);
  });
});
