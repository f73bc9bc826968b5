// The shell client's configuration handling, under dash and busybox ash. Every case here stops
// before any network access (or, for a valid file, at the address lookup on `lo`, which has no
// global IPv6 address), so these tests need neither root nor an endpoint.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clientConfSnippet, parseWorkerUrl } from "../../scripts/cli/snippets";
import { CLIENT, clientConfig, run, SHELLS, tempDir, writePrivate } from "./support";

let dir: { path: string; remove(): Promise<void> };
beforeAll(async () => {
  dir = await tempDir("ovh-dyndns-config");
});
afterAll(async () => {
  await dir?.remove();
});

const VALID = {
  ENDPOINT: "https://dyndns.example.workers.dev/nic/update",
  USERNAME: "home",
  PASSWORD: "'home-password'",
  INTERFACE: "lo",
  HOSTNAMES: "wg-end.example.tld",
};

/** No usable address on lo: proof that the configuration was accepted. */
const ACCEPTED = /no usable global IPv6 address on lo/;

let counter = 0;
async function configFile(text: string, mode = 0o600): Promise<string> {
  counter += 1;
  return writePrivate(join(dir.path, `client-${counter}.conf`), text, mode);
}

for (const shell of SHELLS) {
  describe.skipIf(shell.missing)(
    `under ${shell.name}${shell.missing ? ` (skipped: ${shell.missing})` : ""}`,
    () => {
      const client = (args: string[], env: Record<string, string> = {}) =>
        run(shell.argv[0] ?? "sh", [...shell.argv.slice(1), CLIENT, "--stderr", ...args], {
          env: { PATH: process.env.PATH, ...env },
        });

      it("accepts a valid file (and stops at the address lookup)", async () => {
        const conf = await configFile(
          `# comment\n\n  ${clientConfig({ ...VALID, STATE_DIR: join(dir.path, "state"), FORCE_AFTER: "0900" })}`,
        );
        const r = await client(["-c", conf]);
        expect(r.stderr).toMatch(ACCEPTED);
        expect(r.code).toBe(75);
      });

      it("takes the Worker's base URL as ENDPOINT too, as `npm run new-client` writes it", async () => {
        const url = parseWorkerUrl("https://ovh-dyndns.example.workers.dev");
        if (!url) throw new Error("parseWorkerUrl refused a plain https URL");
        const snippet = clientConfSnippet(url, "home", "Ab3-xyz_0123456789", ["wg-end.example.tld"], "lo");
        expect((await client(["-c", await configFile(`${snippet}\n`)])).stderr).toMatch(ACCEPTED);
        for (const base of [
          "https://dyndns.example.net",
          "https://dyndns.example.net/",
          "http://127.0.0.1:8787",
          "http://localhost:8787/nic/update",
          "http://[::1]:8787/update",
          "https://[2001:db8::1]/nic/update",
          "https://[2001:db8::1]:8443/nic/update",
        ]) {
          const r = await client(["-c", await configFile(clientConfig({ ...VALID, ENDPOINT: base }))]);
          expect(r.stderr).toMatch(ACCEPTED);
        }
      });

      it("takes the file from OVH_DYNDNS_CONFIG, and -c over it", async () => {
        const good = await configFile(clientConfig(VALID));
        const bad = await configFile("NOPE=1\n");
        expect((await client([], { OVH_DYNDNS_CONFIG: good })).stderr).toMatch(ACCEPTED);
        const both = await client(["-c", bad], { OVH_DYNDNS_CONFIG: good });
        expect(both.stderr).toMatch(/unknown key 'NOPE'/);
        expect(both.code).toBe(78);
      });

      it("accepts the example once its placeholders are filled in, and refuses it before", async () => {
        const example = await readFile(join(CLIENT, "..", "client.conf.example"), "utf8");
        const raw = await client(["-c", await configFile(example)]);
        expect(raw.code).toBe(78);
        expect(raw.stderr).toMatch(/still the placeholder/);
        const filled = example
          .replace("CHANGE-ME.workers.dev", "dyndns.example.workers.dev")
          .replace("USERNAME=CHANGE-ME", "USERNAME=home")
          .replace("PASSWORD='CHANGE-ME'", "PASSWORD='s3cret'")
          .replace("INTERFACE=eth0", "INTERFACE=lo");
        expect((await client(["-c", await configFile(filled)])).stderr).toMatch(ACCEPTED);
      });

      const refused: [string, string, RegExp][] = [
        ["an unknown key", "ENDPONT=https://x.example/nic/update\n", /line 1: unknown key 'ENDPONT'/],
        ["a line that is not KEY=value", "just words\n", /line 1: expected KEY=value/],
        ["export", "export USERNAME=home\n", /without 'export'/],
        ["a key set twice", "USERNAME=a\nUSERNAME=b\n", /line 2: USERNAME is set twice/],
        ["an expansion", 'PASSWORD="$(cat /etc/shadow)"\n', /nothing is expanded/],
        ["an unquoted $", "PASSWORD=pa$word\n", /nothing is expanded/],
        ["an unbalanced quote", "PASSWORD='abc\n", /unbalanced quote/],
        ["KEY= pasted into the value", "USERNAME=USERNAME=home\n", /starts with 'USERNAME=' again/],
        ["a <placeholder>", "USERNAME=<user>\n", /placeholder/],
        ["an inline comment", "IPV4=no # not needed\n", /quote a value that holds spaces/],
        ["spaces around =", "USERNAME = home\n", /unknown key 'USERNAME '/],
      ];
      for (const [name, text, message] of refused) {
        it(`refuses ${name}`, async () => {
          const r = await client(["-c", await configFile(text)]);
          expect(r.stderr).toMatch(message);
          expect(r.code).toBe(78);
        });
      }

      const invalid: [string, Record<string, string>, RegExp][] = [
        [
          "plain http to another machine",
          { ENDPOINT: "http://dyndns.example.net/nic/update" },
          /must use https/,
        ],
        [
          "plain http to a name that starts like 127.",
          { ENDPOINT: "http://127.0.0.1.example.net/nic/update" },
          /must use https/,
        ],
        ["a bad port", { ENDPOINT: "https://dyndns.example.net:x/nic/update" }, /bad port/],
        ["an endpoint with a query", { ENDPOINT: "https://x.example/nic/update?a=b" }, /no query/],
        [
          "credentials in the endpoint",
          { ENDPOINT: "https://home:pw@x.example/nic/update" },
          /must not carry credentials/,
        ],
        ["a username with a colon", { USERNAME: "ho:me" }, /USERNAME may only hold/],
        ["an interface name that is an option", { INTERFACE: "-all" }, /is not an interface name/],
        ["a hostname without a dot", { HOSTNAMES: "localhost" }, /not a fully qualified name/],
        ["a hostname with odd characters", { HOSTNAMES: "wg_end.example.tld" }, /not a host name/],
        [
          "more than 20 hostnames",
          { HOSTNAMES: Array.from({ length: 21 }, (_, i) => `h${i}.example.tld`).join(",") },
          /lists 21 names; one report takes at most 20/,
        ],
        ["a bad IPV4", { IPV4: "198.51.100.256" }, /IPV4 must be no, auto or an IPv4 address/],
        ["a relative STATE_DIR", { STATE_DIR: "state" }, /STATE_DIR must be an absolute path/],
        ["a FORCE_AFTER that is not a number", { FORCE_AFTER: "1d" }, /FORCE_AFTER must be a number/],
        ["a FORCE_AFTER with a sign", { FORCE_AFTER: "-1" }, /FORCE_AFTER must be a number/],
        ["a POLL_EVERY of 0", { POLL_EVERY: "0" }, /POLL_EVERY must be a number of seconds from 1 to 3600/],
        [
          "a POLL_EVERY that is not a number",
          { POLL_EVERY: "10s" },
          /POLL_EVERY must be a number of seconds/,
        ],
        [
          "a RETRY_AFTER over 300",
          { RETRY_AFTER: "301" },
          /RETRY_AFTER must be a number of seconds from 1 to 300/,
        ],
        ["a RETRY_AFTER with a sign", { RETRY_AFTER: "-1" }, /RETRY_AFTER must be a number of seconds/],
      ];
      for (const [name, change, message] of invalid) {
        it(`refuses ${name}`, async () => {
          const r = await client(["-c", await configFile(clientConfig({ ...VALID, ...change }))]);
          expect(r.stderr).toMatch(message);
          expect(r.code).toBe(78);
        });
      }

      it("needs exactly one of PASSWORD and PASSWORD_FILE", async () => {
        const { PASSWORD: _, ...noPassword } = VALID;
        const none = await client(["-c", await configFile(clientConfig(noPassword))]);
        expect(none.stderr).toMatch(/PASSWORD or PASSWORD_FILE is missing/);
        const file = await writePrivate(join(dir.path, "password"), "from-file\n");
        const both = await client(["-c", await configFile(clientConfig({ ...VALID, PASSWORD_FILE: file }))]);
        expect(both.stderr).toMatch(/not both/);
        const fromFile = await client([
          "-c",
          await configFile(clientConfig({ ...noPassword, PASSWORD_FILE: file })),
        ]);
        expect(fromFile.stderr).toMatch(ACCEPTED);
      });

      for (const mode of [0o640, 0o604, 0o620, 0o602]) {
        it(`refuses a configuration file with mode ${mode.toString(8)}`, async () => {
          const conf = await configFile(clientConfig(VALID), mode);
          const r = await client(["-c", conf]);
          expect(r.stderr).toMatch(/readable or writable by group or others .*chmod 600/);
          expect(r.code).toBe(78);
        });
      }

      it("refuses a password file others can read, and an empty one", async () => {
        const { PASSWORD: _, ...noPassword } = VALID;
        const open = join(dir.path, "open-password");
        await writePrivate(open, "pw\n", 0o644);
        const r = await client([
          "-c",
          await configFile(clientConfig({ ...noPassword, PASSWORD_FILE: open })),
        ]);
        expect(r.stderr).toMatch(/the password file .* readable or writable by group or others/);
        expect(r.code).toBe(78);
        const empty = await writePrivate(join(dir.path, "empty-password"), "");
        const e = await client([
          "-c",
          await configFile(clientConfig({ ...noPassword, PASSWORD_FILE: empty })),
        ]);
        expect(e.stderr).toMatch(/is empty/);
        expect(e.code).toBe(78);
      });

      it("says so when the file is missing", async () => {
        const r = await client(["-c", join(dir.path, "nope.conf")]);
        expect(r.stderr).toMatch(/does not exist/);
        expect(r.code).toBe(78);
      });

      it("accepts Windows line endings and a last line without a newline", async () => {
        const text = clientConfig(VALID).replace(/\n/g, "\r\n").trimEnd();
        expect((await client(["-c", await configFile(text)])).stderr).toMatch(ACCEPTED);
      });

      it("answers --help, --version and unknown options", async () => {
        const help = await client(["--help"]);
        expect(help.code).toBe(0);
        expect(help.stdout).toMatch(/^Usage: ovh-dyndns-client/);
        expect((await client(["--version"])).stdout).toMatch(/^ovh-dyndns-client \d+\.\d+\.\d+\n$/);
        const bad = await client(["--frobnicate"]);
        expect(bad.code).toBe(64);
        expect(bad.stderr).toMatch(/unknown argument: --frobnicate/);
      });
    },
  );
}
