// Pacing a coordinator's OVH calls. OVH publishes no limit; its guidance is about 60 calls a
// minute per consumer key (docs/reference/ovh-api.md, "Load"). A token bucket keeps every 60 s
// at or under `ovh_calls_per_minute`: a burst of up to BURST calls at once (so a warm change of
// a few records is not slowed), then the rest of the minute's calls evenly spaced. It dates by
// clockNow() (src/core/clock.ts), as the job's deadline does; its waits are real.
import { clockNow } from "../../core/clock";

/** Calls that may go at once, at most (and at most half the minute's calls). */
export const BURST = 10;

/** The bucket as it stands, to keep across restarts: tokens left (negative: reserved) at unix ms `at`. */
export interface PaceState {
  tokens: number;
  at: number;
}

export class Pace {
  private readonly burst: number;
  /** Tokens per millisecond. */
  private readonly rate: number;
  private tokens: number;
  private at: number;

  /** A full bucket, or the one `saved` left (so a restarted coordinator has no new burst). */
  constructor(callsPerMinute: number, now = clockNow(), saved?: PaceState) {
    this.burst = Math.max(1, Math.min(BURST, Math.floor(callsPerMinute / 2)));
    this.rate = (callsPerMinute - this.burst) / 60_000;
    this.tokens = saved ? Math.min(this.burst, saved.tokens) : this.burst;
    this.at = saved ? Math.min(saved.at, now) : now;
  }

  state(now = clockNow()): PaceState {
    this.refill(now);
    return { tokens: this.tokens, at: this.at };
  }

  /** How many calls may start from now until `until` (unix ms), each taking its token as it comes. */
  available(until: number, now = clockNow()): number {
    this.refill(now);
    return Math.max(0, Math.floor(this.tokens + Math.max(0, until - now) * this.rate));
  }

  /** Unix ms when the next call may go (now, or later). */
  nextAt(now = clockNow()): number {
    this.refill(now);
    return this.tokens >= 1 ? now : now + Math.ceil((1 - this.tokens) / this.rate);
  }

  /**
   * Take one call's token, waiting for it; false (nothing taken) when it would come after
   * `deadline`, so the call is left for later.
   */
  async take(deadline: number): Promise<boolean> {
    const due = this.nextAt();
    if (due > deadline) return false;
    this.tokens -= 1; // reserved now: calls waiting together get successive tokens
    const wait = due - clockNow();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    return true;
  }

  private refill(now: number): void {
    this.tokens = Math.min(this.burst, this.tokens + (now - this.at) * this.rate);
    this.at = now;
  }
}
