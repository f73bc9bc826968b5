// Static checks of the client's files: shellcheck on the script, systemd's own verifier on the
// units (when systemd-analyze is there), and the hardening the units promise.
import { constants } from "node:fs";
import { access, copyFile, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../support/endpoint";
import { CLIENT, missing, run, tempDir } from "./support";

const SERVICE = join(ROOT, "client", "ovh-dyndns.service");
const TIMER = join(ROOT, "client", "ovh-dyndns.timer");
const WATCH = join(ROOT, "client", "ovh-dyndns-watch.service");

const noShellcheck = missing("shellcheck");
it.skipIf(noShellcheck)(
  `the client is shellcheck-clean as POSIX sh${noShellcheck ? ` (skipped: ${noShellcheck})` : ""}`,
  async () => {
    const r = await run("shellcheck", ["--shell=sh", "--severity=style", CLIENT]);
    expect(r.stdout + r.stderr).toBe("");
    expect(r.code).toBe(0);
  },
);

it("the client starts with a POSIX sh shebang and set -euf, and is executable", async () => {
  const text = await readFile(CLIENT, "utf8");
  expect(text.startsWith("#!/bin/sh\n")).toBe(true);
  expect(text).toMatch(/^set -euf$/m);
  await access(CLIENT, constants.X_OK);
  // Never the password on a command line: curl gets its config on stdin, never -u/--user.
  expect(text).not.toMatch(/curl[^\n]*\s(-u|--user)\s/);
});

/** Directives of a unit file, "Key=value" per line, comments dropped. */
async function directives(path: string): Promise<string[]> {
  return (await readFile(path, "utf8"))
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#") && !l.startsWith("["));
}

describe("the systemd units", () => {
  it("the service is a hardened oneshot whose failures stay visible", async () => {
    const d = await directives(SERVICE);
    for (const expected of [
      "Type=oneshot",
      "ExecStart=/usr/local/sbin/ovh-dyndns-client",
      "StateDirectory=ovh-dyndns",
      "NoNewPrivileges=yes",
      "ProtectSystem=strict",
      "ProtectHome=yes",
      "PrivateTmp=yes",
      "CapabilityBoundingSet=",
      "RestrictAddressFamilies=AF_INET AF_INET6 AF_NETLINK AF_UNIX",
      "ReadOnlyPaths=-/etc/ovh-dyndns",
      "After=network-online.target",
      "Wants=network-online.target",
    ]) {
      expect(d).toContain(expected);
    }
    // Exit 75 (try again later) must show as a failure, not be swallowed.
    expect(d.filter((l) => l.startsWith("SuccessExitStatus="))).toEqual([]);
  });

  it("the watcher's service is hardened like the timer's, runs --watch and always comes back", async () => {
    const oneshot = (await directives(SERVICE)).filter(
      (l) => !/^(Description|Type|ExecStart|TimeoutStartSec)=/.test(l),
    );
    const d = await directives(WATCH);
    for (const expected of [
      ...oneshot,
      "Type=simple",
      "ExecStart=/usr/local/sbin/ovh-dyndns-client --watch",
      "Restart=always",
      "RestartPreventExitStatus=64 78",
      "Conflicts=ovh-dyndns.timer ovh-dyndns.service",
      "WantedBy=multi-user.target",
    ]) {
      expect(d).toContain(expected);
    }
  });

  it("the timer runs a minute after boot and every five minutes", async () => {
    const d = await directives(TIMER);
    expect(d).toContain("OnBootSec=1min");
    expect(d).toContain("OnUnitActiveSec=5min");
    expect(d).toContain("WantedBy=timers.target");
  });

  const noAnalyze = missing("systemd-analyze");
  describe.skipIf(noAnalyze)(`systemd-analyze${noAnalyze ? ` (skipped: ${noAnalyze})` : ""}`, () => {
    let dir: { path: string; remove(): Promise<void> };
    beforeAll(async () => {
      // verify wants ExecStart to exist: point it at the script in this tree.
      dir = await tempDir("ovh-dyndns-units");
      const service = (await readFile(SERVICE, "utf8")).replace(/^ExecStart=.*$/m, `ExecStart=${CLIENT}`);
      await writeFile(join(dir.path, "ovh-dyndns.service"), service);
      await copyFile(TIMER, join(dir.path, "ovh-dyndns.timer"));
      const watch = (await readFile(WATCH, "utf8")).replace(/^ExecStart=\S+/m, `ExecStart=${CLIENT}`);
      await writeFile(join(dir.path, "ovh-dyndns-watch.service"), watch);
    });
    afterAll(async () => {
      await dir?.remove();
    });

    it("verify finds nothing to say about any unit", async () => {
      const r = await run(
        "systemd-analyze",
        ["verify", "./ovh-dyndns.service", "./ovh-dyndns.timer", "./ovh-dyndns-watch.service"],
        {
          cwd: dir.path,
        },
      );
      // It warns (exit 0) about unknown keys and bad values; any line about our files is a finding.
      const findings = (r.stdout + r.stderr).split("\n").filter((l) => l.includes("ovh-dyndns."));
      expect(findings).toEqual([]);
      expect(r.code).toBe(0);
    });

    for (const unit of ["ovh-dyndns.service", "ovh-dyndns-watch.service"]) {
      it(`security rates ${unit}'s exposure as low`, async () => {
        const r = await run("systemd-analyze", ["security", "--offline=true", `./${unit}`], {
          cwd: dir.path,
        });
        const score = new RegExp(`Overall exposure level for ${unit.replace(/\./g, "\\.")}: ([\\d.]+)`).exec(
          r.stdout + r.stderr,
        );
        expect(score, r.stdout + r.stderr).not.toBeNull();
        expect(Number(score?.[1])).toBeLessThanOrEqual(2.5);
      });
    }
  });
});
