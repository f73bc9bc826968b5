// A broken configuration answers clients 911 and says in the log which key is wrong.
import { afterEach, describe, expect, it } from "vitest";
import { type Endpoint, startEndpoint, TEST_OVH } from "../support/endpoint";
import {
  HISTORY_KEEPS,
  HISTORY_KEPT_AT_MOST,
  HOME_PASSWORD,
  testVars,
  unchangedReports,
} from "../support/fixtures";

let ep: Endpoint | undefined;
afterEach(async () => {
  expect(ep?.unexpected ?? []).toEqual([]);
  await ep?.close();
  ep = undefined;
});

async function logLine(endpoint: Endpoint): Promise<string> {
  await endpoint.flushLogs();
  return endpoint.logs.filter((l) => l.includes('"event":"update"')).join("\n");
}

describe("invalid configuration", () => {
  it("a typo in a record key → 911 for clients, a log line naming the key", async () => {
    const vars = await testVars();
    const hosts = vars.HOSTS as Record<string, { records: Record<string, unknown>[] }>;
    hosts["nas.example.tld"]?.records.push({ subDomain: "typo", type: "AAAA" });
    ep = await startEndpoint({ vars });
    const reply = await ep.update({ hostname: "nas.example.tld", myip: "198.51.100.5" });
    expect(reply.status).toBe(503);
    expect(reply.body).toBe("911\n");
    expect(await logLine(ep)).toMatch(/HOSTS\.\\?"nas\.example\.tld\\?"\.records\[2\]/);
    expect(ep.sim.calls()).toEqual([]);
  });

  it("a missing or placeholder secret → 911, the log names it and never shows a value", async () => {
    ep = await startEndpoint({
      vars: await testVars(),
      secrets: { OVH_APPLICATION_KEY: TEST_OVH.applicationKey, OVH_APPLICATION_SECRET: "<your secret>" },
    });
    const reply = await ep.update({ hostname: "nas.example.tld", myip: "198.51.100.5" });
    expect(reply.body).toBe("911\n");
    const line = await logLine(ep);
    expect(line).toContain("OVH_APPLICATION_SECRET: still holds a placeholder");
    expect(line).toContain("OVH_CONSUMER_KEY: is not set");
    expect(line).not.toContain("<your secret>");
    expect(line).not.toContain(HOME_PASSWORD);
  });
});

describe("change limit and history", () => {
  /** More unchanged reports than a host's history keeps. */
  const FLOOD = 600;
  it(`counts changes apart from the history, so ${FLOOD} unchanged reports (more than it keeps) cannot reset the limit`, async () => {
    ep = await startEndpoint({
      vars: { ...(await testVars()), SETTINGS: { change_limit: 3, change_window: 3600 } },
    });
    ep.sim.addZone("example.tld");
    const endpoint = ep;
    const report = (ip: string) => endpoint.update({ hostname: "nas.example.tld", myip: ip });
    expect((await report("198.51.100.1")).body).toBe("good 198.51.100.1\n");
    expect((await report("198.51.100.2")).body).toBe("good 198.51.100.2\n");
    await unchangedReports(
      ep,
      { hostname: "nas.example.tld", myip: "198.51.100.2" },
      "nochg 198.51.100.2\n",
      FLOOD,
    );
    // Each took an entry of the history, which let go of the oldest…
    const status = await ep.fetch("/status?history=1000", {
      headers: { Authorization: `Basic ${btoa(`home:${HOME_PASSWORD}`)}` },
    });
    const { history } = (await status.json()) as { history: { host: string; outcome: string }[] };
    const unchanged = history.filter((e) => e.host === "nas.example.tld" && e.outcome === "nochg");
    expect(unchanged.length).toBeGreaterThanOrEqual(HISTORY_KEEPS);
    expect(unchanged.length).toBeLessThanOrEqual(HISTORY_KEPT_AT_MOST);
    // …and the limit still counts the two changes.
    expect((await report("198.51.100.3")).body).toBe("good 198.51.100.3\n");
    expect((await report("198.51.100.4")).body).toBe("abuse\n");
    // 600 requests: on a machine shared with other work they may outlast the default 30 s.
  }, 120_000);
});
