import { describe, expect, it, vi } from "vitest";
import { remembered } from "../../src/core/memo";

describe("remembered", () => {
  it("does the work once per input", () => {
    const work = vi.fn((s: string) => s.length);
    const f = remembered(work, 10);
    expect([f("ab"), f("ab"), f("abc"), f("ab")]).toEqual([2, 2, 3, 2]);
    expect(work).toHaveBeenCalledTimes(2);
  });

  it("keeps no undefined result: an input that gave none is worked on again", () => {
    const work = vi.fn((s: string) => (s === "bad" ? undefined : s));
    const f = remembered(work, 10);
    expect([f("bad"), f("bad")]).toEqual([undefined, undefined]);
    expect(work).toHaveBeenCalledTimes(2);
  });

  it("holds at most `max` inputs: when full, it starts over", () => {
    const work = vi.fn((s: string) => s);
    const f = remembered(work, 10, 2);
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

  it("never holds an input longer than `longest`: it is worked on every time", () => {
    const work = vi.fn((s: string) => s.length);
    const f = remembered(work, 4);
    const long = "x".repeat(65_536);
    expect([f(long), f(long), f("abcd"), f("abcd")]).toEqual([65_536, 65_536, 4, 4]);
    expect(work).toHaveBeenCalledTimes(3);
    expect(work).toHaveBeenNthCalledWith(3, "abcd");
  });
});
