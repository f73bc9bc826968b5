// The reconciler (src/zone/reconcile.ts): decide and settle as pure functions, and reconcile() end
// to end on the in-memory RecordApi (test/support/fake-records.ts), whose call log gives the exact
// OVH calls each situation costs. The fake keeps the RecordApi contract (test/contract/).
import { describe, expect, it } from "vitest";
import type { RecordType } from "../../src/config";
import type { Desired } from "../../src/core/plan";
import type { ZoneRecord } from "../../src/ovh/records";
import { recordKey } from "../../src/zone/protocol";
import {
  type Decision,
  decide,
  type Known,
  type MemoryUpdate,
  type Reading,
  reconcile,
  settle,
  type WriteOutcome,
} from "../../src/zone/reconcile";
import { FakeRecordApi } from "../support/fake-records";
import { Memory } from "../support/memory";

const ZONE = "example.tld";
const NOW = 1_800_000_000_000;
const HOUR = 3_600_000;
const ID = 5_000_000_123; // above 2^31, as OVH's are

function want(host: string, subdomain: string, type: RecordType, target: string, ttl = 60): Desired {
  return { host, spec: { zone: ZONE, subdomain, type, ttl }, target };
}

const one = (target: string, { id = ID, ttl = 60, fresh = false } = {}): Reading => ({
  kind: "one",
  record: { id, target, ttl },
  fresh,
});

const record = (id: number, subDomain: string, target: string, fieldType = "AAAA"): ZoneRecord => ({
  id,
  zone: ZONE,
  fieldType,
  subDomain,
  target,
  ttl: 60,
});

/** Nothing remembered, no host past the change limit. */
const nothing: Known = { remembered: new Map(), limited: new Map() };

