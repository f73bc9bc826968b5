// The history each zone keeps: per host, with its own cap, changes never pushed out by unchanged
// reports, and what a client that shares a host may see of another client's reports.
import { afterEach, describe, expect, it } from "vitest";
import { type Endpoint, sha256Hex, startEndpoint } from "../support/endpoint";
import { HOME_PASSWORD, NEIGHBOUR_PASSWORD, testVars, ZONE } from "../support/fixtures";

let ep: Endpoint;

afterEach(async () => {
  expect(ep.unexpected).toEqual([]);
  await ep.close();
});

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

/** `count` unchanged reports of one host, from two sources in turn so none repeats the last. */
async function flood(host: string, address: string, count: number): Promise<void> {
  for (let done = 0; done < count; done += 25) {
    await Promise.all(
      Array.from({ length: Math.min(25, count - done) }, async (_, i) => {
        const reply = await ep.update(
          { hostname: host, myip: address },
          { headers: { "CF-Connecting-IP": (done + i) % 2 === 0 ? "203.0.113.1" : "203.0.113.2" } },
        );
        expect(reply.body).toBe(`nochg ${address}\n`);
      }),
    );
  }
}

describe("history per host", () => {
  it("1,100 unchanged reports of one host push neither another host's change nor its own change out", async () => {
    ep = await startEndpoint({ vars: await testVars() });
    ep.sim.addZone(ZONE);
    expect(
      (
        await ep.update(
          { hostname: "other.example.tld", myip: "2001:db8::9" },
          { user: "neighbour", password: NEIGHBOUR_PASSWORD },
        )
      ).body,
    ).toBe("good 2001:db8::9\n");
    expect((await ep.update({ hostname: "service.example.tld", myip: "2001:db8::1" })).body).toBe(
      "good 2001:db8::1\n",
    );

    await flood("service.example.tld", "2001:db8::1", 1100);

    const neighbour = await history("neighbour", NEIGHBOUR_PASSWORD);
    expect(neighbour.filter((e) => e.outcome === "good").map((e) => e.host)).toEqual(["other.example.tld"]);
    const home = await history("home", HOME_PASSWORD);
    expect(home.filter((e) => e.outcome === "good").map((e) => e.host)).toEqual(["service.example.tld"]);
    // The host keeps its own share of unchanged entries, not the whole zone's: KEEP_PER_HOST (500),
    // and up to TRIM_EVERY - 1 (49) more between trims (src/zone/store/history.ts).
    expect(home.filter((e) => e.outcome === "nochg").length).toBeLessThan(500 + 50);
    // 1,100 requests: on a machine shared with other work they outlast the default 30 s.
  }, 120_000);
});

describe("a host shared by two clients", () => {
  it("each client sees its own source addresses and OVH query ids only", async () => {
    const vars = await testVars();
    const clients = vars.CLIENTS as Record<string, unknown>;
    clients.guest = { password_sha256: await sha256Hex("guest-password"), hosts: ["service.example.tld"] };
    ep = await startEndpoint({ vars });
    ep.sim.addZone(ZONE);

    const from = (ip: string) => ({ "CF-Connecting-IP": ip });
    await ep.update(
      { hostname: "service.example.tld", myip: "2001:db8::1" },
      { headers: from("203.0.113.7") },
    );
    await ep.update(
      { hostname: "service.example.tld", myip: "2001:db8::2" },
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
