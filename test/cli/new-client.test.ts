// `new-client`: the password and settings it prints work against the Worker itself (workerd and
// the OVH simulator), and its checks name the flag at fault.
import { spawnSync } from "node:child_process";
import { copyFile, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { sha256Hex } from "../../scripts/cli/snippets";
import { type Endpoint, startEndpoint } from "../support/endpoint";
import { ROOT, runCli, runInProcess, tempProject, writeWranglerToml } from "./support";

let dir: string;
let cleanup: () => Promise<void>;

const HOSTS = {
  "home.example.tld": {
    zone: "example.tld",
    allow_private: true, // the test reports documentation addresses
    records: [
      { subdomain: "home", type: "A" },
      { subdomain: "home", type: "AAAA" },
    ],
  },
  "nas.example.tld": { zone: "example.tld", records: [{ subdomain: "nas", type: "AAAA" }] },
};

beforeEach(async () => {
  ({ dir, cleanup } = await tempProject());
});
afterEach(async () => {
  await cleanup();
});

// In-process (main() with memory I/O); the first end-to-end test runs both commands as processes.
const newClient = (args: string[]) => runInProcess(["new-client", ...args], { cwd: dir });
const check = () => runInProcess(["check", "--offline"], { cwd: dir });

/** The value printed after `label` at the start of a line. */
function field(out: string, label: string): string {
  const m = new RegExp(`^\\s*${label}\\s+(.+)$`, "m").exec(out);
  if (!m?.[1]) throw new Error(`no "${label}" in:\n${out}`);
  return m[1].trim();
}

describe("new-client, end to end", () => {
  let ep: Endpoint | undefined;
  afterAll(async () => {
    await ep?.close();
  });

  it("--write puts the client into wrangler.toml, check passes, and the FRITZ!Box URLs update the records", async () => {
    await writeWranglerToml(dir, { HOSTS, CLIENTS: {} });
    const result = await runCli(["new-client", "fritzbox", "--host", "home.example.tld", "--write"], {
      cwd: dir,
    });
    expect(result.code).toBe(0);
    const password = field(result.stdout, "Password \\(shown once; only its SHA-256 is kept\\):\\n");
    expect(password).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(result.stderr).toContain(
      "warning: no --url given: replace https://ovh-dyndns.CHANGE-ME.workers.dev",
    );

    const toml = await readFile(join(dir, "wrangler.toml"), "utf8");
    expect(toml).toContain(
      `[vars.CLIENTS.fritzbox]\npassword_sha256 = "${sha256Hex(password)}"\nhosts = ["home.example.tld"]\n`,
    );
    const check = await runCli(["check", "--offline"], { cwd: dir });
    expect(check.stdout).toContain("  fritzbox → home.example.tld\n");
    expect(check.code).toBe(0);

    // What the box does with the Update-URL: fill in its placeholders, unescaped, one request per URL.
    ep = await startEndpoint({
      vars: {
        HOSTS,
        CLIENTS: { fritzbox: { password_sha256: sha256Hex(password), hosts: ["home.example.tld"] } },
      },
    });
    ep.sim.addZone("example.tld");
    const [v4, v6] = field(result.stdout, "Update-URL:").split(" ") as [string, string];
    const fill = (url: string) =>
      url
        .replace("https://ovh-dyndns.CHANGE-ME.workers.dev", ep?.url ?? "")
        .replace("<domain>", field(result.stdout, "Domain name:"))
        .replace("<username>", field(result.stdout, "Username:"))
        .replace("<pass>", field(result.stdout, "Password:"))
        .replace("<ipaddr>", "198.51.100.20")
        .replace("<ip6addr>", "2001:db8:1:2::20")
        .replace("<ip6lanprefix>", "2001:db8:1:2::/64");
    const headers = { "User-Agent": "Fritz!Box DDNS/1.0.1" };
    const r4 = await fetch(fill(v4), { headers });
    expect(await r4.text()).toBe("good 198.51.100.20\n");
    const r6 = await fetch(fill(v6), { headers });
    expect(await r6.text()).toMatch(/^good 2001:db8:1:2::20/);
    const live = ep.sim.liveRecords("example.tld").map((r) => `${r.fieldType} ${r.subDomain} ${r.target}`);
    expect(live.sort()).toEqual(["A home 198.51.100.20", "AAAA home 2001:db8:1:2::20"]);
    expect(ep.unexpected).toEqual([]);
  });

  it("fills the placeholder client of the shipped wrangler.toml so that only warnings remain", async () => {
    await copyFile(join(ROOT, "wrangler.toml"), join(dir, "wrangler.toml"));
    expect((await check()).code).toBe(1);
    const result = await newClient([
      "fritzbox",
      "--host",
      "router.example.tld",
      "--host",
      "wg-end.example.tld",
      "--write",
    ]);
    expect(result.code).toBe(0);
    const after = await check();
    expect(after.io.stdout).not.toContain("error:");
    expect(after.code).toBe(0);
    // Only the client's lines changed.
    const shipped = (await readFile(join(ROOT, "wrangler.toml"), "utf8")).split("\n");
    const edited = (await readFile(join(dir, "wrangler.toml"), "utf8")).split("\n");
    const changed = edited.filter((line) => !shipped.includes(line));
    expect(changed).toEqual([expect.stringMatching(/^password_sha256 = "[0-9a-f]{64}"$/)]);
  });

  it("a client of another name takes the placeholder client's place: no client is left to make the config invalid", async () => {
    await copyFile(join(ROOT, "wrangler.toml"), join(dir, "wrangler.toml"));
    const result = await newClient([
      "box",
      "--host",
      "router.example.tld",
      "--host",
      "wg-end.example.tld",
      "--write",
    ]);
    expect(result.code).toBe(0);
    expect(result.io.stdout).toContain(
      'wrangler.toml: written to wrangler.toml (in place of the placeholder client "fritzbox"):',
    );
    const after = await check();
    expect(after.io.stdout).not.toContain("error:");
    expect(after.io.stdout).not.toContain("fritzbox");
    expect(after.code).toBe(0);
    const shipped = (await readFile(join(ROOT, "wrangler.toml"), "utf8")).split("\n");
    const edited = (await readFile(join(dir, "wrangler.toml"), "utf8")).split("\n");
    expect(edited.filter((line) => !shipped.includes(line))).toEqual([
      "[vars.CLIENTS.box]",
      expect.stringMatching(/^password_sha256 = "[0-9a-f]{64}"$/),
    ]);
    expect(edited).not.toContain("[vars.CLIENTS.fritzbox]");
  });

  it("without --write, says that the placeholder client must go", async () => {
    await copyFile(join(ROOT, "wrangler.toml"), join(dir, "wrangler.toml"));
    const { code, io } = await newClient(["box", "--host", "router.example.tld"]);
    expect(code).toBe(0);
    expect(io.stderr).toContain(
      'next: paste the [vars.CLIENTS.box] lines into wrangler.toml in place of the placeholder client "fritzbox" (or use --write)',
    );
  });

  it("--help exits 0", async () => {
    const result = await runCli(["new-client", "--help"], { cwd: dir });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^usage: npm run new-client -- NAME --host HOST/);
  });
});

