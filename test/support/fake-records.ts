// An in-memory RecordApi that keeps the contract of src/ovh/records.ts the way OVH does: writes go
// to a staging copy that reads see at once, and only `refresh` publishes them (`served()`); ids are
// above 2^31; `list` compares names case-insensitively. Tests inject failures per method and per
// call, including an "answer lost" (the write is applied, then the call fails as a time-out
// would), and count calls from its log. The contract suite (test/contract/) runs against it too.
import { isIPv4, isIPv6 } from "node:net";
import type { RecordType } from "../../src/config";
import type { RecordApi, RecordData, ZoneRecord } from "../../src/ovh/records";

export type RecordMethod = "list" | "get" | "create" | "update" | "refresh";

/** One call as the fake received it. `failed`: it threw; `lost`: it was applied, then threw. */
export interface FakeCall {
  method: RecordMethod;
  zone: string;
  /** The record id of a get or update, the id a create made. */
  id?: number;
  type?: string;
  subdomain?: string;
  target?: string;
  ttl?: number;
  outcome: "pending" | "ok" | "failed" | "lost" | "missing";
}

type CallFacts = Omit<FakeCall, "outcome">;

export interface FailureRule {
  method: RecordMethod;
  /** Only calls this matches fail (e.g. the update of one id); default every call of `method`. */
  when?: (call: CallFacts) => boolean;
  /** How many matching calls fail; default 1. */
  times?: number;
  /** Let this many matching calls succeed first; default 0. */
  after?: number;
  /**
   * "lost": apply the call, then fail as a time-out would; "missing": answer as OVH's 404 does
   * (a get undefined, an update false) though the record exists, as OVH's read just after a
   * create can; default "error" (nothing applied).
   */
  how?: "error" | "lost" | "missing";
}

interface Zone {
  staged: Map<number, ZoneRecord>;
  served: Map<number, ZoneRecord>;
}

const copy = (r: ZoneRecord): ZoneRecord => ({ ...r });
const byId = (records: Map<number, ZoneRecord>) =>
  [...records.values()].map(copy).sort((a, b) => a.id - b.id);

export class FakeRecordApi implements RecordApi {
  readonly calls: FakeCall[] = [];
  /** OVH's known bug: a create that answers the new record with id 0 (docs/reference/ovh-api.md). */
  createAnswersIdZero = false;
  private readonly zones = new Map<string, Zone>();
  private readonly rules: (FailureRule & { seen: number; left: number })[] = [];
  /** OVH's ids are 64-bit and above 2^31; so are these, so no code can keep them in an int32. */
  private nextId = 2 ** 32 + Math.floor(Math.random() * 1_000_000);

  constructor(zones: string[] = []) {
    for (const zone of zones) this.addZone(zone);
  }

  addZone(zone: string): void {
    if (!this.zones.has(zone.toLowerCase()))
      this.zones.set(zone.toLowerCase(), { staged: new Map(), served: new Map() });
  }

  /** A record made by hand in OVH's console; `served` (default true) publishes it as well. */
  seed(zone: string, r: RecordData, { served = true } = {}): number {
    const z = this.zoneOrThrow(zone, `fake seed in zone ${zone}`);
    const record = this.newRecord(zone, r);
    z.staged.set(record.id, record);
    if (served) z.served.set(record.id, copy(record));
    return record.id;
  }

  /** A record deleted by hand; `served` (default true) unpublishes it as well. */
  remove(zone: string, id: number, { served = true } = {}): void {
    const z = this.zoneOrThrow(zone, `fake remove in zone ${zone}`);
    z.staged.delete(id);
    if (served) z.served.delete(id);
  }

  /** What the API reads and writes: every write so far, sorted by id. */
  staged(zone: string): ZoneRecord[] {
    return byId(this.zoneOrThrow(zone, `fake staged in zone ${zone}`).staged);
  }

  /** What OVH's name servers serve: the staged copy as of the last refresh, sorted by id. */
  served(zone: string): ZoneRecord[] {
    return byId(this.zoneOrThrow(zone, `fake served in zone ${zone}`).served);
  }

  /** Make calls fail; see FailureRule. */
  fail(rule: FailureRule): void {
    this.rules.push({ ...rule, seen: 0, left: rule.times ?? 1 });
  }

  /** The next call of `method` (after `after` more) fails; "lost" applies it first. */
  failNext(method: RecordMethod, how: "error" | "lost" = "error", after = 0): void {
    this.fail({ method, how, after });
  }

