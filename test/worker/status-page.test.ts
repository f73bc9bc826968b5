// The status page over HTTP: what a browser navigation gets, the login form and its session
// cookie, log-out, the admin view, and the origin checks that keep other pages out. The page's
// own behaviour in a real browser is test/browser/page.test.ts.

import { readdir } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Endpoint, OVH_SECRETS, ROOT, startEndpoint } from "../support/endpoint";
import { HOME_PASSWORD, NEIGHBOUR_PASSWORD, SESSION_SECRET, testVars, ZONE } from "../support/fixtures";

const OVH = OVH_SECRETS;

let ep: Endpoint;
let origin: string;

/** Headers a browser sends with a same-origin fetch or form POST from the page. */
const fromPage = () => ({
  Origin: origin,
  "Sec-Fetch-Site": "same-origin",
  "Sec-Fetch-Mode": "cors",
  "Sec-Fetch-Dest": "empty",
});
/** The same from a page of another origin (another port of the same host: same-site, not same-origin). */
const fromOtherPage = () => ({
  Origin: "http://127.0.0.1:1",
  "Sec-Fetch-Site": "same-site",
  "Sec-Fetch-Mode": "cors",
});

/**
 * A GET with exactly these headers. Node's fetch adds Sec-Fetch-Mode (it is a browser's fetch),
 * so what curl or a browser's navigation sends is spelled out here.
 */
function raw(path: string, headers: Record<string, string>, method = "GET", body = "") {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
    (resolve, reject) => {
      const req = httpRequest(`${ep.url}${path}`, { method, headers }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk) => {
          body += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on("error", reject);
      req.end(body);
    },
  );
}

