// The shell client for real: under dash and busybox ash, inside a network namespace whose
// interfaces carry the kinds of IPv6 addresses a host really has (stable, temporary, deprecated,
// tentative, DAD-failed, ULA, link-local), against the Worker in workerd and the OVH simulator.
//
// How the client reaches the endpoint: the client runs wholly inside the namespace (`ip netns
// exec NS dash ovh-dyndns-client`), unmodified, with ENDPOINT=http://127.0.0.1:PORT of the
// namespace's own loopback. There a small forwarder (netns-bridge.mjs) passes each connection to
// a Unix socket; this process serves that socket from the root namespace and forwards to the
// endpoint on the root namespace's 127.0.0.1. (Unix sockets are files, shared across network
// namespaces.) So the script needs no test hook, and every connection it makes is counted.
//
// Which address flags are real: the kernel makes the temporary addresses itself (use_tempaddr=2
// and an address added with `mngtmpaddr`), DAD really fails (the peer end of the veth pair holds
// the same address) and really stays tentative (DAD slowed to 50 probes 10 s apart); deprecated
// is `preferred_lft 0`. Nothing is faked.
import { spawn, spawnSync } from "node:child_process";
import { mkdir, readFile, symlink, utimes, writeFile } from "node:fs/promises";
import { connect, createServer, type Server } from "node:net";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Endpoint, ROOT, sha256Hex, startEndpoint } from "../support/endpoint";
import { HOME_PASSWORD, liveTargets, OTHER_ZONE, testVars, ZONE } from "../support/fixtures";
import { IP, ip, ipSync, PATH, sysctls } from "./netns";
import {
  basic,
  CLIENT,
  clientConfig,
  missing,
  portOf,
  run,
  SHELLS,
  tempDir,
  which,
  writePrivate,
} from "./support";

const NS = `ovh-dyndns-test-${process.pid}`;

/** The address the client must pick on c0: permanent, and the lowest of the permanent ones. */
const STABLE = "2001:db8:4b:10::20";
/** On c2, where every address is dynamic: the stable SLAAC one (mngtmpaddr). */
const STABLE_SLAAC = "2001:db8:4c:10::9";
/** A password with everything that could break quoting: curl config, shell, URL. */
const TRICKY = `q"uo\\te $x 'y' %&+#\\`;

/** Build the interfaces. c0: everything; c2: dynamic addresses only; c4: nothing usable. */
function buildNamespace(): void {
  const n = ["-n", NS];
  ipSync(...n, "link", "set", "lo", "up");
  for (const [a, b] of [
    ["c0", "c1"],
    ["c2", "c3"],
    ["c4", "c5"],
  ] as const) {
    ipSync(...n, "link", "add", a, "type", "veth", "peer", "name", b);
  }
  const settings: Record<string, string> = {};
  for (const dev of ["c0", "c1", "c2", "c3", "c4", "c5"]) settings[`net/ipv6/conf/${dev}/disable_ipv6`] = "0";
  // Temporary addresses from every mngtmpaddr address; slow DAD where addresses must stay
  // tentative, its first probe sent at once (not after up to 1 s), so that ::4's fails at once.
  for (const dev of ["c0", "c2"]) settings[`net/ipv6/conf/${dev}/use_tempaddr`] = "2";
  for (const dev of ["c0", "c4"]) {
    settings[`net/ipv6/conf/${dev}/dad_transmits`] = "50";
    settings[`net/ipv6/conf/${dev}/router_solicitation_delay`] = "0";
    settings[`net/ipv6/neigh/${dev}/retrans_time_ms`] = "10000";
  }
  sysctls(NS, settings);
  for (const dev of ["c0", "c1", "c2", "c3", "c4", "c5"]) ipSync(...n, "link", "set", dev, "up");

  const add = (dev: string, ...spec: string[]) => ipSync(...n, "addr", "add", ...spec, "dev", dev);
  const dynamic = ["valid_lft", "3600", "preferred_lft", "3600"];
  // The peer holds ::4 first, so c0's duplicate address detection for ::4 fails.
  add("c1", "2001:db8:4b:10::4/64", "nodad");
  add("c0", "2001:db8:4b:10::30/64", "nodad");
  add("c0", `${STABLE}/64`, "nodad");
  add("c0", "2001:db8:4b:10::5/64", "nodad", ...dynamic, "mngtmpaddr");
  add("c0", "2001:db8:4b:10::2/64", "nodad", "valid_lft", "3600", "preferred_lft", "0");
  add("c0", "2001:db8:4b:10::3/64");
  add("c0", "2001:db8:4b:10::4/64");
  add("c0", "fd00:4b::1/64", "nodad");
  add("c0", "192.0.2.10/24");
  add("c0", "192.0.2.11/24");
  add("c0", "198.51.100.99/24");

  add("c2", "2001:db8:4c:10::1/64", "nodad", ...dynamic);
  add("c2", `${STABLE_SLAAC}/64`, "nodad", ...dynamic, "mngtmpaddr");

  add("c4", "fd00:4c::1/64", "nodad");
  add("c4", "2001:db8:4d:10::2/64", "nodad", "valid_lft", "3600", "preferred_lft", "0");
  add("c4", "2001:db8:4d:10::3/64");

  // Wait for the kernel: temporary addresses on c0 and c2, DAD failed for ::4 on c0. (If they
  // never come, the first test says which kind is missing.)
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let i = 0; i < 100; i++) {
    const c0 = ipSync(...n, "-6", "-o", "addr", "show", "dev", "c0");
    const c2 = ipSync(...n, "-6", "-o", "addr", "show", "dev", "c2");
    if (/temporary/.test(c0) && /dadfailed/.test(c0) && /temporary/.test(c2)) return;
    Atomics.wait(pause, 0, 0, 100);
  }
}

