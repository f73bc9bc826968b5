// The contract of RecordApi (src/ovh/records.ts) as one suite of cases, run against each target
// by a test file of its own: the in-memory fake (fake.test.ts), OvhRecordApi on the OVH
// simulator (simulator.test.ts) and OvhRecordApi on a live OVH zone when its credentials are
// given (live.test.ts). A case that needs what a live zone cannot show (what is served, an
// injected failure) is skipped there, with the reason in its name.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RecordType } from "../../src/config";
import type { RecordApi, ZoneRecord } from "../../src/ovh/records";
import type { RecordMethod } from "../support/fake-records";

export interface ContractTarget {
  api: RecordApi;
  zone: string;
  /** A subdomain for one case, unique to it; on a live zone, under the run's own random name. */
  name(label: string): string;
  /** What the zone serves (published by the last refresh); a live zone has no such view. */
  served?(): ZoneRecord[];
  /** Makes the next call of `method` fail as the provider would (a 500). */
  failNext?(method: RecordMethod): void;
  /** Values no error message may hold (keys, secrets). */
  secrets: string[];
  /** Reads just after a create may answer 404 for a while (live OVH): poll before asserting. */
  readLag?: boolean;
  close(): Promise<void>;
}

/** An id no record has: OVH's ids are far below 2^52. */
const MISSING_ID = 2 ** 52 + 4321;

/**
 * What a target offers besides the API, declared up front: the cases that need it are skipped
 * when the suite is collected, before the target has started.
 */
export interface Offers {
  served: boolean;
  failures: boolean;
}

