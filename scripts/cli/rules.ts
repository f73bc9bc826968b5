// Consumer-key access rules: the least-privilege set for the configured zones, and what a key
// holds compared with what the Worker calls. Pure: no I/O.
//
// OVH's matching (docs/reference/ovh-api.md): same method; `*` matches anything, `/` included;
// the rule is anchored, so `/domain/zone/x/*` does not match `/domain/zone/x` itself.
import type { HttpMethod } from "../../src/ovh/client";

export interface AccessRule {
  method: string;
  path: string;
}

/** The methods the Worker and `check` need: read, create, update (and refresh). Never DELETE. */
export const GRANTED_METHODS: readonly HttpMethod[] = ["GET", "POST", "PUT"];

export function zonePath(zone: string): string {
  return `/domain/zone/${zone}`;
}

/** GET/POST/PUT on `/domain/zone/<zone>` and `/domain/zone/<zone>/*`, for each zone: nothing else. */
export function accessRulesFor(zones: Iterable<string>): AccessRule[] {
  const rules: AccessRule[] = [];
  for (const zone of [...new Set(zones)].sort()) {
    for (const method of GRANTED_METHODS) {
      rules.push({ method, path: zonePath(zone) }, { method, path: `${zonePath(zone)}/*` });
    }
  }
  return rules;
}

export function ruleMatches(rule: AccessRule, method: string, path: string): boolean {
  if (rule.method !== method) return false;
  const pattern = rule.path
    .split("*")
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${pattern}$`).test(path);
}

export interface NeededCall {
  method: HttpMethod;
  path: string;
  what: string;
}

/** The calls the Worker makes in a zone (src/ovh/records.ts), with a sample record id. */
export function workerCalls(zone: string): NeededCall[] {
  const base = zonePath(zone);
  return [
    { method: "GET", path: `${base}/record`, what: "list records" },
    { method: "GET", path: `${base}/record/1`, what: "read a record" },
    { method: "POST", path: `${base}/record`, what: "create a record" },
    { method: "PUT", path: `${base}/record/1`, what: "update a record" },
    { method: "POST", path: `${base}/refresh`, what: "refresh the zone" },
  ];
}

/** The Worker's calls in these zones that no rule grants. */
export function missingCalls(
  rules: readonly AccessRule[],
  zones: Iterable<string>,
): (NeededCall & { zone: string })[] {
  const missing: (NeededCall & { zone: string })[] = [];
  for (const zone of zones) {
    for (const call of workerCalls(zone)) {
      if (!rules.some((r) => ruleMatches(r, call.method, call.path))) missing.push({ ...call, zone });
    }
  }
  return missing;
}

/** Rules that reach past the configured zones, or allow DELETE: more than the Worker needs. */
export function broaderRules(rules: readonly AccessRule[], zones: Iterable<string>): AccessRule[] {
  const scoped = [...zones].map(zonePath);
  return rules.filter((r) => {
    if (!GRANTED_METHODS.includes(r.method as HttpMethod)) return true;
    return !scoped.some((base) => r.path === base || r.path.startsWith(`${base}/`));
  });
}

export function formatRule(rule: AccessRule): string {
  return `${rule.method} ${rule.path}`;
}
