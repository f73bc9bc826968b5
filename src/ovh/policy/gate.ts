// The record API as one job of a coordinator uses it: every call passes the zone's breaker
// (src/ovh/policy/breaker.ts) and pace (src/ovh/policy/pace.ts) first, and none starts after the
// job's deadline. A call held back is refused with NotSent, which says why (it cannot have
// reached OVH); the reconciler answers with it, as a value.
import { messageOf } from "../../core/text";
import { NotSent, type RecordApi, timedOut } from "../records";
import type { Breaker } from "./breaker";
import type { Pace } from "./pace";

export class Gate implements RecordApi {
  constructor(
    private readonly api: RecordApi,
    private readonly breaker: Breaker,
    private readonly pace: Pace,
    /** Unix ms after which no call starts. */
    private readonly deadline: number,
  ) {}

  list: RecordApi["list"] = (...a) => this.call(() => this.api.list(...a));
  get: RecordApi["get"] = (...a) => this.call(() => this.api.get(...a));
  create: RecordApi["create"] = (...a) => this.call(() => this.api.create(...a));
  update: RecordApi["update"] = (...a) => this.call(() => this.api.update(...a));
  refresh: RecordApi["refresh"] = (...a) => this.call(() => this.api.refresh(...a));

  /**
   * Let one OVH call go, or refuse it with NotSent: the breaker is closed and the pace gives it a
   * token before the deadline. Every record call asks; so does the OVH client before a request
   * of its own within one (an OAuth2 token).
   */
  async admit(): Promise<void> {
    const refused = this.breaker.refusal();
    if (refused) throw new NotSent("breaker", refused);
    if (!(await this.pace.take(this.deadline)))
      throw new NotSent(
        "pace",
        "paced: OVH is asked for at most ovh_calls_per_minute calls; the rest continues shortly",
      );
    const late = this.breaker.refusal(); // tripped while this call waited for its turn
    if (late) throw new NotSent("breaker", late);
  }

  private async call<T>(run: () => Promise<T>): Promise<T> {
    await this.admit();
    try {
      return await run();
    } catch (error) {
      if (timedOut(error)) this.breaker.trip(messageOf(error));
      throw error;
    }
  }
}
