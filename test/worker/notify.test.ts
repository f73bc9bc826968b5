// Notifications end to end: the Worker in workerd sends each event to every NOTIFY_URLS target;
// local receivers stand in for ntfy, Gotify, Discord, Slack, Telegram and a webhook (their real
// origins are mapped to the receivers in the test harness only) and check the exact request each
// service's API expects. The dyndns2 reply never changes or waits for a delivery.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Endpoint, type EndpointOptions, OVH_SECRETS, startEndpoint } from "../support/endpoint";
import { HOME_PASSWORD, liveTargets, NEIGHBOUR_PASSWORD, testVars } from "../support/fixtures";
import { type Received, type Receiver, startReceiver } from "../support/receivers";
import { sharedWorkers } from "../support/slots";

const TOKENS = {
  ntfy: "ntfy-pass-4711",
  gotify: "AzyoeNS.D4iJLVa",
  discord: "discord-token-0815",
  slack: "XXXXXXXXXXXXXXXXXXXXXXXX",
  telegram: "110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
  generic: "generic-bearer-1234",
};
const SERVICES = ["ntfy", "gotify", "discord", "slack", "telegram", "generic", "local"] as const;
type ServiceName = (typeof SERVICES)[number];

let ep: Endpoint;
/** This test's zone (example.tld in the fixtures) and its own Worker, if it has one. */
let zone = "example.tld";
let own: Endpoint | undefined;
const host = (name: string) => `${name}.${zone}`;
const escaped = (name: string) => name.replaceAll(".", "\\.");
const rx = {} as Record<ServiceName, Receiver>;

function notifyUrls(): string {
  return [
    `ntfy://dyndns:${TOKENS.ntfy}@ntfy.sh/home-dns`,
    `gotify://gotify.example.net/${TOKENS.gotify}`,
    `discord://${TOKENS.discord}@123456789012345678`,
    `slack://hook:T00000000-B00000000-${TOKENS.slack}@webhook`,
    `telegram://${TOKENS.telegram}@telegram?chats=@homelab,-100123`,
    `generic+https://hooks.example.net/dyndns?@Authorization=Bearer+${TOKENS.generic}`,
    `generic+http://${new URL(rx.local.origin).host}/local`,
  ].join("\n");
}

/** A Worker with every target (and `extraUrl`), the receivers standing in for the services. */
function options(vars: Record<string, unknown>, extraUrl = ""): EndpointOptions {
  return {
    vars,
    secrets: { ...OVH_SECRETS, NOTIFY_URLS: `${notifyUrls()} ${extraUrl}` },
    receivers: {
      "https://ntfy.sh": rx.ntfy.origin,
      "https://gotify.example.net": rx.gotify.origin,
      "https://discord.com": rx.discord.origin,
      "https://hooks.slack.com": rx.slack.origin,
      "https://api.telegram.org": rx.telegram.origin,
      "https://hooks.example.net": rx.generic.origin,
      [rx.local.origin]: rx.local.origin,
    },
    clock: true,
  };
}

/** Home as an admin client (it may see the test message's details). */
function withAdmin(vars: Record<string, unknown>): Record<string, unknown> {
  const clients = vars.CLIENTS as Record<string, object>;
  return { ...vars, CLIENTS: { ...clients, home: { ...clients.home, admin: true } } };
}

/** A Worker of this test's own (its configuration differs from every other test's). */
async function fresh(vars: Record<string, unknown>, extraUrl = ""): Promise<void> {
  own = await startEndpoint(options(vars, extraUrl));
  ep = own;
  zone = "example.tld";
  ep.sim.addZone(zone);
}

/**
 * The tests with the default configuration share a Worker (home an admin client in it), each with a
 * zone of its own (test/support/slots.ts); what the receivers got is filtered down to its hosts.
 */
const useShared = sharedWorkers(12);
function shared(): void {
  useShared(
    "default",
    (vars) => options(withAdmin(vars)),
    (slot) => {
      ({ ep, zone } = slot);
    },
  );
}

