// A client's password and the text it is pasted into: wrangler.toml lines, the FRITZ!Box
// Update-URL, ddclient.conf, and client.conf for the project's shell client. Pure: randomness
// and hashing are passed in or deterministic.
import { createHash } from "node:crypto";
import { KEYS } from "../../src/config";

/**
 * Only letters and digits: routers such as the FRITZ!Box put the password into the URL without
 * escaping it (docs/reference/dyndns-clients.md), so `&`, `#`, `+`, `%`, even `-`/`_` are out.
 */
export const PASSWORD_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/** 32 characters of 62: log2(62) × 32 ≈ 190 bits (at least 128 are asked for). */
export const PASSWORD_LENGTH = 32;

/** A password from crypto.getRandomValues, by rejection sampling (no modulo bias). */
export function generatePassword(
  random: (bytes: Uint8Array) => Uint8Array = (b) => crypto.getRandomValues(b),
  length = PASSWORD_LENGTH,
): string {
  const n = PASSWORD_ALPHABET.length;
  const limit = 256 - (256 % n); // 248: bytes at or above it would favour the first letters
  let out = "";
  while (out.length < length) {
    for (const byte of random(new Uint8Array(length * 2))) {
      if (byte < limit && out.length < length) out += PASSWORD_ALPHABET[byte % n];
    }
  }
  return out;
}

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/** A TOML key: bare when it can be, quoted otherwise (a client name may contain dots). */
function tomlKey(name: string): string {
  return /^[A-Za-z0-9_-]+$/.test(name) ? name : JSON.stringify(name);
}

export function clientTomlHeader(name: string): string {
  return `[vars.${KEYS.clients}.${tomlKey(name)}]`;
}

/** The `[vars.CLIENTS.NAME]` section for wrangler.toml. */
export function clientToml(name: string, passwordSha256: string, hosts: readonly string[]): string {
  return [
    clientTomlHeader(name),
    `password_sha256 = "${passwordSha256}"`,
    `hosts = [${hosts.map((h) => JSON.stringify(h)).join(", ")}]`,
  ].join("\n");
}

export interface WorkerUrl {
  /** Base URL without a trailing slash, e.g. https://ovh-dyndns.example.workers.dev */
  base: string;
  /** True when it is the stand-in shown because --url was not given. */
  placeholder: boolean;
}

/** The stand-in Worker URL: clearly not a real host (workers.dev names are lowercase). */
export function placeholderUrl(workerName = "ovh-dyndns"): WorkerUrl {
  // CHANGE-ME: the shell client (client/) refuses a config that still holds it.
  return { base: `https://${workerName}.CHANGE-ME.workers.dev`, placeholder: true };
}

/** --url: an http(s) base URL; a trailing /nic/update or / is dropped. Undefined when unusable. */
export function parseWorkerUrl(value: string): WorkerUrl | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (!/^https?:$/.test(url.protocol) || url.search || url.hash || url.username || url.password)
    return undefined;
  const path = url.pathname.replace(/\/+$/, "").replace(/\/(nic\/)?update$/, "");
  // Pasted into sh-sourced client.conf and router fields unquoted: keep to plain URL characters.
  if (!/^[A-Za-z0-9/._~%-]*$/.test(path)) return undefined;
  return { base: `${url.origin}${path}`, placeholder: false };
}

/** The record types (A, AAAA) a host writes, when wrangler.toml is at hand. */
export type HostTypes = (host: string) => ReadonlySet<string> | undefined;

/**
 * The FRITZ!Box "Update-URL": up to two URLs separated by a space, one request for IPv4 and one
 * for IPv6 (the box sends each separately). The box fills in <username>, <pass>, <domain>,
 * <ipaddr>, <ip6addr> and <ip6lanprefix> itself, unescaped. With one host the URLs use <domain>;
 * with several they name the hosts (the box has one Domainname field), and each URL only those
 * with records of its family, so each request updates the hosts it is meant for.
 */
export function fritzboxUpdateUrl(url: WorkerUrl, hosts: readonly string[], types?: HostTypes): string {
  const writes = (h: string, type: string) => types?.(h)?.has(type) ?? true;
  const auth = "username=<username>&password=<pass>";
  const urls: string[] = [];
  const param = (list: string[]) => (hosts.length === 1 ? "<domain>" : list.join(","));
  const v4 = hosts.filter((h) => writes(h, "A"));
  const v6 = hosts.filter((h) => writes(h, "AAAA"));
  if (v4.length > 0) urls.push(`${url.base}/nic/update?hostname=${param(v4)}&myip=<ipaddr>&${auth}`);
  if (v6.length > 0) {
    urls.push(
      `${url.base}/nic/update?hostname=${param(v6)}&myipv6=<ip6addr>&ip6lanprefix=<ip6lanprefix>&${auth}`,
    );
  }
  return urls.join(" ");
}

export function fritzboxSnippet(
  url: WorkerUrl,
  name: string,
  password: string,
  hosts: readonly string[],
  types?: HostTypes,
): string {
  return [
    "Internet > Permit Access > DynDNS (Internet > Freigaben > DynDNS): use DynDNS,",
    'provider "User-defined" (Benutzerdefiniert):',
    `  Update-URL:   ${fritzboxUpdateUrl(url, hosts, types)}`,
    `  Domain name:  ${hosts[0] ?? ""}`,
    `  Username:     ${name}`,
    `  Password:     ${password}`,
    "The box checks that the domain name resolves to its own addresses; a name whose records",
    "hold another host's address (host_id) shows a harmless IPv6 status warning there.",
  ].join("\n");
}

/** ddclient.conf (3.10+): dyndns2 against the Worker. */
export function ddclientSnippet(
  url: WorkerUrl,
  name: string,
  password: string,
  hosts: readonly string[],
): string {
  const server = url.base.replace(/^https?:\/\//, "");
  return [
    "# /etc/ddclient.conf (mode 0600)",
    "protocol=dyndns2",
    `ssl=${url.base.startsWith("https:") ? "yes" : "no"}`,
    `server=${server}`,
    `login=${name}`,
    `password='${password}'`,
    "# IPv4 as seen from outside; for this machine's own IPv6 address use instead: use=if, if=eth0",
    "use=web, web=ipify-ipv4",
    hosts.join(","),
  ].join("\n");
}

/** client.conf for the shell client (client/ovh-dyndns-client): KEY=value lines, read, never run. */
export function clientConfSnippet(
  url: WorkerUrl,
  name: string,
  password: string,
  hosts: readonly string[],
  iface: string,
): string {
  return [
    "# /etc/ovh-dyndns/client.conf for ovh-dyndns-client (install -m 600; it holds the password)",
    `ENDPOINT=${url.base}/nic/update`,
    `USERNAME=${name}`,
    `PASSWORD=${password}`,
    "# The interface that carries this host's global IPv6 address.",
    `INTERFACE=${iface}`,
    `HOSTNAMES=${hosts.join(",")}`,
  ].join("\n");
}