describe("decide (pure)", () => {
  it("writes nothing when the record read holds the target and TTL, and remembers what it read", () => {
    const d = want("nas.example.tld", "nas", "AAAA", "2001:db8::1");
    const decision = decide([d], [one("2001:db8::1")], nothing, NOW);
    expect(decision.writes).toEqual([]);
    expect(decision.failed.size).toBe(0);
    expect(decision.remember).toEqual([
      {
        key: "AAAA nas",
        state: { id: ID, target: "2001:db8::1", ttl: 60, confirmedAt: NOW, changedAt: NOW },
      },
    ]);
  });

  it("compares addresses, not spellings: 2001:db8:0::1 is 2001:db8::1", () => {
    const d = want("nas.example.tld", "nas", "AAAA", "2001:db8::1");
    expect(decide([d], [one("2001:db8:0:0::1")], nothing, NOW).writes).toEqual([]);
  });

  it("a record remembered fresh is neither written nor remembered again", () => {
    const d = want("nas.example.tld", "nas", "AAAA", "2001:db8::1");
    const decision = decide([d], [one("2001:db8::1", { fresh: true })], nothing, NOW);
    expect(decision.writes).toEqual([]);
    expect(decision.remember).toEqual([]);
  });

  it("keeps when the target last changed if the same record still holds the same target", () => {
    const d = want("nas.example.tld", "nas", "AAAA", "2001:db8::1");
    const prior = {
      id: ID,
      target: "2001:db8::1",
      ttl: 60,
      confirmedAt: NOW - HOUR,
      changedAt: NOW - 5 * HOUR,
    };
    const decision = decide(
      [d],
      [one("2001:db8::1")],
      { ...nothing, remembered: new Map([["AAAA nas", prior]]) },
      NOW,
    );
    expect(decision.remember).toEqual([
      { key: "AAAA nas", state: { ...prior, confirmedAt: NOW, changedAt: NOW - 5 * HOUR } },
    ]);
  });

  it("writes a record whose target or only TTL differs (update), or that is missing (create)", () => {
    const desired = [
      want("a.example.tld", "a", "AAAA", "2001:db8::2"),
      want("b.example.tld", "b", "AAAA", "2001:db8::3", 300),
      want("c.example.tld", "c", "A", "198.51.100.4"),
    ];
    const readings: Reading[] = [one("2001:db8::1"), one("2001:db8::3", { id: ID + 1 }), { kind: "none" }];
    const decision = decide(desired, readings, nothing, NOW);
    const read = (id: number, target: string) => ({ id, target, ttl: 60, confirmedAt: NOW, changedAt: NOW });
    expect(decision.writes).toEqual([
      { d: desired[0], current: { id: ID, target: "2001:db8::1", ttl: 60 }, last: read(ID, "2001:db8::1") },
      {
        d: desired[1],
        current: { id: ID + 1, target: "2001:db8::3", ttl: 60 },
        last: read(ID + 1, "2001:db8::3"),
      },
      { d: desired[2], current: undefined, last: undefined },
    ]);
    expect(decision.failed.size).toBe(0);
  });

  it("a name with several records is dnserr, and nothing of that host is written", () => {
    const desired = [
      want("nas.example.tld", "nas", "A", "198.51.100.1"),
      want("nas.example.tld", "nas", "AAAA", "2001:db8::1"),
      want("other.example.tld", "other", "AAAA", "2001:db8::1"),
    ];
    const dups = [record(ID, "nas", "2001:db8::7"), record(ID + 9, "nas", "2001:db8::8")];
    const readings: Reading[] = [{ kind: "none" }, { kind: "conflict", records: dups }, { kind: "none" }];
    const decision = decide(desired, readings, nothing, NOW);
    expect(decision.writes.map((w) => w.d.host)).toEqual(["other.example.tld"]);
    const failure = decision.failed.get("nas.example.tld");
    expect(failure?.status).toBe("dnserr");
    expect(failure && "reason" in failure ? failure.reason : "").toBe(
      `AAAA nas.example.tld matches 2 records: ${ID} (2001:db8::7), ${ID + 9} (2001:db8::8); delete all but one`,
    );
    expect(decision.notes).toHaveLength(1);
  });

  it("a failed read is 911 for its host only", () => {
    const desired = [
      want("nas.example.tld", "nas", "AAAA", "2001:db8::1"),
      want("other.example.tld", "other", "AAAA", "2001:db8::1"),
    ];
    const readings: Reading[] = [{ kind: "failed", message: "OVH GET …: 500 boom" }, { kind: "none" }];
    const decision = decide(desired, readings, nothing, NOW);
    expect(decision.failed.get("nas.example.tld")).toEqual({ status: "911", reason: "OVH GET …: 500 boom" });
    expect(decision.writes.map((w) => w.d.host)).toEqual(["other.example.tld"]);
  });

  it("a host past the change limit that would be written answers abuse with its retry time; one with nothing to write is untouched", () => {
    const desired = [
      want("nas.example.tld", "nas", "A", "198.51.100.1"),
      want("nas.example.tld", "nas", "AAAA", "2001:db8::1"),
      want("same.example.tld", "same", "AAAA", "2001:db8::1"),
    ];
    const limited = new Map([
      ["nas.example.tld", 120],
      ["same.example.tld", 60],
    ]);
    const readings: Reading[] = [{ kind: "none" }, { kind: "none" }, one("2001:db8::1")];
    const decision = decide(desired, readings, { ...nothing, limited }, NOW);
    expect(decision.failed.get("nas.example.tld")).toEqual({
      status: "abuse",
      reason: "the host's addresses change too often",
      retryAfter: 120,
    });
    expect(decision.failed.has("same.example.tld")).toBe(false);
    expect(decision.writes).toEqual([]);
  });

  it("a read the call policy held back answers held, with why, and writes nothing for that host", () => {
    const desired = [
      want("nas.example.tld", "nas", "A", "198.51.100.1"),
      want("nas.example.tld", "nas", "AAAA", "2001:db8::1"),
    ];
    const hold = { by: "pace" as const, reason: "not sent: paced" };
    const decision = decide(desired, [{ kind: "held", hold }, { kind: "none" }], nothing, NOW);
    expect(decision.failed.get("nas.example.tld")).toEqual({ status: "held", ...hold });
    expect(decision.writes).toEqual([]);
    expect(decision.notes).toEqual(["not sent: paced"]);
  });
});

