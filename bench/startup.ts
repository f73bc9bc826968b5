// Start-up of a fresh workerd (Miniflare): from `new Miniflare(…)` to ready, and to the first
// answer of `GET /` (a plain text route in both Workers, so the same work is asked of each).
import { BenchClient, median } from "./client";
import { startWorker, type WorkerOptions } from "./worker";

export interface StartupResult {
  name: string;
  /** Medians over the runs, ms. */
  readyMs: number;
  firstResponseMs: number;
  runs: number[];
}

async function once(options: WorkerOptions): Promise<{ ready: number; first: number }> {
  const started = performance.now();
  const worker = await startWorker(options);
  const ready = performance.now() - started;
  const client = new BenchClient();
  try {
    const reply = await client.get(`${worker.url}/`);
    if (reply.status !== 200) throw new Error(`GET / answered ${reply.status} on a fresh start`);
    return { ready, first: performance.now() - started };
  } finally {
    client.close();
    await worker.close();
  }
}

/** `runs` fresh starts of each Worker, alternating. */
export async function measureStartup(
  workers: { name: string; options: WorkerOptions }[],
  runs: number,
): Promise<StartupResult[]> {
  const samples = new Map<string, { ready: number; first: number }[]>(workers.map((w) => [w.name, []]));
  for (let i = 0; i < runs; i++) {
    for (const w of workers) samples.get(w.name)?.push(await once(w.options));
  }
  return workers.map(({ name }) => {
    const s = samples.get(name) ?? [];
    return {
      name,
      readyMs: median(s.map((x) => x.ready)),
      firstResponseMs: median(s.map((x) => x.first)),
      runs: s.map((x) => Math.round(x.first)),
    };
  });
}
