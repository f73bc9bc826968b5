// Who may update: failed logins counted per source network and user name, the cap across user
// names, IPv6 sources per prefix, the guard's storage deleted after its window, the same answer
// for right and wrong passwords while blocked, and updates forged by web pages refused.
//
// Three Workers for the file, one per configuration (workerd takes seconds to start): the tests
// that share one use sources, hosts and addresses of their own, so none depends on another's
// failed logins or records.
import { mkdtemp, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Endpoint, type EndpointOptions, startEndpoint } from "../support/endpoint";
import { HOME_PASSWORD, liveTargets, NEIGHBOUR_PASSWORD, testVars, ZONE } from "../support/fixtures";

const endpoints: Endpoint[] = [];

async function start(settings: Record<string, number>, options: Partial<EndpointOptions> = {}) {
  const ep = await startEndpoint({ vars: { ...(await testVars()), SETTINGS: settings }, ...options });
  ep.sim.addZone(ZONE);
  endpoints.push(ep);
  return ep;
}
afterEach(() => {
  for (const ep of endpoints) expect(ep.unexpected).toEqual([]);
});
afterAll(async () => {
  for (const ep of endpoints.splice(0)) await ep.close();
});

/** The Worker most tests share: auth_fail_limit 3, the rest as configured by default. */
let ep: Endpoint;
beforeAll(async () => {
  ep = await start({ auth_fail_limit: 3 });
});

const from = (ip: string) => ({ "CF-Connecting-IP": ip });
const nas = (ip: string) => ({ hostname: "nas.example.tld", myip: ip });
const other = (ip: string) => ({ hostname: "other.example.tld", myip: ip });
const neighbour = { user: "neighbour", password: NEIGHBOUR_PASSWORD };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The Worker with auth_fail_limit 2, IPv6 sources per /64, a second isolate and the test clock; started once. */
let limitTwo: Promise<Endpoint> | undefined;
const withLimitTwo = () =>
  (limitTwo ??= start(
    { auth_fail_limit: 2, auth_ipv6_prefix: 64, auth_fail_window: 600 },
    { secondIsolate: true, clock: true },
  ));

describe("failed logins per source and user name", () => {
  it("a device with a stale password locks out its own user name, not the household", async () => {
    const stale = { password: "stale-password", headers: from("203.0.113.9") };
    const replies = [];
    for (let i = 0; i < 10; i++) replies.push((await ep.update(nas("198.51.100.1"), stale)).body);
    expect(replies.slice(0, 2)).toEqual(["badauth\n", "badauth\n"]);
    expect(new Set(replies.slice(2))).toEqual(new Set(["abuse\n"]));

    // Another client behind the same address still updates and reads its status.
    expect((await ep.update(other("2001:db8::9"), { ...neighbour, headers: from("203.0.113.9") })).body).toBe(
      "good 2001:db8::9\n",
    );
    const status = await ep.fetch("/status", {
      headers: { ...from("203.0.113.9"), Authorization: `Basic ${btoa(`neighbour:${NEIGHBOUR_PASSWORD}`)}` },
    });
    expect(status.status).toBe(200);
    // The locked user name is refused there, right password or not.
    expect((await ep.update(nas("198.51.100.1"), { headers: from("203.0.113.9") })).body).toBe("abuse\n");
  });

  it("guessing many user names from one source is stopped by a cap of 3 × the limit", async () => {
    const guess = (user: string) =>
      ep.update(nas("198.51.100.1"), { user, password: "guess", headers: from("203.0.113.19") });
    // Two failures for each of four names: no name reaches the limit, the source is under the cap.
    for (const user of ["admin", "root", "fritz", "router"])
      for (let i = 0; i < 2; i++) expect((await guess(user)).body).toBe("badauth\n");
    const mine = other("2001:db8::19");
    expect((await ep.update(mine, { ...neighbour, headers: from("203.0.113.19") })).body).toBe(
      "good 2001:db8::19\n",
    );
    // The ninth failure reaches the cap: every user name at that source is refused.
    expect((await guess("nas")).body).toBe("abuse\n");
    expect((await ep.update(mine, { ...neighbour, headers: from("203.0.113.19") })).body).toBe("abuse\n");
    expect((await ep.update(mine, { ...neighbour, headers: from("203.0.113.20") })).body).toBe(
      "nochg 2001:db8::19\n",
    );
  });

  it("the 401 log line names the user name that failed, never the password", async () => {
    const mark = ep.logs.length;
    const reply = await ep.update(nas("198.51.100.1"), {
      password: "not-the-password-42",
      headers: from("203.0.113.29"),
    });
    expect(reply.status).toBe(401);
    await ep.flushLogs();
    const line = ep.logs
      .slice(mark)
      .find((l) => l.includes('"event":"update"') && l.includes('"status":401'));
    expect(line).toContain('\\"home\\"');
    expect(ep.logs.join("\n")).not.toContain("not-the-password-42");
  });
});

