// The configuration schema (src/config.ts): the example in wrangler.toml, each usual mistake as
// one line that names the key, and secrets that never appear in a message.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseToml } from "smol-toml";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_SETTINGS,
  DEFAULT_TTL,
  type HostSpec,
  loadConfig,
  parseConfig,
  parseSecrets,
  parseVars,
  SETTINGS_TABLE,
  type Settings,
  serveWithinOf,
  staleAfterOf,
} from "../../src/config";
import { toBigInt } from "../../src/core/address";

// Not imported from test/support: that pulls in miniflare and full zod, whose global English
// messages would hide what zod/mini alone (as bundled into the Worker) says.
const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

const hashOf = (password: string) => createHash("sha256").update(password).digest("hex");
const HASH = hashOf("a good password");
const SECRETS = {
  OVH_APPLICATION_KEY: "AppKey0123456789",
  OVH_APPLICATION_SECRET: "AppSecret0123456789abcdef",
  OVH_CONSUMER_KEY: "ConsumerKey0123456789abcdef",
};

// biome-ignore lint/suspicious/noExplicitAny: the tests break the config on purpose, in any shape.
type Loose = Record<string, any>;

/** A small valid config; each test breaks one thing. */
function vars(): Loose {
  return {
    HOSTS: {
      "nas.example.tld": {
        zone: "example.tld",
        ttl: 120,
        records: [
          { subdomain: "nas", type: "AAAA", host_id: "::211:32ff:fe12:3456" },
          { subdomain: "nas", type: "A", ttl: 300 },
        ],
      },
      "wg-end.example.tld": {
        zone: "example.tld",
        allow_private: true,
        records: [
          { subdomain: "wg-end", type: "AAAA", host_id: "::10:211:32ff:fe12:3456", prefix_length: 56 },
        ],
      },
    },
    CLIENTS: { home: { password_sha256: HASH, hosts: ["nas.example.tld", "wg-end.example.tld"] } },
  };
}

function errorsOf(v: Loose): string[] {
  const result = parseVars(v);
  return result.ok ? [] : result.errors;
}