  /** Calls made, optionally of one method. */
  count(method?: RecordMethod): number {
    return method ? this.calls.filter((c) => c.method === method).length : this.calls.length;
  }

  /** The methods called, in order: a compact view for exact assertions. */
  methods(): RecordMethod[] {
    return this.calls.map((c) => c.method);
  }

  resetCalls(): void {
    this.calls.length = 0;
  }

  async list(zone: string, type: RecordType, subdomain: string): Promise<number[]> {
    return this.call({ method: "list", zone, type, subdomain }, (z) =>
      [...z.staged.values()]
        .filter((r) => r.fieldType === type && r.subDomain.toLowerCase() === subdomain.toLowerCase())
        .map((r) => r.id)
        .sort((a, b) => a - b),
    );
  }

  async get(zone: string, id: number): Promise<ZoneRecord | undefined> {
    return this.call({ method: "get", zone, id }, (z, call) => {
      const r = call.outcome === "missing" ? undefined : z.staged.get(id);
      return r && copy(r);
    });
  }

  async create(zone: string, r: RecordData): Promise<ZoneRecord> {
    const facts = {
      method: "create" as const,
      zone,
      type: r.type,
      subdomain: r.subdomain,
      target: r.target,
      ttl: r.ttl,
    };
    return this.call(facts, (z, call) => {
      checkTarget(r.type, r.target);
      const record = this.newRecord(zone, r);
      z.staged.set(record.id, record);
      call.id = record.id;
      return this.createAnswersIdZero ? { ...copy(record), id: 0 } : copy(record);
    });
  }

  async update(zone: string, id: number, change: Pick<RecordData, "target" | "ttl">): Promise<boolean> {
    return this.call({ method: "update", zone, id, target: change.target, ttl: change.ttl }, (z, call) => {
      const r = call.outcome === "missing" ? undefined : z.staged.get(id);
      if (!r) return false;
      checkTarget(r.fieldType, change.target);
      r.target = change.target;
      r.ttl = change.ttl;
      return true;
    });
  }

  async refresh(zone: string): Promise<void> {
    return this.call({ method: "refresh", zone }, (z) => {
      z.served = new Map([...z.staged].map(([id, r]) => [id, copy(r)]));
    });
  }

  /** Log the call, apply the failure rules, run it. */
  private call<T>(facts: CallFacts, run: (z: Zone, call: FakeCall) => T): T {
    const call: FakeCall = { ...facts, outcome: "pending" };
    this.calls.push(call);
    const what = `fake ${call.method} in zone ${call.zone}${call.id === undefined ? "" : ` (record ${call.id})`}`;
    const rule = this.rules.find((r) => r.method === call.method && r.left > 0 && (r.when?.(facts) ?? true));
    let failing: FailureRule["how"];
    if (rule) {
      rule.seen++;
      if (rule.seen > (rule.after ?? 0)) {
        rule.left--;
        failing = rule.how ?? "error";
      }
    }
    if (failing === "error") {
      call.outcome = "failed";
      throw new Error(`${what}: 500 injected failure`);
    }
    if (failing === "missing") call.outcome = "missing";
    let result: T;
    try {
      const z = this.zones.get(call.zone.toLowerCase());
      if (!z) throw new Error("404 This service does not exist");
      result = run(z, call);
    } catch (error) {
      call.outcome = "failed";
      throw new Error(`${what}: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (failing === "lost") {
      call.outcome = "lost";
      throw new Error(`${what}: no answer within the time-out (injected; the call was applied)`);
    }
    if (call.outcome === "pending") call.outcome = "ok";
    return result;
  }

  private zoneOrThrow(zone: string, what: string): Zone {
    const z = this.zones.get(zone.toLowerCase());
    if (!z) throw new Error(`${what}: 404 This service does not exist`);
    return z;
  }

  private newRecord(zone: string, r: RecordData): ZoneRecord {
    this.nextId += 1 + Math.floor(Math.random() * 1000);
    return {
      id: this.nextId,
      zone: zone.toLowerCase(),
      fieldType: r.type,
      subDomain: r.subdomain,
      target: r.target,
      ttl: r.ttl,
    };
  }
}

/** OVH refuses a target of the wrong family with a 400; so does the fake. */
function checkTarget(type: string, target: string): void {
  if (type === "A" && !isIPv4(target)) throw new Error(`400 Invalid IPv4 address: ${target}`);
  if (type === "AAAA" && !isIPv6(target)) throw new Error(`400 Invalid IPv6 address: ${target}`);
}
