// What a coordinator remembers of a zone's records (src/zone/store/records.ts), in memory: for
// the reconciler's and the job's tests on the fake record API.
import type { RecordState } from "../../src/zone/protocol";
import type { RecordMemory } from "../../src/zone/reconcile";

export class Memory implements RecordMemory {
  readonly map = new Map<string, RecordState>();
  get(key: string) {
    return this.map.get(key);
  }
  set(key: string, state: RecordState) {
    this.map.set(key, { ...state });
  }
  delete(key: string) {
    this.map.delete(key);
  }
}
