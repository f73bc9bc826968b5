// Run inside a network namespace (`ip netns exec NS node netns-bridge.mjs SOCKET`): listens on
// 127.0.0.1 of that namespace and forwards every connection to the Unix socket SOCKET, which the
// test serves from the root namespace. Unix sockets live in the file system, not in a network
// namespace, so this is how a client that runs wholly inside the namespace reaches the endpoint.
// Prints the port it listens on as its first line.
import { connect, createServer } from "node:net";

const socketPath = process.argv[2];
if (!socketPath) {
  process.stderr.write("usage: netns-bridge.mjs SOCKET\n");
  process.exit(64);
}

const server = createServer((inbound) => {
  const outbound = connect(socketPath);
  inbound.pipe(outbound);
  outbound.pipe(inbound);
  inbound.on("error", () => outbound.destroy());
  outbound.on("error", () => inbound.destroy());
});
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  process.stdout.write(`${typeof address === "object" && address ? address.port : ""}\n`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
