// The pure pieces of the CLI: passwords, the text pasted into wrangler.toml and routers, editing
// a client's section of wrangler.toml, and .dev.vars.
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parse } from "smol-toml";
import { afterEach, describe, expect, it } from "vitest";
import { parseDevVars, redact, secretValueProblem, writeDevVars } from "../../scripts/cli/secrets";
import {
  clientConfSnippet,
  clientToml,
  ddclientSnippet,
  fritzboxDomain,
  fritzboxSnippet,
  fritzboxUpdateUrl,
  generatePassword,
  inadynSnippet,
  PASSWORD_ALPHABET,
  PASSWORD_LENGTH,
  parseWorkerUrl,
  placeholderUrl,
  sha256Hex,
} from "../../scripts/cli/snippets";
import { removeClientSection, setClientSection } from "../../scripts/cli/toml-edit";
import { hostFeeds } from "../../scripts/cli/wrangler-config";
import { parseVars } from "../../src/config";
import { feedsOf } from "../../src/dyndns/recipes";
import { docBlock } from "../recipes/support";
import { testVars } from "../support/fixtures";
import { tempProject } from "./support";

describe("generatePassword", () => {
  it("is 32 letters and digits: at least 128 bits, nothing a router must escape", () => {
    const pw = generatePassword();
    expect(pw).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(PASSWORD_LENGTH * Math.log2(PASSWORD_ALPHABET.length)).toBeGreaterThanOrEqual(128);
    expect(encodeURIComponent(pw)).toBe(pw);
  });

  it("differs every time", () => {
    const seen = new Set(Array.from({ length: 200 }, () => generatePassword()));
    expect(seen.size).toBe(200);
  });

  it("skips bytes that would bias the first letters (rejection sampling)", () => {
    // 248..255 are dropped; 0 → "A", 61 → "9", 62 → "A" again, 247 → 247 % 62 = 61 → "9".
    const bytes = [255, 0, 248, 61, 62, 247];
    const random = (b: Uint8Array) => {
      b.fill(0);
      b.set(bytes.slice(0, b.length));
      return b;
    };
    expect(generatePassword(random, 4)).toBe("A9A9");
  });
});

