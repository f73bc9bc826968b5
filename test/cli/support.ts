// Helpers for the CLI tests: the CLI as a child process (as `npm run …` runs it) or in-process
// with injected I/O, temporary project directories, and a simulator with an OVH application.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { stringify } from "smol-toml";
import type { Io, RunResult } from "../../scripts/cli/io";
import { main } from "../../scripts/cli/main";
import { type OvhSimulator, startOvhSimulator } from "../../sim/ovh-simulator";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const CLI = join(ROOT, "scripts", "cli.ts");
/** tsx's loader by path: the child runs in a temporary directory, where `--import tsx` would not resolve. */
const TSX = pathToFileURL(createRequire(join(ROOT, "package.json")).resolve("tsx")).href;

/** The OVH application the simulator knows; test values, not secrets. */
export const APP = { key: "cli-test-app-key", secret: "cli-test-app-secret-9f3e" } as const;

export async function simWithApp(): Promise<OvhSimulator> {
  const sim = await startOvhSimulator();
  sim.addApplication(APP.key, APP.secret);
  return sim;
}

/** A temporary project directory; removed by the returned function. */
export async function tempProject(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "ovh-dyndns-cli-"));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** wrangler.toml with these vars (the rest as the project's own file has it). */
export async function writeWranglerToml(
  dir: string,
  vars: Record<string, unknown>,
  extra = "",
): Promise<string> {
  const path = join(dir, "wrangler.toml");
  const text = `${stringify({ name: "ovh-dyndns", main: "src/index.ts", vars })}\n${extra}`;
  await writeFile(path, text);
  return path;
}

/** test/cli/fake-wrangler.mjs as $WRANGLER: `secret list` from $FAKE_WRANGLER_SECRETS, never Cloudflare. */
export const FAKE_WRANGLER = `${process.execPath} ${join(ROOT, "test", "cli", "fake-wrangler.mjs")}`;

/** Every secret a Worker with the OVH key needs: what `secret list` shows once set up. */
export const ALL_SECRETS = [
  "OVH_APPLICATION_KEY",
  "OVH_APPLICATION_SECRET",
  "OVH_CONSUMER_KEY",
  "SESSION_SECRET",
] as const;

/**
 * The environment for a child: ours without any OVH_*, WRANGLER, Cloudflare token or
 * FAKE_WRANGLER_*, with the fake wrangler (not logged in unless `extra` lists secrets), plus `extra`.
 */
export function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || k.startsWith("OVH_") || k.startsWith("CLOUDFLARE_")) continue;
    if (k !== "WRANGLER" && !k.startsWith("FAKE_WRANGLER")) env[k] = v;
  }
  return { ...env, WRANGLER: FAKE_WRANGLER, ...extra };
}

/** A run() for memoryIo: `wrangler secret list` shows `names`, or fails as when not logged in. */
export function wranglerWith(names: readonly string[] | undefined) {
  return (command: readonly string[]): RunResult => {
    if (command.includes("list")) {
      if (names === undefined)
        return {
          code: 1,
          stdout: "",
          stderr: "✘ [ERROR] You are not authenticated. Please run `wrangler login`.",
        };
      return {
        code: 0,
        stdout: JSON.stringify(names.map((name) => ({ name, type: "secret_text" }))),
        stderr: "",
      };
    }
    return { code: 0, stdout: "", stderr: "" };
  };
}

export interface CliProcess {
  child: ChildProcess;
  /** Output so far. */
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves with the first match of `re` in stdout (rejects if the process ends first). */
  waitFor(re: RegExp): Promise<RegExpMatchArray>;
  done: Promise<RunResult>;
}

/** `node --import tsx scripts/cli.ts …` (what `npm run` does through tsx) in `cwd`. */
export function startCli(
  args: string[],
  o: { cwd: string; env?: Record<string, string>; stdin?: string },
): CliProcess {
  const child = spawn(process.execPath, ["--import", TSX, CLI, ...args], {
    cwd: o.cwd,
    env: childEnv(o.env),
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  const waiters: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  child.stdout?.on("data", (d: Buffer) => {
    stdout += d.toString();
    for (const w of [...waiters]) {
      const m = stdout.match(w.re);
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  });
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  child.stdin?.end(o.stdin ?? "");
  const done = new Promise<RunResult>((resolve) => {
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
  return {
    child,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    waitFor(re) {
      const m = stdout.match(re);
      if (m) return Promise.resolve(m);
      return new Promise((resolve, reject) => {
        waiters.push({ re, resolve });
        void done.then((r) =>
          reject(new Error(`CLI exited (${r.code}) before printing ${re}:\n${r.stdout}\n${r.stderr}`)),
        );
      });
    },
    done,
  };
}

export function runCli(
  args: string[],
  o: { cwd: string; env?: Record<string, string>; stdin?: string },
): Promise<RunResult> {
  return startCli(args, o).done;
}

export interface MemoryIo extends Io {
  stdout: string;
  stderr: string;
  /** Commands given to run(), with what was fed on stdin. */
  runs: { command: readonly string[]; input: string }[];
}

/**
 * In-process I/O: no terminal, stdin lines from `stdin`, the real clock (OVH signatures use it).
 * Programs are not run: `run` answers (by default a wrangler that is not logged in).
 */
export function memoryIo(o: {
  cwd: string;
  env?: Record<string, string>;
  stdin?: string[];
  run?: (command: readonly string[], input: string) => RunResult;
}): MemoryIo {
  const lines = [...(o.stdin ?? [])];
  const io: MemoryIo = {
    stdout: "",
    stderr: "",
    runs: [],
    out(text) {
      io.stdout += text.endsWith("\n") ? text : `${text}\n`;
    },
    err(text) {
      io.stderr += text.endsWith("\n") ? text : `${text}\n`;
    },
    env: o.env ?? {},
    cwd: o.cwd,
    interactive: false,
    readLine: async () => lines.shift(),
    readSecret: async () => lines.shift(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    now: () => Date.now(),
    fetch: (input, init) => fetch(input, init),
    async run(command, input) {
      io.runs.push({ command, input });
      return (o.run ?? wranglerWith(undefined))(command, input);
    },
  };
  return io;
}

/** main() with memoryIo: exit status and output. */
export async function runInProcess(
  args: string[],
  o: Parameters<typeof memoryIo>[0],
): Promise<{ code: number; io: MemoryIo }> {
  const io = memoryIo(o);
  const code = await main(args, io);
  return { code, io };
}
