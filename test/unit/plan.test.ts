// What each record of a host should hold after a report (src/core/plan.ts).
import { describe, expect, it } from "vitest";
import type { HostSpec, RecordSpec } from "../../src/config";
import { toBigInt } from "../../src/core/address";
import { type HostPlan, planHost } from "../../src/core/plan";
import { collectParams } from "../../src/dyndns/params";
import { parseUpdate, reportedText, type UpdateRequest } from "../../src/dyndns/report";

function request(query: string, connectingIp?: string): UpdateRequest {
  const parsed = parseUpdate(
    collectParams(new URLSearchParams(`hostname=h.example.tld&${query}`)),
    connectingIp,
  );
  if (!parsed.ok) throw new Error(`bad test request: ${JSON.stringify(parsed)}`);
  return parsed.value;
}

type RecordInput = Omit<RecordSpec, "zone" | "ttl" | "hostId"> & { hostId?: string };
function host(records: RecordInput[], allowPrivate = false): HostSpec {
  return {
    name: "h.example.tld",
    zone: "example.tld",
    allowPrivate,
    records: records.map((r) => ({
      zone: "example.tld",
      ttl: 60,
      subdomain: r.subdomain,
      type: r.type,
      ...(r.hostId !== undefined ? { hostId: toBigInt(r.hostId) } : {}),
      ...(r.prefixLength !== undefined ? { prefixLength: r.prefixLength } : {}),
    })),
  };
}

/** "TYPE subdomain target" per planned record, or the refusal. */
function targets(plan: HostPlan): string[] | string {
  return plan.ok ? plan.records.map((d) => `${d.spec.type} ${d.spec.subdomain} ${d.target}`) : plan.reason;
}

const dual = host([
  { subdomain: "h", type: "A" },
  { subdomain: "h", type: "AAAA" },
]);
const wgEnd = host(
  [
    { subdomain: "wg-end", type: "AAAA", hostId: "::10:211:32ff:fe12:3456", prefixLength: 56 },
    { subdomain: "firewall", type: "A" },
  ],
  true,
);
const nas = host([{ subdomain: "nas", type: "AAAA", hostId: "::211:32ff:fe12:3456" }]);

describe("families", () => {
  it("a v4-only report plans only the A record", () => {
    expect(targets(planHost(dual, request("myip=81.2.69.160")))).toEqual(["A h 81.2.69.160"]);
  });

  it("a v6-only report plans only the AAAA record", () => {
    expect(targets(planHost(dual, request("myipv6=2a01:4f8::1")))).toEqual(["AAAA h 2a01:4f8::1"]);
  });

  it("both families plan both records, in config order", () => {
    expect(targets(planHost(dual, request("myip=2a01:4f8::1,81.2.69.160")))).toEqual([
      "A h 81.2.69.160",
      "AAAA h 2a01:4f8::1",
    ]);
  });

  it("a prefix alone plans nothing for a plain AAAA or A record", () => {
    expect(targets(planHost(dual, request("ip6lanprefix=2a01:4f8:1:2::/64")))).toEqual([]);
  });

  it("the connecting address counts like a reported one", () => {
    expect(targets(planHost(dual, request("", "81.2.69.161")))).toEqual(["A h 81.2.69.161"]);
  });

  it("nothing is ever planned for deletion: the plan only has targets", () => {
    const plan = planHost(dual, request("myip=81.2.69.160"));
    expect(plan.ok && plan.records.every((d) => d.target !== "")).toBe(true);
  });
});

