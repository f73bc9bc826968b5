// `setup ovh` against the OVH simulator, which enforces access rules and credential states.
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { main } from "../../scripts/cli/main";
import { accessRulesFor } from "../../scripts/cli/rules";
import { parseDevVars } from "../../scripts/cli/secrets";
import type { OvhSimulator } from "../../sim/ovh-simulator";
import { sessionSecretProblem } from "../../src/config";
import { OvhClient, type OvhError } from "../../src/ovh/client";
import {
  ALL_SECRETS,
  APP,
  childEnv,
  type MemoryIo,
  memoryIo,
  runCli,
  runInProcess,
  simWithApp,
  startCli,
  tempProject,
  wranglerWith,
  writeWranglerToml,
} from "./support";

let sim: OvhSimulator;
let dir: string;
let cleanup: () => Promise<void>;

const HOSTS = {
  "home.example.tld": {
    zone: "example.tld",
    records: [
      { subdomain: "home", type: "A" },
      { subdomain: "home", type: "AAAA" },
    ],
  },
  "nas.example.org": { zone: "example.org", records: [{ subdomain: "nas", type: "AAAA" }] },
};
const HASH = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
const CLIENTS = { fritzbox: { password_sha256: HASH, hosts: ["home.example.tld", "nas.example.org"] } };
const FAST = ["--interval", "0.05", "--timeout", "20"];

beforeAll(async () => {
  sim = await simWithApp();
  sim.addZone("example.tld");
  sim.addZone("example.org");
  sim.addRecord("example.tld", { fieldType: "A", subDomain: "home", target: "198.51.100.7", ttl: 60 });
});
afterAll(async () => {
  await sim?.close();
});
beforeEach(async () => {
  ({ dir, cleanup } = await tempProject());
  await writeWranglerToml(dir, { OVH_ENDPOINT: sim.url, HOSTS, CLIENTS });
  sim.resetCalls();
});
afterEach(async () => {
  await cleanup();
});

