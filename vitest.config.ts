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
    // Three files at a time (vitest's default on this 2-core machine is one): some tests still
    // wait on real clients, the kernel and socket time-outs rather than on the CPU. Measured on
    // the idle 2-core machine, whole vitest run: 89 s with two, 76-79 s with three, 86 s with four.
    maxWorkers: 3,
  },
});