beforeAll(async () => {
  for (const name of SERVICES) rx[name] = await startReceiver();
});
afterAll(async () => {
  await Promise.all(Object.values(rx).map((r) => r.close()));
});
beforeEach(() => {
  for (const r of Object.values(rx)) {
    r.requests.length = 0;
    r.answer(200);
  }
});
afterEach(async () => {
  expect(ep.unexpected).toEqual([]);
  // No token in any log line (the harness also checks the whole NOTIFY_URLS value).
  for (const token of Object.values(TOKENS)) expect(ep.logs.join("\n")).not.toContain(token);
  await own?.close();
  own = undefined;
});

/** What `r` got about this test's hosts (a shared Worker's other tests may still deliver theirs). */
const ours = (r: Receiver): Received[] => r.requests.filter((q) => q.body.includes(`.${zone}`));
/** Wait until `r` has `n` requests about this test's hosts; those. */
async function oursAfter(r: Receiver, n: number): Promise<Received[]> {
  await expect.poll(() => ours(r).length, { timeout: 10_000, interval: 25 }).toBeGreaterThanOrEqual(n);
  return ours(r);
}

/** The generic webhook's messages about this test's hosts so far, as JSON. */
const webhook = () =>
  ours(rx.generic).map(
    (r) => JSON.parse(r.body) as { event: string; host?: string; message: string; at: string },
  );
const eventsOf = (r: Receiver) => r.requests.map((q) => (JSON.parse(q.body) as { event: string }).event);

/** Wait until the webhook has `n` messages (deliveries run after the reply). */
const messages = async (n: number) => {
  await oursAfter(rx.generic, n);
  return webhook();
};

async function runCheck(at = Date.now()): Promise<void> {
  const worker = await ep.mf.getWorker();
  expect((await worker.scheduled({ scheduledTime: new Date(at), cron: "*/15 * * * *" })).outcome).toBe("ok");
}

/** The message of service's first report (service and service6 are written). */
const change = () =>
  `${host("service")}: AAAA ${host("service")}: (new) -> 2001:db8::1, AAAA ${host("service6")}: (new) -> 2001:db8::1`;