export function recordApiContract(title: string, offers: Offers, start: () => Promise<ContractTarget>): void {
  describe(title, () => {
    let t: ContractTarget;
    beforeAll(async () => {
      t = await start();
    });
    afterAll(async () => {
      await t?.close();
    });

    /** A read that waits out OVH's lag after a create where the target has one. */
    async function readBack(id: number): Promise<ZoneRecord | undefined> {
      for (let i = 0; ; i++) {
        const r = await t.api.get(t.zone, id);
        if (r || !t.readLag || i >= 30) return r;
        await new Promise((resolve) => setTimeout(resolve, 2000));
      }
    }
    const servedOf = (sub: string, type?: RecordType) =>
      (t.served?.() ?? [])
        .filter((r) => r.subDomain === sub && (type === undefined || r.fieldType === type))
        .map((r) => ({ target: r.target, ttl: r.ttl }));
    const create = (type: RecordType, subdomain: string, target: string, ttl = 60) =>
      t.api.create(t.zone, { type, subdomain, target, ttl });
    const expectNoSecret = (error: unknown) => {
      expect(error).toBeInstanceOf(Error);
      const message = (error as Error).message;
      expect(message).toContain(t.zone);
      for (const secret of t.secrets) expect(message).not.toContain(secret);
    };
    const caught = async (call: () => Promise<unknown>): Promise<unknown> => {
      try {
        await call();
      } catch (error) {
        return error;
      }
      throw new Error("the call succeeded where a failure was expected");
    };

    it("create answers the record as written, with an id above 2^31 and the TTL given", async () => {
      const sub = t.name("create");
      const made = await create("A", sub, "198.51.100.10", 120);
      expect(made).toMatchObject({ fieldType: "A", subDomain: sub, target: "198.51.100.10", ttl: 120 });
      expect(made.zone.toLowerCase()).toBe(t.zone.toLowerCase());
      expect(made.id).toBeGreaterThan(2 ** 31);
      expect(Number.isSafeInteger(made.id)).toBe(true);
      expect(await readBack(made.id)).toEqual(made);
    });

    it("list answers the ids of exactly this type and name", async () => {
      const sub = t.name("list");
      const a = await create("A", sub, "198.51.100.11");
      const aaaa = await create("AAAA", sub, "2001:db8::11");
      await create("A", t.name("list-other"), "198.51.100.12");
      expect(await t.api.list(t.zone, "A", sub)).toEqual([a.id]);
      expect(await t.api.list(t.zone, "AAAA", sub)).toEqual([aaaa.id]);
      expect(await t.api.list(t.zone, "AAAA", t.name("nothing-here"))).toEqual([]);
    });

    it("list compares names case-insensitively", async () => {
      const sub = t.name("case");
      const made = await create("AAAA", sub, "2001:db8::12");
      expect(await t.api.list(t.zone, "AAAA", sub.toUpperCase())).toEqual([made.id]);
    });

    it("list answers every record of a name that has several (duplicates)", async () => {
      const sub = t.name("dup");
      const one = await create("AAAA", sub, "2001:db8::13");
      const two = await create("AAAA", sub, "2001:db8::14");
      expect((await t.api.list(t.zone, "AAAA", sub)).sort((x, y) => x - y)).toEqual(
        [one.id, two.id].sort((x, y) => x - y),
      );
    });

    it("get of an id no record has answers undefined", async () => {
      expect(await t.api.get(t.zone, MISSING_ID)).toBeUndefined();
    });

    it("update writes the whole target and TTL and answers true", async () => {
      const sub = t.name("update");
      const made = await create("AAAA", sub, "2001:db8::15", 60);
      await readBack(made.id);
      expect(await t.api.update(t.zone, made.id, { target: "2001:db8::16", ttl: 300 })).toBe(true);
      expect(await t.api.get(t.zone, made.id)).toEqual({ ...made, target: "2001:db8::16", ttl: 300 });
      expect(await t.api.list(t.zone, "AAAA", sub)).toEqual([made.id]);
    });

    it("update of an id no record has answers false and writes nothing", async () => {
      const sub = t.name("update-missing");
      const made = await create("A", sub, "198.51.100.17");
      expect(await t.api.update(t.zone, MISSING_ID, { target: "198.51.100.18", ttl: 60 })).toBe(false);
      expect(await t.api.get(t.zone, MISSING_ID)).toBeUndefined();
      expect(await t.api.list(t.zone, "A", sub)).toEqual([made.id]);
      expect(await readBack(made.id)).toEqual(made);
    });

    it("repeating a write is safe: the same record, the same target and TTL", async () => {
      const sub = t.name("repeat");
      const made = await create("A", sub, "198.51.100.19", 60);
      await readBack(made.id);
      const change = { target: "198.51.100.20", ttl: 120 };
      expect(await t.api.update(t.zone, made.id, change)).toBe(true);
      expect(await t.api.update(t.zone, made.id, change)).toBe(true);
      await t.api.refresh(t.zone);
      await t.api.refresh(t.zone);
      expect(await t.api.list(t.zone, "A", sub)).toEqual([made.id]);
      expect(await t.api.get(t.zone, made.id)).toMatchObject(change);
    });

    it("the TTL written is the TTL read, 0 (the zone's default) included", async () => {
      const sub = t.name("ttl");
      for (const ttl of [0, 60, 3600]) {
        const made = await create("AAAA", sub, `2001:db8::${ttl.toString(16)}`, ttl);
        expect((await readBack(made.id))?.ttl).toBe(ttl);
      }
    });

    it.skipIf(!offers.served)(
      "writes are read at once but served only after refresh (needs a view of what is served; not on a live zone)",
      async () => {
        const sub = t.name("staged");
        const made = await create("A", sub, "198.51.100.21", 60);
        expect(await t.api.list(t.zone, "A", sub)).toEqual([made.id]);
        expect(servedOf(sub)).toEqual([]);
        await t.api.refresh(t.zone);
        expect(servedOf(sub)).toEqual([{ target: "198.51.100.21", ttl: 60 }]);

        expect(await t.api.update(t.zone, made.id, { target: "198.51.100.22", ttl: 120 })).toBe(true);
        expect((await t.api.get(t.zone, made.id))?.target).toBe("198.51.100.22");
        expect(servedOf(sub)).toEqual([{ target: "198.51.100.21", ttl: 60 }]);
        await t.api.refresh(t.zone);
        expect(servedOf(sub)).toEqual([{ target: "198.51.100.22", ttl: 120 }]);
      },
    );

    it.skipIf(!offers.served || !offers.failures)(
      "a refresh publishes every staged write, those of an attempt whose refresh failed too (needs served and injected failures; not on a live zone)",
      async () => {
        const first = t.name("partial-1");
        const second = t.name("partial-2");
        await create("AAAA", first, "2001:db8::23");
        t.failNext?.("refresh");
        expectNoSecret(await caught(() => t.api.refresh(t.zone)));
        expect(servedOf(first)).toEqual([]);
        await create("AAAA", second, "2001:db8::24");
        await t.api.refresh(t.zone);
        expect(servedOf(first)).toEqual([{ target: "2001:db8::23", ttl: 60 }]);
        expect(servedOf(second)).toEqual([{ target: "2001:db8::24", ttl: 60 }]);
      },
    );

    it("a refused write throws an Error that names the zone and holds no secret", async () => {
      const sub = t.name("refused");
      expectNoSecret(await caught(() => create("A", sub, "2001:db8::25")));
      expect(await t.api.list(t.zone, "A", sub)).toEqual([]);
    });

    it.skipIf(!offers.failures)(
      "every method's failure throws an Error that names the zone and holds no secret (needs injected failures; not on a live zone)",
      async () => {
        const sub = t.name("failures");
        const made = await create("A", sub, "198.51.100.26");
        const calls: [RecordMethod, () => Promise<unknown>][] = [
          ["list", () => t.api.list(t.zone, "A", sub)],
          ["get", () => t.api.get(t.zone, made.id)],
          ["create", () => create("A", sub, "198.51.100.27")],
          ["update", () => t.api.update(t.zone, made.id, { target: "198.51.100.28", ttl: 60 })],
          ["refresh", () => t.api.refresh(t.zone)],
        ];
        for (const [method, call] of calls) {
          t.failNext?.(method);
          expectNoSecret(await caught(call));
        }
        expect(await t.api.get(t.zone, made.id)).toEqual(made);
        expect(await t.api.list(t.zone, "A", sub)).toEqual([made.id]);
      },
    );
  });
}
