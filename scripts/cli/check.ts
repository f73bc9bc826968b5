// `check`: is this wrangler.toml ready to deploy? The Worker's schema first, then what each host
// will write, placeholders, and, when OVH credentials are at hand, the zones, the records and the
// consumer key's rights. Exit status 0 = ready, 1 = problems.
import { relative } from "node:path";
import {
  KEYS,
  missingSecrets,
  OAUTH2_SECRET_KEYS,
  parseSecrets,
  SECRET_KEYS,
  SECRETS,
  SETTINGS_TABLE,
  type SecretNeed,
  type Vars,
} from "../../src/config";
import { oauth2TokenUrl } from "../../src/ovh/endpoints";
import { parseFlags } from "./args";
import { UsageError } from "./errors";
import { describeRecord, fqdnOf, inspectRecords } from "./inspect";
import type { Io } from "./io";
import { describeNotifyUrls, findNotifyUrls, NOTIFY_KEY, notifyTest } from "./notify";
import { currentCredential, explainOvhError, isOvhError, OVH_MESSAGES, ovhClient } from "./ovh";
import { broaderRules, formatRule, missingCalls } from "./rules";
import { DEV_VARS, findCredentials, listWorkerSecrets, localSecretNames } from "./secrets";
import {
  checkHosts,
  checkVars,
  DEFAULT_CONFIG,
  isTable,
  requireWranglerConfig,
  type WranglerConfig,
  zonesOf,
} from "./wrangler-config";

export const CHECK_HELP = `usage: npm run check [-- options]
       (tsx scripts/cli.ts check [options])

Checks wrangler.toml with the Worker's own schema and lists what each host will write (records,
type, TTL, host_id/prefix rules, the clients allowed to update it). Placeholders left in are
errors. When OVH credentials are present ($${KEYS.applicationKey}, $${KEYS.applicationSecret},
$${KEYS.consumerKey}, or ${DEV_VARS} next to wrangler.toml) it also checks, read-only, that the
consumer key is valid and its rights cover every zone, that every zone is reachable, and that no
configured name has duplicate records (the Worker answers dnserr for those).

${NOTIFY_KEY} (from the environment or ${DEV_VARS}) is checked with the Worker's own parser; only
each target's position, service and host are printed, never a URL (they hold tokens).

\`npm run deploy\` runs this first.

options:
  --config PATH   wrangler.toml to check (default ${DEFAULT_CONFIG})
  --offline       do not contact OVH even when credentials are present
  --notify-test URL  ask the Worker deployed at URL to send its test notification to every
                  target, and say per target whether it arrived (needs --user)
  --user NAME     the client to log in as for --notify-test; its password from
                  $DYNDNS_PASSWORD or typed (not shown)
  -h, --help      this text

Exit status: 0 ready to deploy (warnings allowed), 1 problems found, 2 usage error.`;

type Level = "error" | "warning";

class Report {
  errors = 0;
  warnings = 0;
  /** Why the deployed Worker's secrets are not known, when they are not. */
  secretsUnknown: string | undefined;
  constructor(private readonly io: Io) {}
  line(text = ""): void {
    this.io.out(text);
  }
  problem(level: Level, text: string): void {
    if (level === "error") this.errors++;
    else this.warnings++;
    this.io.out(`  ${level}: ${text}`);
  }
}

/** Names reserved for documentation and tests (RFC 2606, RFC 6761), and the sample's example.tld. */
function looksLikeExample(name: string): boolean {
  return /(^|\.)(example\.(com|net|org|tld)|example|test|invalid|localhost)$/.test(name);
}

