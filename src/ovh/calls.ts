// How a zone's coordinator calls OVH: the call policy it keeps for its zone (the breaker and the
// pace of src/ovh/policy/, shared by every job of the zone) and, per job (a report, its
// continuation, a scheduled check), the record API behind that policy with the job's own OVH
// client (its call budget, and its calls for the log line) and deadline.
import type { Config } from "../config";
import { clockNow } from "../core/clock";
import { OvhClient } from "./client";
import { Breaker } from "./policy/breaker";
import { Gate } from "./policy/gate";
import { Pace, type PaceState } from "./policy/pace";
import { OvhRecordApi, type RecordApi } from "./records";

/** One job's way to OVH. */
export interface Job {
  /** The record API: every call through the zone's breaker and pace, none after the deadline. */
  api: RecordApi;
  /** The job's OVH client: its calls and their query ids. */
  client: OvhClient;
}

/** The call policy as it stands, to keep across restarts of the coordinator. */
export interface PolicyState {
  pace: PaceState;
  /** Unix ms until which the breaker refuses calls. */
  openUntil: number;
}

/** The breaker and pace of one zone's OVH calls. */
export class CallPolicy {
  private readonly breaker: Breaker;
  private readonly pace: Pace;

  /** A new policy, or the one `saved` left (so a restarted coordinator starts with no new burst). */
  constructor(zone: string, { settings }: Config, saved?: PolicyState) {
    this.breaker = new Breaker(zone, 2 * settings.ovhTimeoutMs, saved?.openUntil);
    this.pace = new Pace(settings.ovhCallsPerMinute, clockNow(), saved?.pace);
  }

  state(): PolicyState {
    return { pace: this.pace.state(), openUntil: this.breaker.until };
  }

  /** Unix ms when the pace lets the next call go. */
  nextAt(): number {
    return this.pace.nextAt();
  }

  /** How many calls the pace lets start from now until `deadline` (unix ms). */
  available(deadline: number): number {
    return this.pace.available(deadline);
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
