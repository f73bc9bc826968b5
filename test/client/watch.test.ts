// `ovh-dyndns-client --watch` for real: under dash and busybox ash, inside a network namespace
// whose addresses the tests change the way a prefix change does (add the new prefix, delete the
// old one), against the Worker in workerd and the OVH simulator (see netns.ts for the path).
//
// What is asserted is behaviour, not time: a report at start; exactly one report for a burst of
// address events; none while the new address is tentative (duplicate address detection slowed
// to 50 probes 10 s apart), one when real DAD ends (quickDad: the kernel's DAD, only sooner);
// none for a temporary address; after a refusal or a 911 the watcher keeps running, holds the
// failed report for the back-off (60 s, past the test's end: nothing is waited for) while another
// address goes at once, and retries by itself (1 s back-off); the monitor is started again when
// it dies; without `ip monitor` it polls; and SIGTERM ends it with 0 leaving no process behind.
// Sync points are the watcher's own log lines (--verbose), each awaited with a bound, so a broken
// watcher fails instead of hanging.
import { readFileSync } from "node:fs";
import { mkdir, readdir, symlink } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Endpoint, startEndpoint } from "../support/endpoint";
import { HOME_PASSWORD, liveTargets, testVars, ZONE } from "../support/fixtures";
import {
  addVeth,
  advertise,
  type Bridge,
  createNamespace,
  deleteNamespace,
  descendants,
  ip,
  PATH,
  quickDad,
  startBridge,
  sysctl,
  sysctls,
  Watcher,
} from "./netns";
import { clientConfig, missing, SHELLS, tempDir, which, writePrivate } from "./support";

const NS = `ovh-dyndns-watch-${process.pid}`;
const noNamespace = createNamespace(NS);
if (noNamespace) console.warn(`test/client/watch.test.ts: skipping: ${noNamespace}`);

let ep: Endpoint;
let bridge: Bridge;
let tmp: { path: string; remove(): Promise<void> };
const watchers: Watcher[] = [];

beforeAll(async () => {
  if (noNamespace) return;
  tmp = await tempDir("ovh-dyndns-watch");
  const base = await testVars();
  ep = await startEndpoint({
    // These tests move addresses and log in wrongly on purpose; the limits are tested elsewhere.
    vars: { ...base, SETTINGS: { auth_fail_limit: 10_000, change_limit: 10_000 } },
  });
  ep.sim.addZone(ZONE);
  bridge = await startBridge(NS, ep.url, tmp.path);
});

afterAll(async () => {
  await bridge?.close();
  await ep?.close();
  if (!noNamespace) deleteNamespace(NS);
  await tmp?.remove();
});

beforeEach(() => {
  if (noNamespace) return;
  ep.sim.clearFaults();
});

afterEach(async () => {
  // Whatever happened in the test, no watcher outlives it.
  for (const w of watchers.splice(0)) await w.stop();
  if (ep) expect(ep.unexpected).toEqual([]);
});

const live = (type: string, sub: string) => liveTargets(ep.sim, type, sub);
const ELSEWHERE = "2001:db8:ffff::1";

/** Point the host's records elsewhere through the Worker, so the watcher's report must write. */
async function seed(hostname: string, myip: string): Promise<void> {
  const reply = await ep.update({ hostname, myip }, { user: "home", password: HOME_PASSWORD });
  expect(reply.body).toMatch(/^(good|nochg) /);
}

let interfaces = 0;
/** A fresh veth pair for one test; its name. */
function iface(o: { dad?: boolean | "quick" } = {}): string {
  interfaces += 1;
  const name = `w${interfaces}`;
  addVeth(NS, name, `p${interfaces}`, o);
  return name;
}

/** Apply address changes in one `ip -batch`: one burst of events, as a real prefix change. */
async function batch(dev: string, ...commands: string[]): Promise<void> {
  const file = join(tmp.path, `batch-${dev}-${Date.now()}`);
  await writePrivate(file, `${commands.map((c) => `address ${c} dev ${dev}`).join("\n")}\n`);
  await ip("-n", NS, "-batch", file);
}

