// The RecordApi contract against the in-memory fake the reconciler's unit tests use: the fake
// must keep the contract, or those tests prove nothing about OVH.
import { FakeRecordApi } from "../support/fake-records";
import { recordApiContract } from "./records.contract";

recordApiContract("RecordApi contract: in-memory fake", { served: true, failures: true }, async () => {
  const zone = "example.tld";
  const api = new FakeRecordApi([zone]);
  let n = 0;
  return {
    api,
    zone,
    name: (label) => `${label}-${++n}`,
    served: () => api.served(zone),
    failNext: (method) => api.failNext(method),
    secrets: [],
    close: async () => {},
  };
});
