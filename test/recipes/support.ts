// What the tests of real clients (ddclient, inadyn) share: a Worker with the shared test config
// and limits out of the way (the clients are run many times), reached through a relay that closes
// each connection once its reply is complete, a private temp folder, and the unexpected-outbound
// check after each test.
import { connect, createServer, type Socket } from "node:net";
import { afterAll, afterEach, beforeAll, expect } from "vitest";
import { missing, portOf, tempDir } from "../client/support";
import { type Endpoint, startEndpoint } from "../support/endpoint";
import { testVars, ZONE } from "../support/fixtures";

export interface RecipeContext {
  /** Why the client cannot run here, or undefined. */
  absent: string | undefined;
  ep: Endpoint;
  /** What the client is pointed at: http://127.0.0.1:PORT of the relay in front of `ep`. */
  url: string;
  tmp: { path: string; remove(): Promise<void> };
}

/** Register the hooks for a file that runs `program`; fields are set once beforeAll has run. */
export function useRecipeEndpoint(program: string, file: string): RecipeContext {
  const ctx = { absent: missing(program) } as RecipeContext;
  let relay: Relay | undefined;
  if (ctx.absent) console.warn(`${file}: skipping: ${ctx.absent}`);
  beforeAll(async () => {
    if (ctx.absent) return;
    ctx.tmp = await tempDir(`ovh-dyndns-${program}`);
    ctx.ep = await startEndpoint({
      vars: { ...(await testVars()), SETTINGS: { auth_fail_limit: 10_000, change_limit: 10_000 } },
    });
    ctx.ep.sim.addZone(ZONE);
    relay = await closingRelay(portOf(ctx.ep.url));
    ctx.url = relay.url;
  });
  afterAll(async () => {
    await relay?.close();
    await ctx.ep?.close();
    await ctx.tmp?.remove();
  });
  afterEach(() => {
    if (ctx.ep) expect(ctx.ep.unexpected).toEqual([]);
  });
  return ctx;
}

interface Relay {
  url: string;
  close(): Promise<void>;
}

/**
 * A TCP relay to the Worker on `port` that passes the bytes unchanged both ways and ends a
 * connection as soon as the reply to a request that asked for it (`Connection: close`, or HTTP/1.0
 * without keep-alive) is complete by its Content-Length. workerd keeps such a connection open
 * for 5 s after the reply (Cloudflare's edge closes it), and ddclient and inadyn read until the
 * server closes: without the relay each of their requests waits those 5 s.
 */
export async function closingRelay(port: number): Promise<Relay> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(port, "127.0.0.1");
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    let request = "";
    let reply = Buffer.alloc(0);
    client.on("data", (d: Buffer) => {
      request += d.toString("latin1");
      upstream.write(d);
    });
    upstream.on("data", (d: Buffer) => {
      client.write(d);
      reply = Buffer.concat([reply, d]);
      if (asksToClose(request) && replyComplete(reply)) {
        client.end();
        upstream.destroy();
      }
    });
    client.on("end", () => upstream.end());
    upstream.on("end", () => client.end());
    client.on("close", () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port: own } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${own}`,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function asksToClose(request: string): boolean {
  const head = request.split(/\r?\n\r?\n/)[0] ?? "";
  if (/^connection:[ \t]*close/im.test(head)) return true;
  return /^\S+ \S+ HTTP\/1\.0\r?$/m.test(head) && !/^connection:[ \t]*keep-alive/im.test(head);
}

function replyComplete(reply: Buffer): boolean {
  const text = reply.toString("latin1");
  const end = text.indexOf("\r\n\r\n");
  if (end < 0) return false;
  const length = /^content-length:[ \t]*(\d+)/im.exec(text.slice(0, end))?.[1];
  return length !== undefined && reply.length >= end + 4 + Number(length);
}
