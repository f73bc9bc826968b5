// The status page's login session. A browser logs in once with a form and then carries a cookie
// (HttpOnly, Secure, SameSite=Strict) that names the client and when it logged in, signed with
// HMAC-SHA256 under a key derived by HKDF from the SESSION_SECRET secret. Browsers never get HTTP
// Basic: a browser caches Basic credentials and replays them to this origin for any page that
// asks, which is cross-site request forgery waiting to happen.
//
// The signature also covers the client's password hash, so a new password (a new deploy of
// CLIENTS) ends the client's sessions; logging out ends every session the client opened until
// then (the guard of the name "session CLIENT" remembers when).
import { type ClientSpec, type Config, KEYS, loadConfig, sessionSecretProblem } from "../config";
import { toHex } from "../core/hex";
import type { Env } from "../env";
import { timingSafeEqual } from "./credentials";

/** How long a login lasts. */
export const SESSION_MS = 12 * 3600 * 1000;
/** The HMAC key derived from each secret value this isolate has seen (one, in practice). */
const derived = new Map<string, Promise<CryptoKey>>();

async function deriveKey(secret: string): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), "HKDF", false, [
    "deriveKey",
  ]);
  return crypto.subtle.deriveKey(
    {
      name: "HKDF",
      hash: "SHA-256",
      salt: new Uint8Array(0),
      info: new TextEncoder().encode("ovh-dyndns-worker status session v1"),
    },
    material,
    { name: "HMAC", hash: "SHA-256", length: 256 },
    false,
    ["sign"],
  );
}

/** The session key, or undefined when SESSION_SECRET is unset or unusable. */
function sessionKey(env: Env): Promise<CryptoKey> | undefined {
  const secret = env.SESSION_SECRET;
  if (sessionSecretProblem(secret) || secret === undefined) return undefined;
  let key = derived.get(secret);
  if (!key) {
    derived.clear();
    key = deriveKey(secret);
    derived.set(secret, key);
  }
  return key;
}

/** Why sessions cannot work in this deployment, for the log; undefined when they can. */
export function sessionsUnavailable(env: Env): string | undefined {
  const problem = sessionSecretProblem(env.SESSION_SECRET);
  return problem && `${KEYS.sessionSecret}: ${problem} (npm run setup -- session)`;
}

async function sign(key: CryptoKey, client: ClientSpec, issued: number): Promise<string> {
  const text = `${client.name}\n${issued}\n${client.passwordSha256}`;
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(text));
  return toHex(new Uint8Array(mac));
}

/** 127.0.0.1, ::1 or localhost over plain HTTP: the demo and the tests, where Secure cannot be set. */
export function isLoopback(url: URL): boolean {
  return url.protocol === "http:" && ["127.0.0.1", "[::1]", "localhost"].includes(url.hostname);
}

/** `__Host-` makes the browser refuse the cookie unless it is Secure, for this host only, on Path=/. */
function cookieName(url: URL): string {
  return isLoopback(url) ? "session" : "__Host-session";
}

function cookie(url: URL, value: string, maxAge: number): string {
  const secure = isLoopback(url) ? "" : "; Secure";
  return `${cookieName(url)}=${value}; Path=/; Max-Age=${maxAge}; HttpOnly; SameSite=Strict${secure}`;
}

/** The Set-Cookie value of a new session for the client; undefined when sessions are not configured. */
export async function openSession(env: Env, url: URL, client: ClientSpec): Promise<string | undefined> {
  const key = sessionKey(env);
  if (!key) return undefined;
  const issued = Date.now();
  const token = `${issued}.${await sign(await key, client, issued)}.${client.name}`;
  return cookie(url, token, SESSION_MS / 1000);
}

/** The Set-Cookie value that removes the session cookie. */
export function closedSessionCookie(url: URL): string {
  return cookie(url, "", 0);
}

/** The session cookie's value in a Cookie header, if any. */
function readCookie(request: Request): string | undefined {
  const name = cookieName(new URL(request.url));
  for (const part of (request.headers.get("Cookie") ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Does the request carry a session cookie at all (valid or not)? */
export function hasSessionCookie(request: Request): boolean {
  return readCookie(request) !== undefined;
}

export type SessionAccess = { ok: true; config: Config; client: ClientSpec } | { ok: false; reason: string };

/**
 * The client whose valid session the request carries. A cookie that is malformed, expired, signed
 * with another key, for a client no longer configured (or with another password), or opened
 * before the client last logged out is no session.
 */
export async function readSession(request: Request, env: Env): Promise<SessionAccess> {
  const token = readCookie(request);
  if (!token) return { ok: false, reason: "no session" };
  const config = loadConfig(env);
  const key = sessionKey(env);
  if (!config.ok || !key) return { ok: false, reason: "sessions are not configured" };
  const match = /^(\d{13})\.([0-9a-f]{64})\.(.{1,64})$/.exec(token);
  if (!match) return { ok: false, reason: "malformed session cookie" };
  const [, issuedText = "", mac = "", name = ""] = match;
  const issued = Number(issuedText);
  const now = Date.now();
  if (issued > now + 60_000 || issued + SESSION_MS <= now) return { ok: false, reason: "session expired" };
  const client = config.value.clients.get(name);
  if (!client || !timingSafeEqual(mac, await sign(await key, client, issued)))
    return { ok: false, reason: "session cookie not ours" };
  const endedAt = await sessionsOf(env, client.name).sessionsEndedAt();
  if (issued <= endedAt) return { ok: false, reason: "logged out" };
  return { ok: true, config: config.value, client };
}

/** End every session the client opened until now (log-out). */
export async function endSessions(env: Env, client: ClientSpec): Promise<void> {
  await sessionsOf(env, client.name).endSessions(Date.now());
}

function sessionsOf(env: Env, client: string) {
  return env.GUARD.get(env.GUARD.idFromName(`session ${client}`));
}
