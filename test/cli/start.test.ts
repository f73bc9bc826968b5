// `npm start`: the demo shows the point of the project. Every command its banner prints works
// as printed (the prefix report creates the derived records, the next prefix moves both AAAA
// records and leaves A firewall, /status answers), and a port that is taken is one clear line,
// not a stack trace. Two tests run `npm start`'s process; its refusals run in this one.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { startDemo } from "../../scripts/demo";
import { childEnv, ROOT } from "./support";

const children: ChildProcess[] = [];
const servers: Server[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGTERM");
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

interface Run {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function start(env: Record<string, string>): Run {
  const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "scripts", "start.ts")], {
    cwd: ROOT,
    env: childEnv(env),
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let output = "";
  child.stdout?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function banner(run: Run): Promise<string> {
  for (let waited = 0; waited < 60_000; waited += 100) {
    if (run.output().includes("Ctrl-C stops both.")) return run.output();
    if (run.child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no banner:\n${run.output()}`);
}

/** `curl [-u user:pass] 'URL'` as the banner prints it, sent with fetch. */
async function curl(line: string): Promise<{ status: number; body: string }> {
  const m = /^curl (?:-u (\S+) )?'?(http:\/\/127\.0\.0\.1:\d+\/[^' ]*)'?$/.exec(line.trim());
  if (!m?.[2]) throw new Error(`not a curl line: ${line}`);
  const headers: Record<string, string> = m[1] ? { Authorization: `Basic ${btoa(m[1])}` } : {};
  const response = await fetch(m[2], { headers });
  return { status: response.status, body: await response.text() };
}

async function freePort(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("no port");
  return { server, port: address.port };
}

describe("npm start", () => {
  it("prints commands that work as printed: a prefix creates wg-end's and firewall's AAAA records, the next one moves both and A firewall stays", async () => {
    const run = start({ PORT: "0", SIM_PORT: "0", SIM_DNS_PORT: "0" });
    const text = await banner(run);
    const lines = text.split("\n").filter((l) => l.trim().startsWith("curl "));
    const find = (what: string, test: (line: string) => boolean) => {
      const line = lines.find(test);
      if (!line) throw new Error(`no curl line for ${what} in:\n${text}`);
      return line;
    };
    const prefix = find("the prefix", (l) => l.includes("ip6lanprefix=") && !l.includes("myip"));
    const v4 = find("the box's IPv4", (l) => l.includes("&myip="));
    const v6 = find("the box's IPv6", (l) => l.includes("&myipv6=") && l.includes("cd00::/64"));
    const move = find("the next prefix", (l) => l.includes("&myipv6=") && !l.includes("cd00::/64"));
    const status = find("/status", (l) => l.trim().endsWith("/status"));
    const zone = find("the zone", (l) => l.includes("/_sim/zones/"));
    const check = find("the scheduled check", (l) => l.includes("/cdn-cgi/handler/scheduled"));
    expect(prefix).toContain("ip6lanprefix=2001:db8:ab:cd00::/64");

    expect(await curl(prefix)).toEqual({ status: 200, body: "good 2001:db8:ab:cd00::/64\n" });
    const published = JSON.parse((await curl(zone)).body) as {
      live: { fieldType: string; subDomain: string; target: string }[];
    };
    const aaaa = (sub: string) =>
      published.live.filter((r) => r.fieldType === "AAAA" && r.subDomain === sub).map((r) => r.target);
    expect(aaaa("wg-end")).toEqual(["2001:db8:ab:cd10:211:32ff:fe12:3456"]);
    const dig = text.split("\n").find((l) => l.trim().startsWith("dig "));
    expect(dig, "the banner's dig command").toBeDefined();
    const asked = await promisify(execFile)("sh", ["-c", dig as string]);
    expect(asked.stdout.trim()).toBe("2001:db8:ab:cd10:211:32ff:fe12:3456");
    expect(aaaa("firewall")).toEqual(["2001:db8:ab:cd10:211:32ff:fe12:3456"]);
    expect(text).toContain("2001:db8:ab:cd10:211:32ff:fe12:3456");

    expect((await curl(v4)).body).toBe("good 203.0.113.45\n");
    // The box's own AAAA is new; wg-end's host already holds what this prefix gives.
    expect((await curl(v6)).body).toBe("good 2001:db8:ff:1::45\nnochg 2001:db8:ff:1::45\n");
    // The headline story: the prefix changes, both AAAA records follow, A firewall stays.
    expect(move).toContain("ip6lanprefix=2001:db8:ab:ef00::/64");
    expect((await curl(move)).body).toBe("good 2001:db8:ff:2::45\ngood 2001:db8:ff:2::45\n");
    const moved = JSON.parse((await curl(zone)).body) as typeof published;
    const now = (type: string, sub: string) =>
      moved.live.filter((r) => r.fieldType === type && r.subDomain === sub).map((r) => r.target);
    expect(now("AAAA", "wg-end")).toEqual(["2001:db8:ab:ef10:211:32ff:fe12:3456"]);
    expect(now("AAAA", "firewall")).toEqual(["2001:db8:ab:ef10:211:32ff:fe12:3456"]);
    expect(now("AAAA", "router")).toEqual(["2001:db8:ff:2::45"]);
    expect(now("A", "firewall")).toEqual(["203.0.113.45"]);
    expect(text).toContain("2001:db8:ab:ef10:211:32ff:fe12:3456");
    const shown = await curl(status);
    expect(shown.status).toBe(200);
    expect(shown.body).toContain("wg-end.example.test");
    // Any other command it prints answers too.
    for (const line of lines.filter((l) => ![prefix, v4, v6, move, status, zone].includes(l))) {
      expect((await curl(line)).status, line).toBeLessThan(400);
    }
    // The Worker's own log lines reach the terminal.
    for (let waited = 0; waited < 5000 && !run.output().includes("worker: "); waited += 100)
      await new Promise((resolve) => setTimeout(resolve, 100));
    expect(run.output()).toContain('worker: {"event":"update"');
    // The scheduled check, by hand.
    expect((await curl(check)).status).toBe(200);
    for (let waited = 0; waited < 5000 && !run.output().includes('worker: {"event":"check"'); waited += 100)
      await new Promise((resolve) => setTimeout(resolve, 100));
    expect(run.output()).toContain('worker: {"event":"check","zone":"example.test"');
  }, 90_000);

  it("run as a process, a port in use is that one line on the terminal, and exit status 1", async () => {
    const { port } = await freePort();
    const run = start({ PORT: "0", SIM_PORT: String(port), SIM_DNS_PORT: "0" });
    expect(await run.exited).toBe(1);
    expect(run.output().trim()).toBe(
      `npm start: port ${port} (the OVH simulator) is already in use; stop what holds it, or choose another: PORT=0 SIM_PORT=${port + 1} npm start`,
    );
  });
});

// What the demo says when it cannot start, run in this process (scripts/demo.ts): the process
// above shows that its line is all the terminal gets, with the exit status.
describe("the demo refuses to start", () => {
  const running: { stop(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const demo of running.splice(0)) await demo.stop();
  });
  async function demo(env: Record<string, string>): Promise<{ exitCode?: number; lines: string[] }> {
    const lines: string[] = [];
    const out = { log: (line: string) => lines.push(line), error: (line: string) => lines.push(line) };
    const result = await startDemo(env, out);
    if ("stop" in result) {
      running.push(result);
      return { lines };
    }
    return { exitCode: result.exitCode, lines };
  }

  it.each([
    ["SIM_PORT", "the OVH simulator"],
    ["PORT", "the Worker"],
    ["SIM_DNS_PORT", "the simulator's name servers"],
  ])(
    "a %s in use is one line naming it, keeps the other port the user set, and exit status 1",
    async (name, what) => {
      const { port } = await freePort();
      const ports = { PORT: "0", SIM_PORT: "0", [name]: String(port + 1) };
      expect(await demo({ PORT: "0", SIM_PORT: "0", SIM_DNS_PORT: "0", [name]: String(port) })).toEqual({
        exitCode: 1,
        lines: [
          `npm start: port ${port} (${what}) is already in use; stop what holds it, or choose another: PORT=${ports.PORT} SIM_PORT=${ports.SIM_PORT} npm start`,
        ],
      });
    },
  );

  it("a PORT that is no port number: one line, exit status 2", async () => {
    expect(await demo({ PORT: "eighty" })).toEqual({
      exitCode: 2,
      lines: ['npm start: PORT="eighty" is not a port number (0 to 65535; 0 picks a free one)'],
    });
  });
});
