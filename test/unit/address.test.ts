// Address parsing, classification and prefix arithmetic (src/core/address.ts).
import { describe, expect, it } from "vitest";
import {
  type Address,
  fromBigInt,
  inPrefix,
  isGlobal,
  joinPrefix,
  networkMask,
  type Parsed,
  type Prefix,
  parseAddress,
  parseIPv4,
  parseIPv6,
  parsePrefix,
  prefixOf,
  sameAddress,
  toBigInt,
} from "../../src/core/address";

function ok<T>(parsed: Parsed<T>): T {
  if (!parsed.ok) throw new Error(`expected success, got: ${parsed.reason}`);
  return parsed.value;
}
const addr = (text: string): Address => ok(parseAddress(text));
const prefix = (text: string): Prefix => ok(parsePrefix(text));
const reason = (parsed: Parsed<unknown>): string => (parsed.ok ? "(accepted)" : parsed.reason);

describe("IPv4 is a strict dotted quad", () => {
  it.each([
    ["198.51.100.7", "198.51.100.7"],
    ["0.0.0.0", "0.0.0.0"],
    ["255.255.255.255", "255.255.255.255"],
    ["10.0.0.1", "10.0.0.1"],
  ])("accepts %s", (input, text) => {
    expect(parseIPv4(input)).toEqual({ ok: true, value: expect.objectContaining({ family: "v4", text }) });
  });

  it.each([
    ["127.1", "two parts"],
    ["127.0.1", "three parts"],
    ["2130706433", "one 32-bit number"],
    ["0x7f.0.0.1", "hex part"],
    ["0x7f000001", "hex number"],
    ["0177.0.0.1", "octal part"],
    ["01.2.3.4", "leading zero, first part"],
    ["1.2.3.04", "leading zero, last part"],
    ["1.2.3.00", "double zero"],
    ["1.2.3.256", "part above 255"],
    ["1.2.3.-1", "negative part"],
    ["1.2.3.4.5", "five parts"],
    ["1.2.3.", "trailing dot"],
    [".1.2.3", "leading dot"],
    ["1..2.3", "empty part"],
    ["1.2.3.4 ", "trailing space"],
    [" 1.2.3.4", "leading space"],
    ["1.2.3.4\n", "trailing newline"],
    ["1.2.3.4\0", "NUL"],
    ["１.２.３.４", "fullwidth digits"],
    ["١.٢.٣.٤", "Arabic-Indic digits"],
    ["1。2。3。4", "ideographic full stops"],
    ["1.2.3.4/32", "CIDR"],
    ["1.2.3.4:80", "with a port"],
    ["", "empty"],
    ["::1", "IPv6"],
  ])("refuses %j (%s)", (input) => {
    expect(parseIPv4(input).ok).toBe(false);
  });

  it("says why a leading zero is refused", () => {
    expect(reason(parseIPv4("010.1.1.1"))).toMatch(/not an IPv4 address/);
  });
});