describe("prefix derivation", () => {
  it("a /64 LAN prefix and prefix_length 56: 56 bits from the report, the subnet from host_id", () => {
    expect(targets(planHost(wgEnd, request("ip6lanprefix=2a01:4f8:ab:cd00::/64")))).toEqual([
      "AAAA wg-end 2a01:4f8:ab:cd10:211:32ff:fe12:3456",
    ]);
  });

  it("a /56 delegation and prefix_length 56", () => {
    expect(targets(planHost(wgEnd, request("prefix=2a01:4f8:ab:cd00::/56")))).toEqual([
      "AAAA wg-end 2a01:4f8:ab:cd10:211:32ff:fe12:3456",
    ]);
  });

  it("without prefix_length the reported length is used", () => {
    expect(targets(planHost(nas, request("ipv6prefix=2a01:4f8:9:8::/64")))).toEqual([
      "AAAA nas 2a01:4f8:9:8:211:32ff:fe12:3456",
    ]);
    expect(targets(planHost(nas, request("ipv6prefix=2a01:4f8:9::/48")))).toEqual([
      "AAAA nas 2a01:4f8:9:0:211:32ff:fe12:3456",
    ]);
  });

  it("an address without a prefix: its /64", () => {
    expect(targets(planHost(nas, request("myipv6=2a01:4f8:5:6:aaaa::1")))).toEqual([
      "AAAA nas 2a01:4f8:5:6:211:32ff:fe12:3456",
    ]);
    expect(targets(planHost(wgEnd, request("myipv6=2a01:4f8:cafe:ab12::1")))).toEqual([
      "AAAA wg-end 2a01:4f8:cafe:ab10:211:32ff:fe12:3456",
    ]);
  });

  it("an address beside a prefix field sent empty feeds no host_id record: the router has no prefix yet", () => {
    // A FRITZ!Box before its prefix: its WAN address, usually outside the delegated prefix.
    expect(targets(planHost(wgEnd, request("myipv6=2a01:4f8:cafe:ab12::1&ip6lanprefix=")))).toEqual([]);
    expect(targets(planHost(nas, request("myipv6=2a01:4f8:5:6::1&ip6lanprefix=<ip6lanprefix>")))).toEqual([]);
    // A plain AAAA record still takes the address.
    expect(targets(planHost(dual, request("myipv6=2a01:4f8::1&ip6lanprefix=")))).toEqual([
      "AAAA h 2a01:4f8::1",
    ]);
  });

  it("each derived record names the prefix it came from: the reported one, or the address's /64", () => {
    const from = (plan: HostPlan) => (plan.ok ? plan.records.map((d) => d.prefix) : plan.reason);
    expect(
      from(planHost(wgEnd, request("myipv6=2a01:4f8:ff:1::45&ip6lanprefix=2a01:4f8:ab:cd00::/64"))),
    ).toEqual(["2a01:4f8:ab:cd00::/64"]);
    expect(from(planHost(nas, request("myipv6=2a01:4f8:5:6:aaaa::1")))).toEqual(["2a01:4f8:5:6::/64"]);
    expect(from(planHost(dual, request("myip=81.2.69.160,2a01:4f8::1")))).toEqual([undefined, undefined]);
  });

  it("a host whose records would take the address and a prefix it lies outside is refused", () => {
    const mixed = host([
      { subdomain: "nas", type: "AAAA", hostId: "::1" },
      { subdomain: "box", type: "AAAA" },
    ]);
    expect(
      targets(planHost(mixed, request("myipv6=2a01:e0a:9:900::5&ip6lanprefix=2a01:e0a:1:100::/64"))),
    ).toBe(
      "h.example.tld: the IPv6 address is outside the reported prefix, so its records would point into two networks",
    );
    expect(targets(planHost(mixed, request("myipv6=2a01:4f8:2:2::99&prefix=2a01:4f8:2:2::/64")))).toEqual([
      "AAAA nas 2a01:4f8:2:2::1",
      "AAAA box 2a01:4f8:2:2::99",
    ]);
  });

  it("a host that takes only the prefix ignores an address outside it (a FRITZ!Box's WAN address)", () => {
    expect(targets(planHost(nas, request("myipv6=2a01:4f8:1:1::99&prefix=2a01:4f8:2:2::/64")))).toEqual([
      "AAAA nas 2a01:4f8:2:2:211:32ff:fe12:3456",
    ]);
  });

  it("a prefix shorter than the record's prefix_length is refused: its missing bits would be zeros", () => {
    expect(targets(planHost(wgEnd, request("ip6lanprefix=2a01:4f8:ab::/48")))).toBe(
      "h.example.tld: the reported prefix is a /48, shorter than the /56 the record keeps",
    );
    expect(targets(planHost(wgEnd, request("ip6lanprefix=2a01:4f8:ab:cd00::/59")))).toEqual([
      "AAAA wg-end 2a01:4f8:ab:cd10:211:32ff:fe12:3456",
    ]);
  });

  it("a host_id with bits inside the reported /64 is refused with the host's name", () => {
    const collide = host([{ subdomain: "c", type: "AAAA", hostId: "::1:0:0:0:1" }], true);
    expect(targets(planHost(collide, request("ip6lanprefix=2a01:4f8:1:2::/64")))).toBe(
      "h.example.tld: host_id has bits inside the /64 prefix",
    );
    expect(targets(planHost(collide, request("myipv6=2a01:4f8:1:2::5")))).toBe(
      "h.example.tld: host_id has bits inside the /64 prefix",
    );
    // a /48 leaves room for those bits
    expect(targets(planHost(collide, request("ip6lanprefix=2a01:4f8:1::/48")))).toEqual([
      "AAAA c 2a01:4f8:1:1::1",
    ]);
  });
});

