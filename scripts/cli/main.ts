// The CLI's dispatcher: one subcommand per job, one place that turns errors into an exit status.
import { CHECK_HELP, checkCommand } from "./check";
import { CliError } from "./errors";
import type { Io } from "./io";
import { NEW_CLIENT_HELP, newClientCommand } from "./new-client";
import { SETUP_HELP, setupCommand } from "./setup";

export const HELP = `usage: tsx scripts/cli.ts COMMAND [options]   (or npm run COMMAND -- [options])

commands:
  setup ovh     create a least-privilege OVH consumer key for the zones in wrangler.toml and
                store the OVH secrets in the Worker (and SESSION_SECRET, when missing)
  setup session make the SESSION_SECRET that signs the status page's login cookies
  new-client    make a client's password, its wrangler.toml lines and router/ddclient settings
  check         check wrangler.toml (and, with credentials, OVH) before a deploy

\`tsx scripts/cli.ts COMMAND --help\` describes each one.`;

const COMMANDS: Record<string, { run: (argv: string[], io: Io) => Promise<number>; help: string }> = {
  setup: { run: setupCommand, help: SETUP_HELP },
  "new-client": { run: newClientCommand, help: NEW_CLIENT_HELP },
  check: { run: checkCommand, help: CHECK_HELP },
};

/** Run one command line; returns the exit status. Errors are printed, never thrown. */
export async function main(argv: string[], io: Io): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    const topic = name === "help" && rest[0] ? COMMANDS[rest[0]] : undefined;
    io.out(topic ? topic.help : HELP);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.err(`error: unknown command "${name}"\n\n${HELP}`);
    return 2;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    if (error instanceof CliError) {
      io.err(`error: ${error.message}`);
      if (error.exitCode === 2) io.err(`(${name} --help shows the usage)`);
      return error.exitCode;
    }
    io.err(
      `error: unexpected failure in ${name}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    return 1;
  }
}
