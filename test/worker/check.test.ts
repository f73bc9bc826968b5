// The scheduled check (Cron Trigger → each zone's coordinator): records due for a recheck are
// read once and set back when edited by hand (drift), failed writes are made good, duplicates
// are found, silent hosts go stale; fresh records cost no OVH call. Tests with the same settings
// share a Worker and simulator, each test in zones of its own (test/support/slots.ts); a check
// runs for every zone, so each test looks at its own zones' calls, log lines and history.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { type Endpoint, sha256Hex, startEndpoint, startTestSimulator, TEST_OVH } from "../support/endpoint";
import { HOME_PASSWORD, liveTargets, testVars, ZONE } from "../support/fixtures";
import { ownWorkers, sharedBySettings, sharedWorkers } from "../support/slots";

let ep: Endpoint;
/** This test's zones: example.tld and example.org in a Worker of its own, others in a shared one. */
let zone = ZONE;
let otherZone = "example.org";
/** A host name of the fixtures in this test's zone ("service" → service.example.tld). */
const fqdn = (name: string) => `${name}.${zone}`;
const keep = ownWorkers();

/** A Worker of its own for the test, with a fresh simulator. */
function alone(started: Endpoint): Endpoint {
  ep = keep(started);
  zone = ZONE;
  otherZone = "example.org";
  return started;
}
async function fresh(settings: Record<string, number> = {}): Promise<void> {
  alone(await startEndpoint({ vars: { ...(await testVars()), SETTINGS: settings }, clock: true }));
  ep.sim.addZone(ZONE);
  aDayAhead();
}
/**
 * A day ahead before the test's first report: every alarm the coordinator sets (the name-server
 * watch's) comes due a day after real time, so none runs behind the test's back, between a record
 * edited by hand and the check that finds it.
 */
const aDayAhead = () => ep.clock.advance(DAY);
const useShared = sharedWorkers(6);
/** In a describe block: its tests share the Worker with these settings, each in zones of its own. */
const shared = (settings: Record<string, number> = {}) =>
  sharedBySettings(useShared, settings, (slot) => {
    ({ ep, zone, otherZone } = slot);
    aDayAhead();
  });

const DAY = 86_400_000;
const live = (sub: string) => liveTargets(ep.sim, "AAAA", sub, zone);
/** The kinds of the OVH calls made for this test's zone. */
const kinds = () =>
  ep.sim
    .calls()
    .filter((c) => c.kind !== "auth-time" && c.path.startsWith(`/domain/zone/${zone}/`))
    .map((c) => c.kind)
    .sort();
/** Run the Worker's clock past recheck_after (3600 s by default): remembered records are due. */
const recheck = () => ep.clock.advance(3_601_000);

/** Run the Cron Trigger as the platform would, for `at` (default: now, by the Worker's clock). */
async function runCheck(at = ep.clock.now()): Promise<void> {
  const worker = await ep.mf.getWorker();
  const result = await worker.scheduled({ scheduledTime: new Date(at), cron: "*/15 * * * *" });
  expect(result.outcome).toBe("ok");
}

interface Status {
  hosts: { name: string; health: { state: string; reason: string; since: string | null } }[];
  history: {
    host: string;
    client: string;
    outcome: string;
    note?: string;
    changes: { from?: string; to: string }[];
  }[];
}
/** The status, its history that of this test's zones' hosts. */
async function status(): Promise<Status> {
  const r = await ep.fetch("/status", {
    headers: { Authorization: `Basic ${btoa(`home:${HOME_PASSWORD}`)}` },
  });
  const s = (await r.json()) as Status;
  const mine = (host: string) => [zone, otherZone].some((z) => host === z || host.endsWith(`.${z}`));
  return { ...s, history: s.history.filter((e) => mine(e.host)) };
}
/** A name in a regular expression. */
const escaped = (name: string) => name.replaceAll(".", "\\.");
const health = async (host: string) => (await status()).hosts.find((h) => h.name === host)?.health;

/** The check log lines of this test's zones printed so far. */
async function checkLines(): Promise<{ zone: string; events?: string[]; notes?: string[] }[]> {
  await ep.flushLogs();
  return ep.logs
    .map((l) => JSON.parse(l) as { event: string; zone: string })
    .filter((l) => l.event === "check" && (l.zone === zone || l.zone === otherZone));
}

/** The events of the check log lines printed so far, of every zone. */
const checkEvents = async () => (await checkLines()).flatMap((l) => l.events ?? []);

