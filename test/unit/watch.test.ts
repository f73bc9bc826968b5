// The served states of src/zone/watch.ts, with the clock in the test's hands: the back-off after a
// change, served with the seconds it took, unserved at serve_within and not before, and the
// host's health following its records (one event each way).
import { describe, expect, it } from "vitest";
import type { HostRecord, ServedRecord, ServerAnswer } from "../../src/zone/protocol";
import { afterServed, BACKOFF_S, judge, LATER_S, startWatch, whatServersSay } from "../../src/zone/watch";

const T0 = Date.UTC(2026, 11, 5, 7, 0, 0);
const WITHIN = 900_000;
const W = {
  key: "AAAA wg-end",
  host: "wg-end.example.tld",
  name: "wg-end.example.tld",
  type: "AAAA" as const,
  target: "2001:db8::2",
};
const says = (at: number, ...records: (string[] | null)[]): ServerAnswer[] =>
  records.map((r, i) => ({
    server: ["dns200.anycast.me", "ns200.anycast.me"][i] as string,
    records: r,
    at,
    ...(r ? {} : { reason: "no answer within 4 s" }),
  }));

describe("a change's watch", () => {
  it("is first asked 2 s after the report, then after 4, 8, 15, 30, 60 s, then every 3 minutes, the last ask at serve_within", () => {
    let r = startWatch(W, T0, "report");
    expect(r).toMatchObject({ state: "waiting", nextAt: T0 + 2000, attempts: 0 });
    const gaps: number[] = [];
    let now = r.nextAt as number;
    while (r.state === "waiting") {
      r = judge(r, says(now, ["2001:db8::1"], ["2001:db8::2"]), now, WITHIN);
      if (r.nextAt !== null) {
        gaps.push((r.nextAt - now) / 1000);
        now = r.nextAt;
      }
    }
    expect(gaps.slice(0, 6)).toEqual([...BACKOFF_S.slice(1), LATER_S]);
    expect(gaps.slice(6, -1).every((g) => g === LATER_S)).toBe(true);
    expect(now).toBe(T0 + WITHIN); // the verdict comes at serve_within, not after
    expect(r).toMatchObject({ state: "unserved", since: T0 + WITHIN, nextAt: null });
    expect(whatServersSay(r)).toBe("dns200.anycast.me answers 2001:db8::1");
  });

  it("is served once every server answers exactly the target, with the time since the report", () => {
    const r = judge(
      startWatch(W, T0, "report"),
      says(T0 + 6000, ["2001:db8:0::2"], ["2001:db8::2"]),
      T0 + 6000,
      WITHIN,
    );
    expect(r).toMatchObject({ state: "served", since: T0 + 6000, tookMs: 6000, nextAt: null, attempts: 1 });
    const both = judge(
      startWatch(W, T0, "report"),
      says(T0 + 2000, ["2001:db8::2", "2001:db8::3"], ["2001:db8::2"]),
      T0 + 2000,
      WITHIN,
    );
    expect(both.state).toBe("waiting"); // a second address is not the target
    const none = judge(startWatch(W, T0, "report"), [], T0 + 2000, WITHIN);
    expect(none.state).toBe("waiting"); // no server asked is not served
  });

  it("stays unserved (since when it became so) until every server answers, then is served again", () => {
    const unserved = judge(
      startWatch(W, T0, "report"),
      says(T0 + WITHIN, ["2001:db8::2"], null),
      T0 + WITHIN,
      WITHIN,
    );
    const still = judge(unserved, says(T0 + 2 * WITHIN, ["2001:db8::2"], []), T0 + 2 * WITHIN, WITHIN);
    expect(still).toMatchObject({ state: "unserved", since: T0 + WITHIN });
    expect(whatServersSay(still)).toBe("ns200.anycast.me answers no AAAA record");
    const back = judge(
      still,
      says(T0 + 3 * WITHIN, ["2001:db8::2"], ["2001:db8::2"]),
      T0 + 3 * WITHIN,
      WITHIN,
    );
    expect(back).toMatchObject({ state: "served", since: T0 + 3 * WITHIN, tookMs: null });
  });
});

describe("the host's health", () => {
  const prior: HostRecord = { last: null, acceptedAt: T0, state: "ok", reason: "", since: T0, targets: {} };
  const unserved: ServedRecord = {
    ...startWatch(W, T0, "report"),
    state: "unserved",
    answers: says(T0 + WITHIN, ["2001:db8::2"], ["2001:db8::1"]),
  };

  it("is unserved while a record is, with which server answers what, told once; then recovers, told once", () => {
    const first = afterServed(W.host, prior, [unserved], 900, T0 + WITHIN);
    expect(first.next).toMatchObject({ state: "unserved", since: T0 + WITHIN });
    expect(first.next.reason).toContain(
      "AAAA wg-end.example.tld should be 2001:db8::2, but ns200.anycast.me answers 2001:db8::1 (900 s after the change)",
    );
    expect(first.event?.kind).toBe("unserved");
    const again = afterServed(W.host, first.next, [unserved], 900, T0 + 2 * WITHIN);
    expect(again.event).toBeUndefined();
    expect(again.next.since).toBe(T0 + WITHIN);
    const ok = afterServed(W.host, again.next, [], 900, T0 + 3 * WITHIN);
    expect(ok.next).toMatchObject({ state: "ok", reason: "" });
    expect(ok.event).toMatchObject({ kind: "recovered" });
  });

  it("a failing host stays failing: the write failed, which says more", () => {
    const failing = { ...prior, state: "failing" as const, reason: "OVH failed" };
    expect(afterServed(W.host, failing, [unserved], 900, T0)).toEqual({ next: failing });
  });
});
