// Each host's health and last report in /status, and the notes that say why a report changed
// nothing or was refused: in the history and in the log line, while the dyndns2 reply stays
// what clients expect. Tests with the same settings share a Worker, each with a zone of its own
// (test/support/slots.ts); they read the newest history entry, which is their own.
import { describe, expect, it, onTestFinished } from "vitest";
import type { Endpoint } from "../support/endpoint";
import { HOME_PASSWORD, NEIGHBOUR_PASSWORD } from "../support/fixtures";
import { sharedWorkers } from "../support/slots";

const useShared = sharedWorkers(10);
let ep: Endpoint;
/** This test's zone (example.tld in the fixtures). */
let zone: string;
const host = (name: string) => `${name}.${zone}`;
/** A name in a regular expression. */
const escaped = (name: string) => name.replaceAll(".", "\\.");

function fresh(settings: Record<string, number> = {}): void {
  useShared(
    JSON.stringify(settings),
    (vars) => ({ vars: { ...vars, SETTINGS: settings } }),
    (slot) => {
      ({ ep, zone } = slot);
    },
  );
}

interface Status {
  hosts: {
    name: string;
    health: { state: string; reason: string; since: string | null };
    lastReport: {
      at: string;
      client: string;
      source: string | null;
      agent: string | null;
      outcome: string;
    } | null;
  }[];
  history: { host: string; client: string; outcome: string; note?: string; reported: string }[];
}

async function status(user = "home", password = HOME_PASSWORD): Promise<Status> {
  const r = await ep.fetch("/status", { headers: { Authorization: `Basic ${btoa(`${user}:${password}`)}` } });
  expect(r.status).toBe(200);
  return (await r.json()) as Status;
}
const hostOf = (s: Status, name: string) => s.hosts.find((h) => h.name === name);
/** The history of this test's hosts (the Worker's other tests wrote the rest). */
const ofThisTest = (s: Status) => s.history.filter((e) => e.host.endsWith(`.${zone}`));
const from = (ip: string, agent = "test-router/1.0") => ({
  headers: { "CF-Connecting-IP": ip, "User-Agent": agent },
});

/** The notes of the update log lines printed so far. */
async function loggedNotes(): Promise<string[]> {
  await ep.flushLogs();
  return ep.logs
    .map((l) => JSON.parse(l) as { event: string; notes?: string[] })
    .filter((l) => l.event === "update")
    .flatMap((l) => l.notes ?? []);
}

