// The RecordApi contract against a live OVH zone, only when its credentials are given:
//
//   OVH_LIVE_ZONE=example.com OVH_ENDPOINT=ovh-eu \
//   OVH_APPLICATION_KEY=… OVH_APPLICATION_SECRET=… OVH_CONSUMER_KEY=… \
//   npx vitest run test/contract/live.test.ts
//
// (or OVH_CLIENT_ID and OVH_CLIENT_SECRET for a service account). Every record it writes is under
// one random subdomain (dyndns-contract-<random>.<zone>) and is deleted at the end, with a refresh.
// Its refreshes also publish whatever else is staged in that zone.
import { randomBytes } from "node:crypto";
import { describe, it } from "vitest";
import { parseOvhAuth } from "../../src/config";
import { OvhClient } from "../../src/ovh/client";
import { resolveEndpoint } from "../../src/ovh/endpoints";
import { OvhRecordApi } from "../../src/ovh/records";
import { recordApiContract } from "./records.contract";

const zone = process.env.OVH_LIVE_ZONE;

if (!zone) {
  describe("RecordApi contract: live OVH zone", () => {
    it.skip("live OVH: set OVH_LIVE_ZONE, OVH_ENDPOINT and the OVH credentials in the environment to run", () => {});
  });
} else {
  recordApiContract(
    `RecordApi contract: live OVH zone ${zone}`,
    { served: false, failures: false },
    async () => {
      const endpoint = resolveEndpoint(process.env.OVH_ENDPOINT ?? "ovh-eu");
      if (!endpoint) throw new Error("OVH_ENDPOINT: not an endpoint name (ovh-eu …) or an http(s) URL");
      const auth = parseOvhAuth(process.env);
      if (!auth.ok) throw new Error(auth.errors.join("; "));
      const credentials = auth.value;
      const client = new OvhClient({ endpoint, credentials, timeoutMs: 20_000 });
      const api = new OvhRecordApi(client);
      const space = `dyndns-contract-${randomBytes(4).toString("hex")}`;
      const names = new Set<string>();
      let n = 0;
      return {
        api,
        zone,
        name: (label) => {
          const name = `${label}-${++n}.${space}`;
          names.add(name);
          return name;
        },
        secrets: Object.entries(credentials)
          .filter(([key]) => key !== "applicationKey" && key !== "clientId")
          .map(([, value]) => value),
        readLag: true,
        close: async () => {
          // Delete every record under the run's subdomain, and nothing else.
          for (const name of names) {
            for (const type of ["A", "AAAA"] as const) {
              for (const id of await api.list(zone, type, name)) {
                const record = await api.get(zone, id);
                if (!record?.subDomain.toLowerCase().endsWith(`.${space}`)) continue;
                await client.request("DELETE", `/domain/zone/${encodeURIComponent(zone)}/record/${id}`);
              }
            }
          }
          await api.refresh(zone);
        },
      };
    },
  );
}
