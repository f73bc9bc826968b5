// The README's FRITZ!Box recipe, whole: its configuration block, its Update-URL and its manual
// curl, read from README.md itself and replayed against the Worker (workerd, OVH simulator,
// 127.0.0.1) as the box sends them; then the Deployment step that makes the client, run as
// written, must print the same recipe and leave a wrangler.toml that passes the check.
import { copyFile, readFile } from "node:fs/promises";
import { join } from "node:path";
import { parse } from "smol-toml";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { runInProcess, tempProject } from "../cli/support";
import { basic, portOf, RECIPE_WORKER, rawRequest } from "../client/support";
import { type Endpoint, ROOT, startEndpoint } from "../support/endpoint";
import { liveTargets, ZONE } from "../support/fixtures";
import { docBlock, FRITZBOX_PASSWORD, ROUTER, readmeVars } from "./support";

let ep: Endpoint;
let port: number;
let readme: string;

beforeAll(async () => {
  readme = await readFile(join(ROOT, "README.md"), "utf8");
  const vars = await readmeVars();
  // OVH's pace (the README's 60 calls a minute) out of the way: it would hold the later writes
  // back a second each; its own tests are in test/worker/zone-hardening.test.ts.
  ep = await startEndpoint({
    vars: { ...vars, SETTINGS: { ...(vars.SETTINGS as object), ovh_calls_per_minute: 10_000 } },
  });
  ep.sim.addZone(ZONE);
  port = portOf(ep.url);
});
afterAll(async () => {
  await ep?.close();
});
afterEach(() => {
  expect(ep.unexpected).toEqual([]);
});

const live = (type: string, sub: string) => liveTargets(ep.sim, type, sub);

/** What the box's check sees: the addresses its Domain name resolves to. */
const resolved = (sub: string) => [...live("A", sub), ...live("AAAA", sub)].sort();

/** The README's Update-URL as the box uses it: split at spaces, its fields filled in raw. */
async function boxRequests(values: Record<string, string>): Promise<string[]> {
  const field = await docBlock("README.md", "readme-fritzbox");
  return field
    .trim()
    .split(/ +/)
    .map((url) => {
      const prefix = `https://${RECIPE_WORKER}`;
      if (!url.startsWith(`${prefix}/`)) throw new Error(`not a URL of the recipe Worker: ${url}`);
      return url.slice(prefix.length).replace(/<(\w+)>/g, (whole, name: string) => {
        const value = values[name];
        if (value === undefined) throw new Error(`no value for ${whole}`);
        return value;
      });
    });
}

const boxSends = (target: string) =>
  rawRequest(port, target, [
    ["Host", RECIPE_WORKER],
    ["User-Agent", "Fritz!Box DDNS/1.0.1"],
  ]);

/** The box as the README sets it up: Domain name, the client, and what the box knows today. */
const box = {
  domain: ROUTER,
  username: "fritzbox",
  pass: FRITZBOX_PASSWORD,
  ipaddr: "203.0.113.45",
  // The box's own WAN address lies in another network than the prefix it hands out.
  ip6addr: "2001:db8:ff:1::45",
  ip6lanprefix: "2001:db8:ab:cd00::/64",
};

/** wg-end in the /56 of the prefix: subnet 10 and the README's interface bits. */
const WG_END = "2001:db8:ab:cd10:211:32ff:fe12:3456";