describe("IPv6 sources", () => {
  it("count per /56: a home rotating through its /64s is one source", async () => {
    const bodies = [];
    for (const subnet of ["1", "2", "3", "4"])
      bodies.push(
        (
          await ep.update(nas("198.51.100.1"), {
            password: "guess",
            headers: from(`2001:db8:0:${subnet}::1`),
          })
        ).body,
      );
    expect(bodies).toEqual(["badauth\n", "badauth\n", "abuse\n", "abuse\n"]);
    // Another /56 is another source.
    expect((await ep.update(nas("198.51.100.4"), { headers: from("2001:db8:0:100::1") })).body).toBe(
      "good 198.51.100.4\n",
    );
  });

  it("auth_ipv6_prefix sets the length", async () => {
    const ep = await withLimitTwo();
    for (const subnet of ["1", "2", "3"])
      expect(
        (
          await ep.update(nas("198.51.100.1"), {
            password: "guess",
            headers: from(`2001:db8:0:${subnet}::1`),
          })
        ).body,
      ).toBe("badauth\n");
  });
});

describe("the guard's storage", () => {
  /** The tables each AuthGuard's SQLite file holds (workerd's own _cf_ tables left out). */
  async function guardTables(dir: string): Promise<string[][]> {
    // workerd may hold a write lock on a file for a moment: read again until it lets go (bounded).
    for (let tries = 0; ; tries++) {
      try {
        return await readGuardTables(dir);
      } catch (error) {
        if (tries >= 100 || !/database is locked/.test(String(error))) throw error;
        await sleep(20);
      }
    }
  }

  async function readGuardTables(dir: string): Promise<string[][]> {
    const folder = join(dir, "first-AuthGuard");
    const files = (await readdir(folder)).filter((f) => f.endsWith(".sqlite") && f !== "metadata.sqlite");
    return files.map((f) => {
      const db = new DatabaseSync(join(folder, f), { readOnly: true });
      try {
        return db
          .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\'",
          )
          .all()
          .map((r) => String(r.name));
      } finally {
        db.close();
      }
    });
  }

  it("is deleted once the window of its last failure has passed; a clean login leaves none", async () => {
    const dir = await mkdtemp(join(tmpdir(), "guards-"));
    // The window as configured by default (600 s), passed on the Worker's clock; each guard's
    // alarm is then run as workerd runs a due one.
    const ep = await start({ auth_fail_limit: 5 }, { persist: dir, clock: true });
    const guards = [0, 1, 2, 3].map((i) => `203.0.113.${i}`);
    for (let i = 0; i < 4; i++)
      expect(
        (await ep.update(nas("198.51.100.1"), { password: "guess", headers: from(`203.0.113.${i}`) })).body,
      ).toBe("badauth\n");
    expect((await ep.update(nas("198.51.100.1"), { headers: from("203.0.113.50") })).body).toBe(
      "good 198.51.100.1\n",
    );
    // The sources' guards, apart from the client's list of its failed logins (kept a day, for its status).
    const sources = (tables: string[][]) =>
      tables.filter((t) => t.length > 0 && !t.includes("user_failures"));
    const during = await guardTables(dir);
    expect(sources(during)).toHaveLength(4);
    expect(during.filter((t) => t.includes("user_failures"))).toHaveLength(1);

    // An alarm run before the window has passed keeps the guard, and comes again at its end.
    const early = await ep.fireAlarm(guards[0] as string, "GUARD");
    expect(early).toBeGreaterThan(ep.clock.now());
    expect(sources(await guardTables(dir))).toHaveLength(4);

    // Once it has passed, each source's alarm, set for then, deletes its guard (the client's
    // list stays).
    ep.clock.advance(600_000);
    for (const guard of guards) {
      const due = await ep.fireAlarm(guard, "GUARD");
      expect(due).not.toBeNull();
      expect(due).toBeLessThanOrEqual(ep.clock.now());
    }
    const after = await guardTables(dir);
    expect(after.length).toBeGreaterThanOrEqual(4);
    expect(sources(after)).toEqual([]);
    // A source that fails again starts over.
    expect(
      (await ep.update(nas("198.51.100.1"), { password: "guess", headers: from("203.0.113.0") })).body,
    ).toBe("badauth\n");
  });
});