describe("allow_private", () => {
  const refusals: [string, HostSpec, string, string][] = [
    ["private IPv4", dual, "myip=192.168.1.10", "the IPv4 address is not a global address (private network)"],
    [
      "CGNAT",
      dual,
      "myip=100.64.1.1",
      "the IPv4 address is not a global address (carrier-grade NAT, 100.64.0.0/10)",
    ],
    ["loopback v4", dual, "myip=127.0.0.1", "the IPv4 address is not a global address (loopback)"],
    [
      "TEST-NET",
      dual,
      "myip=203.0.113.5",
      "the IPv4 address is not a global address (reserved or documentation range)",
    ],
    ["ULA", dual, "myip=fd00::1", "the IPv6 address is not a global address (unique local, fc00::/7)"],
    ["link-local", dual, "myip=fe80::1", "the IPv6 address is not a global address (link-local)"],
    [
      "documentation v6",
      dual,
      "myip=2001:db8::1",
      "the IPv6 address is not a global address (reserved or documentation range)",
    ],
    ["teredo", dual, "myip=2001::1", "the IPv6 address is not a global address (special range teredo)"],
    [
      "outside 2000::/3",
      dual,
      "myip=4000::1",
      "the IPv6 address is not a global address (reserved or documentation range)",
    ],
    [
      "ULA prefix",
      nas,
      "prefix=fd00:1:2:3::/64",
      "the prefix is not a global address (unique local, fc00::/7)",
    ],
    [
      "documentation prefix",
      nas,
      "prefix=2001:db8:1:2::/64",
      "the prefix is not a global address (reserved or documentation range)",
    ],
    [
      "::/64 prefix",
      nas,
      "prefix=::/64",
      "the prefix is not a global address (reserved or documentation range)",
    ],
    // an address, not a prefix, for a host_id record: its /64 joined with host_id
    [
      "loopback's /64",
      nas,
      "myipv6=::1",
      "the IPv6 address is not a global address (reserved or documentation range)",
    ],
    ["link-local's /64", nas, "myipv6=fe80::1234", "the IPv6 address is not a global address (link-local)"],
  ];

  it.each(refusals)("%s is refused without allow_private", (_name, spec, query, reason) => {
    expect(targets(planHost(spec, request(query)))).toBe(
      `${reason}; set allow_private on the host to accept it`,
    );
  });

  it.each(refusals)("%s is accepted with allow_private", (_name, spec, query) => {
    const plan = planHost({ ...spec, allowPrivate: true }, request(query));
    expect(plan.ok).toBe(true);
  });

  const never: [string, HostSpec, string, string][] = [
    ["0.0.0.0", dual, "myip=0.0.0.0", "the IPv4 address cannot be a host's address (unspecified)"],
    ["::", dual, "myipv6=::", "the IPv6 address cannot be a host's address (unspecified)"],
    ["broadcast", dual, "myip=255.255.255.255", "the IPv4 address cannot be a host's address (broadcast)"],
    ["multicast v4", dual, "myip=224.0.0.251", "the IPv4 address cannot be a host's address (multicast)"],
    ["multicast v6", dual, "myip=ff02::fb", "the IPv6 address cannot be a host's address (multicast)"],
    [
      "IPv4-mapped",
      dual,
      "myip=::ffff:c633:6401",
      "the IPv6 address cannot be a host's address (IPv4-mapped)",
    ],
    [
      "IPv4-translated",
      dual,
      "myip=::ffff:0:c633:6401",
      "the IPv6 address cannot be a host's address (IPv4-translated)",
    ],
    ["multicast prefix", nas, "prefix=ff05:1:2:3::/64", "the prefix cannot be a host's address (multicast)"],
    ["multicast's /64", nas, "myipv6=ff05::1", "the IPv6 address cannot be a host's address (multicast)"],
  ];

  it.each(never)(
    "%s is refused even with allow_private: it names no single host",
    (_name, spec, query, reason) => {
      expect(targets(planHost(spec, request(query)))).toBe(reason);
      expect(targets(planHost({ ...spec, allowPrivate: true }, request(query)))).toBe(reason);
    },
  );

  it("a global report is accepted either way", () => {
    expect(targets(planHost(dual, request("myip=81.2.69.160,2a01:4f8::1")))).toHaveLength(2);
  });
});

describe('a report replayed from its reported text (docs/troubleshooting.md, "Still stuck")', () => {
  /** The request the troubleshooting page says to send for a `reported` text. */
  function replay(reported: string): string {
    const [list = "", ...rest] = reported.startsWith("(") ? ["", reported] : reported.split(" ");
    const parts = list.split(",").filter((p) => p !== "");
    const query = [];
    const addresses = parts.filter((p) => !p.includes("/"));
    if (addresses.length > 0) query.push(`myip=${addresses.join(",")}`);
    for (const p of parts.filter((p) => p.includes("/"))) query.push(`ip6lanprefix=${p}`);
    const empty = /^\((.+) empty\)$/.exec(rest.join(" "));
    for (const name of empty?.[1]?.split(", ") ?? []) query.push(`${name}=`);
    return query.join("&");
  }

  it.each([
    "myipv6=2a01:4f8:ff:1::45&ip6lanprefix=2a01:4f8:ab:cd00::/64",
    "myipv6=2a01:4f8:ff:1::45&ip6lanprefix=",
    "myipv6=<ip6addr>&ip6lanprefix=<ip6lanprefix>",
    "myip=&myipv6=2a01:4f8::7",
    "myip=",
    "myip=81.2.69.160&ipv6=2a01:4f8:5:6::9&prefix=2a01:4f8:5:6::/64",
    "ip=auto&myipv6=2a01:4f8:cafe:ab12::1",
    "ipv6prefix=2a01:4f8:9::/48",
  ])("%s plans the same records as its replay", (query) => {
    const original = request(query, "81.2.69.161");
    const again = request(replay(reportedText(original)));
    for (const h of [dual, wgEnd, nas])
      expect(targets(planHost(h, again))).toEqual(targets(planHost(h, original)));
  });
});
