// A broken configuration answers clients 911 and says in the log which key is wrong.
import { afterEach, describe, expect, it } from "vitest";
import { type Endpoint, startEndpoint, TEST_OVH } from "../support/endpoint";
import { HOME_PASSWORD, testVars } from "../support/fixtures";

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
  it("counts changes apart from the history, so 1,000 unchanged reports cannot reset the limit", async () => {
    ep = await startEndpoint({
      vars: { ...(await testVars()), SETTINGS: { change_limit: 3, change_window: 3600 } },
    });
    ep.sim.addZone("example.tld");
    const endpoint = ep;
    const report = (ip: string) => endpoint.update({ hostname: "nas.example.tld", myip: ip });
    expect((await report("198.51.100.1")).body).toBe("good 198.51.100.1\n");
    expect((await report("198.51.100.2")).body).toBe("good 198.51.100.2\n");
    for (let batch = 0; batch < 101; batch++) {
      await Promise.all(Array.from({ length: 10 }, () => report("198.51.100.2")));
    }
    expect((await report("198.51.100.3")).body).toBe("good 198.51.100.3\n");
    expect((await report("198.51.100.4")).body).toBe("abuse\n");
    // A thousand requests: on a machine shared with other work they outlast the default 30 s.
  }, 120_000);
});
