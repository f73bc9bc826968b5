// How the Worker reaches the zones' coordinators (one Durable Object per OVH zone, by name).
import { messageOf } from "../core/text";
import type { Env } from "../env";
import { log } from "../log";
import { REPORT_DEADLINE_MS, type ZoneBatch, type ZoneReport, type ZoneSide } from "./protocol";

/** The coordinator of `zone`. */
export function zoneStub(env: Env, zone: string) {
  return env.ZONES.get(env.ZONES.idFromName(zone));
}

/**
 * The zone side of an update: reports applied (each answered within REPORT_DEADLINE_MS),
 * refusals kept (a failure to keep one is only logged).
 */
export function zoneSide(env: Env): ZoneSide {
  return {
    apply: (batch) => withDeadline(zoneStub(env, batch.zone).apply(batch), batch),
    refuse: async (batch) => {
      try {
        await zoneStub(env, batch.zone).refuse(batch);
      } catch (error) {
        log("error", { message: `history of ${batch.zone}: ${messageOf(error)}` });
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
