// `check`: wrangler.toml through the Worker's schema, and with credentials, the OVH side
// (key state and rights, zones, duplicate records) against the simulator.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { accessRulesFor } from "../../scripts/cli/rules";
import type { OvhSimulator } from "../../sim/ovh-simulator";
import { startReceiver } from "../support/receivers";
import { APP, runCli, runInProcess, simWithApp, tempProject, writeWranglerToml } from "./support";

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

const check = (args: string[] = [], e: Record<string, string> = {}) =>
  runInProcess(["check", ...args], { cwd: dir, env: e });

describe("check, end to end as a process", () => {
  it("exits 0 for a ready config and lists what every host writes, who may update it, and the OVH side", async () => {
    const result = await runCli(["check"], { cwd: dir, env: env(KEYS.least) });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
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
    // Example zones and a loopback endpoint are worth a warning, not a failed deploy.
    expect(out).toContain("warning: zone example.tld is an example name");
    expect(out).toMatch(/warning: OVH_ENDPOINT points at 127\.0\.0\.1:\d+: a local simulator/);
    expect(out).toMatch(/Ready to deploy \(\d warning\(s\)\)\.\n$/);
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

  it("warns, without failing, when the key may do more than the Worker needs", async () => {
    const { code, io } = await check([], env(KEYS.full));
    expect(code).toBe(0);
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
    const { code, io } = await check();
    expect(code).toBe(0);
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
