// The bench's verdicts and its table: the same Markdown goes to the terminal and to
// bench/results/latest.md (quoted by the README and docs/benchmarks.md).
import type { Bundle } from "./build";
import type { VariantResult } from "./profile";
import type { ScenarioResult } from "./scenarios";
import type { StartupResult } from "./startup";
import type { TargetLoad } from "./throughput";

/** The limits of the issue "Benchmarks: OVH calls, latency, throughput and bundle size". */
export const TARGETS = {
  unchangedCalls: 0,
  unchangedRtt: 0.1,
  warmChangeCalls: 3,
  warmChangeRtt: 2.2,
  throughputRatio: 0.7,
  bundleGzipKiB: 30,
} as const;

export interface Machine {
  date: string;
  /** HEAD when measured, and whether src/ or wrangler.toml differed from it. */
  commit: string;
  dirty: boolean;
  cpus: number;
  cpuModel: string;
  loadAverage: { start: number[]; end: number[] };
  node: string;
  workerd: string;
  miniflare: string;
  wrangler: string;
}

export interface Options {
  rttMs: number;
  iterations: number;
  coldIterations: number;
  concurrency: number;
  durationMs: number;
  warmupMs: number;
  rounds: number;
  startupRuns: number;
}

export interface Check {
  what: string;
  value: string;
  target: string;
  pass: boolean;
}

export interface Results {
  machine: Machine;
  options: Options;
  scenarios: ScenarioResult[];
  /** One simulator round trip from Node beyond the injected RTT, ms (p50): the simulator's own share. */
  simOverheadMs: number;
  throughput: { main: TargetLoad; hello: TargetLoad; ratio: number; roundRatios: number[] };
  bundle: { main: Bundle; hello: Bundle; gzipKiB: number };
  startup: { main: StartupResult; hello: StartupResult; ratio: number };
  profile?: VariantResult[];
  checks: Check[];
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(2)} KiB`;
const x = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : "-");

export function checks(r: Omit<Results, "checks">): Check[] {
  const out: Check[] = [];
  const unchanged = r.scenarios.find((s) => s.id === "unchanged");
  const warm = r.scenarios.find((s) => s.id === "change-warm");
  if (unchanged) {
    const calls = unchanged.apiCalls.max + unchanged.authTime.max;
    out.push({
      what: "unchanged report: OVH calls",
      value: String(calls),
      target: `${TARGETS.unchangedCalls}`,
      pass: calls <= TARGETS.unchangedCalls,
    });
    out.push(...latency("unchanged report", unchanged, TARGETS.unchangedRtt, 0));
  }
  if (warm) {
    const calls = warm.apiCalls.max + warm.authTime.max;
    out.push({
      what: "warm change: OVH calls",
      value: String(calls),
      target: `≤ ${TARGETS.warmChangeCalls}`,
      pass: calls <= TARGETS.warmChangeCalls,
    });
    const floor = r.scenarios.find((s) => s.id === "floor");
    out.push(...latency("warm change", warm, TARGETS.warmChangeRtt, 2 * r.simOverheadMs, floor));
  }
  out.push({
    what: `throughput vs hello-world (concurrency ${r.options.concurrency})`,
    value: `${x(r.throughput.ratio)}×`,
    target: `≥ ${TARGETS.throughputRatio}×`,
    pass: r.throughput.ratio >= TARGETS.throughputRatio,
  });
  out.push({
    what: "bundle, gzip (wrangler)",
    value: `${x(r.bundle.gzipKiB)} KiB`,
    target: `≤ ${TARGETS.bundleGzipKiB} KiB`,
    pass: r.bundle.gzipKiB <= TARGETS.bundleGzipKiB,
  });
  return out;
}

/**
 * p50 and p95 against the limit; `simMs` is the simulator's own share and `floor` the same hops
 * without the Worker's logic in the same run: both shown, never subtracted.
 */
function latency(
  what: string,
  s: ScenarioResult,
  limit: number,
  simMs: number,
  floor?: ScenarioResult,
): Check[] {
  return (["p50", "p95"] as const).map((q) => {
    const rtt = q === "p50" ? s.p50Rtt : s.p95Rtt;
    const ms = q === "p50" ? s.p50Ms : s.p95Ms;
    const net =
      simMs > 0 ? `; ${x((ms - simMs) / (ms / rtt))} RTT without the simulator's ${x(simMs, 1)} ms` : "";
    const floorRtt = floor && (q === "p50" ? floor.p50Rtt : floor.p95Rtt);
    const beside = floorRtt === undefined ? "" : `; the floor: ${x(floorRtt)} RTT`;
    return {
      what: `${what}: ${q} latency`,
      value: `${x(rtt)} RTT (${x(ms, 1)} ms${net}${beside})`,
      target: `≤ ${limit} RTT`,
      pass: rtt <= limit,
    };
  });
}

