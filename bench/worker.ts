// One Worker in workerd (Miniflare), served the same way for ovh-dyndns-worker, the floor and the
// hello-world baseline. Unlike the test harness, outbound calls go straight from workerd to the
// simulator (no hop through Node, as in production) and the Worker's log lines are drained, not
// parsed, so the Node process that sends the reports spends nothing on them.
import { readdir, readFile } from "node:fs/promises";
import type { Readable } from "node:stream";
import { type Json, Miniflare } from "miniflare";
import { COMPATIBILITY_DATE } from "../test/support/endpoint";

export interface WorkerOptions {
  scriptPath: string;
  bindings?: Record<string, unknown>;
  /** Durable Object bindings: binding name → the script's (SQLite-backed) class. */
  durableObjects?: Record<string, string>;
  /** The script is bench/meter/'s build (see RunningWorker.metered). */
  metered?: boolean;
  /** Keep Durable Object storage in this directory across starts (default: a fresh one each start). */
  persist?: string;
}

/** ovh-dyndns-worker's Durable Objects (wrangler.toml and bench/meter/wrangler.toml). */
export const MAIN_DURABLE_OBJECTS = { ZONES: "ZoneCoordinator", GUARD: "AuthGuard" };

export interface RunningWorker {
  url: string;
  /** Built from bench/meter/: answers GET /__bench/meter with what it counted since the last. */
  metered: boolean;
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
    ...(options.persist === undefined ? {} : { durableObjectsPersist: options.persist }),
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
    metered: options.metered ?? false,
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

async function procStat(pid: number): Promise<{ comm: string; ppid: number } | undefined> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid …": comm may hold spaces, so split after its closing parenthesis.
  const close = text.lastIndexOf(")");
  const fields = text.slice(close + 2).split(" ");
  return { comm: text.slice(text.indexOf("(") + 1, close), ppid: Number(fields[1]) };
}

/**
 * CPU milliseconds a process has used so far, all its threads (the schedstat file of each /proc/<pid>/task,
 * nanosecond resolution; the tick-based counters of /proc/<pid>/stat are 10 ms coarse). Undefined
 * when unknown. Exact for threads that are not running at the moment of reading: read it when
 * workerd is idle.
 */
export async function cpuMs(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  let tasks: string[];
  try {
    tasks = await readdir(`/proc/${pid}/task`);
  } catch {
    return undefined;
  }
  let ns = 0;
  for (const task of tasks) {
    try {
      ns += Number((await readFile(`/proc/${pid}/task/${task}/schedstat`, "utf8")).split(" ")[0]);
    } catch {
      // the thread ended between the listing and the read: its time is gone with it
    }
  }
  return ns / 1e6;
}
