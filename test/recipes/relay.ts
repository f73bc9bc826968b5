// A relay between the clients the recipe tests run (ddclient, inadyn) and the Worker.
import { connect, createServer, type Socket } from "node:net";

export interface Relay {
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
