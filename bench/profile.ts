// Where an unchanged report's time goes: the Worker rebuilt with one piece of work taken out at a
// time (text patches applied while bundling, src/ untouched), each variant loaded like the
// throughput run. The difference in workerd CPU per request and in requests per second is what
// that piece costs. A patch whose text is no longer in src/ is reported, not guessed around.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { build, type Plugin } from "esbuild";
import { WORKER_BUILD } from "../test/support/endpoint";
import { BenchClient, median, quantile } from "./client";
import { measureLoad } from "./throughput";
import { MAIN_DURABLE_OBJECTS, type RunningWorker, startWorker } from "./worker";

interface Patch {
  file: string;
  find: string;
  replace: string;
}

export interface Variant {
  id: string;
  what: string;
  patches: Patch[];
}

const NOCHG_STUB =
  "Promise.resolve({ zone: batch.zone, hosts: batch.hosts.map((host) => ({ host, result: { status: 'nochg' } })), notes: [], ovhCalls: 0, queryIds: [] })";

const PATCHES = {
  lease: {
    file: "src/lines.ts",
    find: "lease &&\n      now < lease.until &&",
    replace: "false &&",
  },
  zoneCall: {
    file: "src/index.ts",
    find: "zoneLines(c.env).apply(batch, (work) => c.executionCtx.waitUntil(work))",
    replace: NOCHG_STUB,
  },
  memo: {
    file: "src/memo.ts",
    find: "let value = seen.get(input);",
    replace: "let value: V | undefined;",
  },
  rightBefore: {
    file: "src/auth.ts",
    find: "const known = rightBefore.get(config)?.get(key);",
    replace: "const known = undefined;",
  },
  log: {
    file: "src/log.ts",
    find: "console.log(JSON.stringify({ event, ...fields }));",
    replace: "void event; void fields;",
  },
} satisfies Record<string, Patch>;

export const VARIANTS: Variant[] = [
  { id: "baseline", what: "as built (esbuild, minified; no patch)", patches: [] },
  {
    id: "no-lease",
    what: "every report calls the zone coordinator (no lease)",
    patches: [PATCHES.lease],
  },
  {
    id: "no-memo",
    what: "decodes, hashes and parses anew every report (no memo)",
    patches: [PATCHES.memo, PATCHES.rightBefore],
  },
  { id: "no-log", what: "without the JSON log line", patches: [PATCHES.log] },
  {
    id: "none",
    what: "without the zone step and the log line (Hono, access, parsing, planning)",
    patches: [PATCHES.zoneCall, PATCHES.log],
  },
];

export interface VariantResult {
  id: string;
  what: string;
  /** Patches whose text was not found in src/ (the variant then did not run). */
  missing: string[];
  /** One request at a time: latency, ms (all batches pooled). */
  p50Ms?: number;
  p95Ms?: number;
  /** Under load (median of the rounds). */
  perSecond?: number;
  workerdCpuMs?: number;
}

function patcher(patches: Patch[], applied: Set<Patch>): Plugin {
  return {
    name: "bench-patch",
    setup(b) {
      b.onLoad({ filter: /[\\/]src[\\/].*\.ts$/ }, async (args) => {
        let text = await readFile(args.path, "utf8");
        for (const p of patches) {
          if (!args.path.endsWith(p.file) || !text.includes(p.find)) continue;
          text = text.replace(p.find, p.replace);
          applied.add(p);
        }
        return { contents: text, loader: "ts" };
      });
    },
  };
}

/** Bundle src/index.ts with the patches, the way wrangler bundles it (minified, names kept). */
export async function buildVariant(
  v: Variant,
  outdir: string,
): Promise<{ scriptPath: string; missing: string[] }> {
  const applied = new Set<Patch>();
  const scriptPath = join(outdir, `${v.id}.mjs`);
  await build({
    ...WORKER_BUILD,
    outfile: scriptPath,
    minify: true,
    keepNames: true,
    plugins: [patcher(v.patches, applied)],
  });
  const missing = v.patches.filter((p) => !applied.has(p)).map((p) => `${p.file}: ${p.find.split("\n")[0]}`);
  return { scriptPath, missing };
}

