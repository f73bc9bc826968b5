// The update endpoint end to end: the Worker in workerd, the OVH simulator over HTTP.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { SUCCESS_WORDS } from "../../src/dyndns/reply";
import { type Endpoint, startEndpoint, TEST_OVH } from "../support/endpoint";
import {
  HOME_PASSWORD,
  liveTargets,
  NEIGHBOUR_PASSWORD,
  OTHER_ZONE,
  testVars,
  ZONE,
} from "../support/fixtures";

let ep: Endpoint;

beforeAll(async () => {
  // Re-read remembered records after a second: tests delete records between them.
  ep = await startEndpoint({ vars: { ...(await testVars()), SETTINGS: { recheck_after: 1 } } });
});
afterAll(async () => {
  await ep?.close();
});
beforeEach(() => {
  for (const zone of [ZONE, OTHER_ZONE]) {
    try {
      for (const r of ep.sim.records(zone)) ep.sim.deleteRecord(zone, r.id);
    } catch {
      ep.sim.addZone(zone);
    }
  }
  ep.sim.clearFaults();
  ep.sim.setClockSkew(0);
  ep.sim.resetCalls();
});
afterEach(() => {
  expect(ep.unexpected).toEqual([]);
});

const live = (type: string, sub: string, zone = ZONE) => liveTargets(ep.sim, type, sub, zone);
const writes = () => ep.sim.calls().filter((c) => c.kind === "create" || c.kind === "update");

describe("the two designs", () => {
  it("a FRITZ!Box prefix report moves both AAAA records of wg-end and leaves the A record alone", async () => {
    ep.sim.addRecord(ZONE, { fieldType: "A", subDomain: "firewall", target: "198.51.100.7", ttl: 60 });
    ep.sim.addRecord(ZONE, {
      fieldType: "AAAA",
      subDomain: "wg-end",
      target: "2001:db8:1:10:211:32ff:fe12:3456",
      ttl: 60,
    });
    ep.sim.addRecord(ZONE, {
      fieldType: "AAAA",
      subDomain: "firewall",
      target: "2001:db8:1:10:211:32ff:fe12:3456",
      ttl: 60,
    });

    // What a FRITZ!Box sends: credentials and values unescaped in the URL, its user agent.
    const reply = await ep.update(
      `username=home&password=${HOME_PASSWORD}&hostname=wg-end.example.tld&myip=&ip6addr=&ip6lanprefix=2001:db8:ab:cd00::/64`,
      { auth: "none", headers: { "User-Agent": "Fritz!Box DDNS/1.0.1" } },
    );

    expect(reply.body).toBe("good 2001:db8:ab:cd00::/64\n");
    expect(reply.status).toBe(200);
    const expected = "2001:db8:ab:cd10:211:32ff:fe12:3456";
    expect(live("AAAA", "wg-end")).toEqual([expected]);
    expect(live("AAAA", "firewall")).toEqual([expected]);
    expect(live("A", "firewall")).toEqual(["198.51.100.7"]);
    expect(ep.sim.calls({ kind: "refresh" })).toHaveLength(1);
  });

  it("the dual-stack proxy name: AAAA follows home, the proxy's A is never written", async () => {
    ep.sim.addRecord(ZONE, { fieldType: "A", subDomain: "service", target: "203.0.113.50", ttl: 3600 });

    const reply = await ep.update({ hostname: "service.example.tld", myip: "198.51.100.20,2001:db8:77::5" });

    expect(reply.body).toBe("good 198.51.100.20,2001:db8:77::5\n");
    expect(live("AAAA", "service")).toEqual(["2001:db8:77::5"]);
    expect(live("AAAA", "service6")).toEqual(["2001:db8:77::5"]);
    expect(live("A", "service")).toEqual(["203.0.113.50"]);
    expect(writes().every((c) => (c.body as { fieldType?: string } | undefined)?.fieldType !== "A")).toBe(
      true,
    );
  });
});

