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
  },
});