/**
 * Create and build the namespace now, before any test, so that without the privileges (or
 * without IPv6 or veth in the kernel) the suite is skipped with the reason instead of failing.
 */
function createNamespace(): string | undefined {
  const absent = missing("ip");
  if (absent) return absent;
  try {
    ipSync("netns", "add", NS);
  } catch (e) {
    return `cannot create a network namespace (${(e as Error).message}); these tests need root (CAP_SYS_ADMIN and CAP_NET_ADMIN)`;
  }
  try {
    buildNamespace();
  } catch (e) {
    spawnSync(IP, ["netns", "del", NS]);
    return `cannot build the test interfaces (${(e as Error).message}); these tests need veth and IPv6 in the kernel`;
  }
  return undefined;
}
const noNamespace = createNamespace();
if (noNamespace) console.warn(`test/client/client.test.ts: skipping the namespace tests: ${noNamespace}`);

/** Address lines of a device: "ADDR flags…". */
async function addressLines(dev: string): Promise<string[]> {
  const out = await ip("-n", NS, "-6", "-o", "addr", "show", "dev", dev);
  return out
    .split("\n")
    .filter((l) => l.includes("inet6"))
    .map((l) => l.replace(/^\d+:\s+\S+\s+inet6\s+/, "").replace(/\\.*$/, ""));
}

let ep: Endpoint;
let tmp: { path: string; remove(): Promise<void> };
let rootServer: Server | undefined;
let bridge: ReturnType<typeof spawn> | undefined;
let bridgePort = 0;
/** Connections the client opened to the endpoint. */
let connections = 0;
let spyCurl = "";

