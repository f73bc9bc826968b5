// What the recipe tests share: the blocks they read from the docs, the README's configuration
// made runnable on 127.0.0.1, and, for the tests of real clients (ddclient, inadyn), a Worker
// with that configuration and limits and pace out of the way (the clients are run many times), behind a
// relay that closes each connection once the reply is complete, a private temp folder, and the
// unexpected-outbound check after each test.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parse } from "smol-toml";
import { afterAll, afterEach, beforeAll, expect } from "vitest";
import { missing, portOf, tempDir } from "../client/support";
import { type Endpoint, ROOT, sha256Hex, startEndpoint } from "../support/endpoint";
import { HOME_PASSWORD, ZONE } from "../support/fixtures";
import { closingRelay, type Relay } from "./relay";

/**
 * The fenced code block after `<!-- test: NAME -->` in `file` (a path from the repository's
 * root, such as README.md or docs/guide-fritzbox-wireguard.md), without its fences.
 */
export async function docBlock(file: string, name: string): Promise<string> {
  const doc = await readFile(join(ROOT, file), "utf8");
  const marker = `<!-- test: ${name} -->\n`;
  const at = doc.indexOf(marker);
  if (at < 0) throw new Error(`${file} has no block marked "${name}"`);
  if (doc.indexOf(marker, at + 1) >= 0) throw new Error(`${file} has two blocks marked "${name}"`);
  const block = /^```[^\n]*\n([\s\S]*?)^```$/m.exec(doc.slice(at + marker.length));
  if (!block?.[1] || block.index !== 0)
    throw new Error(`"${name}" in ${file} is not followed by a code block`);
  return block[1];
}

type Vars = Record<string, unknown>;

/**
 * The `[vars]` of a documented configuration block, as the Worker would get them on 127.0.0.1:
 * OVH_ENDPOINT left to the test (the simulator), `allow_private` on every host (the docs use
 * documentation addresses), and each client's placeholder `password_sha256` replaced by the
 * hash of the password given for it here (a client without one is an error: the test would
 * run a configuration the doc does not have).
 */
export async function documentedVars(toml: string, passwords: Record<string, string>): Promise<Vars> {
  const doc = parse(toml) as { vars?: Vars };
  const vars = structuredClone(doc.vars ?? {});
  delete vars.OVH_ENDPOINT;
  for (const host of Object.values((vars.HOSTS ?? {}) as Record<string, Vars>)) host.allow_private = true;
  for (const [name, client] of Object.entries((vars.CLIENTS ?? {}) as Record<string, Vars>)) {
    const password = passwords[name];
    if (password === undefined) throw new Error(`no test password for the documented client "${name}"`);
    client.password_sha256 = await sha256Hex(password);
  }
  return vars;
}

/** The password the tests give the README's client `fritzbox`. */
export const FRITZBOX_PASSWORD = "fritzbox-password";

/**
 * The README's configuration, plus the client `home` the recipes in docs/recipes.md use (a
 * client of its own for the README's host, as `npm run new-client -- home --host …` makes it).
 */
export async function readmeVars(): Promise<Vars> {
  const vars = await documentedVars(await docBlock("README.md", "readme-config"), {
    fritzbox: FRITZBOX_PASSWORD,
  });
  const hosts = Object.keys(vars.HOSTS as Vars);
  const clients = vars.CLIENTS as Vars;
  clients.home = { password_sha256: await sha256Hex(HOME_PASSWORD), hosts };
  return vars;
}

/**
 * Settings that keep the Worker's limits and OVH's pace (the README's 60 calls a minute) out of
 * the way of tests that write the same records again and again: the pace would hold most of
 * their calls back for a second each.
 */
export const LIMITS_OFF = { auth_fail_limit: 10_000, change_limit: 10_000, ovh_calls_per_minute: 10_000 };

/** The README's hosts: the name the router reports for, and wg-end's, derived from the prefix. */
export const ROUTER = "router.example.tld";
export const WG_HOST = "wg-end.example.tld";

export interface RecipeContext {
  /** Why the client cannot run here, or undefined. */
  absent: string | undefined;
  ep: Endpoint;
  /** What the client is pointed at: http://127.0.0.1:PORT of the relay in front of `ep`. */
  url: string;
  tmp: { path: string; remove(): Promise<void> };
}

/**
 * Register the hooks for a file that runs `program` against the README's configuration;
 * `extend` may add hosts or clients. Fields are set once beforeAll has run.
 */
export function useRecipeEndpoint(
  program: string,
  file: string,
  extend: (vars: Vars) => Promise<void> | void = () => {},
): RecipeContext {
  const ctx = { absent: missing(program) } as RecipeContext;
  let relay: Relay | undefined;
  if (ctx.absent) console.warn(`${file}: skipping: ${ctx.absent}`);
  beforeAll(async () => {
    if (ctx.absent) return;
    ctx.tmp = await tempDir(`ovh-dyndns-${program}`);
    const vars = await readmeVars();
    await extend(vars);
    vars.SETTINGS = { ...(vars.SETTINGS as Vars), ...LIMITS_OFF };
    ctx.ep = await startEndpoint({ vars });
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
