// One Worker in workerd (Miniflare), served the same way for ovh-dyndns-worker and the hello-world
// baseline. Unlike the test harness, outbound calls go straight from workerd to the simulator (no
// hop through Node, as in production) and the Worker's log lines are drained, not parsed, so the
// Node process that runs the client loop spends nothing on them.
import { readdir, readFile } from "node:fs/promises";
import type { Readable } from "node:stream";
import { type Json, Miniflare } from "miniflare";
import { COMPATIBILITY_DATE } from "../test/support/endpoint";

export interface WorkerOptions {
  scriptPath: string;
  bindings?: Record<string, unknown>;
  /** Durable Object bindings: binding name → the script's (SQLite-backed) class. */
  durableObjects?: Record<string, string>;
}

/** ovh-dyndns-worker's Durable Objects (wrangler.toml). */
export const MAIN_DURABLE_OBJECTS = { ZONES: "ZoneCoordinator", GUARD: "AuthGuard" };

export interface RunningWorker {
  url: string;
  /** workerd's process id, for its CPU time (undefined when it cannot be told apart). */
  pid: number | undefined;
  /** The last lines workerd printed on stderr (uncaught errors), for a failing run's message. */
  stderrTail: string[];
  close(): Promise<void>;
}

export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const before = await workerdChildren();
  const stderrTail: string[] = [];
  const mf = new Miniflare({
    modules: true,
    scriptPath: options.scriptPath,
    compatibilityDate: COMPATIBILITY_DATE,
    bindings: (options.bindings ?? {}) as Record<string, Json>,
    durableObjects: Object.fromEntries(
      Object.entries(options.durableObjects ?? {}).map(([name, className]) => [
        name,
        { className, useSQLite: true },
      ]),
    ),
    host: "127.0.0.1",
    port: 0,
    handleRuntimeStdio(stdout: Readable, stderr: Readable) {
      stdout.resume();
      stderr.on("data", (chunk: Buffer) => {
        stderrTail.push(...chunk.toString().split("\n").filter(Boolean));
        stderrTail.splice(0, Math.max(0, stderrTail.length - 20));
      });
    },
  });
  const url = (await mf.ready).origin;
  const fresh = (await workerdChildren()).filter((pid) => !before.includes(pid));
  return {
    url,
    pid: fresh.length === 1 ? fresh[0] : undefined,
    stderrTail,
    close: () => mf.dispose(),
  };
}

/** workerd processes whose parent is this Node process (Linux /proc; [] elsewhere). */
async function workerdChildren(): Promise<number[]> {
  const pids: number[] = [];
  let entries: string[];
  try {
    entries = await readdir("/proc");
  } catch {
    return pids;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await procStat(Number(entry));
    if (stat && stat.ppid === process.pid && stat.comm.startsWith("workerd")) pids.push(Number(entry));
  }
  return pids;
}

interface ProcStat {
  comm: string;
  ppid: number;
  /** user + system CPU time, in seconds */
  cpuSeconds: number;
}

async function procStat(pid: number): Promise<ProcStat | undefined> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid …": comm may hold spaces, so split after its closing parenthesis.
  const close = text.lastIndexOf(")");
  const comm = text.slice(text.indexOf("(") + 1, close);
  const fields = text.slice(close + 2).split(" ");
  // fields[0] is the state (field 3); utime and stime are fields 14 and 15.
  const ticksPerSecond = 100; // USER_HZ on Linux
  return {
    comm,
    ppid: Number(fields[1]),
    cpuSeconds: (Number(fields[11]) + Number(fields[12])) / ticksPerSecond,
  };
}

/** CPU seconds a process has used so far (undefined when unknown). */
export async function cpuSeconds(pid: number | undefined): Promise<number | undefined> {
  return pid === undefined ? undefined : (await procStat(pid))?.cpuSeconds;
}
