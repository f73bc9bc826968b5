// The demo `npm start` runs (scripts/start.ts): the Worker in workerd on http://127.0.0.1:8787
// with a demo configuration, against the OVH simulator on http://127.0.0.1:9080 and its name
// servers on 9053 and 9054 (PORT, SIM_PORT and SIM_DNS_PORT choose other ports). The demo hosts
// are the README's configuration in the zone example.test, so every example of the README works
// here as written, with example.test for example.tld. Nothing here reaches a deployed config:
// the demo hosts, the demo client and its password exist only in this file. A function of the
// environment and the terminal's two streams, so that tests run its failures in-process.
import { DEMO, type OvhSimulator, seedDemo, startOvhSimulator } from "../sim/ovh-simulator";
import { type Endpoint, sha256Hex, startEndpoint } from "../test/support/endpoint";

const DEMO_USER = "demo";
const DEMO_PASSWORD = "demo-password";
/** The README's host_id: subnet 10 of the /56, interface id 211:32ff:fe12:3456. */
const WG_HOST_ID = "::10:211:32ff:fe12:3456";

/** Where the demo writes: the terminal's stdout and stderr (console), or a test's lines. */
export interface DemoOutput {
  log(line: string): void;
  error(line: string): void;
}

/** The running demo, or the exit status it failed with after saying why in one line. */
export type DemoRun = { stop(): Promise<void> } | { exitCode: number };

/** Thrown with the one line that says why the demo cannot start, and its exit status. */
class Refused extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** A port from the environment (0: any free one), or a Refused saying what is wrong with it. */
function portFrom(env: Readonly<Record<string, string | undefined>>, name: string, fallback: number): number {
  const value = env[name];
  if (value === undefined || value === "") return fallback;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65_535)
    throw new Refused(
      `npm start: ${name}="${value}" is not a port number (0 to 65535; 0 picks a free one)`,
      2,
    );
  return port;
}

/**
 * A port someone else holds is one line, not a stack trace. The command it suggests keeps the
 * other port the user chose (PORT, SIM_PORT), so only the one in use moves.
 */
function inUse(
  env: Readonly<Record<string, string | undefined>>,
  error: unknown,
  what: string,
  name: string,
  port: number,
): Refused {
  const code = (error as { code?: unknown } | null)?.code;
  if (code !== "EADDRINUSE" && code !== "ERR_ADDRESS_IN_USE") throw error;
  const chosen = ["PORT", "SIM_PORT"]
    .filter((n) => n === name || env[n] !== undefined)
    .map((n) => `${n}=${n === name ? port + 1 : env[n]}`);
  return new Refused(
    `npm start: port ${port} (${what}) is already in use; stop what holds it, or choose another: ${chosen.join(" ")} npm start`,
    1,
  );
}

/** Start the demo as `env` configures it, printing its banner and the Worker's log lines to `out`. */
export async function startDemo(
  env: Readonly<Record<string, string | undefined>>,
  out: DemoOutput,
): Promise<DemoRun> {
  try {
    return await run(env, out);
  } catch (error) {
    if (!(error instanceof Refused)) throw error;
    out.error(error.message);
    return { exitCode: error.exitCode };
  }
}

