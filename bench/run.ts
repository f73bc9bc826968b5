// `npm run bench`: OVH calls and latency per kind of report, throughput against a hello-world
// Worker, bundle size and start-up, all in workerd (Miniflare) against the OVH simulator on
// loopback. Prints a table, writes bench/results/latest.json and latest.md. Never part of
// `npm test`: timings depend on the machine. See docs/benchmarks.md.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startOvhSimulator } from "../sim/ovh-simulator";
import { ROOT } from "../test/support/endpoint";
import { buildDeployable } from "./build";
import { BenchClient, median } from "./client";
import { AUTHORIZATION, benchBindings, ONE, seed } from "./config";
import { profile, type VariantResult } from "./profile";
import { checks, type Machine, type Options, type Results, renderMarkdown, TARGETS } from "./report";
import { runScenarios, simulatorOverhead } from "./scenarios";
import { measureStartup } from "./startup";
import { compareLoad } from "./throughput";
import { MAIN_DURABLE_OBJECTS, startWorker } from "./worker";

const USAGE = `npm run bench -- [options]
  --rtt MS              OVH round trip the simulator injects (default 50)
  --iterations N        sequential requests per scenario (default 20)
  --cold-iterations N   requests of the scenarios that start a fresh workerd each (default 5)
  --concurrency N       throughput: parallel connections (default 16)
  --duration MS         throughput: length of one round (default 3000)
  --rounds N            throughput: rounds per Worker, alternating (default 7)
  --startup-runs N      fresh starts per Worker (default 5)
  --profile             always run the where-does-the-time-go profile (default: only when the
                        throughput target is missed); --no-profile never runs it`;

