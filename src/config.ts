// The Worker's configuration: one zod schema for the vars in wrangler.toml and the OVH secrets,
// parsed once per isolate. Reading the environment (loadConfig) is separate from checking it
// (parseVars / parseSecrets), so the setup CLI validates wrangler.toml with the same schema.
import * as z from "zod/mini";
import { networkMask, parseIPv6, toBigInt } from "./core/address";
import { oauth2TokenUrl, resolveEndpoint } from "./ovh/endpoints";

/** Names of the vars and secrets: the public contract of wrangler.toml. */
export const KEYS = {
  endpoint: "OVH_ENDPOINT",
  hosts: "HOSTS",
  clients: "CLIENTS",
  settings: "SETTINGS",
  applicationKey: "OVH_APPLICATION_KEY",
  applicationSecret: "OVH_APPLICATION_SECRET",
  consumerKey: "OVH_CONSUMER_KEY",
  clientId: "OVH_CLIENT_ID",
  clientSecret: "OVH_CLIENT_SECRET",
  sessionSecret: "SESSION_SECRET",
} as const;

export const SECRET_KEYS = [KEYS.applicationKey, KEYS.applicationSecret, KEYS.consumerKey] as const;
/** The alternative: an OAuth2 service account, with rights from an IAM policy. */
export const OAUTH2_SECRET_KEYS = [KEYS.clientId, KEYS.clientSecret] as const;

export const DEFAULT_TTL = 60;
export const MAX_HOSTS_PER_REQUEST = 20;

export type RecordType = "A" | "AAAA";

/** One DNS record a host writes. */
export interface RecordSpec {
  zone: string;
  subdomain: string;
  type: RecordType;
  ttl: number;
  /** Interface identifier (host bits) joined to the reported prefix; AAAA only. */
  hostId?: bigint;
  /** How many top bits of the reported prefix to keep; unset: the reported length. */
  prefixLength?: number;
}

export interface HostSpec {
  name: string;
  zone: string;
  allowPrivate: boolean;
  records: RecordSpec[];
  /** Its own stale_after, when it sets one (see staleAfterOf). */
  staleAfter?: number;
}

export interface ClientSpec {
  name: string;
  /** Lowercase hex. */
  passwordSha256: string;
  hosts: ReadonlySet<string>;
  /** May see every host on the status page (it still reports only for `hosts`). */
  admin: boolean;
}

export interface Settings {
  /** Seconds a remembered record counts as confirmed before one read re-checks it. */
  recheckAfter: number;
  /** Milliseconds for each OVH call. */
  ovhTimeoutMs: number;
  /**
   * OVH calls one batch may make: a Worker invocation has 50 subrequests on the Free plan
   * (1,000 on paid plans); the last is kept for the zone refresh.
   */
  maxOvhCalls: number;
  /**
   * Failed logins of one user name from one source within authFailWindow seconds before that
   * user name is refused there (3 × as many of all user names before the whole source is).
   */
  authFailLimit: number;
  authFailWindow: number;
  /** The IPv6 prefix length that counts as one source for failed logins (IPv4: one address). */
  authIpv6Prefix: number;
  /** OVH calls one zone's coordinator makes in any minute, at most (src/zone/pace.ts). */
  ovhCallsPerMinute: number;
  /** Address changes of one host within changeWindow seconds before writes are refused. */
  changeLimit: number;
  changeWindow: number;
  /** Seconds without an accepted report before a host is stale (0 = never); hosts may set their own. */
  staleAfter: number;
}

export interface Vars {
  endpoint: string;
  hosts: ReadonlyMap<string, HostSpec>;
  clients: ReadonlyMap<string, ClientSpec>;
  settings: Settings;
}

export interface OvhCredentials {
  applicationKey: string;
  applicationSecret: string;
  consumerKey: string;
}

export interface OAuth2Credentials {
  clientId: string;
  clientSecret: string;
}

/** How the Worker authenticates to OVH: application + consumer key, or an OAuth2 service account. */
export type OvhAuth = OvhCredentials | OAuth2Credentials;

export interface Config extends Vars {
  credentials: OvhAuth;
}

export type ConfigResult<T> = { ok: true; value: T } | { ok: false; errors: string[] };

/** A client's user name: what routers put in a URL without escaping. */
export const CLIENT_NAME_RE = /^[A-Za-z0-9._-]{1,64}$/;

