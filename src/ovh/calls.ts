// How a zone's coordinator calls OVH: the call policy it keeps for its zone (the breaker and the
// pace of src/ovh/policy/, shared by every job of the zone) and, per job (a report, its
// continuation, a scheduled check), the record API behind that policy with the job's own OVH
// client (its call budget, and its calls for the log line) and deadline.
import type { Config } from "../config";
import { OvhClient } from "./client";
import { Breaker } from "./policy/breaker";
import { Gate } from "./policy/gate";
import { Pace } from "./policy/pace";
import { OvhRecordApi, type RecordApi } from "./records";

/** One job's way to OVH. */
export interface Job {
  /** The record API: every call through the zone's breaker and pace, none after the deadline. */
  api: RecordApi;
  /** The job's OVH client: its calls and their query ids. */
  client: OvhClient;
}

/** The breaker and pace of one zone's OVH calls. */
export class CallPolicy {
  private readonly breaker: Breaker;
  private readonly pace: Pace;

  constructor(zone: string, { settings }: Config) {
    this.breaker = new Breaker(zone, 2 * settings.ovhTimeoutMs);
    this.pace = new Pace(settings.ovhCallsPerMinute);
  }

  /** Unix ms when the pace lets the next call go. */
  nextAt(): number {
    return this.pace.nextAt();
  }

  /** The way to OVH of one job: none of its calls starts after `deadline` (unix ms). */
  job({ endpoint, credentials, settings }: Config, deadline: number): Job {
    // The client's own calls (an OAuth2 token) pass the same gate as the record calls.
    const admit = (): Promise<void> => gate.admit();
    const client = new OvhClient({
      endpoint,
      credentials,
      timeoutMs: settings.ovhTimeoutMs,
      maxCalls: settings.maxOvhCalls,
      admit,
    });
    const gate = new Gate(new OvhRecordApi(client), this.breaker, this.pace, deadline);
    return { api: gate, client };
  }
}