describe("a change notifies every service with the request its API expects", () => {
  shared();

  it("ntfy, Gotify, Discord, Slack, Telegram and the webhooks each get one message", async () => {
    const reply = await ep.update({ hostname: host("service"), myipv6: "2001:db8::1" });
    expect(reply.body).toBe("good 2001:db8::1\n");
    const CHANGE = change();

    const only = async (r: Receiver, n = 1): Promise<Received[]> => {
      const got = await oursAfter(r, n);
      expect(got).toHaveLength(n);
      return got;
    };
    const [ntfy] = await only(rx.ntfy);
    expect(ntfy).toMatchObject({
      method: "POST",
      path: "/home-dns",
      headers: {
        "content-type": "text/plain; charset=utf-8",
        title: `DynDNS changed: ${host("service")}`,
        tags: "changed",
        authorization: `Basic ${btoa(`dyndns:${TOKENS.ntfy}`)}`,
      },
      body: CHANGE,
    });

    const [gotify] = await only(rx.gotify);
    expect(gotify).toMatchObject({
      method: "POST",
      path: "/message",
      headers: { "content-type": "application/json", "x-gotify-key": TOKENS.gotify },
    });
    expect(JSON.parse(gotify?.body ?? "")).toEqual({
      title: `DynDNS changed: ${host("service")}`,
      message: CHANGE,
      priority: 5,
    });

    const [discord] = await only(rx.discord);
    expect(discord).toMatchObject({
      method: "POST",
      path: `/api/webhooks/123456789012345678/${TOKENS.discord}`,
      headers: { "content-type": "application/json" },
    });
    expect(JSON.parse(discord?.body ?? "")).toEqual({ content: CHANGE });

    const [slack] = await only(rx.slack);
    expect(slack).toMatchObject({ method: "POST", path: `/services/T00000000/B00000000/${TOKENS.slack}` });
    expect(JSON.parse(slack?.body ?? "")).toEqual({ text: CHANGE });

    const telegram = await only(rx.telegram, 2);
    for (const request of telegram) {
      expect(request).toMatchObject({ method: "POST", path: `/bot${TOKENS.telegram}/sendMessage` });
    }
    expect(
      telegram.map((r) => JSON.parse(r.body)).sort((a, b) => a.chat_id.localeCompare(b.chat_id)),
    ).toEqual([
      { chat_id: "-100123", text: CHANGE },
      { chat_id: "@homelab", text: CHANGE },
    ]);

    const [generic] = await only(rx.generic);
    expect(generic).toMatchObject({
      method: "POST",
      path: "/dyndns",
      headers: { "content-type": "application/json", authorization: `Bearer ${TOKENS.generic}` },
    });
    expect(JSON.parse(generic?.body ?? "")).toEqual({
      event: "changed",
      host: host("service"),
      message: CHANGE,
      at: expect.stringMatching(/^\d{4}-\d\d-\d\dT[\d:.]+Z$/),
    });
    const [local] = await only(rx.local);
    expect(local).toMatchObject({ method: "POST", path: "/local" });
  });

  it("an unchanged report sends nothing", async () => {
    await ep.update({ hostname: host("service"), myipv6: "2001:db8::1" });
    await messages(1);
    await ep.update({ hostname: host("service"), myipv6: "2001:db8::1" });
    await ep.update({ hostname: host("firewall"), myip: "198.51.100.4" });
    const all = await messages(2);
    expect(all.map((m) => m.host)).toEqual([host("service"), host("firewall")]);
  });
});

describe("health events", () => {
  shared();

  it("an OVH fault notifies once when the failure begins, and once when it ends", async () => {
    await ep.update({ hostname: host("service"), myipv6: "2001:db8::1" });
    await messages(1);
    ep.sim.injectFault({
      method: "PUT",
      path: new RegExp(`^/domain/zone/${escaped(zone)}/record/\\d+$`),
      fault: { kind: "status", status: 500, body: '{"message":"Internal Server Error"}' },
    });
    for (const address of ["2001:db8::2", "2001:db8::3", "2001:db8::2"]) {
      expect((await ep.update({ hostname: host("service"), myipv6: address })).body).toBe("911\n");
    }
    ep.sim.clearFaults();
    expect((await ep.update({ hostname: host("service"), myipv6: "2001:db8::2" })).body).toBe(
      "good 2001:db8::2\n",
    );
    const all = await messages(3);
    await ep.flushLogs();
    expect(all.map((m) => m.event)).toEqual(["changed", "failing", "recovered"]);
    expect(all[1]?.message).toMatch(
      new RegExp(
        `^${escaped(host("service"))} is failing \\(911\\): not written, OVH failed: OVH PUT /domain/zone/${escaped(zone)}/record/\\d+: 500 Internal Server Error \\(query id [\\w.-]+\\)`,
      ),
    );
    expect(all[2]?.message).toMatch(
      new RegExp(`^${escaped(host("service"))} works again: it was failing since `),
    );
    // the change that ended the episode is within the hour of the first change: held back
    expect(webhook()).toHaveLength(3);
  });

  it("a silent host goes stale at the scheduled check, and reports again", async () => {
    await ep.update({ hostname: host("service"), myipv6: "2001:db8::1" });
    await messages(1);
    await runCheck(Date.now() + 3 * 86_400_000);
    let all = await messages(2);
    expect(all[1]).toMatchObject({ event: "stale", host: host("service") });
    expect(all[1]?.message).toMatch(
      new RegExp(`^${escaped(host("service"))} is stale: no report since .*check that the client home`),
    );
    await ep.update({ hostname: host("service"), myipv6: "2001:db8::1" });
    all = await messages(3);
    expect(all[2]).toMatchObject({ event: "reporting", host: host("service") });
    expect(all[2]?.message).toMatch(
      new RegExp(`^${escaped(host("service"))} reports again: home, after no report since `),
    );
  });

  it("drift made by editing the zone is set back and notified", async () => {
    await ep.update({ hostname: host("service"), myipv6: "2001:db8::1" });
    await messages(1);
    const record = ep.sim.records(zone).find((r) => r.subDomain === "service6");
    ep.sim.editRecord(zone, record?.id ?? 0, { target: "2001:db8::bad" });
    ep.clock.advance(3_601_000); // past the default recheck_after (an hour)
    await runCheck();
    const all = await messages(2);
    expect(all[1]).toEqual({
      event: "drift",
      host: host("service"),
      message: `${host("service")}: AAAA ${host("service6")} held 2001:db8::bad instead of 2001:db8::1 (changed outside this Worker); set back`,
      at: expect.any(String),
    });
    expect(liveTargets(ep.sim, "AAAA", "service6", zone)).toEqual(["2001:db8::1"]);
  });
});