describe("valid configurations", () => {
  it("the small config parses into hosts, records and clients with defaults filled in", () => {
    const result = parseVars(vars());
    if (!result.ok) throw new Error(result.errors.join("\n"));
    const { hosts, clients, endpoint, settings } = result.value;
    expect(endpoint).toBe("https://eu.api.ovh.com/1.0");
    expect(settings).toEqual(DEFAULT_SETTINGS);
    expect(hosts.get("nas.example.tld")).toEqual({
      name: "nas.example.tld",
      zone: "example.tld",
      allowPrivate: false,
      records: [
        {
          zone: "example.tld",
          subdomain: "nas",
          type: "AAAA",
          ttl: 120,
          hostId: toBigInt("::211:32ff:fe12:3456"),
        },
        { zone: "example.tld", subdomain: "nas", type: "A", ttl: 300 },
      ],
    });
    expect(hosts.get("wg-end.example.tld")?.records[0]).toMatchObject({ prefixLength: 56, ttl: DEFAULT_TTL });
    expect(clients.get("home")?.passwordSha256).toBe(HASH.toLowerCase());
    expect([...(clients.get("home")?.hosts ?? [])]).toEqual(["nas.example.tld", "wg-end.example.tld"]);
  });

  it("the example in wrangler.toml is valid once its placeholder hash is replaced", () => {
    const toml = parseToml(readFileSync(join(ROOT, "wrangler.toml"), "utf8")) as Loose;
    const example = structuredClone(toml.vars) as Loose;
    // As shipped, the one mistake is the placeholder hash, and it is named.
    const shipped = errorsOf(example);
    expect(shipped).toHaveLength(Object.keys(example.CLIENTS).length);
    for (const line of shipped) expect(line).toMatch(/^CLIENTS\.[\w.-]+\.password_sha256: /);
    for (const client of Object.values(example.CLIENTS) as Loose[]) client.password_sha256 = HASH;
    expect(errorsOf(example)).toEqual([]);
    expect(parseConfig({ ...example, ...SECRETS }).ok).toBe(true);
  });

  it("settings, an endpoint URL, the apex and a wildcard", () => {
    const v = vars();
    v.OVH_ENDPOINT = "http://127.0.0.1:8787/1.0/";
    v.SETTINGS = { recheck_after: 60, ovh_timeout_ms: 1000, auth_fail_limit: 3, auth_ipv6_prefix: 48 };
    v.HOSTS["nas.example.tld"].records.push({ subdomain: "", type: "A" }, { subdomain: "*", type: "AAAA" });
    const result = parseVars(v);
    if (!result.ok) throw new Error(result.errors.join("\n"));
    expect(result.value.endpoint).toBe("http://127.0.0.1:8787/1.0");
    expect(result.value.settings).toMatchObject({
      recheckAfter: 60,
      ovhTimeoutMs: 1000,
      authFailLimit: 3,
      authIpv6Prefix: 48,
    });
  });

  it("ttl 0 (the zone's default) and 60 pass", () => {
    const v = vars();
    v.HOSTS["nas.example.tld"].ttl = 0;
    v.HOSTS["nas.example.tld"].records[1].ttl = 60;
    const result = parseVars(v);
    if (!result.ok) throw new Error(result.errors.join("\n"));
    expect(result.value.hosts.get("nas.example.tld")?.records.map((r) => r.ttl)).toEqual([0, 60]);
  });

  it("stale_after: two days by default, 0 turns it off, a host may set its own", () => {
    const v = vars();
    v.HOSTS["wg-end.example.tld"].stale_after = 0;
    let result = parseVars(v);
    if (!result.ok) throw new Error(result.errors.join("\n"));
    const { hosts, settings } = result.value;
    expect(staleAfterOf(hosts.get("nas.example.tld") as HostSpec, settings)).toBe(172_800);
    expect(staleAfterOf(hosts.get("wg-end.example.tld") as HostSpec, settings)).toBe(0);
    v.SETTINGS = { stale_after: 3600 };
    result = parseVars(v);
    if (!result.ok) throw new Error(result.errors.join("\n"));
    expect(staleAfterOf(result.value.hosts.get("nas.example.tld") as HostSpec, result.value.settings)).toBe(
      3600,
    );
  });

  it("serve_within: 900 s by default, a host may set its own; name_servers: none (OVH's) by default", () => {
    const v = vars();
    v.HOSTS["wg-end.example.tld"].serve_within = 60;
    v.SETTINGS = { name_servers: ["dns200.anycast.me", "127.0.0.1:5300"] };
    const result = parseVars(v);
    if (!result.ok) throw new Error(result.errors.join("\n"));
    const { hosts, settings } = result.value;
    expect(serveWithinOf(hosts.get("nas.example.tld") as HostSpec, settings)).toBe(900);
    expect(serveWithinOf(hosts.get("wg-end.example.tld") as HostSpec, settings)).toBe(60);
    expect(settings.nameServers).toEqual(["dns200.anycast.me", "127.0.0.1:5300"]);
    expect(DEFAULT_SETTINGS.nameServers).toEqual([]);
  });

  it("loadConfig parses once per env object", () => {
    const env = { ...vars(), ...SECRETS };
    const first = loadConfig(env);
    expect(first.ok).toBe(true);
    expect(loadConfig(env)).toBe(first);
    expect(loadConfig({ ...env })).not.toBe(first);
  });
});

