// Helpers for the tests that drive real programs (the shell client, ddclient, inadyn): run a
// command without blocking the event loop (the OVH simulator and the endpoint's forwarders live
// in this process), find binaries, write private config files, send raw HTTP requests.
import { spawn, spawnSync } from "node:child_process";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
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
  method = "GET",
): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    socket.on("data", (d: Buffer) => chunks.push(d));
    socket.on("error", reject);
    socket.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const split = text.indexOf("\r\n\r\n");
      const head = split >= 0 ? text.slice(0, split) : text;
      let body = split >= 0 ? text.slice(split + 4) : "";
      if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) body = unchunk(body);
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
      resolve({ status, body, head });
    });
    const lines = [
      `${method} ${target} HTTP/1.1`,
      ...headers.map(([k, v]) => `${k}: ${v}`),
      "Connection: close",
    ];
    socket.write(`${lines.join("\r\n")}\r\n\r\n`);
  });
}

function unchunk(body: string): string {
  let out = "";
  let rest = body;
  for (;;) {
    const eol = rest.indexOf("\r\n");
    if (eol < 0) return out;
    const size = Number.parseInt(rest.slice(0, eol), 16);
    if (!size) return out;
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