let configs = 0;
async function config(values: Record<string, string>): Promise<string> {
  configs += 1;
  const file = join(tmp.path, `watch-${configs}.conf`);
  await writePrivate(
    file,
    clientConfig({
      ENDPOINT: `http://127.0.0.1:${bridge.port}/nic/update`,
      USERNAME: "home",
      PASSWORD: `'${HOME_PASSWORD}'`,
      HOSTNAMES: "service.example.tld",
      STATE_DIR: join(tmp.path, `state-${configs}`),
      ...values,
    }),
  );
  return file;
}

function watch(shell: string[], file: string, env: Record<string, string> = {}): Watcher {
  const w = new Watcher(NS, shell, file, { env });
  watchers.push(w);
  return w;
}

/** The process exists and is not a zombie (an orphan that nobody reaped is gone all the same). */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

/** The log lines in `text` that say a report was sent. */
const sent = (text: string) => text.split("\n").filter((l) => /sending GET /.test(l));

describe.skipIf(noNamespace)(
  `--watch in a network namespace${noNamespace ? ` (skipped: ${noNamespace})` : ""}`,
  () => {
    for (const shell of SHELLS) {
      describe.skipIf(shell.missing)(
        `under ${shell.name}${shell.missing ? ` (skipped: ${shell.missing})` : ""}`,
        () => {
          it("reports at start, once per burst of a prefix change, and never while the new address is tentative", async () => {
            const dev = iface();
            await ip("-n", NS, "addr", "add", "2001:db8:a1:10::5/64", "dev", dev, "nodad");
            await seed("service.example.tld", ELSEWHERE);
            const w = watch(shell.argv, await config({ INTERFACE: dev }));
            await w.waitFor(/reported 2001:db8:a1:10::5 for service\.example\.tld: good/);
            expect(live("AAAA", "service")).toEqual(["2001:db8:a1:10::5"]);
            let before = bridge.connections();

            // DAD slowed down: the new address stays tentative while the old one goes.
            sysctl(NS, `net/ipv6/conf/${dev}/dad_transmits`, "50");
            sysctl(NS, `net/ipv6/neigh/${dev}/retrans_time_ms`, "10000");
            let mark = w.log.length;
            await batch(dev, "add 2001:db8:a2:10::5/64", "del 2001:db8:a1:10::5/64");
            const waiting = await w.waitFor(
              /no usable global IPv6 address on \w+ yet; waiting for one/,
              mark,
            );
            expect(waiting).toMatch(/skipping 2001:db8:a2:10::5: tentative/);
            expect(sent(waiting)).toEqual([]);
            expect(bridge.connections()).toBe(before);
            expect(live("AAAA", "service")).toEqual(["2001:db8:a1:10::5"]);

            // A burst whose intermediate states would each be another report: one report, the last.
            mark = w.log.length;
            await batch(
              dev,
              "del 2001:db8:a2:10::5/64",
              "add 2001:db8:a3:10::5/64 nodad",
              "add 2001:db8:a3:10::1/64 nodad",
              "del 2001:db8:a3:10::1/64",
            );
            const burst = await w.waitFor(/reported 2001:db8:a3:10::5 for service\.example\.tld: good/, mark);
            expect(sent(burst)).toHaveLength(1);
            expect(bridge.connections()).toBe(before + 1);
            expect(live("AAAA", "service")).toEqual(["2001:db8:a3:10::5"]);
            expect(live("AAAA", "service6")).toEqual(["2001:db8:a3:10::5"]);

            // Real DAD (one probe, see quickDad): reported once it is over, and only then.
            sysctls(NS, quickDad(dev));
            before = bridge.connections();
            mark = w.log.length;
            await batch(dev, "add 2001:db8:a4:10::5/64", "del 2001:db8:a3:10::5/64");
            const dad = await w.waitFor(/reported 2001:db8:a4:10::5 for service\.example\.tld: good/, mark);
            expect(dad).toMatch(/event: .*2001:db8:a4:10::5\/64 scope global tentative/);
            expect(sent(dad)).toHaveLength(1);
            expect(bridge.connections()).toBe(before + 1);
            expect(live("AAAA", "service")).toEqual(["2001:db8:a4:10::5"]);
            expect(w.running).toBe(true);
          });

          it("a temporary address coming and going sends nothing", async () => {
            const dev = iface({ dad: false });
            sysctl(NS, `net/ipv6/conf/${dev}/use_tempaddr`, "2");
            await ip("-n", NS, "addr", "add", "2001:db8:b1:10::5/64", "dev", dev, "nodad");
            const w = watch(shell.argv, await config({ INTERFACE: dev }));
            await w.waitFor(/reported 2001:db8:b1:10::5 for service\.example\.tld: (good|nochg)/);
            const before = bridge.connections();

            // A stable SLAAC address: the kernel adds a temporary one next to it.
            let mark = w.log.length;
            await ip(
              "-n",
              NS,
              "addr",
              "add",
              "2001:db8:b2:10::9/64",
              "dev",
              dev,
              "mngtmpaddr",
              "valid_lft",
              "3600",
              "preferred_lft",
              "3600",
            );
            await w.waitFor(/nothing to send/, mark);
            for (
              let i = 0;
              i < 100 && !/temporary/.test(await ip("-n", NS, "-6", "addr", "show", "dev", dev));
              i++
            ) {
              await new Promise((r) => setTimeout(r, 50));
            }
            expect(await ip("-n", NS, "-6", "addr", "show", "dev", dev)).toMatch(
              /2001:db8:b2:10:\S+ scope global temporary/,
            );
            // A later, ordinary event: once it is handled, so is everything before it.
            mark = w.log.length;
            await ip("-n", NS, "addr", "add", "fd00:b1::1/64", "dev", dev, "nodad");
            await w.waitFor(/event: .*fd00:b1::1[\s\S]*nothing to send/, mark);
            expect(w.log).not.toMatch(/event: .*temporary/);
            expect(sent(w.log)).toHaveLength(1);
            expect(bridge.connections()).toBe(before);
          });

          it("a refused report is logged, the watcher keeps running, and the next address is sent", async () => {
            const dev = iface({ dad: false });
            await ip("-n", NS, "addr", "add", "2001:db8:d1:10::5/64", "dev", dev, "nodad");
            const w = watch(shell.argv, await config({ INTERFACE: dev, PASSWORD: "'not-the-password'" }));
            await w.waitFor(/refused the credentials of home \(badauth\)/);
            expect(w.running).toBe(true);
            const before = bridge.connections();
            const mark = w.log.length;
            await batch(dev, "add 2001:db8:d2:10::5/64", "del 2001:db8:d1:10::5/64");
            await w.waitFor(/refused the credentials of home \(badauth\)/, mark);
            expect(bridge.connections()).toBe(before + 1);
            expect(w.running).toBe(true);
            expect(await w.stop()).toEqual({ code: 0, signal: null });
          });

          it("SIGTERM ends it with 0 and leaves no process and no file behind", async () => {
            const dev = iface({ dad: false });
            await ip("-n", NS, "addr", "add", "2001:db8:e1:10::5/64", "dev", dev, "nodad");
            const own = join(tmp.path, `tmpdir-${shell.name.replace(/\W/g, "")}`);
            await mkdir(own);
            const w = watch(shell.argv, await config({ INTERFACE: dev }), { TMPDIR: own });
            await w.waitFor(/reported 2001:db8:e1:10::5 for service\.example\.tld: (good|nochg)/);
            const helpers = descendants(w.child.pid ?? 0);
            expect(helpers.some((p) => /monitor address/.test(p.args))).toBe(true);
            expect(await readdir(own)).toHaveLength(1);
            expect(await w.stop()).toEqual({ code: 0, signal: null });
            expect(w.log).toMatch(/stopped watching \w+ after 1 report\(s\)/);
            expect(w.log, "the shell's job messages stay out of the log").not.toMatch(
              /^(Killed|Terminated)$/m,
            );
            const alive = helpers.filter((p) => running(p.pid));
            expect(alive).toEqual([]);
            expect(await readdir(own)).toEqual([]);
          });

          /** A watcher of an interface holding `address`, after its report, its ip monitor just killed. */
          async function monitorKilled(address: string) {
            const dev = iface({ dad: false });
            await ip("-n", NS, "addr", "add", `${address}/64`, "dev", dev, "nodad");
            const w = watch(shell.argv, await config({ INTERFACE: dev }));
            await w.waitFor(new RegExp(`reported ${address} for service\\.example\\.tld: (good|nochg)`));
            const monitor = descendants(w.child.pid ?? 0).find((p) => /monitor address/.test(p.args));
            expect(monitor).toBeDefined();
            const mark = w.log.length;
            process.kill(monitor?.pid ?? 0, "SIGKILL");
            await w.waitFor(/ip monitor stopped \(exit \d+\); starting it again/, mark);
            return { dev, w, mark };
          }

          it("ip monitor started again when it dies; the next change is still reported", async () => {
            const killed = await monitorKilled("2001:db8:f1:10::5");
            const { dev, w } = killed;
            let { mark } = killed;
            // Started again after a second (the client's pause). A process is not yet a monitor
            // that listens: a ULA (never reported) is added until its event reaches the log, and
            // the report that it causes is let finish, so the change below is heard on its own.
            for (
              let i = 0;
              i < 100 && !descendants(w.child.pid ?? 0).some((p) => /monitor address/.test(p.args));
              i++
            ) {
              await new Promise((r) => setTimeout(r, 50));
            }
            for (let probe = 1; ; probe++) {
              expect(probe, `ip monitor did not come back; the log:\n${w.log}`).toBeLessThanOrEqual(10);
              mark = w.log.length;
              await ip("-n", NS, "addr", "add", `fd00:f1::${probe}/64`, "dev", dev, "nodad");
              const heard = new RegExp(`event: .*fd00:f1::${probe}/`);
              if (await w.waitFor(heard, mark, 1_000).catch(() => undefined)) break;
            }
            await w.waitFor(/nothing to send/, mark);
            mark = w.log.length;
            await batch(dev, "add 2001:db8:f2:10::5/64 nodad", "del 2001:db8:f1:10::5/64");
            const log = await w.waitFor(/reported 2001:db8:f2:10::5 for service\.example\.tld: good/, mark);
            expect(log).toMatch(/event: .*2001:db8:f2:10::5\/64[\s\S]*sending GET/);
            expect(live("AAAA", "service")).toEqual(["2001:db8:f2:10::5"]);
          });

          it("a change while ip monitor is down (between its death and its restart) is reported once it runs again", async () => {
            const killed = await monitorKilled("2001:db8:f3:10::5");
            const { dev, w } = killed;
            let { mark } = killed;
            // The look at the death finds nothing; the change comes after it, while no monitor
            // listens (the client pauses a second before starting one): no event will tell of it.
            await w.waitFor(/nothing to send/, mark);
            mark = w.log.length;
            await batch(dev, "add 2001:db8:f4:10::5/64 nodad", "del 2001:db8:f3:10::5/64");
            const log = await w.waitFor(/reported 2001:db8:f4:10::5 for service\.example\.tld: good/, mark);
            expect(log).toMatch(/ip monitor runs again; looking at the addresses[\s\S]*sending GET/);
            expect(live("AAAA", "service")).toEqual(["2001:db8:f4:10::5"]);
            expect(await w.stop()).toEqual({ code: 0, signal: null });
            // The killed monitor and the stopped timers are the watcher's own words, not the shell's.
            expect(w.log).not.toMatch(/^(Killed|Terminated)$/m);
          });

          it("IPV4=auto: an IPv4 change on the interface is reported too", async () => {
            const dev = iface({ dad: false });
            await ip("-n", NS, "addr", "add", "2001:db8:4a:10::5/64", "dev", dev, "nodad");
            await ip("-n", NS, "addr", "add", "192.0.2.20/24", "dev", dev);
            await seed("nas.example.tld", `198.51.100.200,${ELSEWHERE}`);
            const w = watch(
              shell.argv,
              await config({ INTERFACE: dev, IPV4: "auto", HOSTNAMES: "nas.example.tld" }),
            );
            await w.waitFor(/reported 2001:db8:4a:10::5 and 192\.0\.2\.20 for nas\.example\.tld/);
            const mark = w.log.length;
            await batch(dev, "add 198.51.100.9/24", "del 192.0.2.20/24");
            await w.waitFor(/reported 2001:db8:4a:10::5 and 198\.51\.100\.9 for nas\.example\.tld/, mark);
            expect(live("A", "nas")).toEqual(["198.51.100.9"]);
          });
        },
      );
    }

    const dash = SHELLS.find((s) => s.name === "dash");
    const noRa = dash?.missing ?? missing("python3");
    it.skipIf(noRa)(
      `a router renumbers (one advertisement: the new prefix, the old one deprecated): one report, once DAD is over${noRa ? ` (skipped: ${noRa})` : ""}`,
      async () => {
        const dev = iface({ dad: "quick" });
        const router = `p${interfaces}`;
        const usable = async (prefix: string) => {
          for (let i = 0; i < 100; i++) {
            const line = (await ip("-n", NS, "-6", "-o", "addr", "show", "dev", dev))
              .split("\n")
              .find((l) => l.includes(`inet6 ${prefix}`) && !/tentative|temporary/.test(l));
            const found = line && /inet6 ([0-9a-f:]+)\//.exec(line)?.[1];
            if (found) return found;
            await new Promise((r) => setTimeout(r, 50));
          }
          throw new Error(`no usable address in ${prefix} on ${dev}`);
        };
        await advertise(NS, router, "2001:db8:71:10::/64");
        const old = await usable("2001:db8:71:10:");
        await seed("service.example.tld", ELSEWHERE);
        const w = watch(["dash"], await config({ INTERFACE: dev }));
        await w.waitFor(new RegExp(`reported ${old} for service\\.example\\.tld: good`));
        const before = bridge.connections();
        const mark = w.log.length;

        await advertise(NS, router, "2001:db8:72:10::/64", "2001:db8:71:10::/64,3600,0");
        const renumbered = await usable("2001:db8:72:10:");
        const log = await w.waitFor(
          new RegExp(`reported ${renumbered} for service\\.example\\.tld: good`),
          mark,
        );
        expect(log).toContain(`skipping ${old}: deprecated`);
        expect(sent(log)).toHaveLength(1);
        expect(bridge.connections()).toBe(before + 1);
        expect(live("AAAA", "service")).toEqual([renumbered]);
      },
    );

    /**
     * A dash watcher (RETRY_AFTER=`retryAfter`) on a fresh interface that reported `first`; then
     * OVH fails and the address moves to `second`. Resolves once that report's 911 is logged.
     */
    async function after911(retryAfter: number, first: string, second: string) {
      const dev = iface({ dad: false });
      await ip("-n", NS, "addr", "add", `${first}/64`, "dev", dev, "nodad");
      const w = watch(["dash"], await config({ INTERFACE: dev, RETRY_AFTER: String(retryAfter) }));
      await w.waitFor(new RegExp(`reported ${first} for service\\.example\\.tld: (good|nochg)`));
      const before = bridge.connections();
      ep.sim.injectFault({ fault: { kind: "status", status: 503 } });
      const mark = w.log.length;
      await batch(dev, `add ${second}/64 nodad`, `del ${first}/64`);
      const failed = await w.waitFor(
        new RegExp(
          `temporary problem \\(911\\)[\\s\\S]*trying again in ${retryAfter} s, or at once for another address`,
        ),
        mark,
      );
      expect(w.running).toBe(true);
      return { dev, w, before, mark, failed };
    }

    it.skipIf(dash?.missing)(
      "after a 911 it backs off: the same address waits for the retry, another one goes at once, the back-off doubles",
      async () => {
        // A back-off far longer than this test: no retry comes before the watcher is stopped,
        // so each report below is one it chose to send (or hold) at once.
        const { dev, w, before, failed } = await after911(60, "2001:db8:c1:10::5", "2001:db8:c2:10::5");
        expect(sent(failed)).toHaveLength(1);

        // During the back-off: the same address waits for the retry, another one goes at once.
        let mark = w.log.length;
        await ip("-n", NS, "addr", "add", "fd00:c1::1/64", "dev", dev, "nodad");
        const held = await w.waitFor(/the same report as the one that failed; waiting for the retry/, mark);
        expect(sent(held)).toEqual([]);
        mark = w.log.length;
        await batch(dev, "add 2001:db8:c3:10::5/64 nodad", "del 2001:db8:c2:10::5/64");
        const other = await w.waitFor(/temporary problem \(911\)[\s\S]*trying again in 120 s/, mark);
        expect(sent(other)).toEqual([expect.stringContaining("myipv6=2001:db8:c3:10::5")]);
        expect(bridge.connections()).toBe(before + 2);
        expect(live("AAAA", "service")).toEqual(["2001:db8:c1:10::5"]);
      },
    );

    it.skipIf(dash?.missing)("after a 911 it retries by itself once the back-off is over", async () => {
      const { w, before, mark } = await after911(1, "2001:db8:c4:10::5", "2001:db8:c5:10::5");
      ep.sim.clearFaults();
      const log = await w.waitFor(/reported 2001:db8:c5:10::5 for service\.example\.tld: good/, mark);
      expect(live("AAAA", "service")).toEqual(["2001:db8:c5:10::5"]);
      // No address event after the first 911: every later report was a retry. Usually one;
      // more if a retry came before the fault was cleared, each after twice the wait of the last.
      expect(log.slice(log.indexOf("trying again in"))).not.toMatch(/event: /);
      const waits = [...log.matchAll(/trying again in (\d+) s/g)].map((m) => Number(m[1]));
      expect(waits).toEqual(waits.map((_, i) => 2 ** i));
      expect(sent(log)).toHaveLength(waits.length + 1);
      expect(sent(log).every((l) => l.includes("myipv6=2001:db8:c5:10::5"))).toBe(true);
      expect(bridge.connections()).toBe(before + waits.length + 1);
    });

    const noBusybox = missing("busybox");
    it.skipIf(noBusybox)(
      "with busybox's ip, which cannot monitor: says so once and polls every POLL_EVERY seconds",
      async () => {
        const bin = join(tmp.path, "busybox-bin");
        await mkdir(bin, { recursive: true });
        await symlink(which("busybox") ?? "busybox", join(bin, "ip")).catch(() => {});
        const dev = iface({ dad: false });
        await ip("-n", NS, "addr", "add", "2001:db8:bb:10::5/64", "dev", dev, "nodad");
        const w = watch(["busybox", "ash"], await config({ INTERFACE: dev, POLL_EVERY: "1" }), {
          PATH: `${bin}:${PATH}`,
        });
        await w.waitFor(/reported 2001:db8:bb:10::5 for service\.example\.tld: (good|nochg)/);
        expect(w.log).toMatch(
          /this ip cannot monitor addresses \(busybox\?\); checking \w+ every 1 s instead/,
        );
        const mark = w.log.length;
        await batch(dev, "add 2001:db8:bc:10::5/64 nodad", "del 2001:db8:bb:10::5/64");
        await w.waitFor(/reported 2001:db8:bc:10::5 for service\.example\.tld: good/, mark, 30_000);
        expect(w.log.match(/cannot monitor addresses/g)).toHaveLength(1);
        expect(live("AAAA", "service")).toEqual(["2001:db8:bc:10::5"]);
      },
      60_000,
    );
  },
);
