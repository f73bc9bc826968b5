// The Worker's clock (src/core/clock.ts): Date.now() unless the test harness's TEST_CLOCK runs it
// ahead, and that binding exists in tests only.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { clockNow, followTestClock } from "../../src/core/clock";
import { ROOT } from "../support/endpoint";

type Harness = Parameters<typeof followTestClock>[0];
const harness = (answer: string) => ({ fetch: async () => new Response(answer) }) as unknown as Harness;

afterEach(async () => {
  await followTestClock(harness("0"));
});

describe("the Worker's clock", () => {
  it("is Date.now() without a harness", async () => {
    await followTestClock(undefined);
    const before = Date.now();
    const now = clockNow();
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(Date.now());
  });

  it("runs as far ahead as the harness says, and ignores an answer that is not a whole number of ms ahead", async () => {
    await followTestClock(harness("3600000"));
    expect(clockNow() - Date.now()).toBeGreaterThanOrEqual(3_599_000);
    for (const answer of ["-5", "soon", "1.5"]) {
      await followTestClock(harness(answer));
      expect(clockNow() - Date.now()).toBeGreaterThanOrEqual(3_599_000);
    }
  });

  it("cannot be moved in a deployment: wrangler.toml binds no TEST_CLOCK", () => {
    expect(readFileSync(join(ROOT, "wrangler.toml"), "utf8")).not.toMatch(/TEST_CLOCK/);
  });
});