describe("settle (pure)", () => {
  const a = want("nas.example.tld", "nas", "AAAA", "2001:db8::2");
  const b = want("nas.example.tld", "nas", "A", "198.51.100.2");
  const c = want("other.example.tld", "other", "AAAA", "2001:db8::2");
  const decision = (writes: Decision["writes"], failed: Decision["failed"] = new Map()): Decision => ({
    failed,
    writes,
    remember: [],
    notes: [],
  });

  it("writes confirmed by the refresh: good with each change, remembered as done", () => {
    const writes = [{ d: a, current: { id: ID, target: "2001:db8::1", ttl: 60 } }, { d: b }];
    const outcomes: WriteOutcome[] = [
      { ok: true, id: ID },
      { ok: true, id: ID + 1 },
    ];
    const settled = settle([a, b, c], decision(writes), outcomes, undefined, NOW);
    expect(settled.hosts.get("nas.example.tld")).toEqual({
      status: "good",
      changes: [
        {
          host: "nas.example.tld",
          name: "nas.example.tld",
          type: "AAAA",
          from: "2001:db8::1",
          to: "2001:db8::2",
        },
        { host: "nas.example.tld", name: "nas.example.tld", type: "A", from: undefined, to: "198.51.100.2" },
      ],
    });
    expect(settled.hosts.get("other.example.tld")).toEqual({ status: "nochg" });
    expect(settled.remember).toEqual<MemoryUpdate[]>([
      {
        key: "AAAA nas",
        state: { id: ID, target: "2001:db8::2", ttl: 60, confirmedAt: NOW, changedAt: NOW },
      },
      {
        key: "A nas",
        state: { id: ID + 1, target: "198.51.100.2", ttl: 60, confirmedAt: NOW, changedAt: NOW },
      },
    ]);
    expect(settled.notes).toEqual([]);
  });

  it("a failed write is 911 for its host (dnserr for duplicates found while writing); others are good", () => {
    const writes = [{ d: a, current: { id: ID, target: "2001:db8::1", ttl: 60 } }, { d: c }];
    const outcomes: WriteOutcome[] = [
      { ok: false, message: "OVH PUT …: 500 boom", duplicate: false, mayHaveLanded: true },
      { ok: true, id: ID + 2 },
    ];
    const settled = settle([a, c], decision(writes), outcomes, undefined, NOW);
    expect(settled.hosts.get("nas.example.tld")).toEqual({ status: "911", reason: "OVH PUT …: 500 boom" });
    expect(settled.hosts.get("other.example.tld")?.status).toBe("good");
    // The failed write may have reached OVH: its record is remembered as unconfirmed.
    expect(settled.remember.map((u) => [u.key, "state" in u && u.state.unconfirmed === true])).toEqual([
      ["AAAA nas", true],
      ["AAAA other", false],
    ]);
    expect(settled.notes).toEqual(["OVH PUT …: 500 boom"]);

    const dup = settle(
      [a],
      decision([writes[0] as Decision["writes"][0]]),
      [{ ok: false, message: "AAAA nas.example.tld matches 2 records", duplicate: true }],
      undefined,
      NOW,
    );
    expect(dup.hosts.get("nas.example.tld")?.status).toBe("dnserr");
  });

  it("a failed refresh: every host that wrote is 911, nothing is remembered as done, each record is unconfirmed", () => {
    const last = { id: ID, target: "2001:db8::1", ttl: 60, confirmedAt: NOW - HOUR, changedAt: NOW - HOUR };
    const writes = [{ d: a, current: { id: ID, target: "2001:db8::1", ttl: 60 }, last }, { d: c }];
    const outcomes: WriteOutcome[] = [
      { ok: true, id: ID },
      { ok: true, id: ID + 2 },
    ];
    const settled = settle([a, c], decision(writes), outcomes, { message: "OVH POST …/refresh: 503" }, NOW);
    expect(settled.hosts.get("nas.example.tld")).toEqual({
      status: "911",
      reason: "OVH POST …/refresh: 503",
    });
    expect(settled.hosts.get("other.example.tld")).toEqual({
      status: "911",
      reason: "OVH POST …/refresh: 503",
    });
    expect(settled.remember).toEqual([
      // What OVH last confirmed, marked: the next report reads OVH and writes again.
      { key: "AAAA nas", state: { ...last, unconfirmed: true } },
      // Created, never confirmed: only the id and the mark.
      {
        key: "AAAA other",
        state: { id: ID + 2, target: "", ttl: 60, confirmedAt: 0, changedAt: 0, unconfirmed: true },
      },
    ]);
    expect(settled.notes).toEqual(["OVH POST …/refresh: 503"]);
  });

  it("a write or a refresh the call policy held back answers held, with why; only a write sent stays unconfirmed", () => {
    const paced = { by: "pace" as const, reason: "not sent: paced" };
    const open = { by: "breaker" as const, reason: "not sent: OVH failed just now" };
    const outcomes: WriteOutcome[] = [
      { ok: false, message: paced.reason, duplicate: false, mayHaveLanded: false, held: paced },
      { ok: true, id: ID + 2 },
    ];
    const settled = settle(
      [a, c],
      decision([{ d: a }, { d: c }]),
      outcomes,
      { message: open.reason, held: open },
      NOW,
    );
    expect(settled.hosts.get("nas.example.tld")).toEqual({ status: "held", ...paced });
    expect(settled.hosts.get("other.example.tld")).toEqual({ status: "held", ...open });
    expect(settled.remember.map((m) => m.key)).toEqual(["AAAA other"]);
  });

  it("hosts the decision failed keep that answer", () => {
    const failed = new Map([["nas.example.tld", { status: "abuse" as const, reason: "too often" }]]);
    const settled = settle([a, c], decision([], failed), [], undefined, NOW);
    expect(settled.hosts.get("nas.example.tld")).toEqual({ status: "abuse", reason: "too often" });
    expect(settled.hosts.get("other.example.tld")).toEqual({ status: "nochg" });
  });
});

