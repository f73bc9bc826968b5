// A host's health from what the coordinator keeps (src/zone/health/state.ts), and the notes that say
// why part of a report changes nothing (src/dyndns/notes.ts). Pure functions, no Worker.
import { describe, expect, it } from "vitest";
import type { HostSpec } from "../../src/config";
import { toBigInt } from "../../src/core/address";
import { planHost } from "../../src/core/plan";
import { hostNote } from "../../src/dyndns/notes";
import { collectParams } from "../../src/dyndns/params";
import { parseUpdate } from "../../src/dyndns/report";
import {
  counted,
  DRIFT_LIMIT,
  heldReason,
  holdsAny,
  isHeld,
  onLastSetBack,
  resumed,
} from "../../src/zone/health/drift";
import {
  afterRefusal,
  afterReport,
  failingReason,
  goneStale,
  healthOf,
  transitions,
} from "../../src/zone/health/state";
import type { LastReport } from "../../src/zone/protocol";

const T0 = Date.parse("2026-12-01T08:00:00Z");
const HOUR = 3_600_000;
const report = (at: number, outcome = "good"): LastReport => ({
  at,
  client: "fritzbox",
  source: "203.0.113.5",
  agent: "FRITZ!Box",
  outcome,
});
const nochg = { status: "nochg" } as const;

describe("healthOf", () => {
  it("never without a report; ok after one; stale once stale_after has passed, since then", () => {
    expect(healthOf(undefined, 7200, T0).state).toBe("never");
    const record = afterReport(undefined, report(T0), nochg, {});
    expect(healthOf(record, 7200, T0 + HOUR)).toEqual({ state: "ok", reason: "", since: T0 });
    const stale = healthOf(record, 7200, T0 + 2 * HOUR);
    expect(stale).toMatchObject({ state: "stale", since: T0 + 2 * HOUR });
    expect(stale.reason).toBe(
      "no report since 2026-12-01T08:00:00.000Z: check that the client fritzbox is online and still reports",
    );
    expect(healthOf(record, 0, T0 + 1000 * HOUR).state).toBe("ok"); // stale_after 0: off
  });

  it("a stale host's reason and events name the client, never its source address (other clients of the host read them)", () => {
    const record = afterReport(undefined, report(T0), nochg, {});
    const stale = goneStale("h.example.tld", record, 3600, T0 + 2 * HOUR);
    expect(stale?.record.reason).not.toContain("203.0.113.5");
    expect(stale?.event.message).not.toContain("203.0.113.5");
    expect(stale?.event.message).toContain("fritzbox");
    const again = afterReport(stale?.record, report(T0 + 3 * HOUR), nochg, {});
    const events = transitions("h.example.tld", stale?.record, again, nochg, T0 + 3 * HOUR);
    expect(events.map((e) => e.kind)).toEqual(["reporting"]);
    expect(events[0]?.message).toBe(
      "h.example.tld reports again: fritzbox, after no report since 2026-12-01T08:00:00.000Z",
    );
  });

  it("refused reports do not count against staleness, and the reason says the last one was refused", () => {
    let record = afterReport(undefined, report(T0), nochg, {});
    record = afterRefusal(record, report(T0 + HOUR, "badrequest"));
    const stale = healthOf(record, 3600, T0 + 1.5 * HOUR);
    expect(stale.state).toBe("stale");
    expect(stale.reason).toMatch(/; a later report at 2026-12-01T09:00:00.000Z was refused \(badrequest\)$/);
    expect(healthOf(afterRefusal(undefined, report(T0, "badrequest")), 3600, T0).state).toBe("never");
  });

  it("failing keeps its start across failures and ends with a good report; the change limit keeps the state", () => {
    let record = afterReport(undefined, report(T0), nochg, {});
    record = afterReport(
      record,
      report(T0 + 1000, "911"),
      { status: "911", reason: "OVH PUT /x: 500 boom" },
      {},
    );
    record = afterReport(
      record,
      report(T0 + 2000, "911"),
      { status: "911", reason: "OVH PUT /x: 502 bad" },
      {},
    );
    expect(healthOf(record, 7200, T0 + 3000)).toEqual({
      state: "failing",
      reason:
        "not written, OVH failed: OVH PUT /x: 502 bad; the client retries, and the scheduled check tries again",
      since: T0 + 1000,
    });
    record = afterReport(record, report(T0 + 3000, "abuse"), { status: "abuse", reason: "too often" }, {});
    expect(healthOf(record, 7200, T0 + 3000).state).toBe("failing");
    record = afterReport(record, report(T0 + 4000), { status: "good", changes: [] }, {});
    expect(healthOf(record, 7200, T0 + 5000)).toEqual({ state: "ok", reason: "", since: T0 + 4000 });
  });

  it("failingReason tells refused credentials from other failures", () => {
    expect(failingReason("911", "OVH GET /domain/zone/x/record: 403 This credential is not valid")).toMatch(
      /^OVH refuses the credentials: .*npm run check$/,
    );
    expect(failingReason("911", "OVH POST /auth/oauth2/token: 401 no token: invalid_client")).toMatch(
      /^OVH refuses the credentials/,
    );
    expect(failingReason("911", "OVH GET /x: no answer within 5000 ms")).toMatch(/^not written, OVH failed/);
    expect(failingReason("dnserr", "A x matches 2 records")).toBe("not written: A x matches 2 records");
  });
});