const LABEL = "(?!-)[a-z0-9-]{1,63}(?<!-)";
const FQDN_RE = new RegExp(`^(?=.{1,253}$)${LABEL}(\\.${LABEL})+$`);
const SUBDOMAIN_RE = new RegExp(`^(${LABEL}|\\*)(\\.${LABEL})*$`);

/** A lowercase, dot-separated DNS name of at least two labels, without a trailing dot. */
export function isFqdn(name: string): boolean {
  return FQDN_RE.test(name);
}

// Only refine, custom and catchall below, not regex, enum, minLength or record: each kind of
// check is code in the bundle, and these cover the same ground with the same messages.
/** A whole number from `min` to `max`, with the messages too_small and too_big would get. */
const between = (min: number, max: number) =>
  z.int().check(
    z.refine((n) => n >= min, `must be at least ${min}`),
    z.refine((n) => n <= max, `must be at most ${max}`),
  );
const fqdn = z.string().check(z.refine(isFqdn, "must be a lowercase domain name like example.tld"));
// OVH stores a TTL of 1 to 59 as 60 and answers 200 (docs/reference/ovh-api.md), so such a
// record would look changed at every recheck; 0 is the zone's default, which OVH keeps as 0.
const ttl = between(0, 86_400).check(
  z.refine(
    (n) => n <= 0 || n >= 60,
    "must be 0 (the zone's default) or at least 60; OVH stores 1 to 59 as 60",
  ),
);
/** stale_after: 0 (off), or at least a minute and at most a year. */
const staleAfter = between(0, 366 * 86_400).check(
  z.refine((n) => n === 0 || n >= 60, "must be 0 (off) or at least 60"),
);

const recordSchema = z.strictObject({
  subdomain: z
    .string()
    .check(
      z.refine((s) => s === "" || SUBDOMAIN_RE.test(s), 'must be "" (the zone apex) or a name like "www"'),
    ),
  type: z.custom<RecordType>((t) => t === "A" || t === "AAAA", 'must be "A" or "AAAA"'),
  ttl: z.optional(ttl),
  host_id: z.optional(z.string()),
  prefix_length: z.optional(between(1, 127)),
});

const hostSchema = z.strictObject({
  zone: fqdn,
  ttl: z.optional(ttl),
  allow_private: z.optional(z.boolean()),
  stale_after: z.optional(staleAfter),
  records: z.array(recordSchema).check(z.refine((a) => a.length > 0, "must list at least one record")),
});

/** SHA-256 of "" (what `printf "$UNSET" | sha256sum` gives), and one digit repeated 64 times. */
const EMPTY_PASSWORD_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
function isPlaceholderHash(hex: string): boolean {
  const h = hex.toLowerCase();
  return h === EMPTY_PASSWORD_SHA256 || /^(.)\1{63}$/.test(h);
}

const clientSchema = z.strictObject({
  password_sha256: z.string().check(
    z.refine((h) => /^[0-9a-f]{64}$/i.test(h), "must be the 64 hex digits of a SHA-256 (npm run new-client)"),
    z.refine(
      (h) => !isPlaceholderHash(h),
      "is the SHA-256 of an empty password, or a placeholder (npm run new-client)",
    ),
  ),
  hosts: z.array(z.string()).check(z.refine((a) => a.length > 0, "must list at least one host")),
  admin: z.optional(z.boolean()),
});

const seconds = between(1, 30 * 86_400);
const settingsSchema = z.strictObject({
  recheck_after: z.optional(seconds),
  // At most 15 s: every report is answered within 20 s (src/zone/stubs.ts).
  ovh_timeout_ms: z.optional(between(100, 15_000)),
  max_ovh_calls: z.optional(between(3, 10_000)),
  ovh_calls_per_minute: z.optional(between(2, 10_000)),
  auth_fail_limit: z.optional(between(1, 10_000)),
  auth_fail_window: z.optional(seconds),
  auth_ipv6_prefix: z.optional(between(32, 64)),
  change_limit: z.optional(between(1, 10_000)),
  change_window: z.optional(seconds),
  stale_after: z.optional(staleAfter),
});

const varsSchema = z.object({
  [KEYS.endpoint]: z.optional(z.string()),
  // Tables of any keys: catchall, not z.record, which costs the bundle 0.6 KiB gzip more.
  [KEYS.hosts]: z.catchall(z.object({}), hostSchema),
  [KEYS.clients]: z.catchall(z.object({}), clientSchema),
  [KEYS.settings]: z.optional(settingsSchema),
});