export async function checkCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    config: { type: "string" },
    offline: { type: "boolean" },
    "notify-test": { type: "string" },
    user: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    io.out(CHECK_HELP);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`check: unexpected argument "${positionals[0]}"`);
  const testUrl = values["notify-test"];
  if (testUrl !== undefined && !values.user) throw new UsageError("check: --notify-test needs --user NAME");
  const offline = values.offline === true;

  const config = await requireWranglerConfig(io.cwd, values.config);
  const report = new Report(io);
  const rel = relative(io.cwd, config.path);
  report.line(`Checking ${rel && !rel.startsWith("..") ? rel : config.path}`);

  // Every check runs whatever the others found, so one run names every problem.
  const vars = fileChecks(report, config, offline);
  if (offline) {
    report.line("");
    report.line("OVH: not checked (--offline).");
    report.line("The Worker's secrets: not checked (--offline).");
  } else {
    if (vars) await onlineChecks(report, io, config, vars);
    else {
      report.line("");
      report.line("OVH: not checked until wrangler.toml has no errors.");
    }
    await workerSecretChecks(report, io, config, vars);
  }
  await notifyChecks(report, io, config.dir, testUrl, values.user);
  return finish(report, offline);
}

/** wrangler.toml alone: the schema, what each host writes, and what the schema cannot see. */
function fileChecks(report: Report, config: WranglerConfig, offline: boolean): Vars | undefined {
  for (const key of SECRETS.map((s) => s.key).filter((k) => k in config.vars)) {
    report.problem(
      "error",
      `[vars] ${key}: a secret must not be in wrangler.toml (it is committed and shown in the dashboard); remove it and use: npx wrangler secret put ${key}`,
    );
  }
  const parsed = checkVars(config);
  if (parsed.ok) {
    describeConfig(report, config, parsed.value);
    report.line("");
    placeholderChecks(report, parsed.value, offline);
    return parsed.value;
  }
  for (const e of parsed.errors) report.problem("error", e);
  // Still show what the hosts would write when only the clients are wrong (a placeholder).
  const hostsOnly = checkHosts(config);
  if (hostsOnly.ok) {
    describeConfig(report, config, hostsOnly.value, { clients: false });
    report.line("");
    placeholderChecks(report, hostsOnly.value, offline);
  }
  return undefined;
}

/** What a fix for each kind of missing secret is. */
const SECRET_FIX: Record<SecretNeed, string> = {
  "ovh-key": "updates answer 911 without them: npm run setup -- ovh --apply",
  "ovh-oauth2": "updates answer 911 without them: npx wrangler secret put NAME (docs/setup.md)",
  session: "the status page cannot log anyone in without it: npm run setup -- session --apply",
  optional: "set here (environment or .dev.vars) but not on the Worker: npx wrangler secret put NAME",
};

/**
 * The deployed Worker's secret names (wrangler secret list) against what this configuration
 * needs. When they cannot be seen, that is said with what to run, and the check is not "ready".
 */
async function workerSecretChecks(
  report: Report,
  io: Io,
  config: WranglerConfig,
  vars: Vars | undefined,
): Promise<void> {
  report.line("");
  const listed = await listWorkerSecrets(io, config.path);
  if (!listed.ok) {
    report.secretsUnknown = listed.why;
    report.line(`The Worker's secrets: cannot see them: ${listed.why}.`);
    return;
  }
  const names = [...listed.names].sort();
  report.line(`The Worker's secrets (wrangler secret list): ${names.length > 0 ? names.join(", ") : "none"}`);
  const optional = SECRETS.filter((s) => s.need === "optional").map((s) => s.key);
  const used = await localSecretNames(io, config.dir, optional);
  for (const m of missingSecrets(listed.names, used)) {
    if (m.both) {
      report.problem(
        "error",
        `the Worker holds ${m.keys.join(", ")} and ${OAUTH2_SECRET_KEYS.join(", ")}: keep one kind (npx wrangler secret delete NAME)`,
      );
      continue;
    }
    const none = m.need === "ovh-key" && m.keys.length === SECRET_KEYS.length;
    const keys = none ? `${m.keys.join(", ")} (or ${OAUTH2_SECRET_KEYS.join(" and ")})` : m.keys.join(", ");
    report.problem("error", `the Worker lacks ${keys}; ${SECRET_FIX[m.need]}`);
  }
  if (vars && listed.names.has(KEYS.clientId) && !oauth2TokenUrl(vars.endpoint))
    report.problem(
      "error",
      `${KEYS.endpoint}: this endpoint has no OAuth2 service accounts; use ${SECRET_KEYS.join(", ")}`,
    );
}

