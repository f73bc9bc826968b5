// The bench's verdicts and its tables: the same Markdown goes to the terminal and to
// bench/results/latest.md (quoted by docs/benchmarks.md and the README).
import type { Bundle } from "./build";
import type { PaceRow } from "./pace";
import type { Footprint, ScenarioResult, Spread } from "./scenarios";
import type { StartupResult } from "./startup";

/**
 * What a Cloudflare account on the Workers Free plan may spend per day (reset 00:00 UTC), and the
 * CPU one request may take: Cloudflare's Workers and Durable Objects pricing and limits pages,
 * as read on 2026-12-01 (docs/benchmarks.md links them).
 */
export const FREE_PLAN = {
  workerRequests: 100_000,
  doRequests: 100_000,
  rowsWritten: 100_000,
  rowsRead: 5_000_000,
  cpuMsPerRequest: 10,
} as const;

/** The bench's limits: warm-change latency against the floor, CPU, and the bundle as a guard. */
export const LIMITS = {
  /** A warm change may take at most this many RTT more than the floor, at p50 and at p95. */
  warmChangeOverFloorRtt: 0.1,
  bundleGzipKiB: 64,
  /** A paced report's records are all live within this many times the pace's ideal time. */
  paceOverIdeal: 1.25,
  /** The scenarios whose workerd CPU is judged against the Free plan's 10 ms. */
  cpuJudged: ["unchanged", "change-warm"] as string[],
};

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
  /** Reports bigger than the pace's burst, at the default pace (bench/pace.ts). */
  pace: PaceRow[];
  /** One simulator round trip from Node beyond the injected RTT, ms (p50): the simulator's own share. */
  simOverheadMs: number;
  /**
   * workerd CPU of hello-world answering the same update request: in a warm isolate, and as the
   * first request of a fresh workerd (the denominator of the fresh-workerd scenarios).
   */
  helloCpuMs: { warm: Spread & { p50: number }; fresh: Spread & { p50: number } };
  bundle: { main: Bundle; hello: Bundle; gzipKiB: number };
  startup: { main: StartupResult; hello: StartupResult; ratio: number };
  checks: Check[];
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(2)} KiB`;
const x = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : "-");
const thousands = (n: number) => (Number.isFinite(n) ? Math.floor(n).toLocaleString("en-US") : "no limit");

/** Reports per day the Free plan carries for this footprint, and the limit that binds first. */
export function capacity(f: Footprint): { perDay: number; boundBy: string } {
  const bounds: [string, number][] = [
    ["Worker requests", FREE_PLAN.workerRequests],
    ["Durable Object requests", FREE_PLAN.doRequests / f.doRequests.mean],
    ["rows written", FREE_PLAN.rowsWritten / f.rowsWritten.mean],
    ["rows read", FREE_PLAN.rowsRead / f.rowsRead.mean],
  ];
  const [boundBy, perDay] = bounds.reduce((a, b) => (b[1] < a[1] ? b : a));
  return { perDay, boundBy };
}

export function checks(r: Omit<Results, "checks">): Check[] {
  const out: Check[] = [];
  for (const s of r.scenarios) {
    if (s.id === "floor") continue;
    const exact =
      s.apiCalls.min === s.expected.apiCalls &&
      s.apiCalls.max === s.expected.apiCalls &&
      s.authTime.min === s.expected.authTime &&
      s.authTime.max === s.expected.authTime;
    out.push({
      what: `OVH calls: ${s.title}`,
      value: `${range(s.apiCalls)} + ${range(s.authTime)} auth-time`,
      target: `${s.expected.apiCalls} + ${s.expected.authTime}`,
      pass: exact,
    });
  }
  const warm = r.scenarios.find((s) => s.id === "change-warm");
  const floor = r.scenarios.find((s) => s.id === "floor");
  if (warm && floor) {
    for (const q of ["p50", "p95"] as const) {
      const rtt = q === "p50" ? warm.p50Rtt : warm.p95Rtt;
      const floorRtt = q === "p50" ? floor.p50Rtt : floor.p95Rtt;
      const limit = floorRtt + LIMITS.warmChangeOverFloorRtt;
      out.push({
        what: `warm change: ${q} latency against the floor`,
        value: `${x(rtt)} RTT (${x(q === "p50" ? warm.p50Ms : warm.p95Ms, 1)} ms; floor ${x(floorRtt)} RTT)`,
        target: `≤ ${x(limit)} RTT (floor + ${LIMITS.warmChangeOverFloorRtt})`,
        pass: rtt <= limit,
      });
    }
  }
  // workerd's CPU bounds the Worker's own from above (the process also runs Miniflare, HTTP and
  // the Durable Objects, which have a limit of their own): judged for the reports a client sends
  // day after day, where it says something; the table shows every kind.
  for (const s of r.scenarios.filter((s) => LIMITS.cpuJudged.includes(s.id))) {
    if (!s.cpuMs) continue;
    out.push({
      what: `workerd CPU p50, ${s.title}`,
      value: `${x(s.cpuMs.p50)} ms (${x(s.cpuMs.p50 / r.helloCpuMs.warm.p50, 1)}× hello-world)`,
      target: `≤ ${FREE_PLAN.cpuMsPerRequest} ms`,
      pass: s.cpuMs.p50 <= FREE_PLAN.cpuMsPerRequest,
    });
  }
  for (const p of r.pace)
    out.push({
      what: `the pace: ${p.title}, until every record is live`,
      value: p.liveMs === undefined ? "not live within 240 s" : `${x(p.liveMs / p.idealMs)}× its ideal time`,
      target: `≤ ${LIMITS.paceOverIdeal}×`,
      pass: p.liveMs !== undefined && p.liveMs <= LIMITS.paceOverIdeal * p.idealMs,
    });
  out.push({
    what: "bundle, gzip (wrangler), a guard",
    value: `${x(r.bundle.gzipKiB)} KiB`,
    target: `≤ ${LIMITS.bundleGzipKiB} KiB`,
    pass: r.bundle.gzipKiB <= LIMITS.bundleGzipKiB,
  });
  return out;
}

function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.map((c) => c.replace(/\|/g, "\\|")).join(" | ")} |`;
  return [line(head), line(head.map(() => "---")), ...rows.map(line)].join("\n");
}