const id = (sub: string) => ep.sim.records(zone).find((r) => r.subDomain === sub)?.id ?? 0;

describe("records", () => {
  shared();
  it("fresh records cost no OVH call", async () => {
    await ep.update({ hostname: fqdn("service"), myipv6: "2001:db8::1" });
    ep.sim.resetCalls();
    await runCheck();
    expect(kinds()).toEqual([]);
    expect(await checkLines()).toEqual([
      { event: "check", zone, hosts: 6 },
      { event: "check", zone: otherZone, hosts: 1 },
    ]);
  });

  it("a record edited by hand is confirmed when due, set back, refreshed, logged and in the history", async () => {
    await ep.update({ hostname: fqdn("service"), myipv6: "2001:db8::1" });
    ep.sim.editRecord(zone, id("service"), { target: "2001:db8::99" });
    recheck();
    ep.sim.resetCalls();
    await runCheck();

    expect(live("service")).toEqual(["2001:db8::1"]);
    expect(live("service6")).toEqual(["2001:db8::1"]);
    // a list of each name and a read of each id, then one write and the refresh
    expect(kinds()).toEqual(["get", "get", "list", "list", "refresh", "update"]);
    const message = `${fqdn("service")}: AAAA ${fqdn("service")} held 2001:db8::99 instead of 2001:db8::1 (changed outside this Worker); set back`;
    expect(await checkEvents()).toEqual([message]);
    const s = await status();
    expect(s.history[0]).toMatchObject({
      host: fqdn("service"),
      client: "scheduled check",
      outcome: "drift",
      changes: [expect.objectContaining({ from: "2001:db8::99", to: "2001:db8::1" })],
    });
    expect(s.hosts.find((h) => h.name === fqdn("service"))?.health.state).toBe("ok");

    // confirmed: the next check has nothing to do until recheck_after passes again
    ep.sim.resetCalls();
    await runCheck();
    expect(kinds()).toEqual([]);
  });

  it("a record deleted by hand is created again", async () => {
    await ep.update({ hostname: fqdn("firewall"), myip: "198.51.100.4" });
    ep.sim.deleteRecord(zone, id("firewall"));
    recheck();
    await runCheck();
    expect(liveTargets(ep.sim, "A", "firewall", zone)).toEqual(["198.51.100.4"]);
    expect(await checkEvents()).toEqual([
      `${fqdn("firewall")}: A ${fqdn("firewall")} held no record instead of 198.51.100.4 (changed outside this Worker); set back`,
    ]);
  });

  it("a write that failed is made good by the check, and the host works again", async () => {
    await ep.update({ hostname: fqdn("service"), myipv6: "2001:db8::1" });
    ep.sim.injectFault({
      method: "PUT",
      path: `/domain/zone/${zone}/record/${id("service6")}`,
      fault: { kind: "status", status: 500, body: '{"message":"Internal Server Error"}' },
    });
    expect((await ep.update({ hostname: fqdn("service"), myipv6: "2001:db8::2" })).body).toBe("911\n");
    expect((await health(fqdn("service")))?.state).toBe("failing");
    ep.sim.clearFaults();
    await runCheck();
    expect(live("service")).toEqual(["2001:db8::2"]);
    expect(live("service6")).toEqual(["2001:db8::2"]);
    expect(await health(fqdn("service"))).toMatchObject({ state: "ok", reason: "" });
    expect(await checkEvents()).toEqual([
      expect.stringMatching(new RegExp(`^${escaped(fqdn("service"))} works again: it was failing since `)),
    ]);
    expect((await status()).history[0]).toMatchObject({ client: "scheduled check", outcome: "good" });
  });

  it("a record added by hand beside ours is found as a duplicate: failing, with what to delete", async () => {
    await ep.update({ hostname: fqdn("service"), myipv6: "2001:db8::1" });
    ep.sim.addRecord(zone, { fieldType: "AAAA", subDomain: "service", target: "2001:db8::7", ttl: 60 });
    recheck();
    await runCheck();
    const h = await health(fqdn("service"));
    expect(h?.state).toBe("failing");
    expect(h?.reason).toMatch(
      new RegExp(`^not written: AAAA ${escaped(fqdn("service"))} matches 2 records: .*; delete all but one$`),
    );
    expect(await checkEvents()).toEqual([
      expect.stringMatching(
        new RegExp(
          `^${escaped(fqdn("service"))} is failing \\(dnserr\\): not written: .* delete all but one$`,
        ),
      ),
    ]);
    expect(ep.sim.records(zone).filter((r) => r.subDomain === "service")).toHaveLength(2);
  });

  it("OVH refusing the credentials at a check makes the hosts failing", async () => {
    await ep.update({ hostname: fqdn("service"), myipv6: "2001:db8::1" });
    ep.sim.setCredentialState(TEST_OVH.consumerKey, "expired");
    onTestFinished(() => ep.sim.setCredentialState(TEST_OVH.consumerKey, "validated"));
    recheck();
    await runCheck();
    expect((await health(fqdn("service")))?.reason).toMatch(/^OVH refuses the credentials: /);
  });
});