describe("while blocked", () => {
  it("a right and a wrong password get the same answer and the same Retry-After", async () => {
    const ep = await withLimitTwo();
    const source = from("203.0.113.9");
    const wrong = { password: "guess", headers: source };
    expect((await ep.update(nas("198.51.100.1"), { ...wrong, isolate: 1 })).body).toBe("badauth\n");
    ep.clock.advance(1100); // so the two failures lie in different seconds
    expect((await ep.update(nas("198.51.100.1"), { ...wrong, isolate: 2 })).body).toBe("abuse\n");

    const right = await ep.update(nas("198.51.100.1"), { headers: source, isolate: 2 });
    const wrongAgain = await ep.update(nas("198.51.100.1"), { ...wrong, isolate: 1 });
    expect({ status: wrongAgain.status, body: wrongAgain.body }).toEqual({
      status: right.status,
      body: right.body,
    });
    expect(right.status).toBe(429);
    // Asked later, the wrong one may only be as long or shorter: it did not extend the block.
    expect(Number(wrongAgain.headers.get("Retry-After"))).toBeLessThanOrEqual(
      Number(right.headers.get("Retry-After")),
    );
  });
});

describe("updates forged by a web page", () => {
  const basic = { Authorization: `Basic ${btoa(`home:${HOME_PASSWORD}`)}` };
  const forged =
    "badrequest: a request from another web site is refused; updates come from dyndns clients, not from web pages\n";

  it.each([
    ["Sec-Fetch-Site: cross-site", { "Sec-Fetch-Site": "cross-site" }],
    ["Sec-Fetch-Site: same-site", { "Sec-Fetch-Site": "same-site" }],
    ["Origin of another site", { Origin: "https://attacker.example" }],
    ["Origin null (a sandboxed frame)", { Origin: "null" }],
  ])("%s: refused, nothing written", async (_name, headers) => {
    const before = JSON.stringify(ep.sim.liveRecords(ZONE));
    for (const method of ["GET", "POST"] as const) {
      const reply = await ep.update(nas("198.51.100.66"), { headers, method });
      expect({ status: reply.status, body: reply.body }).toEqual({ status: 400, body: forged });
    }
    const form = await ep.fetch("/nic/update", {
      method: "POST",
      headers: { ...basic, ...headers, "Content-Type": "application/x-www-form-urlencoded" },
      body: "hostname=nas.example.tld&myip=198.51.100.66",
    });
    expect(form.status).toBe(400);
    expect(liveTargets(ep.sim, "A", "nas")).not.toContain("198.51.100.66");
    expect(JSON.stringify(ep.sim.liveRecords(ZONE))).toBe(before);
  });

  it("a forged request with wrong credentials is not a failed login", async () => {
    // As many as auth_fail_limit (3): counted, they would block the source.
    for (let i = 0; i < 3; i++) {
      const reply = await ep.update(nas("198.51.100.39"), {
        password: "guess",
        headers: { ...from("203.0.113.39"), "Sec-Fetch-Site": "cross-site" },
      });
      expect(reply.status).toBe(400);
    }
    expect((await ep.update(nas("198.51.100.39"), { headers: from("203.0.113.39") })).body).toBe(
      "good 198.51.100.39\n",
    );
  });

  it("the same origin, a typed URL (none), and clients that send neither header still update", async () => {
    expect((await ep.update(nas("198.51.100.71"))).body).toBe("good 198.51.100.71\n");
    expect((await ep.update(nas("198.51.100.72"), { headers: { "Sec-Fetch-Site": "none" } })).body).toBe(
      "good 198.51.100.72\n",
    );
    expect(
      (
        await ep.update(nas("198.51.100.73"), {
          headers: { "Sec-Fetch-Site": "same-origin", Origin: ep.url },
        })
      ).body,
    ).toBe("good 198.51.100.73\n");
  });
});
