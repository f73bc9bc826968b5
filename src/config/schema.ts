// The zod schemas of [vars]: what each value must look like, with a message per rule. What
// needs more than one value at a time (a record written twice, a client naming an unknown host)
// is checked in parse.ts.
import * as z from "zod/mini";
import type { RecordType, ReplyForm } from "./types";

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
export const between = (min: number, max: number) =>
  z.int().check(
    z.refine((n) => n >= min, `must be at least ${min}`),
    z.refine((n) => n <= max, `must be at most ${max}`),
  );
/** Seconds, from one to 30 days. */
export const seconds = between(1, 30 * 86_400);
const fqdn = z.string().check(z.refine(isFqdn, "must be a lowercase domain name like example.tld"));
// OVH stores a TTL of 1 to 59 as 60 and answers 200 (docs/reference/ovh-api.md), so such a
// record would look changed at every recheck; 0 is the zone's default, which OVH keeps as 0.
const ttl = between(0, 86_400).check(
  z.refine(
    (n) => n <= 0 || n >= 60,
    "must be 0 (the zone's default) or at least 60; OVH stores 1 to 59 as 60",
  ),
);
/** serve_within: at least 10 s (two asks of the name servers), at most a day. */
export const serveWithin = between(10, 86_400);
/** stale_after: 0 (off), or at least a minute and at most a year. */
export const staleAfter = between(0, 366 * 86_400).check(
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

export const hostSchema = z.strictObject({
  zone: fqdn,
  ttl: z.optional(ttl),
  allow_private: z.optional(z.boolean()),
  stale_after: z.optional(staleAfter),
  serve_within: z.optional(serveWithin),
  records: z.array(recordSchema).check(z.refine((a) => a.length > 0, "must list at least one record")),
});
export type RawHost = z.infer<typeof hostSchema>;
export type RawRecord = z.infer<typeof recordSchema>;

/** SHA-256 of "" (what `printf "$UNSET" | sha256sum` gives), and one digit repeated 64 times. */
const EMPTY_PASSWORD_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
function isPlaceholderHash(hex: string): boolean {
  const h = hex.toLowerCase();
  return h === EMPTY_PASSWORD_SHA256 || /^(.)\1{63}$/.test(h);
}

export const clientSchema = z.strictObject({
  password_sha256: z.string().check(
    z.refine((h) => /^[0-9a-f]{64}$/i.test(h), "must be the 64 hex digits of a SHA-256 (npm run new-client)"),
    z.refine(
      (h) => !isPlaceholderHash(h),
      "is the SHA-256 of an empty password, or a placeholder (npm run new-client)",
    ),
  ),
  hosts: z.array(z.string()).check(z.refine((a) => a.length > 0, "must list at least one host")),
  admin: z.optional(z.boolean()),
  reply: z.optional(
    z.custom<ReplyForm>(
      (v) => v === "lines" || v === "first",
      'must be "lines" (one line per host) or "first" (one line: the first host\'s, or the first failure)',
    ),
  ),
});
export type RawClient = z.infer<typeof clientSchema>;
