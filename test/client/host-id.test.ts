// `ovh-dyndns-client --show-host-id` for real: in a network namespace, the kernel makes the
// host's addresses itself from a router advertisement (ra.py, sent from the other end of a veth
// pair) under each address generation mode it offers: eui64, none, stable-privacy and random;
// plus a token, a DHCPv6-style /128 and an address set by hand. Each verdict is checked against
// the kernel: a second advertisement with another prefix shows whether the identifier really
// survives. The fix the client prints for stable-privacy is applied as printed, and then holds.
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { sha256Hex, startEndpoint } from "../support/endpoint";
import { liveTargets, ZONE } from "../support/fixtures";
import { createNamespace, deleteNamespace, IP, ip, ipSync, PATH, sendAdvertisement, sysctls } from "./netns";
import { CLIENT, missing, run, SHELLS, tempDir, which, writePrivate } from "./support";

const NS = `ovh-dyndns-hostid-${process.pid}`;
const noPython = missing("python3");
const noNamespace = noPython ?? createNamespace(NS);
if (noNamespace) console.warn(`test/client/host-id.test.ts: skipping: ${noNamespace}`);

afterAll(() => {
  if (!noNamespace) deleteNamespace(NS);
});

let pairs = 0;
/**
 * A veth pair: the host's end (MAC 02:00:00:00:00:NN, DAD off so addresses are usable at once)
 * with the sysctls `settings` gives for it before it comes up, and the router's end. Returns both
 * names.
 */
function link(settings: (dev: string) => Record<string, string> = () => ({})): {
  dev: string;
  router: string;
  mac: string;
} {
  pairs += 1;
  const dev = `h${pairs}`;
  const router = `r${pairs}`;
  const mac = `02:00:00:00:00:${pairs.toString(16).padStart(2, "0")}`;
  ipSync("-n", NS, "link", "add", dev, "address", mac, "type", "veth", "peer", "name", router);
  const all: Record<string, string> = {};
  for (const d of [dev, router]) {
    all[`net/ipv6/conf/${d}/disable_ipv6`] = "0";
    all[`net/ipv6/conf/${d}/accept_dad`] = "0";
  }
  sysctls(NS, { ...all, ...settings(dev) });
  for (const d of [router, dev]) ipSync("-n", NS, "link", "set", d, "up");
  return { dev, router, mac };
}

