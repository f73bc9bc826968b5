// Helpers for the tests that drive real programs (the shell client, ddclient, inadyn): run a
// command without blocking the event loop (the OVH simulator and the endpoint's forwarders live
// in this process), find binaries, write private config files, send raw HTTP requests.
import { spawn, spawnSync } from "node:child_process";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../support/endpoint";

export const CLIENT = join(ROOT, "client", "ovh-dyndns-client");

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  input?: string;
  cwd?: string;
  timeoutMs?: number;
}

/** Run a command to completion; kills it after timeoutMs (default 60 s). */
export function run(command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: (options.env ?? process.env) as NodeJS.ProcessEnv,
      cwd: options.cwd,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    // A program that exits without reading its input closes the pipe: not an error here.
    child.stdin.on("error", () => {});
    child.stdin.end(options.input ?? "");
  });
}

/** The absolute path of a program on PATH, or undefined. */
export function which(program: string): string | undefined {
  const found = spawnSync("sh", ["-c", 'command -v "$1"', "sh", program], { encoding: "utf8" });
  const path = found.stdout.trim();
  return found.status === 0 && path.startsWith("/") ? path : undefined;
}

/** Why a program cannot be used here, or undefined when it can. */
export function missing(...programs: string[]): string | undefined {
  const absent = programs.filter((p) => !which(p));
  return absent.length
    ? `not installed: ${absent.join(", ")} (apt-get install ${absent.join(" ")})`
    : undefined;
}

/** The shells the client must run under, as argv prefixes. */
export const SHELLS: { name: string; argv: string[]; missing?: string }[] = [
  { name: "dash", argv: ["dash"], missing: missing("dash") },
  { name: "busybox ash", argv: ["busybox", "ash"], missing: missing("busybox") },
];

export async function tempDir(prefix: string): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `${prefix}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** Write a file readable by its owner only (whatever the umask). */
export async function writePrivate(path: string, text: string, mode = 0o600): Promise<string> {
  await writeFile(path, text, { mode });
  await chmod(path, mode);
  return path;
}

/** KEY=value lines for the shell client. */
export function clientConfig(values: Record<string, string>): string {
  return `${Object.entries(values)
    .map(([k, v]) => `${k}=${v}`)
    .join("\n")}\n`;
}

export interface RawReply {
  status: number;
  body: string;
  head: string;
}

/**
 * Send a request exactly as written (no URL normalisation, no escaping): what a router sends.
 * `target` is the request target, e.g. "/nic/update?hostname=…"; headers in order.
 */
export function rawRequest(
  port: number,
  target: string,
  headers: [string, string][],
  { method = "GET", version = "1.1" }: { method?: string; version?: "1.0" | "1.1" } = {},
): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let received = Buffer.alloc(0);
    let done = false;
    // The reply is complete at Content-Length bytes or the last chunk; the server may keep the
    // connection open after that, so do not wait for it to close.
    const finish = (ended: boolean) => {
      if (done) return;
      const text = received.toString("latin1");
      const split = text.indexOf("\r\n\r\n");
      if (split < 0) {
        if (ended) reject(new Error(`incomplete reply: ${JSON.stringify(text)}`));
        return;
      }
      const head = text.slice(0, split);
      const rest = received.subarray(split + 4);
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1];
      let body: string | undefined;
      if (length !== undefined) {
        if (rest.length >= Number(length)) body = rest.subarray(0, Number(length)).toString("utf8");
      } else if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
        body = unchunk(rest.toString("latin1"));
      } else if (ended) {
        body = rest.toString("utf8");
      }
      if (body === undefined) {
        if (ended) reject(new Error(`incomplete reply: ${JSON.stringify(text)}`));
        return;
      }
      done = true;
      socket.destroy();
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
      resolve({ status, body, head });
    };
    socket.on("data", (d: Buffer) => {
      received = Buffer.concat([received, d]);
      finish(false);
    });
    socket.on("error", (e) => {
      if (!done) reject(e);
    });
    socket.on("end", () => finish(true));
    const lines = [`${method} ${target} HTTP/${version}`, ...headers.map(([k, v]) => `${k}: ${v}`)];
    if (version === "1.1") lines.push("Connection: close");
    socket.write(`${lines.join("\r\n")}\r\n\r\n`);
  });
}

/** The body of a chunked reply, or undefined while the last chunk has not arrived. */
function unchunk(body: string): string | undefined {
  let out = "";
  let rest = body;
  for (;;) {
    const eol = rest.indexOf("\r\n");
    if (eol < 0) return undefined;
    const size = Number.parseInt(rest.slice(0, eol), 16);
    if (Number.isNaN(size)) return undefined;
    if (size === 0) return Buffer.from(out, "latin1").toString("utf8");
    if (rest.length < eol + 2 + size + 2) return undefined;
    out += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 2 + size + 2);
  }
}

export function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
}

/** The port of http://127.0.0.1:PORT. */
export function portOf(url: string): number {
  return Number(new URL(url).port);
}

/** The Worker URL the recipes in docs/recipes.md are written for. */
export const RECIPE_WORKER = "ovh-dyndns.example.workers.dev";

/** The fenced code block after `<!-- test: NAME -->` in docs/recipes.md, without its fences. */
export async function recipeBlock(name: string): Promise<string> {
  const doc = await readFile(join(ROOT, "docs", "recipes.md"), "utf8");
  const marker = `<!-- test: ${name} -->\n`;
  const at = doc.indexOf(marker);
  if (at < 0) throw new Error(`docs/recipes.md has no block marked "${name}"`);
  const block = /^```[^\n]*\n([\s\S]*?)^```$/m.exec(doc.slice(at + marker.length));
  if (!block?.[1] || block.index !== 0) throw new Error(`"${name}" is not followed by a code block`);
  return block[1];
}
