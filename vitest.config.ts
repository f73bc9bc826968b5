import { defineConfig } from "vitest/config";

// The tests run in Node. Integration tests start the Worker in workerd through Miniflare
// (test/support/endpoint.ts) and talk to the OVH simulator (sim/) over real HTTP.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Files reuse their worker process: Miniflare, esbuild and the Worker bundle are loaded
    // once per process instead of once per file (a third less CPU for the whole suite). No test
    // relies on fresh module state: each starts its own endpoint and simulator.
    isolate: false,
    // Two files at a time (vitest's default on this 2-core machine is one): many tests wait on
    // workerd, real clients and their timers rather than on the CPU. Measured under load 13-14:
    // 620 s with one, 508 s with two; three pushed the 1,000-report tests past their time-out.
    maxWorkers: 2,
  },
});