/** NOTIFY_URLS, when it is at hand, and the test message through a deployed Worker when asked. */
async function notifyChecks(
  report: Report,
  io: Io,
  dir: string,
  testUrl: string | undefined,
  user: string | undefined,
): Promise<void> {
  report.line("");
  const found = await findNotifyUrls(io, dir);
  if (!found) {
    report.line(
      `Notifications: ${NOTIFY_KEY} is not in the environment or ${DEV_VARS}, so not checked here (set it on the Worker with: npx wrangler secret put ${NOTIFY_KEY}).`,
    );
  } else {
    const { lines, errors } = describeNotifyUrls(found.value);
    report.line(`Notifications (${NOTIFY_KEY} from ${found.source}): ${lines.length} target(s)`);
    for (const line of lines) report.line(line);
    for (const e of errors) report.problem("error", e);
  }
  if (testUrl === undefined || user === undefined) return;
  report.line(`Test notification sent by ${testUrl}:`);
  const { lines, ok } = await notifyTest(io, testUrl, user);
  for (const line of lines) report.line(line);
  if (!ok)
    report.problem("error", "the test notification did not reach every target (the Worker's log says why)");
}

function finish(report: Report, offline: boolean): number {
  report.line("");
  const counts = `${report.errors} error(s), ${report.warnings} warning(s)`;
  if (report.errors > 0) {
    report.line(`${counts}: not ready to deploy.`);
    return 1;
  }
  if (report.secretsUnknown !== undefined) {
    report.line(
      `${counts}, but not ready to deploy: the Worker's secrets are unknown (${report.secretsUnknown}).`,
    );
    return 1;
  }
  if (offline) {
    report.line(
      `${counts} in ${DEFAULT_CONFIG}; OVH and the Worker's secrets were not checked (--offline), so this says nothing about a deploy.`,
    );
    return 0;
  }
  report.line(`Ready to deploy${report.warnings > 0 ? ` (${report.warnings} warning(s))` : ""}.`);
  return 0;
}

function describeConfig(report: Report, config: WranglerConfig, vars: Vars, o = { clients: true }): void {
  const hostsTable = config.vars[KEYS.hosts];
  const rawHosts = isTable(hostsTable) ? hostsTable : {};
  const updaters = new Map<string, string[]>();
  for (const c of vars.clients.values()) {
    for (const h of c.hosts) updaters.set(h, [...(updaters.get(h) ?? []), c.name]);
  }
  report.line("");
  report.line(`OVH endpoint: ${vars.endpoint}`);
  describeSettings(report, config);
  report.line("");
  report.line(`Hosts (${vars.hosts.size}): what a report for each name writes`);
  for (const host of vars.hosts.values()) {
    const clients = updaters.get(host.name) ?? [];
    report.line(
      `  ${host.name}  zone ${host.zone}${host.allowPrivate ? ", private addresses allowed" : ""}${o.clients ? `; updated by: ${clients.length > 0 ? clients.join(", ") : "nobody"}` : ""}`,
    );
    const raw = rawHosts[host.name];
    const rawRecords = isTable(raw) && Array.isArray(raw.records) ? raw.records : [];
    host.records.forEach((spec, i) => {
      const r = rawRecords[i];
      const hostId = isTable(r) && typeof r.host_id === "string" ? r.host_id : undefined;
      let source: string;
      if (spec.type === "A") source = "the reported IPv4 address";
      else if (hostId === undefined) source = "the reported IPv6 address";
      else if (spec.prefixLength !== undefined)
        source = `top ${spec.prefixLength} bits of the reported IPv6 prefix + host_id ${hostId}`;
      else source = `the reported IPv6 prefix (a /64 when only an address is sent) + host_id ${hostId}`;
      report.line(
        `    ${spec.type.padEnd(4)} ${fqdnOf(spec).padEnd(32)} ttl ${String(spec.ttl).padEnd(5)} ← ${source}`,
      );
    });
    if (o.clients && clients.length === 0)
      report.problem("warning", `${KEYS.hosts}."${host.name}": no client may update it`);
  }
  if (!o.clients) return;
  report.line("");
  report.line(`Clients (${vars.clients.size}):`);
  for (const c of vars.clients.values()) report.line(`  ${c.name} → ${[...c.hosts].join(", ")}`);
}