export const DEFAULT_SETTINGS: Settings = {
  recheckAfter: 3600,
  ovhTimeoutMs: 5000,
  maxOvhCalls: 45,
  authFailLimit: 10,
  authFailWindow: 600,
  authIpv6Prefix: 56,
  ovhCallsPerMinute: 60,
  changeLimit: 20,
  changeWindow: 3600,
  staleAfter: 2 * 86_400,
};

/** Check the vars from wrangler.toml (`[vars]`), as the Worker sees them. */
export function parseVars(env: unknown): ConfigResult<Vars> {
  const parsed = varsSchema.safeParse(env, { error: describeIssue });
  if (!parsed.success) return { ok: false, errors: parsed.error.issues.map(formatIssue) };
  const raw = parsed.data;
  const errors: string[] = [];

  const endpointName = raw[KEYS.endpoint] ?? "ovh-eu";
  const endpoint = resolveEndpoint(endpointName);
  if (!endpoint) errors.push(`${KEYS.endpoint}: ${endpointProblem(endpointName)}`);

  const hosts = new Map<string, HostSpec>();
  const owners = new Map<string, string>(); // "zone subdomain TYPE" → host that writes it
  for (const [name, host] of Object.entries(raw[KEYS.hosts])) {
    const at = `${KEYS.hosts}."${name}"`;
    if (!isFqdn(name))
      errors.push(`${at}: the host name must be a lowercase domain name like wg-end.example.tld`);
    const records: RecordSpec[] = [];
    host.records.forEach((r, i) => {
      const rat = `${at}.records[${i}]`;
      const spec: RecordSpec = {
        zone: host.zone,
        subdomain: r.subdomain,
        type: r.type,
        ttl: r.ttl ?? host.ttl ?? DEFAULT_TTL,
      };
      if (r.host_id !== undefined) {
        const id = parseIPv6(r.host_id);
        if (r.type !== "AAAA") errors.push(`${rat}.host_id: only AAAA records take a host_id`);
        else if (!id.ok)
          errors.push(`${rat}.host_id: ${id.reason} (write it like "::10:211:32ff:fe12:3456")`);
        else {
          spec.hostId = toBigInt(id.value.text);
          if (r.prefix_length !== undefined && (spec.hostId & networkMask(r.prefix_length)) !== 0n) {
            errors.push(
              `${rat}.host_id: has bits inside the /${r.prefix_length} prefix; keep only the host bits`,
            );
          } else if (r.prefix_length === undefined && (spec.hostId & networkMask(64)) !== 0n) {
            // Without prefix_length the reported length is used, and a LAN reports a /64.
            errors.push(
              `${rat}.host_id: has bits above the last 64; set prefix_length (56 for subnet bits in a /56) to say how many bits come from the prefix`,
            );
          }
        }
      }
      if (r.prefix_length !== undefined) {
        if (r.host_id === undefined) errors.push(`${rat}.prefix_length: only makes sense with a host_id`);
        spec.prefixLength = r.prefix_length;
      }
      const key = `${host.zone} ${r.subdomain} ${r.type}`;
      const owner = owners.get(key);
      const label = `${r.type} ${r.subdomain === "" ? "(apex)" : r.subdomain} in ${host.zone}`;
      if (owner === name) errors.push(`${rat}: ${label} is listed twice`);
      else if (owner)
        errors.push(
          `${rat}: ${label} is also written by host "${owner}"; two hosts would overwrite each other`,
        );
      else owners.set(key, name);
      records.push(spec);
    });
    const spec: HostSpec = { name, zone: host.zone, allowPrivate: host.allow_private ?? false, records };
    if (host.stale_after !== undefined) spec.staleAfter = host.stale_after;
    hosts.set(name, spec);
  }

  const clients = new Map<string, ClientSpec>();
  for (const [name, client] of Object.entries(raw[KEYS.clients])) {
    if (!CLIENT_NAME_RE.test(name))
      errors.push(`${KEYS.clients}."${name}": a client name is 1 to 64 letters, digits, '.', '_' or '-'`);
    for (const h of client.hosts) {
      if (!hosts.has(h)) errors.push(`${KEYS.clients}.${name}.hosts: "${h}" is not a key of ${KEYS.hosts}`);
    }
    clients.set(name, {
      name,
      passwordSha256: client.password_sha256.toLowerCase(),
      hosts: new Set(client.hosts),
      admin: client.admin ?? false,
    });
  }

  if (errors.length > 0 || !endpoint) return { ok: false, errors };
  const s = raw[KEYS.settings] ?? {};
  const settings: Settings = {
    recheckAfter: s.recheck_after ?? DEFAULT_SETTINGS.recheckAfter,
    ovhTimeoutMs: s.ovh_timeout_ms ?? DEFAULT_SETTINGS.ovhTimeoutMs,
    maxOvhCalls: s.max_ovh_calls ?? DEFAULT_SETTINGS.maxOvhCalls,
    authFailLimit: s.auth_fail_limit ?? DEFAULT_SETTINGS.authFailLimit,
    authFailWindow: s.auth_fail_window ?? DEFAULT_SETTINGS.authFailWindow,
    authIpv6Prefix: s.auth_ipv6_prefix ?? DEFAULT_SETTINGS.authIpv6Prefix,
    ovhCallsPerMinute: s.ovh_calls_per_minute ?? DEFAULT_SETTINGS.ovhCallsPerMinute,
    changeLimit: s.change_limit ?? DEFAULT_SETTINGS.changeLimit,
    changeWindow: s.change_window ?? DEFAULT_SETTINGS.changeWindow,
    staleAfter: s.stale_after ?? DEFAULT_SETTINGS.staleAfter,
  };
  return { ok: true, value: { endpoint, hosts, clients, settings } };
}

