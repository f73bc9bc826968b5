// The reply to a failed login does not wait for the failed-login list (src/access/access.ts):
// a configured user name and a made-up one take the same path, so the time of a reply cannot
// tell them apart. The guard here is a stand-in whose list never answers. And an isolate's trust
// in a correct login spares the guard its calls for 15 minutes, until a failed login ends it.
import { describe, expect, it, vi } from "vitest";
import { TEST_OVH } from "../support/endpoint";
import { HOME_PASSWORD, testVars } from "../support/fixtures";

// access.ts reaches the Durable Object classes, whose types the tests' tsconfig does not have:
// imported by a path tsc does not follow, its signature spelled out here.
type Access = (
  request: Request,
  env: unknown,
  options: { later: (work: Promise<unknown>) => void },
) => Promise<{ ok: boolean; reply?: { kind: string } }>;
vi.mock("cloudflare:workers", () => ({ DurableObject: class {} }));
const ACCESS = "../../src/access/access";
const { access } = (await import(/* @vite-ignore */ ACCESS)) as { access: Access };

const CLEAR = { blockedForMs: 0, sourceBlockedForMs: 0 };

/** An Env whose guards answer checks at once and never answer noteFailedLogin. */
async function envWithSilentList() {
  const noted: string[] = [];
  const guard = {
    check: async () => CLEAR,
    fail: async () => CLEAR,
    noteFailedLogin: (source: string) => {
      noted.push(source);
      return new Promise<void>(() => {});
    },
  };
  const env = {
    ...(await testVars()),
    OVH_ENDPOINT: "ovh-eu",
    OVH_APPLICATION_KEY: TEST_OVH.applicationKey,
    OVH_APPLICATION_SECRET: TEST_OVH.applicationSecret,
    OVH_CONSUMER_KEY: TEST_OVH.consumerKey,
    GUARD: { idFromName: (name: string) => name, get: () => guard },
  };
  return { env, noted };
}

const login = (user: string, password: string) =>
  new Request("https://dyndns.example/nic/update?hostname=nas.example.tld", {
    headers: { Authorization: `Basic ${btoa(`${user}:${password}`)}`, "CF-Connecting-IP": "203.0.113.7" },
  });

describe("a failed login's reply", () => {
  it("does not wait for the failed-login list, for a configured user name and a made-up one alike", async () => {
    const { env, noted } = await envWithSilentList();
    for (const user of ["home", "not-a-client"]) {
      const later: Promise<unknown>[] = [];
      const granted = await access(login(user, "wrong-password"), env, { later: (w) => later.push(w) });
      expect(granted).toMatchObject({ ok: false, reply: { kind: "badauth" } });
      // The same path for both names: one piece of work handed to waitUntil, none awaited.
      expect(later).toHaveLength(1);
    }
    // Only the configured name is listed (made-up names are not kept).
    expect(noted).toEqual(["203.0.113.7"]);
  });

  it("a right password hands nothing to waitUntil", async () => {
    const { env } = await envWithSilentList();
    const later: Promise<unknown>[] = [];
    const granted = await access(login("home", HOME_PASSWORD), env, { later: (w) => later.push(w) });
    expect(granted.ok).toBe(true);
    expect(later).toEqual([]);
  });
});

describe("the isolate's trust in a correct login", () => {
  /** An Env whose guard counts its calls and answers `state` (a test sets it to a block). */
  async function envWithCountingGuard() {
    const calls = { check: 0, fail: 0 };
    let state = CLEAR;
    const guard = {
      check: async () => {
        calls.check++;
        return state;
      },
      fail: async () => {
        calls.fail++;
        return state;
      },
      noteFailedLogin: async () => {},
    };
    const { env } = await envWithSilentList();
    return {
      env: { ...env, GUARD: { idFromName: (name: string) => name, get: () => guard } },
      calls,
      block: () => {
        state = { blockedForMs: 600_000, sourceBlockedForMs: 0 };
      },
    };
  }
  const from = (ip: string, password: string) =>
    new Request("https://dyndns.example/nic/update?hostname=nas.example.tld", {
      headers: { Authorization: `Basic ${btoa(`home:${password}`)}`, "CF-Connecting-IP": ip },
    });
  const later = () => {};

  it("spares the guard a second correct report within 15 minutes, not after", async () => {
    vi.useFakeTimers({ toFake: ["Date"], now: Date.UTC(2026, 0, 1) });
    try {
      const { env, calls } = await envWithCountingGuard();
      const ip = "198.51.100.21";
      expect((await access(from(ip, HOME_PASSWORD), env, { later })).ok).toBe(true);
      expect(calls).toEqual({ check: 1, fail: 0 });
      // A client's usual 5-minute interval, twice: no guard request.
      for (const minutes of [5, 5]) {
        vi.advanceTimersByTime(minutes * 60_000);
        expect((await access(from(ip, HOME_PASSWORD), env, { later })).ok).toBe(true);
      }
      expect(calls).toEqual({ check: 1, fail: 0 });
      // 15 minutes after the guard's check, the guard is asked again.
      vi.advanceTimersByTime(5 * 60_000);
      expect((await access(from(ip, HOME_PASSWORD), env, { later })).ok).toBe(true);
      expect(calls).toEqual({ check: 2, fail: 0 });
    } finally {
      vi.useRealTimers();
    }
  });

  it("ends at a failed login: the next correct report asks the guard, and a locked-out source gets abuse", async () => {
    const { env, calls, block } = await envWithCountingGuard();
    const ip = "198.51.100.22";
    expect((await access(from(ip, HOME_PASSWORD), env, { later })).ok).toBe(true);
    expect((await access(from(ip, HOME_PASSWORD), env, { later })).ok).toBe(true);
    expect(calls).toEqual({ check: 1, fail: 0 });
    // A wrong password within the trust goes to the guard, which (say, counting failures other
    // isolates saw) now blocks the user name from this source.
    block();
    expect(await access(from(ip, "wrong-password"), env, { later })).toMatchObject({
      ok: false,
      reply: { kind: "abuse" },
    });
    expect(calls).toEqual({ check: 1, fail: 1 });
    // The right password is no longer trusted: refused like any other while blocked.
    expect(await access(from(ip, HOME_PASSWORD), env, { later })).toMatchObject({
      ok: false,
      reply: { kind: "abuse" },
    });
  });

  it("ends at a failed login the guard still lets through: the next correct report asks it again", async () => {
    const { env, calls } = await envWithCountingGuard();
    const ip = "198.51.100.23";
    expect((await access(from(ip, HOME_PASSWORD), env, { later })).ok).toBe(true);
    expect(await access(from(ip, "wrong-password"), env, { later })).toMatchObject({
      ok: false,
      reply: { kind: "badauth" },
    });
    expect((await access(from(ip, HOME_PASSWORD), env, { later })).ok).toBe(true);
    expect(calls).toEqual({ check: 2, fail: 1 });
  });
});