describe("the README's FRITZ!Box recipe", () => {
  it("the configuration block is the one wrangler.toml ships with", async () => {
    const documented = parse(await docBlock("README.md", "readme-config")) as {
      vars: Record<string, unknown>;
    };
    const shipped = parse(await readFile(join(ROOT, "wrangler.toml"), "utf8")) as {
      vars: Record<string, Record<string, Record<string, unknown>>>;
    };
    const hosts = documented.vars.HOSTS as Record<string, Record<string, unknown>>;
    expect(Object.keys(shipped.vars.HOSTS ?? {})).toEqual(Object.keys(hosts));
    for (const [name, host] of Object.entries(hosts)) {
      expect(shipped.vars.HOSTS?.[name]?.zone).toBe(host.zone);
      expect(shipped.vars.HOSTS?.[name]?.records).toEqual(host.records);
    }
    const clients = documented.vars.CLIENTS as Record<string, Record<string, unknown>>;
    expect(shipped.vars.CLIENTS?.fritzbox?.hosts).toEqual(clients.fritzbox?.hosts);
  });

  it("the box's two requests, sent together: every record of the seed design, and the box's own check passes", async () => {
    const [v4, v6] = await boxRequests(box);
    expect(v4).toBe(
      `/nic/update?hostname=${ROUTER}&myip=203.0.113.45&username=fritzbox&password=${FRITZBOX_PASSWORD}`,
    );
    const [r4, r6] = await Promise.all([boxSends(v4 ?? ""), boxSends(v6 ?? "")]);
    expect(r4?.status).toBe(200);
    expect(r4?.body).toBe("good 203.0.113.45\n");
    // The IPv6 URL names two hosts; the client's reply = "first" answers one line: the box's own name's.
    expect(r6?.body).toBe("good 2001:db8:ff:1::45\n");

    // What dig shows: A → firewall (the box), AAAA → wg-end on both names.
    expect(live("A", "firewall")).toEqual(["203.0.113.45"]);
    expect(live("AAAA", "firewall")).toEqual([WG_END]);
    expect(live("AAAA", "wg-end")).toEqual([WG_END]);
    // The box resolves its Domain name and finds exactly its own addresses.
    expect(resolved("router")).toEqual([box.ipaddr, box.ip6addr].sort());
    // A derived name would never pass that check: it holds wg-end's address, not the box's.
    expect(resolved("firewall")).not.toContain(box.ip6addr);
  });

  it("a new prefix: the IPv4 request changes nothing, the IPv6 request moves all three AAAA records", async () => {
    const next = { ...box, ip6addr: "2001:db8:ff:2::45", ip6lanprefix: "2001:db8:77:ab00::/64" };
    const [v4, v6] = await boxRequests(next);
    const [r4, r6] = await Promise.all([boxSends(v4 ?? ""), boxSends(v6 ?? "")]);
    expect(r4?.body).toBe("nochg 203.0.113.45\n");
    expect(r6?.body).toBe("good 2001:db8:ff:2::45\n");
    expect(live("AAAA", "wg-end")).toEqual(["2001:db8:77:ab10:211:32ff:fe12:3456"]);
    expect(live("AAAA", "firewall")).toEqual(["2001:db8:77:ab10:211:32ff:fe12:3456"]);
    expect(live("A", "firewall")).toEqual(["203.0.113.45"]);
    expect(resolved("router")).toEqual([next.ipaddr, next.ip6addr].sort());
  });

  it("DS-Lite: the IPv4 URL with an empty <ipaddr> changes nothing", async () => {
    const before = ep.sim.liveRecords(ZONE).map((r) => `${r.fieldType} ${r.subDomain} ${r.target}`);
    const [v4] = await boxRequests({ ...box, ipaddr: "" });
    const reply = await boxSends(v4 ?? "");
    expect(reply.status).toBe(200);
    expect(reply.body).toMatch(/^nochg/);
    expect(ep.sim.liveRecords(ZONE).map((r) => `${r.fieldType} ${r.subDomain} ${r.target}`)).toEqual(before);
  });

  it("the quickest manual test: a prefix alone moves the derived records and answers what the README says", async () => {
    const before = live("AAAA", "router");
    const command = (await docBlock("README.md", "readme-curl")).trim();
    const m = /^curl -u (\S+) '(https:\/\/[^']+)'$/.exec(command);
    if (!m?.[1] || !m[2]) throw new Error(`not the expected curl command: ${command}`);
    expect(m[1]).toBe("fritzbox"); // curl asks for the password
    const url = new URL(m[2]);
    expect(url.host).toBe(RECIPE_WORKER);
    const reply = await rawRequest(port, url.pathname + url.search, [
      ["Host", RECIPE_WORKER],
      ["Authorization", basic("fritzbox", FRITZBOX_PASSWORD)],
      ["User-Agent", "curl/8.5.0"],
    ]);
    expect(reply.body).toBe("good 2001:db8:ab:cd00::/64\n");
    const prose = readme.replace(/\s+/g, " ");
    expect(prose).toContain(`It answers \`${reply.body.trim()}\``);
    expect(prose).toContain(`become \`${WG_END}\``);
    expect(live("AAAA", "wg-end")).toEqual([WG_END]);
    expect(live("AAAA", "firewall")).toEqual([WG_END]);
    expect(live("AAAA", "router")).toEqual(before);
  });
});

describe("the README's Deployment, step by step where it runs offline", () => {
  let dir: string;
  let cleanup: (() => Promise<void>) | undefined;
  afterAll(async () => {
    await cleanup?.();
  });

  it("the new-client step, as written, prints the README's recipe and leaves a configuration that passes the check", async () => {
    ({ dir, cleanup } = await tempProject());
    await copyFile(join(ROOT, "wrangler.toml"), join(dir, "wrangler.toml"));
    const step = /^\d+\. `npm run new-client -- ([^`]+)`/m.exec(readme);
    if (!step?.[1]) throw new Error("no new-client step in the README's Deployment");
    // The CLI's main() in this process, with wrangler not logged in (test/cli/ runs it as a process).
    const { code, io: result } = await runInProcess(["new-client", ...step[1].split(" ")], { cwd: dir });
    expect(code).toBe(0);

    const field = (label: string) =>
      new RegExp(`^\\s*${label}\\s+(.+)$`, "m").exec(result.stdout)?.[1]?.trim();
    const documented = (await docBlock("README.md", "readme-fritzbox")).trim();
    expect(field("Update-URL:")?.replaceAll("ovh-dyndns.CHANGE-ME.workers.dev", RECIPE_WORKER)).toBe(
      documented,
    );
    expect(field("Domain name:")).toBe(ROUTER);
    expect(field("Username:")).toBe("fritzbox");
    // The safe reply form for the box, written with the client, as the README's block has it.
    expect(result.stdout).toContain(
      'The IPv6 URL names 2 hosts; this client\'s reply = "first" answers it with one line.',
    );
    expect(await readFile(join(dir, "wrangler.toml"), "utf8")).toMatch(
      /\[vars\.CLIENTS\.fritzbox\]\npassword_sha256 = "[0-9a-f]{64}"\nhosts = \["router\.example\.tld", "wg-end\.example\.tld"\]\nreply = "first"\n/,
    );

    const check = await runInProcess(["check", "--offline"], { cwd: dir });
    expect(check.io.stdout).not.toContain("error:");
    expect(check.code).toBe(0);
  });
});