beforeAll(async () => {
  if (noNamespace) return;
  tmp = await tempDir("ovh-dyndns-client");

  const base = await testVars();
  ep = await startEndpoint({
    vars: {
      ...base,
      HOSTS: {
        ...(base.HOSTS as Record<string, unknown>),
        "tricky.example.tld": {
          zone: ZONE,
          allow_private: true,
          records: [{ subdomain: "tricky", type: "AAAA" }],
        },
      },
      CLIENTS: {
        ...(base.CLIENTS as Record<string, unknown>),
        tricky: { password_sha256: await sha256Hex(TRICKY), hosts: ["tricky.example.tld"] },
      },
      // These tests log in wrongly and move addresses on purpose; the limits are tested elsewhere.
      SETTINGS: { auth_fail_limit: 10_000, change_limit: 10_000 },
    },
  });

  for (const zone of [ZONE, OTHER_ZONE]) ep.sim.addZone(zone);

  // Root side: the Unix socket, forwarded to the endpoint.
  const socketPath = join(tmp.path, "endpoint.sock");
  const endpointPort = portOf(ep.url);
  rootServer = createServer((inbound) => {
    connections += 1;
    const outbound = connect(endpointPort, "127.0.0.1");
    inbound.pipe(outbound);
    outbound.pipe(inbound);
    inbound.on("error", () => outbound.destroy());
    outbound.on("error", () => inbound.destroy());
  });
  await new Promise<void>((resolve) => rootServer?.listen(socketPath, resolve));

  // Namespace side: 127.0.0.1:bridgePort → the Unix socket.
  bridge = spawn(
    IP,
    ["netns", "exec", NS, process.execPath, join(ROOT, "test", "client", "netns-bridge.mjs"), socketPath],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const stdout = bridge.stdout;
  if (!stdout) throw new Error("no stdout from the bridge");
  const first = await new Promise<string>((resolve, reject) => {
    createInterface({ input: stdout }).once("line", resolve);
    bridge?.once("exit", (code) => reject(new Error(`the namespace bridge exited (${code})`)));
  });
  bridgePort = Number(first);

  // A curl that records its arguments and its config (stdin), then runs the real one.
  const realCurl = which("curl");
  const spyDir = join(tmp.path, "spy");
  await mkdir(spyDir);
  spyCurl = join(spyDir, "curl");
  await writeFile(
    spyCurl,
    `#!/bin/sh\nprintf '%s\\n' "$@" >"$SPY_OUT.argv"\ncat >"$SPY_OUT.stdin"\nexec ${realCurl} "$@" <"$SPY_OUT.stdin"\n`,
    { mode: 0o755 },
  );
});

afterAll(async () => {
  bridge?.kill("SIGTERM");
  await new Promise<void>((resolve) => (rootServer ? rootServer.close(() => resolve()) : resolve()));
  await ep?.close();
  if (!noNamespace) spawnSync(IP, ["netns", "del", NS]);
  await tmp?.remove();
});

// Records are never deleted behind the Worker's back (it remembers what it wrote); a test that
// must see a write first moves the record elsewhere through the Worker itself (seed()).
beforeEach(() => {
  if (noNamespace) return;
  ep.sim.clearFaults();
  ep.sim.resetCalls();
});

/** Point the host's records at other addresses, through the Worker. */
async function seed(hostname: string, myip: string, user = "home", password = HOME_PASSWORD): Promise<void> {
  const reply = await ep.update({ hostname, myip }, { user, password });
  expect(reply.body).toMatch(/^(good|nochg) /);
}
const ELSEWHERE = "2001:db8:ffff::1";

afterEach(() => {
  if (ep) expect(ep.unexpected).toEqual([]);
});

const live = (type: string, sub: string) => liveTargets(ep.sim, type, sub);

let configs = 0;
/** A configuration with its own state directory; `values` override the defaults (undefined: left out). */
async function config(
  values: Record<string, string | undefined> = {},
): Promise<{ file: string; state: string }> {
  configs += 1;
  const state = join(tmp.path, `state-${configs}`);
  const file = join(tmp.path, `client-${configs}.conf`);
  const all: Record<string, string | undefined> = {
    ENDPOINT: `http://127.0.0.1:${bridgePort}/nic/update`,
    USERNAME: "home",
    PASSWORD: `'${HOME_PASSWORD}'`,
    INTERFACE: "c0",
    HOSTNAMES: "service.example.tld",
    STATE_DIR: state,
    ...values,
  };
  const present = Object.entries(all).filter((e): e is [string, string] => e[1] !== undefined);
  await writePrivate(file, clientConfig(Object.fromEntries(present)));
  return { file, state };
}

describe.skipIf(noNamespace)(
  `in a network namespace${noNamespace ? ` (skipped: ${noNamespace})` : ""}`,
  () => {
    it("the namespace holds every kind of address the tests rely on, made by the kernel", async () => {
      const c0 = await addressLines("c0");
      const has = (re: RegExp) =>
        expect(
          c0.some((l) => re.test(l)),
          `${re} in\n${c0.join("\n")}`,
        ).toBe(true);
      has(/^2001:db8:4b:10:(?!:)\S+\/64 .*temporary/);
      has(/^2001:db8:4b:10::2\/64 .*deprecated/);
      has(/^2001:db8:4b:10::3\/64 .*tentative/);
      has(/^2001:db8:4b:10::4\/64 .*dadfailed/);
      has(/^2001:db8:4b:10::5\/64 .*dynamic mngtmpaddr/);
      has(/^fd00:4b::1\/64 .*scope global/);
      has(/^fe80::\S+ scope link/);
      expect((await addressLines("c2")).some((l) => /temporary/.test(l))).toBe(true);
    });

    for (const shell of SHELLS) {
      describe.skipIf(shell.missing)(
        `under ${shell.name}${shell.missing ? ` (skipped: ${shell.missing})` : ""}`,
        () => {
          const client = (file: string, args: string[] = [], env: Record<string, string> = {}) =>
            run(IP, ["netns", "exec", NS, ...shell.argv, CLIENT, "-c", file, "--stderr", ...args], {
              env: { PATH, ...env },
            });

          it("reports the stable global address, skipping temporary, deprecated, tentative, DAD-failed and ULA ones", async () => {
            await seed("service.example.tld", ELSEWHERE);
            const { file } = await config();
            const before = connections;
            const r = await client(file);
            expect(r.stderr).toContain(`reported ${STABLE} for service.example.tld: good ${STABLE}`);
            expect(r.code).toBe(0);
            expect(connections - before).toBe(1);
            expect(live("AAAA", "service")).toEqual([STABLE]);
            expect(live("AAAA", "service6")).toEqual([STABLE]);
            expect(live("A", "service")).toEqual([]);
          });

          it("IPV4=auto adds the lowest primary IPv4 of the interface; several hosts go in one request", async () => {
            await seed("service.example.tld,nas.example.tld", `198.51.100.200,${ELSEWHERE}`);
            const { file } = await config({
              HOSTNAMES: "'service.example.tld, nas.example.tld'",
              IPV4: "auto",
            });
            const before = connections;
            const r = await client(file);
            expect(r.code).toBe(0);
            expect(connections - before).toBe(1);
            expect(live("A", "nas")).toEqual(["192.0.2.10"]);
            // nas has a host_id: the /64 of the reported address with its own interface bits.
            expect(live("AAAA", "nas")).toEqual(["2001:db8:4b:10:211:32ff:fe12:3456"]);
            expect(live("AAAA", "service")).toEqual([STABLE]);
          });

          it("sends nothing while the addresses are unchanged; a change, --force and FORCE_AFTER send", async () => {
            const first = await config({ IPV4: "198.51.100.1" });
            let before = connections;
            expect((await client(first.file)).code).toBe(0);
            expect(connections - before).toBe(1);

            ep.sim.resetCalls();
            before = connections;
            const again = await client(first.file, ["--verbose"]);
            expect(again.code).toBe(0);
            expect(again.stderr).toMatch(/unchanged since .*nothing to send/);
            expect(connections - before).toBe(0);
            expect(ep.sim.calls()).toEqual([]);

            before = connections;
            const forced = await client(first.file, ["--force"]);
            expect(forced.code).toBe(0);
            expect(forced.stderr).toContain("nochg");
            expect(connections - before).toBe(1);

            // Same state directory, another IPv4: a change is sent.
            const changed = await writePrivate(
              join(tmp.path, `changed-${shell.name.replace(/\W/g, "")}.conf`),
              (await readFile(first.file, "utf8")).replace("IPV4=198.51.100.1", "IPV4=198.51.100.2"),
            );
            before = connections;
            expect((await client(changed)).code).toBe(0);
            expect(connections - before).toBe(1);
            expect(live("A", "service")).toEqual([]);

            const always = await config({ FORCE_AFTER: "0" });
            before = connections;
            await client(always.file);
            await client(always.file);
            expect(connections - before).toBe(2);
          });

          it("--verbose explains every step and never shows the password; curl gets it on stdin, quoted", async () => {
            const passwordFile = await writePrivate(
              join(tmp.path, `tricky-${shell.name.replace(/\W/g, "")}`),
              `${TRICKY}\n`,
            );
            const { file } = await config({
              USERNAME: "tricky",
              PASSWORD: undefined,
              PASSWORD_FILE: passwordFile,
              HOSTNAMES: "tricky.example.tld",
            });
            await seed("tricky.example.tld", ELSEWHERE, "tricky", TRICKY);
            const spyOut = join(tmp.path, `spy-${shell.name.replace(/\W/g, "")}`);
            const r = await client(file, ["--verbose"], {
              PATH: `${join(spyCurl, "..")}:${PATH}`,
              SPY_OUT: spyOut,
            });
            expect(r.stderr).toContain(`reported ${STABLE} for tricky.example.tld: good ${STABLE}`);
            expect(r.code).toBe(0);
            expect(live("AAAA", "tricky")).toEqual([STABLE]);
            expect(r.stderr).toMatch(/skipping 2001:db8:4b:10::4: duplicate address detection failed/);
            expect(r.stderr).toMatch(/candidate 2001:db8:4b:10::30: permanent/);
            expect(r.stderr).toMatch(
              /sending GET http:\/\/127\.0\.0\.1:\d+\/nic\/update\?hostname=tricky\.example\.tld&myipv6=/,
            );
            const output = r.stdout + r.stderr;
            for (const secret of [TRICKY, Buffer.from(`tricky:${TRICKY}`).toString("base64"), "uo\\te"]) {
              expect(output).not.toContain(secret);
            }
            const argv = await readFile(`${spyOut}.argv`, "utf8");
            expect(argv).not.toContain("uo\\te");
            expect(argv.split("\n")).toContain("-K");
            const stdin = await readFile(`${spyOut}.stdin`, "utf8");
            expect(stdin).toContain(`user = "tricky:q\\"uo\\\\te $x 'y' %&+#\\\\"\n`);
          });

          it("a wrong password: exit 1 with a message, and no retry until the configuration changes", async () => {
            await seed("service.example.tld", ELSEWHERE);
            const { file, state } = await config({ PASSWORD: "'not-the-password'" });
            let before = connections;
            const r = await client(file);
            expect(r.code).toBe(1);
            expect(r.stderr).toMatch(
              /refused the credentials of home \(badauth\): check USERNAME and PASSWORD/,
            );
            expect(connections - before).toBe(1);
            expect(live("AAAA", "service")).toEqual([ELSEWHERE]);

            before = connections;
            const again = await client(file);
            expect(again.code).toBe(1);
            expect(again.stderr).toMatch(/not sending: the endpoint refused this same report .*\(badauth\)/);
            expect(connections - before).toBe(0);

            // The user edits the file: the next run tries again.
            const later = new Date(Date.now() + 5_000);
            await utimes(file, later, later);
            before = connections;
            expect((await client(file)).code).toBe(1);
            expect(connections - before).toBe(1);
            await expect(readFile(join(state, "last"), "utf8")).rejects.toThrow();
          });

          it("a host of another client among good ones: exit 1 naming it", async () => {
            const { file } = await config({ HOSTNAMES: "service.example.tld,other.example.tld" });
            const r = await client(file);
            expect(r.code).toBe(1);
            expect(r.stderr).toMatch(/does not let home update other\.example\.tld \(nohost\)/);
          });

          it("the endpoint down: exit 75, and nothing remembered", async () => {
            const { file, state } = await config({ ENDPOINT: "http://127.0.0.1:1/nic/update" });
            const r = await client(file);
            expect(r.code).toBe(75);
            expect(r.stderr).toMatch(/cannot reach http:\/\/127\.0\.0\.1:1\/nic\/update: curl: \(7\)/);
            await expect(readFile(join(state, "last"), "utf8")).rejects.toThrow();
          });

          it("911 when OVH fails: exit 75, and the next run sends again", async () => {
            await seed("service.example.tld", ELSEWHERE);
            const { file } = await config();
            ep.sim.injectFault({ fault: { kind: "status", status: 503 } });
            let before = connections;
            const r = await client(file);
            expect(r.code).toBe(75);
            expect(r.stderr).toMatch(/temporary problem \(911\); trying again later/);
            expect(connections - before).toBe(1);

            ep.sim.clearFaults();
            before = connections;
            expect((await client(file)).code).toBe(0);
            expect(connections - before).toBe(1);
            expect(live("AAAA", "service")).toEqual([STABLE]);
          });

          it("no usable address (only ULA, deprecated, tentative): exit 75 without a request", async () => {
            const { file } = await config({ INTERFACE: "c4" });
            const before = connections;
            const r = await client(file, ["--verbose"]);
            expect(r.code).toBe(75);
            expect(r.stderr).toMatch(/skipping fd00:4c::1: unique local/);
            expect(r.stderr).toMatch(/skipping 2001:db8:4d:10::2: deprecated/);
            expect(r.stderr).toMatch(/skipping 2001:db8:4d:10::3: tentative/);
            expect(r.stderr).toMatch(/no usable global IPv6 address on c4/);
            expect(connections - before).toBe(0);
          });

          it("only dynamic addresses: the stable SLAAC one (mngtmpaddr), never a temporary one", async () => {
            const { file } = await config({ INTERFACE: "c2" });
            const r = await client(file, ["--dry-run"]);
            expect(r.code).toBe(0);
            expect(r.stdout).toContain(`&myipv6=${STABLE_SLAAC}\n`);
          });

          it("--dry-run shows the request without the password and sends nothing", async () => {
            const { file, state } = await config({ IPV4: "auto" });
            const before = connections;
            const r = await client(file, ["--dry-run"]);
            expect(r.code).toBe(0);
            expect(r.stdout).toBe(
              `would send: GET http://127.0.0.1:${bridgePort}/nic/update?hostname=service.example.tld&myipv6=${STABLE}&myipv4=192.0.2.10\n` +
                "as user home (password not shown), User-Agent: ovh-dyndns-worker - sh client - 1.1.0\n",
            );
            expect(r.stdout + r.stderr).not.toContain(HOME_PASSWORD);
            expect(r.stdout + r.stderr).not.toContain(basic("home", HOME_PASSWORD).slice(6));
            expect(connections - before).toBe(0);
            await expect(readFile(join(state, "last"), "utf8")).rejects.toThrow();
          });

          it("the Worker's base URL as ENDPOINT reports to its /nic/update", async () => {
            const { file } = await config({ ENDPOINT: `http://127.0.0.1:${bridgePort}/` });
            const r = await client(file, ["--dry-run"]);
            expect(r.stdout).toContain(`GET http://127.0.0.1:${bridgePort}/nic/update?hostname=`);
          });

          it("an interface that does not exist: exit 75 with the reason", async () => {
            const { file } = await config({ INTERFACE: "nope0" });
            const r = await client(file);
            expect(r.code).toBe(75);
            expect(r.stderr).toMatch(/cannot read the addresses of nope0: .*nope0/);
          });
        },
      );
    }

    const noBusybox = missing("busybox");
    it.skipIf(noBusybox)(
      `busybox's own ip applet gives the same choices${noBusybox ? ` (skipped: ${noBusybox})` : ""}`,
      async () => {
        const bin = join(tmp.path, "busybox-bin");
        await mkdir(bin, { recursive: true });
        await symlink(which("busybox") ?? "busybox", join(bin, "ip")).catch(() => {});
        for (const [dev, expected] of [
          ["c0", STABLE],
          ["c2", STABLE_SLAAC],
        ] as const) {
          const { file } = await config({ INTERFACE: dev });
          const r = await run(
            IP,
            ["netns", "exec", NS, "busybox", "ash", CLIENT, "-c", file, "--stderr", "--dry-run"],
            {
              env: { PATH: `${bin}:${PATH}` },
            },
          );
          expect(r.stderr).toBe("");
          expect(r.stdout).toContain(`&myipv6=${expected}\n`);
        }
      },
    );
  },
);