describe("families and prefixes", () => {
  it("separate IPv4 and IPv6 requests each leave the other family alone", async () => {
    let reply = await ep.update({ hostname: "nas.example.tld", myip: "198.51.100.30" });
    expect(reply.body).toBe("good 198.51.100.30\n");
    expect(live("A", "nas")).toEqual(["198.51.100.30"]);
    expect(live("AAAA", "nas")).toEqual([]);

    reply = await ep.update({ hostname: "nas.example.tld", myipv6: "2001:db8:5:6:aaaa::1" });
    expect(reply.body).toBe("good 2001:db8:5:6:aaaa::1\n");
    // host bits from host_id on the /64 of the reported address
    expect(live("AAAA", "nas")).toEqual(["2001:db8:5:6:211:32ff:fe12:3456"]);
    expect(live("A", "nas")).toEqual(["198.51.100.30"]);
  });

  it("myip=v4,v6 writes both families in one request, with the host's TTL", async () => {
    const reply = await ep.update({ hostname: "nas.example.tld", myip: "198.51.100.31,2001:db8:5:7::99" });
    expect(reply.body).toBe("good 198.51.100.31,2001:db8:5:7::99\n");
    expect(live("A", "nas")).toEqual(["198.51.100.31"]);
    expect(live("AAAA", "nas")).toEqual(["2001:db8:5:7:211:32ff:fe12:3456"]);
    expect(ep.sim.liveRecords(ZONE).every((r) => r.ttl === 120)).toBe(true);
  });

  it("a /64 prefix with a host_id and no prefix_length uses the reported length", async () => {
    const reply = await ep.update({ hostname: "nas.example.tld", ipv6prefix: "2001:db8:9:8::/64" });
    expect(reply.body).toBe("good 2001:db8:9:8::/64\n");
    expect(live("AAAA", "nas")).toEqual(["2001:db8:9:8:211:32ff:fe12:3456"]);
  });

  it("a /56 delegation keeps 56 bits and takes the subnet from host_id", async () => {
    const reply = await ep.update({ hostname: "wg-end.example.tld", prefix: "2001:db8:cafe:ff00::/56" });
    expect(reply.body).toBe("good 2001:db8:cafe:ff00::/56\n");
    expect(live("AAAA", "wg-end")).toEqual(["2001:db8:cafe:ff10:211:32ff:fe12:3456"]);
  });

  it("an IPv6 address and no prefix for a prefix host derives from the address's /64", async () => {
    const reply = await ep.update({ hostname: "wg-end.example.tld", myip: "2001:db8:cafe:ab12::1" });
    expect(reply.status).toBe(200);
    expect(live("AAAA", "wg-end")).toEqual(["2001:db8:cafe:ab10:211:32ff:fe12:3456"]);
  });

  it("the zone apex is written with an empty subdomain", async () => {
    const reply = await ep.update({ hostname: "apex.example.org", myipv6: "2001:db8::abc" });
    expect(reply.body).toBe("good 2001:db8::abc\n");
    expect(live("AAAA", "", OTHER_ZONE)).toEqual(["2001:db8::abc"]);
  });

  it("the same report again answers nochg and writes nothing", async () => {
    await ep.update({ hostname: "nas.example.tld", myip: "198.51.100.40" });
    ep.sim.resetCalls();
    const reply = await ep.update({ hostname: "nas.example.tld", myip: "198.51.100.40" });
    expect(reply.body).toBe("nochg 198.51.100.40\n");
    expect(writes()).toEqual([]);
    expect(ep.sim.calls({ kind: "refresh" })).toEqual([]);
  });

  it("a record that exists with another target is updated in place, not duplicated", async () => {
    const id = ep.sim.addRecord(ZONE, { fieldType: "A", subDomain: "nas", target: "198.51.100.1", ttl: 120 });
    const reply = await ep.update({ hostname: "nas.example.tld", myip: "198.51.100.2" });
    expect(reply.body).toBe("good 198.51.100.2\n");
    expect(ep.sim.liveRecords(ZONE).filter((r) => r.fieldType === "A")).toEqual([
      expect.objectContaining({ id, target: "198.51.100.2" }),
    ]);
  });

  it("a request without any address uses the connecting address", async () => {
    const reply = await ep.update(
      { hostname: "nas.example.tld" },
      { headers: { "CF-Connecting-IP": "198.51.100.77" } },
    );
    expect(reply.body).toBe("good 198.51.100.77\n");
    expect(live("A", "nas")).toEqual(["198.51.100.77"]);
  });

  it("unreplaced placeholders count as absent", async () => {
    const reply = await ep.update(
      "hostname=nas.example.tld&myip=<ipaddr>&ip6addr=<ip6addr>&ip6lanprefix=<ip6lanprefix>&ipv4=198.51.100.9",
    );
    expect(reply.body).toBe("good 198.51.100.9\n");
    expect(live("AAAA", "nas")).toEqual([]);
  });

  it("several hosts in one request are answered line by line, in order", async () => {
    const reply = await ep.update({
      hostname: "nas.example.tld,nope.example.tld,service.example.tld,bad_name,other.example.tld",
      myip: "2001:db8:42::1",
    });
    expect(reply.body).toBe("good 2001:db8:42::1\nnohost\ngood 2001:db8:42::1\nnotfqdn\nnohost\n");
  });
});

