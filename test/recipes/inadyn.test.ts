// The inadyn recipe of docs/recipes.md with Debian's inadyn (2.10), for real: the documented
// custom provider pointed at the Worker on 127.0.0.1 (ssl = false), the address from a
// checkip-command so nothing outside is asked, one run in the foreground (--once), then the
// published zone. inadyn sends `Host: 127.0.0.1` without the port: the Worker must not care.
import { mkdir, readdir } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { portOf, RECIPE_WORKER, recipeBlock, run, writePrivate } from "../client/support";
import { HOME_PASSWORD, liveTargets } from "../support/fixtures";
import { ROUTER, useRecipeEndpoint } from "./support";

const recipe = useRecipeEndpoint("inadyn", "test/recipes/inadyn.test.ts");
const absent = recipe.absent;

const live = (type: string, sub: string) => liveTargets(recipe.ep.sim, type, sub);

let runs = 0;
/** Run inadyn once on the documented config, the address from `echo ADDRESS`. */
async function inadyn(
  address: string,
  hostnames?: string,
  options: { ipv6?: boolean; password?: string } = {},
) {
  runs += 1;
  let conf = (await recipeBlock("inadyn"))
    .replace("ssl         = true", "ssl         = false")
    .replace(`ddns-server = ${RECIPE_WORKER}`, `ddns-server = 127.0.0.1:${portOf(recipe.url)}`)
    .replace("YOUR-PASSWORD", options.password ?? HOME_PASSWORD)
    .replace(/^(\s+)(hostname\s+=.*)$/m, `$1checkip-command = "echo ${address}"\n$1$2`);
  if (hostnames) conf = conf.replace(/^(\s+hostname\s+=).*$/m, `$1 ${hostnames}`);
  if (options.ipv6) conf = `allow-ipv6 = true\n${conf}`;
  const file = await writePrivate(join(recipe.tmp.path, `inadyn-${runs}.conf`), conf);
  const cache = join(recipe.tmp.path, `cache-${runs}`);
  await mkdir(cache);
  const r = await run(
    "inadyn",
    ["--once", "--foreground", "--no-pidfile", "-l", "debug", "-f", file, `--cache-dir=${cache}`],
    { timeoutMs: 90_000 },
  );
  return { ...r, output: r.stdout + r.stderr, cache };
}

describe.skipIf(absent)(`inadyn${absent ? ` (skipped: ${absent})` : ""}`, () => {
  it("the documented custom provider: Host without port, the router's IPv4 into both A records", async () => {
    const r = await inadyn("198.51.100.71");
    expect(r.code).toBe(0);
    expect(r.output).toMatch(
      /GET \/nic\/update\?hostname=router\.example\.tld&myip=198\.51\.100\.71 HTTP\/1\.0/,
    );
    expect(r.output).toMatch(/\nHost: 127\.0\.0\.1\r?\n/);
    expect(r.output).toMatch(/Successful alias table update for router\.example\.tld/);
    expect(live("A", "router")).toEqual(["198.51.100.71"]);
    expect(live("A", "firewall")).toEqual(["198.51.100.71"]);
    expect(await readdir(r.cache)).toEqual(["router.example.tld.cache"]);
  }, 120_000);

  it("IPv6 with allow-ipv6: the escaped address is decoded, the AAAA records follow", async () => {
    const r = await inadyn("2001:db8:99:1::7", ROUTER, { ipv6: true });
    expect(r.code).toBe(0);
    expect(r.output).toMatch(/hostname=router\.example\.tld&myip=2001%3adb8%3a99%3a1%3a%3a7 /);
    expect(live("AAAA", "router")).toEqual(["2001:db8:99:1::7"]);
  }, 120_000);

  it("a wrong password: inadyn reads badauth as an authentication failure, nothing is written", async () => {
    const before = live("A", "router");
    const r = await inadyn("198.51.100.72", ROUTER, { password: "not-the-password" });
    expect(r.code).not.toBe(0);
    expect(r.output).toMatch(/badauth/);
    expect(r.output).not.toMatch(/Successful alias table update/);
    expect(live("A", "router")).toEqual(before);
  }, 120_000);
});