describe("health and last report", () => {
  fresh();

  it("a host that never reported is never; a good report makes it ok and is its last report", async () => {
    let s = await status();
    expect(hostOf(s, host("service"))).toMatchObject({
      health: { state: "never", since: null },
      lastReport: null,
    });
    expect(hostOf(s, host("service"))?.health.reason).toMatch(/no report yet/);

    const reply = await ep.update({ hostname: host("service"), myipv6: "2001:db8::1" }, from("203.0.113.5"));
    expect(reply.body).toBe("good 2001:db8::1\n");
    s = await status();
    const service = hostOf(s, host("service"));
    expect(service?.health).toMatchObject({ state: "ok", reason: "" });
    expect(service?.lastReport).toEqual({
      at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      client: "home",
      source: "203.0.113.5",
      agent: "test-router/1.0",
      outcome: "good",
    });
    expect(hostOf(s, host("nas"))?.health.state).toBe("never");
  });

  it("an OVH failure makes the host failing, with OVH's message and since when; the next good report ends it", async () => {
    await ep.update({ hostname: host("service"), myipv6: "2001:db8::1" });
    ep.sim.injectFault({
      method: "PUT",
      path: new RegExp(`^/domain/zone/${escaped(zone)}/record/\\d+$`),
      fault: { kind: "status", status: 500, body: '{"message":"Internal Server Error"}' },
    });
    for (let i = 0; i < 2; i++) {
      const reply = await ep.update({ hostname: host("service"), myipv6: "2001:db8::2" });
      expect(reply.body).toBe("911\n");
    }
    let s = await status();
    const failing = hostOf(s, host("service"))?.health;
    expect(failing?.state).toBe("failing");
    expect(failing?.reason).toMatch(
      /^not written, OVH failed: OVH PUT .*500 Internal Server Error \(query id /,
    );
    expect(s.history[0]).toMatchObject({
      outcome: "911",
      note: expect.stringMatching(/500 Internal Server Error/),
    });
    const since = failing?.since;

    // a second failure keeps the episode's start
    await ep.update({ hostname: host("service"), myipv6: "2001:db8::3" });
    s = await status();
    expect(hostOf(s, host("service"))?.health.since).toBe(since);

    ep.sim.clearFaults();
    expect((await ep.update({ hostname: host("service"), myipv6: "2001:db8::2" })).body).toBe(
      "good 2001:db8::2\n",
    );
    s = await status();
    expect(hostOf(s, host("service"))?.health).toMatchObject({ state: "ok", reason: "" });
  });

  it("OVH refusing the credentials says so and what to check", async () => {
    ep.sim.setCredentialState("test-consumer-key-89ab", "expired");
    // The simulator serves the tests after this one too.
    onTestFinished(() => ep.sim.setCredentialState("test-consumer-key-89ab", "validated"));
    const reply = await ep.update({ hostname: host("service"), myipv6: "2001:db8::1" });
    expect(reply.body).toBe("911\n");
    const health = hostOf(await status(), host("service"))?.health;
    expect(health?.state).toBe("failing");
    expect(health?.reason).toMatch(
      /^OVH refuses the credentials: .*; check the OVH keys and their rights with npm run check$/,
    );
  });

  it("duplicate records make the host failing with what to delete", async () => {
    for (const target of ["2001:db8::1", "2001:db8::2"])
      ep.sim.addRecord(zone, { fieldType: "AAAA", subDomain: "service", target });
    expect((await ep.update({ hostname: host("service"), myipv6: "2001:db8::3" })).body).toBe("dnserr\n");
    const health = hostOf(await status(), host("service"))?.health;
    expect(health?.state).toBe("failing");
    expect(health?.reason).toMatch(
      new RegExp(`^not written: AAAA ${escaped(host("service"))} matches 2 records: .*; delete all but one$`),
    );
  });
});

describe("why nothing changed", () => {
  fresh({ change_limit: 1 });

  it("a family reported for a host with no record of it is explained in the log and the history; the reply is unchanged", async () => {
    const reply = await ep.update({ hostname: host("service"), myip: "81.2.69.142" });
    expect(reply.body).toBe("nochg 81.2.69.142\n");
    const note = `IPv4 81.2.69.142 ignored: no A record for ${host("service")}`;
    expect(await loggedNotes()).toContain(note);
    const s = await status();
    expect(s.history[0]).toMatchObject({ host: host("service"), outcome: "nochg", note });
    expect(hostOf(s, host("service"))?.lastReport?.outcome).toBe("nochg");
  });

  it("an empty address field is explained", async () => {
    const reply = await ep.update(`hostname=${host("firewall")}&myip=&myipv6=2001:db8::7`);
    expect(reply.body).toBe("nochg 2001:db8::7\n");
    const note = `IPv6 2001:db8::7 ignored: no AAAA record for ${host("firewall")}; myip empty: the A records of ${host("firewall")} are left as they are`;
    expect(await loggedNotes()).toContain(note);
    expect((await status()).history[0]?.note).toBe(note);
  });

  it("a write refused by the change limit says why in the history", async () => {
    await ep.update({ hostname: host("service"), myipv6: "2001:db8::1" });
    expect((await ep.update({ hostname: host("service"), myipv6: "2001:db8::2" })).body).toBe("abuse\n");
    expect((await status()).history[0]).toMatchObject({
      outcome: "abuse",
      note: "the host's addresses change too often",
    });
  });
});

describe("refused reports", () => {
  fresh();

  it("a badrequest reaches the history with its reason, and is the host's last report", async () => {
    const reply = await ep.update({ hostname: host("strict"), myip: "10.0.0.1" });
    expect(reply.status).toBe(400);
    const s = await status();
    expect(s.history[0]).toMatchObject({
      host: host("strict"),
      outcome: "badrequest",
      note: expect.stringMatching(/not a global address/),
    });
    const strict = hostOf(s, host("strict"));
    expect(strict?.lastReport?.outcome).toBe("badrequest");
    expect(strict?.health.state).toBe("never");
    expect(strict?.health.reason).toMatch(/^no report accepted yet: .* was refused \(badrequest/);
  });

  it("an unreadable address reaches the history for each of the client's hosts named", async () => {
    const reply = await ep.update({ hostname: `${host("service")},${host("nas")}`, myip: "not-an-ip" });
    expect(reply.status).toBe(400);
    const s = await status();
    expect(
      ofThisTest(s)
        .map((e) => [e.host, e.outcome])
        .sort(),
    ).toEqual([
      [host("nas"), "badrequest"],
      [host("service"), "badrequest"],
    ]);
  });

  it("a report refused by one host's plan keeps the names that are not the client's as nohost", async () => {
    const reply = await ep.update({ hostname: `${host("other")},${host("strict")}`, myip: "10.0.0.1" });
    expect(reply.status).toBe(400);
    const s = await status();
    expect(
      ofThisTest(s)
        .map((e) => [e.host, e.outcome, e.note])
        .sort(),
    ).toEqual([
      [host("other"), "nohost", `${host("other")} is not a host of home`],
      [host("strict"), "badrequest", expect.stringMatching(/not a global address/)],
    ]);
  });

  it("a nohost is in the reporting client's history, not the host owner's", async () => {
    const reply = await ep.update({
      hostname: `${host("other")},${host("service")}`,
      myipv6: "2001:db8::1",
    });
    expect(reply.body).toBe("nohost\ngood 2001:db8::1\n");
    const mine = await status();
    expect(mine.history).toContainEqual(
      expect.objectContaining({
        host: host("other"),
        client: "home",
        outcome: "nohost",
        note: `${host("other")} is not a host of home`,
      }),
    );
    const theirs = await status("neighbour", NEIGHBOUR_PASSWORD);
    expect(theirs.history).toEqual([]);
    expect(hostOf(theirs, host("other"))?.health.state).toBe("never");
  });
});

describe("failed logins", () => {
  fresh();

  it("the client's own failed logins are counted per source network; other names are not shown", async () => {
    const query = { hostname: host("service"), myipv6: "2001:db8::1" };
    for (const ip of ["203.0.113.9", "203.0.113.9", "2001:db8:77:1::5"]) {
      const r = await ep.update(query, { password: "wrong-guess", headers: { "CF-Connecting-IP": ip } });
      expect(r.body).toBe("badauth\n");
    }
    await ep.update(query, {
      user: "mallory",
      password: "x",
      headers: { "CF-Connecting-IP": "198.51.100.66" },
    });
    await ep.update(query, {
      user: "neighbour",
      password: "wrong",
      headers: { "CF-Connecting-IP": "198.51.100.67" },
    });

    // The list is written after each reply (waitUntil): read it until the last failure is in.
    const read = async () => {
      const r = await ep.fetch("/status", {
        headers: { Authorization: `Basic ${btoa(`home:${HOME_PASSWORD}`)}` },
      });
      return (
        (await r.json()) as {
          failedLogins: { user: string; source: string; count: number; lastAt: string }[];
        }
      ).failedLogins;
    };
    const listed = (logins: Awaited<ReturnType<typeof read>>) =>
      logins.map(({ lastAt: _, ...f }) => f).sort((a, b) => a.source.localeCompare(b.source));
    await expect
      .poll(async () => listed(await read()))
      .toEqual([
        { user: "home", source: "2001:db8:77::/56", count: 1 },
        { user: "home", source: "203.0.113.9", count: 2 },
      ]);
    const failedLogins = await read();
    expect(listed(failedLogins)).toEqual([
      { user: "home", source: "2001:db8:77::/56", count: 1 },
      { user: "home", source: "203.0.113.9", count: 2 },
    ]);
    for (const f of failedLogins) expect(f.lastAt).toMatch(/^\d{4}-\d\d-\d\dT/);
  });
});
