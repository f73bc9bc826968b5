// The deployable bundles, built the way `wrangler deploy` builds them (offline, --dry-run), so the
// sizes are what Cloudflare would receive and the benchmarks run the very same code in workerd.
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { ROOT } from "../test/support/endpoint";

const run = promisify(execFile);
const WRANGLER = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");

export interface Bundle {
  /** The minified module wrangler would upload. */
  scriptPath: string;
  bytes: number;
  /** gzip (zlib level 9) of the module, our own count. */
  gzipBytes: number;
  /** wrangler's own "Total Upload: … / gzip: …" line. */
  wranglerSays: string;
  /** Minified bytes per input package or source file, largest first. */
  composition: { input: string; bytes: number }[];
}

interface Metafile {
  outputs: Record<string, { entryPoint?: string; inputs: Record<string, { bytesInOutput: number }> }>;
}

/** `wrangler deploy --dry-run --minify --outdir <outdir> --config <config>`, then measure. */
export async function buildDeployable(config: string, outdir: string): Promise<Bundle> {
  const { stdout } = await run(
    process.execPath,
    [WRANGLER, "deploy", "--dry-run", "--minify", "--outdir", outdir, "--metafile", "--config", config],
    {
      cwd: ROOT,
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "1", NO_COLOR: "1" },
      timeout: 120_000,
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  const scriptPath = join(outdir, "index.js");
  const code = await readFile(scriptPath);
  const meta = JSON.parse(await readFile(join(outdir, "bundle-meta.json"), "utf8")) as Metafile;
  return {
    scriptPath,
    bytes: code.length,
    gzipBytes: gzipSync(code, { level: 9 }).length,
    wranglerSays: /Total Upload:[^\n]*/.exec(stdout)?.[0] ?? "(no size line in wrangler's output)",
    composition: composition(meta),
  };
}

/** Group the metafile's inputs by npm package (node_modules/<pkg>) or by source file. */
function composition(meta: Metafile): { input: string; bytes: number }[] {
  const totals = new Map<string, number>();
  for (const output of Object.values(meta.outputs)) {
    if (!output.entryPoint) continue;
    for (const [path, { bytesInOutput }] of Object.entries(output.inputs)) {
      const parts = path.split("/");
      const at = parts.lastIndexOf("node_modules");
      const scoped = parts[at + 1]?.startsWith("@");
      const input = at >= 0 ? parts.slice(at + 1, at + (scoped ? 3 : 2)).join("/") : path;
      totals.set(input, (totals.get(input) ?? 0) + bytesInOutput);
    }
  }
  return [...totals]
    .map(([input, bytes]) => ({ input, bytes }))
    .filter((e) => e.bytes > 0)
    .sort((a, b) => b.bytes - a.bytes);
}
