// Where the OVH secrets go and come from: .dev.vars (mode 0600, only on request), `wrangler secret
// put` fed on stdin, and the environment. A secret's value is never printed or put on a command line.
import { randomBytes } from "node:crypto";
import { chmod, readFile, rename, stat, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { SECRET_KEYS, secretProblem } from "../../src/config";
import { CliError } from "./errors";
import type { Io, RunResult } from "./io";

export const DEV_VARS = ".dev.vars";

export type SecretKey = (typeof SECRET_KEYS)[number];

/**
 * What is wrong with a value typed or read for `key` (quotes pasted along, a placeholder, a whole
 * KEY=value line…), by the Worker's own rules; undefined when it is fine.
 */
export function secretValueProblem(key: SecretKey, value: string | undefined): string | undefined {
  const problem = secretProblem(value);
  return problem && `${key}: ${problem}`;
}

/** KEY=value lines as wrangler reads .dev.vars (dotenv): comments, `export`, quotes. */
export function parseDevVars(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$/.exec(line);
    if (!m?.[1]) continue;
    const raw = m[2] ?? "";
    const quoted = /^(['"`])(.*)\1\s*(?:#.*)?$/.exec(raw);
    values.set(m[1], quoted ? (quoted[2] ?? "") : raw.replace(/\s+#.*$/, "").trim());
  }
  return values;
}

function devVarsLine(key: string, value: string): string {
  if (/^[A-Za-z0-9._-]+$/.test(value)) return `${key}=${value}`;
  if (/['\r\n]/.test(value)) throw new CliError(`${key}: its value cannot be written to ${DEV_VARS} safely`);
  return `${key}='${value}'`;
}

/**
 * Set these keys in a .dev.vars file, keeping its other lines; the file ends up mode 0600
 * (written to a temporary file of that mode, then renamed over the old one).
 */
export async function writeDevVars(
  path: string,
  entries: ReadonlyArray<readonly [string, string]>,
): Promise<void> {
  let lines: string[] = [];
  try {
    lines = (await readFile(path, "utf8")).split(/\r?\n/);
    if (lines.at(-1) === "") lines.pop();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const pending = new Map(entries);
  const written = new Set<string>();
  const out: string[] = [];
  for (const line of lines) {
    const key = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=/.exec(line)?.[1];
    if (key !== undefined && pending.has(key)) {
      if (!written.has(key)) out.push(devVarsLine(key, pending.get(key) ?? ""));
      written.add(key);
    } else out.push(line);
  }
  for (const [key, value] of pending) if (!written.has(key)) out.push(devVarsLine(key, value));
  const temp = join(path, "..", `.${basename(path)}.${randomBytes(4).toString("hex")}.tmp`);
  await writeFile(temp, `${out.join("\n")}\n`, { mode: 0o600, flag: "wx" });
  await chmod(temp, 0o600);
  await rename(temp, path);
}

export interface FoundCredentials {
  /** Each secret key → its value, from the environment or else .dev.vars. */
  values: Partial<Record<SecretKey, string>>;
  /** Where each came from. */
  sources: Partial<Record<SecretKey, "environment" | typeof DEV_VARS>>;
  devVars?: { path: string; mode: number };
}

/** OVH secrets from the environment first, then `<dir>/.dev.vars` (what `wrangler dev` reads). */
export async function findCredentials(io: Io, dir: string): Promise<FoundCredentials> {
  const found: FoundCredentials = { values: {}, sources: {} };
  const path = join(dir, DEV_VARS);
  let fileValues = new Map<string, string>();
  try {
    fileValues = parseDevVars(await readFile(path, "utf8"));
    found.devVars = { path, mode: (await stat(path)).mode & 0o777 };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
      throw new CliError(`${path}: cannot read it (${(error as Error).message})`);
    }
  }
  for (const key of SECRET_KEYS) {
    const fromEnv = io.env[key];
    const fromFile = fileValues.get(key);
    if (fromEnv !== undefined && fromEnv !== "") {
      found.values[key] = fromEnv;
      found.sources[key] = "environment";
    } else if (fromFile !== undefined && fromFile !== "") {
      found.values[key] = fromFile;
      found.sources[key] = DEV_VARS;
    }
  }
  return found;
}

/** The wrangler command: $WRANGLER (words split on spaces), or `npx wrangler`. */
export function wranglerCommand(io: Io): string[] {
  const words = (io.env.WRANGLER ?? "").trim().split(/\s+/).filter(Boolean);
  return words.length > 0 ? words : ["npx", "wrangler"];
}

/** `wrangler secret put KEY` for each secret, the value on stdin (wrangler reads it when piped). */
export async function putSecretsWithWrangler(
  io: Io,
  configPath: string,
  entries: ReadonlyArray<readonly [string, string]>,
): Promise<void> {
  const command = wranglerCommand(io);
  for (const [key, value] of entries) {
    io.err(`  ${[...command, "secret", "put", key].join(" ")}`);
    const result = await io.run([...command, "secret", "put", key, "--config", configPath], value);
    if (result.code !== 0) {
      const said = redact(
        `${result.stderr}\n${result.stdout}`,
        entries.map(([, v]) => v),
      )
        .trim()
        .split("\n")
        .slice(-5)
        .join("\n    ");
      throw new CliError(
        `wrangler secret put ${key} failed with exit status ${result.code}${said ? `:\n    ${said}` : ""}`,
      );
    }
  }
}

/** Replace any of these values in text (output of another program) before showing it. */
export function redact(text: string, values: readonly string[]): string {
  let out = text;
  for (const v of values) if (v.length >= 4) out = out.split(v).join("[redacted]");
  return out;
}

/** The deployed Worker's secret names, or why they cannot be seen (and what to run). */
export type WorkerSecrets = { ok: true; names: Set<string> } | { ok: false; why: string };

/**
 * `wrangler secret list` (names only: wrangler never shows a secret's value). Not logged in, a
 * Worker that does not exist yet, or any other failure is a reason that says what to run.
 */
export async function listWorkerSecrets(io: Io, configPath: string): Promise<WorkerSecrets> {
  const command = [...wranglerCommand(io), "secret", "list", "--format", "json", "--config", configPath];
  let result: RunResult;
  try {
    result = await io.run(command, "");
  } catch (error) {
    return { ok: false, why: `${(error as Error).message}; is wrangler installed (npm install)?` };
  }
  const said = `${result.stderr}\n${result.stdout}`;
  if (result.code === 0) {
    const names = secretNames(result.stdout);
    if (names) return { ok: true, names };
    return { ok: false, why: "wrangler secret list answered something other than a list of names" };
  }
  if (/not logged in|wrangler login|CLOUDFLARE_API_TOKEN|authenticat/i.test(said))
    return {
      ok: false,
      why: "wrangler is not logged in to Cloudflare (npx wrangler login, or set CLOUDFLARE_API_TOKEN)",
    };
  if (/does not exist|not found|10007/i.test(said))
    return {
      ok: false,
      why: "the Worker does not exist on Cloudflare yet; storing its first secret creates it (npm run setup -- ovh --apply)",
    };
  const last = said.trim().split("\n").filter(Boolean).at(-1) ?? "";
  return {
    ok: false,
    why: `wrangler secret list failed with exit status ${result.code}${last ? `: ${last}` : ""}`,
  };
}

/** The names in wrangler's JSON list ([{ "name": …, "type": "secret_text" }, …]), or undefined. */
function secretNames(stdout: string): Set<string> | undefined {
  const json = stdout.slice(stdout.indexOf("["), stdout.lastIndexOf("]") + 1);
  try {
    const list: unknown = JSON.parse(json);
    if (!Array.isArray(list)) return undefined;
    const names = list.map((s) => (typeof s?.name === "string" ? s.name : undefined));
    return names.every((n) => n !== undefined) ? new Set(names as string[]) : undefined;
  } catch {
    return undefined;
  }
}

/** Which of `keys` are set in the environment or `<dir>/.dev.vars`: the secrets used locally. */
export async function localSecretNames(io: Io, dir: string, keys: readonly string[]): Promise<string[]> {
  let file = new Map<string, string>();
  try {
    file = parseDevVars(await readFile(join(dir, DEV_VARS), "utf8"));
  } catch {
    // no .dev.vars: only the environment
  }
  return keys.filter((k) => Boolean(io.env[k]) || Boolean(file.get(k)));
}
