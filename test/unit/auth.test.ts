// Client credentials (src/access/credentials.ts): Basic parsing, query credentials, constant-time compare.
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  authenticate,
  parseBasic,
  readCredentials,
  sha256,
  timingSafeEqual,
} from "../../src/access/credentials";
import type { ClientSpec, Config } from "../../src/config";
import { collectParams } from "../../src/dyndns/params";

/** Base64 of the UTF-8 bytes of `text` (btoa alone only takes Latin-1). */
const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");
const basic = (userPass: string) => `Basic ${b64(userPass)}`;
const params = (query: string) => collectParams(new URLSearchParams(query));

describe("parseBasic", () => {
  it.each([
    ["Basic", basic("home:home-password"), { user: "home", password: "home-password" }],
    ["scheme in any case", `bAsIc ${b64("home:pw")}`, { user: "home", password: "pw" }],
    ["spaces around", `  Basic    ${b64("home:pw")}  `, { user: "home", password: "pw" }],
    ["padding left off", `Basic ${b64("home:p").replace(/=+$/, "")}`, { user: "home", password: "p" }],
    [
      "base64url alphabet",
      `Basic ${Buffer.from("home:?>?>").toString("base64url")}`,
      { user: "home", password: "?>?>" },
    ],
    ["colons in the password", basic("home:a:b:c"), { user: "home", password: "a:b:c" }],
    ["empty password", basic("home:"), { user: "home", password: "" }],
    ["UTF-8 user and password", basic("jürgen:pässwörd€"), { user: "jürgen", password: "pässwörd€" }],
    ["emoji", basic("🦊:🔑"), { user: "🦊", password: "🔑" }],
    ["spaces inside", basic(" home : pw "), { user: " home ", password: " pw " }],
    [
      "CR/LF around the token (folded header)",
      `Basic\r\n ${b64("home:pw")}\r\n`,
      { user: "home", password: "pw" },
    ],
    ["a NUL byte decoded into the password", `Basic ${b64("home:pw\0")}`, { user: "home", password: "pw\0" }],
    [
      "a 256-character user and password",
      basic(`${"u".repeat(256)}:${"p".repeat(256)}`),
      { user: "u".repeat(256), password: "p".repeat(256) },
    ],
  ])("%s", (_name, header, expected) => {
    expect(parseBasic(header)).toEqual(expected);
  });

  it.each([
    ["another scheme", `Bearer ${b64("home:pw")}`],
    ["no scheme", b64("home:pw")],
    ["scheme only", "Basic"],
    ["scheme and a space", "Basic "],
    ["empty", ""],
    ["not Base64", "Basic %%%not-base64"],
    ["a space inside the token", `Basic ${b64("home:pw").slice(0, 4)} ${b64("home:pw").slice(4)}`],
    ["two tokens", `Basic ${b64("home:pw")}, Basic ${b64("x:y")}`],
    ["a length Base64 cannot have", `Basic ${b64("home:pw").replace(/=+$/, "")}AAA`],
    ["padding in the middle", "Basic aG9t=ZTpwdw=="],
    ["a single character", "Basic A"],
    ["no colon", basic("home")],
    ["empty user", basic(":home-password")],
    ["only a colon", basic(":")],
    ["Latin-1 bytes, not UTF-8", `Basic ${Buffer.from("j\xfcrgen:pw", "latin1").toString("base64")}`],
    ["a lone surrogate's bytes", `Basic ${Buffer.from([0x68, 0x3a, 0xed, 0xa0, 0x80]).toString("base64")}`],
    ["a 257-character user", basic(`${"u".repeat(257)}:pw`)],
    ["a 257-character password", basic(`home:${"p".repeat(257)}`)],
    ["a megabyte of Base64", `Basic ${"QUFB".repeat(262_144)}`],
  ])("%s → no credentials", (_name, header) => {
    expect(parseBasic(header)).toBeUndefined();
  });
});

