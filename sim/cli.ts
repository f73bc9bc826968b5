/**
 * Starts the OVH simulator and prints its API URL (what OVH_ENDPOINT is set to) as the first
 * line of stdout, so scripts can read it.
 *
 *   tsx sim/cli.ts [--port 9080] [--dns-port 9053] [--host 127.0.0.1] [--demo] [--latency MS] [--skew SECONDS]
 *
 * The zones' two name servers listen on --dns-port and the port after it (TCP and UDP).
 */
import { parseArgs } from "node:util";
import { DEMO, seedDemo, startOvhSimulator } from "./ovh-simulator";

const usage =
  "usage: tsx sim/cli.ts [--port N] [--dns-port N] [--host H] [--demo] [--latency MS] [--skew SECONDS]";

function fail(message: string): never {
  process.stderr.write(`${message}\n${usage}\n`);
  process.exit(2);
}

function numberOption(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n)) fail(`--${name} must be a number, got "${value}"`);
  return n;
}

let parsed: ReturnType<typeof parse>;
function parse() {
  return parseArgs({
    options: {
      port: { type: "string" },
      "dns-port": { type: "string" },
      host: { type: "string" },
      demo: { type: "boolean", default: false },
      latency: { type: "string" },
      skew: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
}
try {
  parsed = parse();
} catch (err) {
  fail(err instanceof Error ? err.message : String(err));
}
const { values } = parsed;
if (values.help) {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}

const port = numberOption("port", values.port, 0);
if (!Number.isInteger(port) || port < 0 || port > 65_535) fail("--port must be an integer from 0 to 65535");
const dnsPort = numberOption("dns-port", values["dns-port"], 0);
if (!Number.isInteger(dnsPort) || dnsPort < 0 || dnsPort > 65_534)
  fail("--dns-port must be an integer from 0 to 65534 (the second name server takes the next port)");

const sim = await startOvhSimulator({
  host: values.host ?? "127.0.0.1",
  port,
  latencyMs: numberOption("latency", values.latency, 0),
  clockSkewSeconds: numberOption("skew", values.skew, 0),
  dns: { port: dnsPort },
});
if (values.demo) seedDemo(sim);

process.stdout.write(`${sim.url}\n`);
process.stderr.write(
  values.demo
    ? `OVH simulator ready: zone ${DEMO.zone}, application key ${DEMO.applicationKey}, consumer key ${DEMO.consumerKey}; control API at ${sim.origin}/_sim/\n`
    : `OVH simulator ready (no data; control API at ${sim.origin}/_sim/)\n`,
);
const servers = sim.dns.servers();
process.stderr.write(
  `Name servers: ${servers.map((s) => `${s.name} at ${s.address}`).join(", ")} (TCP and UDP)\n`,
);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    sim.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
