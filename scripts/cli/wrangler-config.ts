// wrangler.toml as the CLI reads it: the file, its [vars] table, and the Worker's own schema
// (parseVars from src/config/) applied to them. Nothing here re-states a rule of the schema.
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { parse, TomlError } from "smol-toml";
import { type ConfigResult, KEYS, parseVars, type Vars } from "../../src/config";
import { CliError } from "./errors";

export const DEFAULT_CONFIG = "wrangler.toml";

export interface WranglerConfig {
  /** Absolute path of the file. */
  path: string;
  /** Its directory: where .dev.vars lives. */
  dir: string;
  text: string;
  /** The `name` of the Worker, if set. */
  name?: string;
  /** The `[vars]` table, as the Worker receives it. */
  vars: Record<string, unknown>;
}

/** Read and parse wrangler.toml; a missing file is undefined, a broken one a CliError. */
export async function readWranglerConfig(
  cwd: string,
  path = DEFAULT_CONFIG,
): Promise<WranglerConfig | undefined> {
  const full = resolve(cwd, path);
  let text: string;
  try {
    text = await readFile(full, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new CliError(`${path}: cannot read it (${(error as Error).message})`);
  }
  return parseWranglerConfig(full, text);
}

/** Like readWranglerConfig, but a missing file is an error that names the --config flag. */
export async function requireWranglerConfig(cwd: string, path = DEFAULT_CONFIG): Promise<WranglerConfig> {
  const config = await readWranglerConfig(cwd, path);
  if (!config) {
    throw new CliError(`${path}: no such file (run this in the project directory, or pass --config PATH)`);
  }
  return config;
}

export function parseWranglerConfig(path: string, text: string): WranglerConfig {
  let toml: Record<string, unknown>;
  try {
    toml = parse(text) as Record<string, unknown>;
  } catch (error) {
    const detail =
      error instanceof TomlError
        ? `line ${error.line}, column ${error.column}: ${firstLine(error.message)}`
        : String(error);
    throw new CliError(`${path}: not valid TOML (${detail})`);
  }
  const vars = toml.vars;
  if (vars !== undefined && !isTable(vars)) throw new CliError(`${path}: "vars" must be a table ([vars])`);
  const config: WranglerConfig = { path, dir: dirname(path), text, vars: vars ?? {} };
  if (typeof toml.name === "string") config.name = toml.name;
  return config;
}

/** The whole [vars] through the Worker's schema: what `check` and a deploy depend on. */
export function checkVars(config: WranglerConfig): ConfigResult<Vars> {
  return parseVars(config.vars);
}

/**
 * Only the endpoint, HOSTS and SETTINGS through the Worker's schema, with the clients left out:
 * `setup ovh` needs the zones before any client exists (a placeholder password must not stop it).
 */
export function checkHosts(config: WranglerConfig): ConfigResult<Vars> {
  return parseVars({ ...config.vars, [KEYS.clients]: {} });
}

/** Names under [vars.HOSTS], however broken the rest is (new-client checks its --host values). */
export function hostNames(config: WranglerConfig): string[] | undefined {
  const hosts = config.vars[KEYS.hosts];
  return isTable(hosts) ? Object.keys(hosts) : undefined;
}

/** What a host of [vars.HOSTS] writes its records from, however broken the rest is. */
export function hostFeeds(
  config: WranglerConfig,
  host: string,
): { v4: boolean; v6: boolean; prefix: boolean } | undefined {
  const hosts = config.vars[KEYS.hosts];
  const entry = isTable(hosts) ? hosts[host] : undefined;
  const records = isTable(entry) && Array.isArray(entry.records) ? entry.records.filter(isTable) : undefined;
  if (!records) return undefined;
  return {
    v4: records.some((r) => r.type === "A"),
    v6: records.some((r) => r.type === "AAAA" && r.host_id === undefined),
    prefix: records.some((r) => r.type === "AAAA" && r.host_id !== undefined),
  };
}

export function isTable(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/** The zones the hosts write to, sorted, each once. */
export function zonesOf(vars: Vars): string[] {
  return [...new Set([...vars.hosts.values()].map((h) => h.zone))].sort();
}

function firstLine(s: string): string {
  return s.split("\n")[0] ?? s;
}
