// ZoneLines (src/lines.ts) against a scripted coordinator, on fake time: when a lease answers
// for the coordinator, when it must not, and that every report it answers is counted once.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Coordinators, Lease, Served, ZoneAnswer } from "../../src/lines";
import { ZoneLines } from "../../src/lines";
import type { ZoneBatch } from "../../src/update";

const ZONE = "example.tld";

function batch(target: string, ttl = 60, source = "192.0.2.1"): ZoneBatch {
  return {
    zone: ZONE,
    client: "home",
    source,
    reported: target,
    hosts: ["service.example.tld"],
    desired: [
      { host: "service.example.tld", spec: { zone: ZONE, subdomain: "service", type: "AAAA", ttl }, target },
    ],
  };
}

const lease = (target: string, ttl = 60, forMs = 1000): Lease => ({
  forMs,
  records: { "AAAA service": { target, ttl } },
});

/** A coordinator that answers each call with the next scripted lease (or none) and logs calls. */
class Scripted implements Coordinators {
  calls: { served: Served[] }[] = [];
  recorded: Served[][] = [];
  leases: (Lease | undefined)[] = [];
  fail = false;
  /** Call i waits for gates[i] before answering, when set. */
  gates: Promise<void>[] = [];

  async apply(zone: string, b: ZoneBatch, served: Served[]): Promise<ZoneAnswer> {
    const gate = this.gates[this.calls.length];
    this.calls.push({ served });
    const lease = this.leases.shift();
    if (gate) await gate;
    if (this.fail) throw new Error("coordinator unreachable");
    const hosts = b.hosts.map((host) => ({ host, result: { status: "nochg" } as const }));
    return { report: { zone, hosts, notes: [], ovhCalls: 0, queryIds: [] }, lease };
  }

  async record(_zone: string, served: Served[]): Promise<void> {
    this.recorded.push(served);
  }
}

const kept: Promise<unknown>[] = [];
const keepAlive = (work: Promise<unknown>) => {
  kept.push(work);
};
const total = (lists: Served[][]) => lists.flat().reduce((n, s) => n + s.repeats, 0);

beforeEach(() => {
  vi.useFakeTimers();
  kept.length = 0;
});
afterEach(() => {
  vi.useRealTimers();
});

