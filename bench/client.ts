// The benchmark's HTTP client: node:http over a keep-alive connection, lighter than fetch, so on a
// 2-core machine the client takes as little CPU as possible away from workerd.
import { Agent, request } from "node:http";

export interface Reply {
  status: number;
  body: string;
  /** Wall time from sending the request to the end of the body, in ms. */
  ms: number;
}

export class BenchClient {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });

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
