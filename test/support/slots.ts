// Workers shared by the tests of one file: starting workerd is the largest cost of a Worker test,
// so tests with the same settings share one Worker and simulator, and each test gets zones of its
// own in it (so a fresh coordinator, and fresh records). The configuration holds the fixtures'
// hosts once per test: in test n, example.tld is zn.example.tld and example.org is zn.example.org
// (nas.example.tld is nas.z3.example.tld).
import { afterAll, afterEach, beforeEach, expect } from "vitest";
import { type Endpoint, type EndpointOptions, startEndpoint } from "./endpoint";
import { testVars } from "./fixtures";

/** A name of the fixtures as test `n` has it. */
export const inSlot = (name: string, n: number): string =>
  name.replace(/example\.(tld|org)$/, `z${n}.example.$1`);

/** testVars() with its hosts repeated for each of `slots` tests (clients keep their names). */
export async function slottedVars(slots: number): Promise<Record<string, unknown>> {
  const base = await testVars();
  const each = Array.from({ length: slots }, (_, i) => i + 1);
  const hosts: Record<string, unknown> = {};
  for (const n of each)
    for (const [name, spec] of Object.entries(base.HOSTS as Record<string, { zone: string }>))
      hosts[inSlot(name, n)] = { ...spec, zone: inSlot(spec.zone, n) };
  const clients: Record<string, unknown> = {};
  for (const [name, c] of Object.entries(base.CLIENTS as Record<string, { hosts: string[] }>))
    clients[name] = { ...c, hosts: each.flatMap((n) => c.hosts.map((h) => inSlot(h, n))) };
  return { ...base, HOSTS: hosts, CLIENTS: clients };
}

/** One test's part of a shared Worker. */
export interface Slot {
  ep: Endpoint;
  /** The test's example.tld and example.org (already added to the simulator: the first only). */
  zone: string;
  otherZone: string;
}

/**
 * A pool of shared Workers for one file, at most `slots` tests each; all are closed after the
 * file. `use(key, options, take)`, called in a describe block, gives each of its tests the Worker
 * for `key` (started on first use with the slotted hosts as `options(vars)`), a zone of its own,
 * faults cleared and calls reset, and fails a test that made a request no test expected.
 */
export function sharedWorkers(slots: number) {
  const workers = new Map<string, { ep: Promise<Endpoint>; used: number }>();
  let current: Endpoint | undefined;
  afterAll(async () => {
    for (const w of workers.values()) await (await w.ep).close();
  });
  return function use(
    key: string,
    options: (vars: Record<string, unknown>) => EndpointOptions,
    take: (slot: Slot) => void,
  ): void {
    afterEach(() => {
      expect(current?.unexpected).toEqual([]);
    });
    beforeEach(async () => {
      let w = workers.get(key);
      if (!w) {
        w = { ep: slottedVars(slots).then((vars) => startEndpoint(options(vars))), used: 0 };
        workers.set(key, w);
      }
      const ep = await w.ep;
      current = ep;
      w.used += 1;
      if (w.used > slots)
        throw new Error(`more than ${slots} tests share the Worker for ${key}: raise slots`);
      const zone = inSlot("example.tld", w.used);
      ep.sim.addZone(zone);
      ep.sim.clearFaults();
      ep.sim.resetCalls();
      take({ ep, zone, otherZone: inSlot("example.org", w.used) });
    });
  };
}

/**
 * In a describe block: its tests share the Worker started with these SETTINGS and the test clock
 * (one Worker for each distinct settings), each given its slot.
 */
export function sharedBySettings(
  use: ReturnType<typeof sharedWorkers>,
  settings: Record<string, number>,
  take: (slot: Slot) => void,
): void {
  use(JSON.stringify(settings), (vars) => ({ vars: { ...vars, SETTINGS: settings }, clock: true }), take);
}

/**
 * Workers a file's tests start for themselves, beside the shared ones: `keep(ep)` has `ep` checked
 * for requests no test expected and closed after its test.
 */
export function ownWorkers(): (ep: Endpoint) => Endpoint {
  const own: Endpoint[] = [];
  afterEach(async () => {
    for (const ep of own.splice(0)) {
      expect(ep.unexpected).toEqual([]);
      await ep.close();
    }
  });
  return (ep) => {
    own.push(ep);
    return ep;
  };
}
