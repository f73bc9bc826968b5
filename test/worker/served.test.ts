// "good" means served: after a change, the zone's coordinator asks the simulator's name servers
// (over connect() in workerd, DNS over TCP) until every one answers the new target, or says which
// does not once serve_within has passed; the scheduled check and "Check now" ask again. Tests run
// the Worker's clock ahead and fire the coordinator's alarm (test/support/endpoint.ts), so the
// back-off and serve_within pass without waiting; they read the state the status JSON shows.
import { afterEach, describe, expect, it, onTestFinished } from "vitest";
import type { DnsFault } from "../../sim/dns";
import {
  type Endpoint,
  type EndpointOptions,
  elapse,
  OVH_SECRETS,
  startEndpoint,
  startTestSimulator,
} from "../support/endpoint";
import { HOME_PASSWORD, testVars, ZONE } from "../support/fixtures";
import { type Receiver, startReceiver } from "../support/receivers";
import { ownWorkers } from "../support/slots";

const keep = ownWorkers();
const receivers: Receiver[] = [];
afterEach(async () => {
  for (const r of receivers.splice(0)) await r.close();
});

async function start(settings: Record<string, unknown> = {}, more: Partial<EndpointOptions> = {}) {
  const ep = await startEndpoint({
    vars: { ...(await testVars()), SETTINGS: settings },
    clock: true,
    ...more,
  });
  // A day ahead: the coordinator sets its alarm at the watch's time on this clock, so the real
  // alarm never runs beside the ones a test fires (two rounds at once would ask twice).
  ep.clock.advance(24 * 3600_000);
  ep.sim.addZone(ZONE);
  return keep(ep);
}

interface Served {
  state: "waiting" | "served" | "unserved";
  target: string;
  seconds: number | null;
  cause: string;
  nextAt: string | null;
  servers: { server: string; records: string[] | null; reason?: string }[];
}
interface Status {
  hosts: {
    name: string;
    health: { state: string; reason: string };
    records: { name: string; type: string; target: string | null; served: Served | null }[];
  }[];
}

async function status(ep: Endpoint): Promise<Status> {
  const r = await ep.fetch("/status", {
    headers: { Authorization: `Basic ${btoa(`home:${HOME_PASSWORD}`)}` },
  });
  return (await r.json()) as Status;
}
async function record(ep: Endpoint, name: string, type = "AAAA") {
  const all = (await status(ep)).hosts.flatMap((h) => h.records);
  return all.find((r) => r.name === name && r.type === type);
}
const health = async (ep: Endpoint, host: string) =>
  (await status(ep)).hosts.find((h) => h.name === host)?.health;
/** The record's served state now. */
async function served(ep: Endpoint, name: string): Promise<Served> {
  const r = await record(ep, name);
  expect(r?.served, `${name}'s served state`).toBeTruthy();
  return r?.served as Served;
}
async function runCheck(ep: Endpoint): Promise<void> {
  const worker = await ep.mf.getWorker();
  expect((await worker.scheduled({ scheduledTime: new Date(), cron: "*/15 * * * *" })).outcome).toBe("ok");
}

const SERVICE = "service.example.tld";

