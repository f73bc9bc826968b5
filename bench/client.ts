// The benchmark's HTTP client: node:http over keep-alive connections, lighter than fetch, so on a
// 2-core machine the client takes as little CPU as possible away from workerd. The same client
// measures latency (one request at a time) and throughput (N loops over N connections).
import { Agent, request } from "node:http";

export interface Reply {
  status: number;
  body: string;
  /** Wall time from sending the request to the end of the body, in ms. */
  ms: number;
}

export class BenchClient {
  private readonly agent: Agent;

  constructor(connections = 1) {
    this.agent = new Agent({ keepAlive: true, maxSockets: connections });
  }

  get(url: string, headers: Record<string, string> = {}): Promise<Reply> {
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const req = request(url, { agent: this.agent, headers }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          body += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body, ms: performance.now() - started }));
        res.on("error", reject);
      });
      req.setTimeout(30_000, () => req.destroy(new Error(`no answer from ${url} within 30 s`)));
      req.on("error", reject);
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

export interface LoadResult {
  requests: number;
  seconds: number;
  perSecond: number;
  /** Latency of the measured requests, ms. */
  p50: number;
  p99: number;
  /** Requests that did not answer the expected status. */
  errors: number;
  /** CPU the client's Node process used, as a share of one core. */
  clientCpu: number;
  /** How much `probe` grew over the measured window (e.g. the server's CPU seconds). */
  probed?: number;
}

/**
 * `concurrency` loops, each sending one request after the other over its own keep-alive
 * connection: first for `warmupMs`, then for `durationMs`. Counted are the answers that arrive
 * within `durationMs`; requests in flight when the time is up finish but are not counted.
 */
export async function load(
  url: string,
  headers: Record<string, string>,
  o: { concurrency: number; warmupMs: number; durationMs: number; expectStatus: number },
  probe?: () => Promise<number | undefined>,
): Promise<LoadResult> {
  const client = new BenchClient(o.concurrency);
  const latencies: number[] = [];
  let errors = 0;
  let phase: "warmup" | "measure" | "done" = "warmup";
  const loop = async () => {
    while (phase !== "done") {
      const reply = await client.get(url, headers);
      if (phase !== "measure") continue; // answered during the warm-up or after the end
      latencies.push(reply.ms);
      if (reply.status !== o.expectStatus) errors++;
    }
  };
  const loops = Array.from({ length: o.concurrency }, loop);
  await sleep(o.warmupMs);
  phase = "measure";
  const probeStart = await probe?.();
  const cpu = process.cpuUsage();
  const started = performance.now();
  await sleep(o.durationMs);
  phase = "done";
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const probeEnd = await probe?.();
  await Promise.all(loops);
  client.close();
  return {
    requests: latencies.length,
    seconds,
    perSecond: latencies.length / seconds,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    errors,
    clientCpu: (used.user + used.system) / 1e6 / seconds,
    probed: probeStart !== undefined && probeEnd !== undefined ? probeEnd - probeStart : undefined,
  };
}

/** The q-quantile (nearest rank) of the values; NaN for none. */
export function quantile(values: number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

export function median(values: number[]): number {
  return quantile(values, 0.5);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