async function login(user: string, password: string, headers: Record<string, string> = fromPage()) {
  return ep.fetch("/status/login", {
    method: "POST",
    headers: { ...headers, "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ username: user, password }),
  });
}

/** The name=value part of a Set-Cookie header. */
function cookieOf(response: Response): string {
  return (response.headers.get("Set-Cookie") ?? "").split(";")[0] ?? "";
}

async function status(cookie: string, headers: Record<string, string> = fromPage()) {
  return ep.fetch("/status", { headers: { ...headers, Accept: "application/json", Cookie: cookie } });
}

beforeAll(async () => {
  const vars = await testVars();
  const clients = vars.CLIENTS as Record<string, object>;
  vars.CLIENTS = {
    ...clients,
    owner: { ...(clients.neighbour as object), admin: true },
  };
  ep = await startEndpoint({
    vars: { ...vars, SETTINGS: { auth_fail_limit: 3 } },
    secrets: { ...OVH, SESSION_SECRET },
  });
  origin = ep.url;
  ep.sim.addZone(ZONE);
  await ep.update({ hostname: "service.example.tld", myip: "2001:db8::1" });
});
afterAll(async () => {
  expect(ep.unexpected).toEqual([]);
  await ep.close();
});

describe("a browser opening /status", () => {
  it("gets the page, with no data in it and no Basic challenge, even with credentials", async () => {
    const r = await raw("/status", {
      Accept: "text/html,application/xhtml+xml",
      "Sec-Fetch-Dest": "document",
      "Sec-Fetch-Mode": "navigate",
      "Sec-Fetch-Site": "none",
      Authorization: `Basic ${btoa(`home:${HOME_PASSWORD}`)}`,
    });
    expect(r.status).toBe(200);
    expect(r.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(r.headers["www-authenticate"]).toBeUndefined();
    expect(r.headers["content-security-policy"]).toContain("frame-ancestors 'none'");
    expect(r.headers["content-security-policy"]).toContain("script-src 'self'");
    const html = r.body;
    expect(html).toContain('<form id="login-form"');
    expect(html).not.toContain("service.example.tld");
  });

  it("serves the page's script and style as static assets", async () => {
    for (const [path, type] of [
      ["/status/page.js", "javascript"],
      ["/status/page.css", "text/css"],
    ] as const) {
      const r = await ep.fetch(path);
      expect(r.status).toBe(200);
      expect(r.headers.get("Content-Type")).toContain(type);
    }
  });

  it("every static file, /status/index.html too, is sent with the headers that forbid framing it", async () => {
    const files = (await readdir(join(ROOT, "public"), { recursive: true, withFileTypes: true }))
      .filter((f) => f.isFile() && f.name !== "_headers")
      .map((f) => `/${relative(join(ROOT, "public"), join(f.parentPath, f.name))}`);
    expect(files).toContain("/status/index.html");
    for (const path of files) {
      const r = await ep.fetch(path);
      expect([path, r.status]).toEqual([path, 200]);
      expect([path, r.headers.get("X-Frame-Options")]).toEqual([path, "DENY"]);
      expect(r.headers.get("Content-Security-Policy")).toContain("frame-ancestors 'none'");
      expect(r.headers.get("X-Content-Type-Options")).toBe("nosniff");
      await r.body?.cancel();
    }
    // The headers file itself is the assets layer's configuration, not a file it serves.
    const headersFile = await ep.fetch("/_headers");
    expect(await headersFile.text()).not.toContain("X-Frame-Options");
  });

  it("a script's fetch without a session gets JSON 401 and no challenge; curl still gets badauth with one", async () => {
    const browser = await ep.fetch("/status", { headers: { ...fromPage(), Accept: "application/json" } });
    expect(browser.status).toBe(401);
    expect(browser.headers.get("WWW-Authenticate")).toBeNull();
    expect(await browser.json()).toEqual({ error: "Log in first." });
    const curl = await raw("/status", { Accept: "*/*", "User-Agent": "curl/8.5.0" });
    expect(curl.status).toBe(401);
    expect(curl.body).toBe("badauth\n");
    expect(curl.headers["www-authenticate"]).toMatch(/^Basic/);
  });

  it("an update sent by a browser is never answered with a Basic challenge", async () => {
    const r = await ep.fetch("/nic/update?hostname=service.example.tld&myip=2001:db8::7", {
      headers: {
        "Sec-Fetch-Dest": "document",
        "Sec-Fetch-Mode": "navigate",
        "Sec-Fetch-Site": "none",
        Accept: "text/html",
      },
    });
    expect(r.status).toBe(401);
    expect(r.headers.get("WWW-Authenticate")).toBeNull();
  });
});

describe("logging in", () => {
  it("the right password gives an HttpOnly, SameSite=Strict cookie for 12 hours that reads the JSON", async () => {
    const r = await login("home", HOME_PASSWORD, { ...fromPage(), "CF-Connecting-IP": "203.0.113.50" });
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ client: "home" });
    const setCookie = r.headers.get("Set-Cookie") ?? "";
    expect(setCookie).toMatch(/^session=\d{13}\.[0-9a-f]{64}\.home; /);
    expect(setCookie).toContain("HttpOnly");
    expect(setCookie).toContain("SameSite=Strict");
    expect(setCookie).toContain("Max-Age=43200");
    expect(setCookie).toContain("Path=/");
    expect(setCookie).not.toContain("Secure"); // loopback over plain HTTP; Secure elsewhere (unit test)
    const s = await status(cookieOf(r));
    expect(s.status).toBe(200);
    expect(s.headers.get("Cross-Origin-Resource-Policy")).toBe("same-origin");
    const report = (await s.json()) as { client: string; hosts: { name: string }[] };
    expect(report.client).toBe("home");
    expect(report.hosts.map((h) => h.name)).toContain("service.example.tld");
    expect(report.hosts.map((h) => h.name)).not.toContain("other.example.tld");
  });

  it("away from loopback the cookie is Secure and __Host- (this host only, never over plain HTTP)", async () => {
    const host = "dyndns.example.tld";
    const r = await raw(
      "/status/login",
      {
        Host: host,
        Origin: `http://${host}`,
        "Content-Type": "application/x-www-form-urlencoded",
      },
      "POST",
      new URLSearchParams({ username: "home", password: HOME_PASSWORD }).toString(),
    );
    expect(r.status).toBe(200);
    const [setCookie] = r.headers["set-cookie"] as string[];
    expect(setCookie).toMatch(/^__Host-session=\d{13}\.[0-9a-f]{64}\.home; Path=\/; /);
    expect(setCookie).toMatch(/; HttpOnly; SameSite=Strict; Secure$/);
  });

  it("a wrong password is an error, counted like any failed login until the network is refused", async () => {
    const from = { ...fromPage(), "CF-Connecting-IP": "203.0.113.51" };
    for (let i = 0; i < 2; i++) {
      const r = await login("home", "wrong", from);
      expect(r.status).toBe(401);
      expect(r.headers.get("Set-Cookie")).toBeNull();
      expect(await r.json()).toEqual({ error: "Wrong client name or password." });
    }
    expect((await login("home", "wrong", from)).status).toBe(429);
    const right = await login("home", HOME_PASSWORD, from);
    expect(right.status).toBe(429);
    expect(((await right.json()) as { error: string }).error).toMatch(/^Too many failed logins/);
    expect(right.headers.get("Set-Cookie")).toBeNull();
    // The same guard refuses the network's router too.
    const update = await ep.update(
      { hostname: "service.example.tld", myip: "2001:db8::1" },
      { headers: { "CF-Connecting-IP": "203.0.113.51" } },
    );
    expect(update.body).toBe("abuse\n");
  });

  it("a login form posted from another origin is refused and not even counted", async () => {
    const from = { ...fromOtherPage(), "CF-Connecting-IP": "203.0.113.52" };
    for (let i = 0; i < 4; i++) {
      const r = await login("home", HOME_PASSWORD, from);
      expect(r.status).toBe(403);
      expect(r.headers.get("Set-Cookie")).toBeNull();
    }
    const noBrowser = await login("home", HOME_PASSWORD, { "CF-Connecting-IP": "203.0.113.52" });
    expect(noBrowser.status).toBe(403);
    expect(
      (await login("home", HOME_PASSWORD, { ...fromPage(), "CF-Connecting-IP": "203.0.113.52" })).status,
    ).toBe(200);
  });

  it("a forged or altered cookie is no session", async () => {
    const good = cookieOf(await login("home", HOME_PASSWORD));
    const [, issued, mac] = /^session=(\d+)\.([0-9a-f]+)\.home$/.exec(good) ?? [];
    const forged = [
      `session=${issued}.${mac}.neighbour`,
      `session=${issued}.${"0".repeat(64)}.home`,
      `session=${Number(issued) + 1}.${mac}.home`,
      `session=${Date.now() - 13 * 3600 * 1000}.${mac}.home`,
      "session=garbage",
    ];
    for (const cookie of forged) {
      const r = await status(cookie);
      expect(r.status).toBe(401);
      expect(await r.json()).toEqual({ error: "Your session has ended; log in again." });
    }
  });
});

