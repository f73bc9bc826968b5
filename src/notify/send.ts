// Delivering one event to one target: its requests, each with a time limit. What comes back
// names the target by its label and the HTTP status, never the URL (it holds the token) nor a
// runtime error message (which may quote the URL).
import type { HealthEvent } from "../zone/protocol";
import type { Target } from "./targets";

/** How long one delivery may take. */
export const DELIVERY_TIMEOUT_MS = 5000;

export interface Delivery {
  target: string;
  delivered: boolean;
  /** The service's HTTP status, when it answered. */
  status?: number;
  /** Why it was not delivered, in words free of the URL. */
  error?: string;
}

export async function deliver(target: Target, event: HealthEvent): Promise<Delivery> {
  for (const { url, init } of target.requests(event)) {
    let response: Response;
    try {
      response = await fetch(url, {
        ...init,
        redirect: "manual",
        signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
      });
      await response.body?.cancel();
    } catch (error) {
      const timedOut =
        error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
      const reason = timedOut ? `no answer within ${DELIVERY_TIMEOUT_MS / 1000} s` : "network error";
      return { target: target.label, delivered: false, error: reason };
    }
    if (!response.ok)
      return {
        target: target.label,
        delivered: false,
        status: response.status,
        error: `HTTP ${response.status}`,
      };
  }
  return { target: target.label, delivered: true };
}
