// What the tests of real clients (ddclient, inadyn) share: a Worker with the shared test config
// and limits out of the way (the clients are run many times), a private temp folder, and the
// unexpected-outbound check after each test.
import { afterAll, afterEach, beforeAll, expect } from "vitest";
import { missing, portOf, tempDir } from "../client/support";
import { type Endpoint, startEndpoint } from "../support/endpoint";
import { testVars, ZONE } from "../support/fixtures";
import { closingRelay, type Relay } from "./relay";

export interface RecipeContext {
  /** Why the client cannot run here, or undefined. */
  absent: string | undefined;
  ep: Endpoint;
  /** What the client is pointed at: http://127.0.0.1:PORT of the relay in front of `ep`. */
  url: string;
  tmp: { path: string; remove(): Promise<void> };
}

/** Register the hooks for a file that runs `program`; fields are set once beforeAll has run. */
export function useRecipeEndpoint(program: string, file: string): RecipeContext {
  const ctx = { absent: missing(program) } as RecipeContext;
  let relay: Relay | undefined;
  if (ctx.absent) console.warn(`${file}: skipping: ${ctx.absent}`);
  beforeAll(async () => {
    if (ctx.absent) return;
    ctx.tmp = await tempDir(`ovh-dyndns-${program}`);
    ctx.ep = await startEndpoint({
      vars: { ...(await testVars()), SETTINGS: { auth_fail_limit: 10_000, change_limit: 10_000 } },
    });
    ctx.ep.sim.addZone(ZONE);
    relay = await closingRelay(portOf(ctx.ep.url));
    ctx.url = relay.url;
  });
  afterAll(async () => {
    await relay?.close();
    await ctx.ep?.close();
    await ctx.tmp?.remove();
  });
  afterEach(() => {
    if (ctx.ep) expect(ctx.ep.unexpected).toEqual([]);
  });
  return ctx;
}