export interface ProfileOptions {
  outdir: string;
  bindings: Record<string, unknown>;
  /** The hello-world bundle: its answer to the same request is the floor every row is compared with. */
  helloScript: string;
  path: string;
  headers: Record<string, string>;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  rounds: number;
  /** Sequential requests per target and round, for the latency columns. */
  batch: number;
}

interface Row {
  id: string;
  what: string;
  worker: RunningWorker;
  path: string;
  headers: Record<string, string>;
  client: BenchClient;
  latencies: number[];
  loads: { perSecond: number; cpuMs?: number }[];
}

/**
 * Every variant runs at once (one workerd each); rounds go over all of them in turn, so a busy
 * moment on a shared machine hurts every row alike. Per round and row: `batch` requests one at a
 * time (latency), then a load run (requests per second, workerd CPU per request).
 */
export async function profile(o: ProfileOptions, progress: (line: string) => void): Promise<VariantResult[]> {
  const rows: Row[] = [];
  const skipped: VariantResult[] = [];
  try {
    const hello = await startWorker({ scriptPath: o.helloScript });
    rows.push(row("hello-world", "reference: hello-world, the same request", hello, o.path, o.headers));
    for (const v of VARIANTS) {
      const { scriptPath, missing } = await buildVariant(v, o.outdir);
      if (missing.length > 0) {
        skipped.push({ id: v.id, what: v.what, missing });
        progress(`profile ${v.id}: skipped, src/ changed (${missing.join("; ")})`);
        continue;
      }
      const worker = await startWorker({
        scriptPath,
        bindings: o.bindings,
        durableObjects: MAIN_DURABLE_OBJECTS,
      });
      if (v.id === "baseline")
        rows.push(
          row("baseline GET /", "reference: this Worker, GET / (no Durable Object)", worker, "/", {}),
        );
      rows.push(row(v.id, v.what, worker, o.path, o.headers));
    }
    // One report per Worker first: the zone coordinators learn their records (the only OVH calls).
    for (const r of rows) await once(r);
    for (let round = 0; round < o.rounds; round++) {
      for (const r of round % 2 === 0 ? rows : [...rows].reverse()) {
        for (let i = 0; i < o.batch; i++) r.latencies.push(await once(r));
        const load = await measureLoad({ name: r.id, worker: r.worker, path: r.path, headers: r.headers }, o);
        if (load.errors > 0) throw new Error(`profile ${r.id}: ${load.errors} requests did not answer 200`);
        r.loads.push({ perSecond: load.perSecond, cpuMs: load.cpuMs });
      }
      progress(`profile: round ${round + 1} of ${o.rounds} done`);
    }
  } finally {
    for (const r of rows) r.client.close();
    await Promise.all([...new Set(rows.map((r) => r.worker))].map((w) => w.close()));
  }
  const results: VariantResult[] = rows.map((r) => {
    const cpu = r.loads.flatMap((l) => (l.cpuMs === undefined ? [] : [l.cpuMs]));
    return {
      id: r.id,
      what: r.what,
      missing: [],
      p50Ms: quantile(r.latencies, 0.5),
      p95Ms: quantile(r.latencies, 0.95),
      perSecond: median(r.loads.map((l) => l.perSecond)),
      workerdCpuMs: cpu.length ? median(cpu) : undefined,
    };
  });
  return [...results, ...skipped];
}

function row(
  id: string,
  what: string,
  worker: RunningWorker,
  path: string,
  headers: Record<string, string>,
): Row {
  return { id, what, worker, path, headers, client: new BenchClient(), latencies: [], loads: [] };
}

async function once(r: Row): Promise<number> {
  const reply = await r.client.get(r.worker.url + r.path, r.headers);
  if (reply.status !== 200) throw new Error(`profile ${r.id}: answered ${reply.status} ${reply.body}`);
  return reply.ms;
}
