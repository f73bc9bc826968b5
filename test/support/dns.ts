// DNS over TCP from Node, as src/dns/client.ts expects a socket (the shape connect() from
// cloudflare:sockets gives in the Worker), so its unit tests talk to real servers on loopback.
import { connect } from "node:net";
import { Duplex } from "node:stream";
import type { Connect, DnsSocket } from "../../src/dns/client";

/** Only loopback: a test that asked anything else would reach outside the machine. */
export const nodeConnect: Connect = (server) => {
  if (!/^(127\.\d+\.\d+\.\d+|::1|localhost)$/.test(server.host))
    throw new Error(`a test may only connect to loopback, not ${server.host}`);
  const socket = connect(server.port, server.host);
  const { readable, writable } = Duplex.toWeb(socket);
  return {
    readable: readable as unknown as DnsSocket["readable"],
    writable: writable as unknown as DnsSocket["writable"],
    close: () => {
      socket.destroy();
    },
  };
};
