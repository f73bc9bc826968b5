// A circuit breaker for one zone's OVH calls. When a call takes its whole time-out (a hung or
// very slow OVH), every call for the next cool-down (twice `ovh_timeout_ms`) fails at once
// instead of waiting for a time-out of its own: the reports queued behind a hung call get their
// 911 at once, not one time-out each. Fast failures (a 5xx, a reset connection) answer quickly
// on their own and do not trip it. Reports that need no OVH call are not affected.
import { clockNow } from "../../core/clock";
import { iso } from "../../core/text";
import { log } from "../../log";

export class Breaker {
  constructor(
    private readonly zone: string,
    private readonly coolDownMs: number,
    /** Unix ms until which calls are refused (0: closed); kept across restarts. */
    private openUntil = 0,
  ) {}

  /** Unix ms until which calls are refused (0 or past: they may go). */
  get until(): number {
    return this.openUntil;
  }

  /** Why calls are refused now, or undefined when they may go. */
  refusal(now = clockNow()): string | undefined {
    if (now >= this.openUntil) return undefined;
    const seconds = Math.ceil((this.openUntil - now) / 1000);
    return `OVH failed or timed out just now; calls for ${this.zone} wait ${seconds} s before trying again`;
  }

  /** A call failed the way an outage does: refuse calls for the cool-down (logged once per trip). */
  trip(reason: string, now = clockNow()): void {
    if (now < this.openUntil) return;
    this.openUntil = now + this.coolDownMs;
    log("ovh-breaker", { zone: this.zone, until: iso(this.openUntil), reason });
  }
}