describe("once per host and kind per hour", () => {
  shared();

  it("changes within the hour are held back, then counted in one message once the hour is over", async () => {
    await ep.update({ hostname: host("firewall"), myip: "198.51.100.1" });
    await messages(1);
    await ep.update({ hostname: host("firewall"), myip: "198.51.100.2" });
    await ep.update({ hostname: host("firewall"), myip: "198.51.100.3" });
    await ep.update({ hostname: host("service"), myipv6: "2001:db8::1" }); // another host: its own
    await messages(2);
    await runCheck(); // within the hour: still held
    await runCheck(Date.now() + 3_700_000);
    const all = await messages(3);
    expect(all.map((m) => [m.event, m.host])).toEqual([
      ["changed", host("firewall")],
      ["changed", host("service")],
      ["changed", host("firewall")],
    ]);
    const firewall = escaped(host("firewall"));
    expect(all[2]?.message).toMatch(
      new RegExp(
        `^2 changed message\\(s\\) for ${firewall} held back since .*; the last: ${firewall}: A ${firewall}: 198\\.51\\.100\\.2 -> 198\\.51\\.100\\.3$`,
      ),
    );
  });
});

describe("an invalid configuration", () => {
  it("is told at the scheduled check, with what is wrong", async () => {
    const vars = await testVars();
    const clients = vars.CLIENTS as Record<string, { hosts: string[] }>;
    clients.home?.hosts.push("typo.example.tld");
    await fresh(vars);
    expect((await ep.update({ hostname: "service.example.tld", myipv6: "2001:db8::1" })).body).toBe("911\n");
    await runCheck();
    await rx.generic.waitFor(1);
    const [config] = rx.generic.requests.map((r) => JSON.parse(r.body));
    expect(config).toEqual({
      event: "config",
      message: expect.stringMatching(
        /^The configuration is invalid, so every report answers 911: CLIENTS\.home\.hosts: "typo\.example\.tld" is not a key of HOSTS; run npm run check$/,
      ),
      at: expect.any(String),
    });
  });
});

describe("a wrong URL among the targets", () => {
  it("is named in the log at the check by position and service, and the others still get their messages", async () => {
    await fresh(await testVars(), "discord://token-in-a-wrong-url@not-an-id");
    await ep.update({ hostname: "service.example.tld", myipv6: "2001:db8::1" });
    await messages(1);
    await runCheck();
    const notes = () =>
      ep.logs
        .map((l) => JSON.parse(l) as { event: string; notes?: string[] })
        .filter((l) => l.event === "notify")
        .flatMap((l) => l.notes ?? []);
    await expect.poll(notes).toEqual(["NOTIFY_URLS #8 (discord): must be discord://TOKEN@WEBHOOK_ID"]);
    expect(ep.logs.join("\n")).not.toContain("token-in-a-wrong-url");
  });
});

