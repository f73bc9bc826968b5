// The status page shows what the zone's name servers serve beside each record, in headless
// Chromium: served (by which servers, how long after the report), waiting (what a lagging server
// still answers), unserved (the host's badge too); "Check now" asks at once and is rate-limited.
// This Worker has no notification target, so the test button's hint is checked here too.
// The Worker's clock runs ahead and the zone's alarm is fired (test/worker/served.test.ts), so the
// back-off and serve_within pass without waiting.
import type { Cookie, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTab, screenshot, type Tab } from "../support/browser";
import { type Endpoint, elapse, OVH_SECRETS, sha256Hex, startEndpoint } from "../support/endpoint";
import { SESSION_SECRET, ZONE } from "../support/fixtures";

const PASSWORD = "served-page-password";
const HOSTS = ["served.example.tld", "waiting.example.tld", "unserved.example.tld"];

let ep: Endpoint;
let tab: Tab;
let lagging: { name: string; address: string };

async function servedState(name: string): Promise<string | undefined> {
  const r = await ep.fetch("/status", { headers: { Authorization: `Basic ${btoa(`home:${PASSWORD}`)}` } });
  const body = (await r.json()) as {
    hosts: { records: { name: string; served: { state: string } | null }[] }[];
  };
  return body.hosts.flatMap((h) => h.records).find((x) => x.name === name)?.served?.state;
}

beforeAll(async () => {
  // Chromium starts while the Worker does and the reports go in (awaited at the end; a failure
  // to launch is caught there, not left unhandled meanwhile).
  const opening = openTab();
  opening.catch(() => {});
  const host = (sub: string, serveWithin: number) => ({
    zone: ZONE,
    allow_private: true,
    serve_within: serveWithin,
    records: [{ subdomain: sub, type: "AAAA" }],
  });
  ep = await startEndpoint({
    vars: {
      HOSTS: {
        "served.example.tld": host("served", 900),
        "waiting.example.tld": host("waiting", 86_400),
        "unserved.example.tld": host("unserved", 10),
      },
      CLIENTS: { home: { password_sha256: await sha256Hex(PASSWORD), hosts: HOSTS } },
    },
    secrets: {
      ...OVH_SECRETS,
      SESSION_SECRET,
    },
    clock: true,
  });
  ep.sim.addZone(ZONE);
  for (const h of HOSTS)
    expect((await ep.update({ hostname: h, myipv6: "2001:db8::1" }, { password: PASSWORD })).status).toBe(
      200,
    );
  await elapse(ep, ZONE, 2);
  for (const h of HOSTS) expect([h, await servedState(h)]).toEqual([h, "served"]);
  // One server stops taking the zone's refreshes; two hosts change.
  lagging = ep.sim.dns.servers()[1] as { name: string; address: string };
  ep.sim.dns.setFault(lagging.name, "stale");
  for (const h of ["waiting.example.tld", "unserved.example.tld"])
    expect((await ep.update({ hostname: h, myipv6: "2001:db8::2" }, { password: PASSWORD })).status).toBe(
      200,
    );
  await elapse(ep, ZONE, 12); // past unserved's serve_within (10 s), far inside waiting's
  expect(await servedState("unserved.example.tld")).toBe("unserved");
  expect(await servedState("waiting.example.tld")).toBe("waiting");
  // The waiting record's next ask is then an hour away, by the real clock its alarm goes by too:
  // no round of the watch runs beside the tests' (Check now counts its connections).
  await elapse(ep, ZONE, 3600);
  expect(await servedState("waiting.example.tld")).toBe("waiting");
  tab = await opening;
}, 120_000);

afterAll(async () => {
  await tab?.close();
  expect(ep.unexpected).toEqual([]);
  await ep.close();
});

/** The session cookie of the first log-in through the form; the other tests open the page with it. */
let session: Cookie[] | undefined;

async function loggedIn(width = 1280): Promise<Page> {
  const page = await tab.freshPage({ width, ...(session ? { cookies: session } : {}) });
  await page.goto(`${ep.url}/status`);
  if (!session) {
    await page.getByLabel("Client name").fill("home");
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
  }
  await page.getByRole("button", { name: "Log out" }).waitFor();
  session ??= await tab.context.cookies(ep.url);
  return page;
}
const card = (page: Page, host: string) => page.getByRole("article", { name: host, exact: true });

describe("what the name servers serve, beside each record", () => {
  it("served by both, N s after the report; waiting with what the lagging server still answers; unserved, and the host's badge", async () => {
    const page = await loggedIn();
    const [first, second] = ep.sim.dns.servers().map((s) => s.address);
    const served = await card(page, "served.example.tld").locator(".served").textContent();
    expect(served).toMatch(new RegExp(`^✓ served by ${first} and ${second}, \\d+ s after the report · `));
    const waiting = await card(page, "waiting.example.tld").locator(".served").textContent();
    expect(waiting).toMatch(new RegExp(`^◷ waiting: ${lagging.address} still answers 2001:db8::1 · `));
    const unserved = card(page, "unserved.example.tld");
    expect(await unserved.locator(".served").textContent()).toMatch(
      new RegExp(`^⚠ unserved: ${lagging.address} answers 2001:db8::1 · `),
    );
    expect((await unserved.locator(".badge").textContent())?.trim()).toMatch(/unserved$/);
    expect(await unserved.locator(".advice").textContent()).toContain(
      `${lagging.address} answers 2001:db8::1`,
    );
    await screenshot(page, "served-states");
  });

  it("at 360 px the lines wrap without overflow", async () => {
    const page = await loggedIn(360);
    const widths = await page.evaluate(() => ({
      scroll: document.documentElement.scrollWidth,
      client: document.documentElement.clientWidth,
    }));
    expect(widths.scroll).toBeLessThanOrEqual(widths.client);
    await screenshot(page, "served-states-360");
  });
});

describe("Check now", () => {
  it("asks the name servers at once and shows what they found; a second ask within 10 s is refused", async () => {
    const page = await loggedIn();
    ep.sim.dns.setFault(lagging.name, null); // the server catches up
    ep.sim.dns.resetLog();
    await page.getByRole("button", { name: "Check now" }).click();
    const result = page.locator("#check-result");
    await expect.poll(() => result.textContent()).toMatch(/: 3 of 3 records served\.$/);
    expect(ep.sim.dns.connections().total).toBe(2);
    await expect
      .poll(() => card(page, "unserved.example.tld").locator(".served").textContent())
      .toMatch(/^✓ served by /);
    expect((await card(page, "unserved.example.tld").locator(".badge").textContent())?.trim()).toMatch(/ok$/);
    await page.getByRole("button", { name: "Check now" }).click();
    await expect.poll(() => result.textContent()).toMatch(/^One check per 10 s: try again in \d+ s\.$/);
  });
});

describe("a Worker with no notification target", () => {
  it("the test button says how to set one", async () => {
    const page = await loggedIn(360);
    await page.getByRole("button", { name: "Send a test notification" }).click();
    const hint = page.locator("#notify-result .hint");
    await hint.waitFor();
    const text = await hint.textContent();
    expect(text).toMatch(/^No notification target is configured\./);
    expect(text).toContain("npx wrangler secret put NOTIFY_URLS");
    expect(text).toContain("npm run check");
    await screenshot(page, "status-notify-none-360");
  });
});