describe("ZoneLines", () => {
  it("answers a report its lease shows as done without a call, and counts it once", async () => {
    const c = new Scripted();
    c.leases.push(lease("2001:db8::a"));
    const lines = new ZoneLines(c);
    await lines.apply(batch("2001:db8::a"), keepAlive);
    for (let i = 0; i < 5; i++) {
      const r = await lines.apply(batch("2001:db8::a"), keepAlive);
      expect(r.hosts).toEqual([{ host: "service.example.tld", result: { status: "nochg" } }]);
    }
    expect(c.calls).toHaveLength(1);
    // The counts go to the coordinator once the lease has run out.
    await vi.advanceTimersByTimeAsync(1000);
    await Promise.all(kept);
    expect(total(c.recorded)).toBe(5);
    expect(c.recorded.flat()).toHaveLength(1); // one entry: identical reports
    // After the lease, the next report calls again.
    await lines.apply(batch("2001:db8::a"), keepAlive);
    expect(c.calls).toHaveLength(2);
    expect(total(c.calls.map((call) => call.served))).toBe(0);
  });

  it("logs the first of identical reports answered from the lease, and the rest in one line", async () => {
    const logged = vi.spyOn(console, "log").mockImplementation(() => {});
    try {
      const c = new Scripted();
      c.leases.push(lease("2001:db8::a"));
      const lines = new ZoneLines(c);
      await lines.apply(batch("2001:db8::a"), keepAlive);
      const quiet: (boolean | undefined)[] = [];
      for (let i = 0; i < 4; i++) quiet.push((await lines.apply(batch("2001:db8::a"), keepAlive)).quiet);
      quiet.push((await lines.apply(batch("2001:db8::a", 60, "192.0.2.2"), keepAlive)).quiet);
      expect(quiet).toEqual([false, true, true, true, false]); // another source is another kind
      expect(logged).not.toHaveBeenCalled();
      await vi.advanceTimersByTimeAsync(1000);
      await Promise.all(kept);
      const printed = logged.mock.calls.map(([line]) => JSON.parse(String(line)));
      expect(printed).toEqual([
        expect.objectContaining({ event: "update-repeats", source: "192.0.2.1", repeats: 3 }),
      ]);
      expect(total(c.recorded)).toBe(5);
    } finally {
      logged.mockRestore();
    }
  });

  it("calls for a report whose address, TTL or record the lease does not show", async () => {
    const c = new Scripted();
    c.leases.push(lease("2001:db8::a"), lease("2001:db8::a"), lease("2001:db8::a"));
    const lines = new ZoneLines(c);
    await lines.apply(batch("2001:db8::a"), keepAlive);
    await lines.apply(batch("2001:db8::b"), keepAlive);
    await lines.apply(batch("2001:db8::a", 120), keepAlive);
    const other = batch("2001:db8::a");
    other.desired[0] = {
      host: "service.example.tld",
      spec: { zone: ZONE, subdomain: "service6", type: "AAAA", ttl: 60 },
      target: "2001:db8::a",
    };
    await lines.apply(other, keepAlive);
    expect(c.calls).toHaveLength(4);
  });

  it("uses no lease while a call is in flight, nor one from a call that came back before a later one", async () => {
    const c = new Scripted();
    const opens: (() => void)[] = [];
    c.gates = [0, 1].map(() => new Promise<void>((resolve) => opens.push(resolve)));
    c.leases.push(lease("2001:db8::a"), lease("2001:db8::a"), lease("2001:db8::a"));
    const lines = new ZoneLines(c);
    const first = lines.apply(batch("2001:db8::a"), keepAlive);
    const second = lines.apply(batch("2001:db8::a"), keepAlive);
    expect(c.calls).toHaveLength(2); // no lease yet: the second called too
    // The later call comes back first, while the earlier is still in flight: its lease is not
    // used (the earlier call may still change records); the earlier one's lease is older.
    opens[1]?.();
    await second;
    opens[0]?.();
    await first;
    await lines.apply(batch("2001:db8::a"), keepAlive);
    expect(c.calls).toHaveLength(3);
    // That call came back alone: its lease answers the next report.
    await lines.apply(batch("2001:db8::a"), keepAlive);
    expect(c.calls).toHaveLength(3);
  });

  it("a lease expires early by the margin, counted from before the call", async () => {
    const c = new Scripted();
    c.leases.push(lease("2001:db8::a", 60, 1000), lease("2001:db8::a", 60, 1000));
    const lines = new ZoneLines(c);
    await lines.apply(batch("2001:db8::a"), keepAlive);
    await vi.advanceTimersByTimeAsync(700);
    await lines.apply(batch("2001:db8::a"), keepAlive);
    expect(c.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(60);
    await lines.apply(batch("2001:db8::a"), keepAlive);
    expect(c.calls).toHaveLength(2);
  });

  it("counts from a failed call are sent with the next one", async () => {
    const c = new Scripted();
    c.leases.push(lease("2001:db8::a"));
    const lines = new ZoneLines(c);
    await lines.apply(batch("2001:db8::a"), keepAlive);
    await lines.apply(batch("2001:db8::a"), keepAlive);
    await lines.apply(batch("2001:db8::a", 60, "192.0.2.2"), keepAlive);
    c.fail = true;
    await expect(lines.apply(batch("2001:db8::b"), keepAlive)).rejects.toThrow("unreachable");
    c.fail = false;
    await lines.apply(batch("2001:db8::b"), keepAlive);
    const sent = c.calls.map((call) => call.served);
    expect(total([sent[1] ?? []])).toBe(2); // the failed call carried them
    expect(total([sent[2] ?? []])).toBe(2); // and so did the next
    expect(sent[2]?.map((s) => s.source).sort()).toEqual(["192.0.2.1", "192.0.2.2"]);
    await vi.advanceTimersByTimeAsync(1000);
    await Promise.all(kept);
    expect(total(c.recorded)).toBe(0); // nothing left to send
  });
});