describe("stale hosts", () => {
  it("a host that stops reporting goes stale at the check after stale_after, and is ok when it reports again", async () => {
    await fresh({ stale_after: 3600 });
    await ep.update(
      { hostname: fqdn("service"), myipv6: "2001:db8::1" },
      {
        headers: { "CF-Connecting-IP": "203.0.113.5" },
      },
    );
    await runCheck(ep.clock.now() + 30 * 60_000);
    expect((await health(fqdn("service")))?.state).toBe("ok");

    await runCheck(ep.clock.now() + 2 * DAY);
    const h = await health(fqdn("service"));
    expect(h?.state).toBe("stale");
    expect(h?.reason).toMatch(/^no report since .*: check that the client home is online and still reports$/);
    expect(h?.reason).not.toContain("203.0.113.5"); // another client of the host would read it
    const events = await checkEvents();
    expect(events).toEqual([expect.stringMatching(/^service\.example\.tld is stale: no report since /)]);
    // hosts that never reported are not stale: they are never
    expect((await health(fqdn("nas")))?.state).toBe("never");

    await runCheck(ep.clock.now() + 2 * DAY); // told once
    expect(await checkEvents()).toHaveLength(1);

    await ep.update({ hostname: fqdn("service"), myipv6: "2001:db8::1" });
    expect(await health(fqdn("service"))).toMatchObject({ state: "ok", reason: "" });
  });

  it("stale_after 0 on a host turns it off", async () => {
    const vars = await testVars();
    const hosts = vars.HOSTS as Record<string, Record<string, unknown>>;
    hosts[fqdn("service")] = { ...hosts[fqdn("service")], stale_after: 0 };
    alone(await startEndpoint({ vars }));
    ep.sim.addZone(ZONE);
    await ep.update({ hostname: fqdn("service"), myipv6: "2001:db8::1" });
    await runCheck(Date.now() + 30 * DAY);
    expect((await health(fqdn("service")))?.state).toBe("ok");
  });
});

