// The Worker's secrets: which exist and when each is needed (one table, read by `npm run check`
// and the deployment files' test; the Worker's bundle leaves it out), and the checks of their
// values. Messages name the key and the mistake, never the value.
import { type ConfigResult, KEYS, type OvhAuth, type OvhCredentials } from "./types";

export const SECRET_KEYS = [KEYS.applicationKey, KEYS.applicationSecret, KEYS.consumerKey] as const;
/** The alternative: an OAuth2 service account, with rights from an IAM policy. */
export const OAUTH2_SECRET_KEYS = [KEYS.clientId, KEYS.clientSecret] as const;

/**
 * When a secret is needed: `ovh-key` and `ovh-oauth2` are the two ways to reach OVH (one of
 * them, whole), `session` always (the status page's logins), `optional` only when used.
 */
export type SecretNeed = "ovh-key" | "ovh-oauth2" | "session" | "optional";

/**
 * Every secret the Worker reads, in the order a deployment sets them, with the line that
 * .dev.vars.example and package.json's `cloudflare.bindings` (the deploy button's prompts) show
 * for it. Pure, so the Worker's bundle leaves it out.
 */
export const SECRETS: readonly { key: string; need: SecretNeed; doc: string }[] = /* @__PURE__ */ (() => [
  {
    key: KEYS.applicationKey,
    need: "ovh-key",
    doc: "OVH application key, from the createApp page of your OVH endpoint (npm run setup -- ovh)",
  },
  { key: KEYS.applicationSecret, need: "ovh-key", doc: "that OVH application's secret" },
  {
    key: KEYS.consumerKey,
    need: "ovh-key",
    doc: "OVH consumer key allowed GET, POST and PUT on /domain/zone/<zone> and below, nothing else (npm run setup -- ovh makes one)",
  },
  {
    key: KEYS.clientId,
    need: "ovh-oauth2",
    doc: "instead of the three OVH keys: an OVH OAuth2 service account's id (docs/setup.md); empty otherwise",
  },
  { key: KEYS.clientSecret, need: "ovh-oauth2", doc: "that service account's secret; empty otherwise" },
  {
    key: KEYS.sessionSecret,
    need: "session",
    doc: "32 or more random characters that sign the status page's login cookies (npm run setup -- session makes one)",
  },
  {
    key: KEYS.notifyUrls,
    need: "optional",
    doc: "optional: where notifications go, ntfy:// gotify:// discord:// slack:// telegram:// generic+https:// URLs separated by spaces",
  },
  {
    key: KEYS.heartbeatUrl,
    need: "optional",
    doc: "optional: a URL each scheduled check calls, for a dead man's switch such as healthchecks.io",
  },
])();

/** Secrets a Worker lacks, of one kind; `both`: it holds the OVH key and the OAuth2 pair. */
export interface MissingSecrets {
  need: SecretNeed;
  keys: string[];
  both?: true;
}

/**
 * What a Worker holding secrets named `present` lacks: the OVH key or the OAuth2 pair, whichever
 * it has started (the key when neither), SESSION_SECRET, and each optional secret in `used`.
 */
export function missingSecrets(present: ReadonlySet<string>, used: Iterable<string> = []): MissingSecrets[] {
  const lacking = (keys: readonly string[]) => keys.filter((k) => !present.has(k));
  const key = lacking(SECRET_KEYS);
  const oauth2 = lacking(OAUTH2_SECRET_KEYS);
  const startedKey = key.length < SECRET_KEYS.length;
  const startedOauth2 = oauth2.length < OAUTH2_SECRET_KEYS.length;
  const missing: MissingSecrets[] = [];
  if (startedKey && startedOauth2)
    missing.push({ need: "ovh-key", keys: SECRET_KEYS.filter((k) => present.has(k)), both: true });
  else if (startedOauth2) {
    if (oauth2.length > 0) missing.push({ need: "ovh-oauth2", keys: oauth2 });
  } else if (key.length > 0) missing.push({ need: "ovh-key", keys: key });
  if (!present.has(KEYS.sessionSecret)) missing.push({ need: "session", keys: [KEYS.sessionSecret] });
  const optional = [...used].filter((k) => !present.has(k));
  if (optional.length > 0) missing.push({ need: "optional", keys: optional });
  return missing;
}

/**
 * Check the OVH secrets. Messages name the key and the mistake, never the value: a placeholder
 * left in, quotes or spaces pasted along, or a whole `KEY=value` line pasted as the value.
 */
export function parseSecrets(env: Record<string, unknown>): ConfigResult<OvhCredentials> {
  const { errors, values } = readSecrets(env, SECRET_KEYS);
  if (errors.length > 0) return { ok: false, errors };
  const [applicationKey = "", applicationSecret = "", consumerKey = ""] = values;
  return { ok: true, value: { applicationKey, applicationSecret, consumerKey } };
}

/** The values of `keys`, and for each one that is wrong what is wrong and how to set it. */
function readSecrets(env: Record<string, unknown>, keys: readonly string[]) {
  const errors: string[] = [];
  const values = keys.map((key) => {
    const value = env[key];
    const problem = secretProblem(value);
    if (problem) errors.push(`${key}: ${problem} (set it with: wrangler secret put ${key})`);
    return typeof value === "string" ? value : "";
  });
  return { errors, values };
}

/** What is wrong with a value given for an OVH secret, without repeating it; undefined when fine. */
export function secretProblem(value: unknown): string | undefined {
  if (value === undefined || value === null || value === "") return "is not set";
  if (typeof value !== "string") return "must be a string";
  if (/^\s|\s$/.test(value)) return "has spaces or a line break around it";
  if (/^["'`]|["'`]$/.test(value)) return "has quotes pasted around it";
  if (/^[A-Z_]+=/.test(value)) return "looks like a whole KEY=value line was pasted";
  if (/^<.*>$|^\.\.\.$|^x+$|changeme|change-me|your[-_ ]?(key|secret)|placeholder|^todo$/i.test(value)) {
    return "still holds a placeholder";
  }
  if (!/^[\x21-\x7e]+$/.test(value)) return "has characters an OVH key never has";
  return undefined;
}

/** Shortest SESSION_SECRET accepted: 32 characters (npm run setup -- session makes 43). */
export const MIN_SESSION_SECRET = 32;

/** What is wrong with a SESSION_SECRET value, without repeating it; undefined when fine. */
export function sessionSecretProblem(value: unknown): string | undefined {
  const problem = secretProblem(value);
  if (problem) return problem;
  if (typeof value === "string" && value.length < MIN_SESSION_SECRET)
    return `is shorter than ${MIN_SESSION_SECRET} characters`;
  return undefined;
}

/**
 * The OVH credentials in use: the OAuth2 pair when either of its secrets is set, otherwise the
 * application key, application secret and consumer key. Setting both kinds is a mistake.
 */
export function parseOvhAuth(env: Record<string, unknown>): ConfigResult<OvhAuth> {
  const isSet = (key: string) => env[key] !== undefined && env[key] !== "";
  if (!OAUTH2_SECRET_KEYS.some(isSet)) return parseSecrets(env);
  const { errors, values } = readSecrets(env, OAUTH2_SECRET_KEYS);
  const mixed = SECRET_KEYS.filter(isSet);
  if (mixed.length > 0) {
    errors.unshift(
      `${mixed.join(", ")}: set either these or ${OAUTH2_SECRET_KEYS.join(" and ")}, not both (wrangler secret delete …)`,
    );
  }
  if (errors.length > 0) return { ok: false, errors };
  const [clientId = "", clientSecret = ""] = values;
  return { ok: true, value: { clientId, clientSecret } };
}