/** The settings wrangler.toml sets, each with its line from the table and its default. */
function describeSettings(report: Report, config: WranglerConfig): void {
  const raw = config.vars[KEYS.settings];
  const set = Object.values(SETTINGS_TABLE).filter((s) => isTable(raw) && raw[s.key] !== undefined);
  report.line("");
  if (set.length === 0) {
    report.line("Settings: all at their defaults (README: Configuration).");
    return;
  }
  report.line(`Settings (${set.length} set, the others at their defaults):`);
  for (const s of set) {
    const value = isTable(raw) ? raw[s.key] : undefined;
    report.line(`  ${s.key} = ${String(value)}   ${s.doc} (default ${s.default})`);
  }
}

/**
 * What the schema cannot see: shared passwords, hosts two clients write, host names outside
 * their zone, example zones, an endpoint the deployed Worker cannot reach.
 */
function placeholderChecks(report: Report, vars: Vars, offline: boolean): void {
  // (Placeholder hashes, such as the SHA-256 of "", are refused by the schema itself.)
  const byHash = new Map<string, string[]>();
  const byHost = new Map<string, string[]>();
  for (const c of vars.clients.values()) {
    byHash.set(c.passwordSha256, [...(byHash.get(c.passwordSha256) ?? []), c.name]);
    for (const h of c.hosts) byHost.set(h, [...(byHost.get(h) ?? []), c.name]);
  }
  for (const names of byHash.values()) {
    if (names.length > 1) {
      report.problem(
        "warning",
        `clients ${names.join(", ")} share one password; give each its own (npm run new-client)`,
      );
    }
  }
  for (const [host, names] of byHost) {
    if (names.length > 1) {
      report.problem(
        "warning",
        `clients ${names.join(", ")} all write ${host}; each report overwrites the others' (fine for a spare, not for two routers)`,
      );
    }
  }
  for (const host of vars.hosts.values()) {
    if (host.name !== host.zone && !host.name.endsWith(`.${host.zone}`)) {
      report.problem(
        "warning",
        `${KEYS.hosts}."${host.name}": the name is outside its zone ${host.zone}; its records are written in ${host.zone} (is the zone or the name mistyped?)`,
      );
    }
  }
  for (const zone of zonesOf(vars)) {
    if (looksLikeExample(zone)) {
      report.problem("warning", `zone ${zone} is an example name; put your own zone into ${KEYS.hosts}`);
    }
  }
  const endpoint = new URL(vars.endpoint);
  if (/^(127\.|localhost$|\[::1\]$)/.test(endpoint.hostname)) {
    report.problem(
      offline ? "warning" : "error",
      `${KEYS.endpoint} points at ${endpoint.host}: a local simulator the deployed Worker cannot reach`,
    );
  } else if (endpoint.protocol !== "https:") {
    report.problem("warning", `${KEYS.endpoint} uses plain http; the OVH API is https`);
  }
}