describe("a change is watched until every name server serves it", () => {
  it("waiting, then served by both servers, with the seconds from the report; one connection per server per round", async () => {
    const ep = await start();
    // One server holds the zone as it was, so the record is seen waiting; then it catches up.
    const lagging = ep.sim.dns.servers()[1]?.name as string;
    ep.sim.dns.setFault(lagging, "stale");
    ep.sim.dns.resetLog();
    expect((await ep.update({ hostname: SERVICE, myipv6: "2001:db8::5" })).body).toBe("good 2001:db8::5\n");
    expect(await served(ep, SERVICE)).toMatchObject({
      state: "waiting",
      target: "2001:db8::5",
      cause: "report",
      servers: [],
    });
    expect(ep.sim.dns.queries(), "nothing is asked before the first step of the back-off").toEqual([]);
    await elapse(ep, ZONE, 2);
    const waiting = await served(ep, SERVICE);
    expect(waiting.state).toBe("waiting");
    expect(waiting.servers.map((s) => s.records)).toEqual([["2001:db8::5"], []]);
    expect(waiting.nextAt).not.toBeNull();
    ep.sim.dns.setFault(lagging, null);
    await elapse(ep, ZONE, 4);
    const done = await served(ep, SERVICE);
    expect(done.state).toBe("served");
    const servers = ep.sim.dns.servers().map((s) => s.address);
    expect(done.servers.map((s) => [s.server, s.records])).toEqual(servers.map((s) => [s, ["2001:db8::5"]]));
    expect(done.seconds).toBeGreaterThanOrEqual(6); // asked 2 s after the report, then 4 s later
    expect(done.nextAt).toBeNull();
    expect((await health(ep, SERVICE))?.state).toBe("ok");
    // The report changed two records (service, service6): each round asks both on one
    // connection per server, over TCP.
    const { total } = ep.sim.dns.connections();
    const queries = ep.sim.dns.queries();
    expect(total % 2).toBe(0);
    expect(queries).toHaveLength(2 * total);
    expect(new Set(queries.map((q) => q.name))).toEqual(
      new Set(["service.example.tld", "service6.example.tld"]),
    );
    expect(queries.every((q) => q.transport === "tcp")).toBe(true);
  });

  it("an unchanged report asks no name server: nothing is waiting, and no query came", async () => {
    const ep = await start();
    await ep.update({ hostname: SERVICE, myipv6: "2001:db8::5" });
    await elapse(ep, ZONE, 2);
    expect((await served(ep, SERVICE)).state).toBe("served");
    ep.sim.dns.resetLog();
    ep.sim.resetCalls();
    expect((await ep.update({ hostname: SERVICE, myipv6: "2001:db8::5" })).body).toBe("nochg 2001:db8::5\n");
    const after1 = (await status(ep)).hosts.flatMap((h) => h.records).filter((r) => r.served);
    expect(after1.every((r) => r.served?.nextAt === null)).toBe(true); // no ask is due
    await elapse(ep, ZONE, 60); // and none comes
    expect(ep.sim.dns.queries()).toEqual([]);
    expect(ep.sim.dns.connections().total).toBe(0);
    expect(ep.sim.calls()).toEqual([]);
  });

  it("a server that lags the refresh keeps the record waiting (what it still answers), then served", async () => {
    const ep = await start();
    await ep.update({ hostname: SERVICE, myipv6: "2001:db8::5" });
    await elapse(ep, ZONE, 2);
    expect((await served(ep, SERVICE)).state).toBe("served");
    const lagging = ep.sim.dns.servers()[1];
    ep.sim.dns.setFault(lagging?.name as string, "stale");
    await ep.update({ hostname: SERVICE, myipv6: "2001:db8::6" });
    await elapse(ep, ZONE, 2);
    const waiting = await served(ep, SERVICE);
    expect(waiting.servers.map((s) => s.records?.[0])).toEqual(["2001:db8::6", "2001:db8::5"]);
    expect(waiting.state).toBe("waiting");
    ep.sim.dns.setFault(lagging?.name as string, null);
    await elapse(ep, ZONE, 4);
    expect(await served(ep, SERVICE)).toMatchObject({ state: "served", target: "2001:db8::6" });
  });

  it("the zone's name servers come from OVH (GET /domain/zone/{zone}, once) when name_servers is not set", async () => {
    const ep = await start({}, { nameServersFromOvh: true });
    await ep.update({ hostname: SERVICE, myipv6: "2001:db8::7" });
    await elapse(ep, ZONE, 2);
    const done = await served(ep, SERVICE);
    expect(done.state).toBe("served");
    expect(done.servers.map((s) => s.server)).toEqual(ep.sim.dns.servers().map((s) => s.address));
    const reads = ep.sim.calls().filter((c) => c.method === "GET" && c.path === `/domain/zone/${ZONE}`);
    expect(reads).toHaveLength(1);
  });
});