describe("credentials", () => {
  const cases: [string, Record<string, string>][] = [
    ["wrong password", { Authorization: `Basic ${btoa("home:wrong")}` }],
    ["unknown user", { Authorization: `Basic ${btoa("nobody:home-password")}` }],
    ["bad Base64", { Authorization: "Basic %%%not-base64" }],
    ["no colon", { Authorization: `Basic ${btoa("home")}` }],
    ["another scheme", { Authorization: "Bearer abc" }],
    ["nothing at all", {}],
  ];
  for (const [name, headers] of cases) {
    it(`${name} → 401 badauth with a Basic challenge, nothing written`, async () => {
      const reply = await ep.update(
        { hostname: "nas.example.tld", myip: "198.51.100.5" },
        { auth: "none", headers },
      );
      expect(reply.status).toBe(401);
      expect(reply.body).toBe("badauth\n");
      expect(reply.headers.get("WWW-Authenticate")).toMatch(/^Basic /);
      expect(ep.sim.calls()).toEqual([]);
    });
  }

  it("query credentials work under every alias routers use", async () => {
    for (const [u, p] of [
      ["username", "password"],
      ["user", "pass"],
      ["user", "passwd"],
    ]) {
      const reply = await ep.update(
        `hostname=nas.example.tld&myip=198.51.100.6&${u}=home&${p}=${HOME_PASSWORD}`,
        {
          auth: "none",
        },
      );
      expect(reply.status).toBe(200);
    }
  });

  it("a client cannot update another client's host, and learns nothing about it", async () => {
    const theirs = await ep.update({ hostname: "other.example.tld", myip: "2001:db8::1" });
    const unknown = await ep.update({ hostname: "unknown.example.tld", myip: "2001:db8::1" });
    expect(theirs.body).toBe("nohost\n");
    expect(unknown.body).toBe(theirs.body);
    const own = await ep.update(
      { hostname: "other.example.tld", myip: "2001:db8::1" },
      { user: "neighbour", password: NEIGHBOUR_PASSWORD },
    );
    expect(own.body).toBe("good 2001:db8::1\n");
  });
});

