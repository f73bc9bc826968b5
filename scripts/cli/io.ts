// Everything the commands do to the outside world, behind one interface so tests can inject it:
// output, the environment, prompts, the clock, HTTP and child processes.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { CliError } from "./errors";

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Io {
  /** Results: what the user asked for. */
  out(text: string): void;
  /** Progress, warnings and errors. */
  err(text: string): void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** True when prompts can be shown (stdin is a terminal). */
  readonly interactive: boolean;
  /** One line: typed at a prompt (echoed) on a terminal, else the next line of stdin. */
  readLine(prompt: string): Promise<string | undefined>;
  /** One line: typed without echo on a terminal, else the next line of stdin. */
  readSecret(prompt: string): Promise<string | undefined>;
  sleep(ms: number): Promise<void>;
  /** Unix milliseconds. */
  now(): number;
  fetch: typeof fetch;
  /** Run a program (no shell), feed `input` on its stdin, collect its output. */
  run(command: readonly string[], input: string): Promise<RunResult>;
}

/** The real process: stdout, stderr, process.env, the terminal. */
export function processIo(): Io {
  /** One line of stdin, then stop reading: an open pipe must not keep the process alive. */
  const stdinLine = async (): Promise<string | undefined> => {
    const reader = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
    try {
      const next = await reader[Symbol.asyncIterator]().next();
      return next.done ? undefined : next.value;
    } finally {
      reader.close();
      process.stdin.pause();
    }
  };
  return {
    out: (text) => process.stdout.write(text.endsWith("\n") ? text : `${text}\n`),
    err: (text) => process.stderr.write(text.endsWith("\n") ? text : `${text}\n`),
    env: process.env,
    cwd: process.cwd(),
    interactive: process.stdin.isTTY === true,
    async readLine(prompt) {
      if (process.stdin.isTTY) process.stderr.write(prompt);
      return stdinLine();
    },
    async readSecret(prompt) {
      return process.stdin.isTTY ? readHidden(prompt) : stdinLine();
    },
    sleep: (ms) => sleep(ms),
    now: () => Date.now(),
    fetch: (input, init) => fetch(input, init),
    run: runProgram,
  };
}

/** Read a line from the terminal in raw mode, echoing nothing. Ctrl-C cancels. */
function readHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.setEncoding("utf8");
  stdin.resume();
  return new Promise((resolve, reject) => {
    let value = "";
    const finish = () => {
      stdin.off("data", onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write("\n");
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === "\r" || ch === "\n") {
          finish();
          resolve(value);
          return;
        }
        if (ch === "\u0003" || ch === "\u0004") {
          finish();
          reject(new CliError("cancelled", 130));
          return;
        }
        if (ch === "\u007f" || ch === "\b") value = value.slice(0, -1);
        else if (ch >= " ") value += ch;
      }
    };
    stdin.on("data", onData);
  });
}

function runProgram(command: readonly string[], input: string): Promise<RunResult> {
  const [program, ...args] = command;
  if (!program) return Promise.reject(new CliError("no command to run"));
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.on("error", (error) => reject(new CliError(`cannot run ${program}: ${error.message}`)));
    child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.on("error", () => {}); // the program may exit before reading; its status says why
    child.stdin.end(input);
  });
}
