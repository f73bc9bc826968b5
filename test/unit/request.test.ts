// Reading dyndns2 parameters and the report they carry (src/dyndns/params.ts, src/dyndns/report.ts).
import { describe, expect, it } from "vitest";
import { collectParams, isAbsent, PARAM_NAMES } from "../../src/dyndns/params";
import {
  type ParsedRequest,
  parseUpdate,
  reportedAddresses,
  reportedText,
  splitHostnames,
  type UpdateRequest,
} from "../../src/dyndns/report";

/** Parameters as the Worker collects them from a raw query string. */
const params = (query: string) => collectParams(new URLSearchParams(query));
const parse = (query: string, connectingIp?: string): ParsedRequest =>
  parseUpdate(params(query), connectingIp);

function ok(query: string, connectingIp?: string): UpdateRequest {
  const parsed = parse(query, connectingIp);
  if (!parsed.ok) throw new Error(`expected success, got ${JSON.stringify(parsed)}`);
  return parsed.value;
}
function bad(query: string, connectingIp?: string): string {
  const parsed = parse(query, connectingIp);
  if (parsed.ok || parsed.error !== "badrequest")
    throw new Error(`expected badrequest, got ${JSON.stringify(parsed)}`);
  return parsed.reason;
}
/** The addresses of a request as texts, for compact assertions. */
const texts = (r: UpdateRequest) => ({ v4: r.v4?.text, v6: r.v6?.text, prefix: r.prefix?.text });

const H = "hostname=nas.example.tld";

describe("collectParams", () => {
  it("lowercases names and keeps every value in order, query before form", () => {
    const p = collectParams(
      new URLSearchParams("HostName=a&myIP=1&hostname=b"),
      new URLSearchParams("HOSTNAME=c"),
    );
    expect(p.get("hostname")).toEqual(["a", "b", "c"]);
    expect(p.get("myip")).toEqual(["1"]);
  });

  it("decodes percent escapes and + as URLSearchParams does, leaving broken escapes as text", () => {
    const p = params("a=%41%00%0d%0a&b=1+2&c=%zz&d=%");
    expect(p.get("a")).toEqual(["A\0\r\n"]);
    expect(p.get("b")).toEqual(["1 2"]);
    expect(p.get("c")).toEqual(["%zz"]);
    expect(p.get("d")).toEqual(["%"]);
  });
});

describe("placeholders and empty values are absent", () => {
  it.each([
    "",
    "  ",
    "<ipaddr>",
    "<ip6addr>",
    "<ip6lanprefix>",
    "<dualstack>",
    "<domain>",
    "<username>",
    "<pass>",
    "<passwd>",
    "[IP]",
    "[DOMAIN]",
    "[USERNAME]",
    "[PASSWORD]",
    "%i",
    "%h",
    "%u",
    "%p",
    "preserve",
    "PRESERVE",
  ])("%j", (value) => {
    expect(isAbsent(value)).toBe(true);
  });

  it.each(["198.51.100.1", "<b64>x</b64>", "<ip addr>", "%ii", "[I P]", "preserved", "0"])(
    "%j is a value",
    (value) => {
      expect(isAbsent(value)).toBe(false);
    },
  );

  it("a request full of unreplaced placeholders carries no address; the connecting one is not used", () => {
    const r = ok(
      `${H}&myip=<ipaddr>&myipv4=[IP]&ipv6=%i&ip6addr=<ip6addr>&ip6lanprefix=<ip6lanprefix>`,
      "198.51.100.9",
    );
    expect(texts(r)).toEqual({ v4: undefined, v6: undefined, prefix: undefined });
    expect(r.fromConnection).toBe(false);
  });

  it("only a request that names no address parameter at all uses the connecting address", () => {
    const r = ok(H, "198.51.100.9");
    expect(texts(r)).toEqual({ v4: "198.51.100.9", v6: undefined, prefix: undefined });
    expect(r.fromConnection).toBe(true);
  });

  it("a placeholder inside a myip list is absent, the other address counts", () => {
    expect(texts(ok(`${H}&myip=198.51.100.1,<ip6addr>`))).toMatchObject({
      v4: "198.51.100.1",
      v6: undefined,
    });
    expect(texts(ok(`${H}&myip=<ipaddr>,2001:db8::1`))).toMatchObject({ v4: undefined, v6: "2001:db8::1" });
    expect(ok(`${H}&myip=<ipaddr>,<ip6addr>`, "198.51.100.9").fromConnection).toBe(false);
    expect(bad(`${H}&myip=198.51.100.1,<ip6addr>,<x>,2001:db8::1,198.51.100.2`)).toBe(
      "myip holds more than two addresses",
    );
  });

  it("an unreplaced hostname placeholder is no hostname", () => {
    expect(parse("hostname=<domain>&myip=198.51.100.1")).toEqual({ ok: false, error: "notfqdn" });
    expect(parse("hostname=[DOMAIN]&myip=198.51.100.1")).toEqual({ ok: false, error: "notfqdn" });
    expect(parse("hostname=%h&myip=198.51.100.1")).toEqual({ ok: false, error: "notfqdn" });
  });
});

