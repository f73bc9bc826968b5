// The files a deployment without this machine reads: .dev.vars.example (the secrets the "Deploy
// to Cloudflare" button asks for), package.json's `cloudflare.bindings` (their descriptions), the
// GitHub Actions workflow, and the README's and docs' deployment steps. Each must agree with the
// configuration's own list of secrets (src/config/secrets.ts) and with wrangler.toml; neither the
// button nor the workflow can run here.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "smol-toml";
import { describe, expect, it } from "vitest";
import { parseDevVars } from "../../scripts/cli/secrets";
import { SECRETS } from "../../src/config";
import { ROOT } from "./support";

const read = (file: string) => readFileSync(join(ROOT, file), "utf8");
const KEYS = SECRETS.map((s) => s.key);

/** The binding names wrangler.toml gives: Durable Objects and the static assets. */
function wranglerBindings(): string[] {
  const toml = parse(read("wrangler.toml")) as {
    durable_objects?: { bindings?: { name: string }[] };
    assets?: { binding?: string };
    vars?: Record<string, unknown>;
  };
  return [
    ...(toml.durable_objects?.bindings ?? []).map((b) => b.name),
    ...(toml.assets?.binding ? [toml.assets.binding] : []),
  ];
}

/** The section of a Markdown file under `heading`, up to the next heading of its level or higher. */
function section(file: string, heading: string): string {
  const text = read(file);
  const start = text.indexOf(`${heading}\n`);
  if (start < 0) throw new Error(`${file} has no "${heading}"`);
  const level = /^#+/.exec(heading)?.[0] ?? "##";
  const rest = text.slice(start + heading.length);
  const end = rest.search(new RegExp(`\\n#{1,${level.length}} `));
  return end < 0 ? rest : rest.slice(0, end);
}

describe("the secrets a deployment is asked for", () => {
  it("the configuration's list holds every secret the Worker's env declares, HEARTBEAT_URL included", () => {
    const env = read("src/env.ts");
    const declared = [
      ...env.slice(env.indexOf("// secrets")).matchAll(/^ {2}([A-Z][A-Z0-9_]+)\?: string;$/gm),
    ].map((m) => m[1]);
    expect(declared).toEqual(KEYS);
    expect(KEYS).toContain("HEARTBEAT_URL");
  });

  it(".dev.vars.example lists exactly those secrets, each under its line from the list, with no value", () => {
    const text = read(".dev.vars.example");
    expect([...parseDevVars(text).entries()]).toEqual(KEYS.map((k) => [k, ""]));
    for (const s of SECRETS) expect(text).toContain(`\n# ${s.doc}\n${s.key}=\n`);
  });

  it("package.json describes every secret and every binding of wrangler.toml, and nothing else", () => {
    const pkg = JSON.parse(read("package.json")) as {
      cloudflare?: { bindings?: Record<string, { description?: string }> };
    };
    const bindings = pkg.cloudflare?.bindings ?? {};
    expect(Object.keys(bindings).sort()).toEqual([...KEYS, ...wranglerBindings()].sort());
    for (const s of SECRETS) expect(bindings[s.key]?.description).toBe(s.doc);
    for (const name of wranglerBindings()) expect(bindings[name]?.description).toMatch(/\w{3}/);
  });

  it("wrangler.toml holds none of them in [vars], and git ignores .dev.vars but not the example", () => {
    const toml = parse(read("wrangler.toml")) as { vars?: Record<string, unknown> };
    expect(Object.keys(toml.vars ?? {}).filter((k) => KEYS.includes(k))).toEqual([]);
    const ignored = (file: string) => {
      try {
        execFileSync("git", ["check-ignore", "-q", file], { cwd: ROOT });
        return true;
      } catch {
        return false;
      }
    };
    expect(ignored(".dev.vars")).toBe(true);
    expect(ignored(".dev.vars.example")).toBe(false);
  });
});

describe("the deploy steps", () => {
  it("the workflow runs the tests, then npm run deploy (check first) with the Cloudflare token", () => {
    const workflow = read(".github/workflows/deploy.yml");
    const test = workflow.indexOf("- run: npm test\n");
    const deploy = workflow.indexOf("run: npm run deploy\n");
    expect(test).toBeGreaterThan(0);
    expect(deploy).toBeGreaterThan(test);
    expect(workflow.slice(deploy)).toMatch(/CLOUDFLARE_API_TOKEN: \$\{\{ secrets\.CLOUDFLARE_API_TOKEN \}\}/);
    const pkg = JSON.parse(read("package.json")) as { scripts: Record<string, string> };
    expect(pkg.scripts.deploy).toBe("npm run check && wrangler deploy");
  });

  it("README's Deployment and docs/setup.md's From zero create SESSION_SECRET and name it", () => {
    for (const [file, heading] of [
      ["README.md", "## Deployment"],
      ["docs/setup.md", "## From zero to a working FRITZ!Box"],
    ] as const) {
      const steps = section(file, heading);
      expect(steps, file).toContain("SESSION_SECRET");
      expect(steps, file).toMatch(/npm run setup -- ovh --apply/);
      expect(steps, file).toContain("npm run setup -- session");
    }
  });

  it("README and docs/benchmarks.md quote the same bundle size (wrangler's gzip figure)", () => {
    const readme = read("README.md").replace(/\s+/g, " ");
    const bench = read("docs/benchmarks.md");
    const quoted = /The bundle was ([\d.]+) KiB gzip in that run \(wrangler's figure/.exec(readme)?.[1];
    expect(quoted).toMatch(/^\d+\.\d\d$/);
    expect(/\| bundle, gzip \(wrangler\), a guard \| ([\d.]+) KiB \|/.exec(bench)?.[1]).toBe(quoted);
    expect(/wrangler: "Total Upload: [\d.]+ KiB \/ gzip: ([\d.]+) KiB"/.exec(bench)?.[1]).toBe(quoted);
    expect(/\*\*Size and start-up\.\*\* ([\d.]+) KiB gzip/.exec(bench)?.[1]).toBe(quoted);
    // Any other gzip figure there is labelled as the bench's own, not wrangler's.
    expect(bench).not.toMatch(/gzip \(wrangler --dry-run/);
  });

  it("`npx wrangler types`' output is ignored, so lint does not read it", () => {
    expect(() =>
      execFileSync("git", ["check-ignore", "-q", "worker-configuration.d.ts"], { cwd: ROOT }),
    ).not.toThrow();
  });

  it("the README describes the button and the workflow, and says neither runs here", () => {
    const text = section("README.md", "## Deployment").replace(/\s+/g, " ");
    expect(text).toContain("https://deploy.workers.cloudflare.com/?url=");
    expect(text).toContain(".dev.vars.example");
    expect(text).toContain(".github/workflows/deploy.yml");
    expect(text).toContain("CLOUDFLARE_API_TOKEN");
    expect(text).toMatch(/neither .* tested here/i);
  });
});