describe("readCredentials", () => {
  const header = basic("home:from-header");

  it("takes the query when it has both user and password, under any alias", () => {
    for (const [u, p] of [
      ["username", "password"],
      ["user", "pass"],
      ["user", "passwd"],
      ["USERNAME", "Password"],
    ]) {
      expect(readCredentials(header, params(`${u}=home&${p}=from-query`))).toEqual({
        user: "home",
        password: "from-query",
      });
    }
  });

  it("falls back to Basic when the query has only one of them, or placeholders", () => {
    const fromHeader = { user: "home", password: "from-header" };
    expect(readCredentials(header, params("username=home"))).toEqual(fromHeader);
    expect(readCredentials(header, params("password=x"))).toEqual(fromHeader);
    expect(readCredentials(header, params("username=<username>&password=<pass>"))).toEqual(fromHeader);
    expect(readCredentials(header, params("username=&password="))).toEqual(fromHeader);
  });

  it("no query credentials and no header: none", () => {
    expect(readCredentials(undefined, params("hostname=x"))).toBeUndefined();
  });

  it("query credentials too long: none, and no fallback to the header", () => {
    expect(readCredentials(header, params(`username=home&password=${"p".repeat(300)}`))).toBeUndefined();
    expect(readCredentials(header, params(`username=${"u".repeat(300)}&password=x`))).toBeUndefined();
  });

  it("two different user names or passwords in the query: none, whatever the header says", () => {
    const conflicting = [
      "username=home&username=other&password=pw",
      "username=home&user=other&password=pw",
      "username=home&password=pw&password=other",
      "user=home&pass=pw&passwd=other",
    ];
    for (const query of conflicting) expect(readCredentials(header, params(query))).toBeUndefined();
  });

  it("the same user and password twice are fine", () => {
    expect(readCredentials(undefined, params("username=home&user=home&password=pw&pass=pw"))).toEqual({
      user: "home",
      password: "pw",
    });
  });
});

describe("timingSafeEqual", () => {
  it("compares texts", () => {
    expect(timingSafeEqual("abc", "abc")).toBe(true);
    expect(timingSafeEqual("abc", "abd")).toBe(false);
    expect(timingSafeEqual("xbc", "abc")).toBe(false);
    expect(timingSafeEqual("ab", "abc")).toBe(false);
    expect(timingSafeEqual("abc", "ab")).toBe(false);
    expect(timingSafeEqual("abc", "")).toBe(false);
    expect(timingSafeEqual("", "")).toBe(true);
  });

  it("reads every character of the first text wherever they differ, and whatever the second's length", () => {
    const counted = (text: string) => {
      let reads = 0;
      const spy = Object.assign(new String(text), {
        charCodeAt(i: number) {
          reads++;
          return text.charCodeAt(i);
        },
      });
      return { text: spy as unknown as string, reads: () => reads };
    };
    const base = "0123456789abcdef".repeat(4);
    const others = [0, 31, 63].map((at) => `${base.slice(0, at)}x${base.slice(at + 1)}`);
    for (const other of [...others, base, "", base.slice(1)]) {
      const a = counted(base);
      timingSafeEqual(a.text, other);
      expect(a.reads()).toBe(64);
    }
  });
});

describe("authenticate", () => {
  afterEach(() => vi.restoreAllMocks());

  async function config(): Promise<Config> {
    const home: ClientSpec = {
      name: "home",
      passwordSha256: await sha256("right"),
      hosts: new Set(["a.b.c"]),
      admin: false,
    };
    return { clients: new Map([["home", home]]) } as unknown as Config;
  }

  it("accepts the right password and nothing else", async () => {
    const c = await config();
    expect((await authenticate(c, { user: "home", password: "right" }))?.name).toBe("home");
    expect(await authenticate(c, { user: "home", password: "wrong" })).toBeUndefined();
    expect(await authenticate(c, { user: "home", password: "" })).toBeUndefined();
    expect(await authenticate(c, { user: "Home", password: "right" })).toBeUndefined();
    expect(await authenticate(c, undefined)).toBeUndefined();
  });

  it("object-prototype names are just unknown users", async () => {
    const c = await config();
    for (const user of ["__proto__", "constructor", "toString", "hasOwnProperty"]) {
      expect(await authenticate(c, { user, password: "right" })).toBeUndefined();
    }
  });

  it("hashes the password of an unknown user too, so timing does not reveal user names", async () => {
    const c = await config();
    const digest = vi.spyOn(crypto.subtle, "digest");
    await authenticate(c, { user: "nobody", password: "right" });
    await authenticate(c, { user: "home", password: "wrong" });
    expect(digest).toHaveBeenCalledTimes(2);
  });

  it("remembers only credentials that were right: a guess always costs the full hash", async () => {
    const c = await config();
    const digest = vi.spyOn(crypto.subtle, "digest");
    expect((await authenticate(c, { user: "home", password: "right" }))?.name).toBe("home");
    expect((await authenticate(c, { user: "home", password: "right" }))?.name).toBe("home");
    expect(digest).toHaveBeenCalledTimes(1);
    for (let i = 0; i < 3; i++) {
      expect(await authenticate(c, { user: "home", password: "wrong" })).toBeUndefined();
      expect(await authenticate(c, { user: "home", password: "right\n" })).toBeUndefined();
    }
    expect(digest).toHaveBeenCalledTimes(7);
    // Another configuration (a new deploy, a changed password) starts over.
    const changed = await config();
    expect((await authenticate(changed, { user: "home", password: "right" }))?.name).toBe("home");
    expect(digest).toHaveBeenCalledTimes(8 + 1); // config() hashed once, then the check
  });
});