describe("every parameter alias", () => {
  it.each(PARAM_NAMES.hostname.map((n) => [n]))("hostname as %s", (name) => {
    expect(ok(`${name}=nas.example.tld&myip=198.51.100.1`).hostnames).toEqual(["nas.example.tld"]);
  });

  it.each(PARAM_NAMES.v4.map((n) => [n]))("IPv4 as %s", (name) => {
    expect(texts(ok(`${H}&${name}=198.51.100.1`)).v4).toBe("198.51.100.1");
  });

  it.each(PARAM_NAMES.v6.map((n) => [n]))("IPv6 as %s", (name) => {
    expect(texts(ok(`${H}&${name}=2001:db8::1`)).v6).toBe("2001:db8::1");
  });

  it.each(PARAM_NAMES.prefix.map((n) => [n]))("prefix as %s", (name) => {
    expect(texts(ok(`${H}&${name}=2001:db8:1:2::/64`)).prefix).toBe("2001:db8:1:2::/64");
  });

  it("myip takes either family, or both separated by a comma", () => {
    expect(texts(ok(`${H}&myip=198.51.100.1`))).toEqual({
      v4: "198.51.100.1",
      v6: undefined,
      prefix: undefined,
    });
    expect(texts(ok(`${H}&myip=2001:db8::1`)).v6).toBe("2001:db8::1");
    expect(texts(ok(`${H}&myip=2001:db8::1, 198.51.100.1`))).toMatchObject({
      v4: "198.51.100.1",
      v6: "2001:db8::1",
    });
  });

  it("parameter names are case-insensitive", () => {
    expect(texts(ok("HOSTNAME=nas.example.tld&MyIPv6=2001:db8::1")).v6).toBe("2001:db8::1");
  });

  it("the IPv4 aliases take only IPv4, the IPv6 aliases only IPv6", () => {
    expect(bad(`${H}&myipv4=2001:db8::1`)).toBe("myipv4: not an IPv4 address");
    expect(bad(`${H}&ipaddr=2001:db8::1`)).toBe("ipaddr: not an IPv4 address");
    expect(bad(`${H}&myipv6=198.51.100.1`)).toBe("myipv6: not an IPv6 address");
    expect(bad(`${H}&ip6=198.51.100.1`)).toBe("ip6: not an IPv6 address");
  });

  it("all sources together", () => {
    const r = ok(
      `domain=NAS.example.tld.&ipv4=198.51.100.1&ipv6=2001:db8:1:2::7&ipv6prefix=2001:db8:1:2::/64`,
    );
    expect(r.hostnames).toEqual(["nas.example.tld"]);
    expect(texts(r)).toEqual({ v4: "198.51.100.1", v6: "2001:db8:1:2::7", prefix: "2001:db8:1:2::/64" });
    expect(r.fromConnection).toBe(false);
  });

  it("values are trimmed", () => {
    expect(texts(ok(`${H}&myip=%20198.51.100.1%09`)).v4).toBe("198.51.100.1");
  });
});