describe("each mistake is one line that names the key", () => {
  const H = 'HOSTS."nas.example.tld"';
  const cases: [string, (v: Loose) => void, string][] = [
    [
      "unknown key in a host",
      (v) => (v.HOSTS["nas.example.tld"].zonee = "x"),
      `${H}: unknown key(s) "zonee"`,
    ],
    [
      "unknown key in a record",
      (v) => (v.HOSTS["nas.example.tld"].records[0].hostid = "::1"),
      `${H}.records[0]: unknown key(s) "hostid"`,
    ],
    [
      "unknown key in a client",
      (v) => (v.CLIENTS.home.password = "secret"),
      'CLIENTS.home: unknown key(s) "password"',
    ],
    ["unknown key in SETTINGS", (v) => (v.SETTINGS = { recheck: 5 }), 'SETTINGS: unknown key(s) "recheck"'],
    ["ttl as a string", (v) => (v.HOSTS["nas.example.tld"].ttl = "60"), `${H}.ttl: must be a number`],
    [
      "ttl with a fraction",
      (v) => (v.HOSTS["nas.example.tld"].ttl = 60.5),
      `${H}.ttl: must be a whole number`,
    ],
    ["ttl too long", (v) => (v.HOSTS["nas.example.tld"].ttl = 86_401), `${H}.ttl: must be at most 86400`],
    [
      "ttl 30, which OVH would store as 60",
      (v) => (v.HOSTS["nas.example.tld"].ttl = 30),
      `${H}.ttl: must be 0 (the zone's default) or at least 60; OVH stores 1 to 59 as 60`,
    ],
    [
      "ttl 59 on a record",
      (v) => (v.HOSTS["nas.example.tld"].records[0].ttl = 59),
      `${H}.records[0].ttl: must be 0 (the zone's default) or at least 60; OVH stores 1 to 59 as 60`,
    ],
    [
      "allow_private as a string",
      (v) => (v.HOSTS["nas.example.tld"].allow_private = "yes"),
      `${H}.allow_private: must be true or false`,
    ],
    [
      "records as a table",
      (v) => (v.HOSTS["nas.example.tld"].records = { subdomain: "nas" }),
      `${H}.records: must be a list`,
    ],
    ["HOSTS as a JSON string", (v) => (v.HOSTS = JSON.stringify(v.HOSTS)), "HOSTS: must be a table (object)"],
    ["CLIENTS missing", (v) => delete v.CLIENTS, "CLIENTS: is missing"],
    ["zone missing", (v) => delete v.HOSTS["nas.example.tld"].zone, `${H}.zone: is missing`],
    [
      "zone in capitals",
      (v) => (v.HOSTS["nas.example.tld"].zone = "Example.TLD"),
      `${H}.zone: must be a lowercase domain name like example.tld`,
    ],
    [
      "record type CNAME",
      (v) => (v.HOSTS["nas.example.tld"].records[0].type = "CNAME"),
      `${H}.records[0].type: must be "A" or "AAAA"`,
    ],
    [
      "subdomain with a dot at the end",
      (v) => (v.HOSTS["nas.example.tld"].records[1].subdomain = "nas."),
      `${H}.records[1].subdomain: must be "" (the zone apex) or a name like "www"`,
    ],
    [
      "no records",
      (v) => (v.HOSTS["nas.example.tld"].records = []),
      `${H}.records: must list at least one record`,
    ],
    [
      "host name not a domain name",
      (v) => {
        v.HOSTS.nas = v.HOSTS["nas.example.tld"];
        delete v.HOSTS["nas.example.tld"];
        v.CLIENTS.home.hosts = ["nas", "wg-end.example.tld"];
      },
      'HOSTS."nas": the host name must be a lowercase domain name like wg-end.example.tld',
    ],
    [
      "placeholder hash",
      (v) => (v.CLIENTS.home.password_sha256 = "<64 hex digits from npm run new-client>"),
      "CLIENTS.home.password_sha256: must be the 64 hex digits of a SHA-256 (npm run new-client)",
    ],
    [
      "hash one digit short",
      (v) => (v.CLIENTS.home.password_sha256 = HASH.slice(1)),
      "CLIENTS.home.password_sha256: must be the 64 hex digits of a SHA-256 (npm run new-client)",
    ],
    [
      "hash of an empty password",
      (v) => (v.CLIENTS.home.password_sha256 = hashOf("").toUpperCase()),
      "CLIENTS.home.password_sha256: is the SHA-256 of an empty password, or a placeholder (npm run new-client)",
    ],
    [
      "hash of zeros",
      (v) => (v.CLIENTS.home.password_sha256 = "0".repeat(64)),
      "CLIENTS.home.password_sha256: is the SHA-256 of an empty password, or a placeholder (npm run new-client)",
    ],
    [
      "host not in HOSTS",
      (v) => v.CLIENTS.home.hosts.push("nope.example.tld"),
      'CLIENTS.home.hosts: "nope.example.tld" is not a key of HOSTS',
    ],
    [
      "client without hosts",
      (v) => (v.CLIENTS.home.hosts = []),
      "CLIENTS.home.hosts: must list at least one host",
    ],
    [
      "client name with a space",
      (v) => (v.CLIENTS["my router"] = v.CLIENTS.home),
      `CLIENTS."my router": a client name is 1 to 64 letters, digits, '.', '_' or '-'`,
    ],
    [
      "host_id on an A record",
      (v) => (v.HOSTS["nas.example.tld"].records[1].host_id = "::1"),
      `${H}.records[1].host_id: only AAAA records take a host_id`,
    ],
    [
      "host_id with a dotted IPv4 tail",
      (v) => (v.HOSTS["nas.example.tld"].records[0].host_id = "::ffff:1.2.3.4"),
      `${H}.records[0].host_id: IPv6 with an embedded IPv4 address is not allowed (write it like "::10:211:32ff:fe12:3456")`,
    ],
    [
      "host_id overlapping prefix_length",
      (v) => (v.HOSTS["wg-end.example.tld"].records[0].prefix_length = 64),
      'HOSTS."wg-end.example.tld".records[0].host_id: has bits inside the /64 prefix; keep only the host bits',
    ],
    [
      "host_id with subnet bits but no prefix_length (every /64 report would collide)",
      (v) => delete v.HOSTS["wg-end.example.tld"].records[0].prefix_length,
      'HOSTS."wg-end.example.tld".records[0].host_id: has bits above the last 64; set prefix_length (56 for subnet bits in a /56) to say how many bits come from the prefix',
    ],
    [
      "prefix_length without host_id",
      (v) => (v.HOSTS["nas.example.tld"].records[1] = { subdomain: "x", type: "AAAA", prefix_length: 56 }),
      `${H}.records[1].prefix_length: only makes sense with a host_id`,
    ],
    [
      "prefix_length 0",
      (v) => (v.HOSTS["wg-end.example.tld"].records[0].prefix_length = 0),
      'HOSTS."wg-end.example.tld".records[0].prefix_length: must be at least 1',
    ],
    [
      "prefix_length 128",
      (v) => (v.HOSTS["wg-end.example.tld"].records[0].prefix_length = 128),
      'HOSTS."wg-end.example.tld".records[0].prefix_length: must be at most 127',
    ],
    [
      "the same record written by two hosts",
      (v) => (v.HOSTS["wg-end.example.tld"].records[0].subdomain = "nas"),
      'HOSTS."wg-end.example.tld".records[0]: AAAA nas in example.tld is also written by host "nas.example.tld"; two hosts would overwrite each other',
    ],
    [
      "the same record twice in one host",
      (v) => v.HOSTS["nas.example.tld"].records.push({ subdomain: "nas", type: "A" }),
      `${H}.records[2]: A nas in example.tld is listed twice`,
    ],
    [
      "unknown endpoint name",
      (v) => (v.OVH_ENDPOINT = "ovh-mars"),
      'OVH_ENDPOINT: "ovh-mars" is neither an OVH endpoint name (ovh-eu, ovh-ca, …) nor an http(s) URL',
    ],
    [
      "endpoint URL with a password",
      (v) => (v.OVH_ENDPOINT = "https://me:Sup3rSecretValue@eu.api.ovh.com/1.0"),
      "OVH_ENDPOINT: must be a base URL without user, password, query or fragment, like https://eu.api.ovh.com/1.0",
    ],
    [
      "endpoint URL with a token in the query",
      (v) => (v.OVH_ENDPOINT = "https://eu.api.ovh.com/1.0?token=Sup3rSecretValue"),
      "OVH_ENDPOINT: must be a base URL without user, password, query or fragment, like https://eu.api.ovh.com/1.0",
    ],
    [
      "endpoint that is no name and no URL",
      (v) => (v.OVH_ENDPOINT = "OVH_ENDPOINT=Sup3rSecretValue things"),
      "OVH_ENDPOINT: is neither an OVH endpoint name (ovh-eu, ovh-ca, …) nor an http(s) URL",
    ],
    [
      "a setting out of range",
      (v) => (v.SETTINGS = { ovh_timeout_ms: 10 }),
      "SETTINGS.ovh_timeout_ms: must be at least 100",
    ],
    [
      "stale_after shorter than a minute",
      (v) => (v.SETTINGS = { stale_after: 30 }),
      "SETTINGS.stale_after: must be 0 (off) or at least 60",
    ],
    [
      "a host's stale_after shorter than a minute",
      (v) => (v.HOSTS["nas.example.tld"].stale_after = 59),
      `${H}.stale_after: must be 0 (off) or at least 60`,
    ],
    [
      "serve_within shorter than 10 s",
      (v) => (v.SETTINGS = { serve_within: 5 }),
      "SETTINGS.serve_within: must be at least 10",
    ],
    [
      "a host's serve_within longer than a day",
      (v) => (v.HOSTS["nas.example.tld"].serve_within = 86_401),
      `${H}.serve_within: must be at most 86400`,
    ],
    [
      "a name server given as a URL",
      (v) => (v.SETTINGS = { name_servers: ["dns200.anycast.me", "https://ns200.anycast.me"] }),
      'SETTINGS.name_servers: must list name servers as "host" or "host:port", like "dns200.anycast.me" or "127.0.0.1:5300"',
    ],
  ];

  it.each(cases)("%s", (_name, breakIt, line) => {
    const v = vars();
    breakIt(v);
    expect(errorsOf(v)).toEqual([line]);
  });

  it("no message is zod's bare 'Invalid input'", () => {
    for (const [, breakIt] of cases) {
      const v = vars();
      breakIt(v);
      for (const line of errorsOf(v)) expect(line).not.toMatch(/Invalid input/);
    }
  });

  it("unrelated top-level bindings (secrets, Durable Objects) are not config mistakes", () => {
    expect(errorsOf({ ...vars(), ...SECRETS, ZONES: {}, GUARD: {}, SOMETHING_ELSE: 1 })).toEqual([]);
  });

  it("several mistakes give one line each", () => {
    const v = vars();
    v.HOSTS["nas.example.tld"].ttl = "60";
    v.HOSTS["nas.example.tld"].records[1].type = "MX";
    v.SETTINGS = { recheck: 1 };
    expect(errorsOf(v)).toHaveLength(3);
    // Checks across keys run once the shapes are right.
    const w = vars();
    w.HOSTS["nas.example.tld"].records[1].host_id = "::1";
    w.CLIENTS.home.hosts.push("nope.example.tld");
    w.OVH_ENDPOINT = "ovh-mars";
    expect(errorsOf(w)).toHaveLength(3);
  });

  it("a typo, a host_id that is no address and a client's unknown host: all three in one run", () => {
    const v = vars();
    delete v.HOSTS["nas.example.tld"].records[1].subdomain;
    v.HOSTS["nas.example.tld"].records[1].subDomain = "nas";
    v.HOSTS["wg-end.example.tld"].records[0].host_id = "not-an-address";
    v.CLIENTS.home.hosts.push("wg-ned.example.tld");
    const errors = errorsOf(v);
    expect(errors).toHaveLength(3);
    expect(errors[0]).toBe(`${H}.records[1]: unknown key(s) "subDomain"; did you mean "subdomain"?`);
    expect(errors[1]).toMatch(/^HOSTS\."wg-end\.example\.tld"\.records\[0\]\.host_id: /);
    expect(errors[2]).toBe(
      'CLIENTS.home.hosts: "wg-ned.example.tld" is not a key of HOSTS; did you mean "wg-end.example.tld"?',
    );
  });

  it("a client's host of a host with mistakes of its own is not called unknown", () => {
    const v = vars();
    v.HOSTS["nas.example.tld"].zonee = "x";
    expect(errorsOf(v)).toEqual([`${H}: unknown key(s) "zonee"`]);
  });

  it("no 'did you mean' when no host name is near, or two are", () => {
    const v = vars();
    v.CLIENTS.home.hosts.push("printer.example.tld");
    expect(errorsOf(v)).toEqual(['CLIENTS.home.hosts: "printer.example.tld" is not a key of HOSTS']);
    const w = vars();
    w.HOSTS["nas.example.tld"].records[1].type = "AAAA";
    w.HOSTS["nas.example.tld"].records[1].subdomain = "nas2";
    w.HOSTS["nbs.example.tld"] = { zone: "example.tld", records: [{ subdomain: "nbs", type: "A" }] };
    w.CLIENTS.home.hosts.push("nCs.example.tld".toLowerCase());
    expect(errorsOf(w)).toEqual(['CLIENTS.home.hosts: "ncs.example.tld" is not a key of HOSTS']);
  });

  it.each([
    ["router.example.tld", 'write "router"'],
    ["example.tld", 'write "" (the zone apex)'],
  ])("a subdomain that already holds the zone (%s) is refused", (subdomain, fix) => {
    const v = vars();
    v.HOSTS["nas.example.tld"].records[1].subdomain = subdomain;
    expect(errorsOf(v)).toEqual([
      `${H}.records[1].subdomain: "${subdomain}" already ends in the zone, so the record would be ${subdomain}.example.tld; ${fix}`,
    ]);
  });
});

