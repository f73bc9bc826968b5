import { defineConfig } from "vitest/config";

// The tests run in Node. Integration tests start the Worker in workerd through Miniflare
// (test/support/endpoint.ts) and talk to the OVH simulator (sim/) over real HTTP.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
  },
});
