// `setup ovh`: a least-privilege OVH consumer key for the zones in wrangler.toml, validated by the
// user in the browser, proven by reading every configured record, then handed to the Worker.
import { join, relative } from "node:path";
import { KEYS, type Vars } from "../../src/config";
import { parseFlags, secondsFlag } from "./args";
import { CliError, UsageError } from "./errors";
import { describeRecord, inspectRecords } from "./inspect";
import type { Io } from "./io";
import {
  type CurrentCredential,
  currentCredential,
  explainOvhError,
  isOvhError,
  OVH_MESSAGES,
  ovhClient,
} from "./ovh";
import { accessRulesFor, formatRule } from "./rules";
import {
  DEV_VARS,
  putSecretsWithWrangler,
  type SecretKey,
  secretValueProblem,
  writeDevVars,
} from "./secrets";
import { ensureSessionSecret, setupSession } from "./session-secret";
import {
  checkHosts,
  checkVars,
  DEFAULT_CONFIG,
  requireWranglerConfig,
  type WranglerConfig,
  zonesOf,
} from "./wrangler-config";

export const SETUP_HELP = `usage: npm run setup -- ovh [options]
       npm run setup -- session [--apply] [--dev-vars] [--config PATH]
       (tsx scripts/cli.ts setup ovh|session [options])

\`setup session\` makes a random SESSION_SECRET, which signs the status page's login cookies,
and stores it like the OVH secrets below (a new one logs everyone out of the page).

Creates an OVH consumer key that may only read and write the DNS zones of wrangler.toml
(GET, POST and PUT on /domain/zone/<zone> and /domain/zone/<zone>/* for each zone; no DELETE,
nothing else), waits until you have validated it on OVH's page, proves it works by reading each
configured record, then stores the three secrets in the Worker or tells you how. Where it
stores them (--apply, --dev-vars) it also makes a SESSION_SECRET if there is none yet; one that
exists is kept.

First create an OVH application (application key + secret) on the "createApp" page of your OVH
endpoint, e.g. https://eu.api.ovh.com/createApp/ for ovh-eu. Edit HOSTS in wrangler.toml before
running this: the key's rights are derived from the zones listed there.

The application key comes from --application-key, $OVH_APPLICATION_KEY or a prompt. The
application secret comes from $OVH_APPLICATION_SECRET, a prompt that does not echo, or the first
line of stdin; never from the command line.

options:
  --config PATH            wrangler.toml to read (default ${DEFAULT_CONFIG}); OVH_ENDPOINT comes from it
  --application-key KEY    the OVH application key (or $OVH_APPLICATION_KEY)
  --apply                  store the secrets with \`wrangler secret put\` (the value fed on stdin;
                           $WRANGLER overrides the command, default "npx wrangler")
  --dev-vars               also write them to .dev.vars next to wrangler.toml (mode 0600), for
                           \`wrangler dev\` and \`npm run check\`
  --timeout SECONDS        how long to wait for the validation (default 600)
  --interval SECONDS       time between two checks of the key's state (default 3)
  --redirect URL           where OVH's page sends the browser after the validation (optional)
  -h, --help               this text

Without --apply and --dev-vars the consumer key is shown once, with the commands to store it.
Exit status: 0 done, 1 failed (nothing stored), 2 usage error.`;

const DEFAULT_TIMEOUT_S = 600;
const DEFAULT_INTERVAL_S = 3;

interface CredentialRequest {
  state?: string;
  consumerKey?: string;
  validationUrl?: string;
}

type SetupValues = ReturnType<typeof parseSetupFlags>["values"];