describe("reconcile on the fake RecordApi: exact calls", () => {
  const options = { now: NOW, recheckAfterMs: HOUR };
  const nas6 = (target: string, ttl = 60) => want("nas.example.tld", "nas", "AAAA", target, ttl);
  const nas4 = (target: string) => want("nas.example.tld", "nas", "A", target);

  function setup() {
    const api = new FakeRecordApi([ZONE]);
    const memory = new Memory();
    const remember = (type: RecordType, sub: string, id: number, target: string, age = 0) =>
      memory.set(recordKey(type, sub), { id, target, ttl: 60, confirmedAt: NOW - age, changedAt: NOW - age });
    const served = (type: string, sub: string) =>
      api
        .served(ZONE)
        .filter((r) => r.fieldType === type && r.subDomain === sub)
        .map((r) => r.target);
    return { api, memory, remember, served };
  }

  it("unchanged, remembered fresh: no call at all, nochg", async () => {
    const { api, memory, remember } = setup();
    const id = api.seed(ZONE, { type: "AAAA", subdomain: "nas", target: "2001:db8::1", ttl: 60 });
    remember("AAAA", "nas", id, "2001:db8::1", HOUR / 2);
    const result = await reconcile(api, ZONE, [nas6("2001:db8::1")], memory, options);
    expect(result.hosts.get("nas.example.tld")).toEqual({ status: "nochg" });
    expect(api.methods()).toEqual([]);
  });

  it("unchanged, nothing remembered: one list and one read, then remembered", async () => {
    const { api, memory } = setup();
    const id = api.seed(ZONE, { type: "AAAA", subdomain: "nas", target: "2001:db8::1", ttl: 60 });
    const result = await reconcile(api, ZONE, [nas6("2001:db8::1")], memory, options);
    expect(result.hosts.get("nas.example.tld")).toEqual({ status: "nochg" });
    expect(api.methods()).toEqual(["list", "get"]);
    expect(memory.get("AAAA nas")).toMatchObject({ id, target: "2001:db8::1", confirmedAt: NOW });
  });

  it("a change of a remembered record: one update and one refresh, served and remembered", async () => {
    const { api, memory, remember, served } = setup();
    const id = api.seed(ZONE, { type: "AAAA", subdomain: "nas", target: "2001:db8::1", ttl: 60 });
    remember("AAAA", "nas", id, "2001:db8::1");
    const result = await reconcile(api, ZONE, [nas6("2001:db8::2")], memory, options);
    expect(result.hosts.get("nas.example.tld")).toEqual({
      status: "good",
      changes: [
        {
          host: "nas.example.tld",
          name: "nas.example.tld",
          type: "AAAA",
          from: "2001:db8::1",
          to: "2001:db8::2",
        },
      ],
    });
    expect(api.methods()).toEqual(["update", "refresh"]);
    expect(served("AAAA", "nas")).toEqual(["2001:db8::2"]);
    expect(memory.get("AAAA nas")).toEqual({
      id,
      target: "2001:db8::2",
      ttl: 60,
      confirmedAt: NOW,
      changedAt: NOW,
    });
  });

  it("a missing record: one list, one create and one refresh; the new id is remembered", async () => {
    const { api, memory, served } = setup();
    const result = await reconcile(api, ZONE, [nas4("198.51.100.1")], memory, options);
    expect(result.hosts.get("nas.example.tld")?.status).toBe("good");
    expect(api.methods()).toEqual(["list", "create", "refresh"]);
    expect(served("A", "nas")).toEqual(["198.51.100.1"]);
    const [created] = api.staged(ZONE);
    expect(memory.get("A nas")?.id).toBe(created?.id);
  });

  it("one refresh for the writes of several hosts", async () => {
    const { api, memory } = setup();
    const desired = [
      nas4("198.51.100.1"),
      nas6("2001:db8::1"),
      want("other.example.tld", "other", "AAAA", "2001:db8::1"),
    ];
    await reconcile(api, ZONE, desired, memory, options);
    expect(api.count("create")).toBe(3);
    expect(api.count("refresh")).toBe(1);
  });

  it("duplicates: dnserr, nothing of that host written, the other host written", async () => {
    const { api, memory } = setup();
    api.seed(ZONE, { type: "AAAA", subdomain: "nas", target: "2001:db8::7", ttl: 60 });
    api.seed(ZONE, { type: "AAAA", subdomain: "NAS", target: "2001:db8::8", ttl: 60 });
    const before = api.staged(ZONE);
    const other = want("other.example.tld", "other", "AAAA", "2001:db8::1");
    const result = await reconcile(
      api,
      ZONE,
      [nas4("198.51.100.1"), nas6("2001:db8::1"), other],
      memory,
      options,
    );
    expect(result.hosts.get("nas.example.tld")?.status).toBe("dnserr");
    expect(result.hosts.get("other.example.tld")?.status).toBe("good");
    expect(api.count("list")).toBe(3);
    expect(api.count("get")).toBe(2);
    expect(api.calls.filter((c) => c.method === "create").map((c) => c.subdomain)).toEqual(["other"]);
    expect(api.count("update")).toBe(0);
    expect(api.staged(ZONE).filter((r) => r.subDomain.toLowerCase() === "nas")).toEqual(before);
    expect(memory.get("AAAA nas")).toBeUndefined();
    expect(result.notes).toHaveLength(1);
  });

  it("a write that fails: 911, no refresh, not remembered as done; the next report reads it and writes it again", async () => {
    const { api, memory, remember, served } = setup();
    const id = api.seed(ZONE, { type: "AAAA", subdomain: "nas", target: "2001:db8::1", ttl: 60 });
    remember("AAAA", "nas", id, "2001:db8::1");
    api.failNext("update");
    const result = await reconcile(api, ZONE, [nas6("2001:db8::2")], memory, options);
    expect(result.hosts.get("nas.example.tld")).toEqual({
      status: "911",
      reason: `fake update in zone ${ZONE} (record ${id}): 500 injected failure`,
    });
    expect(api.methods()).toEqual(["update"]);
    expect(memory.get("AAAA nas")).toMatchObject({ target: "2001:db8::1", unconfirmed: true });

    api.resetCalls();
    const again = await reconcile(api, ZONE, [nas6("2001:db8::2")], memory, options);
    expect(again.hosts.get("nas.example.tld")?.status).toBe("good");
    expect(api.methods()).toEqual(["list", "get", "update", "refresh"]);
    expect(served("AAAA", "nas")).toEqual(["2001:db8::2"]);
  });

  it("one host's write fails, another's succeeds: the refresh still publishes the other", async () => {
    const { api, memory, served } = setup();
    api.fail({ method: "create", when: (c) => c.subdomain === "nas" });
    const other = want("other.example.tld", "other", "AAAA", "2001:db8::1");
    const result = await reconcile(api, ZONE, [nas6("2001:db8::1"), other], memory, options);
    expect(result.hosts.get("nas.example.tld")?.status).toBe("911");
    expect(result.hosts.get("other.example.tld")?.status).toBe("good");
    expect(api.count("refresh")).toBe(1);
    expect(served("AAAA", "other")).toEqual(["2001:db8::1"]);
    expect(served("AAAA", "nas")).toEqual([]);
  });

  it("a refresh that fails: 911, nothing served, the update not remembered; the next report reads, writes and refreshes again", async () => {
    const { api, memory, remember, served } = setup();
    const id = api.seed(ZONE, { type: "AAAA", subdomain: "nas", target: "2001:db8::1", ttl: 60 });
    remember("AAAA", "nas", id, "2001:db8::1");
    api.failNext("refresh");
    const result = await reconcile(api, ZONE, [nas6("2001:db8::2")], memory, options);
    expect(result.hosts.get("nas.example.tld")).toEqual({
      status: "911",
      reason: `fake refresh in zone ${ZONE}: 500 injected failure`,
    });
    expect(api.methods()).toEqual(["update", "refresh"]);
    expect(served("AAAA", "nas")).toEqual(["2001:db8::1"]);
    expect(memory.get("AAAA nas")).toMatchObject({ target: "2001:db8::1", unconfirmed: true });

    api.resetCalls();
    const again = await reconcile(api, ZONE, [nas6("2001:db8::2")], memory, options);
    expect(again.hosts.get("nas.example.tld")?.status).toBe("good");
    expect(api.methods()).toEqual(["list", "get", "update", "refresh"]);
    expect(served("AAAA", "nas")).toEqual(["2001:db8::2"]);
  });

  it("a remembered id that answers 404 is found again by listing, then written", async () => {
    const { api, memory, remember, served } = setup();
    // Editing the zone in text mode makes every record anew, with a new id.
    const old = api.seed(ZONE, { type: "AAAA", subdomain: "nas", target: "2001:db8::1", ttl: 60 });
    remember("AAAA", "nas", old, "2001:db8::1");
    api.remove(ZONE, old);
    const id = api.seed(ZONE, { type: "AAAA", subdomain: "nas", target: "2001:db8::1", ttl: 60 });
    const result = await reconcile(api, ZONE, [nas6("2001:db8::2")], memory, options);
    expect(result.hosts.get("nas.example.tld")?.status).toBe("good");
    expect(api.methods()).toEqual(["update", "list", "get", "update", "refresh"]);
    expect(api.calls.filter((c) => c.method === "update").map((c) => [c.id, c.outcome])).toEqual([
      [old, "ok"],
      [id, "ok"],
    ]);
    expect(api.staged(ZONE).map((r) => r.id)).toEqual([id]);
    expect(served("AAAA", "nas")).toEqual(["2001:db8::2"]);
    expect(memory.get("AAAA nas")).toMatchObject({ id, target: "2001:db8::2" });
  });

  it("a remembered id past recheck_after that answers 404: the list and that read, a read of the new id, then written", async () => {
    const { api, memory, remember } = setup();
    const old = api.seed(ZONE, { type: "AAAA", subdomain: "nas", target: "2001:db8::1", ttl: 60 });
    remember("AAAA", "nas", old, "2001:db8::1", 2 * HOUR);
    api.remove(ZONE, old);
    const id = api.seed(ZONE, { type: "AAAA", subdomain: "nas", target: "2001:db8::1", ttl: 60 });
    const result = await reconcile(api, ZONE, [nas6("2001:db8::2")], memory, options);
    expect(result.hosts.get("nas.example.tld")?.status).toBe("good");
    expect(api.methods()).toEqual(["list", "get", "get", "update", "refresh"]);
    expect(memory.get("AAAA nas")).toMatchObject({ id, target: "2001:db8::2" });
  });

  it("a remembered record past recheck_after: the list of its name and one read (in parallel), and confirmed again", async () => {
    const { api, memory, remember } = setup();
    const id = api.seed(ZONE, { type: "AAAA", subdomain: "nas", target: "2001:db8::1", ttl: 60 });
    remember("AAAA", "nas", id, "2001:db8::1", 2 * HOUR);
    const result = await reconcile(api, ZONE, [nas6("2001:db8::1")], memory, options);
    expect(result.hosts.get("nas.example.tld")).toEqual({ status: "nochg" });
    expect(api.methods()).toEqual(["list", "get"]);
    expect(memory.get("AAAA nas")).toEqual({
      id,
      target: "2001:db8::1",
      ttl: 60,
      confirmedAt: NOW,
      changedAt: NOW - 2 * HOUR,
    });
  });

  it("a host over its change limit: abuse and no write, while its unchanged records cost nothing", async () => {
    const { api, memory, remember } = setup();
    const id = api.seed(ZONE, { type: "AAAA", subdomain: "nas", target: "2001:db8::1", ttl: 60 });
    remember("AAAA", "nas", id, "2001:db8::1");
    const result = await reconcile(api, ZONE, [nas6("2001:db8::2")], memory, {
      ...options,
      limited: new Map([["nas.example.tld", 60]]),
    });
    expect(result.hosts.get("nas.example.tld")).toMatchObject({ status: "abuse", retryAfter: 60 });
    expect(api.methods()).toEqual([]);
  });
});