describe("IPv6", () => {
  it.each([
    ["2001:db8::1", "2001:db8::1"],
    ["2001:DB8::A", "2001:db8::a"],
    ["2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["2001:db8::1:0:0:0:1", "2001:db8:0:1::1"],
    ["::", "::"],
    ["::1", "::1"],
    ["1::", "1::"],
    ["1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"],
    ["::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"],
    ["fe80::1", "fe80::1"],
    ["::ffff:102:304", "::ffff:102:304"],
  ])("accepts %s as %s (RFC 5952 text)", (input, text) => {
    expect(ok(parseIPv6(input))).toMatchObject({ family: "v6", text });
  });

  it.each([
    ["fe80::1%eth0", /zone ids/],
    ["fe80::1%25eth0", /zone ids/],
    ["fe80::1%1", /zone ids/],
    ["::ffff:1.2.3.4", /embedded IPv4/],
    ["::1.2.3.4", /embedded IPv4/],
    ["64:ff9b::192.0.2.1", /embedded IPv4/],
    ["2001:db8::1.2.3.4", /embedded IPv4/],
    ["2001:db8:::1", /not an IPv6/],
    ["2001:db8::1::2", /not an IPv6/],
    [":::", /not an IPv6/],
    ["1:2:3:4:5:6:7:8:9", /not an IPv6/],
    ["::1:2:3:4:5:6:7:8", /not an IPv6/],
    ["1:2:3:4:5:6:7", /not an IPv6/],
    ["2001:db8::g", /not an IPv6/],
    ["2001:db8::12345", /not an IPv6/],
    ["2001:0db8:00000::1", /not an IPv6/],
    ["[2001:db8::1]", /not an IPv6/],
    ["2001:db8::1/64", /not an IPv6/],
    [" 2001:db8::1", /not an IPv6/],
    ["2001:db8::1\r\n", /not an IPv6/],
    ["\u200b2001:db8::1", /not an IPv6/],
    ["２００１:db8::1", /not an IPv6/],
    ["2001:db8::١", /not an IPv6/],
    ["", /not an IPv6/],
    ["1.2.3.4", /^not an IPv6/],
  ])("refuses %j", (input, why) => {
    expect(reason(parseIPv6(input))).toMatch(why);
  });

  it("parseAddress picks the family by the colon", () => {
    expect(addr("198.51.100.1").family).toBe("v4");
    expect(addr("2001:db8::1").family).toBe("v6");
    expect(reason(parseAddress("fe80::1%eth0"))).toMatch(/zone ids/);
    expect(reason(parseAddress("127.1"))).toMatch(/IPv4/);
  });
});

describe("classification: only global addresses count as global", () => {
  it.each([
    // IPv4
    ["0.0.0.0", "unspecified"],
    ["0.1.2.3", "unspecified"],
    ["10.1.2.3", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.1", "private"],
    ["100.64.0.1", "carrierGradeNat"],
    ["100.127.255.255", "carrierGradeNat"],
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "loopback"],
    ["169.254.1.1", "linkLocal"],
    ["192.0.0.8", "reserved"],
    ["192.0.2.1", "reserved"], // TEST-NET-1
    ["198.51.100.1", "reserved"], // TEST-NET-2
    ["203.0.113.1", "reserved"], // TEST-NET-3
    ["198.18.0.1", "reserved"], // benchmarking
    ["240.0.0.1", "reserved"],
    ["224.0.0.1", "multicast"],
    ["239.255.255.250", "multicast"],
    ["255.255.255.255", "broadcast"],
    // IPv6
    ["::", "unspecified"],
    ["::1", "loopback"],
    ["fe80::1", "linkLocal"],
    ["febf:ffff::1", "linkLocal"],
    ["fc00::1", "uniqueLocal"],
    ["fd12:3456:789a::1", "uniqueLocal"],
    ["ff02::1", "multicast"],
    ["ff0e::101", "multicast"],
    ["::ffff:c633:6401", "ipv4Mapped"],
    ["2001:db8::1", "reserved"], // documentation, RFC 3849
    ["3fff::1", "reserved"], // documentation, RFC 9637
    ["2001::1", "teredo"],
    ["2002:c633:6401::1", "6to4"],
    ["64:ff9b::c633:6401", "rfc6052"],
    ["100::1", "discard"],
    ["fec0::1", "deprecatedSiteLocal"],
    // outside 2000::/3, which ipaddr.js alone would call "unicast"
    ["::2", "reserved"],
    ["::211:32ff:fe12:3456", "reserved"],
    ["1::1", "reserved"],
    ["4000::1", "reserved"],
    ["e000::1", "reserved"],
  ])("%s is %s, not global", (text, range) => {
    const a = addr(text);
    expect(a.range).toBe(range);
    expect(isGlobal(a)).toBe(false);
  });

  it.each([
    "81.2.69.160",
    "1.1.1.1",
    "100.63.255.255",
    "100.128.0.0",
    "172.32.0.1",
    "2a01:4f8:1:2::3",
    "2606:4700::1111",
    "2000::1",
    "3ffe:ffff::1",
  ])("%s is global", (text) => {
    expect(isGlobal(addr(text))).toBe(true);
  });
});

describe("prefixes", () => {
  it("parses CIDR and clears the host bits", () => {
    const p = prefix("2001:db8:ab:cd12:3456::1/56");
    expect(p).toEqual({ network: toBigInt("2001:db8:ab:cd00::"), length: 56, text: "2001:db8:ab:cd00::/56" });
  });

  it.each([16, 48, 56, 60, 64])("accepts length %i", (length) => {
    expect(prefix(`2001:db8::/${length}`).length).toBe(length);
  });

  it.each([
    ["2001:db8::", /CIDR/],
    ["2001:db8::/0", /between 16 and 64/],
    ["2001:db8::/15", /between 16 and 64/],
    ["2001:db8::/65", /between 16 and 64/],
    ["2001:db8::1/127", /between 16 and 64/],
    ["2001:db8::1/128", /between 16 and 64/],
    ["2001:db8::/129", /between 16 and 64/],
    ["2001:db8::/999", /between 16 and 64/],
    ["2001:db8::/1000", /not a number/],
    ["2001:db8::/-1", /not a number/],
    ["2001:db8::/+64", /not a number/],
    ["2001:db8::/ 64", /not a number/],
    ["2001:db8::/64 ", /not a number/],
    ["2001:db8::/6e1", /not a number/],
    ["2001:db8::/0x40", /not a number/],
    ["2001:db8::/64/64", /not a number/],
    ["2001:db8::/", /not a number/],
    ["/64", /prefix: not an IPv6/],
    ["fe80::%eth0/64", /prefix: IPv6 zone ids/],
    ["::ffff:1.2.3.0/64", /prefix: IPv6 with an embedded IPv4/],
    ["198.51.100.0/24", /prefix: not an IPv6/],
  ])("refuses %j", (input, why) => {
    expect(reason(parsePrefix(input))).toMatch(why);
  });

  it("prefixOf cuts an address to a length", () => {
    expect(prefixOf(addr("2001:db8:1:2:3:4:5:6"), 64).text).toBe("2001:db8:1:2::/64");
    expect(prefixOf(addr("2001:db8:1:2:3:4:5:6"), 48).text).toBe("2001:db8:1::/48");
  });

  it("networkMask has the top bits set", () => {
    expect(networkMask(0)).toBe(0n);
    expect(networkMask(-5)).toBe(0n);
    expect(networkMask(1)).toBe(1n << 127n);
    expect(networkMask(64)).toBe(((1n << 64n) - 1n) << 64n);
    expect(networkMask(128)).toBe((1n << 128n) - 1n);
  });

  it("inPrefix compares the top bits", () => {
    const p = prefix("2001:db8:ab:cd00::/56");
    expect(inPrefix(addr("2001:db8:ab:cdff::1"), p)).toBe(true);
    expect(inPrefix(addr("2001:db8:ab:ce00::1"), p)).toBe(false);
    expect(inPrefix(addr("2001:db8:ab:ce00::1"), p, 48)).toBe(true);
    expect(inPrefix(addr("198.51.100.1"), p)).toBe(false);
  });
});

describe("joinPrefix: prefix bits from the report, host bits from host_id", () => {
  const hostId = toBigInt("::10:211:32ff:fe12:3456");

  it("a /56 delegation keeps 56 bits and takes the subnet from host_id", () => {
    const joined = ok(joinPrefix(prefix("2001:db8:cafe:ff00::/56"), 56, hostId));
    expect(joined.text).toBe("2001:db8:cafe:ff10:211:32ff:fe12:3456");
  });

  it("a /64 LAN report cut to 56 bits gets the subnet from host_id, not from the LAN", () => {
    const joined = ok(joinPrefix(prefix("2001:db8:ab:cd00::/64"), 56, hostId));
    expect(joined.text).toBe("2001:db8:ab:cd10:211:32ff:fe12:3456");
  });

  it("a /64 prefix with an interface id", () => {
    const joined = ok(joinPrefix(prefix("2001:db8:9:8::/64"), 64, toBigInt("::211:32ff:fe12:3456")));
    expect(joined.text).toBe("2001:db8:9:8:211:32ff:fe12:3456");
  });

  it("a /56 report joined at 64 leaves the subnet bits zero", () => {
    const joined = ok(joinPrefix(prefix("2001:db8:cafe:ff00::/56"), 64, toBigInt("::1")));
    expect(joined.text).toBe("2001:db8:cafe:ff00::1");
  });

  it("refuses a host_id with bits inside the kept prefix", () => {
    expect(reason(joinPrefix(prefix("2001:db8:ab:cd00::/64"), 64, hostId))).toBe(
      "host_id has bits inside the /64 prefix",
    );
    expect(reason(joinPrefix(prefix("2001:db8::/48"), 48, toBigInt("2001::1")))).toMatch(/\/48 prefix/);
  });

  it("classifies the joined address", () => {
    expect(ok(joinPrefix(prefix("fd00:1:2:3::/64"), 64, toBigInt("::1"))).range).toBe("uniqueLocal");
    expect(ok(joinPrefix(prefix("::/64"), 64, toBigInt("::1:2:3:4"))).range).toBe("reserved");
    expect(ok(joinPrefix(prefix("2a01:4f8:1:2::/64"), 64, toBigInt("::1"))).range).toBe("unicast");
  });
});

describe("bigint conversion", () => {
  it.each([
    ["::", 0n],
    ["::1", 1n],
    ["8000::", 1n << 127n],
    ["ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", (1n << 128n) - 1n],
    ["2001:db8::1", 0x20010db8000000000000000000000001n],
  ])("%s ↔ %s", (text, value) => {
    expect(toBigInt(text)).toBe(value);
    expect(fromBigInt(value)).toBe(text);
  });

  it("round-trips non-canonical input to the canonical form", () => {
    expect(fromBigInt(toBigInt("2001:0DB8:0:0:0:0:0:0001"))).toBe("2001:db8::1");
  });

  it("sameAddress compares parsed forms and falls back to the text", () => {
    expect(sameAddress("2001:DB8::1", "2001:db8:0::1")).toBe(true);
    expect(sameAddress("198.51.100.1", "198.51.100.1")).toBe(true);
    expect(sameAddress("2001:db8::1", "2001:db8::2")).toBe(false);
    expect(sameAddress("garbage", "garbage")).toBe(true);
    expect(sameAddress("garbage", "2001:db8::1")).toBe(false);
  });
});
