// Who may make a request: the configuration must be valid, the parameters readable, the
// credentials right, and the source network not blocked after repeated failed logins.
import { type ClientSpec, type Config, loadConfig } from "../config";
import { type Params, readParams } from "../dyndns/params";
import { RETRY_AFTER_911, type Reply } from "../dyndns/reply";
import type { Env } from "../env";
import { authenticate, readCredentials } from "./credentials";
import { sourceKey } from "./guard";

export type Access =
  | { ok: true; config: Config; client: ClientSpec; params: Params }
  /** `notes`: what the log line should say about the refusal. */
  | { ok: false; reply: Reply; notes?: string[] };

/**
 * What this isolate knows of each source network, to spare the guard a call: a block (until it
 * ends), or a recent check that found the source clear. A failed login from the source drops
 * "clear" at once and is always counted by the guard, so a source that keeps failing is
 * refused consistently; the only slack is a source this isolate saw log in correctly within
 * CLEAR_FOR_MS (see SECURITY.md).
 */
const sources = new Map<string, { blockedUntil?: number; clearUntil?: number }>();
const CLEAR_FOR_MS = 30_000;
const MAX_SOURCES = 10_000;

/** Config, parameters and credentials, with the abuse limit for failed logins. */
export async function access(request: Request, env: Env): Promise<Access> {
  // Hono answers HEAD with the GET handler; an update must never run for a HEAD.
  if (request.method === "HEAD") return { ok: false, reply: { kind: "method", allow: "GET, POST" } };
  const config = loadConfig(env);
  if (!config.ok) {
    const notes = config.errors.map((e) => `config: ${e}`);
    return { ok: false, reply: { kind: "911", retryAfter: RETRY_AFTER_911 }, notes };
  }
  const params = await readParams(request);
  if ("refused" in params) return { ok: false, reply: { kind: "badrequest", reason: params.refused } };

  const { authFailLimit, authFailWindow } = config.value.settings;
  const source = sourceKey(request.headers.get("CF-Connecting-IP") ?? undefined);
  const now = Date.now();
  const known = sources.get(source);
  if (known?.blockedUntil && known.blockedUntil > now) {
    return { ok: false, reply: { kind: "abuse", retryAfter: Math.ceil((known.blockedUntil - now) / 1000) } };
  }
  const credentials = readCredentials(request.headers.get("Authorization") ?? undefined, params);
  // No (or unreadable) credentials is not a guess: a browser asks once before it prompts.
  if (!credentials) return { ok: false, reply: { kind: "badauth" } };
  const client = await authenticate(config.value, credentials);
  if (!client || !known?.clearUntil || known.clearUntil <= now) {
    const guard = env.GUARD.get(env.GUARD.idFromName(source));
    const { blockedFor } = client
      ? await guard.check(authFailLimit, authFailWindow)
      : await guard.fail(authFailLimit, authFailWindow);
    if (sources.size >= MAX_SOURCES) sources.clear();
    if (blockedFor > 0) {
      sources.set(source, { blockedUntil: Date.now() + blockedFor * 1000 });
      const notes = [`source ${source} is blocked for ${blockedFor} s after repeated failed logins`];
      return { ok: false, reply: { kind: "abuse", retryAfter: blockedFor }, notes };
    }
    if (client) sources.set(source, { clearUntil: Date.now() + CLEAR_FOR_MS });
    else sources.delete(source);
  }
  if (!client) return { ok: false, reply: { kind: "badauth" } };
  return { ok: true, config: config.value, client, params };
}
