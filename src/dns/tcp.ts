// The Worker's TCP sockets (connect() from cloudflare:sockets) as src/dns/client.ts uses them.
// Apart from client.ts so that Node tests can run the client over node:net instead.
import { connect } from "cloudflare:sockets";
import type { Connect } from "./client";

export const tcpConnect: Connect = (server) => connect({ hostname: server.host, port: server.port });
