// The status page in a real browser (Debian's headless Chromium through playwright-core), against
// the Worker in workerd and the OVH simulator: logging in, what the page shows, phone width,
// log-out, and what a page of another local origin can do with the session (nothing).
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Cookie, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTab, screenshot, type Tab } from "../support/browser";
import { type Endpoint, OVH_SECRETS, sha256Hex, startEndpoint } from "../support/endpoint";
import { SESSION_SECRET, WG_HOST_ID, ZONE } from "../support/fixtures";
import { type Receiver, startReceiver } from "../support/receivers";

const PASSWORD = "page-test-password";
const GUEST_PASSWORD = "guest-test-password";
const CELLAR_PASSWORD = "cellar-test-password";
const OPS_PASSWORD = "ops-test-password";
/** A NOTIFY_URLS entry with a raw % in its password: the Worker skips it and says so. */
const BROKEN_URL = "ntfy://alice:xq50%off@ntfy.sh/dns";
const STALE_AFTER = 60; // the shortest stale_after the configuration takes

let ep: Endpoint;
/** The file's one page, reset before each test (test/support/browser.ts). */
let tab: Tab;
/** A webhook (NOTIFY_URLS generic+http://) on loopback. */
let hook: Receiver;
/** The test messages the webhook got (events of changes and health go there too). */
const tests = () => hook.requests.filter((q) => (JSON.parse(q.body) as { event: string }).event === "test");

beforeAll(async () => {
  // Chromium starts while the Worker does and the reports go in (awaited at the end; a failure
  // to launch is caught there, not left unhandled meanwhile).
  const opening = openTab();
  opening.catch(() => {});
  hook = await startReceiver();
  ep = await startEndpoint({
    vars: {
      HOSTS: {
        "wg-end.example.tld": {
          zone: ZONE,
          allow_private: true,
          records: [
            { subdomain: "wg-end", type: "AAAA", host_id: WG_HOST_ID, prefix_length: 56 },
            { subdomain: "firewall", type: "AAAA", host_id: WG_HOST_ID, prefix_length: 56 },
          ],
        },
        "firewall.example.tld": {
          zone: ZONE,
          allow_private: true,
          records: [{ subdomain: "firewall", type: "A" }],
        },
        "nas.example.tld": { zone: ZONE, allow_private: true, records: [{ subdomain: "nas", type: "A" }] },
        // Its own client, so that no other test sees it before or after it goes stale.
        "cellar.example.tld": {
          zone: ZONE,
          allow_private: true,
          stale_after: STALE_AFTER,
          records: [{ subdomain: "cellar", type: "A" }],
        },
        "printer.example.tld": {
          zone: ZONE,
          allow_private: true,
          records: [{ subdomain: "printer", type: "AAAA" }],
        },
        // Written once OVH's refresh fails: unconfirmed, and failing with OVH's raw reason.
        "vault.example.tld": {
          zone: ZONE,
          allow_private: true,
          records: [{ subdomain: "vault", type: "A" }],
        },
      },
      CLIENTS: {
        home: {
          password_sha256: await sha256Hex(PASSWORD),
          hosts: ["wg-end.example.tld", "firewall.example.tld", "nas.example.tld", "printer.example.tld"],
        },
        guest: { password_sha256: await sha256Hex(GUEST_PASSWORD), hosts: ["printer.example.tld"] },
        cellar: { password_sha256: await sha256Hex(CELLAR_PASSWORD), hosts: ["cellar.example.tld"] },
        ops: { password_sha256: await sha256Hex(OPS_PASSWORD), hosts: ["vault.example.tld"], admin: true },
      },
      SETTINGS: { auth_fail_limit: 3 },
    },
    secrets: {
      ...OVH_SECRETS,
      SESSION_SECRET,
      NOTIFY_URLS: `generic+http://${new URL(hook.origin).host}/hook ${BROKEN_URL}`,
    },
    receivers: { [hook.origin]: hook.origin },
    // cellar.example.tld goes stale STALE_AFTER seconds after its one report: by the Worker's clock.
    clock: true,
  });
  ep.sim.addZone(ZONE);
  const as = { user: "home", password: PASSWORD, headers: { "User-Agent": "FRITZ!Box 7590 (test)" } };
  const cellar = { user: "cellar", password: CELLAR_PASSWORD };
  expect((await ep.update({ hostname: "cellar.example.tld", myip: "198.51.100.30" }, cellar)).body).toBe(
    "good 198.51.100.30\n",
  );
  expect((await ep.update({ hostname: "nas.example.tld", myip: "198.51.100.20" }, as)).body).toBe(
    "good 198.51.100.20\n",
  );
  // Unchanged reports from two networks in turn (so none folds into the one before): 25 entries
  // for nas, more than a page of the history.
  for (let i = 0; i < 24; i++) {
    const from = { ...as, headers: { ...as.headers, "CF-Connecting-IP": `203.0.113.${1 + (i % 2)}` } };
    expect((await ep.update({ hostname: "nas.example.tld", myip: "198.51.100.20" }, from)).body).toBe(
      "nochg 198.51.100.20\n",
    );
  }
  for (const prefix of ["2001:db8:1:100::/56", "2001:db8:2:200::/56"]) {
    await ep.update({ hostname: "wg-end.example.tld", ip6lanprefix: prefix, myipv6: "2001:db8::1" }, as);
  }
  // A change, then the same report twice: one entry "unchanged, 2 times".
  for (let i = 0; i < 3; i++) await ep.update({ hostname: "firewall.example.tld", myip: "198.51.100.8" }, as);
  // Refused reports: a name that is not the client's, and an address that is not one.
  expect((await ep.update({ hostname: "intruder.example.tld", myip: "198.51.100.9" }, as)).body).toBe(
    "nohost\n",
  );
  expect((await ep.update({ hostname: "firewall.example.tld", myip: "198.51.100.300" }, as)).status).toBe(
    400,
  );
  // OVH takes the write, then its refresh fails: the record is unconfirmed and the host failing.
  const ops = { user: "ops", password: OPS_PASSWORD };
  ep.sim.injectFault({
    method: "POST",
    path: `/domain/zone/${ZONE}/refresh`,
    fault: { kind: "status", status: 500, body: "oops", contentType: "text/plain" },
  });
  expect((await ep.update({ hostname: "vault.example.tld", myip: "198.51.100.40" }, ops)).body).toBe("911\n");
  ep.sim.clearFaults();
  tab = await opening;
});

