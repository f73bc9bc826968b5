// `check`: wrangler.toml through the Worker's schema, and with credentials, the OVH side
// (key state and rights, zones, duplicate records) against the simulator.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { accessRulesFor } from "../../scripts/cli/rules";
import type { OvhSimulator } from "../../sim/ovh-simulator";
import { startReceiver } from "../support/receivers";
import {
  ALL_SECRETS,
  APP,
  ROOT,
  runCli,
  runInProcess,
  simWithApp,
  tempProject,
  wranglerWith,
  writeWranglerToml,
} from "./support";

let sim: OvhSimulator;
let dir: string;
let cleanup: () => Promise<void>;

const HASH_A = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
const HASH_B = "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752";
const HOSTS = {
  "wg-end.example.tld": {
    zone: "example.tld",
    ttl: 120,
    records: [
      { subdomain: "wg-end", type: "AAAA", host_id: "::10:211:32ff:fe12:3456", prefix_length: 56 },
      { subdomain: "firewall", type: "AAAA", host_id: "::211:32ff:fe12:3456" },
    ],
  },
  "firewall.example.tld": { zone: "example.tld", records: [{ subdomain: "firewall", type: "A" }] },
  "nas.example.org": {
    zone: "example.org",
    allow_private: true,
    records: [{ subdomain: "nas", type: "AAAA" }],
  },
};
const CLIENTS = {
  fritzbox: { password_sha256: HASH_A, hosts: ["wg-end.example.tld", "firewall.example.tld"] },
  nas: { password_sha256: HASH_B, hosts: ["nas.example.org"] },
};
const ZONES = ["example.org", "example.tld"];
const KEYS = {
  least: "least-privilege-ck",
  full: "full-access-ck",
  readOnly: "read-only-ck",
  pending: "pending-ck",
} as const;

const env = (consumerKey: string): Record<string, string> => ({
  OVH_APPLICATION_KEY: APP.key,
  OVH_APPLICATION_SECRET: APP.secret,
  OVH_CONSUMER_KEY: consumerKey,
});

beforeAll(async () => {
  sim = await simWithApp();
  sim.addConsumerKey(KEYS.least, { applicationKey: APP.key, rules: accessRulesFor(ZONES) });
  sim.addConsumerKey(KEYS.full, { applicationKey: APP.key });
  sim.addConsumerKey(KEYS.readOnly, {
    applicationKey: APP.key,
    rules: ZONES.map((z) => ({ method: "GET", path: `/domain/zone/${z}/*` })),
  });
  sim.addConsumerKey(KEYS.pending, {
    applicationKey: APP.key,
    state: "pendingValidation",
    rules: accessRulesFor(ZONES),
  });
});
afterAll(async () => {
  await sim?.close();
});
beforeEach(async () => {
  ({ dir, cleanup } = await tempProject());
  for (const zone of [...ZONES, "missing.tld"]) {
    try {
      for (const r of sim.records(zone)) sim.deleteRecord(zone, r.id);
    } catch {
      if (zone !== "missing.tld") sim.addZone(zone);
    }
  }
  sim.addRecord("example.tld", { fieldType: "A", subDomain: "firewall", target: "198.51.100.7", ttl: 60 });
  await writeWranglerToml(dir, { OVH_ENDPOINT: sim.url, HOSTS, CLIENTS });
  sim.resetCalls();
});
afterEach(async () => {
  await cleanup();
});

/** check in-process; the fake wrangler lists `secrets` (all a Worker needs, by default; null: not logged in). */
const check = (
  args: string[] = [],
  e: Record<string, string> = {},
  secrets: readonly string[] | null = ALL_SECRETS,
) => runInProcess(["check", ...args], { cwd: dir, env: e, run: wranglerWith(secrets ?? undefined) });

/** The error lines of check's output. */
const errorLines = (out: string) => out.split("\n").filter((l) => l.startsWith("  error: "));

/** The one error a configuration pointing at the simulator has: the deployed Worker cannot reach it. */
const LOOPBACK =
  /^ {2}error: OVH_ENDPOINT points at 127\.0\.0\.1:\d+: a local simulator the deployed Worker cannot reach$/;