describe("writes OVH did not confirm (issue 13, item 1)", () => {
  const options = { now: NOW, recheckAfterMs: HOUR };
  const nas6 = (target: string) => want("nas.example.tld", "nas", "AAAA", target);
  const other = (target: string) => want("other.example.tld", "other", "AAAA", target);

  function setup() {
    const api = new FakeRecordApi([ZONE]);
    const memory = new Memory();
    const id = api.seed(ZONE, { type: "AAAA", subdomain: "nas", target: "2001:db8::1", ttl: 60 });
    memory.set("AAAA nas", { id, target: "2001:db8::1", ttl: 60, confirmedAt: NOW, changedAt: NOW });
    const served = (sub: string) =>
      api
        .served(ZONE)
        .filter((r) => r.subDomain === sub)
        .map((r) => r.target);
    return { api, memory, id, served };
  }

  it("a write whose refresh failed is read and written again when the old address comes back, though another record's refresh published it meanwhile", async () => {
    const { api, memory, served } = setup();
    api.failNext("refresh");
    expect(
      (await reconcile(api, ZONE, [nas6("2001:db8::2")], memory, options)).hosts.get("nas.example.tld")
        ?.status,
    ).toBe("911");
    // Another host's change: its refresh publishes the staged write of nas as well.
    await reconcile(api, ZONE, [other("2001:db8::9")], memory, options);
    expect(served("nas")).toEqual(["2001:db8::2"]);
    expect(memory.get("AAAA nas")).toMatchObject({ target: "2001:db8::1", unconfirmed: true });

    api.resetCalls();
    const back = await reconcile(api, ZONE, [nas6("2001:db8::1")], memory, options);
    expect(back.hosts.get("nas.example.tld")?.status).toBe("good");
    expect(api.methods()).toEqual(["list", "get", "update", "refresh"]);
    expect(served("nas")).toEqual(["2001:db8::1"]);
    expect(memory.get("AAAA nas")).toMatchObject({ target: "2001:db8::1", confirmedAt: NOW });
    expect(memory.get("AAAA nas")?.unconfirmed).toBeUndefined();
  });

  it("a write whose answer was lost (applied, then a time-out) is written again with the same address, and refreshed", async () => {
    const { api, memory, served } = setup();
    api.failNext("update", "lost");
    expect(
      (await reconcile(api, ZONE, [nas6("2001:db8::2")], memory, options)).hosts.get("nas.example.tld")
        ?.status,
    ).toBe("911");
    expect(served("nas")).toEqual(["2001:db8::1"]);

    api.resetCalls();
    // OVH's read shows the staged 2001:db8::2: a read alone would see no change and never refresh.
    const again = await reconcile(api, ZONE, [nas6("2001:db8::2")], memory, options);
    expect(again.hosts.get("nas.example.tld")?.status).toBe("good");
    expect(api.methods()).toEqual(["list", "get", "update", "refresh"]);
    expect(served("nas")).toEqual(["2001:db8::2"]);
    expect(again.hosts.get("nas.example.tld")).toMatchObject({
      changes: [{ from: "2001:db8::1", to: "2001:db8::2" }],
    });
  });

  it("the old address reported after a lost write is written back, not answered nochg from memory", async () => {
    const { api, memory, served } = setup();
    api.failNext("update", "lost");
    await reconcile(api, ZONE, [nas6("2001:db8::2")], memory, options);
    await reconcile(api, ZONE, [other("2001:db8::9")], memory, options); // publishes the lost write
    const back = await reconcile(api, ZONE, [nas6("2001:db8::1")], memory, options);
    expect(back.hosts.get("nas.example.tld")?.status).toBe("good");
    expect(served("nas")).toEqual(["2001:db8::1"]);
  });

  it("a create whose answer was lost is found, written again and refreshed by the next report", async () => {
    const api = new FakeRecordApi([ZONE]);
    const memory = new Memory();
    api.failNext("create", "lost");
    const first = await reconcile(api, ZONE, [other("2001:db8::9")], memory, options);
    expect(first.hosts.get("other.example.tld")?.status).toBe("911");
    expect(memory.get("AAAA other")).toMatchObject({ id: null, unconfirmed: true });

    api.resetCalls();
    const again = await reconcile(api, ZONE, [other("2001:db8::9")], memory, options);
    expect(again.hosts.get("other.example.tld")?.status).toBe("good");
    expect(api.methods()).toEqual(["list", "get", "update", "refresh"]);
    expect(api.served(ZONE).map((r) => r.target)).toEqual(["2001:db8::9"]);
    expect(memory.get("AAAA other")?.id).toBe(api.staged(ZONE)[0]?.id);
  });
});

