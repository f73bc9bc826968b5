// [vars.SETTINGS], from one table: each setting's key in wrangler.toml, the schema of its value,
// its default and one line for the docs. A new setting is one entry here; the Settings type, the
// schema, the defaults, `npm run check`'s listing and the README's check all follow from it.
import * as z from "zod/mini";
import { parseNameServer } from "../dns/client";
import { between, seconds, serveWithin, staleAfter } from "./schema";

/** One setting: its key under [vars.SETTINGS], its schema, its default, what it means. */
export interface Setting<T> {
  key: string;
  schema: z.ZodMiniType<T>;
  default: T;
  doc: string;
}

const setting = <T>(
  key: string,
  schema: z.ZodMiniType<T>,
  fallback: NoInfer<T>,
  doc: string,
): Setting<T> => ({
  key,
  schema,
  default: fallback,
  doc,
});

/** Every setting, by the name the code reads it as (`settings.recheckAfter`). */
export const SETTINGS_TABLE = {
  recheckAfter: setting(
    "recheck_after",
    seconds,
    3600,
    "seconds a remembered record is trusted before a list and a read confirm it",
  ),
  // At most 15 s: every report is answered within 20 s (REPORT_DEADLINE_MS, src/zone/protocol.ts).
  ovhTimeoutMs: setting(
    "ovh_timeout_ms",
    between(100, 15_000),
    5000,
    "per OVH call (at most 15000); every report is answered within 20 s, a hung OVH with 911",
  ),
  ovhCallsPerMinute: setting(
    "ovh_calls_per_minute",
    between(2, 10_000),
    60,
    "OVH calls per zone in any minute (OVH's guidance): a burst of 10, then evenly spaced",
  ),
  // A Worker invocation has 50 subrequests on the Free plan; the last is kept for the zone refresh.
  maxOvhCalls: setting(
    "max_ovh_calls",
    between(3, 10_000),
    45,
    "per report and zone: the Free plan allows 50 subrequests (paid: 1,000)",
  ),
  authFailLimit: setting(
    "auth_fail_limit",
    between(1, 10_000),
    10,
    "failed logins of one user name from one source (3× that for all names) …",
  ),
  authFailWindow: setting(
    "auth_fail_window",
    seconds,
    600,
    "… within this many seconds → `abuse` until they age out",
  ),
  authIpv6Prefix: setting(
    "auth_ipv6_prefix",
    between(32, 64),
    56,
    "an IPv6 source is its /56 (32 to 64); an IPv4 source is its address",
  ),
  changeLimit: setting(
    "change_limit",
    between(1, 10_000),
    20,
    "address changes of one host by one client from one source (as auth_ipv6_prefix counts) …",
  ),
  changeWindow: setting(
    "change_window",
    seconds,
    3600,
    "… within this many seconds → `abuse` for that writer's writes (nochg stays free; SECURITY.md)",
  ),
  staleAfter: setting(
    "stale_after",
    staleAfter,
    2 * 86_400,
    "seconds without a report before a host is `stale` (0 = off, else ≥ 60)",
  ),
  serveWithin: setting(
    "serve_within",
    serveWithin,
    900,
    "seconds after a change within which every name server must serve it, else `unserved` (≥ 10)",
  ),
  nameServers: setting(
    "name_servers",
    z
      .array(z.string())
      .check(
        z.refine(
          (a) => a.every((n) => parseNameServer(n) !== undefined),
          'must list name servers as "host" or "host:port", like "dns200.anycast.me" or "127.0.0.1:5300"',
        ),
      ),
    [] as string[],
    'the name servers to ask instead of the zone\'s as OVH lists them ("host" or "host:port")',
  ),
};

type Table = typeof SETTINGS_TABLE;

/** The settings as the code reads them, each filled in from the table's default when unset. */
export type Settings = { [K in keyof Table]: Table[K] extends Setting<infer T> ? T : never };

const entries = Object.entries(SETTINGS_TABLE) as [keyof Settings, Setting<unknown>][];

/** [vars.SETTINGS]: each key optional, no other key. */
export const settingsSchema = z.strictObject(
  Object.fromEntries(entries.map(([, s]) => [s.key, z.optional(s.schema)])) as Record<
    string,
    z.ZodMiniOptional<z.ZodMiniType<unknown>>
  >,
);

/** The settings from [vars.SETTINGS] as checked by settingsSchema, defaults for what it leaves out. */
export function readSettings(raw: Record<string, unknown> = {}): Settings {
  const out: Record<string, unknown> = {};
  for (const [field, s] of entries) out[field] = raw[s.key] ?? s.default;
  return out as Settings;
}

export const DEFAULT_SETTINGS: Settings = /* @__PURE__ */ readSettings();
