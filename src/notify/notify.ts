// The Worker's side of notifications: events handed to the notifier (src/notify/notifier.ts),
// and the test message, sent straight to every target. Nothing is done without NOTIFY_URLS, and
// a failure here is only logged: it never changes or delays a dyndns2 reply.
import { clockNow } from "../core/clock";
import { messageOf } from "../core/text";
import type { Env } from "../env";
import { log } from "../log";
import type { HealthEvent } from "../zone/protocol";
import type { TestAnswer } from "./notifier";
import { parseTargets } from "./targets";

const NOTIFIER = "notify";

const notifier = (env: Env) => env.NOTIFY?.get(env.NOTIFY.idFromName(NOTIFIER));

/** Hand events to the notifier (run it with waitUntil: the reply does not wait). */
export async function notify(env: Env, events: HealthEvent[]): Promise<void> {
  if (events.length === 0 || !env.NOTIFY_URLS?.trim()) return;
  try {
    await notifier(env)?.notify(events);
  } catch (error) {
    log("error", { message: `notify: ${messageOf(error)}` });
  }
}

/**
 * At the scheduled check (`at`: the time it stands for): the check's events, then what the
 * notifier held back past its hour, and one more try of each failed delivery.
 */
export async function notifyAtCheck(env: Env, events: HealthEvent[], at: number): Promise<void> {
  if (!env.NOTIFY_URLS?.trim()) return;
  try {
    // What is wrong with a URL (its position and service, never the URL) shows in the log.
    const { errors } = parseTargets(env.NOTIFY_URLS);
    if (errors.length > 0)
      log("notify", { status: "NOTIFY_URLS has errors; those targets get nothing", notes: errors });
    const stub = notifier(env);
    if (events.length > 0) await stub?.notify(events);
    await stub?.check(at);
  } catch (error) {
    log("error", { message: `notify: ${messageOf(error)}` });
  }
}

/**
 * Send one test message to every target, now, and say per target whether it was delivered; or,
 * when the client had one within the minute, how long it must wait (the notifier keeps count).
 */
export async function sendTest(env: Env, client: string): Promise<TestAnswer> {
  const stub = notifier(env);
  if (!env.NOTIFY_URLS?.trim() || !stub)
    return { targets: [], errors: ["NOTIFY_URLS is not set (wrangler secret put NOTIFY_URLS)"] };
  const event: HealthEvent = {
    kind: "test",
    message: `Test message from ovh-dyndns-worker, asked for by ${client}: notifications reach this target.`,
    at: clockNow(),
  };
  return stub.test(client, event);
}