describe("log-out", () => {
  it("clears the cookie and ends the session for good, and every other session of the client", async () => {
    const first = cookieOf(await login("home", HOME_PASSWORD));
    const second = cookieOf(await login("home", HOME_PASSWORD));
    expect((await status(first)).status).toBe(200);
    const out = await ep.fetch("/status/logout", {
      method: "POST",
      headers: { ...fromPage(), Cookie: first },
    });
    expect(out.status).toBe(200);
    expect(out.headers.get("Set-Cookie")).toMatch(/^session=; Path=\/; Max-Age=0;/);
    expect((await status(first)).status).toBe(401);
    expect((await status(second)).status).toBe(401);
    const again = cookieOf(await login("home", HOME_PASSWORD));
    expect((await status(again)).status).toBe(200);
  });

  it("another origin cannot log the client out", async () => {
    const cookie = cookieOf(await login("home", HOME_PASSWORD));
    const out = await ep.fetch("/status/logout", {
      method: "POST",
      headers: { ...fromOtherPage(), Cookie: cookie },
    });
    expect(out.status).toBe(403);
    expect((await status(cookie)).status).toBe(200);
  });
});

describe("other origins", () => {
  it("cannot read the API with the session", async () => {
    const cookie = cookieOf(await login("home", HOME_PASSWORD));
    for (const site of ["same-site", "cross-site"]) {
      const r = await status(cookie, {
        Origin: "http://127.0.0.1:1",
        "Sec-Fetch-Site": site,
        "Sec-Fetch-Mode": "cors",
      });
      expect(r.status).toBe(403);
      expect(r.headers.get("Access-Control-Allow-Origin")).toBeNull();
      expect(await r.text()).not.toContain("service.example.tld");
    }
  });

  it("cannot make a browser send an update, even one with credentials", async () => {
    const before = ep.sim.liveRecords(ZONE).map((r) => r.target);
    const r = await ep.fetch("/nic/update?hostname=service.example.tld&myip=2001:db8::66", {
      headers: {
        "Sec-Fetch-Site": "cross-site",
        "Sec-Fetch-Mode": "no-cors",
        Authorization: `Basic ${btoa(`home:${HOME_PASSWORD}`)}`,
      },
    });
    expect(r.status).toBe(400);
    expect(await r.text()).toMatch(/^badrequest: a request from another web site is refused/);
    expect(ep.sim.liveRecords(ZONE).map((r) => r.target)).toEqual(before);
  });
});

