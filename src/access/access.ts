// Who may make a request: the configuration must be valid, the parameters readable, the
// credentials right, and the source network not blocked after repeated failed logins (dated by
// clockNow(), as the guard dates them).
import { type ClientSpec, type Config, loadConfig } from "../config";
import { clockNow } from "../core/clock";
import { messageOf } from "../core/text";
import { type Params, readParams } from "../dyndns/params";
import { RETRY_AFTER_911, type Reply } from "../dyndns/reply";
import type { Env } from "../env";
import { log } from "../log";
import { authenticate, readCredentials } from "./credentials";
import { loginsGuardName, sourceKey } from "./guard";
import { crossSite } from "./origin";

export type Access =
  | { ok: true; config: Config; client: ClientSpec; params: Params }
  /** `notes`: what the log line should say about the refusal. */
  | { ok: false; reply: Reply; notes?: string[] };

/**
 * What this isolate knows, to spare the guard a call: per source network, a block of every user
 * name; per source and user name, a block (until it ends) or a recent check that found it clear.
 * "Clear" is set only by a correct login the guard checked, and a failed login drops it at once
 * and is always counted by the guard, so a user name that keeps failing is refused consistently;
 * the only slack is one unguarded correct login per such check, whatever CLEAR_FOR_MS is (see
 * SECURITY.md). CLEAR_FOR_MS outlasts a client's usual 5-minute interval, so a warm isolate
 * answers its reports without a Durable Object request to the guard.
 */
const known = new Map<string, { blockedUntil?: number; clearUntil?: number }>();
const CLEAR_FOR_MS = 15 * 60_000;
const MAX_KNOWN = 10_000;

/** The longest user name a log line repeats (configured names have at most 64 characters). */
const LOGGED_USER_LENGTH = 64;

export interface AccessOptions {
  /** The request changes records: refuse it when a web page of another site sent it. */
  changesState?: boolean;
  /** Runs work after the reply (the request's waitUntil): what the reply must not wait for. */
  later: (work: Promise<unknown>) => void;
}

/** Config, parameters and credentials, with the abuse limit for failed logins. */
export async function access(request: Request, env: Env, options: AccessOptions): Promise<Access> {
  // Hono answers HEAD with the GET handler; an update must never run for a HEAD.
  if (request.method === "HEAD") return { ok: false, reply: { kind: "method", allow: "GET, POST" } };
  // Before anything is read or counted: a forged request must not even count as a failed login.
  const forged = options.changesState ? crossSite(request) : undefined;
  if (forged) return { ok: false, reply: { kind: "badrequest", reason: forged } };
  const config = loadConfig(env);
  if (!config.ok) {
    const notes = config.errors.map((e) => `config: ${e}`);
    return { ok: false, reply: { kind: "911", retryAfter: RETRY_AFTER_911 }, notes };
  }
  const params = await readParams(request);
  if ("refused" in params) return { ok: false, reply: { kind: "badrequest", reason: params.refused } };

  const { authFailLimit, authFailWindow, authIpv6Prefix } = config.value.settings;
  const source = sourceKey(request.headers.get("CF-Connecting-IP") ?? undefined, authIpv6Prefix);
  const now = clockNow();
  const blockedSource = blockedFor(known.get(source), now);
  if (blockedSource > 0) return abuse(source, undefined, blockedSource);
  const credentials = readCredentials(request.headers.get("Authorization") ?? undefined, params);
  // No (or unreadable) credentials is not a guess: a browser asks once before it prompts.
  if (!credentials) return { ok: false, reply: { kind: "badauth" } };
  const { user } = credentials;
  const key = `${source}\n${user}`;
  const mine = known.get(key);
  // Blocked: the same answer whatever the password, so the password is not even checked.
  const blockedUser = blockedFor(mine, now);
  if (blockedUser > 0) return abuse(source, user, blockedUser);

  const client = await authenticate(config.value, credentials);
  if (!client || !mine?.clearUntil || mine.clearUntil <= now) {
    const guard = env.GUARD.get(env.GUARD.idFromName(source));
    const state = client
      ? await guard.check(user, authFailLimit, authFailWindow)
      : await guard.fail(user, authFailLimit, authFailWindow);
    // After the reply, for every user name alike: a configured name's reply must not take longer.
    if (!client) options.later(noteFailedLogin(env, config.value, user, source));
    if (known.size >= MAX_KNOWN) known.clear();
    const at = clockNow();
    if (state.sourceBlockedForMs > 0) known.set(source, { blockedUntil: at + state.sourceBlockedForMs });
    if (state.blockedForMs > 0) {
      known.set(key, { blockedUntil: at + state.blockedForMs });
      return abuse(source, user, state.blockedForMs);
    }
    if (client) known.set(key, { clearUntil: at + CLEAR_FOR_MS });
    else known.delete(key);
  }
  if (!client) {
    const notes = [
      `wrong password or unknown user name ${JSON.stringify(user.slice(0, LOGGED_USER_LENGTH))}`,
    ];
    return { ok: false, reply: { kind: "badauth" }, notes };
  }
  return { ok: true, config: config.value, client, params };
}

/** A configured client's failed login, per source, for its status; made-up user names are not kept. */
async function noteFailedLogin(env: Env, config: Config, user: string, source: string): Promise<void> {
  if (!config.clients.has(user)) return;
  try {
    await env.GUARD.get(env.GUARD.idFromName(loginsGuardName(user))).noteFailedLogin(source);
  } catch (error) {
    log("error", { message: `failed-login list: ${messageOf(error)}` });
  }
}

/** Milliseconds left of a block this isolate knows of; 0 when none. */
function blockedFor(entry: { blockedUntil?: number } | undefined, now: number): number {
  return entry?.blockedUntil && entry.blockedUntil > now ? entry.blockedUntil - now : 0;
}

function abuse(source: string, user: string | undefined, forMs: number): Access {
  const retryAfter = Math.ceil(forMs / 1000);
  const who = user === undefined ? "every user name" : JSON.stringify(user.slice(0, LOGGED_USER_LENGTH));
  const notes = [`${who} from ${source} is blocked for ${retryAfter} s after repeated failed logins`];
  return { ok: false, reply: { kind: "abuse", retryAfter }, notes };
}