describe("a record that moved to another host and back (issue 21 item 9)", () => {
  it("the check writes back only what the record's last writer asked, never an older host's target", async () => {
    const dir = await mkdtemp(join(tmpdir(), "moved-"));
    const sim = await startTestSimulator();
    sim.addZone(ZONE);
    /** The configuration with AAAA "moving" in host `owner`; each host keeps a record of its own. */
    const withMovingIn = async (owner: "one" | "two") => {
      const host = (name: "one" | "two") => ({
        zone: ZONE,
        allow_private: true,
        records: [
          { subdomain: name, type: "AAAA" },
          ...(owner === name ? [{ subdomain: "moving", type: "AAAA" }] : []),
        ],
      });
      return {
        HOSTS: { "one.example.tld": host("one"), "two.example.tld": host("two") },
        CLIENTS: {
          home: {
            password_sha256: await sha256Hex(HOME_PASSWORD),
            hosts: ["one.example.tld", "two.example.tld"],
          },
        },
      };
    };
    const start = async (owner: "one" | "two") =>
      startEndpoint({ sim, persist: dir, vars: await withMovingIn(owner) });
    try {
      let first = await start("one");
      ep = first;
      expect((await first.update({ hostname: "one.example.tld", myipv6: "2001:db8::a" })).body).toBe(
        "good 2001:db8::a\n",
      );
      await first.close();
      // Deployed with the record in host two, which then reports.
      first = await start("two");
      expect((await first.update({ hostname: "two.example.tld", myipv6: "2001:db8::b" })).body).toBe(
        "good 2001:db8::b\n",
      );
      await first.close();
      expect(liveTargets(sim, "AAAA", "moving")).toEqual(["2001:db8::b"]);
      // And back in host one, which has not reported since: the check keeps what two asked.
      alone(await start("one"));
      sim.resetCalls();
      await runCheck();
      expect(liveTargets(sim, "AAAA", "moving")).toEqual(["2001:db8::b"]);
      expect(sim.calls().filter((c) => c.kind === "create" || c.kind === "update")).toEqual([]);
      expect((await status()).history.filter((e) => e.client === "scheduled check")).toEqual([]);
    } finally {
      await sim.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("a record changed by hand again and again (issue 21 item 10)", () => {
  shared({ recheck_after: 1 });
  /** Run the Worker's clock past recheck_after (1 s here), then the check: every record is due. */
  async function checkWhenDue(): Promise<void> {
    ep.clock.advance(1100);
    await runCheck();
  }
  const writes = () => ep.sim.calls().filter((c) => c.kind === "create" || c.kind === "update");

  /** AAAA service changed by hand three times: set back twice, then held. */
  async function heldAfterThreeEdits(): Promise<void> {
    await ep.update({ hostname: fqdn("service"), myipv6: "2001:db8::1" });
    for (const hand of ["2001:db8::91", "2001:db8::92"]) {
      ep.sim.editRecord(zone, id("service"), { target: hand });
      await checkWhenDue();
      expect(live("service")).toEqual(["2001:db8::1"]);
      expect((await health(fqdn("service")))?.state).toBe("ok");
    }
    ep.sim.editRecord(zone, id("service"), { target: "2001:db8::93" });
    await checkWhenDue();
    expect((await health(fqdn("service")))?.state).toBe("drift");
  }

  it("is set back twice, then left as it is and said so (health drift) until a report resumes", async () => {
    await heldAfterThreeEdits();

    expect(live("service")).toEqual(["2001:db8::93"]);
    const h = await health(fqdn("service"));
    expect(h?.reason).toMatch(
      new RegExp(
        `^AAAA ${escaped(fqdn("service"))} changed by hand 3 times since \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z; not set back; report again or press Check now to resume$`,
      ),
    );
    expect((await status()).history[0]).toMatchObject({
      client: "scheduled check",
      outcome: "drift",
      changes: [],
      note: h?.reason,
    });
    expect((await checkEvents()).at(-1)).toBe(`${fqdn("service")}: ${h?.reason}`);
    // Checks after that leave it, and say the same: service6 is due again (and read), the held
    // record is neither read nor written.
    ep.sim.resetCalls();
    const listed = (sub: string) => ep.sim.calls({ kind: "list" }).some((c) => c.query.subDomain === sub);
    await checkWhenDue();
    expect(listed("service6")).toBe(true);
    expect(listed("service")).toBe(false);
    expect(writes()).toEqual([]);
    expect(live("service")).toEqual(["2001:db8::93"]);
    expect(await health(fqdn("service"))).toEqual(h);

    // A report resumes: the record is set back, the host is ok, and the count starts over.
    expect((await ep.update({ hostname: fqdn("service"), myipv6: "2001:db8::1" })).body).toBe(
      "good 2001:db8::1\n",
    );
    expect(live("service")).toEqual(["2001:db8::1"]);
    expect(await health(fqdn("service"))).toMatchObject({ state: "ok", reason: "" });
    ep.sim.editRecord(zone, id("service"), { target: "2001:db8::94" });
    await checkWhenDue();
    expect(live("service")).toEqual(["2001:db8::1"]);
  });

  it("Check now resumes: the next check sets the record back, and the host is ok", async () => {
    await heldAfterThreeEdits();
    const now = await ep.fetch("/status/check", {
      method: "POST",
      headers: { Authorization: `Basic ${btoa(`home:${HOME_PASSWORD}`)}` },
    });
    expect(now.status).toBe(200);
    expect((await health(fqdn("service")))?.reason).toMatch(
      /^setting back resumed by home at \d{4}-\d\d-\d\dT[\d:.]+Z: the next scheduled check puts the records right$/,
    );
    await checkWhenDue();
    expect(live("service")).toEqual(["2001:db8::1"]);
    expect(await health(fqdn("service"))).toMatchObject({ state: "ok", reason: "" });
    expect((await status()).history[0]).toMatchObject({
      client: "scheduled check",
      outcome: "drift",
      note: "changed outside this Worker; set back",
      changes: [expect.objectContaining({ from: "2001:db8::93", to: "2001:db8::1" })],
    });
  });
});