describe("bad input changes nothing", () => {
  it("21 hosts → numhost", async () => {
    const hostname = Array.from({ length: 21 }, (_, i) => `h${i}.example.tld`).join(",");
    const reply = await ep.update({ hostname, myip: "198.51.100.5" });
    expect(reply.body).toBe("numhost\n");
    expect(ep.sim.calls()).toEqual([]);
  });

  it("no hostname → notfqdn", async () => {
    const reply = await ep.update({ myip: "198.51.100.5" });
    expect(reply.body).toBe("notfqdn\n");
  });

  const bad: [string, Record<string, string>, RegExp][] = [
    ["short IPv4", { myip: "198.51.100" }, /myip: not an IPv4 address/],
    ["IPv6 in the IPv4 parameter", { myipv4: "2001:db8::1" }, /myipv4: not an IPv4 address/],
    ["garbage IPv6", { myipv6: "2001:db8::zz" }, /myipv6: not an IPv6 address/],
    ["zone id", { myipv6: "fe80::1%eth0" }, /zone ids/],
    ["two IPv4 in myip", { myip: "198.51.100.1,198.51.100.2" }, /second, different IPv4/],
    ["prefix without length", { ip6lanprefix: "2001:db8::" }, /CIDR/],
    ["prefix /0", { ip6lanprefix: "::/0" }, /between 16 and 64/],
    ["prefix /128", { ip6lanprefix: "2001:db8::1/128" }, /between 16 and 64/],
    [
      "private IPv4 on a strict host",
      { hostname: "strict.example.tld", myip: "192.168.1.10" },
      /not a global address \(private/,
    ],
    ["ULA on a strict host", { hostname: "strict.example.tld", myip: "fd00::1" }, /unique local/],
    ["CGNAT on a strict host", { hostname: "strict.example.tld", myip: "100.64.1.1" }, /carrier-grade NAT/],
    [
      "documentation IPv6 on a strict host",
      { hostname: "strict.example.tld", myipv6: "2001:db8::1" },
      /documentation/,
    ],
    ["loopback on a strict host", { hostname: "strict.example.tld", myip: "127.0.0.1" }, /loopback/],
    ["link-local on a strict host", { hostname: "strict.example.tld", myip: "fe80::1" }, /link-local/],
  ];
  for (const [name, query, reason] of bad) {
    it(`${name} → 400 badrequest, nothing written`, async () => {
      const reply = await ep.update({ hostname: "nas.example.tld", ...query });
      expect(reply.status).toBe(400);
      expect(reply.body).toMatch(/^badrequest: .+\n$/);
      expect(reply.body).toMatch(reason);
      for (const word of SUCCESS_WORDS) expect(reply.body.toLowerCase()).not.toContain(word);
      expect(ep.sim.calls()).toEqual([]);
    });
  }

  it("a global address on the strict host is accepted", async () => {
    const reply = await ep.update({ hostname: "strict.example.tld", myip: "2a01:4f8:1:2::3,81.2.69.160" });
    expect(reply.body).toBe("good 81.2.69.160,2a01:4f8:1:2::3\n");
  });

  it("other methods and paths answer clearly without touching DNS", async () => {
    for (const method of ["PUT", "DELETE", "PATCH", "OPTIONS"]) {
      const r = await ep.fetch("/nic/update?hostname=nas.example.tld&myip=198.51.100.5", { method });
      expect(r.status).toBe(405);
    }
    const head = await ep.fetch("/nic/update?hostname=nas.example.tld&myip=198.51.100.5", {
      method: "HEAD",
      headers: { Authorization: `Basic ${btoa(`home:${HOME_PASSWORD}`)}` },
    });
    expect(head.status).toBe(405);
    expect((await ep.fetch("/wp-login.php")).status).toBe(404);
    expect(ep.sim.calls()).toEqual([]);
  });

  it("POST with a form body works like GET", async () => {
    const r = await ep.fetch("/update", {
      method: "POST",
      headers: {
        Authorization: `Basic ${btoa(`home:${HOME_PASSWORD}`)}`,
        "Content-Type": "application/x-www-form-urlencoded",
      },
      body: "hostname=nas.example.tld&myip=198.51.100.8",
    });
    expect(await r.text()).toBe("good 198.51.100.8\n");
  });
});

describe("OVH failures", () => {
  it("an OVH 5xx answers 911 with HTTP 503 and Retry-After", async () => {
    ep.sim.injectFault({
      fault: { kind: "status", status: 502, body: "<html>Bad Gateway</html>", contentType: "text/html" },
    });
    const reply = await ep.update({ hostname: "nas.example.tld", myip: "198.51.100.5" });
    expect(reply.status).toBe(503);
    expect(reply.body).toBe("911\n");
    expect(Number(reply.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(ep.sim.liveRecords(ZONE)).toEqual([]);
  });

  it("clock skew: one re-sync of /auth/time, then the update goes through", async () => {
    ep.sim.setClockSkew(600);
    const reply = await ep.update({ hostname: "nas.example.tld", myip: "198.51.100.12" });
    expect(reply.body).toBe("good 198.51.100.12\n");
    expect(ep.sim.calls({ kind: "auth-time" }).length).toBeGreaterThanOrEqual(1);
    expect(live("A", "nas")).toEqual(["198.51.100.12"]);
  });

  it("duplicate records → dnserr for that host, nothing written to the name, a log line naming them", async () => {
    const a = ep.sim.addRecord(ZONE, {
      fieldType: "AAAA",
      subDomain: "service",
      target: "2001:db8::a",
      ttl: 60,
    });
    const b = ep.sim.addRecord(ZONE, {
      fieldType: "AAAA",
      subDomain: "service",
      target: "2001:db8::b",
      ttl: 60,
    });
    const reply = await ep.update({ hostname: "service.example.tld,nas.example.tld", myip: "2001:db8::c" });
    expect(reply.body).toBe("dnserr\ngood 2001:db8::c\n");
    expect(live("AAAA", "service").sort()).toEqual(["2001:db8::a", "2001:db8::b"]);
    await ep.flushLogs();
    expect(ep.logs.some((l) => l.includes(String(a)) && l.includes(String(b)))).toBe(true);
  });
});

describe("the log", () => {
  it("has one structured line per request, without any secret", async () => {
    const before = ep.logs.length;
    await ep.update({ hostname: "nas.example.tld", myip: "198.51.100.13" });
    await ep.update({ hostname: "nas.example.tld", myip: "198.51.100.13" }, { password: "wrong-guess" });
    await ep.flushLogs();
    const lines = ep.logs.slice(before).filter((l) => l.includes('"event":"update"'));
    expect(lines).toHaveLength(2);
    const first = JSON.parse(lines[0] ?? "{}");
    expect(first).toMatchObject({ client: "home", status: 200, hosts: ["nas.example.tld"] });
    expect(first.ovhQueryIds.length).toBeGreaterThan(0);
    const all = ep.logs.join("\n");
    for (const secret of [
      HOME_PASSWORD,
      "wrong-guess",
      TEST_OVH.applicationSecret,
      TEST_OVH.consumerKey,
      btoa(`home:${HOME_PASSWORD}`),
    ]) {
      expect(all).not.toContain(secret);
    }
  });
});

describe("empty address parameters", () => {
  it("an empty or placeholder-only address means nothing of that family, not the connecting address", async () => {
    await ep.update({ hostname: "wg-end.example.tld", ip6lanprefix: "2001:db8:ab:cd00::/64" });
    const before = live("AAAA", "wg-end");
    ep.sim.resetCalls();
    const reply = await ep.update(
      `username=home&password=${HOME_PASSWORD}&hostname=wg-end.example.tld&myipv6=&ip6lanprefix=<ip6lanprefix>`,
      { auth: "none", headers: { "CF-Connecting-IP": "2001:db8:ffff:1::99" } },
    );
    expect(reply.body).toBe("nochg\n");
    expect(live("AAAA", "wg-end")).toEqual(before);
    expect(writes()).toEqual([]);
  });
});

describe("what a FRITZ!Box report carried is kept (issue 23 items 6 and 7, issue 21 item 12)", () => {
  interface Entry {
    host: string;
    reported: string;
    outcome: string;
    note?: string;
    changes: { name: string; prefix?: string }[];
  }
  async function newest(host: string): Promise<Entry | undefined> {
    const r = await ep.fetch("/status?history=50", {
      headers: { Authorization: `Basic ${btoa(`home:${HOME_PASSWORD}`)}` },
    });
    return ((await r.json()) as { history: Entry[] }).history.find((e) => e.host === host);
  }
  async function logLine(
    after: number,
  ): Promise<{ reported?: string; notes?: string[]; changes?: string[] }> {
    await ep.flushLogs();
    const line = ep.logs.slice(after).find((l) => l.includes('"event":"update"'));
    return JSON.parse(line ?? "{}");
  }
  const box = (query: string) =>
    ep.update(
      `username=home&password=${HOME_PASSWORD}&hostname=service.example.tld,wg-end.example.tld&${query}`,
      {
        auth: "none",
        headers: { "User-Agent": "Fritz!Box DDNS/1.0.1" },
      },
    );

  it("the log line and the history keep the address and the prefix; wg-end's note says the address was not used", async () => {
    const before = ep.logs.length;
    const reply = await box("myipv6=2001:db8:ff:1::45&ip6lanprefix=2001:db8:ab:e100::/64");
    expect(reply.body).toBe("good 2001:db8:ff:1::45\ngood 2001:db8:ff:1::45\n");
    const log = await logLine(before);
    expect(log.reported).toBe("2001:db8:ff:1::45,2001:db8:ab:e100::/64");
    const note =
      "IPv6 2001:db8:ff:1::45 not used: the AAAA records of wg-end.example.tld have a host_id and take the prefix 2001:db8:ab:e100::/64";
    expect(log.notes).toEqual([note]);
    // Each derived record names the prefix it came from; the router's own record none.
    const derived = "2001:db8:ab:e110:211:32ff:fe12:3456 (from prefix 2001:db8:ab:e100::/64)";
    expect(log.changes?.filter((c) => c.endsWith(derived))).toHaveLength(2);
    expect(log.changes?.find((c) => c.startsWith("AAAA service.example.tld"))).not.toContain("prefix");
    const entry = await newest("wg-end.example.tld");
    expect(entry).toMatchObject({
      reported: "2001:db8:ff:1::45,2001:db8:ab:e100::/64",
      outcome: "good",
      note,
    });
    expect(entry?.changes.map((c) => [c.name, c.prefix])).toEqual([
      ["wg-end.example.tld", "2001:db8:ab:e100::/64"],
      ["firewall.example.tld", "2001:db8:ab:e100::/64"],
    ]);
    // The same report again: nochg with the address, which the note says was not used.
    expect((await box("myipv6=2001:db8:ff:1::45&ip6lanprefix=2001:db8:ab:e100::/64")).body).toBe(
      "nochg 2001:db8:ff:1::45\nnochg 2001:db8:ff:1::45\n",
    );
    expect(await newest("wg-end.example.tld")).toMatchObject({ outcome: "nochg", note });
  });

  it("an empty ip6lanprefix leaves wg-end where it is, not in the router's WAN /64, and says why", async () => {
    await box("myipv6=2001:db8:ff:1::45&ip6lanprefix=2001:db8:ab:e200::/64");
    const before = live("AAAA", "wg-end");
    expect(before).toEqual(["2001:db8:ab:e210:211:32ff:fe12:3456"]);
    ep.sim.resetCalls();
    const logsBefore = ep.logs.length;

    const reply = await box("myipv6=2001:db8:ff:2::45&ip6lanprefix=");

    // The router's own AAAA follows its address; wg-end's records stay.
    expect(reply.body).toBe("good 2001:db8:ff:2::45\nnochg 2001:db8:ff:2::45\n");
    expect(live("AAAA", "service")).toEqual(["2001:db8:ff:2::45"]);
    expect(live("AAAA", "wg-end")).toEqual(before);
    expect(live("AAAA", "firewall")).toEqual(before);
    const note =
      "IPv6 2001:db8:ff:2::45 not used: the AAAA records of wg-end.example.tld have a host_id and take a prefix, and ip6lanprefix came empty (the router has no prefix yet); they are left as they are";
    const log = await logLine(logsBefore);
    expect(log.reported).toBe("2001:db8:ff:2::45 (ip6lanprefix empty)");
    expect(log.notes).toEqual([note]);
    expect(await newest("wg-end.example.tld")).toMatchObject({
      reported: "2001:db8:ff:2::45 (ip6lanprefix empty)",
      outcome: "nochg",
      note,
    });
  });

  it("ip=auto (unifi-ddns) writes the connecting address", async () => {
    const reply = await ep.update(
      { hostname: "service.example.tld", ip: "auto" },
      { headers: { "CF-Connecting-IP": "2001:db8:77::8" } },
    );
    expect(reply.body).toBe("good 2001:db8:77::8\n");
    expect(live("AAAA", "service")).toEqual(["2001:db8:77::8"]);
  });
});