describe("new-client checks", () => {
  beforeEach(async () => {
    await writeWranglerToml(dir, { HOSTS, CLIENTS: {} });
  });

  it("refuses hosts that are not in HOSTS, listing the known ones", async () => {
    const { code, io } = await newClient(["box", "--host", "home.example.tld", "--host", "typo.example.tld"]);
    expect(code).toBe(1);
    expect(io.stderr).toContain(
      'error: --host: "typo.example.tld" is not in [vars.HOSTS] of wrangler.toml (known: home.example.tld, nas.example.tld)',
    );
    expect(io.stdout).toBe(""); // no password printed for a client that cannot work
  });

  it.each([
    [["bad name!", "--host", "home.example.tld"], 'NAME "bad name!": must be 1 to 64 characters'],
    [["box"], "--host: give at least one host"],
    [["box", "--host", "not a host"], '--host "not a host": not a domain name'],
    [
      ["box", "--host", "home.example.tld", "--url", "ftp://x"],
      '--url "ftp://x": must be the Worker\'s http(s) URL',
    ],
    [[], "new-client: give the client's NAME"],
  ])("usage errors exit 2: %j", async (args, message) => {
    const { code, io } = await newClient(args);
    expect(code).toBe(2);
    expect(io.stderr).toContain(message);
  });

  it("without wrangler.toml, warns that the hosts were not checked, and --write fails", async () => {
    const other = await tempProject();
    try {
      const io1 = await runInProcess(["new-client", "box", "--host", "h.example.tld"], { cwd: other.dir });
      expect(io1.code).toBe(0);
      expect(io1.io.stderr).toContain("warning: wrangler.toml not found; the hosts were not checked");
      const io2 = await runInProcess(["new-client", "box", "--host", "h.example.tld", "--write"], {
        cwd: other.dir,
      });
      expect(io2.code).toBe(1);
      expect(io2.io.stderr).toContain("--write: wrangler.toml does not exist");
    } finally {
      await other.cleanup();
    }
  });

  it("--url sets the Worker URL in every snippet; --client-conf writes client.conf mode 0600, never over a file", async () => {
    const { code, io } = await newClient([
      "wg-end",
      "--host",
      "nas.example.tld",
      "--host",
      "home.example.tld",
      "--url",
      "https://dyn.example.workers.dev/",
      "--client-conf",
      "client.conf",
      "--interface",
      "wg0",
    ]);
    expect(code).toBe(0);
    expect(io.stderr).not.toContain("warning");
    expect(field(io.stdout, "Update-URL:")).toMatch(
      // IPv4 only to home (nas has no A record); IPv6 to both.
      /^https:\/\/dyn\.example\.workers\.dev\/nic\/update\?hostname=home\.example\.tld&myip=<ipaddr>&.* https:\/\/dyn\.example\.workers\.dev\/nic\/update\?hostname=nas\.example\.tld,home\.example\.tld&myipv6=/,
    );
    expect(io.stdout).toContain("server=dyn.example.workers.dev\n");
    const password = field(io.stdout, "Password:");
    const conf = await readFile(join(dir, "client.conf"), "utf8");
    expect(conf).toContain(
      `ENDPOINT=https://dyn.example.workers.dev/nic/update\nUSERNAME=wg-end\nPASSWORD=${password}\n`,
    );
    expect((await stat(join(dir, "client.conf"))).mode & 0o777).toBe(0o600);

    const again = await newClient(["wg-end", "--host", "nas.example.tld", "--client-conf", "client.conf"]);
    expect(again.code).toBe(1);
    expect(again.io.stderr).toContain("--client-conf client.conf: exists already; not overwritten");
    expect(await readFile(join(dir, "client.conf"), "utf8")).toBe(conf);
  });

  it("client.conf is accepted by the shell client; with the placeholder URL it is refused", async () => {
    const shellClient = join(ROOT, "client", "ovh-dyndns-client");
    const configProblem = 78; // the client's exit status for a configuration it refuses
    const dryRun = async (args: string[], file: string) => {
      expect((await newClient([...args, "--client-conf", file])).code).toBe(0);
      const child = spawnSync("sh", [shellClient, "-c", join(dir, file), "--dry-run", "--stderr"], {
        encoding: "utf8",
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
        timeout: 10_000,
      });
      return { code: child.status, stderr: child.stderr };
    };
    const real = await dryRun(
      ["wg", "--host", "nas.example.tld", "--url", "https://dyn.example.workers.dev"],
      "a.conf",
    );
    expect(real.stderr).not.toContain("a.conf line");
    expect(real.code).not.toBe(configProblem); // 75 on a machine without a global IPv6 address
    const placeholder = await dryRun(["wg", "--host", "nas.example.tld"], "b.conf");
    expect(placeholder.code).toBe(configProblem);
    expect(placeholder.stderr).toContain("ENDPOINT: still the placeholder");
  });

  it("--write refuses a client it cannot edit safely and leaves the file alone", async () => {
    const path = await writeWranglerToml(
      dir,
      { HOSTS },
      `[vars.CLIENTS]\nbox = { password_sha256 = "${"ab".repeat(32)}", hosts = ["nas.example.tld"] }\n`,
    );
    const text = await readFile(path, "utf8");
    const { code, io } = await newClient(["box", "--host", "nas.example.tld", "--write"]);
    expect(code).toBe(1);
    expect(io.stderr).toContain('client "box" is defined in a form --write cannot edit');
    expect(await readFile(path, "utf8")).toBe(text);
  });
});