/** Advertise PREFIX/64 from the router's end; resolves once `dev` has a global address in it. */
async function advertise(router: string, dev: string, prefix: string): Promise<string[]> {
  const start = prefix.replace(/::$/, ":");
  for (let i = 0; i < 50; i++) {
    // Sent again until the link-local source is ready and the kernel has taken it.
    const failed = await sendAdvertisement(NS, router, `${prefix}/64`);
    if (failed && !/Cannot assign requested address/.test(failed)) throw new Error(`ra.py: ${failed}`);
    const found = globals(await ip("-n", NS, "-6", "-o", "addr", "show", "dev", dev)).filter((a) =>
      a.startsWith(start),
    );
    if (found.length > 0) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no address in ${prefix}/64 on ${dev}`);
}

/** The non-temporary global addresses in `ip -o addr` output. */
function globals(out: string): string[] {
  return out
    .split("\n")
    .filter((l) => / scope global /.test(l) && !/ temporary /.test(l))
    .map((l) => /inet6 ([0-9a-f:]+)\//.exec(l)?.[1] ?? "")
    .filter((a) => a !== "");
}

/** The last 64 bits of an address, as 4 groups of 4 hex digits. */
function iid(address: string): string {
  const [head = "", tail = ""] = address.includes("::") ? address.split("::") : [address, ""];
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  return groups
    .slice(4)
    .map((g) => g.padStart(4, "0"))
    .join(":");
}

function show(dev: string, shell: string[] = ["dash"], env: Record<string, string> = {}) {
  return run(IP, ["netns", "exec", NS, ...shell, CLIENT, "--show-host-id", "-i", dev, "-c", "/nonexistent"], {
    env: { PATH, ...env },
  });
}

/** The value of `host_id = "…"` lines in the output, in order. */
const hostIds = (out: string) => [...out.matchAll(/^ {2}host_id = "([^"]+)"$/gm)].map((m) => m[1]);

describe.skipIf(noNamespace)(
  `--show-host-id in a network namespace${noNamespace ? ` (skipped: ${noNamespace})` : ""}`,
  () => {
    it("eui64: the EUI-64 of the MAC, the exact wrangler.toml lines, and it survives a new prefix", async () => {
      const { dev, router, mac } = link((d) => ({ [`net/ipv6/conf/${d}/use_tempaddr`]: "2" }));
      await advertise(router, dev, "2001:db8:4b:10::");
      const r = await show(dev);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const n = Number.parseInt(mac.slice(-2), 16).toString(16);
      const id = `::ff:fe00:${n}`;
      expect(r.stdout).toContain(
        `Interface ${dev}: MAC ${mac}, address generation eui64 (addr_gen_mode 0), token none\n`,
      );
      expect(r.stdout).toMatch(
        /^ {2}2001:db8:4b:10:\S+\/64 {2}temporary dynamic: skipped, temporary \(privacy extensions\)$/m,
      );
      expect(r.stdout).toContain(
        `Reported address: 2001:db8:4b:10:0:ff:fe00:${n} (stable SLAAC (mngtmpaddr), dynamic mngtmpaddr)\n`,
      );
      expect(r.stdout).toContain("  prefix                2001:db8:4b:10::/64\n");
      expect(r.stdout).toContain(`  interface identifier  ${id}  (EUI-64, from the MAC ${mac})\n`);
      expect(r.stdout).toContain("  subnet ID in a /56    10  (hex: the 8 bits after 2001:db8:4b::/56)\n");
      expect(hostIds(r.stdout)).toEqual([id, `::10:0:ff:fe00:${n}`]);
      expect(r.stdout).toContain(`  host_id = "::10:0:ff:fe00:${n}"\n  prefix_length = 56\n`);
      expect(r.stdout).toContain(
        "ok: the interface identifier does not depend on the prefix; it survives a prefix change.\n",
      );
      expect(r.stdout).not.toContain("warning");
      // The kernel agrees: the next prefix gets the same identifier.
      const next = await advertise(router, dev, "2001:db8:4c:20::");
      expect(next.map(iid)).toEqual([iid(`2001:db8:4b:10:0:ff:fe00:${n}`)]);
    });

    it("stable-privacy: warns, prints the fixes, the kernel confirms; the printed fix then holds", async () => {
      const { dev, router } = link((d) => ({
        [`net/ipv6/conf/${d}/stable_secret`]: "2001:db8:1:2:3:4:5:6",
        [`net/ipv6/conf/${d}/addr_gen_mode`]: "2",
      }));
      const [first = ""] = await advertise(router, dev, "2001:db8:5b:10::");
      const r = await show(dev);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("address generation stable-privacy (addr_gen_mode 2, RFC 7217)");
      const [id64 = "", id56 = ""] = hostIds(r.stdout);
      expect(iid(`2001:db8::${id64.slice(2)}`)).toBe(iid(first));
      expect(id56.startsWith("::10:")).toBe(true);
      expect(r.stdout).toContain(`  interface identifier  ${id64}  (RFC 7217 stable-privacy)\n`);
      expect(r.stdout).toContain(
        `warning: the interface identifier ${id64} will not survive a prefix change: stable-privacy makes the identifier from a hash of the prefix, so every prefix gets another one.\n`,
      );
      for (const fix of [
        `    ip link set dev ${dev} addrgenmode eui64\n    ip token set ${id64} dev ${dev}\n`,
        `    nmcli connection modify CONNECTION ipv6.addr-gen-mode eui64 ipv6.token ${id64}\n`,
        `    [IPv6AcceptRA]\n    Token=static:${id64}\n`,
        '"slaac hwaddr" instead of "slaac private"',
        `    pre-up ip token set ${id64} dev ${dev}\n`,
      ]) {
        expect(r.stdout).toContain(fix);
      }
      // The kernel agrees: another prefix, another identifier.
      const second = await advertise(router, dev, "2001:db8:5c:20::");
      expect(second.map(iid)).not.toContain(iid(first));

      // Apply the kernel fix exactly as printed; the next prefix keeps the identifier.
      const commands = [...r.stdout.matchAll(/^ {4}(ip (?:link|token) set .*)$/gm)].map((m) => m[1] ?? "");
      expect(commands).toHaveLength(2);
      for (const c of commands) await ip("-n", NS, ...c.split(" ").slice(1));
      const third = await advertise(router, dev, "2001:db8:5d:30::");
      expect(third.map(iid)).toContain(iid(first));
      const after = await show(dev);
      expect(after.stdout).toContain("(the token set with ip token)");
      expect(after.stdout).toContain("ok: the interface identifier does not depend on the prefix");
    });

    it("random: warns, and the kernel draws another identifier for the next prefix", async () => {
      const { dev, router } = link((d) => ({ [`net/ipv6/conf/${d}/addr_gen_mode`]: "3" }));
      const [first = ""] = await advertise(router, dev, "2001:db8:6b:10::");
      const r = await show(dev);
      expect(r.stdout).toContain("address generation random (addr_gen_mode 3)");
      expect(r.stdout).toMatch(/interface identifier {2}\S+ {2}\(random\)/);
      expect(r.stdout).toContain(
        "will not survive a prefix change: the kernel draws a new random identifier for every prefix",
      );
      const second = await advertise(router, dev, "2001:db8:6c:20::");
      expect(second.map(iid)).not.toContain(iid(first));
    });

    it("none, as NetworkManager sets it (no RAs for the kernel): exit 75, then the manager's address is not trusted", async () => {
      const { dev, router } = link((d) => ({
        [`net/ipv6/conf/${d}/addr_gen_mode`]: "1",
        [`net/ipv6/conf/${d}/accept_ra`]: "0",
      }));
      await sendAdvertisement(NS, router, "2001:db8:7b:10::/64");
      const r = await show(dev);
      expect(r.code).toBe(75);
      expect(r.stdout).toContain(
        "address generation none (addr_gen_mode 1: no link-local address from the kernel;",
      );
      expect(r.stdout).toContain(`No usable global IPv6 address on ${dev}, so no host_id to show.`);
      // What NetworkManager or dhcpcd would add: a SLAAC address with lifetimes, RFC 7217 style.
      await ip(
        "-n",
        NS,
        "addr",
        "add",
        "2001:db8:7b:10:8d2e:1a4f:93b0:77c1/64",
        "dev",
        dev,
        "valid_lft",
        "3600",
        "preferred_lft",
        "1800",
      );
      const m = await show(dev);
      expect(m.code).toBe(0);
      expect(hostIds(m.stdout)).toEqual(["::8d2e:1a4f:93b0:77c1", "::10:8d2e:1a4f:93b0:77c1"]);
      expect(m.stdout).toContain("(made by a network manager, not by the kernel)");
      expect(m.stdout).toContain("NetworkManager and dhcpcd use RFC 7217 stable-privacy by default");
    });

    it("none with the kernel taking RAs: its SLAAC address is still the EUI-64, and that is stable", async () => {
      const { dev, router } = link((d) => ({ [`net/ipv6/conf/${d}/addr_gen_mode`]: "1" }));
      await advertise(router, dev, "2001:db8:7c:10::");
      const r = await show(dev);
      expect(r.stdout).toMatch(/interface identifier {2}::ff:fe00:[0-9a-f]+ {2}\(EUI-64, from the MAC/);
      expect(r.stdout).toContain("ok: ");
    });

    it("a DHCPv6 /128 warns; an address set by hand does not, and is preferred as the client prefers it", async () => {
      const { dev } = link();
      await ip(
        "-n",
        NS,
        "addr",
        "add",
        "2001:db8:8b:10::1234/128",
        "dev",
        dev,
        "valid_lft",
        "3600",
        "preferred_lft",
        "1800",
      );
      const d = await show(dev);
      expect(d.stdout).toContain("  interface identifier  ::1234  (assigned by a DHCPv6 server (a /128))\n");
      expect(d.stdout).toContain("the DHCPv6 server picks the identifier");
      await ip("-n", NS, "addr", "add", "2001:db8:8b:ab::10/64", "dev", dev);
      const p = await show(dev);
      expect(p.stdout).toContain("Reported address: 2001:db8:8b:ab::10 (permanent)\n");
      expect(hostIds(p.stdout)).toEqual(["::10", "::ab:0:0:0:10"]);
      expect(p.stdout).toContain("  subnet ID in a /56    ab  (hex: the 8 bits after 2001:db8:8b::/56)\n");
      expect(p.stdout).toContain("ok: ");
    });

    it("takes INTERFACE from the configuration (only that key is needed); --interface wins", async () => {
      const tmp = await tempDir("ovh-dyndns-hostid-conf");
      try {
        const { dev } = link();
        const other = link().dev;
        await ip("-n", NS, "addr", "add", "2001:db8:8c:10::20/64", "dev", dev);
        await ip("-n", NS, "addr", "add", "2001:db8:8d:10::30/64", "dev", other);
        const file = join(tmp.path, "client.conf");
        await writePrivate(file, `# only the interface\nINTERFACE=${dev}\n`);
        const byConfig = await run(IP, ["netns", "exec", NS, "dash", CLIENT, "--show-host-id", "-c", file], {
          env: { PATH },
        });
        expect(byConfig.code).toBe(0);
        expect(byConfig.stdout).toContain("Reported address: 2001:db8:8c:10::20 (permanent)\n");
        const byOption = await run(
          IP,
          ["netns", "exec", NS, "dash", CLIENT, "--show-host-id", "-c", file, "--interface", other],
          { env: { PATH } },
        );
        expect(byOption.stdout).toContain("Reported address: 2001:db8:8d:10::30 (permanent)\n");
        // The file is still read and checked: a mistake in it is an error.
        await writePrivate(file, `INTERFACE=${dev}\nBOGUS=1\n`);
        const wrong = await run(IP, ["netns", "exec", NS, "dash", CLIENT, "--show-host-id", "-c", file], {
          env: { PATH },
        });
        expect(wrong.code).toBe(78);
        expect(wrong.stderr).toContain("unknown key 'BOGUS'");
      } finally {
        await tmp.remove();
      }
    });

    it("the host_id lines it prints make the Worker publish exactly this host's address", async () => {
      const { dev, router } = link();
      const [own = ""] = await advertise(router, dev, "2001:db8:4e:2a::");
      const r = await show(dev);
      const [id64 = "", id56 = ""] = hostIds(r.stdout);
      expect(r.stdout).toContain("  subnet ID in a /56    2a  (hex: the 8 bits after 2001:db8:4e::/56)\n");
      expect(id56).toMatch(/^::2a:/);
      const ep = await startEndpoint({
        vars: {
          HOSTS: {
            "derived.example.tld": {
              zone: ZONE,
              allow_private: true,
              records: [
                { subdomain: "derived64", type: "AAAA", host_id: id64 },
                { subdomain: "derived56", type: "AAAA", host_id: id56, prefix_length: 56 },
              ],
            },
          },
          CLIENTS: {
            home: { password_sha256: await sha256Hex("home-password"), hosts: ["derived.example.tld"] },
          },
        },
      });
      try {
        ep.sim.addZone(ZONE);
        // Any address of another host in the same /64 (as a router or a neighbour reports it).
        const neighbour = `${own.split(":").slice(0, 4).join(":")}::1`;
        const reply = await ep.update({ hostname: "derived.example.tld", myipv6: neighbour });
        expect(reply.body).toMatch(/^good /);
        expect(liveTargets(ep.sim, "AAAA", "derived64")).toEqual([own]);
        expect(liveTargets(ep.sim, "AAAA", "derived56")).toEqual([own]);
        expect(ep.unexpected).toEqual([]);
      } finally {
        await ep.close();
      }
    });

    const busybox = SHELLS.find((s) => s.name === "busybox ash");
    it.skipIf(busybox?.missing)(
      "busybox ash with busybox's own ip: the same host_id and the same verdicts",
      async () => {
        const tmp = await tempDir("ovh-dyndns-hostid");
        try {
          const bin = join(tmp.path, "bin");
          await run("mkdir", [bin]);
          await run("ln", ["-s", which("busybox") ?? "busybox", join(bin, "ip")]);
          const eui = link();
          await advertise(eui.router, eui.dev, "2001:db8:9b:10::");
          const privacy = link((d) => ({
            [`net/ipv6/conf/${d}/stable_secret`]: "2001:db8:1:2:3:4:5:6",
            [`net/ipv6/conf/${d}/addr_gen_mode`]: "2",
          }));
          await advertise(privacy.router, privacy.dev, "2001:db8:9c:10::");
          for (const dev of [eui.dev, privacy.dev]) {
            const reference = await show(dev);
            const bb = await show(dev, ["busybox", "ash"], { PATH: `${bin}:${PATH}` });
            expect(bb.stderr).toBe("");
            expect(hostIds(bb.stdout)).toEqual(hostIds(reference.stdout));
            expect(bb.stdout.includes("warning:")).toBe(reference.stdout.includes("warning:"));
          }
        } finally {
          await tmp.remove();
        }
      },
    );
  },
);

it("without a configuration and without --interface: exit 78 naming the file", async () => {
  const r = await run("dash", [CLIENT, "--show-host-id", "-c", "/nonexistent/client.conf"]);
  expect(r.code).toBe(78);
  expect(r.stderr).toContain("the configuration file /nonexistent/client.conf does not exist");
});

it("--show-host-id and --watch together: exit 64", async () => {
  const r = await run("dash", [CLIENT, "--show-host-id", "--watch", "-i", "eth0"]);
  expect(r.code).toBe(64);
});
