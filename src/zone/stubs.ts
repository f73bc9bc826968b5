// How the Worker reaches the zones' coordinators (one Durable Object per OVH zone, by name).
import type { Env } from "../env";
import { log } from "../log";
import type { ZoneSide } from "./protocol";

/** The coordinator of `zone`. */
export function zoneStub(env: Env, zone: string) {
  return env.ZONES.get(env.ZONES.idFromName(zone));
}

/** The zone side of an update: reports applied, refusals kept (a failure to keep one is only logged). */
export function zoneSide(env: Env): ZoneSide {
  return {
    apply: (batch) => zoneStub(env, batch.zone).apply(batch),
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