describe("hostnames", () => {
  it("splits, trims, lowercases and drops one trailing dot, keeping order and duplicates", () => {
    expect(splitHostnames(" B.example.tld, a.example.tld. ,,b.example.tld")).toEqual([
      "b.example.tld",
      "a.example.tld",
      "b.example.tld",
    ]);
  });

  it("several hostname parameters are one list", () => {
    expect(ok("hostname=a.example.tld&host=b.example.tld&myip=198.51.100.1").hostnames).toEqual([
      "a.example.tld",
      "b.example.tld",
    ]);
  });

  it("lowercases ASCII only: the Kelvin sign does not become k", () => {
    expect(splitHostnames("\u212Aiosk.example.tld")).toEqual(["\u212Aiosk.example.tld"]);
    expect(splitHostnames("İ.example.tld")).toEqual(["İ.example.tld"]);
    expect(splitHostnames("KIOSK.EXAMPLE.TLD")).toEqual(["kiosk.example.tld"]);
  });

  it("leaves anything else as it came, for the per-host notfqdn check", () => {
    expect(splitHostnames("nas.example.tld..")).toEqual(["nas.example.tld."]);
    expect(splitHostnames("nas．example．tld")).toEqual(["nas．example．tld"]);
    expect(splitHostnames("nas.example.tld\0")).toEqual(["nas.example.tld\0"]);
  });

  it("none, or only commas and placeholders: notfqdn", () => {
    expect(parse("myip=198.51.100.1")).toEqual({ ok: false, error: "notfqdn" });
    expect(parse("hostname=&myip=198.51.100.1")).toEqual({ ok: false, error: "notfqdn" });
    expect(parse("hostname=,,%20,&myip=198.51.100.1")).toEqual({ ok: false, error: "notfqdn" });
  });

  it("20 names are fine, 21 are numhost", () => {
    const names = (n: number) => Array.from({ length: n }, (_, i) => `h${i}.example.tld`).join(",");
    expect(ok(`hostname=${names(20)}&myip=198.51.100.1`).hostnames).toHaveLength(20);
    expect(parse(`hostname=${names(21)}&myip=198.51.100.1`)).toEqual({ ok: false, error: "numhost" });
  });

  it("10,000 names, or one enormous name, are numhost without splitting them all", () => {
    const many = Array.from({ length: 10_000 }, () => "a.b").join(",");
    expect(parse(`hostname=${many}&myip=198.51.100.1`)).toEqual({ ok: false, error: "numhost" });
    expect(parse(`hostname=${"a".repeat(100_000)}&myip=198.51.100.1`)).toEqual({
      ok: false,
      error: "numhost",
    });
  });

  it("numhost and notfqdn come before any address check", () => {
    expect(parse("myip=garbage")).toEqual({ ok: false, error: "notfqdn" });
  });
});

describe("conflicts", () => {
  it("the same prefix twice, in any spelling, is one prefix", () => {
    const r = ok(
      `${H}&ip6lanprefix=2001:db8:ab:cd00::/56&prefix=2001:DB8:AB:CD12::/56&ipv6prefix=<ip6lanprefix>`,
    );
    expect(texts(r).prefix).toBe("2001:db8:ab:cd00::/56");
  });

  it("the same address twice, in any spelling, is one address", () => {
    const r = ok(`${H}&myip=2001:DB8::1&myipv6=2001:db8:0::1&ip6=2001:db8::1&myip=2001:db8::1`);
    expect(texts(r).v6).toBe("2001:db8::1");
  });

  it.each([
    ["myip=198.51.100.1,198.51.100.2", "myip gives a second, different IPv4 address"],
    ["myip=198.51.100.1&myipv4=198.51.100.2", "myipv4 gives a second, different IPv4 address"],
    ["myip=198.51.100.1&myip=198.51.100.2", "myip gives a second, different IPv4 address"],
    ["myipv6=2001:db8::1&ip6addr=2001:db8::2", "ip6addr gives a second, different IPv6 address"],
    ["myip=2001:db8::1&ipv6=2001:db8::2", "ipv6 gives a second, different IPv6 address"],
    ["myip=198.51.100.1,2001:db8::1,198.51.100.3", "myip holds more than two addresses"],
    ["ip6lanprefix=2001:db8:1::/64&prefix=2001:db8:2::/64", "ip6lanprefix and prefix disagree"],
    ["prefix=2001:db8:1::/64&prefix=2001:db8:1::/56", "prefix and prefix disagree"],
  ])("%s", (query, reason) => {
    expect(bad(`${H}&${query}`)).toBe(reason);
  });
});

