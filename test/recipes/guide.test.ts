// The configurations of docs/guide-fritzbox-wireguard.md, read from the guide and replayed
// against the Worker (workerd, OVH simulator, 127.0.0.1): each must pass the Worker's schema,
// and the reports the guide describes must leave the zone the guide's `dig` shows.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { toBigInt } from "../../src/core/address";
import { basic, portOf, RECIPE_WORKER, rawRequest } from "../client/support";
import { type Endpoint, ROOT, startEndpoint } from "../support/endpoint";
import { liveTargets, ZONE } from "../support/fixtures";
import { docBlock, documentedVars, ROUTER } from "./support";

const GUIDE = "docs/guide-fritzbox-wireguard.md";
const PASSWORDS = { fritzbox: "fritzbox-password", "wg-end": "wg-end-password" };

let ep: Endpoint | undefined;
afterEach(async () => {
  expect(ep?.unexpected ?? []).toEqual([]);
  await ep?.close();
  ep = undefined;
});

async function endpointFor(block: string): Promise<Endpoint> {
  const vars = await documentedVars(await docBlock(GUIDE, block), PASSWORDS);
  ep = await startEndpoint({ vars });
  ep.sim.addZone(ZONE);
  return ep;
}

/** A report as a client sends it (the FRITZ!Box's URL, the shell client's query), with Basic. */
async function report(e: Endpoint, user: keyof typeof PASSWORDS, query: string): Promise<string> {
  const reply = await rawRequest(portOf(e.url), `/nic/update?${query}`, [
    ["Host", RECIPE_WORKER],
    ["Authorization", basic(user, PASSWORDS[user])],
  ]);
  return reply.body;
}

/** The lines of the guide's `dig` example that follows `after`, as name, type and answer. */
async function digExample(after: string): Promise<[string, string, string][]> {
  const text = await readFile(join(ROOT, GUIDE), "utf8");
  const block = /```console\n([\s\S]*?)```/.exec(text.slice(text.indexOf(after)))?.[1] ?? "";
  const out: [string, string, string][] = [];
  const lines = block.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const m = /^\$ dig \+short (A|AAAA) (\S+)$/.exec(lines[i] ?? "");
    if (!m?.[1] || !m[2]) continue;
    const answer = lines[i + 1]?.startsWith("$") ? "" : (lines[i + 1] ?? "");
    out.push([m[2], m[1], answer]);
  }
  return out;
}

describe("the guide's configurations", () => {
  it("path B: the box reports for its own name and the firewall's IPv4, wg-end its own address", async () => {
    const e = await endpointFor("guide-host-reports");
    const boxV4 = await report(e, "fritzbox", `hostname=${ROUTER}&myip=203.0.113.45`);
    const boxV6 = await report(
      e,
      "fritzbox",
      `hostname=${ROUTER}&myipv6=2001:db8:ff:1::45&ip6lanprefix=2001:db8:ab:cd00::/64`,
    );
    // What the shell client sends (client/ovh-dyndns-client): its own stable address.
    const host = await report(
      e,
      "wg-end",
      "hostname=wg-end.example.tld&myipv6=2001:db8:ab:cd10:211:32ff:fe12:3456",
    );
    expect([boxV4, boxV6, host]).toEqual([
      "good 203.0.113.45\n",
      "good 2001:db8:ff:1::45\n",
      "good 2001:db8:ab:cd10:211:32ff:fe12:3456\n",
    ]);
    // Each reporter may update only its own records.
    expect(await report(e, "wg-end", `hostname=${ROUTER}&myip=198.51.100.9`)).toBe("nohost\n");

    // The guide's dig for path A shows the same zone for path B.
    const dig = await digExample("### 5. Check with `dig`");
    expect(dig.map(([name, type]) => `${type} ${name}`)).toEqual([
      "A firewall.example.tld",
      "AAAA firewall.example.tld",
      "AAAA wg-end.example.tld",
    ]);
    for (const [name, type, answer] of dig) {
      const sub = name.replace(`.${ZONE}`, "");
      expect(liveTargets(e.sim, type, sub), `${type} ${name}`).toEqual([answer]);
    }
  });

  it("the second design: only AAAA records, the proxy's A record never touched, the IPv4 URL not needed", async () => {
    const e = await endpointFor("guide-cgnat");
    // The proxy's A record, created by hand in OVH's console.
    e.sim.addRecord(ZONE, { fieldType: "A", subDomain: "service", target: "198.51.100.20", ttl: 3600 });
    // The IPv6 URL new-client prints for these two hosts.
    const v6 = await report(
      e,
      "fritzbox",
      `hostname=${ROUTER},service.example.tld&myipv6=2001:db8:ff:1::45&ip6lanprefix=2001:db8:ab:cd00::/64`,
    );
    // Two hosts, one answer line (the client's reply = "first"): the box's own name's.
    expect(v6).toBe("good 2001:db8:ff:1::45\n");
    // Even a carrier-grade NAT IPv4, were it sent, would change nothing: the host has no A record.
    expect(await report(e, "fritzbox", `hostname=${ROUTER}&myip=100.64.1.2`)).toMatch(/^nochg/);
    const dig = await digExample("## The second design");
    expect(dig).toHaveLength(4);
    for (const [name, type, answer] of dig) {
      const sub = name.replace(`.${ZONE}`, "");
      expect(liveTargets(e.sim, type, sub), `${type} ${name}`).toEqual(answer ? [answer] : []);
    }
    expect(liveTargets(e.sim, "AAAA", "router")).toEqual(["2001:db8:ff:1::45"]);
  });
});

describe("the guide's words", () => {
  it("names the box's fields as a German FRITZ!Box shows them", async () => {
    const guide = await readFile(join(ROOT, GUIDE), "utf8");
    for (const field of ["Update-URL", "Domainname", "Benutzername", "Kennwort", "Benutzerdefiniert"])
      expect(guide).toContain(`*${field}*`);
  });

  it("the sample host_id's subnet is the one its comments and the guide name, apart from the box's own LAN", async () => {
    const guide = (await readFile(join(ROOT, GUIDE), "utf8")).replace(/\s+/g, " ");
    const toml = await readFile(join(ROOT, "wrangler.toml"), "utf8");
    const hostId = /host_id = "(::10:211:32ff:fe12:3456)", prefix_length = 56/.exec(toml)?.[1];
    // Bits 56 to 63 of the host_id: the subnet inside the /56.
    expect(((toBigInt(hostId ?? "::") >> 64n) & 0xffn).toString(16)).toBe("10");
    expect(toml.replace(/\n# /g, " ")).toContain("(subnet 10, interface id");
    expect(toml.replace(/\n# /g, " ")).toContain("Subnet 10 is a LAN of its own behind a separate firewall");
    expect(guide).toContain("The README's sample, `::10:211:32ff:fe12:3456`, is subnet `10`");
    expect(guide).toContain("(subnet `00` or `01`): there wg-end's `host_id` is `::211:32ff:fe12:3456`");
    // No comment calls the router itself the firewall.
    expect(toml).not.toMatch(/the router itself/);
  });
});