function parseSetupFlags(argv: string[]) {
  return parseFlags(argv, {
    config: { type: "string" },
    "application-key": { type: "string" },
    apply: { type: "boolean" },
    "dev-vars": { type: "boolean" },
    timeout: { type: "string" },
    interval: { type: "string" },
    redirect: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
}

export async function setupCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseSetupFlags(argv);
  if (values.help) {
    io.out(SETUP_HELP);
    return 0;
  }
  const [what, ...extra] = positionals;
  if (what === "session") {
    if (extra.length > 0) throw new UsageError(`setup session: unexpected argument "${extra[0]}"`);
    return setupSession(values, io);
  }
  if (what !== "ovh") {
    throw new UsageError(
      what === undefined
        ? "setup: say what to set up: `setup ovh` (the OVH keys, and SESSION_SECRET when there is none) or `setup session` (a new SESSION_SECRET, the status page's login); --help says more"
        : `setup: unknown target "${what}"; use \`setup ovh\` or \`setup session\``,
    );
  }
  if (extra.length > 0) throw new UsageError(`setup ovh: unexpected argument "${extra[0]}"`);
  return setupOvh(values, io);
}

/** `setup ovh`, step by step; each step throws a CliError that says what to do. */
async function setupOvh(values: SetupValues, io: Io): Promise<number> {
  const options = waitOptions(values);
  const zones = await readZones(io, values.config);
  const applicationKey = await readApplicationKey(io, values["application-key"], zones.endpoint);
  const applicationSecret = await readApplicationSecret(io);
  const app = { applicationKey, applicationSecret };
  const { consumerKey, validationUrl } = await requestConsumerKey(io, zones, app, options.redirection);
  showValidationLink(io, zones, validationUrl, options.timeoutS);

  const credentials = { ...app, consumerKey };
  const client = ovhClient(io, zones.endpoint, credentials);
  const current = await waitForValidation(io, zones.endpoint, client, options.timeoutS, options.intervalS);
  io.out(
    `Validated; ${current.expiration ? `it expires ${current.expiration}` : "it does not expire"}. Rights: ${current.rules.length} rules.`,
  );
  if (!(await readEveryRecord(io, client, zones))) return 1;
  await handOver(io, values, zones.config, [
    [KEYS.applicationKey, applicationKey],
    [KEYS.applicationSecret, applicationSecret],
    [KEYS.consumerKey, consumerKey],
  ]);
  await ensureSessionSecret(values, io, zones.config);
  showWhatIsLeft(io, zones.later);
  return 0;
}

/** --timeout, --interval and --redirect, checked. */
function waitOptions(values: SetupValues) {
  const timeoutS = secondsFlag("timeout", values.timeout, DEFAULT_TIMEOUT_S, { min: 1, max: 86_400 });
  const intervalS = secondsFlag("interval", values.interval, DEFAULT_INTERVAL_S, { min: 0.05, max: 600 });
  let redirection: string | undefined;
  if (values.redirect !== undefined) {
    if (!/^https?:\/\/[^\s]+$/.test(values.redirect)) {
      throw new UsageError(`--redirect: must be an http(s) URL, got "${values.redirect}"`);
    }
    redirection = values.redirect;
  }
  return { timeoutS, intervalS, redirection };
}

interface Zones {
  config: WranglerConfig;
  vars: Vars;
  zones: string[];
  endpoint: string;
  /** What the Worker's check still refuses (a placeholder client): shown at the end. */
  later: string[];
}

/** wrangler.toml: the endpoint and the zones, by the Worker's own schema; clients may wait. */
async function readZones(io: Io, path: string | undefined): Promise<Zones> {
  const config = await requireWranglerConfig(io.cwd, path);
  const hosts = checkHosts(config);
  if (!hosts.ok) {
    throw new CliError(
      `${config.path}: fix these first (the key's rights come from HOSTS):\n${hosts.errors.map((e) => `  - ${e}`).join("\n")}`,
    );
  }
  const vars = hosts.value;
  const full = checkVars(config);
  return { config, vars, zones: zonesOf(vars), endpoint: vars.endpoint, later: full.ok ? [] : full.errors };
}

/** Ask OVH for a consumer key with exactly the rights the zones need. */
async function requestConsumerKey(
  io: Io,
  { endpoint, zones }: Zones,
  app: { applicationKey: string; applicationSecret: string },
  redirection: string | undefined,
): Promise<{ consumerKey: string; validationUrl: string }> {
  const rules = accessRulesFor(zones);
  const anonymous = ovhClient(io, endpoint, { ...app, consumerKey: "" });
  let request: CredentialRequest;
  try {
    request = await anonymous.request<CredentialRequest>("POST", "/auth/credential", {
      body: redirection ? { accessRules: rules, redirection } : { accessRules: rules },
      unsigned: true,
    });
  } catch (error) {
    throw new CliError(`requesting a consumer key failed: ${explainOvhError(error, endpoint)}`);
  }
  const consumerKey = request?.consumerKey;
  const validationUrl = request?.validationUrl;
  if (typeof consumerKey !== "string" || consumerKey === "" || typeof validationUrl !== "string") {
    throw new CliError("OVH answered POST /auth/credential without a consumer key or a validation URL");
  }
  return { consumerKey, validationUrl };
}

function showValidationLink(io: Io, { endpoint, zones }: Zones, validationUrl: string, timeoutS: number) {
  io.out(`OVH endpoint: ${endpoint}`);
  io.out(`Zones: ${zones.join(", ")}`);
  io.out(`Requested a consumer key with these rights, and no others:`);
  for (const r of accessRulesFor(zones)) io.out(`  ${formatRule(r)}`);
  io.out("");
  io.out('Open this link, log in to OVH and confirm. Choose the validity "Unlimited": the Worker');
  io.out("stops updating DNS the day the key expires.");
  io.out("");
  io.out(`  ${validationUrl}`);
  io.out("");
  io.err(`Waiting up to ${timeoutS} s for the validation (Ctrl-C to give up)…`);
}

/** Prove the key works: read each configured record (list + get; nothing is written). */
async function readEveryRecord(
  io: Io,
  client: ReturnType<typeof ovhClient>,
  { vars, endpoint }: Zones,
): Promise<boolean> {
  const views = await inspectRecords(client, vars);
  const failures: string[] = [];
  io.out("");
  io.out("Reading the configured records with the new key (read-only):");
  for (const v of views) {
    const label = `${v.spec.type.padEnd(4)} ${v.fqdn}`;
    if (v.error !== undefined) {
      const why = explainOvhError(v.error, endpoint);
      failures.push(`${label}: ${why}`);
      io.out(`  ${label}: FAILED: ${why}`);
    } else if (!v.records || v.records.length === 0) {
      io.out(`  ${label}: not there yet; the first update creates it`);
    } else if (v.records.length === 1 && v.records[0]) {
      io.out(`  ${label}: ${describeRecord(v.records[0])}`);
    } else {
      io.out(
        `  ${label}: ${v.records.length} records (ids ${v.records.map((r) => r.id).join(", ")}); ` +
          `the Worker answers dnserr for ${v.host} until all but one are deleted`,
      );
    }
  }
  if (failures.length === 0) return true;
  io.err(
    `error: the new key could not read ${failures.length} record(s); nothing was stored. Fix the cause and run again.`,
  );
  return false;
}

/** Hand the secrets over: .dev.vars, wrangler secret put, or shown once with the commands. */
async function handOver(
  io: Io,
  values: SetupValues,
  config: WranglerConfig,
  secrets: [SecretKey, string][],
): Promise<void> {
  const consumerKey = secrets.find(([k]) => k === KEYS.consumerKey)?.[1] ?? "";
  io.out("");
  if (values["dev-vars"]) {
    const path = join(config.dir, DEV_VARS);
    await writeDevVars(path, secrets);
    io.out(`Wrote ${secrets.map(([k]) => k).join(", ")} to ${path} (mode 0600; keep it out of git).`);
  }
  if (values.apply) {
    io.out("Storing the secrets in the Worker:");
    try {
      await putSecretsWithWrangler(io, config.path, secrets);
    } catch (error) {
      if (!values["dev-vars"]) showSecretsByHand(io, config.path, consumerKey);
      throw error;
    }
    io.out(`Stored ${secrets.map(([k]) => k).join(", ")} with wrangler secret put.`);
  } else if (!values["dev-vars"]) {
    showSecretsByHand(io, config.path, consumerKey);
  } else {
    io.out("To store them in the Worker as well (this uploads every line of that file):");
    io.out(
      `  npx wrangler secret bulk ${relativeTo(io.cwd, join(config.dir, DEV_VARS))}${configFlag(io, config.path)}`,
    );
  }
}

function showWhatIsLeft(io: Io, later: string[]): void {
  if (later.length === 0) return;
  io.out("");
  io.out("Before deploying, fix these in wrangler.toml (npm run check shows them again):");
  for (const e of later) io.out(`  - ${e}`);
  if (later.some((e) => /^CLIENTS\..+\.password_sha256: /.test(e)))
    io.out("A client's placeholder: npm run new-client -- NAME --host HOST --write replaces it.");
}

async function readApplicationKey(io: Io, flag: string | undefined, endpoint: string): Promise<string> {
  let value = flag ?? io.env[KEYS.applicationKey];
  if ((value === undefined || value === "") && io.interactive) {
    io.err(`Create an OVH application first: ${createAppUrl(endpoint)}`);
    value = (await io.readLine("OVH application key: "))?.trim();
  }
  if (value === undefined || value === "") {
    throw new UsageError(
      `${KEYS.applicationKey}: not given; pass --application-key, set the environment variable, or run in a terminal to be asked (create one at ${createAppUrl(endpoint)})`,
    );
  }
  const problem = secretValueProblem(KEYS.applicationKey, value);
  if (problem) throw new UsageError(problem);
  return value;
}

async function readApplicationSecret(io: Io): Promise<string> {
  let value = io.env[KEYS.applicationSecret];
  if (value === undefined || value === "") {
    value = await io.readSecret("OVH application secret (not shown): ");
    if (!io.interactive) value = value?.replace(/\r$/, "");
  }
  if (value === undefined || value === "") {
    throw new UsageError(
      `${KEYS.applicationSecret}: not given; set the environment variable, type it at the prompt in a terminal, or pipe it on stdin`,
    );
  }
  const problem = secretValueProblem(KEYS.applicationSecret, value);
  if (problem) throw new UsageError(problem);
  return value;
}

/** OVH's page for creating an application, on the configured endpoint's host. */
export function createAppUrl(endpoint: string): string {
  return `${new URL(endpoint).origin}/createApp/`;
}

/**
 * Poll GET /auth/currentCredential with the new key until OVH says it is validated. A pending key
 * answers 403 "This credential is not valid"; any other error (a wrong secret answers "Invalid
 * signature") ends the wait at once.
 */
async function waitForValidation(
  io: Io,
  endpoint: string,
  client: ReturnType<typeof ovhClient>,
  timeoutS: number,
  intervalS: number,
): Promise<CurrentCredential> {
  const deadline = io.now() + timeoutS * 1000;
  for (;;) {
    try {
      const current = await currentCredential(client);
      if (current.status === "validated") return current;
      if (current.status === "expired" || current.status === "refused") {
        throw new CliError(`the consumer key is ${current.status}; run again for a new validation link`);
      }
    } catch (error) {
      if (error instanceof CliError) throw error;
      if (!isOvhError(error, 403, OVH_MESSAGES.invalidCredential)) {
        throw new CliError(`checking the new consumer key failed: ${explainOvhError(error, endpoint)}`);
      }
    }
    const left = deadline - io.now();
    if (left <= 0) {
      throw new CliError(
        `the consumer key was not validated within ${timeoutS} s; nothing was stored. Run again for a new link (or a longer --timeout).`,
      );
    }
    await io.sleep(Math.min(intervalS * 1000, left));
  }
}

function relativeTo(cwd: string, path: string): string {
  const rel = relative(cwd, path);
  return rel && !rel.startsWith("..") ? rel : path;
}

/** ` --config PATH` for a wrangler command, unless it is ./wrangler.toml. */
function configFlag(io: Io, configPath: string): string {
  const rel = relativeTo(io.cwd, configPath);
  return rel === DEFAULT_CONFIG ? "" : ` --config ${rel}`;
}

function showSecretsByHand(io: Io, configPath: string, consumerKey: string): void {
  const config = configFlag(io, configPath);
  io.out("The consumer key (a secret: shown this once, saved nowhere):");
  io.out("");
  io.out(`  ${consumerKey}`);
  io.out("");
  io.out("Store the three secrets in the Worker; each command asks for its value (paste it, press Enter):");
  for (const key of [KEYS.applicationKey, KEYS.applicationSecret, KEYS.consumerKey]) {
    io.out(`  npx wrangler secret put ${key}${config}`);
  }
  io.out("(next time, --apply runs them for you; --dev-vars writes .dev.vars for local development)");
}