afterAll(async () => {
  await tab?.close();
  expect(ep.unexpected).toEqual([]);
  await ep.close();
  await hook.close();
});

/**
 * Each client's session cookie from its first log-in through the form: later tests open the page
 * with it, logged in, instead of filling the form again (the form's own tests log in by hand).
 */
const sessions = new Map<string, Cookie[]>();

async function loggedIn(
  options: { width?: number; dark?: boolean; user?: string; password?: string; clipboard?: boolean } = {},
): Promise<Page> {
  const user = options.user ?? "home";
  const session = sessions.get(user);
  const page = await tab.freshPage({ ...options, ...(session ? { cookies: session } : {}) });
  await page.goto(`${ep.url}/status`);
  if (!session) {
    await page.getByLabel("Client name").fill(user);
    await page.getByLabel("Password").fill(options.password ?? PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
  }
  await page.getByRole("button", { name: "Log out" }).waitFor();
  if (!session) sessions.set(user, await tab.context.cookies(ep.url));
  return page;
}

const card = (page: Page, host: string) => page.getByRole("article", { name: host });

describe("logging in", () => {
  it("a wrong password shows an error and counts as a failed login, until the user name is blocked", async () => {
    const page = await tab.freshPage();
    await page.goto(`${ep.url}/status`);
    await expect(page.getByRole("heading", { name: "Log in" }).isVisible()).resolves.toBe(true);
    const attempt = async (password: string) => {
      await page.getByLabel("Client name").fill("guest");
      await page.getByLabel("Password").fill(password);
      await page.getByRole("button", { name: "Log in" }).click();
      const error = page.locator("#login-error");
      await error.waitFor();
      const text = await error.textContent();
      await page.evaluate(() => {
        (document.getElementById("login-error") as HTMLElement).hidden = true;
      });
      return text;
    };
    expect(await attempt("wrong-1")).toBe("Wrong client name or password.");
    await screenshot(page, "login-error");
    expect(await attempt("wrong-2")).toBe("Wrong client name or password.");
    // The third failure reaches auth_fail_limit: from now on even the right password is refused.
    expect(await attempt("wrong-3")).toMatch(/^Too many failed logins from your network/);
    expect(await attempt(GUEST_PASSWORD)).toMatch(/^Too many failed logins from your network/);
    expect(await page.getByRole("button", { name: "Log out" }).isVisible()).toBe(false);
    await ep.flushLogs();
    const logins = ep.logs.filter((l) => l.includes('"event":"login"')).map((l) => JSON.parse(l));
    expect(logins.filter((l) => l.status === 401)).toHaveLength(2);
    expect(logins.filter((l) => l.status === 429)).toHaveLength(2);
  });

  it("the right password shows every host, its badge and the targets the live zone holds", async () => {
    const page = await loggedIn();
    await expect(page.locator("#summary").textContent()).resolves.toBe(
      "1 of 4 hosts needs attention: printer.example.tld (never)",
    );
    const live = ep.sim.liveRecords(ZONE);
    const expected: Record<string, { badge: string; names: string[] }> = {
      "firewall.example.tld": { badge: "ok", names: ["firewall"] },
      "nas.example.tld": { badge: "ok", names: ["nas"] },
      "printer.example.tld": { badge: "never", names: ["printer"] },
      "wg-end.example.tld": { badge: "ok", names: ["wg-end", "firewall"] },
    };
    for (const [host, want] of Object.entries(expected)) {
      const c = card(page, host);
      expect((await c.locator(".badge").textContent())?.trim()).toMatch(new RegExp(`${want.badge}$`));
      const type = host.startsWith("wg-end") || host.startsWith("printer") ? "AAAA" : "A";
      const shown = await c.locator(".record .target").allTextContents();
      const targets = want.names.map(
        (sub) => live.find((r) => r.subDomain === sub && r.fieldType === type)?.target ?? "not written yet",
      );
      expect(shown).toEqual(targets);
    }
    // wg-end: the second prefix's address, derived from host_id, with the old one in the history.
    expect(await card(page, "wg-end.example.tld").locator(".target").first().textContent()).toBe(
      "2001:db8:2:210:211:32ff:fe12:3456",
    );
    expect(await card(page, "printer.example.tld").locator(".advice").textContent()).toMatch(
      /^No report yet/,
    );
    const last = await card(page, "firewall.example.tld").locator(".last-report").textContent();
    expect(last).toContain("by home");
    expect(last).toContain("FRITZ!Box 7590 (test)");
    await screenshot(page, "status-desktop-light");
  });
});

describe("keyboard, labels and states", () => {
  it("logs in with the keyboard alone, and every control has a name", async () => {
    const page = await tab.freshPage();
    await page.goto(`${ep.url}/status`);
    await page.getByLabel("Client name").waitFor();
    // The page puts the focus in the first field of the form.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("username");
    await page.keyboard.type("home");
    await page.keyboard.press("Tab");
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press("Enter");
    await page.getByRole("button", { name: "Log out" }).waitFor();
    const unnamed = await page.evaluate(() =>
      [...document.querySelectorAll("input, select, button, a")]
        .filter((el) => (el as HTMLElement).offsetParent !== null)
        .filter((el) => {
          const input = el as HTMLInputElement;
          const named =
            (input.labels && input.labels.length > 0) ||
            el.getAttribute("aria-label") ||
            (el.textContent ?? "").trim() !== "";
          return !named;
        })
        .map((el) => el.outerHTML.slice(0, 80)),
    );
    expect(unnamed).toEqual([]);
  });

  it("says so when the Worker cannot be reached, and tries again", async () => {
    const page = await tab.freshPage();
    let failing = true;
    await page.route(`${ep.url}/status?*`, (route) => (failing ? route.abort() : route.continue()));
    await page.goto(`${ep.url}/status`);
    const problem = page.getByRole("alert").filter({ hasText: "could not be reached" });
    await problem.waitFor();
    await screenshot(page, "status-unreachable");
    failing = false;
    await page.getByRole("button", { name: "Try again" }).click();
    await page.getByRole("heading", { name: "Log in" }).waitFor();
    expect(await problem.isVisible()).toBe(false);
  });
});

describe("setup help", () => {
  it("shows the client's FRITZ!Box, ddclient, inadyn and client.conf settings with this Worker's URL", async () => {
    const page = await loggedIn();
    const fritzbox = page.locator("details.recipe", { hasText: "FRITZ!Box" });
    expect(await fritzbox.getAttribute("open")).toBe("");
    expect(await fritzbox.locator("pre").textContent()).toContain(
      `Update-URL:   ${ep.url}/nic/update?hostname=`,
    );
    expect(await page.locator("details.recipe summary").allTextContents()).toEqual([
      "FRITZ!Box",
      "ddclient",
      "inadyn",
      "The shell client (client.conf)",
    ]);
    await page.locator("details.recipe summary", { hasText: "inadyn" }).click();
    expect(
      await page.locator("details.recipe", { hasText: "inadyn" }).locator("pre").textContent(),
    ).toContain("password    = <password>");
  });
});

describe("the history", () => {
  it("lists changes old → new, refused reports with the reason and the user name, by host, in pages", async () => {
    const page = await loggedIn();
    const entries = page.locator("#history > li");
    const texts = await entries.allTextContents();
    const refusedHost = texts.find((t) => t.includes("refused: host not allowed"));
    expect(refusedHost).toContain("intruder.example.tld");
    expect(refusedHost).toContain("user home");
    const badAddress = texts.find((t) => t.includes("refused: bad request"));
    expect(badAddress).toContain("user home");
    expect(await entries.filter({ hasText: "refused: bad request" }).locator(".note").textContent()).not.toBe(
      "",
    );
    const change = texts.find((t) => t.includes("2001:db8:1:110:211:32ff:fe12:3456 → 2001:db8:2:210"));
    expect(change).toContain("wg-end.example.tld");
    // What the report carried (its address and prefix), and the prefix each derived record came from.
    expect(change).toContain("from prefix 2001:db8:2:200::/56");
    expect(change).toContain("reported 2001:db8::1,2001:db8:2:200::/56");
    expect(texts.find((t) => t.includes("unchanged") && t.includes("firewall.example.tld"))).toContain(
      "2 times, the last",
    );

    await page.getByLabel("Changes only").check();
    const changesOnly = await entries.allTextContents();
    expect(changesOnly.length).toBeGreaterThan(0);
    for (const t of changesOnly) expect(t).toContain("→");
    await page.getByLabel("Everything").check();
    // One host's history, a page at a time, newest first.
    await page.getByLabel("Host", { exact: true }).selectOption("nas.example.tld");
    expect(await entries.count()).toBe(20);
    expect(await page.locator("#page-info").textContent()).toBe("Page 1 of 2");
    expect(await page.getByRole("button", { name: "← Newer" }).isDisabled()).toBe(true);
    await page.getByRole("button", { name: "Older →" }).click();
    const older = await entries.allTextContents();
    expect(older).toHaveLength(5);
    expect(older.at(-1)).toContain("(new) → 198.51.100.20");
    expect(await page.getByRole("button", { name: "Older →" }).isDisabled()).toBe(true);
  });
});

describe("at 360 px", () => {
  for (const dark of [false, true]) {
    it(`has no horizontal overflow (${dark ? "dark" : "light"} mode)`, async () => {
      const page = await loggedIn({ width: 360, dark });
      const widths = await page.evaluate(() => ({
        scroll: document.documentElement.scrollWidth,
        client: document.documentElement.clientWidth,
      }));
      expect(widths.scroll).toBeLessThanOrEqual(widths.client);
      const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      expect(background).toBe(dark ? "rgb(17, 20, 24)" : "rgb(245, 246, 248)");
      await screenshot(page, `status-360-${dark ? "dark" : "light"}`);
    });
  }
});

describe("log-out", () => {
  it("ends the session: the page asks to log in, and the old cookie opens nothing", async () => {
    const page = await loggedIn();
    const [cookie] = await tab.context.cookies(ep.url);
    expect(cookie).toMatchObject({ name: "session", httpOnly: true, sameSite: "Strict" });
    await page.getByRole("button", { name: "Log out" }).click();
    await page.getByRole("heading", { name: "Log in" }).waitFor();
    sessions.delete("home"); // every session of the client ended
    expect(await tab.context.cookies(ep.url)).toEqual([]);
    await page.reload();
    await page.getByRole("heading", { name: "Log in" }).waitFor();
    const replay = await ep.fetch("/status", {
      headers: { Accept: "application/json", Cookie: `${cookie?.name}=${cookie?.value}` },
    });
    expect(replay.status).toBe(401);
  });
});

describe("notifications and failed logins", () => {
  it("the test button sends one message; a client that is not admin sees positions, and a second test within the minute is refused", async () => {
    const before = tests().length;
    for (const width of [1280, 360]) {
      const page = await loggedIn({ width });
      await page.getByRole("button", { name: "Send a test notification" }).click();
      const out = page.locator("#notify-result");
      if (width === 1280) {
        await out.locator("li").first().waitFor();
        expect(await out.locator("li").allTextContents()).toEqual([
          "delivered #1",
          "not used 1 NOTIFY_URLS entry cannot be used (an admin client sees which)",
        ]);
        expect(await out.textContent()).toContain("shown to admin clients");
        await expect.poll(() => tests().length).toBe(before + 1);
      } else {
        // The same client, within the minute: nothing is sent, and the page says when it may try again.
        await out.locator(".error").waitFor();
        expect(await out.textContent()).toMatch(
          /^Not sent: One test message a minute: try again in \d+ s\.$/,
        );
        expect(tests().length).toBe(before + 1);
      }
    }
  });

  it("an admin client sees each target's result and what is wrong with NOTIFY_URLS", async () => {
    const page = await loggedIn({ user: "ops", password: OPS_PASSWORD });
    hook.answer(500, "down");
    await page.getByRole("button", { name: "Send a test notification" }).click();
    const result = page.locator("#notify-result li");
    await result.first().waitFor();
    const texts = await result.allTextContents();
    expect(texts[0]).toMatch(/^failed #1 generic 127\.0\.0\.1:\d+ — HTTP 500$/);
    expect(texts[1]).toBe(
      'not used NOTIFY_URLS #2 (ntfy): the password holds a "%" that is not followed by two hex digits (write a literal % as %25)',
    );
    expect(await page.locator("#notify-result").textContent()).not.toContain("xq50");
    hook.answer(200);
  });

  it("lists the client's own failed logins", async () => {
    const page = await tab.freshPage();
    await page.goto(`${ep.url}/status`);
    await page.getByLabel("Client name").fill("home");
    await page.getByLabel("Password").fill("not-the-password");
    await page.getByRole("button", { name: "Log in" }).click();
    await page.locator("#login-error").waitFor();
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByRole("button", { name: "Log out" }).waitFor();
    // The failure is listed after its reply (waitUntil): refresh until it is there.
    await expect
      .poll(async () => {
        if ((await page.locator("#failed-rows tr").count()) === 0)
          await page.getByRole("button", { name: "Refresh" }).click();
        return page.locator("#failed-rows tr").count();
      })
      .toBe(1);
    const rows = await page.locator("#failed-rows tr").allTextContents();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatch(/^home127\.0\.0\.11/);
  });
});

describe("a page of another local origin", () => {
  let other: Server;
  let otherOrigin: string;
  beforeAll(async () => {
    other = createServer((_req, res) => {
      res.setHeader("Content-Type", "text/html");
      res.end("<!doctype html><title>another origin</title><p>hello</p>");
    });
    await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve));
    otherOrigin = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => other.close(resolve));
  });

  it("cannot read the API, post to it, or make the browser send an update, with the session", async () => {
    const page = await loggedIn();
    const before = JSON.stringify(ep.sim.liveRecords(ZONE));
    await page.goto(`${otherOrigin}/`);
    // Same host, another port: same-site, so a SameSite=Strict cookie goes along. Only the
    // Worker's own checks stand between this page and the data.
    const worker = ep.url;
    const sentBefore = tests().length;
    const tried = await page.evaluate(async (w) => {
      const out: Record<string, string> = {};
      try {
        const r = await fetch(`${w}/status`, {
          credentials: "include",
          headers: { Accept: "application/json" },
        });
        out.read = `read ${r.status} ${await r.text()}`;
      } catch (error) {
        out.read = `blocked: ${(error as Error).name}`;
      }
      for (const path of ["/status/notify-test", "/status/logout"]) {
        try {
          await fetch(`${w}${path}`, { method: "POST", mode: "no-cors", credentials: "include" });
          out[path] = "sent";
        } catch (error) {
          out[path] = `blocked: ${(error as Error).name}`;
        }
      }
      return out;
    }, worker);
    expect(tried.read).toBe("blocked: TypeError");
    // A form the page submits: the browser navigates, with the cookie, to the update URL.
    await page.evaluate((w) => {
      const form = document.createElement("form");
      form.method = "POST";
      form.action = `${w}/nic/update?hostname=firewall.example.tld&myip=203.0.113.66`;
      document.body.append(form);
      form.submit();
    }, worker);
    await page.waitForURL(/\/nic\/update/);
    expect(await page.textContent("body")).toMatch(/^badrequest: a request from another web site is refused/);
    expect(JSON.stringify(ep.sim.liveRecords(ZONE))).toBe(before);
    // The no-cors POST to /status/notify-test sent nothing.
    expect(tests().length).toBe(sentBefore);

    // The session still works on the page's own origin: the log-out attempt did nothing.
    await page.goto(`${ep.url}/status`);
    await page.getByRole("button", { name: "Log out" }).waitFor();
  });
});