/** Seconds without an accepted report before `host` is stale: its own stale_after, or the setting's. */
export function staleAfterOf(host: HostSpec, settings: Settings): number {
  return host.staleAfter ?? settings.staleAfter;
}

/** Why an OVH_ENDPOINT value is refused. A URL is not echoed: it may carry a password or token. */
function endpointProblem(value: string): string {
  if (/^https?:\/\//i.test(value))
    return "must be a base URL without user, password, query or fragment, like https://eu.api.ovh.com/1.0";
  const shown = /^[\w.-]{1,40}$/.test(value) ? `"${value}" ` : "";
  return `${shown}is neither an OVH endpoint name (ovh-eu, ovh-ca, …) nor an http(s) URL`;
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

/** Vars and secrets together; what the Worker needs to serve updates. */
export function parseConfig(env: Record<string, unknown>): ConfigResult<Config> {
  const vars = parseVars(env);
  const secrets = parseOvhAuth(env);
  if (vars.ok && secrets.ok && "clientId" in secrets.value && !oauth2TokenUrl(vars.value.endpoint)) {
    return {
      ok: false,
      errors: [
        `${KEYS.endpoint}: this endpoint has no OAuth2 service accounts; use ${SECRET_KEYS.join(", ")}`,
      ],
    };
  }
  const errors = [...(vars.ok ? [] : vars.errors), ...(secrets.ok ? [] : secrets.errors)];
  if (!vars.ok || !secrets.ok) return { ok: false, errors };
  return { ok: true, value: { ...vars.value, credentials: secrets.value } };
}

const cache = new WeakMap<object, ConfigResult<Config>>();

/** parseConfig, once per env object (the runtime hands the same object to every request). */
export function loadConfig(env: object): ConfigResult<Config> {
  let result = cache.get(env);
  if (!result) {
    result = parseConfig(env as Record<string, unknown>);
    cache.set(env, result);
  }
  return result;
}

function formatIssue(issue: z.core.$ZodIssue): string {
  let at = "";
  for (const part of issue.path) {
    if (typeof part === "number") at += `[${part}]`;
    else {
      const key = String(part);
      const word = /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? key : `"${key}"`;
      at += at === "" ? word : `.${word}`;
    }
  }
  return `${at || "config"}: ${issue.message}`;
}

const TYPE_NAMES: Record<string, string> = {
  string: "a string",
  number: "a number",
  int: "a whole number",
  boolean: "true or false",
  object: "a table (object)",
  array: "a list",
};

/**
 * Messages for issues the schema gives none of its own (zod/mini ships no wording: it would say
 * "Invalid input"). What is wrong, in words; never the value itself.
 */
function describeIssue(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case "unrecognized_keys":
      return `unknown key(s) ${issue.keys.map((k) => `"${k}"`).join(", ")}`;
    case "invalid_type":
      return issue.input === undefined
        ? "is missing"
        : `must be ${TYPE_NAMES[issue.expected] ?? issue.expected}`;
    default:
      return undefined;
  }
}
