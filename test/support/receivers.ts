// Local HTTP receivers on loopback that stand in for notification services (ntfy, Gotify,
// Discord, Slack, Telegram, a webhook). startEndpoint's `receivers` maps each service's real
// origin to one of these, in tests only; each receiver records the exact request it got.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface Received {
  method: string;
  /** Path and query, as sent. */
  path: string;
  /** Lowercased names. */
  headers: Record<string, string>;
  body: string;
}

export interface Receiver {
  /** http://127.0.0.1:PORT */
  origin: string;
  requests: Received[];
  /** Answer every later request with this status (default 200) and body. */
  answer(status: number, body?: string): void;
  /** Resolves once `count` requests have arrived, or fails after `ms` saying what did. */
  waitFor(count: number, ms?: number): Promise<Received[]>;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const requests: Received[] = [];
  let status = 200;
  let answerBody = '{"ok":true}';
  const server: Server = createServer(async (req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers[k] = v;
    requests.push({
      method: req.method ?? "",
      path: req.url ?? "",
      headers,
      body: Buffer.concat(chunks).toString("utf8"),
    });
    res.writeHead(status, { "Content-Type": "application/json" }).end(answerBody);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    answer(s, body = '{"ok":true}') {
      status = s;
      answerBody = body;
    },
    async waitFor(count, ms = 10_000) {
      const until = Date.now() + ms;
      while (requests.length < count && Date.now() < until) await new Promise((r) => setTimeout(r, 25));
      if (requests.length < count)
        throw new Error(`expected ${count} request(s), got ${requests.length}: ${JSON.stringify(requests)}`);
      return requests;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