describe("a host that stops reporting", () => {
  it("shows stale, with what to check", async () => {
    const page = await loggedIn({ user: "cellar", password: CELLAR_PASSWORD });
    const badge = card(page, "cellar.example.tld").locator(".badge");
    // cellar reported once, at the start: the Worker's clock runs past STALE_AFTER since then.
    ep.clock.advance((STALE_AFTER + 1) * 1000);
    await page.getByRole("button", { name: "Refresh" }).click();
    await expect.poll(async () => (await badge.textContent())?.trim(), { timeout: 20_000 }).toMatch(/stale$/);
    expect(await card(page, "cellar.example.tld").locator(".advice").textContent()).toMatch(
      /^No report since/,
    );
    await screenshot(page, "status-stale");
  });
});

describe("what a record and a failure look like", () => {
  it("an unconfirmed record says so, and OVH's raw reason comes after a sentence for a person", async () => {
    const page = await loggedIn({ user: "ops", password: OPS_PASSWORD, width: 360 });
    const vault = card(page, "vault.example.tld");
    expect((await vault.locator(".badge").first().textContent())?.trim()).toMatch(/failing$/);
    expect(await vault.locator(".unconfirmed").textContent()).toBe(
      "unconfirmed A write was sent and OVH has not confirmed it, so what is served is not known: the next report writes it again.",
    );
    expect(await vault.locator(".target").textContent()).toBe("sent, not confirmed");
    const advice = await vault.locator(".advice").textContent();
    expect(advice).toMatch(/^OVH's API failed on its side \(HTTP 500\), so the record was not written\. /);
    expect(advice).not.toContain("/domain/zone/");
    // The detail, one tap away: OVH's own words.
    const detail = vault.locator("details.detail");
    expect(await detail.locator("code").isVisible()).toBe(false);
    await detail.locator("summary").click();
    expect(await detail.locator("code").textContent()).toMatch(
      /OVH POST \/domain\/zone\/example\.tld\/refresh: 500 /,
    );
    await screenshot(page, "status-failing-360");
  });

  it("an IPv6 address wraps only after a colon, never inside a group: a record, a change, a report", async () => {
    const page = await loggedIn({ width: 360 });
    /**
     * The lines an element's text is laid out in once its block is `width` wide (narrower than an
     * address, so that it must wrap): the characters grouped by the top of their box.
     */
    const linesOf = (locator: Locator, width: string) =>
      locator.evaluate((el, w) => {
        const block = el.closest("div, p, li") as HTMLElement;
        block.style.width = w;
        const text = el.textContent ?? "";
        const tops: number[] = [];
        const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
          for (let i = 0; i < (node.textContent ?? "").length; i++) {
            const range = document.createRange();
            range.setStart(node, i);
            range.setEnd(node, i + 1);
            tops.push(Math.round(range.getBoundingClientRect().top));
          }
        }
        const out: string[] = [];
        let line = "";
        tops.forEach((top, i) => {
          if (i > 0 && top > (tops[i - 1] ?? top)) {
            out.push(line);
            line = "";
          }
          line += text[i];
        });
        out.push(line);
        return out;
      }, width);
    const target = card(page, "wg-end.example.tld").locator(".target").first();
    expect(await target.textContent()).toBe("2001:db8:2:210:211:32ff:fe12:3456");
    const change = page
      .locator("#history .changes .to", { hasText: "2001:db8:2:210:211:32ff:fe12:3456" })
      .first();
    const reported = page.locator("#history .entry-meta .addr", { hasText: "2001:db8::1" }).first();
    for (const [what, element] of [
      ["record", target],
      ["change", change],
      ["report", reported],
    ] as const) {
      const lines = await linesOf(element, "9ch");
      expect([what, lines.length > 1]).toEqual([what, true]);
      expect(lines.join("")).toBe(await element.textContent());
      // A line ends at a colon (or at a space or comma between two addresses), never mid-group.
      for (const line of lines.slice(0, -1))
        expect([what, line]).toEqual([what, expect.stringMatching(/[:\s,]$/)]);
    }
  });

  it("the FRITZ!Box's Copy buttons copy one field's value each, never its label", async () => {
    const page = await loggedIn({ clipboard: true });
    const fritzbox = page.locator("details.recipe", { hasText: "FRITZ!Box" });
    const buttons = fritzbox.locator(".copies button");
    // The recipes come from their own request after the hosts: wait for them.
    await expect
      .poll(() => buttons.allTextContents())
      .toEqual(["Copy Update-URL", "Copy Domain name", "Copy Username"]);
    const copied = async (i: number) => {
      await buttons.nth(i).click();
      await expect.poll(() => buttons.nth(i).textContent()).toBe("Copied");
      return page.evaluate(() => navigator.clipboard.readText());
    };
    const url = await copied(0);
    expect(url).toMatch(new RegExp(`^${ep.url.replace(/[.]/g, "\\.")}/nic/update\\?hostname=`));
    expect(url).not.toMatch(/Update-URL|Domain name|Username|\n/);
    expect(await copied(2)).toBe("home");
  });
});