/** The consumer key the CLI asked for: it signs its polls of /auth/currentCredential with it. */
async function pendingConsumerKey(): Promise<string> {
  for (let i = 0; i < 400; i++) {
    const polled = sim.calls({ kind: "current-credential" }).find((c) => c.consumerKey);
    if (polled?.consumerKey) return polled.consumerKey;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("the CLI never polled /auth/currentCredential");
}

/** main() in-process; validates the key OVH-side when `validate` is set. */
async function setupInProcess(
  args: string[],
  o: { validate?: boolean; env?: Record<string, string>; stdin?: string[] } = {},
): Promise<{ code: number; io: MemoryIo }> {
  const io = memoryIo({
    cwd: dir,
    env: o.env ?? { OVH_APPLICATION_KEY: APP.key, OVH_APPLICATION_SECRET: APP.secret },
    stdin: o.stdin ?? [],
  });
  const run = main(["setup", "ovh", ...args], io);
  if (o.validate) sim.validateCredential(await pendingConsumerKey());
  return { code: await run, io };
}

function keyClient(consumerKey: string): OvhClient {
  return new OvhClient({
    endpoint: sim.url,
    credentials: { applicationKey: APP.key, applicationSecret: APP.secret, consumerKey },
    timeoutMs: 5000,
  });
}

describe("setup ovh, end to end as a process", () => {
  it("gets a key for exactly the configured zones, waits for the validation page, proves it read-only, writes .dev.vars 0600", async () => {
    const cli = startCli(["setup", "ovh", "--dev-vars", ...FAST], {
      cwd: dir,
      env: { OVH_APPLICATION_KEY: APP.key },
      stdin: `${APP.secret}\n`, // the secret piped on stdin, not on the command line
    });
    const [, validationUrl] = (await cli.waitFor(/^\s+(http:\/\/\S+credentialToken=\S+)$/m)) as [
      string,
      string,
    ];
    await pendingConsumerKey(); // it is polling: the user opens the link only now
    expect((await fetch(validationUrl)).status).toBe(200); // the simulated OVH page validates the key
    const result = await cli.done;

    expect(result.stderr).not.toMatch(/error/i);
    expect(result.code).toBe(0);
    const [request] = sim.calls({ kind: "credential" });
    expect(request?.body).toEqual({ accessRules: accessRulesFor(["example.org", "example.tld"]) });
    expect(JSON.stringify(request?.body)).not.toContain("DELETE");

    // Read-only proof: every configured record listed, the existing one read, nothing written.
    expect(sim.calls({ kind: "list" })).toHaveLength(3);
    expect(sim.calls({ kind: "get" })).toHaveLength(1);
    expect(sim.calls().filter((c) => ["create", "update", "delete", "refresh"].includes(c.kind))).toEqual([]);
    expect(result.stdout).toContain("A    home.example.tld: 198.51.100.7 (ttl 60, id ");
    expect(result.stdout).toContain("AAAA nas.example.org: not there yet");

    const devVars = join(dir, ".dev.vars");
    expect((await stat(devVars)).mode & 0o777).toBe(0o600);
    const stored = parseDevVars(await readFile(devVars, "utf8"));
    const consumerKey = stored.get("OVH_CONSUMER_KEY") ?? "";
    expect(stored.get("OVH_APPLICATION_KEY")).toBe(APP.key);
    expect(stored.get("OVH_APPLICATION_SECRET")).toBe(APP.secret);
    expect(consumerKey).toMatch(/^[A-Za-z0-9]{32}$/);
    // And the status page's login, which the steps would otherwise leave out.
    const session = stored.get("SESSION_SECRET") ?? "";
    expect(session).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(result.stdout).toContain("Wrote a new SESSION_SECRET (the status page's login) to ");
    for (const secret of [APP.secret, consumerKey, session]) {
      expect(result.stdout + result.stderr).not.toContain(secret);
    }

    // The key works for what the Worker does, and for nothing more.
    const client = keyClient(consumerKey);
    const created = await client.request<{ id: number }>("POST", "/domain/zone/example.org/record", {
      body: { fieldType: "AAAA", subDomain: "nas", target: "2001:db8::5", ttl: 60 },
    });
    await client.request("POST", "/domain/zone/example.org/refresh");
    const refused = (p: Promise<unknown>) =>
      p.then(
        () => undefined,
        (e: OvhError) => `${e.status} ${e.ovhMessage}`,
      );
    expect(await refused(client.request("DELETE", `/domain/zone/example.org/record/${created.id}`))).toBe(
      "403 This call has not been granted",
    );
    sim.addZone("other.tld");
    expect(await refused(client.request("GET", "/domain/zone/other.tld/record"))).toBe(
      "403 This call has not been granted",
    );
    expect(await refused(client.request("GET", "/domain/zone"))).toBe("403 This call has not been granted");
    sim.deleteRecord("example.org", created.id);

    // And the config passes `check` with the credentials setup left in .dev.vars (its one error:
    // the simulator's loopback address, which a deployed Worker cannot reach).
    const check = await runCli(["check"], {
      cwd: dir,
      env: { FAKE_WRANGLER_SECRETS: ALL_SECRETS.join(",") },
    });
    expect(check.stdout).toContain("rights: cover example.org, example.tld");
    expect(check.stdout.split("\n").filter((l) => l.startsWith("  error: "))).toEqual([
      expect.stringMatching(/^ {2}error: OVH_ENDPOINT points at 127\.0\.0\.1:\d+: a local simulator/),
    ]);
  });

  it("--apply feeds each secret to `wrangler secret put` on stdin, never on its command line", async () => {
    const log = join(dir, "wrangler-calls.jsonl");
    const fake = join(dir, "fake-wrangler.mjs");
    await writeFile(
      fake,
      `import { appendFileSync, readFileSync } from "node:fs";
appendFileSync(${JSON.stringify(log)}, JSON.stringify({ argv: process.argv.slice(2), stdin: readFileSync(0, "utf8") }) + "\\n");
console.log(process.argv.includes("list") ? "[]" : "✨ Success! Uploaded secret");`,
    );
    const cli = startCli(["setup", "ovh", "--apply", ...FAST], {
      cwd: dir,
      env: {
        OVH_APPLICATION_KEY: APP.key,
        OVH_APPLICATION_SECRET: APP.secret,
        WRANGLER: `${process.execPath} ${fake}`,
      },
    });
    await cli.waitFor(/credentialToken=/);
    const consumerKey = await pendingConsumerKey();
    sim.validateCredential(consumerKey);
    const result = await cli.done;

    expect(result.code).toBe(0);
    const calls = (await readFile(log, "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { argv: string[]; stdin: string });
    const config = join(dir, "wrangler.toml");
    expect(calls).toEqual([
      { argv: ["secret", "put", "OVH_APPLICATION_KEY", "--config", config], stdin: APP.key },
      { argv: ["secret", "put", "OVH_APPLICATION_SECRET", "--config", config], stdin: APP.secret },
      { argv: ["secret", "put", "OVH_CONSUMER_KEY", "--config", config], stdin: consumerKey },
      // The Worker has no SESSION_SECRET yet, so one is made and stored.
      { argv: ["secret", "list", "--format", "json", "--config", config], stdin: "" },
      {
        argv: ["secret", "put", "SESSION_SECRET", "--config", config],
        stdin: expect.stringMatching(/^[\w-]{43}$/),
      },
    ]);
    expect(result.stdout).toContain(
      "Stored a new SESSION_SECRET (the status page's login) with wrangler secret put.",
    );
    expect(result.stdout + result.stderr).not.toContain(consumerKey);
    expect(result.stdout + result.stderr).not.toContain(APP.secret);
    await expect(stat(join(dir, ".dev.vars"))).rejects.toThrow(/ENOENT/);
  });
});

describe("setup ovh, in-process", () => {
  it("--help describes the command and exits 0", async () => {
    const io = memoryIo({ cwd: dir });
    expect(await main(["setup", "ovh", "--help"], io)).toBe(0);
    expect(io.stdout).toMatch(/^usage: npm run setup -- ovh/);
    expect(io.stdout).toContain("--dev-vars");
  });

  it("without --apply or --dev-vars shows the consumer key once, with the wrangler commands", async () => {
    const { code, io } = await setupInProcess(FAST, { validate: true });
    expect(code).toBe(0);
    const consumerKey = sim.calls({ kind: "current-credential" }).at(-1)?.consumerKey ?? "";
    expect(io.stdout.split(consumerKey)).toHaveLength(2);
    expect(io.stdout).toContain("  npx wrangler secret put OVH_CONSUMER_KEY\n");
    expect(io.stdout).not.toContain(APP.secret);
    await expect(stat(join(dir, ".dev.vars"))).rejects.toThrow(/ENOENT/);
  });

  it("when wrangler fails under --apply, says so and shows the key rather than losing it", async () => {
    const io = memoryIo({
      cwd: dir,
      env: { OVH_APPLICATION_KEY: APP.key, OVH_APPLICATION_SECRET: APP.secret },
      run: (_command, input) => ({ code: 1, stdout: "", stderr: `✘ [ERROR] Not logged in (${input})` }),
    });
    const run = main(["setup", "ovh", "--apply", ...FAST], io);
    const consumerKey = await pendingConsumerKey();
    sim.validateCredential(consumerKey);
    expect(await run).toBe(1);
    expect(io.runs).toHaveLength(1);
    expect(io.stderr).toContain("wrangler secret put OVH_APPLICATION_KEY failed with exit status 1:");
    expect(io.stderr).toContain("Not logged in ([redacted])"); // wrangler's words, values redacted
    expect(io.stdout).toContain(`\n  ${consumerKey}\n`);
  });

  it("a wrong application secret is named, never shown, and nothing is stored", async () => {
    const wrong = "wrong-secret-value-42";
    const { code, io } = await setupInProcess(["--dev-vars", ...FAST], {
      env: { OVH_APPLICATION_KEY: APP.key, OVH_APPLICATION_SECRET: wrong },
    });
    expect(code).toBe(1);
    expect(io.stderr).toMatch(/OVH_APPLICATION_SECRET does not belong to OVH_APPLICATION_KEY/);
    expect(io.stdout + io.stderr).not.toContain(wrong);
    await expect(stat(join(dir, ".dev.vars"))).rejects.toThrow(/ENOENT/);
  });

  it("an application key OVH does not know is named", async () => {
    const { code, io } = await setupInProcess(FAST, {
      env: { OVH_APPLICATION_KEY: "unknown-app-key", OVH_APPLICATION_SECRET: APP.secret },
    });
    expect(code).toBe(1);
    expect(io.stderr).toMatch(/OVH_APPLICATION_KEY is not known at http:\/\/127\.0\.0\.1:\d+\/1\.0/);
  });

  it("gives up after --timeout when nobody validates the key, storing nothing", async () => {
    const io = memoryIo({
      cwd: dir,
      env: { OVH_APPLICATION_KEY: APP.key, OVH_APPLICATION_SECRET: APP.secret },
    });
    // The CLI's clock moves only when it sleeps between polls: its time-out passes without waiting.
    let now = Date.now();
    io.now = () => now;
    io.sleep = async (ms) => {
      now += ms;
    };
    expect(await main(["setup", "ovh", "--dev-vars", "--timeout", "1", "--interval", "0.1"], io)).toBe(1);
    expect(io.stderr).toContain("the consumer key was not validated within 1 s; nothing was stored");
    expect(sim.calls({ kind: "current-credential" }).length).toBeGreaterThan(3);
    await expect(stat(join(dir, ".dev.vars"))).rejects.toThrow(/ENOENT/);
  });

  it("fails when a configured zone is not in the account, after validation, storing nothing", async () => {
    await writeWranglerToml(dir, {
      OVH_ENDPOINT: sim.url,
      HOSTS: { ...HOSTS, "x.missing.tld": { zone: "missing.tld", records: [{ subdomain: "x", type: "A" }] } },
      CLIENTS,
    });
    const { code, io } = await setupInProcess(["--dev-vars", ...FAST], { validate: true });
    expect(code).toBe(1);
    expect(io.stdout).toMatch(/A {4}x\.missing\.tld: FAILED: zone missing\.tld is not in the OVH account/);
    expect(io.stderr).toContain("nothing was stored");
    await expect(stat(join(dir, ".dev.vars"))).rejects.toThrow(/ENOENT/);
  });

  it("--redirect is passed to OVH; a redirect that is not a URL is a usage error", async () => {
    const { code } = await setupInProcess(["--redirect", "https://example.net/done", ...FAST], {
      validate: true,
    });
    expect(code).toBe(0);
    expect(sim.calls({ kind: "credential" })[0]?.body).toMatchObject({
      redirection: "https://example.net/done",
    });
    const bad = await setupInProcess(["--redirect", "javascript:alert(1)", ...FAST]);
    expect(bad.code).toBe(2);
    expect(bad.io.stderr).toContain('--redirect: must be an http(s) URL, got "javascript:alert(1)"');
  });

  it("reads the secret from stdin when it is not in the environment", async () => {
    const { code } = await setupInProcess(["--dev-vars", ...FAST], {
      validate: true,
      env: { OVH_APPLICATION_KEY: APP.key },
      stdin: [APP.secret],
    });
    expect(code).toBe(0);
    expect(parseDevVars(await readFile(join(dir, ".dev.vars"), "utf8")).get("OVH_APPLICATION_SECRET")).toBe(
      APP.secret,
    );
  });

  it("does not wait for a client's placeholder password, but lists it for before the deploy", async () => {
    await writeWranglerToml(dir, {
      OVH_ENDPOINT: sim.url,
      HOSTS,
      CLIENTS: {
        fritzbox: { password_sha256: "<64 hex digits from npm run new-client>", hosts: ["home.example.tld"] },
      },
    });
    const { code, io } = await setupInProcess(FAST, { validate: true });
    expect(code).toBe(0);
    expect(io.stdout).toMatch(
      /Before deploying, fix these[^\n]*\n {2}- CLIENTS\.fritzbox\.password_sha256: /,
    );
  });

  it("refuses a broken HOSTS: the key's rights would be wrong", async () => {
    await writeWranglerToml(dir, {
      OVH_ENDPOINT: sim.url,
      HOSTS: { "home.example.tld": { zone: "Not A Zone", records: [{ subdomain: "home", type: "A" }] } },
      CLIENTS,
    });
    const { code, io } = await setupInProcess(FAST);
    expect(code).toBe(1);
    expect(io.stderr).toContain('HOSTS."home.example.tld".zone: must be a lowercase domain name');
    expect(sim.calls({ kind: "credential" })).toEqual([]);
  });

  it.each([
    [
      ["--application-secret", "s3cr3t-on-the-cli"],
      /--application-secret: secrets are not taken on the command line/,
    ],
    [[], /OVH_APPLICATION_KEY: not given/],
  ])("usage errors exit 2: %s", async (args, message) => {
    const { code, io } = await setupInProcess([...args, ...FAST], { env: {} });
    expect(code).toBe(2);
    expect(io.stderr).toMatch(message);
    expect(io.stderr).not.toContain("s3cr3t-on-the-cli");
  });

  it("names the target: `setup` alone or `setup dns` is a usage error", async () => {
    for (const args of [["setup"], ["setup", "dns"]]) {
      const io = memoryIo({ cwd: dir });
      expect(await main(args, io)).toBe(2);
      expect(io.stderr).toMatch(/setup ovh/);
    }
  });
});

describe("setup ovh and SESSION_SECRET", () => {
  it("--apply keeps the Worker's SESSION_SECRET when it has one (a new one would log everyone out)", async () => {
    const io = memoryIo({
      cwd: dir,
      env: { OVH_APPLICATION_KEY: APP.key, OVH_APPLICATION_SECRET: APP.secret },
      run: wranglerWith(["SESSION_SECRET"]),
    });
    const run = main(["setup", "ovh", "--apply", ...FAST], io);
    sim.validateCredential(await pendingConsumerKey());
    expect(await run).toBe(0);
    expect(io.runs.map((r) => r.command.slice(3, 5).join(" "))).toEqual([
      "put OVH_APPLICATION_KEY",
      "put OVH_APPLICATION_SECRET",
      "put OVH_CONSUMER_KEY",
      "list --format",
    ]);
    expect(io.stdout).toContain("SESSION_SECRET: the Worker has one; kept.");
  });

  it("--apply when wrangler cannot list the secrets: says which command makes SESSION_SECRET", async () => {
    const io = memoryIo({
      cwd: dir,
      env: { OVH_APPLICATION_KEY: APP.key, OVH_APPLICATION_SECRET: APP.secret },
      run: (command) =>
        command.includes("list")
          ? { code: 1, stdout: "", stderr: "boom" }
          : { code: 0, stdout: "", stderr: "" },
    });
    const run = main(["setup", "ovh", "--apply", ...FAST], io);
    sim.validateCredential(await pendingConsumerKey());
    expect(await run).toBe(0);
    expect(io.stdout).toContain(
      "SESSION_SECRET: cannot see whether the Worker has one (wrangler secret list failed with exit status 1: boom); npm run setup -- session --apply makes it.",
    );
  });

  it("without --apply or --dev-vars, points at setup session", async () => {
    const { code, io } = await setupInProcess(FAST, { validate: true });
    expect(code).toBe(0);
    expect(io.stdout).toContain(
      "Next, the status page's login: npm run setup -- session (it makes SESSION_SECRET).",
    );
  });

  it("a bare `setup` names both targets, session included", async () => {
    const { code, io } = await runInProcess(["setup"], { cwd: dir });
    expect(code).toBe(2);
    expect(io.stderr).toContain("`setup ovh`");
    expect(io.stderr).toContain("`setup session` (a new SESSION_SECRET, the status page's login)");
  });
});

describe("setup session", () => {
  it("--dev-vars writes a random SESSION_SECRET the Worker accepts, 0600, and prints none of it", async () => {
    const io = memoryIo({ cwd: dir });
    expect(await main(["setup", "session", "--dev-vars"], io)).toBe(0);
    const path = join(dir, ".dev.vars");
    const secret = parseDevVars(await readFile(path, "utf8")).get("SESSION_SECRET") ?? "";
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(sessionSecretProblem(secret)).toBeUndefined();
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(io.stdout + io.stderr).not.toContain(secret);
    const again = memoryIo({ cwd: dir });
    expect(await main(["setup", "session", "--dev-vars"], again)).toBe(0);
    expect(parseDevVars(await readFile(path, "utf8")).get("SESSION_SECRET")).not.toBe(secret);
  });

  it("--apply feeds it to `wrangler secret put` on stdin; without flags it is shown once", async () => {
    // In-process: the setup ovh --apply test above shows io.run() feeding a real wrangler's stdin.
    const applied = memoryIo({ cwd: dir, env: { WRANGLER: "wrangler" } });
    expect(await main(["setup", "session", "--apply"], applied)).toBe(0);
    expect(applied.runs).toEqual([
      {
        command: ["wrangler", "secret", "put", "SESSION_SECRET", "--config", join(dir, "wrangler.toml")],
        input: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      },
    ]);
    expect(applied.stdout + applied.stderr).not.toContain(applied.runs[0]?.input);

    const shown = memoryIo({ cwd: dir });
    expect(await main(["setup", "session"], shown)).toBe(0);
    expect(shown.stdout).toMatch(/\n {2}[A-Za-z0-9_-]{43}\n/);
    expect(shown.stdout).toContain("npx wrangler secret put SESSION_SECRET");
  });
});

describe("child environment", () => {
  it("keeps the developer's own OVH credentials away from the CLI under test", () => {
    expect(Object.keys(childEnv()).filter((k) => k.startsWith("OVH_"))).toEqual([]);
  });
});