async function run(env: Readonly<Record<string, string | undefined>>, out: DemoOutput): Promise<DemoRun> {
  const WORKER_PORT = portFrom(env, "PORT", 8787);
  const SIM_PORT = portFrom(env, "SIM_PORT", 9080);
  /** The simulator's two name servers: this port and the next (TCP and UDP). */
  const SIM_DNS_PORT = portFrom(env, "SIM_DNS_PORT", 9053);

  let sim: OvhSimulator;
  try {
    sim = await startOvhSimulator({ port: SIM_PORT, dns: { port: SIM_DNS_PORT } });
  } catch (error) {
    const port = (error as { port?: unknown } | null)?.port;
    if (port !== SIM_PORT)
      throw inUse(env, error, "the simulator's name servers", "SIM_DNS_PORT", Number(port));
    throw inUse(env, error, "the OVH simulator", "SIM_PORT", SIM_PORT);
  }
  seedDemo(sim);

  const zone = DEMO.zone;
  let endpoint: Endpoint;
  try {
    endpoint = await startEndpoint({
      sim,
      port: WORKER_PORT,
      triggerHandlers: true,
      secrets: {
        OVH_APPLICATION_KEY: DEMO.applicationKey,
        OVH_APPLICATION_SECRET: DEMO.applicationSecret,
        OVH_CONSUMER_KEY: DEMO.consumerKey,
        // Demo only: a deployed Worker gets a random one from `npm run setup -- session`.
        SESSION_SECRET: "demo-session-secret-not-for-any-deployment",
      },
      vars: {
        // The simulator's name servers stand in for the zone's (OVH's dns200/ns200 would be asked).
        SETTINGS: { name_servers: sim.dns.servers().map((s) => s.address) },
        HOSTS: {
          [`router.${zone}`]: {
            zone,
            allow_private: true, // the demo reports documentation addresses (2001:db8::/32, 203.0.113.0/24)
            records: [
              { subdomain: "router", type: "A" },
              { subdomain: "router", type: "AAAA" },
              { subdomain: "firewall", type: "A" },
            ],
          },
          [`wg-end.${zone}`]: {
            zone,
            allow_private: true,
            records: [
              { subdomain: "firewall", type: "AAAA", host_id: WG_HOST_ID, prefix_length: 56 },
              { subdomain: "wg-end", type: "AAAA", host_id: WG_HOST_ID, prefix_length: 56 },
            ],
          },
        },
        CLIENTS: {
          [DEMO_USER]: {
            password_sha256: await sha256Hex(DEMO_PASSWORD),
            hosts: [`router.${zone}`, `wg-end.${zone}`],
          },
        },
      },
    });
  } catch (error) {
    await sim.close();
    throw inUse(env, error, "the Worker", "PORT", WORKER_PORT);
  }

  // The Worker's log lines (one JSON object per request) go to the terminal as they come.
  let shown = 0;
  const printer = setInterval(() => {
    while (shown < endpoint.logs.length) out.log(`worker: ${endpoint.logs[shown++]}`);
  }, 200);

  const auth = `-u ${DEMO_USER}:${DEMO_PASSWORD}`;
  const dnsPorts = sim.dns
    .servers()
    .map((s) => s.port)
    .join(" and ");
  const update = `${endpoint.url}/nic/update?hostname=`;
  out.log(`
ovh-dyndns-worker (demo) on ${endpoint.url}, OVH simulator on ${sim.origin}
The README's configuration, in zone ${zone}: client "${DEMO_USER}" (password "${DEMO_PASSWORD}")
reports for router.${zone} and wg-end.${zone}.

A new prefix: wg-end's and firewall's AAAA records become 2001:db8:ab:cd10:211:32ff:fe12:3456
(the /56 of the prefix, then host_id):

  curl ${auth} '${update}wg-end.${zone}&ip6lanprefix=2001:db8:ab:cd00::/64'

What a FRITZ!Box sends, one request per family: the IPv4 one moves the A records of router and
firewall, the IPv6 one the router's own AAAA and, from the prefix, those of firewall and wg-end:

  curl ${auth} '${update}router.${zone}&myip=203.0.113.45'
  curl ${auth} '${update}router.${zone},wg-end.${zone}&myipv6=2001:db8:ff:1::45&ip6lanprefix=2001:db8:ab:cd00::/64'

The next day the ISP hands out another prefix (and the box another address of its own): both
AAAA records follow to 2001:db8:ab:ef10:211:32ff:fe12:3456, and A firewall stays as it is. The
zone below and the status page's history show each record's move, old -> new:

  curl ${auth} '${update}router.${zone},wg-end.${zone}&myipv6=2001:db8:ff:2::45&ip6lanprefix=2001:db8:ab:ef00::/64'

Open the status page in a browser and log in as ${DEMO_USER} / ${DEMO_PASSWORD}:

  ${endpoint.url}/status

The same as JSON, for scripts:

  curl ${auth} ${endpoint.url}/status

The zone as OVH would serve it ("live") and as written:

  curl ${sim.origin}/_sim/zones/${zone}

What the zone's name servers answer (the simulator's two, on ports ${dnsPorts}); after each change
the Worker asks them until both serve it, and the status page shows each record waiting, then
"served by … and …, N s after the report":

  dig @127.0.0.1 -p ${sim.dns.servers()[0]?.port} +tcp +norec +short AAAA wg-end.${zone}

Run the scheduled check by hand (stale hosts, records due for a recheck, drift set back;
deployed, the Cron Trigger runs it every 15 minutes; \`wrangler dev --test-scheduled\` serves
/__scheduled for the same):

  curl ${endpoint.url}/cdn-cgi/handler/scheduled

Other ports: PORT=8788 SIM_PORT=9081 SIM_DNS_PORT=9055 npm start.  Ctrl-C stops both.
`);

  return {
    async stop() {
      clearInterval(printer);
      await endpoint.close();
      await sim.close();
    },
  };
}