describe("the recheck lists the name (issue 13, item 2)", () => {
  it("a second record added to the name since is seen at the recheck: dnserr, nothing written", async () => {
    const api = new FakeRecordApi([ZONE]);
    const memory = new Memory();
    const id = api.seed(ZONE, { type: "AAAA", subdomain: "nas", target: "2001:db8::1", ttl: 60 });
    memory.set("AAAA nas", {
      id,
      target: "2001:db8::1",
      ttl: 60,
      confirmedAt: NOW - 2 * HOUR,
      changedAt: NOW - 2 * HOUR,
    });
    const added = api.seed(ZONE, { type: "AAAA", subdomain: "nas", target: "2001:db8::66", ttl: 60 });
    const result = await reconcile(
      api,
      ZONE,
      [want("nas.example.tld", "nas", "AAAA", "2001:db8::1")],
      memory,
      {
        now: NOW,
        recheckAfterMs: HOUR,
      },
    );
    expect(result.hosts.get("nas.example.tld")).toEqual({
      status: "dnserr",
      reason: `AAAA nas.example.tld matches 2 records: ${id} (2001:db8::1), ${added} (2001:db8::66); delete all but one`,
    });
    expect(api.methods().sort()).toEqual(["get", "get", "list"]);
  });
});

describe("a create answered with id 0 (issue 13, item 17)", () => {
  it("finds the record by listing and remembers its real id, never 0", async () => {
    const api = new FakeRecordApi([ZONE]);
    api.createAnswersIdZero = true;
    const memory = new Memory();
    const result = await reconcile(api, ZONE, [want("nas.example.tld", "nas", "A", "198.51.100.1")], memory, {
      now: NOW,
      recheckAfterMs: HOUR,
    });
    expect(result.hosts.get("nas.example.tld")?.status).toBe("good");
    expect(api.methods()).toEqual(["list", "create", "list", "get", "refresh"]);
    const [made] = api.staged(ZONE);
    expect(memory.get("A nas")).toMatchObject({ id: made?.id, target: "198.51.100.1" });
    expect(memory.get("A nas")?.id).not.toBe(0);

    // The next change updates that record, not a record 0.
    api.resetCalls();
    await reconcile(api, ZONE, [want("nas.example.tld", "nas", "A", "198.51.100.2")], memory, {
      now: NOW,
      recheckAfterMs: HOUR,
    });
    expect(api.calls.filter((c) => c.method === "update").map((c) => c.id)).toEqual([made?.id]);
    expect(api.staged(ZONE).map((r) => r.target)).toEqual(["198.51.100.2"]);
  });
});