function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.map((c) => c.replace(/\|/g, "\\|")).join(" | ")} |`;
  return [line(head), line(head.map(() => "---")), ...rows.map(line)].join("\n");
}

export function renderMarkdown(r: Results): string {
  const m = r.machine;
  const o = r.options;
  const verdict = (pass: boolean) => (pass ? "pass" : "**FAIL**");
  const parts: string[] = [];
  parts.push(
    `Measured ${m.date} on ${m.cpus} × ${m.cpuModel} (load average ${m.loadAverage.start.map((l) => l.toFixed(1)).join(" ")} at the start, ` +
      `${m.loadAverage.end.map((l) => l.toFixed(1)).join(" ")} at the end); Node ${m.node}, workerd ${m.workerd} ` +
      `(Miniflare ${m.miniflare}), wrangler ${m.wrangler}; commit ${m.commit}${m.dirty ? " with uncommitted changes in src/" : ""}. Injected OVH round trip ${o.rttMs} ms; ` +
      `${o.iterations} sequential requests per scenario (${o.coldIterations} for fresh-workerd ones). ` +
      `One simulator round trip from Node takes the RTT + ${x(r.simOverheadMs)} ms (p50): that much of each ` +
      "round trip below is the simulator's, not the Worker's.",
  );

  parts.push(
    table(
      ["target", "measured", "limit", ""],
      r.checks.map((c) => [c.what, c.value, c.target, verdict(c.pass)]),
    ),
  );

  parts.push(
    table(
      [
        "scenario",
        "API calls",
        "auth-time",
        "OVH calls in order (→ = next round trip)",
        "p50",
        "p95",
        "ms beyond the round trips: before / between / after the OVH calls (p50)",
        "expected",
      ],
      r.scenarios.map((s) => [
        s.title,
        range(s.apiCalls),
        range(s.authTime),
        s.waves,
        `${x(s.p50Rtt)} RTT (${x(s.p50Ms, 1)} ms)`,
        `${x(s.p95Rtt)} RTT (${x(s.p95Ms, 1)} ms)`,
        s.overheadMs
          ? `${s.overheadMs.beforeFirstCall} / ${s.overheadMs.betweenCalls} / ${s.overheadMs.afterLastAnswer}`
          : "-",
        `${s.expected.apiCalls} calls, ${s.expected.rtt} RTT: ${s.expected.why}`,
      ]),
    ),
  );

  const t = r.throughput;
  const cpu = (l: TargetLoad) => (l.workerdCpuMs === undefined ? "-" : `${x(l.workerdCpuMs)} ms`);
  parts.push(
    table(
      ["", "ovh-dyndns-worker", "hello-world", "ratio"],
      [
        [
          `requests/s, concurrency ${o.concurrency} (median of ${o.rounds} rounds of ${o.durationMs / 1000} s)`,
          `${Math.round(t.main.perSecond)} (${t.main.rounds.join(", ")})`,
          `${Math.round(t.hello.perSecond)} (${t.hello.rounds.join(", ")})`,
          `${x(t.ratio)}× (median of per-round ratios)`,
        ],
        [
          "latency p50 / p99 under that load",
          `${x(t.main.p50Ms, 1)} / ${x(t.main.p99Ms, 1)} ms`,
          `${x(t.hello.p50Ms, 1)} / ${x(t.hello.p99Ms, 1)} ms`,
          "",
        ],
        [
          "workerd CPU per request",
          cpu(t.main),
          cpu(t.hello),
          t.main.workerdCpuMs && t.hello.workerdCpuMs
            ? `${x(t.main.workerdCpuMs / t.hello.workerdCpuMs)}×`
            : "",
        ],
        [
          "client CPU (share of one core)",
          `${Math.round(t.main.clientCpu * 100)} %`,
          `${Math.round(t.hello.clientCpu * 100)} %`,
          "",
        ],
        [
          "bundle: minified / gzip (wrangler --dry-run --minify)",
          `${kib(r.bundle.main.bytes)} / ${kib(r.bundle.main.gzipBytes)}`,
          `${kib(r.bundle.hello.bytes)} / ${kib(r.bundle.hello.gzipBytes)}`,
          `${x(r.bundle.main.gzipBytes / r.bundle.hello.gzipBytes)}× (gzip)`,
        ],
        [
          `start-up: Miniflare ready / first answer (median of ${o.startupRuns})`,
          `${Math.round(r.startup.main.readyMs)} / ${Math.round(r.startup.main.firstResponseMs)} ms`,
          `${Math.round(r.startup.hello.readyMs)} / ${Math.round(r.startup.hello.firstResponseMs)} ms`,
          `${x(r.startup.ratio)}× (first answer)`,
        ],
      ],
    ),
  );

  parts.push(
    `Bundle composition (minified bytes): ${r.bundle.main.composition
      .slice(0, 8)
      .map((c) => `${c.input} ${kib(c.bytes)}`)
      .join(", ")}. wrangler: "${r.bundle.main.wranglerSays}".`,
  );

  if (r.profile) {
    const base = r.profile.find((p) => p.id === "baseline");
    const saved = (p: VariantResult, value: (v: VariantResult) => number | undefined) => {
      const a = base && value(base);
      const b = value(p);
      return p.id !== "baseline" && !p.what.startsWith("reference") && a !== undefined && b !== undefined
        ? ` (${a - b >= 0 ? "−" : "+"}${x(Math.abs(a - b))})`
        : "";
    };
    parts.push(
      table(
        [
          "unchanged report, one piece taken out",
          "latency p50 / p95, one at a time",
          "requests/s",
          "workerd CPU/request",
        ],
        r.profile.map((p) =>
          p.missing.length > 0
            ? [`${p.id}: ${p.what}`, "not run: src/ changed", "", ""]
            : [
                p.what.startsWith("reference") ? p.what : `${p.id}: ${p.what}`,
                `${x(p.p50Ms ?? Number.NaN)}${saved(p, (v) => v.p50Ms)} / ${x(p.p95Ms ?? Number.NaN)} ms`,
                p.perSecond === undefined ? "-" : String(Math.round(p.perSecond)),
                p.workerdCpuMs === undefined
                  ? "-"
                  : `${x(p.workerdCpuMs)}${saved(p, (v) => v.workerdCpuMs)} ms`,
              ],
        ),
      ),
    );
  }
  return `${parts.join("\n\n")}\n`;
}

function range(r: { min: number; max: number }): string {
  return r.min === r.max ? String(r.min) : `${r.min}–${r.max}`;
}