describe("bad values", () => {
  it.each([
    ["myip=198.51.100", "myip: not an IPv4 address"],
    ["myip=127.1", "myip: not an IPv4 address"],
    ["myip=0x7f.0.0.1", "myip: not an IPv4 address"],
    ["myip=010.0.0.1", "myip: not an IPv4 address"],
    ["myip=198.51.100.1%00", "myip: not an IPv4 address"],
    ["myip=198.51.100.1%0d%0aSet-Cookie%3Dx", "myip: not an IPv4 address"],
    ["myip=fe80::1%25eth0", "myip: IPv6 zone ids are not allowed"],
    ["myip=::ffff:198.51.100.1", "myip: IPv6 with an embedded IPv4 address is not allowed"],
    ["myip=1;DROP TABLE records", "myip: not an IPv4 address"],
    ["myip=$(reboot)", "myip: not an IPv4 address"],
    ["myipv6=2001:db8::zz", "myipv6: not an IPv6 address"],
    ["ip6lanprefix=2001:db8::", "ip6lanprefix: prefix must be in CIDR form, like 2001:db8:ab:cd00::/64"],
    ["ip6lanprefix=2001:db8::/0", "ip6lanprefix: prefix length must be between 16 and 64"],
    ["ip6lanprefix=2001:db8::/127", "ip6lanprefix: prefix length must be between 16 and 64"],
    ["ip6lanprefix=2001:db8::/128", "ip6lanprefix: prefix length must be between 16 and 64"],
    ["ip6lanprefix=2001:db8::/129", "ip6lanprefix: prefix length must be between 16 and 64"],
    ["ipv6prefix=2001:db8::/x", "ipv6prefix: prefix length is not a number"],
  ])("%s", (query, reason) => {
    expect(bad(`${H}&${query}`)).toBe(reason);
  });
});

describe("the connecting address (CF-Connecting-IP) is the fallback", () => {
  it("is used when no address and no prefix came", () => {
    expect(texts(ok(H, "198.51.100.77")).v4).toBe("198.51.100.77");
    expect(texts(ok(H, "2001:db8::77")).v6).toBe("2001:db8::77");
    expect(ok(H, "198.51.100.77").fromConnection).toBe(true);
  });

  it("is not used when the request carries any address or a prefix", () => {
    expect(texts(ok(`${H}&myipv6=2001:db8::1`, "198.51.100.77"))).toEqual({
      v4: undefined,
      v6: "2001:db8::1",
      prefix: undefined,
    });
    expect(texts(ok(`${H}&prefix=2001:db8:1:2::/64`, "198.51.100.77")).v4).toBeUndefined();
  });

  it.each(["ip=auto", "myip=AUTO", "ip=auto&myipv6=2001:db8::1"])(
    "%s (unifi-ddns) names it, beside any address of the other family",
    (query) => {
      const r = ok(`${H}&${query}`, "198.51.100.77");
      expect(r.v4?.text).toBe("198.51.100.77");
      expect(r.fromConnection).toBe(true);
    },
  );

  it("auto with an unknown connecting address, or one of a family already given: badrequest", () => {
    expect(bad(`${H}&ip=auto`)).toBe("ip=auto: the connecting address is unknown");
    expect(bad(`${H}&ip=auto`, "unknown")).toBe("ip: the connecting address: not an IPv4 address");
    expect(bad(`${H}&ip=auto&myipv4=198.51.100.1`, "198.51.100.77")).toBe(
      "myipv4 gives a second, different IPv4 address",
    );
  });

  it.each([undefined, "", "unknown", "198.51.100.1, 203.0.113.1", "127.1", "fe80::1%eth0"])(
    "missing or unusable (%j): badrequest",
    (ip) => {
      expect(bad(H, ip)).toBe("no address given, and the connecting address is unknown");
    },
  );
});