describe("who sees what", () => {
  it("an admin client sees every host; the others see their own", async () => {
    const owner = await status(cookieOf(await login("owner", NEIGHBOUR_PASSWORD)));
    const all = (await owner.json()) as {
      hosts: { name: string }[];
      history: { host: string; client: string; source: string | null }[];
    };
    expect(all.hosts.map((h) => h.name)).toEqual(Object.keys((await testVars()).HOSTS as object).sort());
    // The owner of every host also sees where the other clients' reports came from.
    expect(all.history.find((e) => e.host === "service.example.tld")).toMatchObject({
      client: "home",
      source: "127.0.0.1",
    });
    const neighbour = await status(cookieOf(await login("neighbour", NEIGHBOUR_PASSWORD)));
    expect(((await neighbour.json()) as { hosts: { name: string }[] }).hosts.map((h) => h.name)).toEqual([
      "other.example.tld",
    ]);
  });

  it("an admin still reports only for the hosts it lists", async () => {
    const r = await ep.update(
      { hostname: "service.example.tld", myip: "2001:db8::99" },
      { user: "owner", password: NEIGHBOUR_PASSWORD },
    );
    expect(r.body).toBe("nohost\n");
  });
});

describe("setup help", () => {
  it("gives the logged-in client's recipes with this Worker's URL and the password as a placeholder", async () => {
    const cookie = cookieOf(await login("neighbour", NEIGHBOUR_PASSWORD));
    const r = await ep.fetch("/status/setup", { headers: { ...fromPage(), Cookie: cookie } });
    expect(r.status).toBe(200);
    const { client, recipes } = (await r.json()) as {
      client: string;
      recipes: { id: string; text: string }[];
    };
    expect(client).toBe("neighbour");
    expect(recipes.map((x) => x.id)).toEqual(["fritzbox", "ddclient", "inadyn", "client-conf"]);
    const text = (id: string) => recipes.find((x) => x.id === id)?.text ?? "";
    expect(text("fritzbox")).toContain(
      `Update-URL:   ${origin}/nic/update?hostname=<domain>&myipv6=<ip6addr>`,
    );
    expect(text("fritzbox")).toContain("Password:     <password>");
    expect(text("ddclient")).toContain("password='<password>'\n");
    expect(text("ddclient")).toContain("\nother.example.tld");
    expect(text("inadyn")).toContain("hostname    = { other.example.tld }");
    expect(text("client-conf")).toContain(
      `ENDPOINT=${origin}/nic/update\nUSERNAME=neighbour\nPASSWORD=<password>`,
    );
    // Only the client's own host is in them.
    expect(JSON.stringify(recipes)).not.toMatch(/service\.|wg-end|nas\.example|firewall/);
    expect(JSON.stringify(recipes)).not.toContain(NEIGHBOUR_PASSWORD);
  });

  it("is for logged-in clients only", async () => {
    const r = await ep.fetch("/status/setup", { headers: { ...fromPage(), Accept: "application/json" } });
    expect(r.status).toBe(401);
  });
});

describe("without SESSION_SECRET", () => {
  it("logging in says it is not set up, and updates work as before", async () => {
    const bare = await startEndpoint({ vars: await testVars(), secrets: OVH });
    try {
      bare.sim.addZone(ZONE);
      const r = await bare.fetch("/status/login", {
        method: "POST",
        headers: { Origin: bare.url, "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ username: "home", password: HOME_PASSWORD }),
      });
      expect(r.status).toBe(503);
      expect(await r.json()).toEqual({
        error: "Logging in is not set up yet: the Worker has no SESSION_SECRET.",
      });
      expect((await bare.update({ hostname: "service.example.tld", myip: "2001:db8::1" })).body).toBe(
        "good 2001:db8::1\n",
      );
    } finally {
      expect(bare.unexpected).toEqual([]);
      await bare.close();
    }
  });
});

describe("a Worker with an invalid configuration and missing secrets", () => {
  it("tells the page which keys are wrong and which secrets are missing, never a value", async () => {
    const vars = await testVars();
    (vars.CLIENTS as Record<string, { hosts: string[] }>).home?.hosts.push("typo.example.tld");
    const broken = await startEndpoint({ vars, secrets: { SESSION_SECRET } });
    try {
      const r = await broken.fetch("/status", {
        headers: {
          Origin: broken.url,
          "Sec-Fetch-Site": "same-origin",
          "Sec-Fetch-Mode": "cors",
          Accept: "application/json",
        },
      });
      expect(r.status).toBe(503);
      const body = await r.text();
      expect(JSON.parse(body)).toEqual({
        error:
          "This Worker cannot log anyone in or take reports: its configuration is invalid and secrets are missing or wrong.",
        configuration: {
          invalid: ["CLIENTS"],
          secrets: ["OVH_APPLICATION_KEY", "OVH_APPLICATION_SECRET", "OVH_CONSUMER_KEY"],
        },
      });
      expect(body).not.toMatch(/typo|home/);
      // A script still gets dyndns2's answer.
      expect((await broken.update({ hostname: "service.example.tld", myip: "198.51.100.1" })).body).toBe(
        "911\n",
      );
    } finally {
      expect(broken.unexpected).toEqual([]);
      await broken.close();
    }
  });
});
