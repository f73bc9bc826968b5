import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../", import.meta.url));
let child: ChildProcess;
let url = "";

beforeAll(async () => {
  child = spawn(process.execPath, ["--import", "tsx", "sim/cli.ts", "--port", "0", "--demo"], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stderr?.on("data", (d: Buffer) => {
    err += d.toString();
  });
  url = await new Promise<string>((resolve, reject) => {
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      const line = out.split("\n")[0];
      if (out.includes("\n") && line) resolve(line);
    });
    child.once("exit", (code) => reject(new Error(`cli exited with ${code}: ${err}`)));
  });
});

afterAll(async () => {
  if (child.exitCode === null) {
    const exited = once(child, "exit");
    child.kill("SIGTERM");
    await exited;
  }
});

describe("sim/cli.ts --demo", () => {
  it("prints the API URL as its first line", () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/1\.0$/);
  });

  it("seeds example.test with the live firewall A record", async () => {
    const origin = new URL(url).origin;
    const zone = (await (await fetch(`${origin}/_sim/zones/example.test`)).json()) as {
      written: unknown[];
      live: unknown[];
    };
    const firewall = {
      zone: "example.test",
      fieldType: "A",
      subDomain: "firewall",
      target: "198.51.100.7",
      ttl: 60,
    };
    expect(zone.written).toEqual([expect.objectContaining(firewall)]);
    expect(zone.live).toEqual(zone.written);
  });

  it("accepts the demo credentials on the demo zone only", async () => {
    const call = async (method: string, path: string) => {
      const full = `${url}${path}`;
      const ts = Math.floor(Date.now() / 1000);
      const signature = `$1$${createHash("sha1")
        .update(["demo-app-secret", "demo-consumer-key", method, full, "", ts].join("+"))
        .digest("hex")}`;
      const res = await fetch(full, {
        method,
        headers: {
          "X-Ovh-Application": "demo-app-key",
          "X-Ovh-Consumer": "demo-consumer-key",
          "X-Ovh-Timestamp": String(ts),
          "X-Ovh-Signature": signature,
        },
      });
      return { status: res.status, body: (await res.json()) as unknown };
    };
    const list = await call("GET", "/domain/zone/example.test/record?fieldType=A&subDomain=firewall");
    expect(list.status).toBe(200);
    expect(list.body).toHaveLength(1);
    expect((await call("GET", "/domain/zone/example.test")).status).toBe(200);
    expect((await call("POST", "/domain/zone/example.test/refresh")).status).toBe(200);
    expect((await call("DELETE", "/domain/zone/example.test/record/1")).status).toBe(403);
  });
});