describe("hostNote", () => {
  const host = (types: ("A" | "AAAA" | "AAAA+id")[]): HostSpec => ({
    name: "h.example.tld",
    zone: "example.tld",
    allowPrivate: true,
    records: types.map((t) => ({
      zone: "example.tld",
      subdomain: "h",
      type: t === "A" ? "A" : "AAAA",
      ttl: 60,
      ...(t === "AAAA+id" ? { hostId: toBigInt("::1") } : {}),
    })),
  });
  const note = (h: HostSpec, query: string) => {
    const params = collectParams(new URLSearchParams(`hostname=h.example.tld&${query}`));
    const parsed = parseUpdate(params, undefined);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed));
    const plan = planHost(h, parsed.value);
    if (!plan.ok) throw new Error(plan.reason);
    return hostNote(h, parsed.value, plan.records, params);
  };

  it.each([
    [["AAAA"], "myip=81.2.69.142", "IPv4 81.2.69.142 ignored: no A record for h.example.tld"],
    [["A"], "myipv6=2001:db8::1", "IPv6 2001:db8::1 ignored: no AAAA record for h.example.tld"],
    [
      ["AAAA"],
      "ip6lanprefix=2001:db8:1::/56",
      "prefix 2001:db8:1::/56 ignored: the AAAA records of h.example.tld without host_id take an IPv6 address, not a prefix",
    ],
    [
      ["A", "AAAA"],
      "myip=&myipv6=2001:db8::1",
      "myip empty: the A records of h.example.tld are left as they are",
    ],
    [
      ["A", "AAAA"],
      "myip=<ipaddr>,2001:db8::1",
      "myip empty: the A records of h.example.tld are left as they are",
    ],
    [
      ["A", "AAAA+id"],
      "myip=198.51.100.1&ip6addr=&ip6lanprefix=",
      "ip6addr, ip6lanprefix empty: the AAAA records of h.example.tld are left as they are",
    ],
    // A FRITZ!Box sends its own IPv6 address and the prefix: the reply echoes the address, so
    // the note says that host_id records took the prefix instead (issue 21 item 12).
    [
      ["AAAA+id"],
      "ip6addr=2001:db8::1&ip6lanprefix=2001:db8:1::/56",
      "IPv6 2001:db8::1 not used: the AAAA records of h.example.tld have a host_id and take the prefix 2001:db8:1::/56",
    ],
    // Its placeholder before it has a prefix: the WAN address is no stand-in (issue 23 item 7).
    [
      ["A", "AAAA+id"],
      "myip=198.51.100.1&myipv6=2001:db8::1&ip6lanprefix=",
      "IPv6 2001:db8::1 not used: the AAAA records of h.example.tld have a host_id and take a prefix, and ip6lanprefix came empty (the router has no prefix yet); they are left as they are",
    ],
  ] as const)("%j with %s: %s", (types, query, expected) => {
    expect(note(host([...types]), query)).toBe(expected);
  });

  it.each([
    [["A", "AAAA"], "myip=198.51.100.1,2001:db8::1"],
    // A host with both kinds of AAAA record uses the address and the prefix.
    [["AAAA", "AAAA+id"], "ip6addr=2001:db8:1::1&ip6lanprefix=2001:db8:1::/56"],
    // An address alone feeds host_id records through its /64.
    [["AAAA+id"], "myipv6=2001:db8::1"],
    // No A record: an empty IPv4 field is no news.
    [["AAAA"], "myip=&myipv6=2001:db8::1"],
  ] as const)("nothing to say for %j with %s", (types, query) => {
    expect(note(host([...types]), query)).toBeUndefined();
  });
});

describe("drift counted per record (src/zone/health/drift.ts)", () => {
  const key = "AAAA wg-end";
  const base = afterReport(undefined, report(T0), nochg, { [key]: "2001:db8::1" });

  it("is set back DRIFT_LIMIT - 1 times, then held; the reason counts since the first", () => {
    let record = base;
    for (let i = 1; i < DRIFT_LIMIT; i++) {
      expect(onLastSetBack(record, key)).toBe(false);
      record = counted(record, [key], T0 + i * HOUR, false);
    }
    expect(onLastSetBack(record, key)).toBe(true);
    expect(isHeld(record, key)).toBe(false);
    record = counted(record, [key], T0 + 9 * HOUR, true);
    expect(isHeld(record, key)).toBe(true);
    expect(holdsAny(record)).toBe(true);
    expect(heldReason(record, (k) => `${k}.example.tld`)).toBe(
      `AAAA wg-end.example.tld changed by hand ${DRIFT_LIMIT} times since 2026-12-01T09:00:00.000Z; not set back; report again or press Check now to resume`,
    );
  });

  it("Check now resumes: nothing held, the counts start over, and the reason says who resumed", () => {
    const held = counted(counted(base, [key], T0, false), [key], T0 + HOUR, true);
    const record = resumed(held, "fritzbox", T0 + 2 * HOUR);
    expect(holdsAny(record)).toBe(false);
    expect(record.drift).toEqual({ [key]: { count: 0, since: T0 + 2 * HOUR } });
    expect(record.reason).toBe(
      "setting back resumed by fritzbox at 2026-12-01T10:00:00.000Z: the next scheduled check puts the records right",
    );
  });

  it("a report forgets it (and resumes); a refused report or the change limit keeps it", () => {
    const held = counted(base, [key], T0, true);
    expect(afterReport(held, report(T0 + HOUR), nochg, {}).drift).toBeUndefined();
    expect(afterRefusal(held, report(T0 + HOUR, "badrequest")).drift).toEqual(held.drift);
    expect(afterReport(held, report(T0 + HOUR, "abuse"), { status: "abuse", reason: "x" }, {}).drift).toEqual(
      held.drift,
    );
  });
});