describe("a list and a read that disagree (issue 21, item 15)", () => {
  const options = { now: NOW, recheckAfterMs: HOUR };
  const nas6 = (target: string) => want("nas.example.tld", "nas", "AAAA", target);

  it("a listed record whose read answers 404 once (OVH's read lagging a create) is read again and updated, never created", async () => {
    const api = new FakeRecordApi([ZONE]);
    const id = api.seed(ZONE, { type: "AAAA", subdomain: "nas", target: "2001:db8::1", ttl: 60 });
    api.fail({ method: "get", how: "missing" });
    const result = await reconcile(api, ZONE, [nas6("2001:db8::2")], new Memory(), options);
    expect(result.hosts.get("nas.example.tld")?.status).toBe("good");
    expect(api.methods()).toEqual(["list", "get", "get", "update", "refresh"]);
    expect(api.staged(ZONE).map((r) => [r.id, r.target])).toEqual([[id, "2001:db8::2"]]);
  });

  it("a listed record whose read answers 404 twice: 911 for its host, nothing created, and the next report writes it", async () => {
    const api = new FakeRecordApi([ZONE]);
    const id = api.seed(ZONE, { type: "AAAA", subdomain: "nas", target: "2001:db8::1", ttl: 60 });
    api.fail({ method: "get", how: "missing", times: 2 });
    const memory = new Memory();
    const result = await reconcile(api, ZONE, [nas6("2001:db8::2")], memory, options);
    expect(result.hosts.get("nas.example.tld")).toEqual({
      status: "911",
      reason: `AAAA nas.${ZONE}: OVH lists record ${id} but reading it answers 404 twice; left for the next report`,
    });
    expect(api.count("create")).toBe(0);
    await reconcile(api, ZONE, [nas6("2001:db8::2")], memory, options);
    expect(api.staged(ZONE).map((r) => [r.id, r.target])).toEqual([[id, "2001:db8::2"]]);
  });

  it("a remembered id whose update answers 404 while the list names it and its reads answer 404: 911, never a create", async () => {
    const api = new FakeRecordApi([ZONE]);
    const id = api.seed(ZONE, { type: "AAAA", subdomain: "nas", target: "2001:db8::1", ttl: 60 });
    const memory = new Memory();
    memory.set("AAAA nas", { id, target: "2001:db8::1", ttl: 60, confirmedAt: NOW, changedAt: NOW });
    api.fail({ method: "update", how: "missing" });
    api.fail({ method: "get", how: "missing", times: 2 });
    const result = await reconcile(api, ZONE, [nas6("2001:db8::2")], memory, options);
    expect(result.hosts.get("nas.example.tld")?.status).toBe("911");
    expect(api.methods()).toEqual(["update", "list", "get", "get"]);
    expect(api.staged(ZONE)).toHaveLength(1);
  });

  it("a create answered with id 0 whose record reads 404 twice: 911, remembered unconfirmed, and the next report finds it instead of creating another", async () => {
    const api = new FakeRecordApi([ZONE]);
    api.createAnswersIdZero = true;
    api.fail({ method: "get", how: "missing", times: 2 });
    const memory = new Memory();
    const first = await reconcile(api, ZONE, [nas6("2001:db8::1")], memory, options);
    expect(first.hosts.get("nas.example.tld")?.status).toBe("911");
    expect(memory.get("AAAA nas")).toMatchObject({ unconfirmed: true });
    const second = await reconcile(api, ZONE, [nas6("2001:db8::1")], memory, options);
    expect(second.hosts.get("nas.example.tld")?.status).toBe("good");
    expect(api.count("create")).toBe(1);
    expect(api.served(ZONE).map((r) => r.target)).toEqual(["2001:db8::1"]);
  });
});
