// `npm start`: the Worker in workerd on http://127.0.0.1:8787 with a demo configuration, against
// the OVH simulator on http://127.0.0.1:9080. Nothing here reaches a deployed config: the demo
// hosts, the demo client and its password exist only in this file.
import { DEMO, seedDemo, startOvhSimulator } from "../sim/ovh-simulator";
import { sha256Hex, startEndpoint } from "../test/support/endpoint";

const WORKER_PORT = Number(process.env.PORT ?? 8787);
const SIM_PORT = Number(process.env.SIM_PORT ?? 9080);
const DEMO_USER = "demo";
const DEMO_PASSWORD = "demo-password";

const sim = await startOvhSimulator({ port: SIM_PORT });
seedDemo(sim);

const endpoint = await startEndpoint({
  sim,
  port: WORKER_PORT,
  secrets: {
    OVH_APPLICATION_KEY: DEMO.applicationKey,
    OVH_APPLICATION_SECRET: DEMO.applicationSecret,
    OVH_CONSUMER_KEY: DEMO.consumerKey,
    // Demo only: a deployed Worker gets a random one from `npm run setup -- session`.
    SESSION_SECRET: "demo-session-secret-not-for-any-deployment",
  },
  vars: {
    HOSTS: {
      "wg-end.example.test": {
        zone: DEMO.zone,
        allow_private: true, // the demo reports documentation addresses (2001:db8::/32, 198.51.100.0/24)
        records: [
          { subdomain: "wg-end", type: "AAAA" },
          { subdomain: "firewall", type: "AAAA" },
        ],
      },
      "firewall.example.test": {
        zone: DEMO.zone,
        allow_private: true,
        records: [{ subdomain: "firewall", type: "A" }],
      },
    },
    CLIENTS: {
      [DEMO_USER]: {
        password_sha256: await sha256Hex(DEMO_PASSWORD),
        hosts: ["wg-end.example.test", "firewall.example.test"],
      },
    },
  },
});

// The Worker's log lines (one JSON object per request) go to the terminal as they come.
let shown = 0;
const printer = setInterval(() => {
  while (shown < endpoint.logs.length) console.log(`worker: ${endpoint.logs[shown++]}`);
}, 200);

console.log(`
ovh-dyndns-worker (demo) on ${endpoint.url}, OVH simulator on ${sim.origin}

Try an update (the demo client may update wg-end.example.test and firewall.example.test):

  curl -u ${DEMO_USER}:${DEMO_PASSWORD} '${endpoint.url}/nic/update?hostname=wg-end.example.test&myip=2001:db8:1:2::10'
  curl -u ${DEMO_USER}:${DEMO_PASSWORD} '${endpoint.url}/nic/update?hostname=firewall.example.test&myip=198.51.100.8'

Open the status page in a browser and log in as ${DEMO_USER} / ${DEMO_PASSWORD}:

  ${endpoint.url}/status

See the zone as OVH would serve it ("live") and as written:

  curl ${sim.origin}/_sim/zones/${DEMO.zone}

Ctrl-C stops both.
`);

const stop = async () => {
  clearInterval(printer);
  await endpoint.close();
  await sim.close();
  process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