/** "3", or "1.05 (1–2)" when the reports of a scenario differ. */
function perReport(s: Spread): string {
  return s.min === s.max ? String(s.min) : `${x(s.mean)} (${s.min}–${s.max})`;
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
      `${o.iterations} sequential requests per scenario (${o.coldIterations} for fresh-workerd ones).`,
  );

  parts.push(
    table(
      ["check", "measured", "limit", ""],
      r.checks.map((c) => [c.what, c.value, c.target, verdict(c.pass)]),
    ),
  );

  const hello = (s: ScenarioResult) => (s.fresh ? r.helloCpuMs.fresh.p50 : r.helloCpuMs.warm.p50);
  parts.push(
    table(
      [
        "report",
        "Worker requests",
        "Durable Object requests (guard)",
        "rows written",
        "rows read",
        "OVH calls",
        "workerd CPU p50 / most (p50 ÷ hello-world's)",
        "reports per day on the Free plan (bound by)",
      ],
      r.scenarios.flatMap((s) => {
        const f = s.footprint;
        if (!f) return [];
        const c = capacity(f);
        return [
          [
            s.title,
            "1",
            `${perReport(f.doRequests)} (${perReport(f.guardRequests)})`,
            perReport(f.rowsWritten),
            perReport(f.rowsRead),
            `${range(s.apiCalls)}${s.authTime.max > 0 ? ` + ${range(s.authTime)} auth-time` : ""}`,
            s.cpuMs ? `${x(s.cpuMs.p50)} / ${x(s.cpuMs.max)} ms (${x(s.cpuMs.p50 / hello(s), 1)}×)` : "-",
            `${thousands(c.perDay)} (${c.boundBy})`,
          ],
        ];
      }),
    ),
  );
  const periodic = r.scenarios.find((s) => s.id === "unchanged-restarted")?.footprint;
  if (periodic) {
    const c = capacity(periodic);
    parts.push(
      `Free plan per day: ${thousands(FREE_PLAN.workerRequests)} Worker requests, ${thousands(FREE_PLAN.doRequests)} Durable Object requests, ` +
        `${thousands(FREE_PLAN.rowsWritten)} rows written, ${thousands(FREE_PLAN.rowsRead)} rows read; ${FREE_PLAN.cpuMsPerRequest} ms CPU per request. ` +
        `hello-world answers the same update request with ${x(r.helloCpuMs.warm.p50)} ms of workerd CPU (p50; ` +
        `${x(r.helloCpuMs.fresh.p50)} ms as the first request of a fresh workerd, the denominator of the fresh-workerd rows). ` +
        `A client that reports every 5 minutes sends 288 reports a day, nearly all unchanged ones on a restarted ` +
        `isolate and coordinator: the Free plan carries about ${thousands(c.perDay / 288)} such clients.`,
    );
  }

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
        "workerd CPU p50",
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
        s.cpuMs ? `${x(s.cpuMs.p50)} ms` : "-",
        `${s.expected.apiCalls} calls, ${s.expected.rtt} RTT: ${s.expected.why}`,
      ]),
    ),
  );

  parts.push(
    "The pace, on a Worker of its own at the default 60 OVH calls a minute (the rows above run with the pace out of the way):",
    table(
      [
        "report",
        "OVH calls (fewest it needs)",
        "reply",
        "until every record is live",
        "÷ the pace's ideal time",
      ],
      r.pace.map((p) => [
        p.title,
        `${p.calls} (${p.neededCalls})`,
        `${x(p.reply.ms / 1000, 1)} s: ${p.reply.good} good, ${p.reply.other} 911`,
        p.liveMs === undefined ? "not within 240 s" : `${x(p.liveMs / 1000, 1)} s`,
        p.liveMs === undefined ? "-" : `${x(p.liveMs / p.idealMs)}× (ideal ${x(p.idealMs / 1000, 1)} s)`,
      ]),
    ),
  );

  parts.push(
    table(
      ["", "ovh-dyndns-worker", "hello-world", "ratio"],
      [
        [
          "bundle: minified / gzip -9 by the bench (wrangler's own gzip figure is the guard's)",
          `${kib(r.bundle.main.bytes)} / ${kib(r.bundle.main.gzipBytes)}`,
          `${kib(r.bundle.hello.bytes)} / ${kib(r.bundle.hello.gzipBytes)}`,
          `${x(r.bundle.main.gzipBytes / r.bundle.hello.gzipBytes)}× (gzip)`,
        ],
        [
          `start-up: new Miniflare to the first answer of GET / (median of ${o.startupRuns})`,
          `${Math.round(r.startup.main.firstResponseMs)} ms`,
          `${Math.round(r.startup.hello.firstResponseMs)} ms`,
          `${x(r.startup.ratio)}×`,
        ],
      ],
    ),
  );

  parts.push(
    `Bundle composition (minified bytes): ${r.bundle.main.composition
      .slice(0, 8)
      .map((c) => `${c.input} ${kib(c.bytes)}`)
      .join(", ")}. wrangler: "${r.bundle.main.wranglerSays}". ` +
      `One simulator round trip from Node takes the RTT + ${x(r.simOverheadMs)} ms (p50): that much of each round trip is the simulator's.`,
  );
  return `${parts.join("\n\n")}\n`;
}

function range(r: { min: number; max: number }): string {
  return r.min === r.max ? String(r.min) : `${r.min}–${r.max}`;
}
