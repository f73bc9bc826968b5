// The FRITZ!Box, OpenWrt and UniFi recipes of docs/recipes.md, replayed against the README's
// configuration: each test takes the documented URL from the doc, fills it in the way the device does (the FRITZ!Box without any
// escaping, ddns-scripts with its own URL-encoding of user and password, inadyn under UniFi with
// HTTP/1.0 and a Host header without port) and sends the bytes to the Worker on 127.0.0.1.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { basic, portOf, RECIPE_WORKER, rawRequest, recipeBlock } from "../client/support";
import { type Endpoint, sha256Hex, startEndpoint } from "../support/endpoint";
import { HOME_PASSWORD, liveTargets, ZONE } from "../support/fixtures";
import { LIMITS_OFF, ROUTER, readmeVars, WG_HOST } from "./support";

/** Has `&`, `=`, `%`, `+`, `#`, `?`, `@`, `/`, `:` and a space: all of it must survive ddns-scripts. */
const OPENWRT_PASSWORD = "p@ss w/rd+&=%?#:x~";
/** What breaks a FRITZ!Box URL: the box does not escape it. */
const AMPERSAND_PASSWORD = "pa&ss";

let ep: Endpoint;
let port: number;

beforeAll(async () => {
  const base = await readmeVars();
  const clients = base.CLIENTS as Record<string, unknown>;
  ep = await startEndpoint({
    vars: {
      ...base,
      CLIENTS: {
        ...clients,
        openwrt: { password_sha256: await sha256Hex(OPENWRT_PASSWORD), hosts: [ROUTER, WG_HOST] },
        ampersand: { password_sha256: await sha256Hex(AMPERSAND_PASSWORD), hosts: [ROUTER, WG_HOST] },
      },
      // The limits and OVH's pace out of the way: each test writes records again (the pace's own
      // tests are in test/worker/zone-hardening.test.ts).
      SETTINGS: { ...(base.SETTINGS as object), ...LIMITS_OFF },
    },
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

/** Move records elsewhere through the Worker (never behind its back: it remembers what it wrote). */
async function seed(query: Record<string, string>): Promise<void> {
  const reply = await ep.update(query);
  expect(reply.body).toMatch(/^(good|nochg) /);
}

/** wg-end in the /56 2001:db8:ab:cd00::/56: subnet 10 and the interface bits of WG_HOST_ID. */
const WG_END = "2001:db8:ab:cd10:211:32ff:fe12:3456";

/** The request target of a documented https://RECIPE_WORKER/… URL. */
function target(url: string): string {
  const prefix = `https://${RECIPE_WORKER}`;
  if (!url.startsWith(`${prefix}/`)) throw new Error(`not a URL of the recipe Worker: ${url}`);
  return url.slice(prefix.length);
}

describe("FRITZ!Box", () => {
  const box = {
    username: "home",
    pass: HOME_PASSWORD,
    domain: ROUTER,
    ipaddr: "203.0.113.45",
    ip6addr: "2001:db8:ab:cd00:3a10:d5ff:fe01:2345",
    ip6lanprefix: "2001:db8:ab:cd00::/64",
  };

  /** The Update-URL field as the box uses it: split at spaces, placeholders filled in raw. */
  function fill(field: string, values: Record<string, string>): string[] {
    return field
      .trim()
      .split(/ +/)
      .map((url) =>
        url.replace(/<(\w+)>/g, (whole, name: string) => {
          const value = values[name];
          if (value === undefined) throw new Error(`no value for ${whole}`);
          return value;
        }),
      );
  }

  /** What the box sends for one URL. */
  const send = (url: string, extra: [string, string][] = []) =>
    rawRequest(port, target(url), [
      ["Host", RECIPE_WORKER],
      ["User-Agent", "Fritz!Box DDNS/1.0.1"],
      ...extra,
    ]);

  it("the documented Update-URL: the IPv4 request moves the A records, the IPv6 one the AAAA records, and the box's check passes", async () => {
    await seed({
      hostname: ROUTER,
      myip: "198.51.100.7",
      myipv6: "2001:db8:1:1::7",
      ip6lanprefix: "2001:db8:1:ff00::/56",
    });
    const urls = fill(await recipeBlock("fritzbox-update-url"), box);
    expect(urls).toHaveLength(2);
    expect(urls[0]).toBe(
      `https://${RECIPE_WORKER}/nic/update?hostname=${ROUTER}&myip=203.0.113.45&username=home&password=${HOME_PASSWORD}`,
    );

    // The box sends both at once; the zone's coordinator takes them one after the other.
    const [v4, v6] = await Promise.all(urls.map((u) => send(u)));

    expect(v4?.status).toBe(200);
    expect(v4?.body).toBe("good 203.0.113.45\n");
    expect(v6?.status).toBe(200);
    expect(v6?.body).toBe(`good ${box.ip6addr}\ngood ${box.ip6addr}\n`);
    expect(live("A", "firewall")).toEqual(["203.0.113.45"]);
    expect(live("AAAA", "wg-end")).toEqual([WG_END]);
    expect(live("AAAA", "firewall")).toEqual([WG_END]);
    // The box resolves its Domain name and finds its own addresses.
    expect([...live("A", "router"), ...live("AAAA", "router")]).toEqual([box.ipaddr, box.ip6addr]);
  });

  it("without <username>/<pass> in the URL the box sends HTTP Basic: accepted too", async () => {
    await seed({ hostname: ROUTER, myipv6: "2001:db8:1:1::7" });
    await seed({ hostname: WG_HOST, ip6lanprefix: "2001:db8:1:ff00::/56" });
    const field = (await recipeBlock("fritzbox-update-url")).replaceAll(
      "&username=<username>&password=<pass>",
      "",
    );
    const urls = fill(field, box);
    const v6 = await send(urls[1] ?? "", [["Authorization", basic("home", HOME_PASSWORD)]]);
    expect(v6.body).toBe(`good ${box.ip6addr}\ngood ${box.ip6addr}\n`);
    expect(live("AAAA", "wg-end")).toEqual([WG_END]);
  });

  it("a password with & breaks the unescaped URL: badauth, nothing written", async () => {
    await seed({ hostname: WG_HOST, ip6lanprefix: "2001:db8:1:ff00::/56" });
    const before = live("AAAA", "wg-end");
    const urls = fill(await recipeBlock("fritzbox-update-url"), {
      ...box,
      username: "ampersand",
      pass: AMPERSAND_PASSWORD,
    });
    const v6 = await send(urls[1] ?? "");
    expect(v6.status).toBe(401);
    expect(v6.body).toBe("badauth\n");
    expect(live("AAAA", "wg-end")).toEqual(before);
  });
});

describe("OpenWrt ddns-scripts", () => {
  /** ddns-scripts' urlencode(): everything but [-_.~a-zA-Z0-9] as %xx, lowercase. */
  const urlencode = (s: string) =>
    [...s]
      .map((c) => (/[-_.~a-zA-Z0-9]/.test(c) ? c : `%${c.charCodeAt(0).toString(16).padStart(2, "0")}`))
      .join("");

  /** The service sections of the documented /etc/config/ddns, as option maps. */
  async function services(): Promise<Map<string, Record<string, string>>> {
    const text = (await recipeBlock("openwrt"))
      .replaceAll("option username 'home'", "option username 'openwrt'")
      .replaceAll("YOUR-PASSWORD", OPENWRT_PASSWORD);
    const out = new Map<string, Record<string, string>>();
    for (const section of text.split(/^config service /m).slice(1)) {
      const name = /^'([^']+)'/.exec(section)?.[1] ?? "";
      const options: Record<string, string> = {};
      for (const m of section.matchAll(/^\s*option (\w+) '([^']*)'$/gm)) options[m[1] ?? ""] = m[2] ?? "";
      out.set(name, options);
    }
    return out;
  }

  /** send_update(): the placeholders replaced as ddns-scripts does. */
  function updateUrl(options: Record<string, string>, ip: string): string {
    return (options.update_url ?? "")
      .replaceAll("[USERNAME]", urlencode(options.username ?? ""))
      .replaceAll("[PASSWORD]", urlencode(options.password ?? ""))
      .replaceAll("[DOMAIN]", options.domain ?? "")
      .replaceAll("[IP]", ip);
  }

  /** What curl or GNU Wget send for http(s)://user:pass@host/path: Basic from the decoded userinfo. */
  function split(url: string): { target: string; authorization?: string } {
    const m = /^https?:\/\/(?:([^:@/]*):([^@/]*)@)?([^/]+)(\/.*)$/.exec(url);
    if (!m) throw new Error(`cannot split ${url}`);
    const [, user, pass, host, path] = m;
    expect(host).toBe(RECIPE_WORKER);
    return {
      target: path ?? "/",
      authorization:
        user === undefined ? undefined : basic(decodeURIComponent(user), decodeURIComponent(pass ?? "")),
    };
  }

  const headers = (agent: string, authorization?: string): [string, string][] => [
    ["Host", RECIPE_WORKER],
    ["User-Agent", agent],
    ...(authorization ? [["Authorization", authorization] as [string, string]] : []),
  ];

  it("the IPv4 service, fetched by curl (Basic right away), with a password full of URL characters", async () => {
    await seed({ hostname: ROUTER, myip: "198.51.100.1" });
    const v4 = (await services()).get("ovh_v4") ?? {};
    expect(v4.use_ipv6).toBe("0");
    const { target, authorization } = split(updateUrl(v4, "198.51.100.50"));
    expect(target).toBe(`/nic/update?hostname=${ROUTER}&myip=198.51.100.50`);
    const reply = await rawRequest(port, target, headers("curl/8.5.0", authorization));
    expect(reply.body).toBe("good 198.51.100.50\n");
    expect(live("A", "router")).toEqual(["198.51.100.50"]);
    expect(live("A", "firewall")).toEqual(["198.51.100.50"]);
  });

  it("the IPv6 service, fetched by GNU Wget (asks without credentials first): the LAN address gives wg-end's AAAA", async () => {
    await seed({ hostname: WG_HOST, ip6lanprefix: "2001:db8:1:ff00::/56" });
    const v6 = (await services()).get("ovh_v6") ?? {};
    expect(v6.use_ipv6).toBe("1");
    expect(v6.ip_interface).toBe("br-lan");
    // The router's address on br-lan, in the LAN /64 of the delegated /56.
    const { target, authorization } = split(updateUrl(v6, "2001:db8:ab:cd00::1"));
    const challenge = await rawRequest(port, target, headers("Wget/1.21.4"));
    expect(challenge.status).toBe(401);
    expect(challenge.head).toMatch(/\r\nwww-authenticate: Basic /i);
    expect(live("AAAA", "wg-end")).not.toEqual([WG_END]);
    const reply = await rawRequest(port, target, headers("Wget/1.21.4", authorization));
    expect(reply.body).toBe("good 2001:db8:ab:cd00::1\ngood 2001:db8:ab:cd00::1\n");
    // The router resolves its lookup_host and finds the address it sent.
    expect(live("AAAA", "router")).toEqual(["2001:db8:ab:cd00::1"]);
    expect(live("AAAA", "wg-end")).toEqual([WG_END]);
    expect(live("AAAA", "firewall")).toEqual([WG_END]);
  });

  it("credentials in the query instead (ddns-scripts URL-encodes them): the same update", async () => {
    await seed({ hostname: ROUTER, myip: "198.51.100.1" });
    const v4 = (await services()).get("ovh_v4") ?? {};
    const inQuery = {
      ...v4,
      update_url: `https://${RECIPE_WORKER}/nic/update?hostname=[DOMAIN]&myip=[IP]&username=[USERNAME]&password=[PASSWORD]`,
    };
    const { target, authorization } = split(updateUrl(inQuery, "198.51.100.51"));
    expect(authorization).toBeUndefined();
    expect(target).toContain("&password=p%40ss%20w%2frd%2b%26%3d%25%3f%23%3ax~");
    const reply = await rawRequest(port, target, headers("uclient-fetch"));
    expect(reply.body).toBe("good 198.51.100.51\n");
    expect(live("A", "router")).toEqual(["198.51.100.51"]);
    expect(live("A", "firewall")).toEqual(["198.51.100.51"]);
  });

  it("passes ddns-scripts' own checks of its options: no comma in domain, names in the DNS charset", async () => {
    for (const [name, options] of await services()) {
      // sanitize_variable with DNS_CHARSET_DOMAIN and DNS_CHARSET (dynamic_dns_functions.sh, 2.8.4).
      expect(options.domain, name).toMatch(/^[@a-zA-Z0-9._*-]+$/);
      expect(options.lookup_host, name).toMatch(/^[@a-zA-Z0-9.:_-]+$/);
      expect(options.lookup_host, name).toBe(ROUTER);
    }
  });

  it("the router's check passes: lookup_host resolves to the address sent; a derived name never would", async () => {
    const v6 = (await services()).get("ovh_v6") ?? {};
    const sent = "2001:db8:ab:cd00::1";
    const { target, authorization } = split(updateUrl(v6, sent));
    const reply = await rawRequest(port, target, headers("uclient-fetch", authorization));
    expect(reply.body).toMatch(/^(good|nochg) 2001:db8:ab:cd00::1\n(good|nochg) 2001:db8:ab:cd00::1\n$/);
    // get_registered_ip() resolves lookup_host; the updater compares it with what it sent.
    expect(live("AAAA", (v6.lookup_host ?? "").replace(`.${ZONE}`, ""))).toEqual([sent]);
    // wg-end holds the derived address: as lookup_host it would fail every check, forever.
    expect(live("AAAA", "wg-end")).toEqual([WG_END]);
    expect(live("AAAA", "wg-end")).not.toContain(sent);
  });

  it("a custom provider file with an answer to check: good and nochg match, a wrong password does not", async () => {
    const provider = JSON.parse(await recipeBlock("openwrt-provider")) as {
      ipv4: { url: string; answer: string };
      ipv6: { url: string; answer: string };
    };
    const v4 = (await services()).get("ovh_v4") ?? {};
    expect(provider.ipv4.url).toBe(v4.update_url);
    expect(provider.ipv6.url).toBe((await services()).get("ovh_v6")?.update_url);
    // send_update(): grep -i -E "$UPD_ANSWER" on the answer.
    const accepted = (body: string) =>
      body.split("\n").some((line) => new RegExp(provider.ipv4.answer, "i").test(line));

    const right = split(updateUrl({ ...v4, update_url: provider.ipv4.url }, "198.51.100.52"));
    const good = await rawRequest(port, right.target, headers("curl/8.5.0", right.authorization));
    expect(good.body).toBe("good 198.51.100.52\n");
    expect(accepted(good.body)).toBe(true);
    const again = await rawRequest(port, right.target, headers("curl/8.5.0", right.authorization));
    expect(again.body).toBe("nochg 198.51.100.52\n");
    expect(accepted(again.body)).toBe(true);

    // cURL sends the credentials at once; a wrong password is a 401 that cURL (without --fail)
    // does not report, so only the answer check catches it.
    const wrong = split(
      updateUrl({ ...v4, password: "not-the-password", update_url: provider.ipv4.url }, "198.51.100.53"),
    );
    const refused = await rawRequest(port, wrong.target, headers("curl/8.5.0", wrong.authorization));
    expect(refused.status).toBe(401);
    expect(accepted(refused.body)).toBe(false);
    expect(live("A", "router")).toEqual(["198.51.100.52"]);
  });
});

describe("OpenWrt ddns-scripts with uclient-fetch and the Worker's own login limit", () => {
  let limited: Endpoint;
  beforeAll(async () => {
    // The README's settings as they are: auth_fail_limit 10.
    const base = await readmeVars();
    const clients = base.CLIENTS as Record<string, unknown>;
    limited = await startEndpoint({
      vars: {
        ...base,
        CLIENTS: {
          ...clients,
          openwrt: { password_sha256: await sha256Hex(OPENWRT_PASSWORD), hosts: [ROUTER, WG_HOST] },
        },
      },
    });
    limited.sim.addZone(ZONE);
  });
  afterAll(async () => {
    await limited?.close();
  });

  it("each update is two requests, the first without credentials: never counted as a failed login", async () => {
    const auth = basic("openwrt", OPENWRT_PASSWORD);
    const target = `/nic/update?hostname=${ROUTER}&myip=198.51.100.54`;
    const agent: [string, string] = ["User-Agent", "uclient-fetch"];
    // More updates than auth_fail_limit (10): every one still goes through.
    for (let i = 0; i < 12; i++) {
      const challenge = await rawRequest(portOf(limited.url), target, [["Host", RECIPE_WORKER], agent]);
      expect(challenge.status).toBe(401);
      expect(challenge.head).toMatch(/\r\nwww-authenticate: Basic /i);
      const reply = await rawRequest(portOf(limited.url), target, [
        ["Host", RECIPE_WORKER],
        agent,
        ["Authorization", auth],
      ]);
      expect(reply.body).toBe(i === 0 ? "good 198.51.100.54\n" : "nochg 198.51.100.54\n");
    }
    expect(liveTargets(limited.sim, "A", "router")).toEqual(["198.51.100.54"]);
    expect(limited.unexpected).toEqual([]);
  });
});

describe("ddclient 4.x (not in Debian 12: its request replayed as 4.0.0's nic_dyndns2_update builds it)", () => {
  /** The documented ddclient.conf as key=value settings and the host line. */
  async function conf(): Promise<{ settings: Map<string, string>; hosts: string[] }> {
    const settings = new Map<string, string>();
    let hosts: string[] = [];
    for (const raw of (await recipeBlock("ddclient4")).split("\n")) {
      const line = raw.trim();
      if (line === "" || line.startsWith("#")) continue;
      if (!line.includes("=")) {
        hosts = line.split(",");
        continue;
      }
      for (const part of line.split(/,\s*/)) {
        const [key, ...value] = part.split("=");
        settings.set(key?.trim() ?? "", value.join("=").replace(/^'(.*)'$/, "$1"));
      }
    }
    return { settings, hosts };
  }

  it("no daemon= in the file, and the once-by-hand command has no -daemon, so it ends", async () => {
    const { settings } = await conf();
    expect(settings.has("daemon")).toBe(false);
    const once = (await recipeBlock("ddclient4-once")).trim();
    expect(once).toMatch(/^ddclient .*-foreground/);
    expect(once).not.toMatch(/-daemon/);
    expect(once).not.toMatch(/-debug/);
  });

  it("usev4 and usev6: one request for both hosts with myip=IPV4,IPV6; every record of the design follows", async () => {
    const { settings, hosts } = await conf();
    expect(settings.get("protocol")).toBe("dyndns2");
    expect(settings.get("server")).toBe(RECIPE_WORKER);
    expect(settings.get("usev4")).toBe("webv4");
    expect(settings.get("usev6")).toBe("ifv6");
    expect(hosts).toEqual([ROUTER, WG_HOST]);
    // What webv4 finds, and the router's address on br-lan (ifv6), in the LAN /64.
    const v4 = "203.0.113.71";
    const v6 = "2001:db8:ab:cd00::1";
    // "$server$script?hostname=$hosts&myip=$ipv4,$ipv6", curl --user (Basic at once).
    const target = `/nic/update?hostname=${hosts.join(",")}&myip=${v4},${v6}`;
    const reply = await rawRequest(port, target, [
      ["Host", RECIPE_WORKER],
      ["User-Agent", "ddclient/4.0.0"],
      ["Authorization", basic(settings.get("login") ?? "", HOME_PASSWORD)],
    ]);
    expect(reply.status).toBe(200);
    // ddclient maps one status line to each host, in order; good or nochg is success.
    const statuses = reply.body
      .trim()
      .split("\n")
      .map((l) => l.replace(/ .*$/, ""));
    expect(statuses).toHaveLength(hosts.length);
    for (const status of statuses) expect(status).toMatch(/^(good|nochg)$/);
    expect(live("A", "router")).toEqual([v4]);
    expect(live("A", "firewall")).toEqual([v4]);
    expect(live("AAAA", "router")).toEqual([v6]);
    expect(live("AAAA", "wg-end")).toEqual([WG_END]);
    expect(live("AAAA", "firewall")).toEqual([WG_END]);
  });
});

describe("UniFi OS (inadyn underneath)", () => {
  /** The Server field, split as inadyn's ddns-server and ddns-path, %h and %i filled in. */
  async function request(hostname: string, address: string): Promise<{ host: string; path: string }> {
    const server = (await recipeBlock("unifi-server")).trim();
    const slash = server.indexOf("/");
    const path = server.slice(slash).replaceAll("%h", hostname).replaceAll("%i", address);
    return { host: server.slice(0, slash), path };
  }

  const inadynHeaders = (host: string): [string, string][] => [
    ["Host", host],
    ["Authorization", basic("home", HOME_PASSWORD)],
    ["User-Agent", "inadyn/2.12.0 https://github.com/troglobit/inadyn/issues"],
  ];

  it("the documented Server field: HTTP/1.0, Basic, Host without port, the WAN IPv4", async () => {
    await seed({ hostname: ROUTER, myip: "198.51.100.1" });
    const { host, path } = await request(ROUTER, "198.51.100.60");
    expect(host).toBe(RECIPE_WORKER);
    expect(path).toBe(`/nic/update?hostname=${ROUTER}&myip=198.51.100.60`);
    const reply = await rawRequest(port, path, inadynHeaders(host), { version: "1.0" });
    expect(reply.status).toBe(200);
    expect(reply.body).toBe("good 198.51.100.60\n");
    expect(live("A", "router")).toEqual(["198.51.100.60"]);
    expect(live("A", "firewall")).toEqual(["198.51.100.60"]);
  });

  it("a Server field without % (inadyn appends the hostname): the address the request came from", async () => {
    await seed({ hostname: ROUTER, myip: "198.51.100.1" });
    const path = `/nic/update?hostname=${ROUTER}`;
    // Cloudflare puts the client's address in CF-Connecting-IP; here the test does.
    const reply = await rawRequest(
      port,
      path,
      [...inadynHeaders(RECIPE_WORKER), ["CF-Connecting-IP", "198.51.100.61"]],
      { version: "1.0" },
    );
    expect(reply.body).toBe("good 198.51.100.61\n");
    expect(live("A", "router")).toEqual(["198.51.100.61"]);
    expect(live("A", "firewall")).toEqual(["198.51.100.61"]);
  });
});
