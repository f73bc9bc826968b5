// OVH misbehaving: each fault answers a retryable dyndns2 code and writes nothing wrong; the next
// report with OVH healthy again ends in the right live zone.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Fault } from "../../sim/ovh-simulator";
import {
  type Endpoint,
  findSecrets,
  secretsOf,
  startEndpoint,
  TEST_OVH,
  untilServed,
} from "../support/endpoint";
import { HOME_PASSWORD, OTHER_ZONE, testVars, ZONE } from "../support/fixtures";

let ep: Endpoint;
let n = 0;
/** A new address per report, so every report is a change that must reach OVH. */
const next = () => `2001:db8:f::${(++n).toString(16)}`;

beforeAll(async () => {
  ep = await startEndpoint({
    vars: { ...(await testVars()), SETTINGS: { ovh_timeout_ms: 500, change_limit: 1000 } },
  });
  ep.sim.addZone(ZONE);
});
afterAll(async () => {
  await ep?.close();
});
beforeEach(() => {
  ep.sim.clearFaults();
  ep.sim.setClockSkew(0);
});
afterEach(() => {
  expect(ep.unexpected).toEqual([]);
});

const live = (sub: string, zone = ZONE) =>
  ep.sim
    .liveRecords(zone)
    .filter((r) => r.fieldType === "AAAA" && r.subDomain === sub)
    .map((r) => r.target);

async function expectRecovery(hostname = "service.example.tld", sub = "service", zone = ZONE): Promise<void> {
  ep.sim.clearFaults();
  // A fault that made a call time out (a hang; a reset, when workerd waits on it) opened the
  // zone's breaker for twice ovh_timeout_ms: until it has closed, reports are answered 911 at once.
  let address = "";
  const reply = await untilServed(() => {
    address = next();
    return ep.update({ hostname, myipv6: address });
  });
  expect(reply.body).toBe(`good ${address}\n`);
  expect(live(sub, zone)).toEqual([address]);
}

const faults: [string, Fault][] = [
  [
    "500 with an HTML body",
    { kind: "status", status: 500, body: "<html><h1>500</h1></html>", contentType: "text/html" },
  ],
  [
    "502 with an HTML body",
    { kind: "status", status: 502, body: "<html>Bad Gateway</html>", contentType: "text/html" },
  ],
  [
    "503 with an HTML body",
    { kind: "status", status: 503, body: "<html>Maintenance</html>", contentType: "text/html" },
  ],
  ["invalid JSON", { kind: "invalid-json" }],
  ["a reset connection", { kind: "reset" }],
  [
    "403 This call has not been granted",
    {
      kind: "status",
      status: 403,
      body: '{"class":"Client::Forbidden","message":"This call has not been granted"}',
    },
  ],
  [
    "403 This credential is not valid",
    {
      kind: "status",
      status: 403,
      body: '{"class":"Client::Forbidden","message":"This credential is not valid"}',
    },
  ],
];

describe("faults on every API call", () => {
  for (const [name, fault] of faults) {
    it(`${name} → 911 with Retry-After, nothing published; then recovery`, async () => {
      const before = live("service");
      ep.sim.injectFault({ path: /^\/domain\//, fault });
      const reply = await ep.update({ hostname: "service.example.tld", myipv6: next() });
      expect(reply.status).toBe(503);
      expect(reply.body).toBe("911\n");
      expect(Number(reply.headers.get("Retry-After"))).toBeGreaterThan(0);
      expect(live("service")).toEqual(before);
      await expectRecovery();
    });
  }

  it("a hung connection: the Worker's own timeout answers 911 long before a client gives up", async () => {
    ep.sim.injectFault({ path: /^\/domain\//, fault: { kind: "hang" } });
    const client = AbortSignal.timeout(10_000); // ddclient and inadyn wait longer than this
    const r = await ep.fetch(`/nic/update?hostname=service.example.tld&myipv6=${next()}`, {
      headers: { Authorization: `Basic ${btoa(`home:${HOME_PASSWORD}`)}` },
      signal: client,
    });
    expect(await r.text()).toBe("911\n");
    expect(r.status).toBe(503);
    // A time-out opens the zone's breaker for twice ovh_timeout_ms: calls fail at once meanwhile.
    const refused = await ep.update({ hostname: "service.example.tld", myipv6: next() });
    expect(refused.body).toBe("911\n");
    await expectRecovery();
  });

  it("an unknown zone → 911 and a log line naming it; fine once the zone exists", async () => {
    const reply = await ep.update({ hostname: "apex.example.org", myipv6: next() });
    expect(reply.body).toBe("911\n");
    await ep.flushLogs();
    expect(ep.logs.some((l) => l.includes("This service does not exist") && l.includes(OTHER_ZONE))).toBe(
      true,
    );
    ep.sim.addZone(OTHER_ZONE);
    await expectRecovery("apex.example.org", "", OTHER_ZONE);
  });
});

describe("clock skew", () => {
  for (const skew of [600, -600]) {
    it(`${skew > 0 ? "+" : "-"}10 minutes: one re-sync of /auth/time, then success`, async () => {
      ep.sim.setClockSkew(skew);
      ep.sim.resetCalls();
      const address = next();
      const reply = await ep.update({ hostname: "service.example.tld", myipv6: address });
      expect(reply.body).toBe(`good ${address}\n`);
      expect(ep.sim.calls({ kind: "auth-time" })).toHaveLength(1);
      expect(live("service")).toEqual([address]);
    });
  }
});

describe("partial failure", () => {
  it("a failure after one of two writes: 911, the next report completes both", async () => {
    await expectRecovery();
    const second = ep.sim.records(ZONE).find((r) => r.subDomain === "service6");
    ep.sim.injectFault({
      method: "PUT",
      path: `/domain/zone/${ZONE}/record/${second?.id}`,
      fault: { kind: "status", status: 502, body: "<html>Bad Gateway</html>", contentType: "text/html" },
    });
    const reply = await ep.update({ hostname: "service.example.tld", myipv6: next() });
    expect(reply.body).toBe("911\n");
    ep.sim.clearFaults();
    const address = next();
    expect((await ep.update({ hostname: "service.example.tld", myipv6: address })).body).toBe(
      `good ${address}\n`,
    );
    expect(live("service")).toEqual([address]);
    expect(live("service6")).toEqual([address]);
  });
});

describe("the secret check itself", () => {
  it("flags a password, a hash, an Authorization value or an OVH secret in output", async () => {
    const vars = await testVars();
    const secrets = {
      OVH_APPLICATION_SECRET: TEST_OVH.applicationSecret,
      OVH_CONSUMER_KEY: TEST_OVH.consumerKey,
    };
    const known = secretsOf(vars, secrets);
    const hash = (vars.CLIENTS as Record<string, { password_sha256: string }>).home?.password_sha256 ?? "";
    expect(findSecrets(['{"event":"update","reply":"good"}'], known)).toEqual([]);
    expect(findSecrets([`oops ${HOME_PASSWORD}`], known)).toContain("a client password");
    expect(findSecrets([`hash=${hash}`], known)).toContain("home's password hash");
    expect(findSecrets([`Basic ${btoa(`home:${HOME_PASSWORD}`)}`], known)).toContain("home's Authorization");
    expect(findSecrets([TEST_OVH.consumerKey], known)).toContain("OVH_CONSUMER_KEY");
  });
});
