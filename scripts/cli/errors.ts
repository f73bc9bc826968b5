// Errors the CLI reports as one clear line and an exit status, never as a stack trace.

/** A problem the user can fix; `exitCode` 1 unless said otherwise. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = "CliError";
  }
}

/** A mistake on the command line (unknown flag, missing argument): exit status 2. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, 2);
    this.name = "UsageError";
  }
}
