// Leases (src/lines.ts, src/zone.ts): an isolate answers unchanged reports from what the zone's
// coordinator last told it, for a moment, without a call. Two copies of the Worker run here, each
// in its own isolate, on the same Durable Objects: what two data centers would be.
import { afterEach, describe, expect, it } from "vitest";
import { type Endpoint, startEndpoint } from "../support/endpoint";
import { HOME_PASSWORD, liveTargets, testVars, ZONE } from "../support/fixtures";

let ep: Endpoint;
afterEach(async () => {
  expect(ep.unexpected).toEqual([]);
  await ep.close();
});

async function fresh(): Promise<void> {
  ep = await startEndpoint({ vars: await testVars(), secondIsolate: true });
  ep.sim.addZone(ZONE);
}

type Entry = { host: string; outcome: string; repeats: number; source: string | null; reported: string };

async function history(): Promise<Entry[]> {
  const r = await ep.fetch("/status?history=1000", {
    headers: { Authorization: `Basic ${btoa(`home:${HOME_PASSWORD}`)}` },
  });
  return ((await r.json()) as { history: Entry[] }).history;
}

/** The history once `done` holds: counts kept in an isolate arrive when its lease has run out. */
async function historyWhen(done: (h: Entry[]) => boolean): Promise<Entry[]> {
  for (let i = 0; i < 100; i++) {
    const h = await history();
    if (done(h)) return h;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return history();
}

const repeatsOf = (h: Entry[], outcome: string) =>
  h.filter((e) => e.outcome === outcome).reduce((n, e) => n + e.repeats, 0);

describe("leases", () => {
  it("a write waits for the other isolate's lease, so that isolate never answers nochg from a changed target", async () => {
    await fresh();
    const report = (ip: string, isolate: 1 | 2) =>
      ep.update({ hostname: "service.example.tld", myip: ip }, { isolate });

    expect((await report("2001:db8::a", 1)).body).toBe("good 2001:db8::a\n");
    // The first isolate now holds a lease showing ::a.
    expect((await report("2001:db8::a", 1)).body).toBe("nochg 2001:db8::a\n");
    // The second isolate changes the records: its write waits until that lease has run out ...
    expect((await report("2001:db8::b", 2)).body).toBe("good 2001:db8::b\n");
    // ... so the first isolate asks the coordinator again, and writes ::a back.
    expect((await report("2001:db8::a", 1)).body).toBe("good 2001:db8::a\n");
    expect(liveTargets(ep.sim, "AAAA", "service")).toEqual(["2001:db8::a"]);
    expect(liveTargets(ep.sim, "AAAA", "service6")).toEqual(["2001:db8::a"]);
  });

  it("a lease does not answer a report of another address", async () => {
    await fresh();
    expect((await ep.update({ hostname: "service.example.tld", myip: "2001:db8::a" })).body).toBe(
      "good 2001:db8::a\n",
    );
    expect((await ep.update({ hostname: "service.example.tld", myip: "2001:db8::c" })).body).toBe(
      "good 2001:db8::c\n",
    );
    expect(liveTargets(ep.sim, "AAAA", "service")).toEqual(["2001:db8::c"]);
  });

  it("unchanged reports answered from a lease reach the history, counted", async () => {
    await fresh();
    const report = () => ep.update({ hostname: "service.example.tld", myip: "2001:db8::a" });
    expect((await report()).body).toBe("good 2001:db8::a\n");
    for (let i = 0; i < 20; i++) expect((await report()).body).toBe("nochg 2001:db8::a\n");

    const h = await historyWhen((entries) => repeatsOf(entries, "nochg") === 20);
    expect(repeatsOf(h, "nochg")).toBe(20);
    expect(repeatsOf(h, "good")).toBe(1);
    // Identical reports share entries: far fewer entries than reports.
    expect(h.filter((e) => e.outcome === "nochg").length).toBeLessThan(20);
    // And log lines: each unchanged report has its own line or is counted in an update-repeats one.
    await ep.flushLogs();
    const events = ep.logs.flatMap((l) =>
      l.startsWith("{") ? [JSON.parse(l) as Record<string, unknown>] : [],
    );
    const own = events.filter((e) => e.event === "update" && e.reply === "nochg 2001:db8::a").length;
    const counted = events
      .filter((e) => e.event === "update-repeats")
      .reduce((n, e) => n + Number(e.repeats), 0);
    expect(own + counted).toBe(20);
    expect(own).toBeLessThan(20);
  });
});

describe("history", () => {
  it("keeps the last 1,000 entries of a zone; reports from different sources are different entries", async () => {
    await fresh();
    const from = (i: number) => ({ "CF-Connecting-IP": `2001:db8:1:${Math.floor(i / 4)}::${(i % 4) + 1}` });
    const report = (i: number) =>
      ep.update({ hostname: "service.example.tld", myip: "2001:db8::1" }, { headers: from(i) });
    expect((await report(0)).body).toBe("good 2001:db8::1\n");
    for (let batch = 0; batch < 101; batch++) {
      const replies = await Promise.all(Array.from({ length: 10 }, (_, i) => report(1 + batch * 10 + i)));
      for (const r of replies) expect(r.body).toBe("nochg 2001:db8::1\n");
    }
    // 1,011 entries were made; the first (the change) aged out.
    const h = await historyWhen(
      (entries) => entries.length === 1000 && !entries.some((e) => e.outcome === "good"),
    );
    expect(h).toHaveLength(1000);
    expect(h.filter((e) => e.outcome === "good")).toHaveLength(0);
    expect(new Set(h.map((e) => e.source)).size).toBe(1000);
  });
});