describe("more name servers than connections at once", () => {
  it("six name servers (name_servers), more than the four connections a round opens at once: each is asked on one connection, and the record is served by all", async () => {
    const sim = await startTestSimulator({
      dns: { names: Array.from({ length: 6 }, (_, i) => `ns${i}.sim.test`) },
    });
    onTestFinished(() => sim.close()); // after the Worker, closed after the test
    const six = sim.dns.servers().map((s) => s.address);
    const ep = await start({ name_servers: six }, { sim });
    await ep.update({ hostname: SERVICE, myipv6: "2001:db8::8" });
    await elapse(ep, ZONE, 2);
    const done = await served(ep, SERVICE);
    expect(done.state).toBe("served");
    expect(done.servers.map((s) => s.server)).toEqual(six);
    expect(sim.dns.connections().total).toBe(6);
  });
});

describe("unserved", () => {
  it.each(["stale", "refuse", "silent"] as DnsFault[])(
    "a server that is %s past serve_within: the record is unserved, the host says which server answers what, one notification; the check finds it served again",
    async (fault) => {
      const hook = await startReceiver();
      receivers.push(hook);
      const own = await start(
        { serve_within: 10 },
        {
          secrets: { ...OVH_SECRETS, NOTIFY_URLS: `generic+${hook.origin}/hook` },
          receivers: { [hook.origin]: hook.origin },
        },
      );
      const bad = own.sim.dns.servers()[1];
      if (fault === "stale") {
        await own.update({ hostname: SERVICE, myipv6: "2001:db8::1" });
        await elapse(own, ZONE, 2);
        expect((await served(own, SERVICE)).state).toBe("served");
      }
      own.sim.dns.setFault(bad?.name as string, fault);
      await own.update({ hostname: SERVICE, myipv6: "2001:db8::2" });
      // A silent server costs each round the DNS time-out (4 s, real): it is asked once, past the limit.
      if (fault !== "silent") {
        await elapse(own, ZONE, 2);
        expect((await served(own, SERVICE)).state, "before serve_within, waiting").toBe("waiting");
        expect((await health(own, SERVICE))?.state).toBe("ok");
      }
      await elapse(own, ZONE, 12);
      const unserved = await served(own, SERVICE);
      expect(unserved.state).toBe("unserved");
      expect(unserved.nextAt, "asked no more after the verdict").toBeNull();
      const answer = unserved.servers.find((s) => s.server === bad?.address);
      if (fault === "stale") expect(answer?.records).toEqual(["2001:db8::1"]);
      else expect(answer).toMatchObject({ records: null, reason: expect.any(String) });
      const h = await health(own, SERVICE);
      expect(h?.state).toBe("unserved");
      expect(h?.reason).toContain(`${bad?.address} `);
      expect(h?.reason).toContain("should be 2001:db8::2");
      await expect
        .poll(() => hook.requests.filter((r) => r.body.includes("is not served")).length, { timeout: 10_000 })
        .toBe(1);
      // The servers catch up: the scheduled check asks again, the host recovers, and says so.
      own.sim.dns.setFault(bad?.name as string, null);
      await runCheck(own);
      expect((await record(own, SERVICE))?.served?.state).toBe("served");
      expect((await health(own, SERVICE))?.state).toBe("ok");
      await expect
        .poll(() => hook.requests.filter((r) => r.body.includes("is served again")).length, {
          timeout: 10_000,
        })
        .toBe(1);
      expect(hook.requests.filter((r) => r.body.includes("is not served"))).toHaveLength(1);
    },
  );
});

describe("the scheduled check", () => {
  it("asks every record it holds on one connection per server, and notices a record served wrongly", async () => {
    const ep = await start();
    await ep.update({ hostname: SERVICE, myipv6: "2001:db8::5" });
    await elapse(ep, ZONE, 2);
    expect((await served(ep, SERVICE)).state).toBe("served");
    ep.sim.dns.setFault(ep.sim.dns.servers()[0]?.name as string, "not-authoritative");
    ep.sim.dns.resetLog();
    await runCheck(ep);
    expect(ep.sim.dns.connections().total).toBe(2);
    const r = await record(ep, SERVICE);
    expect(r?.served).toMatchObject({ state: "waiting", cause: "check" });
    expect(r?.served?.servers[0]).toMatchObject({
      records: null,
      reason: expect.stringContaining("not authoritative"),
    });
  });
});
