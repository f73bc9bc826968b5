// A dyndns2 report: the hostnames and the addresses or prefix it carries, read from its
// parameters. Pure: no I/O.
import { MAX_HOSTS_PER_REQUEST } from "../config";
import { type Address, type Prefix, parseAddress, parseIPv4, parseIPv6, parsePrefix } from "../core/address";
import { isAbsent, KNOWN_NAMES, PARAM_NAMES, type Params, values } from "./params";

export interface UpdateRequest {
  /** Lowercased, without a trailing dot, in request order (duplicates kept). */
  hostnames: string[];
  v4?: Address;
  v6?: Address;
  prefix?: Prefix;
  /**
   * Prefix parameters the request named but left empty (a FRITZ!Box before it has a prefix
   * sends `ip6lanprefix=`): the client keeps its prefix apart from its address, and has none.
   */
  emptyPrefix: string[];
  /** Address parameters the request named but left empty (`myip=` from a box without IPv4). */
  emptyAddress: string[];
  /** True when the connecting address was used: no address given, or `auto` (unifi-ddns's `ip=auto`). */
  fromConnection: boolean;
}

export type ParsedRequest =
  | { ok: true; value: UpdateRequest }
  | { ok: false; error: "notfqdn" | "numhost" }
  | { ok: false; error: "badrequest"; reason: string };

/** The longest hostname list we read before answering numhost (a DNS name is ≤ 253 bytes). */
const MAX_HOSTNAME_PARAM = (MAX_HOSTS_PER_REQUEST + 1) * 254;

/**
 * Split a hostname list and normalise each name (ASCII lowercase, no trailing dot). Only A-Z
 * is lowered: toLowerCase() would turn the Kelvin sign U+212A into "k", so a look-alike name
 * would reach a configured host.
 */
export function splitHostnames(raw: string): string[] {
  return raw
    .split(",")
    .map((h) =>
      h
        .trim()
        .replace(/[A-Z]/g, (c) => c.toLowerCase())
        .replace(/\.$/, ""),
    )
    .filter((h) => h !== "");
}

/** A request that cannot be read: what the reply says. */
type Refused = Extract<ParsedRequest, { ok: false }>;

/** One step of reading a request: its value, or why the request is refused. */
type Step<T> = { ok: true; value: T } | Refused;

export function parseUpdate(params: Params, connectingIp: string | undefined): ParsedRequest {
  for (const { value } of values(params, PARAM_NAMES.offline)) {
    if (value.toLowerCase() !== "no")
      return bad(
        "offline=YES is not supported: this server never takes a host offline; leave the parameter out",
      );
  }
  const hostnames = readHostnames(params);
  if (!hostnames.ok) return hostnames;
  const addresses = readAddresses(params, connectingIp);
  if (!addresses.ok) return addresses;
  const prefix = readPrefix(params);
  if (!prefix.ok) return prefix;
  let { v4, v6, fromConnection } = addresses.value;
  // The connecting address stands in only when the request names no address at all. A router
  // that sends an address parameter empty (a FRITZ!Box without IPv4 on DS-Lite, say) means
  // "nothing of this family", not "use the address I am connecting from".
  if (!v4 && !v6 && !prefix.value && !namesAnAddress(params)) {
    const connecting = connectingAddress(params, connectingIp);
    if (!connecting.ok) return connecting;
    fromConnection = true;
    if (connecting.value.family === "v4") v4 = connecting.value;
    else v6 = connecting.value;
  }
  const emptyPrefix = prefix.value ? [] : PARAM_NAMES.prefix.filter((n) => params.has(n));
  const emptyAddress = [...PARAM_NAMES.myip, ...PARAM_NAMES.v4, ...PARAM_NAMES.v6].filter((n) =>
    params.get(n)?.every(isAbsent),
  );
  const { value: hosts } = hostnames;
  return {
    ok: true,
    value: { hostnames: hosts, v4, v6, prefix: prefix.value, emptyPrefix, emptyAddress, fromConnection },
  };
}

/** The hostnames, at least one and at most MAX_HOSTS_PER_REQUEST. */
function readHostnames(params: Params): Step<string[]> {
  const rawHosts = values(params, PARAM_NAMES.hostname)
    .map((h) => h.value)
    .join(",");
  if (rawHosts.length > MAX_HOSTNAME_PARAM) return { ok: false, error: "numhost" };
  const hostnames = splitHostnames(rawHosts);
  if (hostnames.length === 0) return { ok: false, error: "notfqdn" };
  if (hostnames.length > MAX_HOSTS_PER_REQUEST) return { ok: false, error: "numhost" };
  return { ok: true, value: hostnames };
}

interface Addresses {
  v4?: Address;
  v6?: Address;
  /** True when `auto` named the connecting address. */
  fromConnection: boolean;
}

