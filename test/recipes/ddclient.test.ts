// The ddclient recipe of docs/recipes.md with Debian's ddclient (3.10), for real: the documented
// ddclient.conf pointed at the Worker on 127.0.0.1 (ssl=no) with the README's configuration, the address given with `use=ip`
// (3.10's dyndns2 ignores usev4/usev6), one run in the foreground, then the published zone.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { portOf, RECIPE_WORKER, recipeBlock, run, writePrivate } from "../client/support";
import { HOME_PASSWORD, liveTargets } from "../support/fixtures";
import { ROUTER, useRecipeEndpoint, WG_HOST } from "./support";

/** A second host for the same client, as a reader would add one: ddclient groups them. */
const LAB = "lab.example.tld";

const recipe = useRecipeEndpoint("ddclient", "test/recipes/ddclient.test.ts", (vars) => {
  const hosts = vars.HOSTS as Record<string, unknown>;
  hosts[LAB] = { zone: "example.tld", allow_private: true, records: [{ subdomain: "lab", type: "A" }] };
  const home = (vars.CLIENTS as Record<string, { hosts: string[] }>).home;
  home?.hosts.push(LAB);
});
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
  if (hosts) conf = conf.replace(/^router\.example\.tld$/m, hosts);
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
  it("the documented config: the router's IPv4 into both A records", async () => {
    const r = await ddclient("use=ip, ip=198.51.100.61");
    expect(r.code).toBe(0);
    expect(r.output).toMatch(
      /GET \/nic\/update\?system=dyndns&hostname=router\.example\.tld&myip=198\.51\.100\.61 /,
    );
    expect(r.output).toMatch(
      /SUCCESS:\s+updating router\.example\.tld: good: IP address set to 198\.51\.100\.61/,
    );
    expect(live("A", "router")).toEqual(["198.51.100.61"]);
    expect(live("A", "firewall")).toEqual(["198.51.100.61"]);
    expect(await readFile(r.cache, "utf8")).toMatch(/status=good/);
  });

  it("several hosts on the last line: one request for all, one answer line each", async () => {
    const r = await ddclient("use=ip, ip=198.51.100.62", `${ROUTER},${LAB}`);
    expect(r.code).toBe(0);
    // ddclient groups the hosts that share credentials into one request.
    expect(r.output).toMatch(/hostname=lab\.example\.tld,router\.example\.tld&myip=198\.51\.100\.62 /);
    expect(r.output).toMatch(
      /SUCCESS:\s+updating router\.example\.tld: good: IP address set to 198\.51\.100\.62/,
    );
    expect(r.output).toMatch(
      /SUCCESS:\s+updating lab\.example\.tld: good: IP address set to 198\.51\.100\.62/,
    );
    expect(live("A", "lab")).toEqual(["198.51.100.62"]);
  });

  it("IPv6 with use=ip (ddclient 3.10), both hosts: the router's AAAA as reported, wg-end's derived from its /64", async () => {
    const before = live("A", "router");
    const r = await ddclient("use=ip, ip=2001:db8:77:1::5", `${ROUTER},${WG_HOST}`);
    expect(r.code).toBe(0);
    expect(r.output).toMatch(/hostname=router\.example\.tld,wg-end\.example\.tld&myip=2001:db8:77:1::5 /);
    expect(r.output).toMatch(
      /SUCCESS:\s+updating router\.example\.tld: good: IP address set to 2001:db8:77:1::5/,
    );
    expect(r.output).toMatch(
      /SUCCESS:\s+updating wg-end\.example\.tld: good: IP address set to 2001:db8:77:1::5/,
    );
    expect(live("AAAA", "router")).toEqual(["2001:db8:77:1::5"]);
    // No prefix in the request: the reported /64, cut to the configured 56 bits, then host_id.
    expect(live("AAAA", "wg-end")).toEqual(["2001:db8:77:10:211:32ff:fe12:3456"]);
    expect(live("A", "router")).toEqual(before);
  });

  it("a wrong password: ddclient reports the failure and nothing is written", async () => {
    const before = live("A", "firewall");
    const r = await ddclient("use=ip, ip=198.51.100.99", ROUTER, "not-the-password");
    expect(r.output).toMatch(/FAILED:\s+updating router\.example\.tld/);
    expect(r.output).not.toMatch(/SUCCESS/);
    expect(live("A", "firewall")).toEqual(before);
  });
});