describe("a receiver that fails", () => {
  shared();

  it("is logged without its URL, never changes the reply, and is tried once more at the next check", async () => {
    rx.generic.answer(500, '{"error":"down"}');
    const reply = await ep.update({ hostname: host("service"), myipv6: "2001:db8::1" });
    expect(reply.body).toBe("good 2001:db8::1\n");
    await oursAfter(rx.generic, 1);
    await oursAfter(rx.ntfy, 1); // the others are delivered all the same
    await ep.flushLogs();
    const failures = () =>
      ep.logs
        .map(
          (l) =>
            JSON.parse(l) as {
              event: string;
              host?: string;
              target?: string;
              delivered?: boolean;
              error?: string;
              note?: string;
            },
        )
        .filter((l) => l.event === "notify" && l.delivered === false && l.host === host("service"));
    await expect.poll(() => failures().length).toBe(1);
    expect(failures()[0]).toMatchObject({
      target: "#6 generic hooks.example.net",
      error: "HTTP 500",
      note: "tried again at the next scheduled check",
    });

    await runCheck();
    await oursAfter(rx.generic, 2);
    await ep.flushLogs();
    await expect.poll(() => failures().length).toBe(2);
    expect(failures()[1]?.note).toBe("tried twice; given up");
    await runCheck();
    await ep.flushLogs();
    expect(ours(rx.generic)).toHaveLength(2);
    expect(ours(rx.ntfy)).toHaveLength(1);
  });
});

describe("POST /status/notify-test", () => {
  const basic = (user: string, password: string) => ({
    Authorization: `Basic ${btoa(`${user}:${password}`)}`,
  });
  const home = basic("home", HOME_PASSWORD);
  const neighbour = basic("neighbour", NEIGHBOUR_PASSWORD);
  // One test message a minute per client, by the Worker's clock: each test starts a minute on.
  shared();
  beforeEach(() => ep.clock.advance(60_000));
  const test = (headers: Record<string, string>) =>
    ep.fetch("/status/notify-test", { method: "POST", headers });

  it("sends one test message to every target and answers an admin client per target whether it was delivered", async () => {
    rx.discord.answer(404, '{"message":"Unknown Webhook"}');
    const r = await test(home);
    expect(r.status).toBe(200);
    const body = (await r.json()) as { targets: unknown[]; errors: string[] };
    expect(body).toEqual({
      targets: [
        { target: "#1 ntfy ntfy.sh", delivered: true },
        { target: "#2 gotify gotify.example.net", delivered: true },
        { target: "#3 discord", delivered: false, status: 404, error: "HTTP 404" },
        { target: "#4 slack", delivered: true },
        { target: "#5 telegram", delivered: true },
        { target: "#6 generic hooks.example.net", delivered: true },
        { target: `#7 generic ${new URL(rx.local.origin).host}`, delivered: true },
      ],
      errors: [],
    });
    expect(eventsOf(rx.generic)).toEqual(["test"]);
    for (const token of Object.values(TOKENS)) expect(JSON.stringify(body)).not.toContain(token);
  });

  it("a client that is not admin sees the targets by position only", async () => {
    rx.discord.answer(404, '{"message":"Unknown Webhook"}');
    const r = await test(neighbour);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({
      targets: [
        { target: "#1", delivered: true },
        { target: "#2", delivered: true },
        { target: "#3", delivered: false },
        { target: "#4", delivered: true },
        { target: "#5", delivered: true },
        { target: "#6", delivered: true },
        { target: "#7", delivered: true },
      ],
      errors: [],
      details: false,
    });
  });

  it("30 calls of one client make one delivery per target; the next minute's wait is in Retry-After; another client has its own", async () => {
    const answers = await Promise.all(Array.from({ length: 30 }, () => test(home)));
    expect(answers.filter((r) => r.status === 200)).toHaveLength(1);
    const waits = answers.filter((r) => r.status === 429);
    expect(waits).toHaveLength(29);
    for (const r of waits) {
      expect(Number(r.headers.get("Retry-After"))).toBeGreaterThan(0);
      expect(Number(r.headers.get("Retry-After"))).toBeLessThanOrEqual(60);
      expect((await r.json()) as { error: string }).toEqual({
        error: expect.stringMatching(/^One test message a minute: try again in \d+ s\.$/),
      });
    }
    const tests = (r: Receiver) => r.requests.filter((q) => q.body.includes("Test message from"));
    const perTarget = () =>
      [rx.ntfy, rx.gotify, rx.discord, rx.slack, rx.generic, rx.local].map((x) => tests(x).length);
    expect(perTarget()).toEqual([1, 1, 1, 1, 1, 1]);
    expect(tests(rx.telegram)).toHaveLength(2); // its two chats
    expect((await test(neighbour)).status).toBe(200);
    expect(perTarget()).toEqual([2, 2, 2, 2, 2, 2]);
  });

  it("is refused from another site and without credentials", async () => {
    const other = await ep.fetch("/status/notify-test", {
      method: "POST",
      headers: { ...home, Origin: "https://evil.example", "Sec-Fetch-Site": "cross-site" },
    });
    expect(other.status).toBe(403);
    const nobody = await ep.fetch("/status/notify-test", { method: "POST" });
    expect(nobody.status).toBe(401);
    expect(rx.generic.requests).toEqual([]);
  });
});

