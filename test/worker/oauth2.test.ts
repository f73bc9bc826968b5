// OVH OAuth2 service accounts instead of application + consumer key: bearer tokens, no clock.
import { afterEach, describe, expect, it } from "vitest";
import { type Endpoint, OVH_SECRETS, startEndpoint } from "../support/endpoint";
import { testVars, ZONE } from "../support/fixtures";

const CLIENT_ID = "sa-client-id-1234";
const CLIENT_SECRET = "sa-client-secret-5678";

let ep: Endpoint | undefined;
afterEach(async () => {
  expect(ep?.unexpected ?? []).toEqual([]);
  await ep?.close();
  ep = undefined;
});

describe("OAuth2 service account", () => {
  it("updates records with a bearer token fetched once, and never asks /auth/time", async () => {
    ep = await startEndpoint({
      vars: await testVars(),
      secrets: { OVH_CLIENT_ID: CLIENT_ID, OVH_CLIENT_SECRET: CLIENT_SECRET },
    });
    ep.sim.addServiceAccount(CLIENT_ID, CLIENT_SECRET, { zones: [ZONE] });
    ep.sim.addZone(ZONE);

    for (const address of ["2001:db8::1", "2001:db8::2", "2001:db8::3"]) {
      const reply = await ep.update({ hostname: "service.example.tld", myipv6: address });
      expect(reply.body).toBe(`good ${address}\n`);
    }
    const live = ep.sim.liveRecords(ZONE).map((r) => r.target);
    expect(live).toEqual(["2001:db8::3", "2001:db8::3"]);
    const calls = ep.sim.calls();
    expect(calls.filter((c) => c.path.includes("oauth2/token"))).toHaveLength(1);
    expect(calls.filter((c) => c.kind === "auth-time")).toEqual([]);
    expect(
      calls.filter((c) => c.kind === "update" || c.kind === "create").every((c) => c.clientId === CLIENT_ID),
    ).toBe(true);
  });

  it("a zone outside the account's IAM policy answers 911 and the log says why", async () => {
    ep = await startEndpoint({
      vars: await testVars(),
      secrets: { OVH_CLIENT_ID: CLIENT_ID, OVH_CLIENT_SECRET: CLIENT_SECRET },
    });
    ep.sim.addServiceAccount(CLIENT_ID, CLIENT_SECRET, { zones: [ZONE] });
    ep.sim.addZone("example.org");
    const reply = await ep.update({ hostname: "apex.example.org", myipv6: "2001:db8::1" });
    expect(reply.body).toBe("911\n");
    await ep.flushLogs();
    expect(ep.logs.join("\n")).toContain("User not granted for this request");
  });

  it("a wrong client secret answers 911, never badauth (the client's own credentials were fine)", async () => {
    ep = await startEndpoint({
      vars: await testVars(),
      secrets: { OVH_CLIENT_ID: CLIENT_ID, OVH_CLIENT_SECRET: "sa-wrong-secret-000" },
    });
    ep.sim.addServiceAccount(CLIENT_ID, CLIENT_SECRET);
    ep.sim.addZone(ZONE);
    const reply = await ep.update({ hostname: "service.example.tld", myipv6: "2001:db8::1" });
    expect(reply.status).toBe(503);
    expect(reply.body).toBe("911\n");
  });

  it("a token endpoint that never answers is a time-out: it opens the breaker, and the next reports fail at once without asking for a token", async () => {
    ep = await startEndpoint({
      vars: { ...(await testVars()), SETTINGS: { ovh_timeout_ms: 2000 } },
      secrets: { OVH_CLIENT_ID: CLIENT_ID, OVH_CLIENT_SECRET: CLIENT_SECRET },
    });
    ep.sim.addServiceAccount(CLIENT_ID, CLIENT_SECRET, { zones: [ZONE] });
    ep.sim.addZone(ZONE);
    ep.sim.injectFault({ path: /oauth2\/token/, fault: { kind: "hang" } });
    for (const address of ["2001:db8::1", "2001:db8::2", "2001:db8::3"]) {
      expect((await ep.update({ hostname: "service.example.tld", myipv6: address })).body).toBe("911\n");
    }
    // One token request reached OVH; the breaker (open for twice ovh_timeout_ms) refused the
    // later reports' calls before sending.
    expect(ep.sim.calls().filter((c) => c.path.includes("oauth2/token"))).toHaveLength(1);
    await ep.flushLogs();
    const breaker = ep.logs.map((l) => JSON.parse(l)).filter((l) => l.event === "ovh-breaker");
    expect(breaker).toHaveLength(1);
    expect(breaker[0].reason).toBe("OVH POST /auth/oauth2/token: no answer within 2000 ms");
  });

  it("both kinds of OVH credentials at once is a configuration error naming the keys", async () => {
    ep = await startEndpoint({
      vars: await testVars(),
      secrets: {
        ...OVH_SECRETS,
        OVH_CLIENT_ID: CLIENT_ID,
        OVH_CLIENT_SECRET: CLIENT_SECRET,
      },
    });
    const reply = await ep.update({ hostname: "service.example.tld", myipv6: "2001:db8::1" });
    expect(reply.body).toBe("911\n");
    await ep.flushLogs();
    expect(ep.logs.join("\n")).toContain("not both");
  });
});