describe("check, end to end as a process", () => {
  it("lists what every host writes, who may update it, the OVH side and the Worker's secrets; a loopback endpoint is an error", async () => {
    const result = await runCli(["check"], {
      cwd: dir,
      env: { ...env(KEYS.least), FAKE_WRANGLER_SECRETS: ALL_SECRETS.join(",") },
    });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(1);
    const out = result.stdout;
    expect(out).toContain("  wg-end.example.tld  zone example.tld; updated by: fritzbox\n");
    expect(out).toMatch(
      /AAAA wg-end\.example\.tld +ttl 120 +← top 56 bits of the reported IPv6 prefix \+ host_id ::10:211:32ff:fe12:3456/,
    );
    expect(out).toMatch(
      /AAAA firewall\.example\.tld +ttl 120 +← the reported IPv6 prefix \(a \/64 when only/,
    );
    expect(out).toMatch(/A {4}firewall\.example\.tld +ttl 60 +← the reported IPv4 address/);
    expect(out).toContain(
      "  nas.example.org  zone example.org, private addresses allowed; updated by: nas\n",
    );
    expect(out).toContain("  fritzbox → wg-end.example.tld, firewall.example.tld\n");
    expect(out).toContain("OVH (credentials from environment):");
    expect(out).toContain("  consumer key: validated, no expiry\n");
    expect(out).toContain("  rights: cover example.org, example.tld\n");
    expect(out).toContain("  zone example.tld: reachable\n");
    expect(out).toMatch(/A {4}firewall\.example\.tld: 198\.51\.100\.7 \(ttl 60, id \d+\)/);
    expect(out).toContain("AAAA nas.example.org: not there yet");
    expect(out).toContain(
      "The Worker's secrets (wrangler secret list): OVH_APPLICATION_KEY, OVH_APPLICATION_SECRET, OVH_CONSUMER_KEY, SESSION_SECRET\n",
    );
    // An example zone is worth a warning; a loopback endpoint stops a deploy.
    expect(out).toContain("warning: zone example.tld is an example name");
    expect(errorLines(out)).toHaveLength(1);
    expect(errorLines(out)[0]).toMatch(LOOPBACK);
    expect(out).toMatch(/1 error\(s\), 2 warning\(s\): not ready to deploy\.\n$/);
    // Read-only: nothing was written.
    expect(sim.calls().filter((c) => ["create", "update", "delete", "refresh"].includes(c.kind))).toEqual([]);
    expect(out).not.toContain(APP.secret);
  });

  it("exits 1 for the shipped placeholder password, naming the key", async () => {
    await writeWranglerToml(dir, {
      OVH_ENDPOINT: "ovh-eu",
      HOSTS,
      CLIENTS: {
        ...CLIENTS,
        fritzbox: { ...CLIENTS.fritzbox, password_sha256: "<64 hex digits from npm run new-client>" },
      },
    });
    const result = await runCli(["check"], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("error: CLIENTS.fritzbox.password_sha256: must be the 64 hex digits");
    expect(result.stdout).toContain("wg-end.example.tld  zone example.tld\n"); // hosts still shown
    expect(result.stdout).toMatch(/not ready to deploy\.\n$/);
  });

  it("lists the settings wrangler.toml sets, with their meaning and default", async () => {
    await writeWranglerToml(dir, { HOSTS, CLIENTS, SETTINGS: { recheck_after: 600, change_limit: 5 } });
    const { io } = await check(["--offline"]);
    expect(io.stdout).toContain(
      "Settings (2 set, the others at their defaults):\n" +
        "  recheck_after = 600   seconds a remembered record is trusted before a list and a read confirm it (default 3600)\n" +
        "  change_limit = 5   address changes of one host by one client from one source (as auth_ipv6_prefix counts) … (default 20)\n",
    );
    await writeWranglerToml(dir, { HOSTS, CLIENTS });
    expect((await check(["--offline"])).io.stdout).toContain(
      "Settings: all at their defaults (README: Configuration).\n",
    );
  });

  it("--help exits 0", async () => {
    const result = await runCli(["check", "--help"], { cwd: dir });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^usage: npm run check/);
  });
});

describe("check without OVH", () => {
  it("skips OVH without credentials, and with --offline", async () => {
    await writeWranglerToml(dir, { OVH_ENDPOINT: "ovh-eu", HOSTS, CLIENTS });
    const none = await check();
    expect(none.code).toBe(0);
    expect(none.io.stdout).toContain("OVH: not checked; no credentials in the environment or .dev.vars");
    const offline = await check(["--offline"], env(KEYS.least));
    expect(offline.code).toBe(0);
    expect(offline.io.stdout).toContain("OVH: not checked (--offline).");
    expect(sim.calls()).toEqual([]);
  });

  it("refuses an OVH secret in [vars] without printing it", async () => {
    await writeWranglerToml(dir, {
      OVH_ENDPOINT: sim.url,
      OVH_APPLICATION_SECRET: "leaked-secret-value",
      HOSTS,
      CLIENTS,
    });
    const { code, io } = await check(["--offline"]);
    expect(code).toBe(1);
    expect(io.stdout).toContain(
      "error: [vars] OVH_APPLICATION_SECRET: a secret must not be in wrangler.toml",
    );
    expect(io.stdout + io.stderr).not.toContain("leaked-secret-value");
  });

  it("reports schema errors by key: unknown host of a client, host_id on an A record", async () => {
    await writeWranglerToml(dir, {
      HOSTS: {
        ...HOSTS,
        "a.example.tld": { zone: "example.tld", records: [{ subdomain: "a", type: "A", host_id: "::1" }] },
      },
      CLIENTS: { ...CLIENTS, nas: { password_sha256: HASH_B, hosts: ["nope.example.tld"] } },
    });
    const { code, io } = await check();
    expect(code).toBe(1);
    expect(io.stdout).toContain(
      'error: HOSTS."a.example.tld".records[0].host_id: only AAAA records take a host_id',
    );
    expect(io.stdout).toContain('error: CLIENTS.nas.hosts: "nope.example.tld" is not a key of HOSTS');
  });

  it("names every problem in one run: a typo, a host_id that is no address, an unknown host, a secret in [vars]", async () => {
    await writeWranglerToml(dir, {
      OVH_ENDPOINT: "ovh-eu",
      SESSION_SECRET: "a-session-secret-pasted-into-vars-0123456789",
      HOSTS: {
        ...HOSTS,
        "firewall.example.tld": { zone: "example.tld", records: [{ subDomain: "firewall", type: "A" }] },
        "nas.example.org": {
          zone: "example.org",
          records: [{ subdomain: "nas", type: "AAAA", host_id: "::g" }],
        },
      },
      CLIENTS: { ...CLIENTS, nas: { password_sha256: HASH_B, hosts: ["nas.exmaple.org"] } },
    });
    const { code, io } = await check(["--offline"]);
    expect(code).toBe(1);
    expect(errorLines(io.stdout)).toEqual([
      "  error: [vars] SESSION_SECRET: a secret must not be in wrangler.toml (it is committed and shown in the dashboard); remove it and use: npx wrangler secret put SESSION_SECRET",
      '  error: HOSTS."firewall.example.tld".records[0]: unknown key(s) "subDomain"; did you mean "subdomain"?',
      expect.stringMatching(/^ {2}error: HOSTS\."nas\.example\.org"\.records\[0\]\.host_id: /),
      '  error: CLIENTS.nas.hosts: "nas.exmaple.org" is not a key of HOSTS; did you mean "nas.example.org"?',
    ]);
    expect(io.stdout).not.toContain("a-session-secret-pasted");
  });

  it("warns about a host name outside its zone and two clients writing one host", async () => {
    await writeWranglerToml(dir, {
      HOSTS: {
        ...HOSTS,
        "nas.example.net": { zone: "example.org", records: [{ subdomain: "nas2", type: "A" }] },
      },
      CLIENTS: {
        ...CLIENTS,
        spare: { password_sha256: HASH_B.replace("6", "7"), hosts: ["nas.example.org", "nas.example.net"] },
      },
    });
    const { io } = await check(["--offline"]);
    expect(errorLines(io.stdout)).toEqual([]);
    expect(io.stdout).toContain(
      '  warning: HOSTS."nas.example.net": the name is outside its zone example.org; its records are written in example.org (is the zone or the name mistyped?)\n',
    );
    expect(io.stdout).toContain(
      "  warning: clients nas, spare all write nas.example.org; each report overwrites the others' (fine for a spare, not for two routers)\n",
    );
    expect(io.stdout).not.toContain("warning: clients fritzbox");
  });

  it("warns about clients sharing a password and hosts nobody may update", async () => {
    await writeWranglerToml(dir, {
      HOSTS,
      CLIENTS: {
        a: { password_sha256: HASH_A, hosts: ["nas.example.org"] },
        b: { password_sha256: HASH_A, hosts: ["nas.example.org"] },
      },
    });
    const { code, io } = await check(["--offline"]);
    expect(code).toBe(0);
    expect(io.stdout).toContain("warning: clients a, b share one password");
    expect(io.stdout).toContain('warning: HOSTS."wg-end.example.tld": no client may update it');
  });

  it("names the file and the line of broken TOML, and the flag for a missing file", async () => {
    await writeFile(join(dir, "wrangler.toml"), 'name = "x"\n[vars\n');
    const broken = await check();
    expect(broken.code).toBe(1);
    expect(broken.io.stderr).toMatch(/wrangler\.toml: not valid TOML \(line 2, column \d+/);
    const missing = await check(["--config", "nope.toml"]);
    expect(missing.code).toBe(1);
    expect(missing.io.stderr).toContain(
      "nope.toml: no such file (run this in the project directory, or pass --config PATH)",
    );
    const usage = await check(["--bogus"]);
    expect(usage.code).toBe(2);
    expect(usage.io.stderr).toContain("Unknown option '--bogus'");
  });
});

describe("check against OVH", () => {
  it("exits 1 for duplicate records of a configured name: the Worker would answer dnserr", async () => {
    const ids = [
      sim.addRecord("example.org", { fieldType: "AAAA", subDomain: "nas", target: "2001:db8::1", ttl: 60 }),
      sim.addRecord("example.org", { fieldType: "AAAA", subDomain: "NAS", target: "2001:db8::2", ttl: 60 }),
    ];
    const { code, io } = await check([], env(KEYS.least));
    expect(code).toBe(1);
    expect(io.stdout).toContain(
      `error: AAAA nas.example.org: 2 records (2001:db8::1 (ttl 60, id ${ids[0]}); 2001:db8::2 (ttl 60, id ${ids[1]})); the Worker answers dnserr for nas.example.org until you delete all but one`,
    );
  });

  it("exits 1 when a CNAME sits on a configured name", async () => {
    sim.addRecord("example.org", { fieldType: "CNAME", subDomain: "nas", target: "elsewhere.example.net." });
    const { code, io } = await check([], env(KEYS.least));
    expect(code).toBe(1);
    expect(io.stdout).toMatch(
      /error: nas\.example\.org has a CNAME \(to elsewhere\.example\.net\., id \d+\)/,
    );
  });

  it("exits 1 when the key's rights do not cover what the Worker does", async () => {
    const { code, io } = await check([], env(KEYS.readOnly));
    expect(code).toBe(1);
    for (const zone of ZONES) {
      expect(io.stdout).toContain(
        `error: the key may not create a record in ${zone} (POST /domain/zone/${zone}/record)`,
      );
      expect(io.stdout).toContain(
        `error: the key may not update a record in ${zone} (PUT /domain/zone/${zone}/record/{id})`,
      );
      expect(io.stdout).toContain(`error: the key may not refresh the zone in ${zone}`);
    }
  });

  it("warns, without an error, when the key may do more than the Worker needs", async () => {
    const { io } = await check([], env(KEYS.full));
    expect(errorLines(io.stdout).filter((l) => !LOOPBACK.test(l))).toEqual([]);
    expect(io.stdout).toContain(
      "warning: the key may do more than the Worker needs: GET /*, POST /*, PUT /*, DELETE /*",
    );
  });

  it("exits 1 for a consumer key that is not validated", async () => {
    const { code, io } = await check([], env(KEYS.pending));
    expect(code).toBe(1);
    expect(io.stdout).toContain("error: OVH_CONSUMER_KEY is not valid (never validated, expired or revoked)");
  });

  it("exits 1 when a zone is not in the account", async () => {
    await writeWranglerToml(dir, {
      OVH_ENDPOINT: sim.url,
      HOSTS: { "x.missing.tld": { zone: "missing.tld", records: [{ subdomain: "x", type: "A" }] } },
      CLIENTS: { a: { password_sha256: HASH_A, hosts: ["x.missing.tld"] } },
    });
    const { code, io } = await check([], env(KEYS.full));
    expect(code).toBe(1);
    expect(io.stdout).toContain("error: zone missing.tld is not in the OVH account behind these keys");
  });

  it("exits 1 with an OVH error that names what failed, e.g. a 503 HTML page", async () => {
    sim.injectFault({
      path: /\/record$/,
      times: 1,
      fault: { kind: "status", status: 503, body: "<html>down</html>" },
    });
    const { code, io } = await check([], env(KEYS.least));
    sim.clearFaults();
    expect(code).toBe(1);
    expect(io.stdout).toMatch(
      /error: AAAA wg-end\.example\.tld: OVH GET \/domain\/zone\/example\.tld\/record: 503 Service Unavailable \(text\/html body\) \(query id EU\.ext-sim\./,
    );
  });

  it("reads credentials from .dev.vars and warns when others may read it", async () => {
    await writeFile(
      join(dir, ".dev.vars"),
      Object.entries(env(KEYS.least))
        .map(([k, v]) => `${k}=${v}`)
        .join("\n"),
      {
        mode: 0o644,
      },
    );
    const { io } = await check();
    expect(errorLines(io.stdout).filter((l) => !LOOPBACK.test(l))).toEqual([]);
    expect(io.stdout).toContain("OVH (credentials from .dev.vars):");
    expect(io.stdout).toMatch(/warning: .*\.dev\.vars is readable by others \(mode 644\); chmod 600 it/);
  });

  it("exits 1 when only some credentials are present, naming the missing ones", async () => {
    const { code, io } = await check([], { OVH_APPLICATION_KEY: APP.key });
    expect(code).toBe(1);
    expect(io.stdout).toContain("error: OVH_APPLICATION_SECRET: is not set");
    expect(io.stdout).toContain("error: OVH_CONSUMER_KEY: is not set");
  });
});

describe("check: the deployed Worker's secrets", () => {
  beforeEach(async () => {
    await writeWranglerToml(dir, { OVH_ENDPOINT: "ovh-eu", HOSTS, CLIENTS });
  });

  it("says ready only when wrangler secret list shows every secret the configuration needs", async () => {
    const { code, io } = await check();
    expect(code).toBe(0);
    expect(io.runs.map((r) => r.command.slice(-6))).toEqual([
      ["secret", "list", "--format", "json", "--config", join(dir, "wrangler.toml")],
    ]);
    expect(io.stdout).toMatch(/\nReady to deploy \(2 warning\(s\)\)\.\n$/);
  });

  it("not logged in: says it cannot see them and what to run, and is not ready", async () => {
    const { code, io } = await check([], {}, null);
    expect(code).toBe(1);
    expect(io.stdout).toContain(
      "The Worker's secrets: cannot see them: wrangler is not logged in to Cloudflare (npx wrangler login, or set CLOUDFLARE_API_TOKEN).\n",
    );
    expect(io.stdout).toMatch(
      /\n0 error\(s\), 2 warning\(s\), but not ready to deploy: the Worker's secrets are unknown \(wrangler is not logged in/,
    );
    expect(io.stdout).not.toContain("Ready to deploy");
  });

  it("a Worker that does not exist yet: says which command creates it", async () => {
    const { code, io } = await runInProcess(["check"], {
      cwd: dir,
      run: () => ({
        code: 1,
        stdout: "",
        stderr: "✘ [ERROR] This Worker does not exist on your account. [code: 10007]",
      }),
    });
    expect(code).toBe(1);
    expect(io.stdout).toContain(
      "cannot see them: the Worker does not exist on Cloudflare yet; storing its first secret creates it (npm run setup -- ovh --apply).",
    );
  });

  it.each([
    [
      "no OVH secret",
      ["SESSION_SECRET"],
      "the Worker lacks OVH_APPLICATION_KEY, OVH_APPLICATION_SECRET, OVH_CONSUMER_KEY (or OVH_CLIENT_ID and OVH_CLIENT_SECRET); updates answer 911 without them: npm run setup -- ovh --apply",
    ],
    [
      "a consumer key missing",
      ["OVH_APPLICATION_KEY", "OVH_APPLICATION_SECRET", "SESSION_SECRET"],
      "the Worker lacks OVH_CONSUMER_KEY; updates answer 911 without them: npm run setup -- ovh --apply",
    ],
    [
      "half an OAuth2 pair",
      ["OVH_CLIENT_ID", "SESSION_SECRET"],
      "the Worker lacks OVH_CLIENT_SECRET; updates answer 911 without them: npx wrangler secret put NAME (docs/setup.md)",
    ],
    [
      "both kinds of OVH secrets",
      [...ALL_SECRETS, "OVH_CLIENT_ID", "OVH_CLIENT_SECRET"],
      "the Worker holds OVH_APPLICATION_KEY, OVH_APPLICATION_SECRET, OVH_CONSUMER_KEY and OVH_CLIENT_ID, OVH_CLIENT_SECRET: keep one kind (npx wrangler secret delete NAME)",
    ],
    [
      "no SESSION_SECRET",
      ["OVH_APPLICATION_KEY", "OVH_APPLICATION_SECRET", "OVH_CONSUMER_KEY"],
      "the Worker lacks SESSION_SECRET; the status page cannot log anyone in without it: npm run setup -- session --apply",
    ],
  ])("%s: an error naming the keys and the command", async (_name, secrets, line) => {
    const { code, io } = await check([], {}, secrets);
    expect(code).toBe(1);
    expect(errorLines(io.stdout)).toEqual([`  error: ${line}`]);
  });

  it("the OAuth2 pair alone is enough", async () => {
    const { code } = await check([], {}, ["OVH_CLIENT_ID", "OVH_CLIENT_SECRET", "SESSION_SECRET"]);
    expect(code).toBe(0);
  });

  it("NOTIFY_URLS and HEARTBEAT_URL used here must be on the Worker too", async () => {
    await writeFile(join(dir, ".dev.vars"), "HEARTBEAT_URL=https://hc.example.net/ping/abc\n", {
      mode: 0o600,
    });
    const { code, io } = await check([], { NOTIFY_URLS: "ntfy://ntfy.example.net/dns" });
    expect(code).toBe(1);
    expect(errorLines(io.stdout)).toEqual([
      "  error: the Worker lacks NOTIFY_URLS, HEARTBEAT_URL; set here (environment or .dev.vars) but not on the Worker: npx wrangler secret put NAME",
    ]);
    expect(io.stdout).not.toContain("hc.example.net/ping/abc");
    const there = await check([], { NOTIFY_URLS: "ntfy://ntfy.example.net/dns" }, [
      ...ALL_SECRETS,
      "NOTIFY_URLS",
      "HEARTBEAT_URL",
    ]);
    expect(there.code).toBe(0);
  });

  it("--offline checks the file only and never says ready", async () => {
    const { code, io } = await check(["--offline"], {}, null);
    expect(code).toBe(0);
    expect(io.runs).toEqual([]);
    expect(io.stdout).toContain("The Worker's secrets: not checked (--offline).");
    expect(io.stdout).not.toContain("Ready to deploy");
  });

  it("npm run deploy runs the check first, so a loopback OVH_ENDPOINT stops it", async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.deploy).toMatch(/^npm run check && wrangler deploy$/);
    await writeWranglerToml(dir, { OVH_ENDPOINT: "http://127.0.0.1:8788/1.0", HOSTS, CLIENTS });
    const { code, io } = await check();
    expect(code).toBe(1);
    expect(errorLines(io.stdout)).toEqual([
      "  error: OVH_ENDPOINT points at 127.0.0.1:8788: a local simulator the deployed Worker cannot reach",
    ]);
    const offline = await check(["--offline"]);
    expect(offline.code).toBe(0);
  });
});

describe("check: notifications", () => {
  const URLS = "ntfy://alice:ntfy-secret-77@ntfy.example.net/dns\ndiscord://discord-secret-88@123456789";

  it("lists NOTIFY_URLS by position, service and host, never a token", async () => {
    const { code, io } = await check(["--offline"], { NOTIFY_URLS: URLS });
    expect(code).toBe(0);
    expect(io.stdout).toContain(
      "Notifications (NOTIFY_URLS from the environment): 2 target(s)\n  #1 ntfy ntfy.example.net\n  #2 discord\n",
    );
    expect(io.stdout + io.stderr).not.toMatch(/secret-77|secret-88/);
  });

  it("exits 1 for a wrong URL, naming its position and service only; reads .dev.vars too", async () => {
    await writeFile(join(dir, ".dev.vars"), "NOTIFY_URLS='discord://discord-secret-88@not-an-id'\n", {
      mode: 0o600,
    });
    const { code, io } = await check(["--offline"]);
    expect(code).toBe(1);
    expect(io.stdout).toContain("error: NOTIFY_URLS #1 (discord): must be discord://TOKEN@WEBHOOK_ID");
    expect(io.stdout + io.stderr).not.toContain("secret-88");
  });

  it("a raw % in one URL is that URL's error; a € in another's password is fine", async () => {
    const urls = "ntfy://alice:xq50%off@ntfy.sh/a ntfy://j%C3%BCrgen:p%E2%82%AC@ntfy.example.net/b";
    const { code, io } = await check(["--offline"], { NOTIFY_URLS: urls });
    expect(code).toBe(1);
    expect(io.stdout).toContain(
      'error: NOTIFY_URLS #1 (ntfy): the password holds a "%" that is not followed by two hex digits (write a literal % as %25)',
    );
    expect(io.stdout).toContain("  #2 ntfy ntfy.example.net\n");
    expect(io.stdout + io.stderr).not.toContain("xq50");
  });

  it("says it did not check NOTIFY_URLS when it is not at hand", async () => {
    const { code, io } = await check(["--offline"]);
    expect(code).toBe(0);
    expect(io.stdout).toContain("Notifications: NOTIFY_URLS is not in the environment or .dev.vars");
  });

  it("--notify-test asks the deployed Worker to send the test and prints what each target got", async () => {
    const worker = await startReceiver();
    try {
      worker.answer(
        200,
        JSON.stringify({
          targets: [
            { target: "#1 ntfy ntfy.example.net", delivered: true },
            { target: "#2 discord", delivered: false, status: 404, error: "HTTP 404" },
          ],
          errors: [],
        }),
      );
      const { code, io } = await runInProcess(
        ["check", "--offline", "--notify-test", worker.origin, "--user", "fritzbox"],
        { cwd: dir, stdin: ["router-password"] },
      );
      expect(code).toBe(1);
      expect(io.stdout).toContain(
        `Test notification sent by ${worker.origin}:\n  #1 ntfy ntfy.example.net: delivered\n  #2 discord: NOT delivered (HTTP 404)\n`,
      );
      expect(worker.requests).toEqual([
        expect.objectContaining({
          method: "POST",
          path: "/status/notify-test",
          headers: expect.objectContaining({ authorization: `Basic ${btoa("fritzbox:router-password")}` }),
        }),
      ]);
      expect(io.stdout + io.stderr).not.toContain("router-password");
    } finally {
      await worker.close();
    }
  });

  it("--notify-test without --user is a usage error", async () => {
    const { code } = await check(["--notify-test", "https://dyndns.example.workers.dev"]);
    expect(code).toBe(2);
  });
});
