// Delivering one event to one target: its requests, each with a time limit. What comes back
// names the target by its label and the HTTP status, never the URL (it holds the token) nor a
// runtime error message (which may quote the URL).
import type { HealthEvent } from "../zone/protocol";
import type { Target } from "./targets";

/** How long one request of a delivery may take. */
export const DELIVERY_TIMEOUT_MS = 5000;

export interface Delivery {
  target: string;
  delivered: boolean;
  /** The service's HTTP status, when it answered. */
  status?: number;
  /** Why it was not delivered, in words free of the URL. */
  error?: string;
}

/**
 * Requests of one delivery in flight at once (a Telegram target's chats): chats do not wait for
 * each other's answers, and a long list stays within the service's own rate limit.
 */
export const PARALLEL_REQUESTS = 4;

type Failure = Omit<Delivery, "target" | "delivered">;

export async function deliver(target: Target, event: HealthEvent): Promise<Delivery> {
  const queue = target.requests(event);
  const failures: Failure[] = [];
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const failure = await sendOne(next);
      if (failure) failures.push(failure);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_REQUESTS, queue.length) }, worker));
  const [failure] = failures;
  return failure
    ? { target: target.label, delivered: false, ...failure }
    : { target: target.label, delivered: true };
}

/** One request of a delivery; undefined when the service took it. */
async function sendOne({ url, init }: { url: string; init: RequestInit }): Promise<Failure | undefined> {
  let response: Response;
  try {
    response = await fetch(url, {
      ...init,
      redirect: "manual",
      signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
    });
    await response.body?.cancel();
  } catch (error) {
    const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
    return { error: timedOut ? `no answer within ${DELIVERY_TIMEOUT_MS / 1000} s` : "network error" };
  }
  return response.ok ? undefined : { status: response.status, error: `HTTP ${response.status}` };
}
