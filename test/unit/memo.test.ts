import { describe, expect, it, vi } from "vitest";
import { remembered } from "../../src/core/memo";

describe("remembered", () => {
  it("does the work once per input", () => {
    const work = vi.fn((s: string) => s.length);
    const f = remembered(work);
    expect([f("ab"), f("ab"), f("abc"), f("ab")]).toEqual([2, 2, 3, 2]);
    expect(work).toHaveBeenCalledTimes(2);
  });

  it("keeps no undefined result: an input that gave none is worked on again", () => {
    const work = vi.fn((s: string) => (s === "bad" ? undefined : s));
    const f = remembered(work);
    expect([f("bad"), f("bad")]).toEqual([undefined, undefined]);
    expect(work).toHaveBeenCalledTimes(2);
  });

  it("holds at most `max` inputs: when full, it starts over", () => {
    const work = vi.fn((s: string) => s);
    const f = remembered(work, 2);
    f("a");
    f("b");
    f("a");
    expect(work).toHaveBeenCalledTimes(2);
    f("c"); // full: forgets a and b
    f("a");
    expect(work).toHaveBeenCalledTimes(4);
    f("c");
    expect(work).toHaveBeenCalledTimes(4);
  });
});
