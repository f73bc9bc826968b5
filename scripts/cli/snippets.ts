// A client's password and its wrangler.toml lines; the text pasted into routers and hosts
// (FRITZ!Box, ddclient, inadyn, client.conf) comes from src/dyndns/recipes.ts. Pure: randomness
// and hashing are passed in or deterministic.
import { createHash } from "node:crypto";
import { KEYS, type ReplyForm } from "../../src/config";
import type { WorkerUrl } from "../../src/dyndns/recipes";

// The router and client recipes live in the Worker's source: the status page shows them too.
export {
  clientConfSnippet,
  ddclientSnippet,
  fritzboxDomain,
  fritzboxSnippet,
  fritzboxUpdateUrl,
  type HostFeeds,
  type HostFeedsOf,
  inadynSnippet,
  type WorkerUrl,
} from "../../src/dyndns/recipes";

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

/** The `[vars.CLIENTS.NAME]` section for wrangler.toml; `reply` only when one is asked for. */
export function clientToml(
  name: string,
  passwordSha256: string,
  hosts: readonly string[],
  reply?: ReplyForm,
): string {
  return [
    clientTomlHeader(name),
    `password_sha256 = "${passwordSha256}"`,
    `hosts = [${hosts.map((h) => JSON.stringify(h)).join(", ")}]`,
    ...(reply ? [`reply = "${reply}"`] : []),
  ].join("\n");
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