const { values } = parseArgs({
  options: {
    rtt: { type: "string", default: "50" },
    iterations: { type: "string", default: "20" },
    "cold-iterations": { type: "string", default: "5" },
    concurrency: { type: "string", default: "16" },
    duration: { type: "string", default: "3000" },
    rounds: { type: "string", default: "7" },
    "startup-runs": { type: "string", default: "5" },
    profile: { type: "boolean" },
    "no-profile": { type: "boolean" },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

function int(name: keyof typeof values, min: number, max: number): number {
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n < min || n > max) {
    console.error(`--${name}: expected a whole number from ${min} to ${max}\n\n${USAGE}`);
    process.exit(2);
  }
  return n;
}

const options: Options = {
  rttMs: int("rtt", 0, 1000),
  iterations: int("iterations", 1, 1000),
  coldIterations: int("cold-iterations", 1, 50),
  concurrency: int("concurrency", 1, 256),
  durationMs: int("duration", 200, 60_000),
  warmupMs: 1000,
  rounds: int("rounds", 1, 20),
  startupRuns: int("startup-runs", 1, 20),
};

const say = (line: string) => console.error(`bench: ${line}`);
const work = join(ROOT, ".tmp", `bench-${process.pid}`);
const resultsDir = join(ROOT, "bench", "results");

function version(pkg: string, from = ROOT): string {
  const require = createRequire(join(from, "noop.js"));
  return (JSON.parse(readFileSync(require.resolve(`${pkg}/package.json`), "utf8")) as { version: string })
    .version;
}

function machine(loadStart: number[]): Machine {
  const model =
    /^model name\s*:\s*(.*)$/m.exec(safeRead("/proc/cpuinfo"))?.[1] ?? cpus()[0]?.model ?? "unknown";
  const miniflareDir = join(createRequire(join(ROOT, "noop.js")).resolve("miniflare"), "..", "..");
  const git = (...args: string[]) =>
    execFileSync("git", args, { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  let commit = "unknown";
  let dirty = false;
  try {
    commit = git("rev-parse", "--short", "HEAD");
    dirty = git("status", "--porcelain", "--", "src", "wrangler.toml", "package-lock.json") !== "";
  } catch {
    // not a git checkout: leave it unknown
  }
  return {
    date: `${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC`,
    commit,
    dirty,
    cpus: cpus().length,
    cpuModel: model.trim(),
    loadAverage: { start: loadStart, end: loadavg() },
    node: process.version,
    workerd: version("workerd", miniflareDir),
    miniflare: version("miniflare"),
    wrangler: version("wrangler"),
  };
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

async function main(): Promise<void> {
  const loadStart = loadavg();
  const started = performance.now();
  await mkdir(work, { recursive: true });

  say("building the Workers with wrangler deploy --dry-run --minify …");
  const [mainBundle, helloBundle, floorBundle] = await Promise.all([
    buildDeployable(join(ROOT, "wrangler.toml"), join(work, "main")),
    buildDeployable(join(ROOT, "bench", "hello", "wrangler.toml"), join(work, "hello")),
    buildDeployable(join(ROOT, "bench", "floor", "wrangler.toml"), join(work, "floor")),
  ]);
  const gzipKiB = Number(
    /gzip:\s*([\d.]+)\s*KiB/.exec(mainBundle.wranglerSays)?.[1] ?? mainBundle.gzipBytes / 1024,
  );

  const sim = await startOvhSimulator({ latencyMs: options.rttMs });
  seed(sim, options.iterations);
  const bindings = await benchBindings(sim.url, options.iterations);
  const mainOptions = { scriptPath: mainBundle.scriptPath, bindings, durableObjects: MAIN_DURABLE_OBJECTS };
  const helloOptions = { scriptPath: helloBundle.scriptPath };

  try {
    say(`scenarios (${options.iterations} requests each, round trip ${options.rttMs} ms) …`);
    const simOverheadMs = await simulatorOverhead(sim, options.rttMs);
    const worker = await startWorker(mainOptions);
    const floor = await startWorker({
      scriptPath: floorBundle.scriptPath,
      bindings: { OVH_ENDPOINT: sim.url },
      durableObjects: { FLOOR: "Floor" },
    });
    let scenarios: Results["scenarios"];
    try {
      scenarios = await runScenarios(
        {
          sim,
          worker,
          floor,
          freshWorker: () => startWorker(mainOptions),
          rttMs: options.rttMs,
          iterations: options.iterations,
          coldIterations: options.coldIterations,
        },
        say,
      );
    } finally {
      await worker.close();
      await floor.close();
    }

    // Throughput: fresh Workers; the dyndns one learns its records from one report first, so the
    // measured reports are all unchanged ones (no OVH call).
    say(`throughput at concurrency ${options.concurrency} …`);
    const path = `/nic/update?hostname=${ONE.host}&myip=2001:db8:7::1`;
    const headers = { Authorization: AUTHORIZATION, "User-Agent": "ovh-dyndns-bench" };
    const mainWorker = await startWorker(mainOptions);
    const helloWorker = await startWorker(helloOptions);
    let loads: Awaited<ReturnType<typeof compareLoad>>;
    try {
      const client = new BenchClient();
      const first = await client.get(mainWorker.url + path, headers);
      client.close();
      if (first.status !== 200) throw new Error(`priming report answered ${first.status} ${first.body}`);
      loads = await compareLoad(
        [
          { name: "main", worker: mainWorker, path, headers },
          // The same request: what the runtime spends on its URL and headers is not the Worker's.
          { name: "hello", worker: helloWorker, path, headers },
        ],
        options,
      );
    } finally {
      await mainWorker.close();
      await helloWorker.close();
    }
    const [mainLoad, helloLoad] = loads as [(typeof loads)[0], (typeof loads)[0]];
    if (mainLoad.errors + helloLoad.errors > 0)
      throw new Error(`throughput: ${mainLoad.errors} + ${helloLoad.errors} requests did not answer 200`);
    const roundRatios = mainLoad.rounds.map((n, i) => n / (helloLoad.rounds[i] ?? Number.NaN));
    const ratio = median(roundRatios);

    say(`start-up, ${options.startupRuns} fresh starts each …`);
    const [mainStart, helloStart] = (await measureStartup(
      [
        { name: "main", options: mainOptions },
        { name: "hello", options: helloOptions },
      ],
      options.startupRuns,
    )) as [Results["startup"]["main"], Results["startup"]["main"]];

    let profiled: VariantResult[] | undefined;
    const wantProfile = values.profile || (!values["no-profile"] && ratio < TARGETS.throughputRatio);
    if (wantProfile) {
      say("profile: where does an unchanged report's time go …");
      profiled = await profile(
        {
          outdir: join(work, "variants"),
          bindings,
          helloScript: helloBundle.scriptPath,
          path,
          headers,
          concurrency: options.concurrency,
          // Shorter than the throughput rounds: eleven Workers take turns.
          warmupMs: 300,
          durationMs: Math.min(options.durationMs, 1000),
          rounds: options.rounds,
          batch: 40,
        },
        say,
      );
    }

    const partial = {
      machine: machine(loadStart),
      options,
      scenarios,
      simOverheadMs,
      throughput: { main: mainLoad, hello: helloLoad, ratio, roundRatios },
      bundle: { main: mainBundle, hello: helloBundle, gzipKiB },
      startup: {
        main: mainStart,
        hello: helloStart,
        ratio: mainStart.firstResponseMs / helloStart.firstResponseMs,
      },
      profile: profiled,
    };
    const results: Results = { ...partial, checks: checks(partial) };
    const markdown = renderMarkdown(results);
    await mkdir(resultsDir, { recursive: true });
    await writeFile(join(resultsDir, "latest.json"), `${JSON.stringify(results, null, 2)}\n`);
    await writeFile(join(resultsDir, "latest.md"), markdown);
    console.log(`\n${markdown}`);
    const failed = results.checks.filter((c) => !c.pass);
    say(
      `done in ${Math.round((performance.now() - started) / 1000)} s; ` +
        (failed.length ? `missed: ${failed.map((c) => c.what).join("; ")}` : "every target met") +
        "; wrote bench/results/latest.json and latest.md",
    );
  } finally {
    await sim.close();
    await rm(work, { recursive: true, force: true });
    // wrangler leaves an empty state directory next to the config it builds.
    for (const dir of ["hello", "floor"])
      await rm(join(ROOT, "bench", dir, ".wrangler"), { recursive: true, force: true });
  }
}

// A bench that hangs is worse than one that fails: stop after ten minutes whatever happens.
const watchdog = setTimeout(() => {
  console.error("bench: still running after 10 minutes; giving up");
  process.exit(1);
}, 600_000);
watchdog.unref();

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