describe("a URL with a raw % before one with a € in its password", () => {
  const BROKEN = "ntfy://alice:xq50%off@ntfy.sh/broken";
  const EURO = "ntfy://j%C3%BCrgen:p%C3%A4ss%E2%82%AC@ntfy.sh/euro";

  it("the first is a positional error; every other target delivers, the scheduled check runs, the test answers", async () => {
    await fresh(withAdmin(await testVars()), `${BROKEN} ${EURO}`);
    expect((await ep.update({ hostname: "service.example.tld", myipv6: "2001:db8::1" })).body).toBe(
      "good 2001:db8::1\n",
    );
    const ntfy = await rx.ntfy.waitFor(2);
    const euro = ntfy.find((r) => r.path === "/euro");
    const basic = Buffer.from(euro?.headers.authorization?.replace(/^Basic /, "") ?? "", "base64");
    expect(basic.toString("utf8")).toBe("jürgen:päss€");
    await rx.generic.waitFor(1);
    await runCheck(); // the scheduled handler completes ("ok"), whatever NOTIFY_URLS holds
    const r = await ep.fetch("/status/notify-test", {
      method: "POST",
      headers: { Authorization: `Basic ${btoa(`home:${HOME_PASSWORD}`)}` },
    });
    expect(r.status).toBe(200);
    const body = (await r.json()) as { targets: { target: string; delivered: boolean }[]; errors: string[] };
    expect(body.errors).toEqual([
      'NOTIFY_URLS #8 (ntfy): the password holds a "%" that is not followed by two hex digits (write a literal % as %25)',
    ]);
    expect(body.targets.map((t) => [t.target, t.delivered])).toContainEqual(["#9 ntfy ntfy.sh", true]);
    expect(body.targets.every((t) => t.delivered)).toBe(true);
    await ep.flushLogs();
    expect(ep.logs.join("\n")).not.toContain("xq50");
  });
});

describe("no token leaves the Worker but in the request to its own service", () => {
  shared();

  it("the status, replies and logs hold none", async () => {
    const reply = await ep.update({ hostname: host("service"), myipv6: "2001:db8::1" });
    await messages(1);
    const status = await (
      await ep.fetch("/status", { headers: { Authorization: `Basic ${btoa(`home:${HOME_PASSWORD}`)}` } })
    ).text();
    for (const token of Object.values(TOKENS)) {
      expect(reply.body).not.toContain(token);
      expect(status).not.toContain(token);
    }
  });
});
