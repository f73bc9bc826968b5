// The handler's own cost per unchanged report, measured inside workerd: one request runs the
// app's fetch N times on an update-shaped Request, so neither HTTP nor the load client is in the
// number. Per variant (those of the profile, src/ patched while bundling): wall time / N, the
// least of --repeats runs, the variants interleaved. Much steadier than load rounds on a shared
// machine (repeated baselines agree within about 10 µs): use it to weigh a change to the update
// path. `npm run bench:handler -- [--n 3000] [--repeats 9]`.
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startOvhSimulator } from "../sim/ovh-simulator";
import { ROOT } from "../test/support/endpoint";
import { BenchClient, median } from "./client";
import { AUTHORIZATION, benchBindings, ONE, seed } from "./config";
import { buildVariant, VARIANTS } from "./profile";
import { MAIN_DURABLE_OBJECTS, type RunningWorker, startWorker } from "./worker";

/** Replaces the Worker's export: GET /loop?n=N&u=URL runs the app N times on a Request for URL. */
const LOOP = {
  file: "src/index.ts",
  find: "export default app;",
  replace: `export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname !== "/loop") return app.fetch(request, env, ctx);
    const n = Number(url.searchParams.get("n"));
    const target = url.searchParams.get("u");
    const init = { headers: { Authorization: request.headers.get("Authorization"), "User-Agent": "bench", "CF-Connecting-IP": "192.0.2.1" } };
    let ok = 0;
    for (let i = 0; i < n; i++) {
      const response = await app.fetch(new Request(target, init), env, ctx);
      await response.text();
      if (response.status === 200) ok++;
    }
    return new Response(String(ok));
  },
};`,
};

const { values } = parseArgs({
  options: { n: { type: "string", default: "3000" }, repeats: { type: "string", default: "9" } },
});
const n = Number(values.n);
const repeats = Number(values.repeats);

async function main(): Promise<void> {
  const sim = await startOvhSimulator({ latencyMs: 0 });
  seed(sim, 1);
  const bindings = await benchBindings(sim.url, 1);
  const path = `/nic/update?hostname=${ONE.host}&myip=2001:db8:7::1`;
  const rows: { id: string; what: string; worker: RunningWorker; us: number[] }[] = [];
  const client = new BenchClient();
  try {
    for (const v of VARIANTS) {
      const { scriptPath, missing } = await buildVariant(
        { ...v, patches: [...v.patches, LOOP] },
        join(ROOT, ".tmp"),
      );
      if (missing.length > 0) {
        console.error(`handler: ${v.id} skipped, src/ changed (${missing.join("; ")})`);
        continue;
      }
      const worker = await startWorker({ scriptPath, bindings, durableObjects: MAIN_DURABLE_OBJECTS });
      rows.push({ id: v.id, what: v.what, worker, us: [] });
      // One real report first: the records are written and remembered, so the loop's are unchanged.
      const first = await client.get(worker.url + path, { Authorization: AUTHORIZATION });
      if (first.status !== 200) throw new Error(`${v.id}: priming report answered ${first.status}`);
    }
    const loop = `/loop?n=${n}&u=${encodeURIComponent(`http://bench.test${path}`)}`;
    for (let r = 0; r < repeats; r++) {
      for (const row of r % 2 === 0 ? rows : [...rows].reverse()) {
        const reply = await client.get(row.worker.url + loop, { Authorization: AUTHORIZATION });
        if (reply.body !== String(n)) throw new Error(`${row.id}: ${reply.body.slice(0, 200)}`);
        row.us.push((reply.ms * 1000) / n);
      }
      console.error(`handler: round ${r + 1} of ${repeats} done`);
    }
    const base = Math.min(...(rows.find((r) => r.id === "baseline")?.us ?? [Number.NaN]));
    console.log(`\n| variant | µs per unchanged report, least of ${repeats} | median | vs baseline |`);
    console.log("| --- | --- | --- | --- |");
    for (const row of rows) {
      const least = Math.min(...row.us);
      const delta =
        row.id === "baseline" ? "" : `${least >= base ? "+" : "−"}${Math.abs(least - base).toFixed(0)}`;
      console.log(
        `| ${row.id}: ${row.what} | ${least.toFixed(0)} | ${median(row.us).toFixed(0)} | ${delta} |`,
      );
    }
  } finally {
    client.close();
    for (const row of rows) await row.worker.close();
    await sim.close();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`handler: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
