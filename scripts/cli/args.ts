// Command-line parsing on node:util's parseArgs, with errors that name the flag.
import { type ParseArgsOptionsConfig, parseArgs } from "node:util";
import { UsageError } from "./errors";

/** Flags that would put a secret on the command line (shell history, `ps`): refused with a hint. */
const SECRET_FLAGS: Record<string, string> = {
  "--application-secret": "OVH_APPLICATION_SECRET",
  "--consumer-key": "OVH_CONSUMER_KEY",
  "--password": "the password",
  "--secret": "the secret",
};

export function parseFlags<T extends ParseArgsOptionsConfig>(argv: string[], options: T) {
  for (const arg of argv) {
    const flag = arg.split("=")[0] ?? arg;
    const what = SECRET_FLAGS[flag];
    if (what) {
      throw new UsageError(
        `${flag}: secrets are not taken on the command line (they end up in shell history); ` +
          `set ${what.startsWith("OVH_") ? `the environment variable ${what}` : what} or type it at the prompt`,
      );
    }
  }
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new UsageError(message.replace(/\. To specify a positional argument.*$/s, ""));
  }
}

/** A number of seconds from a flag, checked against a range. */
export function secondsFlag(
  name: string,
  value: string | undefined,
  fallback: number,
  range: { min: number; max: number },
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < range.min || n > range.max) {
    throw new UsageError(
      `--${name}: must be a number of seconds from ${range.min} to ${range.max}, got "${value}"`,
    );
  }
  return n;
}