describe("a Worker whose configuration is broken", () => {
  it("says so, names the keys and the commands that say more, at phone width, instead of asking to log in", async () => {
    const broken = await startEndpoint({
      vars: {
        HOSTS: { "nas.example.tld": { zone: ZONE, records: [{ subdomain: "nas", type: "A" }] } },
        CLIENTS: {
          home: {
            password_sha256: await sha256Hex(PASSWORD),
            hosts: ["nas.example.tld", "typo.example.tld"],
          },
        },
      },
      secrets: { SESSION_SECRET },
    });
    try {
      const page = await tab.freshPage({ width: 360, height: 800 });
      await page.goto(`${broken.url}/status`);
      const alert = page.locator("#problem");
      await alert.waitFor();
      const text = (await alert.textContent()) ?? "";
      expect(text).toContain(
        "This Worker cannot log anyone in or take reports: its configuration is invalid and secrets are missing or wrong.",
      );
      expect(await alert.locator(".keys li").allTextContents()).toEqual([
        "CLIENTS",
        "OVH_APPLICATION_KEY",
        "OVH_APPLICATION_SECRET",
        "OVH_CONSUMER_KEY",
      ]);
      expect(text).toContain("npm run check");
      expect(text).toContain("npx wrangler tail --format json");
      expect(text).not.toMatch(/Log in first|typo|home/);
      expect(await page.getByRole("heading", { name: "Log in" }).isVisible()).toBe(false);
      const widths = await page.evaluate(() => ({
        scroll: document.documentElement.scrollWidth,
        client: document.documentElement.clientWidth,
      }));
      expect(widths.scroll).toBeLessThanOrEqual(widths.client);
      await screenshot(page, "status-config-broken-360");
      // Try again asks again, and says the same.
      await page.getByRole("button", { name: "Try again" }).click();
      await alert.locator(".keys").first().waitFor();
    } finally {
      expect(broken.unexpected).toEqual([]);
      await broken.close();
    }
  });
});
