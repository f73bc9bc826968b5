// The Cron Trigger's handler ([triggers] crons in wrangler.toml): each zone's scheduled check,
// run by the zone's coordinator (src/zone/health/check.ts), one log line per zone; then the checks'
// events go to the notifier, which also sends what it held back and retries failed deliveries;
// last, HEARTBEAT_URL is pinged (src/notify/heartbeat.ts): up, or down when a host needs attention.
import { loadConfig } from "./config";
import { messageOf } from "./core/text";
import type { Env } from "./env";
import { log } from "./log";
import { heartbeat } from "./notify/heartbeat";
import { notifyAtCheck } from "./notify/notify";
import type { CheckReport } from "./zone/protocol";
import { zoneStub } from "./zone/stubs";

/** Check every zone of the configuration; `scheduledTime` is the time the checks stand for. */
export async function scheduled(controller: ScheduledController, env: Env): Promise<void> {
  const config = loadConfig(env);
  const at = controller.scheduledTime;
  if (!config.ok) {
    log("check", { status: "invalid configuration", notes: config.errors.map((e) => `config: ${e}`) });
    const message = `The configuration is invalid, so every report answers 911: ${config.errors.join("; ")}; run npm run check`;
    await notifyAtCheck(env, [{ kind: "config", message, at }], at);
    await heartbeat(env, ["the configuration is invalid"]);
    return;
  }
  const zones = [...new Set([...config.value.hosts.values()].map((h) => h.zone))];
  const results = await Promise.allSettled(zones.map((zone) => zoneStub(env, zone).check(zone, at)));
  results.forEach((result, i) => {
    if (result.status === "fulfilled") logCheck(result.value);
    else log("check", { zone: zones[i], status: "error", notes: [messageOf(result.reason)] });
  });
  const events = results.flatMap((r) => (r.status === "fulfilled" ? r.value.events : []));
  await notifyAtCheck(env, events, at);
  const attention = results.flatMap((r, i) =>
    r.status === "fulfilled" ? r.value.attention : [`${zones[i]}: the check failed`],
  );
  await heartbeat(env, attention);
}

function logCheck(report: CheckReport): void {
  log("check", {
    zone: report.zone,
    hosts: report.hosts,
    events: report.events.length ? report.events.map((e) => e.message) : undefined,
    ovhCalls: report.ovhCalls || undefined,
    ovhQueryIds: report.queryIds.length ? report.queryIds : undefined,
    notes: report.notes.length ? report.notes : undefined,
  });
}
