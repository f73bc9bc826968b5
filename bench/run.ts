// `npm run bench`: per kind of report, what it costs on the Workers Free plan (Durable Object
// requests, SQLite rows, workerd CPU) and at OVH (calls), the reports per day a free account
// carries, and the latency in OVH round trips; the bundle and start-up against a hello-world
// Worker. All in workerd (Miniflare) against the OVH simulator on loopback. Prints a table, writes
// bench/results/latest.json and latest.md. Never part of `npm test`. See docs/benchmarks.md.
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
import { AUTHORIZATION, benchBindings, ONE, seed } from "./config";
import { type PaceRow, paceRows } from "./pace";
import { checks, type Machine, type Options, type Results, renderMarkdown } from "./report";
import { cpuPerRequest, firstRequestCpu, runScenarios, simulatorOverhead } from "./scenarios";
import { measureStartup } from "./startup";
import { MAIN_DURABLE_OBJECTS, startWorker } from "./worker";

const USAGE = `npm run bench -- [options]
  --rtt MS              OVH round trip the simulator injects (default 50)
  --iterations N        sequential requests per scenario (default 20)
  --cold-iterations N   requests of the scenarios that start a fresh workerd each (default 5)
  --startup-runs N      fresh starts per Worker (default 5)`;

const { values } = parseArgs({
  options: {
    rtt: { type: "string", default: "50" },
    iterations: { type: "string", default: "20" },
    "cold-iterations": { type: "string", default: "5" },
    "startup-runs": { type: "string", default: "5" },
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
  const build = (name: string) =>
    buildDeployable(join(ROOT, "bench", name, "wrangler.toml"), join(work, name));
  const [mainBundle, meterBundle, helloBundle, floorBundle] = await Promise.all([
    buildDeployable(join(ROOT, "wrangler.toml"), join(work, "main")),
    build("meter"),
    build("hello"),
    build("floor"),
  ]);
  const gzipKiB = Number(
    /gzip:\s*([\d.]+)\s*KiB/.exec(mainBundle.wranglerSays)?.[1] ?? mainBundle.gzipBytes / 1024,
  );

  const sim = await startOvhSimulator({ latencyMs: options.rttMs });
  seed(sim, options.iterations);
  const bindings = await benchBindings(sim.url, options.iterations);
  // The scenarios run bench/meter/: the Worker's own code, counted (bench/meter/index.ts).
  const metered = {
    scriptPath: meterBundle.scriptPath,
    bindings,
    durableObjects: MAIN_DURABLE_OBJECTS,
    metered: true,
  };
  const path = `/nic/update?hostname=${ONE.host}&myip=2001:db8:7::1`;
  const headers = { Authorization: AUTHORIZATION, "User-Agent": "ovh-dyndns-bench" };

  try {
    say(`scenarios (${options.iterations} requests each, round trip ${options.rttMs} ms) …`);
    const simOverheadMs = await simulatorOverhead(sim, options.rttMs);
    const worker = await startWorker(metered);
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
          freshWorker: (persist) => startWorker({ ...metered, persist }),
          persistDir: join(work, "persist"),
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

    say(
      "the pace's rows: two reports bigger than its burst, at the default pace, until every record is live …",
    );
    const pacedWorker = await startWorker({
      ...metered,
      bindings: await benchBindings(sim.url, 0, { paced: true }),
    });
    let pace: PaceRow[];
    try {
      sim.resetCalls();
      pace = await paceRows(sim, pacedWorker);
      for (const p of pace)
        say(
          `${p.title}: ${p.calls} calls, reply ${(p.reply.ms / 1000).toFixed(1)} s (${p.reply.good} good), ` +
            (p.liveMs === undefined
              ? "not live within 240 s"
              : `live after ${(p.liveMs / 1000).toFixed(1)} s, ${(p.liveMs / p.idealMs).toFixed(2)}× the pace's ideal ${(p.idealMs / 1000).toFixed(1)} s`),
        );
    } finally {
      await pacedWorker.close();
    }

    // The CPU ratios' denominators: hello-world answering the very request a report makes, in a
    // warm isolate and as the first request of a fresh workerd.
    say("hello-world's CPU for the same request …");
    const helloOptions = { scriptPath: helloBundle.scriptPath };
    const hello = await startWorker(helloOptions);
    let helloCpuMs: Results["helloCpuMs"];
    try {
      helloCpuMs = {
        warm: await cpuPerRequest(hello, path, headers, options.iterations),
        fresh: await firstRequestCpu(() => startWorker(helloOptions), path, headers, options.coldIterations),
      };
    } finally {
      await hello.close();
    }

    say(`start-up, ${options.startupRuns} fresh starts each …`);
    const [mainStart, helloStart] = (await measureStartup(
      [
        {
          name: "main",
          options: { scriptPath: mainBundle.scriptPath, bindings, durableObjects: MAIN_DURABLE_OBJECTS },
        },
        { name: "hello", options: { scriptPath: helloBundle.scriptPath } },
      ],
      options.startupRuns,
    )) as [Results["startup"]["main"], Results["startup"]["main"]];

    const partial = {
      machine: machine(loadStart),
      options,
      scenarios,
      pace,
      simOverheadMs,
      helloCpuMs,
      bundle: { main: mainBundle, hello: helloBundle, gzipKiB },
      startup: {
        main: mainStart,
        hello: helloStart,
        ratio: mainStart.firstResponseMs / helloStart.firstResponseMs,
      },
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
        (failed.length ? `missed: ${failed.map((c) => c.what).join("; ")}` : "every check passed") +
        "; wrote bench/results/latest.json and latest.md",
    );
  } finally {
    await sim.close();
    await rm(work, { recursive: true, force: true });
    // wrangler leaves an empty state directory next to the config it builds.
    for (const dir of ["meter", "hello", "floor"])
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
