// The RecordApi contract against OvhRecordApi over OvhClient, on the OVH simulator (sim/) over
// real HTTP. A call to anywhere but the simulator fails the suite.
import { expect } from "vitest";
import { OvhClient } from "../../src/ovh/client";
import { OvhRecordApi } from "../../src/ovh/records";
import { startTestSimulator, TEST_OVH } from "../support/endpoint";
import type { RecordMethod } from "../support/fake-records";
import { recordApiContract } from "./records.contract";

/** The HTTP call each method makes, as the simulator logs its path (after the base path). */
const CALLS: Record<RecordMethod, { method: string; path: (zone: string) => RegExp }> = {
  list: { method: "GET", path: (z) => new RegExp(`^/domain/zone/${z}/record$`) },
  get: { method: "GET", path: (z) => new RegExp(`^/domain/zone/${z}/record/\\d+$`) },
  create: { method: "POST", path: (z) => new RegExp(`^/domain/zone/${z}/record$`) },
  update: { method: "PUT", path: (z) => new RegExp(`^/domain/zone/${z}/record/\\d+$`) },
  refresh: { method: "POST", path: (z) => new RegExp(`^/domain/zone/${z}/refresh$`) },
};

recordApiContract(
  "RecordApi contract: OvhRecordApi on the OVH simulator",
  { served: true, failures: true },
  async () => {
    const zone = "example.tld";
    const sim = await startTestSimulator();
    sim.addZone(zone);
    const unexpected: string[] = [];
    const client = new OvhClient({
      endpoint: sim.url,
      credentials: TEST_OVH,
      timeoutMs: 5000,
      fetch: (input, init) => {
        const url = new URL(input instanceof Request ? input.url : String(input));
        if (url.origin === sim.origin) return fetch(input, init);
        unexpected.push(url.href);
        return Promise.reject(new Error("unexpected outbound request in a test"));
      },
    });
    let n = 0;
    return {
      api: new OvhRecordApi(client),
      zone,
      name: (label) => `${label}-${++n}`,
      served: () => sim.liveRecords(zone),
      failNext: (method) => {
        const { method: http, path } = CALLS[method];
        sim.injectFault({ method: http, path: path(zone), times: 1, fault: { kind: "status", status: 500 } });
      },
      secrets: [TEST_OVH.applicationSecret, TEST_OVH.consumerKey],
      close: async () => {
        await sim.close();
        expect(unexpected).toEqual([]);
      },
    };
  },
);
