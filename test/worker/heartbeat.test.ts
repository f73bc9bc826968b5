// HEARTBEAT_URL: each scheduled check pings it, in the style its URL names; a local receiver
// stands in for healthchecks.io and for Uptime Kuma and checks each one's documented request.
// The URL's token appears in no log line.
import { afterEach, describe, expect, it } from "vitest";
import { type Endpoint, OVH_SECRETS, startEndpoint } from "../support/endpoint";
import { testVars, ZONE } from "../support/fixtures";
import { type Receiver, startReceiver } from "../support/receivers";

const HC_TOKEN = "5f2b8a1e-3c4d-4e5f-9a0b-1c2d3e4f5a6b";
const KUMA_TOKEN = "Xk3pQ9vLw2";

let ep: Endpoint;
let hook: Receiver;
afterEach(async () => {
  expect(ep.unexpected).toEqual([]);
  expect(ep.logs.join("\n")).not.toMatch(new RegExp(`${HC_TOKEN}|${KUMA_TOKEN}`));
  await ep.close();
  await hook.close();
});

async function start(url: (origin: string) => string, origin: string): Promise<void> {
  hook = await startReceiver();
  ep = await startEndpoint({
    vars: await testVars(),
    secrets: {
      ...OVH_SECRETS,
      HEARTBEAT_URL: url(origin),
    },
    receivers: { [origin]: hook.origin },
  });
  ep.sim.addZone(ZONE);
}

async function runCheck(): Promise<void> {
  const worker = await ep.mf.getWorker();
  expect((await worker.scheduled({ scheduledTime: new Date(), cron: "*/15 * * * *" })).outcome).toBe("ok");
}

/** A host whose writes fail: OVH answers 500 to every record call. */
async function failingHost(): Promise<void> {
  ep.sim.injectFault({ path: /^\/domain\/zone\/[^/]+\/record/, fault: { kind: "status", status: 500 } });
  expect((await ep.update({ hostname: "service.example.tld", myipv6: "2001:db8::5" })).body).toBe("911\n");
}

describe("healthchecks.io style", () => {
  const origin = "https://hc-ping.com";
  it("a POST to the URL when every host is fine, to URL/fail when one needs attention, with a line saying which", async () => {
    await start((o) => `${o}/${HC_TOKEN}`, origin);
    await runCheck();
    const [up] = await hook.waitFor(1);
    expect(up).toMatchObject({ method: "POST", path: `/${HC_TOKEN}`, body: "ok: every host is fine" });
    await failingHost();
    await runCheck();
    const down = (await hook.waitFor(2))[1];
    expect(down).toMatchObject({ method: "POST", path: `/${HC_TOKEN}/fail` });
    expect(down?.body).toBe("attention: service.example.tld: failing");
    expect(ep.logs.some((l) => l.includes('"event":"heartbeat"') && l.includes('"state":"down"'))).toBe(true);
  });
});

describe("Uptime Kuma push style", () => {
  const origin = "https://status.example.net";
  it("status=up or status=down with msg, on the push URL as given", async () => {
    await start((o) => `${o}/api/push/${KUMA_TOKEN}?status=up&msg=OK&ping=`, origin);
    await runCheck();
    const up = new URL(`http://x${(await hook.waitFor(1))[0]?.path}`);
    expect(up.pathname).toBe(`/api/push/${KUMA_TOKEN}`);
    expect(Object.fromEntries(up.searchParams)).toEqual({
      status: "up",
      msg: "ok: every host is fine",
      ping: "",
    });
    await failingHost();
    await runCheck();
    const down = new URL(`http://x${(await hook.waitFor(2))[1]?.path}`);
    expect(down.searchParams.get("status")).toBe("down");
    expect(down.searchParams.get("msg")).toBe("attention: service.example.tld: failing");
  });
});

describe("a HEARTBEAT_URL that is not a URL", () => {
  it("sends nothing and says so in the log, without the value", async () => {
    await start(() => `hc-ping.com/${HC_TOKEN}`, "https://hc-ping.com");
    await runCheck();
    await ep.flushLogs();
    expect(ep.logs.some((l) => l.includes("HEARTBEAT_URL is not an http(s) URL"))).toBe(true);
    expect(hook.requests).toEqual([]);
  });
});
