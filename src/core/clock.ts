// The time the Worker dates things by: when a record was confirmed (recheck_after), when a host
// last reported (stale_after), the change window, the history, the name-server watch's back-off
// and serve_within, "Check now" once per 10 s, a client's one test message a minute
// (src/notify/notify.ts). It is
// Date.now(), unless a test harness runs it ahead: Miniflare then gives
// the Worker a TEST_CLOCK binding, a function of the test process (test/support/endpoint.ts) that
// answers by how many ms. wrangler.toml never binds it (test/unit/clock.test.ts; SECURITY.md).
// OVH's pace, the breaker's cool-down and a coordinator job's deadline follow it too (the pace's
// waits between calls are real sleeps); time-outs and the Worker's wait for its coordinator stay
// on Date.now(). The coordinator's alarm is set at its clock time, so with the clock ahead it
// comes late; tests fire it (Endpoint.fireAlarm). The failed-login windows (src/access/guard.ts,
// access.ts) follow it as well: the guard takes the clock at each call and alarm, since a request
// may come through another isolate. The status page's sessions and the notifier's once-an-hour
// rule still date by Date.now(): no test has needed to move their windows yet.

let aheadMs = 0;

/** Unix ms, as the Worker dates records, reports and history. */
export function clockNow(): number {
  return Date.now() + aheadMs;
}

/**
 * Take the test harness's offset, at the start of each request, scheduled run and coordinator
 * alarm; nothing without a harness. The isolate's Durable Objects go by what was last taken.
 */
export async function followTestClock(
  harness: { fetch(url: string): Promise<Response> } | undefined,
): Promise<void> {
  if (!harness) return;
  const ms = Number(await (await harness.fetch("http://test-clock/")).text());
  if (Number.isSafeInteger(ms) && ms >= 0) aheadMs = ms;
}
