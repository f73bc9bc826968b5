// Client credentials: HTTP Basic or username/password query parameters (routers fill these
// into the URL unescaped). Malformed input is "no credentials", never an exception.
import type { ClientSpec, Config } from "../config";
import { digestHex } from "../core/hex";
import { remembered } from "../core/memo";
import { PARAM_NAMES, type Params, values } from "../dyndns/params";

export interface Credentials {
  user: string;
  password: string;
}

/** Longest user name or password we look at; anything longer cannot match and is not hashed. */
const MAX_CREDENTIAL_LENGTH = 256;

/**
 * Credentials from the query (preferred: that is what the user typed into the router) or Basic.
 * Two different user names or passwords in the query are no credentials: which one would count
 * is not for the request to decide.
 */
export function readCredentials(authorization: string | undefined, params: Params): Credentials | undefined {
  const users = new Set(values(params, PARAM_NAMES.user).map((v) => v.value));
  const passwords = new Set(values(params, PARAM_NAMES.password).map((v) => v.value));
  if (users.size > 1 || passwords.size > 1) return undefined;
  const [user] = users;
  const [password] = passwords;
  if (user !== undefined && password !== undefined) return checkLength({ user, password });
  return authorization === undefined ? undefined : decodeBasic(authorization);
}

/**
 * A client sends the same header every time: decode it once. The longest header worth holding
 * carries a user and a password of MAX_CREDENTIAL_LENGTH characters, 3 UTF-8 bytes each, in Base64.
 */
const LONGEST_BASIC = "Basic ".length + 4 * (2 * MAX_CREDENTIAL_LENGTH + 1);
const decodeBasic = remembered(parseBasic, LONGEST_BASIC, 256);

export function parseBasic(header: string): Credentials | undefined {
  const match = /^\s*basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header);
  if (!match?.[1]) return undefined;
  let decoded: string;
  try {
    const binary = atob(match[1].replace(/-/g, "+").replace(/_/g, "/"));
    decoded = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(
      Uint8Array.from(binary, (ch) => ch.charCodeAt(0)),
    );
  } catch {
    return undefined;
  }
  const colon = decoded.indexOf(":");
  if (colon < 0) return undefined;
  return checkLength({ user: decoded.slice(0, colon), password: decoded.slice(colon + 1) });
}

function checkLength(c: Credentials): Credentials | undefined {
  if (c.user === "" || c.user.length > MAX_CREDENTIAL_LENGTH || c.password.length > MAX_CREDENTIAL_LENGTH)
    return undefined;
  return c;
}

/** Lowercase hex SHA-256 of the text (the form of password_sha256). */
export function sha256(text: string): Promise<string> {
  return digestHex("SHA-256", text);
}

/**
 * Equal in time that depends only on the length of `a`, not on where the texts differ, nor on
 * the length of `b`.
 */
export function timingSafeEqual(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** Matches no SHA-256 (it is no hex at all). */
const UNKNOWN_USER_HASH = "";

/**
 * The client these credentials belong to, or undefined. An unknown user costs the same hash
 * and compare as a known one, so timing does not tell which user names exist.
 */
export async function authenticate(
  config: Config,
  creds: Credentials | undefined,
): Promise<ClientSpec | undefined> {
  if (!creds) return undefined;
  const key = `${creds.user}\n${creds.password}`;
  const known = rightBefore.get(config)?.get(key);
  if (known) return known;
  const client = config.clients.get(creds.user);
  const hash = await sha256(creds.password);
  const ok = timingSafeEqual(hash, client?.passwordSha256 ?? UNKNOWN_USER_HASH);
  if (!ok || !client) return undefined;
  let right = rightBefore.get(config);
  if (!right || right.size >= 256) {
    right = new Map();
    rightBefore.set(config, right);
  }
  right.set(key, client);
  return client;
}

/**
 * Credentials that were right before are right again under the same configuration; only those
 * are remembered (per configuration, so a new deploy starts over), and a guess always costs the
 * full hash and compare.
 */
const rightBefore = new WeakMap<Config, Map<string, ClientSpec>>();
