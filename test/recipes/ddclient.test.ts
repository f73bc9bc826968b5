// The ddclient recipe of docs/recipes.md with Debian's ddclient (3.10), for real: the documented
// ddclient.conf pointed at the Worker on 127.0.0.1 (ssl=no), the address given with `use=ip`
// (3.10's dyndns2 ignores usev4/usev6), one run in the foreground, then the published zone.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { portOf, RECIPE_WORKER, recipeBlock, run, writePrivate } from "../client/support";
import { HOME_PASSWORD, liveTargets } from "../support/fixtures";
import { useRecipeEndpoint } from "./support";

const recipe = useRecipeEndpoint("ddclient", "test/recipes/ddclient.test.ts");
const absent = recipe.absent;

const live = (type: string, sub: string) => liveTargets(recipe.ep.sim, type, sub);

let runs = 0;
/**
 * Run ddclient once on the documented config with `use=` and the host line replaced. Each run
 * has its own cache: ddclient skips a host updated less than min-interval (30 s) ago.
 */
async function ddclient(use: string, hosts?: string, password = HOME_PASSWORD) {
  runs += 1;
  let conf = (await recipeBlock("ddclient-ipv4"))
    .replace("ssl=yes", "ssl=no")
    .replace(`server=${RECIPE_WORKER}`, `server=127.0.0.1:${portOf(recipe.url)}`)
    .replace("YOUR-PASSWORD", password)
    .replace(/^use=.*$/m, use);
  if (hosts) conf = conf.replace(/^nas\.example\.tld,firewall\.example\.tld$/m, hosts);
  const file = await writePrivate(join(recipe.tmp.path, `ddclient-${runs}.conf`), conf);
  const cache = join(recipe.tmp.path, `ddclient-${runs}.cache`);
  const r = await run(
    "ddclient",
    ["-daemon=0", "-foreground", "-file", file, "-cache", cache, "-verbose", "-noquiet"],
    { timeoutMs: 60_000 },
  );
  return { ...r, output: r.stdout + r.stderr, cache };
}

describe.skipIf(absent)(`ddclient${absent ? ` (skipped: ${absent})` : ""}`, () => {
  it("the documented config: one request for both hosts, IPv4 into both A records", async () => {
    const r = await ddclient("use=ip, ip=198.51.100.61");
    expect(r.code).toBe(0);
    // ddclient groups the hosts that share credentials into one request.
    expect(r.output).toMatch(
      /GET \/nic\/update\?system=dyndns&hostname=firewall\.example\.tld,nas\.example\.tld&myip=198\.51\.100\.61 /,
    );
    expect(r.output).toMatch(
      /SUCCESS:\s+updating firewall\.example\.tld: good: IP address set to 198\.51\.100\.61/,
    );
    expect(r.output).toMatch(
      /SUCCESS:\s+updating nas\.example\.tld: good: IP address set to 198\.51\.100\.61/,
    );
    expect(live("A", "firewall")).toEqual(["198.51.100.61"]);
    expect(live("A", "nas")).toEqual(["198.51.100.61"]);
    expect(await readFile(r.cache, "utf8")).toMatch(/status=good/);
  });

  it("IPv6 with use=ip (ddclient 3.10): the AAAA records, the A records untouched", async () => {
    const before = live("A", "nas");
    const r = await ddclient("use=ip, ip=2001:db8:77:1::5", "nas.example.tld,service.example.tld");
    expect(r.code).toBe(0);
    expect(r.output).toMatch(/hostname=nas\.example\.tld,service\.example\.tld&myip=2001:db8:77:1::5 /);
    expect(r.output).toMatch(
      /SUCCESS:\s+updating service\.example\.tld: good: IP address set to 2001:db8:77:1::5/,
    );
    expect(live("AAAA", "service")).toEqual(["2001:db8:77:1::5"]);
    // nas has a host_id: the reported /64 with its own interface bits.
    expect(live("AAAA", "nas")).toEqual(["2001:db8:77:1:211:32ff:fe12:3456"]);
    expect(live("A", "nas")).toEqual(before);
  });

  it("a wrong password: ddclient reports the failure and nothing is written", async () => {
    const before = live("A", "firewall");
    const r = await ddclient("use=ip, ip=198.51.100.99", "firewall.example.tld", "not-the-password");
    expect(r.output).toMatch(/FAILED:\s+updating firewall\.example\.tld/);
    expect(r.output).not.toMatch(/SUCCESS/);
    expect(live("A", "firewall")).toEqual(before);
  });
});
