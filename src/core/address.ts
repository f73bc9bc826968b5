// Address parsing, classification and prefix arithmetic. Pure: no I/O.
// ipaddr.js does the parsing and the range table; this module adds the strictness a DNS
// writer needs (dotted-quad IPv4 only, no zone ids, no IPv4 forms inside IPv6) and the bit
// arithmetic that joins a reported prefix with a configured interface identifier.
import ipaddr from "ipaddr.js";
import { remembered } from "./memo";

export type Family = "v4" | "v6";

/** A parsed, canonical address. `text` is the form written to DNS (RFC 5952 for IPv6). */
export interface Address {
  family: Family;
  text: string;
  /**
   * ipaddr.js's range name: "unicast" for global addresses. IPv6 outside 2000::/3, which
   * ipaddr.js also calls "unicast", is "reserved" here.
   */
  range: string;
}

/** A parsed IPv6 prefix: the network bits (host bits cleared) and its length. */
export interface Prefix {
  network: bigint;
  length: number;
  text: string;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

const fail = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });

const IPV6_BITS = 128;
/** The IPv6 global unicast space (RFC 4291 §2.4, IANA): everything else is not for DNS. */
const GLOBAL_UNICAST_V6 = ipaddr.IPv6.parseCIDR("2000::/3");
const ALL_ONES = (1n << 128n) - 1n;

/** Accepted lengths for a reported prefix: ISPs delegate /48 to /64; anything else is a mistake. */
export const MIN_PREFIX_LENGTH = 16;
export const MAX_PREFIX_LENGTH = 64;

/** Strictly parse an IPv4 address in dotted-quad form ("1.2.3.4"), nothing shorter or hex. */
export function parseIPv4(input: string): Parsed<Address> {
  if (!ipaddr.IPv4.isValidFourPartDecimal(input)) return fail("not an IPv4 address");
  if (/(^|\.)0\d/.test(input)) return fail("not an IPv4 address (leading zero)");
  const addr = ipaddr.IPv4.parse(input);
  return { ok: true, value: { family: "v4", text: addr.toString(), range: addr.range() } };
}

/** Strictly parse an IPv6 address: no zone id, no embedded dotted IPv4. */
export function parseIPv6(input: string): Parsed<Address> {
  if (!input.includes(":")) return fail("not an IPv6 address");
  if (input.includes("%")) return fail("IPv6 zone ids are not allowed");
  if (input.includes(".")) return fail("IPv6 with an embedded IPv4 address is not allowed");
  let addr: ipaddr.IPv6;
  try {
    addr = ipaddr.IPv6.parse(input);
  } catch {
    return fail("not an IPv6 address");
  }
  let range = addr.range();
  if (range === "unicast" && !addr.match(GLOBAL_UNICAST_V6)) range = "reserved";
  return { ok: true, value: { family: "v6", text: addr.toString(), range } };
}

/** The longest text an IPv6 address can be (with an embedded IPv4, which is then refused). */
const LONGEST_ADDRESS = 45;

/**
 * Parse either family. The same few addresses come back report after report, and ipaddr.js's
 * parser is the costliest step of an unchanged one, so results are remembered (for inputs no
 * longer than an address can be).
 */
export const parseAddress = remembered(
  (input): Parsed<Address> => (input.includes(":") ? parseIPv6(input) : parseIPv4(input)),
  LONGEST_ADDRESS,
);

/** True for addresses routable on the public internet (ipaddr.js range "unicast"). */
export function isGlobal(addr: Address): boolean {
  return addr.range === "unicast";
}

/** Parse a reported prefix in CIDR form ("2001:db8:ab:cd00::/64"); host bits are cleared. */
export function parsePrefix(input: string): Parsed<Prefix> {
  const slash = input.indexOf("/");
  if (slash < 0) return fail("prefix must be in CIDR form, like 2001:db8:ab:cd00::/64");
  const lengthText = input.slice(slash + 1);
  if (!/^\d{1,3}$/.test(lengthText)) return fail("prefix length is not a number");
  const length = Number(lengthText);
  if (length < MIN_PREFIX_LENGTH || length > MAX_PREFIX_LENGTH) {
    return fail(`prefix length must be between ${MIN_PREFIX_LENGTH} and ${MAX_PREFIX_LENGTH}`);
  }
  const addr = parseIPv6(input.slice(0, slash));
  if (!addr.ok) return fail(`prefix: ${addr.reason}`);
  const network = toBigInt(addr.value.text) & networkMask(length);
  return { ok: true, value: { network, length, text: `${fromBigInt(network)}/${length}` } };
}

/** The prefix of an IPv6 address at a given length (used when only an address is reported). */
export function prefixOf(addr: Address, length: number): Prefix {
  const network = toBigInt(addr.text) & networkMask(length);
  return { network, length, text: `${fromBigInt(network)}/${length}` };
}

/** Mask with the top `length` bits set. */
export function networkMask(length: number): bigint {
  if (length <= 0) return 0n;
  return (ALL_ONES << BigInt(IPV6_BITS - length)) & ALL_ONES;
}

/**
 * Join prefix bits and host bits: the top `length` bits come from `prefix` (its network, cut to
 * `length`), the rest from `hostId`. Fails when `hostId` has bits inside the kept prefix, which
 * would mean the configured interface identifier and the prefix disagree.
 */
export function joinPrefix(prefix: Prefix, length: number, hostId: bigint): Parsed<Address> {
  const mask = networkMask(length);
  if ((hostId & mask) !== 0n) return fail(`host_id has bits inside the /${length} prefix`);
  const text = fromBigInt((prefix.network & mask) | (hostId & ~mask & ALL_ONES));
  return parseIPv6(text);
}

/** True when `addr` lies inside the top `length` bits of `prefix`. */
export function inPrefix(addr: Address, prefix: Prefix, length = prefix.length): boolean {
  const mask = networkMask(length);
  return addr.family === "v6" && (toBigInt(addr.text) & mask) === (prefix.network & mask);
}

export function toBigInt(ipv6: string): bigint {
  let value = 0n;
  for (const byte of ipaddr.IPv6.parse(ipv6).toByteArray()) value = (value << 8n) | BigInt(byte);
  return value;
}

export function fromBigInt(value: bigint): string {
  const parts: number[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) parts.push(Number((value >> shift) & 0xffffn));
  return new ipaddr.IPv6(parts).toString();
}

/** Two address texts denote the same address (OVH may hold a non-canonical form). */
export function sameAddress(a: string, b: string): boolean {
  if (a === b) return true;
  const pa = parseAddress(a);
  const pb = parseAddress(b);
  return pa.ok && pb.ok ? pa.value.text === pb.value.text : a === b;
}

/**
 * The network a source address counts as, for the failed-login guard and the change limit: an
 * IPv4 address itself, an IPv6 address's prefix of `ipv6Prefix` bits; "unknown" when there is none.
 */
export function sourceNetwork(ip: string | undefined, ipv6Prefix: number): string {
  const addr = ip ? parseAddress(ip) : undefined;
  if (!addr?.ok) return "unknown";
  return addr.value.family === "v4" ? addr.value.text : prefixOf(addr.value, ipv6Prefix).text;
}