describe("the names other dyndns2 servers accept (deSEC, dyndnsd, the UniFi recipe)", () => {
  it("ip takes an address like myip, and the connecting address is not used", () => {
    const r = ok("ip=81.2.69.102&hostname=firewall.example.tld", "81.2.69.103");
    expect(texts(r).v4).toBe("81.2.69.102");
    expect(r.fromConnection).toBe(false);
    expect(texts(ok(`${H}&ip=2001:db8::1,198.51.100.1`))).toMatchObject({
      v4: "198.51.100.1",
      v6: "2001:db8::1",
    });
  });

  it("myip6 is IPv6, next to myip", () => {
    expect(texts(ok(`${H}&myip=198.51.100.1&myip6=2001:db8::1`, "198.51.100.2"))).toEqual({
      v4: "198.51.100.1",
      v6: "2001:db8::1",
      prefix: undefined,
    });
    expect(bad(`${H}&myip6=198.51.100.1`)).toBe("myip6: not an IPv6 address");
  });

  it.each([
    [
      "ipaddress=198.51.100.1",
      'the parameter "ipaddress" holds an address under a name this server does not know; send it as myip',
    ],
    [
      "addr6=2001:db8::1",
      'the parameter "addr6" holds an address under a name this server does not know; send it as myip',
    ],
    [
      "lan=2001:db8:1:2::/64",
      'the parameter "lan" holds an address under a name this server does not know; send it as myip',
    ],
    [
      "x=198.51.100.1,2001:db8::1",
      'the parameter "x" holds an address under a name this server does not know; send it as myip',
    ],
    [
      `${"n".repeat(100)}=198.51.100.1`,
      "a parameter holds an address under a name this server does not know; send it as myip",
    ],
  ])("an address under an unknown name (%s) is never replaced by the connecting address", (query, reason) => {
    expect(bad(`${H}&${query}`, "198.51.100.2")).toBe(reason);
  });

  it("unknown parameters without an address, or next to a known address, change nothing", () => {
    expect(ok(`${H}&system=dyndns&wildcard=NOCHG&mx=NOCHG`, "198.51.100.2").fromConnection).toBe(true);
    // The FRITZ!Box trick of an extra &x=<ip6addr> so the box fills <ip6lanprefix>.
    expect(texts(ok(`${H}&x=2001:db8:1:2::9&ip6lanprefix=2001:db8:1:2::/64`)).prefix).toBe(
      "2001:db8:1:2::/64",
    );
    // Credentials are not an address parameter, whatever they look like.
    expect(ok(`${H}&username=198.51.100.1&password=2001:db8::1`, "198.51.100.2").fromConnection).toBe(true);
  });
});

describe("offline", () => {
  it.each(["YES", "yes", "1", "true"])("offline=%s is refused: hosts are not taken offline", (value) => {
    expect(bad(`${H}&myip=198.51.100.1&offline=${value}`)).toBe(
      "offline=YES is not supported: this server never takes a host offline; leave the parameter out",
    );
  });

  it.each(["NO", "no", "", "<offline>"])("offline=%s is the usual report", (value) => {
    expect(texts(ok(`${H}&myip=198.51.100.1&offline=${value}`)).v4).toBe("198.51.100.1");
  });
});

describe("reportedAddresses", () => {
  it("echoes v4, v6 or both; the prefix only when nothing else came", () => {
    expect(reportedAddresses(ok(`${H}&myip=2001:db8::1,198.51.100.1`))).toBe("198.51.100.1,2001:db8::1");
    expect(reportedAddresses(ok(`${H}&myipv6=2001:DB8::1`))).toBe("2001:db8::1");
    expect(reportedAddresses(ok(`${H}&prefix=2001:db8:1:2:3::/64`))).toBe("2001:db8:1:2::/64");
    expect(reportedAddresses(ok(`${H}&prefix=2001:db8:1:2::/64&myip=198.51.100.1`))).toBe("198.51.100.1");
  });
});

describe("reportedText (the log line's and the history's reported)", () => {
  it("keeps every address and the prefix, and names prefix fields sent empty", () => {
    expect(reportedText(ok(`${H}&myip=2001:db8::1,198.51.100.1`))).toBe("198.51.100.1,2001:db8::1");
    expect(reportedText(ok(`${H}&prefix=2001:db8:1:2:3::/64`))).toBe("2001:db8:1:2::/64");
    // The documented FRITZ!Box URL: its own address and the LAN prefix.
    expect(reportedText(ok(`${H}&myipv6=2001:db8:ff:1::45&ip6lanprefix=2001:db8:ab:cd00::/64`))).toBe(
      "2001:db8:ff:1::45,2001:db8:ab:cd00::/64",
    );
    expect(reportedText(ok(`${H}&myipv6=2001:db8:ff:1::45&ip6lanprefix=`))).toBe(
      "2001:db8:ff:1::45 (ip6lanprefix empty)",
    );
    expect(reportedText(ok(`${H}&myipv6=<ip6addr>&ip6lanprefix=<ip6lanprefix>&prefix=`))).toBe(
      "(myipv6, ip6lanprefix, prefix empty)",
    );
    // A FRITZ!Box's IPv4 URL on DS-Lite: no address, and not the connecting one either.
    expect(reportedText(ok(`${H}&myip=`, "198.51.100.2"))).toBe("(myip empty)");
  });
});