async function onlineChecks(report: Report, io: Io, config: WranglerConfig, vars: Vars): Promise<void> {
  report.line("");
  const found = await findCredentials(io, config.dir);
  const present = SECRET_KEYS.filter((k) => found.values[k] !== undefined);
  if (present.length === 0) {
    report.line(
      `OVH: not checked; no credentials in the environment or ${DEV_VARS} (npm run setup -- ovh --dev-vars puts them there).`,
    );
    return;
  }
  const sources = [...new Set(present.map((k) => found.sources[k]))].join(" and ");
  report.line(`OVH (credentials from ${sources}):`);
  if (found.devVars && (found.devVars.mode & 0o077) !== 0) {
    report.problem(
      "warning",
      `${found.devVars.path} is readable by others (mode ${found.devVars.mode.toString(8)}); chmod 600 it`,
    );
  }
  const secrets = parseSecrets(found.values);
  if (!secrets.ok) {
    for (const e of secrets.errors)
      report.problem(
        "error",
        e.replace(/\(set it with:/, `(in the environment or ${DEV_VARS}; set it with:`),
      );
    return;
  }
  const client = ovhClient(io, vars.endpoint, secrets.value);
  const zones = zonesOf(vars);

  // The key itself: valid, and its rules cover what the Worker calls, and no more.
  try {
    const current = await currentCredential(client);
    if (current.status !== "validated") {
      report.problem(
        "error",
        `${KEYS.consumerKey}: its state is ${current.status}; run npm run setup -- ovh`,
      );
      return;
    }
    report.line(
      `  consumer key: validated, ${current.expiration ? `expires ${current.expiration}` : "no expiry"}`,
    );
    if (current.expiration) {
      const days = (Date.parse(current.expiration) - io.now()) / 86_400_000;
      if (days < 30) {
        report.problem(
          days < 0 ? "error" : "warning",
          `${KEYS.consumerKey} expires ${current.expiration}; updates fail after that (npm run setup -- ovh for an unlimited one)`,
        );
      }
    }
    const missing = missingCalls(current.rules, zones);
    for (const m of missing) {
      report.problem(
        "error",
        `the key may not ${m.what} in ${m.zone} (${m.method} ${m.path.replace(/\/1$/, "/{id}")}); get a key for these zones: npm run setup -- ovh`,
      );
    }
    if (missing.length === 0) report.line(`  rights: cover ${zones.join(", ")}`);
    const broad = broaderRules(current.rules, zones);
    if (broad.length > 0) {
      report.problem(
        "warning",
        `the key may do more than the Worker needs: ${broad.map(formatRule).join(", ")}; npm run setup -- ovh makes one limited to the zones`,
      );
    }
  } catch (error) {
    report.problem("error", explainOvhError(error, vars.endpoint));
    return;
  }

  // The zones and the records, read-only.
  const views = await inspectRecords(client, vars, { cnames: true });
  for (const zone of zones) {
    const inZone = views.filter((v) => v.spec.zone === zone);
    const missingZone = inZone.find((v) => isOvhError(v.error, 404, OVH_MESSAGES.noService));
    if (missingZone) {
      report.problem("error", explainOvhError(missingZone.error, vars.endpoint));
      continue;
    }
    if (inZone.some((v) => v.error === undefined)) report.line(`  zone ${zone}: reachable`);
    const cnamesShown = new Set<string>();
    for (const v of inZone) {
      const label = `${v.spec.type.padEnd(4)} ${v.fqdn}`;
      if (v.error !== undefined) {
        report.problem("error", `${label}: ${explainOvhError(v.error, vars.endpoint)}`);
        continue;
      }
      const records = v.records ?? [];
      if (records.length === 0) report.line(`    ${label}: not there yet; the first update creates it`);
      else if (records.length === 1 && records[0]) report.line(`    ${label}: ${describeRecord(records[0])}`);
      else {
        report.problem(
          "error",
          `${label}: ${records.length} records (${records.map(describeRecord).join("; ")}); the Worker answers dnserr for ${v.host} until you delete all but one in the OVH control panel`,
        );
      }
      for (const c of v.blockers ?? []) {
        if (cnamesShown.has(v.fqdn)) continue;
        cnamesShown.add(v.fqdn);
        report.problem(
          "error",
          `${v.fqdn} has a CNAME (to ${c.target}, id ${c.id}); OVH cannot hold A or AAAA records next to it`,
        );
      }
    }
  }
}
