// From the environment to a Config: [vars] by its schemas, then what only the whole can show (a
// record written by two hosts, a client naming an unknown host), then the OVH secrets. Every
// problem is collected, so one run names them all. Reading the environment (loadConfig) is
// separate from checking it, so the CLI checks wrangler.toml with the same code.
import * as z from "zod/mini";
import { networkMask, parseIPv6, toBigInt } from "../core/address";
import { oauth2TokenUrl, resolveEndpoint } from "../ovh/endpoints";
import { describeIssue, didYouMean, endpointProblem, formatIssue } from "./issues";
import { CLIENT_NAME_RE, clientSchema, hostSchema, isFqdn, type RawHost, type RawRecord } from "./schema";
import { parseOvhAuth, SECRET_KEYS } from "./secrets";
import { readSettings, type Settings, settingsSchema } from "./settings";
import {
  type ClientSpec,
  type Config,
  type ConfigResult,
  DEFAULT_TTL,
  type HostSpec,
  KEYS,
  type RecordSpec,
  type Vars,
} from "./types";

/** The top of [vars]: HOSTS and CLIENTS are tables (each entry is checked on its own). */
const varsSchema = z.object({
  [KEYS.endpoint]: z.optional(z.string()),
  // Tables of any keys: catchall, not z.record, which costs the bundle 0.6 KiB gzip more.
  [KEYS.hosts]: z.catchall(z.object({}), z.unknown()),
  [KEYS.clients]: z.catchall(z.object({}), z.unknown()),
  [KEYS.settings]: z.optional(z.unknown()),
});

/** `schema` applied to `value`; each issue becomes a message under `path`, into `errors`. */
function check<T>(schema: z.ZodMiniType<T>, value: unknown, path: PropertyKey[], errors: string[]) {
  const parsed = schema.safeParse(value, { error: describeIssue });
  if (parsed.success) return parsed.data;
  for (const issue of withTyposJoined(parsed.error.issues)) errors.push(formatIssue(issue, path));
  return undefined;
}

/**
 * An unknown key next to a missing key it nearly spells (`subDomain` for `subdomain`) is one
 * mistake: one line that names both, instead of "unknown key" and "is missing".
 */
function withTyposJoined(issues: z.core.$ZodIssue[]): z.core.$ZodIssue[] {
  const parent = (path: PropertyKey[]) => path.slice(0, -1).join("\0");
  const joined = new Set<z.core.$ZodIssue>();
  const out = issues.map((issue) => {
    if (issue.code !== "unrecognized_keys") return issue;
    for (const m of issues) {
      const key = String(m.path.at(-1));
      if (m.message !== "is missing" || parent(m.path) !== issue.path.join("\0")) continue;
      const typo = issue.keys.find((k) => didYouMean(k, [key]) !== "");
      if (typo === undefined) continue;
      joined.add(m);
      return { ...issue, message: `${issue.message}${didYouMean(typo, [key])}` };
    }
    return issue;
  });
  return out.filter((i) => !joined.has(i));
}

/** Check the vars from wrangler.toml (`[vars]`), as the Worker sees them. */
export function parseVars(env: unknown): ConfigResult<Vars> {
  const errors: string[] = [];
  const raw = check(varsSchema, env, [], errors);
  if (!raw) return { ok: false, errors };
  const endpoint = readEndpoint(raw[KEYS.endpoint], errors);
  const hosts = readHosts(raw[KEYS.hosts], errors);
  const clients = readClients(raw[KEYS.clients], Object.keys(raw[KEYS.hosts]), errors);
  const settings = check(settingsSchema, raw[KEYS.settings] ?? {}, [KEYS.settings], errors);
  if (errors.length > 0 || !endpoint || !settings) return { ok: false, errors };
  return { ok: true, value: { endpoint, hosts, clients, settings: readSettings(settings) } };
}

function readEndpoint(value: string | undefined, errors: string[]): string | undefined {
  const name = value ?? "ovh-eu";
  const endpoint = resolveEndpoint(name);
  if (!endpoint) errors.push(`${KEYS.endpoint}: ${endpointProblem(name)}`);
  return endpoint;
}

