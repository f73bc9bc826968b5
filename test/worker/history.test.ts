// The history each zone keeps: per host, with its own cap, changes never pushed out by unchanged
// reports, and what a client that shares a host may see of another client's reports. The tests
// share a Worker, each with a zone of its own (test/support/slots.ts).
import { describe, expect, it } from "vitest";
import { type Endpoint, sha256Hex } from "../support/endpoint";
import {
  HISTORY_KEEPS,
  HISTORY_KEPT_AT_MOST,
  HOME_PASSWORD,
  NEIGHBOUR_PASSWORD,
  unchangedReports,
} from "../support/fixtures";
import { inSlot, sharedWorkers } from "../support/slots";

const SLOTS = 2;
const useShared = sharedWorkers(SLOTS);
let ep: Endpoint;
/** This test's zone (example.tld in the fixtures). */
let zone: string;
const host = (name: string) => `${name}.${zone}`;
useShared(
  "history",
  // A third client, guest, shares service.example.tld with home.
  (vars) => ({ vars: { ...vars, CLIENTS: { ...(vars.CLIENTS as object), guest: GUEST } } }),
  (slot) => {
    ({ ep, zone } = slot);
  },
);
const GUEST = {
  password_sha256: await sha256Hex("guest-password"),
  hosts: Array.from({ length: SLOTS }, (_, i) => inSlot("service.example.tld", i + 1)),
};

/** More unchanged reports than a host's history keeps. */
const FLOOD = 600;

interface Entry {
  client: string;
  host: string;
  outcome: string;
  source: string | null;
  queryIds: string[];
  changes: unknown[];
}

async function history(user: string, password: string, n = 1000): Promise<Entry[]> {
  const r = await ep.fetch(`/status?history=${n}`, {
    headers: { Authorization: `Basic ${btoa(`${user}:${password}`)}` },
  });
  expect(r.status).toBe(200);
  return ((await r.json()) as { history: Entry[] }).history;
}

describe("history per host", () => {
  it(`${FLOOD} unchanged reports of one host (more than it keeps) push neither another host's change nor its own change out`, async () => {
    expect(
      (
        await ep.update(
          { hostname: host("other"), myip: "2001:db8::9" },
          { user: "neighbour", password: NEIGHBOUR_PASSWORD },
        )
      ).body,
    ).toBe("good 2001:db8::9\n");
    expect((await ep.update({ hostname: host("service"), myip: "2001:db8::1" })).body).toBe(
      "good 2001:db8::1\n",
    );

    await unchangedReports(
      ep,
      { hostname: host("service"), myip: "2001:db8::1" },
      "nochg 2001:db8::1\n",
      FLOOD,
    );

    const neighbour = await history("neighbour", NEIGHBOUR_PASSWORD);
    expect(neighbour.filter((e) => e.outcome === "good").map((e) => e.host)).toEqual([host("other")]);
    const home = await history("home", HOME_PASSWORD);
    expect(home.filter((e) => e.outcome === "good").map((e) => e.host)).toEqual([host("service")]);
    // The host keeps its own share of unchanged entries, not the whole zone's.
    const unchanged = home.filter((e) => e.outcome === "nochg").length;
    expect(unchanged).toBeGreaterThanOrEqual(HISTORY_KEEPS);
    expect(unchanged).toBeLessThanOrEqual(HISTORY_KEPT_AT_MOST);
    // 600 requests: on a machine shared with other work they may outlast the default 30 s.
  }, 120_000);
});

describe("a host shared by two clients", () => {
  it("each client sees its own source addresses and OVH query ids only", async () => {
    const from = (ip: string) => ({ "CF-Connecting-IP": ip });
    await ep.update({ hostname: host("service"), myip: "2001:db8::1" }, { headers: from("203.0.113.7") });
    await ep.update(
      { hostname: host("service"), myip: "2001:db8::2" },
      { user: "guest", password: "guest-password", headers: from("198.51.100.8") },
    );

    const guest = await history("guest", "guest-password");
    const mine = guest.find((e) => e.client === "guest");
    const theirs = guest.find((e) => e.client === "home");
    expect(mine).toEqual(expect.objectContaining({ source: "198.51.100.8", outcome: "good" }));
    expect(mine?.queryIds.length).toBeGreaterThan(0);
    expect(theirs).toEqual(expect.objectContaining({ source: null, queryIds: [], outcome: "good" }));
    expect(JSON.stringify(guest)).not.toContain("203.0.113.7");

    const home = await history("home", HOME_PASSWORD);
    expect(home.find((e) => e.client === "home")?.source).toBe("203.0.113.7");
    expect(JSON.stringify(home)).not.toContain("198.51.100.8");
  });
});
