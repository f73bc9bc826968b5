// How the Worker reaches the zones' coordinators (one Durable Object per OVH zone, by name).
import type { Env } from "../env";
import { log } from "../log";
import { notify } from "../notify/notify";
import type { ZoneBatch, ZoneReport, ZoneSide } from "./protocol";

/** The coordinator of `zone`. */
export function zoneStub(env: Env, zone: string) {
  return env.ZONES.get(env.ZONES.idFromName(zone));
}

/**
 * Every report is answered within this, whatever OVH or the coordinator do: clients (ours
 * included) give up after 30 s. The coordinator starts no OVH call it could not end by then.
 */
export const REPORT_DEADLINE_MS = 20_000;

/**
 * The zone side of an update: reports applied, their events handed to the notifier after the
 * reply (`later`: the request's waitUntil), refusals kept (a failure to keep one is only logged).
 */
export function zoneSide(env: Env, later: (work: Promise<unknown>) => void): ZoneSide {
  return {
    apply: async (batch) => {
      const report = await withDeadline(zoneStub(env, batch.zone).apply(batch), batch);
      if (report.events.length > 0) later(notify(env, report.events));
      return report;
    },
    refuse: async (batch) => {
      try {
        await zoneStub(env, batch.zone).refuse(batch);
      } catch (error) {
        log("error", {
          message: `history of ${batch.zone}: ${error instanceof Error ? error.message : String(error)}`,
        });
      }
    },
  };
}

/** The coordinator's report, or 911 for every host once the deadline has passed. */
async function withDeadline(report: Promise<ZoneReport>, batch: ZoneBatch): Promise<ZoneReport> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const reason = `no answer from the coordinator of ${batch.zone} within ${REPORT_DEADLINE_MS / 1000} s`;
  const late = new Promise<ZoneReport>((resolve) => {
    timer = setTimeout(
      () =>
        resolve({
          zone: batch.zone,
          hosts: batch.hosts.map((host) => ({ host, result: { status: "911", reason } })),
          notes: [reason],
          ovhCalls: 0,
          queryIds: [],
          events: [],
        }),
      REPORT_DEADLINE_MS,
    );
  });
  try {
    return await Promise.race([report, late]);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}
