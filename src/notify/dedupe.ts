// At most one message per host and kind within an hour, and one test message per client within a
// minute. Pure: the notifier keeps what was sent and asks these functions what to send.
import { iso } from "../core/text";
import type { HealthEvent } from "../zone/protocol";

/** At most one message per host and kind within this window. */
export const NOTIFY_WINDOW_MS = 3_600_000;

/** At most one test message per client within this window: a client cannot flood the targets. */
export const TEST_WINDOW_MS = 60_000;

/** Milliseconds until a client may ask for a test message again (0: now), from its last one. */
export function testWait(lastAt: number | undefined, now: number): number {
  return lastAt === undefined ? 0 : Math.max(0, lastAt + TEST_WINDOW_MS - now);
}

/** What the notifier keeps per kind and host. */
export interface Sent {
  /** Unix ms of the last message sent. */
  at: number;
  /** Messages held back since then, the first one's time, and the last one's text. */
  held: number;
  heldSince: number | null;
  last: string;
}

/** The event to send now (with what was held before it counted in), or none; and what to keep. */
export function admit(
  prior: Sent | undefined,
  event: HealthEvent,
  now: number,
): { send?: HealthEvent; keep: Sent } {
  if (prior && now - prior.at < NOTIFY_WINDOW_MS) {
    return {
      keep: { ...prior, held: prior.held + 1, heldSince: prior.heldSince ?? event.at, last: event.message },
    };
  }
  const keep: Sent = { at: now, held: 0, heldSince: null, last: event.message };
  if (!prior?.held) return { send: event, keep };
  const earlier = ` (and ${prior.held} earlier ${event.kind} message(s)${about(event.host)} held back since ${since(prior.heldSince)})`;
  return { send: { ...event, message: event.message + earlier }, keep };
}

/**
 * At a scheduled check: what is still held once its window is over, as one message; or none.
 * Nothing held is lost, even when no later event of the kind and host comes.
 */
export function release(
  prior: Sent,
  kind: HealthEvent["kind"],
  host: string | undefined,
  now: number,
): { send?: HealthEvent; keep: Sent } {
  if (prior.held === 0 || now - prior.at < NOTIFY_WINDOW_MS) return { keep: prior };
  const message = `${prior.held} ${kind} message(s)${about(host)} held back since ${since(prior.heldSince)}; the last: ${prior.last}`;
  return {
    send: { kind, ...(host ? { host } : {}), message, at: now },
    keep: { at: now, held: 0, heldSince: null, last: message },
  };
}

const about = (host: string | undefined) => (host ? ` for ${host}` : "");
const since = (ms: number | null) => (ms === null ? "?" : iso(ms));