describe("sha256Hex", () => {
  it("hashes like sha256sum", () => {
    expect(sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });
});

describe("clientToml", () => {
  it("is TOML the Worker's schema accepts", () => {
    const hash = sha256Hex(generatePassword());
    const text = clientToml("fritzbox", hash, ["home.example.tld"]);
    expect(text).toBe(`[vars.CLIENTS.fritzbox]\npassword_sha256 = "${hash}"\nhosts = ["home.example.tld"]`);
    const { vars } = parse(text) as { vars: { CLIENTS: Record<string, unknown> } };
    const result = parseVars({
      HOSTS: { "home.example.tld": { zone: "example.tld", records: [{ subdomain: "home", type: "A" }] } },
      CLIENTS: vars.CLIENTS,
    });
    expect(result.ok).toBe(true);
  });

  it("quotes a name with dots", () => {
    expect(clientToml("box.home", "ab", ["h.example.tld"]).split("\n")[0]).toBe('[vars.CLIENTS."box.home"]');
  });
});

describe("Worker URL and router settings", () => {
  it("takes a base URL and drops a trailing slash or /nic/update", () => {
    expect(parseWorkerUrl("https://dyn.example.workers.dev/")?.base).toBe("https://dyn.example.workers.dev");
    expect(parseWorkerUrl("https://dyn.example.workers.dev/nic/update")?.base).toBe(
      "https://dyn.example.workers.dev",
    );
    expect(parseWorkerUrl("http://127.0.0.1:8787")?.base).toBe("http://127.0.0.1:8787");
    for (const bad of [
      "ftp://x.tld",
      "https://x.tld/?a=1",
      "https://u:p@x.tld",
      "not a url",
      "https://x.tld/a$b",
    ]) {
      expect(parseWorkerUrl(bad), bad).toBeUndefined();
    }
  });

  it("gives the FRITZ!Box two URLs, IPv4 and IPv6, with its placeholders", () => {
    const url = { base: "https://dyn.example.workers.dev", placeholder: false };
    expect(fritzboxUpdateUrl(url, ["home.example.tld"])).toBe(
      "https://dyn.example.workers.dev/nic/update?hostname=<domain>&myip=<ipaddr>&username=<username>&password=<pass> " +
        "https://dyn.example.workers.dev/nic/update?hostname=<domain>&myipv6=<ip6addr>&ip6lanprefix=<ip6lanprefix>&username=<username>&password=<pass>",
    );
    // One Domainname field: several hosts are written into the URL.
    expect(fritzboxUpdateUrl(url, ["a.example.tld", "b.example.tld"])).toContain(
      "hostname=a.example.tld,b.example.tld&myip=",
    );
  });

  // The README's design: the box's own name (its A/AAAA and the firewall's A) and wg-end's host,
  // whose AAAA records are derived from the prefix.
  const feeds = (h: string) =>
    h.startsWith("router")
      ? { v4: true, v6: true, prefix: false }
      : h.startsWith("wg-end")
        ? { v4: false, v6: false, prefix: true }
        : undefined;

  it("with several hosts, sends each family only to the hosts that have records of it, the box's own name first", () => {
    const url = { base: "https://ovh-dyndns.example.workers.dev", placeholder: false };
    const expected =
      "https://ovh-dyndns.example.workers.dev/nic/update?hostname=<domain>&myip=<ipaddr>&username=<username>&password=<pass> " +
      "https://ovh-dyndns.example.workers.dev/nic/update?hostname=router.example.tld,wg-end.example.tld&myipv6=<ip6addr>&ip6lanprefix=<ip6lanprefix>&username=<username>&password=<pass>";
    expect(fritzboxUpdateUrl(url, ["router.example.tld", "wg-end.example.tld"], feeds)).toBe(expected);
    expect(fritzboxUpdateUrl(url, ["wg-end.example.tld", "router.example.tld"], feeds)).toBe(expected);
    // A host with AAAA records only needs no IPv4 URL at all.
    expect(fritzboxUpdateUrl(url, ["wg-end.example.tld"], feeds)).toBe(
      "https://ovh-dyndns.example.workers.dev/nic/update?hostname=<domain>&myipv6=<ip6addr>&ip6lanprefix=<ip6lanprefix>&username=<username>&password=<pass>",
    );
  });

  it("names as Domain name a host that holds the box's own addresses, or says how to add one", () => {
    const url = { base: "https://ovh-dyndns.example.workers.dev", placeholder: false };
    expect(fritzboxDomain(["wg-end.example.tld", "router.example.tld"], feeds)).toBe("router.example.tld");
    const good = fritzboxSnippet(url, "fritzbox", "PW", ["wg-end.example.tld", "router.example.tld"], feeds);
    expect(good).toContain("  Domain name:  router.example.tld\n");
    expect(good).toContain("its records hold them, so that check passes.");

    // Only derived records: the box's check would fail forever; the snippet shows the fix.
    expect(fritzboxDomain(["wg-end.example.tld"], feeds)).toBeUndefined();
    const derived = fritzboxSnippet(url, "fritzbox", "PW", ["wg-end.example.tld"], feeds);
    expect(derived).toContain("  Domain name:  wg-end.example.tld\n");
    expect(derived).toContain('  [vars.HOSTS."router.example.tld"]\n  zone = "example.tld"\n');
    const toml = derived.slice(derived.indexOf('  [vars.HOSTS."router'));
    const parsed = parse(toml.replace(/^ {2}/gm, "")) as { vars: { HOSTS: Record<string, unknown> } };
    expect(
      parseVars({
        HOSTS: parsed.vars.HOSTS,
        CLIENTS: { box: { password_sha256: sha256Hex("x"), hosts: ["router.example.tld"] } },
      }).ok,
    ).toBe(true);

    // AAAA records with and without host_id in one host: the Worker would refuse the box's report.
    const mixed = fritzboxSnippet(url, "fritzbox", "PW", ["home.example.tld"], () => ({
      v4: true,
      v6: true,
      prefix: true,
    }));
    expect(mixed).toContain("Note: home.example.tld has AAAA records both with and without host_id.");
  });

  it("an IPv6 URL naming several hosts: the one-line reply is advised, or said to be set", () => {
    const url = { base: "https://ovh-dyndns.example.workers.dev", placeholder: false };
    const hosts = ["router.example.tld", "wg-end.example.tld"];
    expect(fritzboxSnippet(url, "fritzbox", "PW", hosts, feeds)).toContain(
      "Note: the IPv6 URL names 2 hosts, and whether the box reads more than the first\n" +
        'answer line is not documented: give this client reply = "first" in wrangler.toml\n',
    );
    expect(fritzboxSnippet(url, "fritzbox", "PW", hosts, feeds, "first")).toContain(
      'The IPv6 URL names 2 hosts; this client\'s reply = "first" answers it with one line.\n',
    );
    // One host in the IPv6 URL: one line anyway, nothing to say.
    expect(fritzboxSnippet(url, "fritzbox", "PW", ["router.example.tld"], feeds)).not.toContain("reply");
  });

  it("marks the placeholder URL so nobody mistakes it for a real one", () => {
    expect(placeholderUrl("ovh-dyndns")).toEqual({
      base: "https://ovh-dyndns.CHANGE-ME.workers.dev",
      placeholder: true,
    });
  });

  it("writes ddclient.conf and client.conf with the key names the clients read", () => {
    const url = { base: "http://127.0.0.1:8787", placeholder: false };
    const dd = ddclientSnippet(url, "wg", "PW", ["a.example.tld", "b.example.tld"]);
    expect(dd).toContain("protocol=dyndns2\nssl=no\nserver=127.0.0.1:8787\nlogin=wg\npassword='PW'");
    expect(dd.trim().split("\n").at(-1)).toBe("a.example.tld,b.example.tld");
    const conf = clientConfSnippet(url, "wg", "PW", ["a.example.tld"], "eth1");
    const keys = conf
      .split("\n")
      .filter((l) => !l.startsWith("#"))
      .map((l) => l.split("=")[0]);
    expect(keys).toEqual(["ENDPOINT", "USERNAME", "PASSWORD", "INTERFACE", "HOSTNAMES"]);
    expect(conf).toContain("ENDPOINT=http://127.0.0.1:8787/nic/update\n");
  });
});

describe("inadynSnippet", () => {
  it("is the inadyn.conf of docs/recipes.md (which the recipe tests run inadyn with)", async () => {
    const url = { base: "https://ovh-dyndns.example.workers.dev", placeholder: false };
    const conf = inadynSnippet(url, "home", "YOUR-PASSWORD", ["router.example.tld"]);
    expect(`${conf}\n`).toBe(await docBlock("docs/recipes.md", "inadyn"));
  });

  it("keeps a Worker's path and port, and turns TLS off only for plain HTTP", () => {
    const conf = inadynSnippet({ base: "http://127.0.0.1:8787/dyndns", placeholder: false }, "wg", "PW", [
      "a.example.tld",
    ]);
    expect(conf).toContain("    ddns-server = 127.0.0.1:8787\n");
    expect(conf).toContain('    ddns-path   = "/dyndns/nic/update?hostname=%h&myip=%i"\n');
    expect(conf).toContain("    ssl         = false\n");
  });
});

describe("feedsOf", () => {
  it("reads the Worker's parsed HOSTS as the CLI reads wrangler.toml", async () => {
    const vars = await testVars();
    const parsed = parseVars(vars);
    if (!parsed.ok) throw new Error(parsed.errors.join("; "));
    const config = { vars, path: "", dir: "" } as unknown as Parameters<typeof hostFeeds>[0];
    for (const host of parsed.value.hosts.keys()) {
      expect(feedsOf(parsed.value.hosts.get(host))).toEqual(hostFeeds(config, host));
    }
  });
});

describe("setClientSection", () => {
  const section = '[vars.CLIENTS.box]\npassword_sha256 = "NEW"\nhosts = ["a.example.tld"]';

  it("replaces the client's section and keeps comments and other sections", () => {
    const text = [
      "[vars]",
      'OVH_ENDPOINT = "ovh-eu"',
      "",
      "# the router",
      "[vars.CLIENTS.box]  # trailing comment",
      'password_sha256 = "<placeholder>"',
      'hosts = ["a.example.tld"]',
      "",
      "# the next one",
      '[vars.CLIENTS."other.box"]',
      'password_sha256 = "OLD"',
      'hosts = ["a.example.tld"]',
      "",
    ].join("\n");
    const out = setClientSection(text, "box", section);
    expect(out).toBe(
      [
        "[vars]",
        'OVH_ENDPOINT = "ovh-eu"',
        "",
        "# the router",
        "[vars.CLIENTS.box]",
        'password_sha256 = "NEW"',
        'hosts = ["a.example.tld"]',
        "",
        "# the next one",
        '[vars.CLIENTS."other.box"]',
        'password_sha256 = "OLD"',
        'hosts = ["a.example.tld"]',
        "",
      ].join("\n"),
    );
  });

  it("finds a quoted header and appends a new client at the end", () => {
    const text = '[vars.CLIENTS."box"]\npassword_sha256 = "x"\nhosts = []\n';
    expect(setClientSection(text, "box", section)).toBe(`${section}\n`);
    expect(setClientSection("[vars]\nA = 1\n", "box", section)).toBe(`[vars]\nA = 1\n\n${section}\n`);
  });

  it("refuses a client written as an inline table", () => {
    const text = '[vars.CLIENTS]\nbox = { password_sha256 = "x", hosts = [] }\n';
    expect(() => setClientSection(text, "box", section)).toThrow(/cannot edit/);
  });

  const twoClients = [
    "[vars]",
    "",
    "# the placeholder",
    "[vars.CLIENTS.fritzbox]",
    'password_sha256 = "<placeholder>"',
    'hosts = ["a.example.tld"]',
    "",
    "# the next one",
    "[vars.CLIENTS.other]",
    'password_sha256 = "OLD"',
    'hosts = ["a.example.tld"]',
    "",
  ].join("\n");

  it("puts a new client in the place of the one named as `instead`", () => {
    expect(setClientSection(twoClients, "box", section, "fritzbox")).toBe(
      twoClients.replace(
        '[vars.CLIENTS.fritzbox]\npassword_sha256 = "<placeholder>"\nhosts = ["a.example.tld"]',
        section,
      ),
    );
    // The client's own section comes first.
    expect(setClientSection(twoClients, "other", section, "fritzbox")).toContain("[vars.CLIENTS.fritzbox]");
  });

  it("removeClientSection drops the section, its comment and one blank line", () => {
    expect(removeClientSection(twoClients, "fritzbox")).toBe(
      [
        "[vars]",
        "",
        "# the next one",
        "[vars.CLIENTS.other]",
        'password_sha256 = "OLD"',
        'hosts = ["a.example.tld"]',
        "",
      ].join("\n"),
    );
    expect(removeClientSection(twoClients, "absent")).toBe(twoClients);
  });
});

describe(".dev.vars", () => {
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await cleanup?.();
  });

  it("reads dotenv lines: comments, export, quotes", () => {
    const values = parseDevVars(
      "# c\nexport A=1\nB = 'two words'\nC=\"x#y\"\nD=bare # comment\n\nnot a line\n",
    );
    expect(Object.fromEntries(values)).toEqual({ A: "1", B: "two words", C: "x#y", D: "bare" });
  });

  it("is written mode 0600, keeping the other lines and replacing ours", async () => {
    const project = await tempProject();
    cleanup = project.cleanup;
    const path = join(project.dir, ".dev.vars");
    await writeFile(path, "# mine\nOTHER=1\nOVH_CONSUMER_KEY=old\nOVH_CONSUMER_KEY=older\n", { mode: 0o644 });
    await writeDevVars(path, [
      ["OVH_CONSUMER_KEY", "newKey"],
      ["OVH_APPLICATION_KEY", "app key?"],
    ]);
    expect(await readFile(path, "utf8")).toBe(
      "# mine\nOTHER=1\nOVH_CONSUMER_KEY=newKey\nOVH_APPLICATION_KEY='app key?'\n",
    );
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });
});

describe("secretValueProblem", () => {
  it("uses the Worker's rules and names the key, not the value", () => {
    expect(secretValueProblem("OVH_APPLICATION_SECRET", "good-secret-1")).toBeUndefined();
    const quoted = secretValueProblem("OVH_APPLICATION_SECRET", '"s3cr3tvalue"');
    expect(quoted).toBe("OVH_APPLICATION_SECRET: has quotes pasted around it");
    expect(secretValueProblem("OVH_APPLICATION_KEY", "OVH_APPLICATION_KEY=abc")).toMatch(/KEY=value/);
    expect(secretValueProblem("OVH_APPLICATION_KEY", "<your key>")).toMatch(/placeholder/);
  });

  it("redacts values from another program's output", () => {
    expect(redact("error: bad value s3cr3tvalue here", ["s3cr3tvalue"])).toBe(
      "error: bad value [redacted] here",
    );
  });
});
