// A paced job finishes, and in about the pace's ideal time (issue 21, item 1): on the fake record
// API (test/support/fake-records.ts) with a fake clock, a job of 1 to 60 records, cold (nothing at
// OVH), warm (remembered, to update) or unconfirmed (remembered, its last write not confirmed),
// at 2 to 600 calls a minute, is continued the way the coordinator continues it (each
// continuation sized to the calls the pace gives it until its deadline, the next one when the
// pace has a call again) until every record is served. It makes no call twice and takes at most
// 1.25 times the time the pace needs for the calls the job cannot do without (plus one call's
// wait, for rounding).
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Desired } from "../../src/core/plan";
import { Breaker } from "../../src/ovh/policy/breaker";
import { Gate } from "../../src/ovh/policy/gate";
import { BURST, Pace } from "../../src/ovh/policy/pace";
import { advance, type JobRecord, withBatch } from "../../src/zone/job";
import { keyOf, type RecordState, type ZoneBatch } from "../../src/zone/protocol";
import { FakeRecordApi } from "../support/fake-records";
import { Memory } from "../support/memory";

const ZONE = "example.tld";
const HOUR = 3_600_000;
/** A continuation's calls start within this of its start (the report's deadline, as the coordinator has it). */
const WINDOW = 14_000;
const OLD = "198.51.100.1";
const NEW = "198.51.100.2";

type Start = "cold" | "warm" | "unconfirmed";

/** The calls a job cannot do without: per record a list and a create (cold), an update (warm), a list, a read and an update (unconfirmed); one refresh. */
const needed = (start: Start, n: number) => ({ cold: 2, warm: 1, unconfirmed: 3 })[start] * n + 1;

/** `n` records in hosts of `sizes` records each (the last host takes the rest). */
function batchOf(n: number, sizes: number[]): ZoneBatch {
  const desired: Desired[] = [];
  const hosts: string[] = [];
  let h = 0;
  for (let i = 0; i < n; h++) {
    const host = `h${h}.${ZONE}`;
    hosts.push(host);
    const size = Math.min(n - i, sizes[h % sizes.length] ?? 1);
    for (let k = 0; k < size; k++, i++)
      desired.push({ host, spec: { zone: ZONE, subdomain: `r${i}`, type: "A", ttl: 60 }, target: NEW });
  }
  return {
    zone: ZONE,
    client: "home",
    source: undefined,
    agent: null,
    reported: NEW,
    desired,
    hosts,
    notes: {},
  };
}

/** Set up OVH and memory for `start`. */
function seed(api: FakeRecordApi, memory: Memory, batch: ZoneBatch, start: Start, now: number): void {
  if (start === "cold") return;
  for (const d of batch.desired) {
    const id = api.seed(ZONE, { type: "A", subdomain: d.spec.subdomain, target: OLD, ttl: 60 });
    const state: RecordState = { id, target: OLD, ttl: 60, confirmedAt: now, changedAt: now };
    memory.set(keyOf(d), start === "warm" ? state : { ...state, unconfirmed: true });
  }
}

/** Run the job to its end as the coordinator would; the time it took (ms) and the continuations. */
async function runJob(api: FakeRecordApi, memory: Memory, batch: ZoneBatch, perMinute: number) {
  const pace = new Pace(perMinute);
  const breaker = new Breaker(ZONE, 10_000);
  const start = Date.now();
  let job: JobRecord[] = withBatch([], batch);
  const answers = new Map<string, string>();
  let continuations = 0;
  while (job.length > 0) {
    if (++continuations > 1000) throw new Error("the job does not end");
    const now = Date.now();
    const deadline = now + WINDOW;
    const gate = new Gate(api, breaker, pace, deadline);
    const running = advance(job, {
      api: gate,
      zone: ZONE,
      memory,
      now,
      recheckAfterMs: HOUR,
      limited: new Map(),
      budget: pace.available(deadline),
      clientWaits: continuations === 1, // the report's own continuation: its client waits
    });
    await vi.runAllTimersAsync();
    const done = await running;
    for (const f of done.finished) answers.set(f.host, f.answer.status);
    if (process.env.JOB_DEBUG)
      console.log(now - start, done.calls, api.methods().join(","), done.finished.length, done.left.length);
    job = done.left;
    // The alarm: when the pace has a call again.
    if (job.length > 0) vi.setSystemTime(Math.max(Date.now(), pace.nextAt()));
  }
  return { elapsed: Date.now() - start, answers, continuations };
}

beforeEach(() => {
  vi.useFakeTimers({ now: 1_800_000_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe("a paced job (issue 21, item 1)", () => {
  it("of 1 to 60 records, cold, warm or unconfirmed, at 2 to 600 calls a minute, ends with every record served, within 1.25 times the pace's ideal time", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 600 }),
        fc.integer({ min: 1, max: 60 }),
        fc.constantFrom<Start>("cold", "warm", "unconfirmed"),
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 5 }),
        async (perMinute, n, start, sizes) => {
          const api = new FakeRecordApi([ZONE]);
          const memory = new Memory();
          const batch = batchOf(n, sizes);
          seed(api, memory, batch, start, Date.now());
          const { elapsed, answers } = await runJob(api, memory, batch, perMinute);

          expect(api.served(ZONE).map((r) => r.target)).toEqual(Array(n).fill(NEW));
          expect(api.staged(ZONE)).toHaveLength(n);
          expect([...answers.values()].every((a) => a === "good")).toBe(true);
          expect(answers.size).toBe(batch.hosts.length);
          // Nothing read twice: one list per record at most, and no read of an id already read.
          expect(api.count("list")).toBeLessThanOrEqual(n);
          const burst = Math.max(1, Math.min(BURST, Math.floor(perMinute / 2)));
          const rate = (perMinute - burst) / 60_000;
          const ideal = Math.max(0, needed(start, n) - burst) / rate;
          if (process.env.JOB_DEBUG && ideal > 0)
            console.log(`ratio ${(elapsed / ideal).toFixed(3)} ${perMinute}/min ${n} ${start}`);
          expect(elapsed).toBeLessThanOrEqual(1.25 * ideal + 1 / rate);
        },
      ),
      { numRuns: Number(process.env.JOB_RUNS ?? 100) },
    );
  }, 120_000);
});

describe("the job across continuations and restarts (items 1, 2)", () => {
  it("a record asked for again with the same target keeps what was learnt; another target starts it again", () => {
    const batch = batchOf(2, [2]);
    const job = withBatch([], batch).map((r, i) =>
      i === 0 ? { ...r, progress: { ids: [5_000_000_001], got: {} } } : r,
    );
    const again = withBatch(job, batch);
    expect(again[0]?.progress).toEqual({ ids: [5_000_000_001], got: {} });
    const moved = withBatch(job, {
      ...batch,
      desired: batch.desired.map((d) => ({ ...d, target: "198.51.100.3" })),
    });
    expect(moved[0]?.progress).toEqual({});
    expect(moved[0]?.d.target).toBe("198.51.100.3");
  });

  it("a pace made from a kept state goes on where the first left off: no new burst", () => {
    const now = Date.now();
    const first = new Pace(6, now); // a burst of 3, then 3 more a minute
    for (let i = 0; i < 3; i++) void first.take(now);
    const kept = first.state(now);
    const restarted = new Pace(6, now, kept);
    expect(restarted.available(now)).toBe(0);
    expect(restarted.nextAt(now)).toBe(first.nextAt(now));
    expect(new Pace(6, now).available(now)).toBe(3);
  });
});