/** Each host by its schema, then its records; a record two hosts (or one, twice) write is an error. */
function readHosts(table: Record<string, unknown>, errors: string[]): Map<string, HostSpec> {
  const hosts = new Map<string, HostSpec>();
  const owners = new Map<string, string>(); // "zone subdomain TYPE" → host that writes it
  for (const [name, value] of Object.entries(table)) {
    const at = `${KEYS.hosts}."${name}"`;
    if (!isFqdn(name))
      errors.push(`${at}: the host name must be a lowercase domain name like wg-end.example.tld`);
    const host = check(hostSchema, value, [KEYS.hosts, name], errors);
    if (!host) continue;
    const records = host.records.map((r, i) => {
      const rat = `${at}.records[${i}]`;
      const spec = readRecord(host, r, rat, errors);
      const key = `${host.zone} ${r.subdomain} ${r.type}`;
      const owner = owners.get(key);
      const label = `${r.type} ${r.subdomain === "" ? "(apex)" : r.subdomain} in ${host.zone}`;
      if (owner === name) errors.push(`${rat}: ${label} is listed twice`);
      else if (owner)
        errors.push(
          `${rat}: ${label} is also written by host "${owner}"; two hosts would overwrite each other`,
        );
      else owners.set(key, name);
      return spec;
    });
    const spec: HostSpec = { name, zone: host.zone, allowPrivate: host.allow_private ?? false, records };
    if (host.stale_after !== undefined) spec.staleAfter = host.stale_after;
    if (host.serve_within !== undefined) spec.serveWithin = host.serve_within;
    hosts.set(name, spec);
  }
  return hosts;
}

/** One record of a host: its TTL, and the host_id and prefix_length rules. */
function readRecord(host: RawHost, r: RawRecord, at: string, errors: string[]): RecordSpec {
  const spec: RecordSpec = {
    zone: host.zone,
    subdomain: r.subdomain,
    type: r.type,
    ttl: r.ttl ?? host.ttl ?? DEFAULT_TTL,
  };
  if (r.subdomain === host.zone || r.subdomain.endsWith(`.${host.zone}`)) {
    const inside = r.subdomain.slice(0, -host.zone.length - 1);
    errors.push(
      `${at}.subdomain: "${r.subdomain}" already ends in the zone, so the record would be ${r.subdomain}.${host.zone}; write "${inside}"${inside === "" ? " (the zone apex)" : ""}`,
    );
  }
  if (r.host_id !== undefined) {
    const id = parseIPv6(r.host_id);
    if (r.type !== "AAAA") errors.push(`${at}.host_id: only AAAA records take a host_id`);
    else if (!id.ok) errors.push(`${at}.host_id: ${id.reason} (write it like "::10:211:32ff:fe12:3456")`);
    else {
      spec.hostId = toBigInt(id.value.text);
      const problem = hostIdProblem(spec.hostId, r.prefix_length);
      if (problem) errors.push(`${at}.host_id: ${problem}`);
    }
  }
  if (r.prefix_length !== undefined) {
    if (r.host_id === undefined) errors.push(`${at}.prefix_length: only makes sense with a host_id`);
    spec.prefixLength = r.prefix_length;
  }
  return spec;
}

/** A host_id with bits inside the prefix it is joined to; undefined when it has none. */
function hostIdProblem(hostId: bigint, prefixLength: number | undefined): string | undefined {
  if (prefixLength !== undefined && (hostId & networkMask(prefixLength)) !== 0n)
    return `has bits inside the /${prefixLength} prefix; keep only the host bits`;
  // Without prefix_length the reported length is used, and a LAN reports a /64.
  if (prefixLength === undefined && (hostId & networkMask(64)) !== 0n)
    return "has bits above the last 64; set prefix_length (56 for subnet bits in a /56) to say how many bits come from the prefix";
  return undefined;
}

/** Each client by its schema; each of its hosts must be a key of HOSTS (`hostNames`). */
function readClients(
  table: Record<string, unknown>,
  hostNames: readonly string[],
  errors: string[],
): Map<string, ClientSpec> {
  const clients = new Map<string, ClientSpec>();
  for (const [name, value] of Object.entries(table)) {
    if (!CLIENT_NAME_RE.test(name))
      errors.push(`${KEYS.clients}."${name}": a client name is 1 to 64 letters, digits, '.', '_' or '-'`);
    const client = check(clientSchema, value, [KEYS.clients, name], errors);
    if (!client) continue;
    for (const h of client.hosts) {
      if (!hostNames.includes(h))
        errors.push(
          `${KEYS.clients}.${name}.hosts: "${h}" is not a key of ${KEYS.hosts}${didYouMean(h, hostNames)}`,
        );
    }
    const spec: ClientSpec = {
      name,
      passwordSha256: client.password_sha256.toLowerCase(),
      hosts: new Set(client.hosts),
      admin: client.admin ?? false,
    };
    if (client.reply !== undefined) spec.reply = client.reply;
    clients.set(name, spec);
  }
  return clients;
}

/** Seconds after a change within which `host`'s records must be served: its own serve_within, or the setting's. */
export function serveWithinOf(host: HostSpec, settings: Settings): number {
  return host.serveWithin ?? settings.serveWithin;
}

/** Seconds without an accepted report before `host` is stale: its own stale_after, or the setting's. */
export function staleAfterOf(host: HostSpec, settings: Settings): number {
  return host.staleAfter ?? settings.staleAfter;
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