describe("a client's reply form", () => {
  it('unset, "lines" or "first"; anything else is named', () => {
    const v = vars();
    let result = parseVars(v);
    expect(result.ok && result.value.clients.get("home")?.reply).toBeUndefined();
    v.CLIENTS.home.reply = "first";
    result = parseVars(v);
    expect(result.ok && result.value.clients.get("home")?.reply).toBe("first");
    v.CLIENTS.home.reply = "one";
    expect(errorsOf(v)).toEqual([
      'CLIENTS.home.reply: must be "lines" (one line per host) or "first" (one line: the first host\'s, or the first failure)',
    ]);
  });
});

describe("settings, from one table", () => {
  it("each setting's default is what an empty SETTINGS gives, and each passes its own schema", () => {
    const result = parseVars({ ...vars(), SETTINGS: {} });
    if (!result.ok) throw new Error(result.errors.join("\n"));
    for (const [field, s] of Object.entries(SETTINGS_TABLE)) {
      expect(result.value.settings[field as keyof Settings]).toEqual(s.default);
      expect(s.schema.safeParse(s.default).success).toBe(true);
    }
  });

  it("every key of the table is read from SETTINGS", () => {
    const other = (v: unknown) => (typeof v === "number" ? v + 1 : ["ns.example.net", "127.0.0.1:5300"]);
    const changed = Object.fromEntries(Object.values(SETTINGS_TABLE).map((s) => [s.key, other(s.default)]));
    const result = parseVars({ ...vars(), SETTINGS: changed });
    if (!result.ok) throw new Error(result.errors.join("\n"));
    for (const [field, s] of Object.entries(SETTINGS_TABLE))
      expect(result.value.settings[field as keyof Settings]).toEqual(changed[s.key]);
  });

  it("the README's SETTINGS block lists every setting with its default and the table's line", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const block = /<!-- test: readme-config -->\n```toml\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";
    const section = block.slice(block.indexOf("[vars.SETTINGS]"));
    const lines = section
      .split("\n")
      .slice(1)
      .filter((l) => /^\w+ = /.test(l));
    const documented = lines.map((l) => {
      const m = /^(\w+) = (\S+)\s+# (.*)$/.exec(l);
      return m ? [m[1], JSON.parse(m[2] as string), m[3]] : [l];
    });
    expect(documented).toEqual(Object.values(SETTINGS_TABLE).map((s) => [s.key, s.default, s.doc]));
  });
});

describe("secrets", () => {
  it("valid secrets pass", () => {
    expect(parseSecrets(SECRETS)).toEqual({
      ok: true,
      value: {
        applicationKey: SECRETS.OVH_APPLICATION_KEY,
        applicationSecret: SECRETS.OVH_APPLICATION_SECRET,
        consumerKey: SECRETS.OVH_CONSUMER_KEY,
      },
    });
  });

  const mistakes: [string, unknown, RegExp][] = [
    ["missing", undefined, /is not set/],
    ["empty", "", /is not set/],
    ["a number", 12345, /must be a string/],
    ["double quotes pasted along", '"Sup3rSecretValue"', /has quotes pasted around it/],
    ["single quotes pasted along", "'Sup3rSecretValue'", /has quotes pasted around it/],
    ["a trailing newline", "Sup3rSecretValue\n", /has spaces or a line break around it/],
    ["a leading space", " Sup3rSecretValue", /has spaces or a line break around it/],
    ["KEY=value pasted", "OVH_APPLICATION_SECRET=Sup3rSecretValue", /whole KEY=value line/],
    ["a placeholder in brackets", "<your application secret>", /still holds a placeholder/],
    ["changeme", "changeme", /still holds a placeholder/],
    ["xxxxxxxx", "xxxxxxxx", /still holds a placeholder/],
    ["your_secret", "your_secret", /still holds a placeholder/],
    ["a space inside", "Sup3r Secret", /has characters an OVH key never has/],
    ["non-ASCII", "Sup3rSécret", /has characters an OVH key never has/],
  ];

  it.each(mistakes)("%s: one line naming the key", (_name, value, why) => {
    const result = parseSecrets({ ...SECRETS, OVH_APPLICATION_SECRET: value });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]).toMatch(/^OVH_APPLICATION_SECRET: /);
    expect(result.errors[0]).toMatch(why);
    expect(result.errors[0]).toMatch(/wrangler secret put OVH_APPLICATION_SECRET/);
  });

  it("no message contains a secret's value, whatever is wrong with it", () => {
    const secretish = [
      '"Sup3rSecretValue"',
      "Sup3rSecretValue\n",
      "OVH_APPLICATION_SECRET=Sup3rSecretValue",
      "<Sup3rSecretValue>",
      "Sup3r SecretValue",
      "Sup3rSécretValue",
    ];
    for (const value of secretish) {
      const env: Loose = {
        ...vars(),
        OVH_APPLICATION_KEY: value,
        OVH_APPLICATION_SECRET: value,
        OVH_CONSUMER_KEY: value,
      };
      // and a vars mistake too, so every kind of message is produced at once
      env.HOSTS["nas.example.tld"].ttl = "60";
      const result = parseConfig(env);
      expect(result.ok).toBe(false);
      const text = result.ok ? "" : result.errors.join("\n");
      expect(result.ok ? [] : result.errors).toHaveLength(4);
      for (const piece of ["Sup3r", "SecretValue", value.trim()]) expect(text).not.toContain(piece);
    }
  });

  it("nor do OAuth2 service-account secrets, alone or mixed with the key triple", () => {
    for (const value of ['"Sup3rSecretValue"', "OVH_CLIENT_SECRET=Sup3rSecretValue", "Sup3r SecretValue"]) {
      for (const extra of [{}, SECRETS]) {
        const result = parseConfig({ ...vars(), ...extra, OVH_CLIENT_ID: value, OVH_CLIENT_SECRET: value });
        expect(result.ok).toBe(false);
        const text = result.ok ? "" : result.errors.join("\n");
        expect(text).toMatch(/OVH_CLIENT_SECRET: /);
        for (const piece of ["Sup3r", "SecretValue", ...Object.values(SECRETS)])
          expect(text).not.toContain(piece);
      }
    }
  });

  it("a valid secret is never echoed when another one is wrong", () => {
    const result = parseConfig({ ...vars(), ...SECRETS, OVH_CONSUMER_KEY: "changeme" });
    const text = result.ok ? "" : result.errors.join("\n");
    for (const value of Object.values(SECRETS)) expect(text).not.toContain(value);
  });
});
