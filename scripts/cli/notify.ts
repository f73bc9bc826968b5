// `check`'s notification part: NOTIFY_URLS (from the environment or .dev.vars) through the Worker's
// own parser, and, on request, a test message sent by a deployed Worker (POST /status/notify-test).
// The URLs hold tokens: only each target's label (position, service, host) is ever printed.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseTargets } from "../../src/notify/targets";
import { CliError } from "./errors";
import type { Io } from "./io";
import { DEV_VARS, parseDevVars } from "./secrets";

export const NOTIFY_KEY = "NOTIFY_URLS";

/** NOTIFY_URLS from the environment, else .dev.vars next to wrangler.toml; where it came from. */
export async function findNotifyUrls(
  io: Io,
  dir: string,
): Promise<{ value: string; source: string } | undefined> {
  const fromEnv = io.env[NOTIFY_KEY];
  if (fromEnv) return { value: fromEnv, source: "the environment" };
  try {
    const value = parseDevVars(await readFile(join(dir, DEV_VARS), "utf8")).get(NOTIFY_KEY);
    return value ? { value, source: DEV_VARS } : undefined;
  } catch {
    return undefined;
  }
}

/** Lines saying what NOTIFY_URLS holds (labels only), and its errors. */
export function describeNotifyUrls(value: string): { lines: string[]; errors: string[] } {
  const { targets, errors } = parseTargets(value);
  const lines = targets.map((t) => `  ${t.label}`);
  return { lines, errors };
}

interface TestAnswer {
  targets: { target: string; delivered: boolean; status?: number; error?: string }[];
  errors: string[];
}

/**
 * Ask the deployed Worker at `url` to send its test message, logged in as `user` (the password
 * from $DYNDNS_PASSWORD or typed without echo). Returns the lines to print and whether every
 * target got it.
 */
export async function notifyTest(
  io: Io,
  url: string,
  user: string,
): Promise<{ lines: string[]; ok: boolean }> {
  let base: URL;
  try {
    base = new URL(url);
  } catch {
    throw new CliError(`--notify-test: "${url}" is not a URL like https://ovh-dyndns.example.workers.dev`);
  }
  if (base.username || base.password)
    throw new CliError("--notify-test: give the Worker's URL without a user or password");
  const password = io.env.DYNDNS_PASSWORD || (await io.readSecret(`password of ${user} (not shown): `));
  if (!password)
    throw new CliError(`--notify-test: no password for ${user} (type it, or set DYNDNS_PASSWORD)`);
  const response = await io.fetch(new URL("/status/notify-test", base), {
    method: "POST",
    headers: { Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}` },
  });
  if (response.status === 401) return { lines: [`  the Worker refused ${user}'s login (401)`], ok: false };
  if (!response.ok) {
    const said = ((await response.json().catch(() => ({}))) as { error?: unknown }).error;
    return {
      lines: [`  the Worker answered ${response.status}${typeof said === "string" ? `: ${said}` : ""}`],
      ok: false,
    };
  }
  const answer = (await response.json()) as TestAnswer;
  const lines = answer.targets.map((t) =>
    t.delivered ? `  ${t.target}: delivered` : `  ${t.target}: NOT delivered (${t.error ?? "?"})`,
  );
  lines.push(...answer.errors.map((e) => `  ${e}`));
  const ok =
    answer.errors.length === 0 && answer.targets.length > 0 && answer.targets.every((t) => t.delivered);
  return { lines, ok };
}