/** The addresses the parameters give (myip and the names of each family), at most one per family. */
function readAddresses(params: Params, connectingIp: string | undefined): Step<Addresses> {
  const found: Addresses = { fromConnection: false };
  const take = (addr: Address, from: string): Refused | undefined => {
    const slot = found[addr.family];
    if (slot && slot.text !== addr.text)
      return bad(`${from} gives a second, different ${addr.family === "v4" ? "IPv4" : "IPv6"} address`);
    found[addr.family] = addr;
    return undefined;
  };

  // myip: one address of either family, or "v4,v6" (ddclient ≥ 3.10, Dyn). A FRITZ!Box with
  // myip=<ipaddr>,<ip6addr> and one family down leaves that placeholder in: absent, too.
  // `auto` (unifi-ddns's ip=auto) names the connecting address.
  for (const { name, value } of values(params, PARAM_NAMES.myip)) {
    const parts = value
      .split(",")
      .map((p) => p.trim())
      .filter((p) => !isAbsent(p));
    if (parts.length > 2) return bad(`${name} holds more than two addresses`);
    for (const part of parts) {
      const auto = part.toLowerCase() === "auto";
      const text = auto ? connectingIp : part;
      if (text === undefined) return bad(`${name}=auto: the connecting address is unknown`);
      const addr = parseAddress(text);
      if (!addr.ok) return bad(`${name}: ${auto ? "the connecting address: " : ""}${addr.reason}`);
      if (auto) found.fromConnection = true;
      const problem = take(addr.value, name);
      if (problem) return problem;
    }
  }
  const families = [
    [PARAM_NAMES.v4, parseIPv4],
    [PARAM_NAMES.v6, parseIPv6],
  ] as const;
  for (const [names, parse] of families) {
    for (const { name, value } of values(params, names)) {
      const addr = parse(value);
      if (!addr.ok) return bad(`${name}: ${addr.reason}`);
      const problem = take(addr.value, name);
      if (problem) return problem;
    }
  }
  return { ok: true, value: found };
}

/** The prefix, if any: several values must denote the same prefix (compared parsed, not as text). */
function readPrefix(params: Params): Step<Prefix | undefined> {
  let prefix: Prefix | undefined;
  let prefixFrom = "";
  for (const { name, value } of values(params, PARAM_NAMES.prefix)) {
    const parsed = parsePrefix(value);
    if (!parsed.ok) return bad(`${name}: ${parsed.reason}`);
    if (prefix && prefix.text !== parsed.value.text) return bad(`${prefixFrom} and ${name} disagree`);
    if (!prefix) {
      prefix = parsed.value;
      prefixFrom = name;
    }
  }
  return { ok: true, value: prefix };
}

/** Whether any parameter that carries an address or a prefix is present (even empty). */
const namesAnAddress = (params: Params): boolean =>
  [...PARAM_NAMES.myip, ...PARAM_NAMES.v4, ...PARAM_NAMES.v6, ...PARAM_NAMES.prefix].some((n) =>
    params.has(n),
  );

/** The connecting address, for a request that names no address. */
function connectingAddress(params: Params, connectingIp: string | undefined): Step<Address> {
  // An address under a name we do not read is what the client meant to report: writing the
  // connecting address instead would answer good to the wrong address.
  const stray = strayAddress(params);
  if (stray !== undefined) {
    const which = /^[a-z0-9_.-]{1,32}$/.test(stray) ? `the parameter "${stray}"` : "a parameter";
    return bad(`${which} holds an address under a name this server does not know; send it as myip`);
  }
  const addr = connectingIp ? parseAddress(connectingIp) : undefined;
  if (!addr?.ok) return bad("no address given, and the connecting address is unknown");
  return { ok: true, value: addr.value };
}

/** The longest text an address or a prefix can be ("ffff:…:ffff/128" is 43 characters). */
const MAX_ADDRESS_TEXT = 45;

/** The name of a parameter we do not know whose value is an address, a prefix or a list of them. */
function strayAddress(params: Params): string | undefined {
  for (const [name, list] of params) {
    if (KNOWN_NAMES.has(name)) continue;
    for (const value of list) {
      const parts = value.split(",").map((p) => p.trim());
      if (parts.length > 2 || value.length > 2 * MAX_ADDRESS_TEXT + 1) continue;
      const isAddress = (p: string) =>
        p.length <= MAX_ADDRESS_TEXT && (p.includes("/") ? parsePrefix(p).ok : parseAddress(p).ok);
      if (parts.some(isAddress)) return name;
    }
  }
  return undefined;
}

function bad(reason: string): Refused {
  return { ok: false, error: "badrequest", reason };
}

/**
 * Everything a report carried, for the log line and the history, so that the request can be
 * replayed from it: the addresses as the reply echoes them, the prefix (the part with a "/"),
 * and address or prefix parameters sent empty ("2001:db8:ff:1::45 (ip6lanprefix empty)").
 */
export function reportedText(req: UpdateRequest): string {
  const parts = [req.v4?.text, req.v6?.text, req.prefix?.text].filter((p): p is string => p !== undefined);
  const names = [...req.emptyAddress, ...req.emptyPrefix];
  const empty = names.length > 0 ? `(${names.join(", ")} empty)` : "";
  return [parts.join(","), empty].filter((p) => p !== "").join(" ");
}

/** The addresses a reply echoes: "v4", "v6", "v4,v6", or the prefix when only a prefix came. */
export function reportedAddresses(req: UpdateRequest): string {
  const parts = [req.v4?.text, req.v6?.text].filter((p): p is string => p !== undefined);
  if (parts.length === 0 && req.prefix) parts.push(req.prefix.text);
  return parts.join(",");
}
