// Properties of the pure parsers: no input makes them throw, and what they print parses back to
// itself. (Prefix arithmetic has its own file, prefix.property.test.ts.)
import fc from "fast-check";
import ipaddr from "ipaddr.js";
import { describe, expect, it } from "vitest";
import { parseBasic, readCredentials } from "../../src/access/credentials";
import {
  fromBigInt,
  parseAddress,
  parseIPv4,
  parseIPv6,
  parsePrefix,
  toBigInt,
} from "../../src/core/address";
import { collectParams, PARAM_NAMES } from "../../src/dyndns/params";
import { SUCCESS_WORDS, safeReason } from "../../src/dyndns/reply";
import { parseUpdate } from "../../src/dyndns/report";

const RUNS = { numRuns: 2000 };

/** Any string: arbitrary UTF-16 (lone surrogates included), and address-shaped noise. */
const ipish = fc.string({
  unit: fc.constantFrom(..."0123456789abcdefABCDEF:.:/%[] ,xX-+\0\r\n\u212a１．", "::", "ffff", "255", "/64"),
  maxLength: 48,
});
const anyString = fc.oneof(
  fc.string({ unit: "binary", maxLength: 200 }),
  fc.string({ maxLength: 60 }),
  ipish,
);

/** Every parameter name the parser reads, and some it does not. */
const paramName = fc.oneof(
  fc.constantFrom(...Object.values(PARAM_NAMES).flat()),
  fc.constantFrom("HOSTNAME", "MyIP", "system", "wildcard", ""),
  fc.string({ maxLength: 10 }),
);
const paramValue = fc.oneof(
  ipish,
  anyString,
  fc.ipV4(),
  fc.ipV6(),
  fc.constantFrom("<ipaddr>", "<ip6addr>", "[IP]", "%i", "preserve", "nas.example.tld", "NAS.example.tld."),
  fc
    .array(fc.constantFrom("nas.example.tld", "a.b", "", " ", "x"), { maxLength: 30 })
    .map((a) => a.join(",")),
);
const paramMap = fc
  .array(fc.tuple(paramName, fc.array(paramValue, { minLength: 1, maxLength: 3 })), { maxLength: 8 })
  .map((entries) => {
    const params = new Map<string, string[]>();
    for (const [k, v] of entries) params.set(k.toLowerCase(), [...(params.get(k.toLowerCase()) ?? []), ...v]);
    return params;
  });
const connectingIp = fc.option(fc.oneof(fc.ipV4(), fc.ipV6(), anyString), { nil: undefined });

describe("no input makes a parser throw", () => {
  it("parseAddress, parseIPv4, parseIPv6, parsePrefix", () => {
    fc.assert(
      fc.property(anyString, (s) => {
        for (const parse of [parseAddress, parseIPv4, parseIPv6, parsePrefix]) {
          const r = parse(s);
          expect(typeof r.ok).toBe("boolean");
        }
      }),
      RUNS,
    );
  });

  it("parsePrefix on address-shaped CIDR", () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV6(), ipish), fc.oneof(fc.nat(200).map(String), ipish), (a, l) => {
        const r = parsePrefix(`${a}/${l}`);
        if (r.ok) {
          expect(r.value.length).toBeGreaterThanOrEqual(16);
          expect(r.value.length).toBeLessThanOrEqual(64);
        }
      }),
      RUNS,
    );
  });

  it("parseUpdate on arbitrary parameter maps and connecting addresses", () => {
    fc.assert(
      fc.property(paramMap, connectingIp, (params, ip) => {
        const r = parseUpdate(params, ip);
        if (r.ok) {
          expect(r.value.hostnames.length).toBeGreaterThan(0);
          expect(r.value.hostnames.length).toBeLessThanOrEqual(20);
          // No address at all only when the request named address parameters and left them empty.
          if (!(r.value.v4 ?? r.value.v6 ?? r.value.prefix)) expect(r.value.fromConnection).toBe(false);
        } else if (r.error === "badrequest") expect(r.reason).not.toBe("");
      }),
      RUNS,
    );
  });

  it("parseUpdate on arbitrary raw query strings", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 300 }), connectingIp, (query, ip) => {
        parseUpdate(collectParams(new URLSearchParams(query)), ip);
      }),
      RUNS,
    );
  });

  it("parseBasic on arbitrary headers and on Base64 of arbitrary bytes", () => {
    fc.assert(
      fc.property(
        anyString,
        fc.uint8Array({ maxLength: 80 }),
        fc.constantFrom("Basic ", "basic  ", "Bearer "),
        (s, bytes, scheme) => {
          for (const header of [s, `Basic ${s}`, `${scheme}${Buffer.from(bytes).toString("base64")}`]) {
            const creds = parseBasic(header);
            if (creds) {
              expect(creds.user).not.toBe("");
              expect(creds.user.length).toBeLessThanOrEqual(256);
              expect(creds.password.length).toBeLessThanOrEqual(256);
            }
          }
        },
      ),
      RUNS,
    );
  });

  it("parseBasic returns exactly what was encoded, for any Unicode user without a colon", () => {
    // Graphemes: well-formed UTF-16 only, since a lone surrogate has no UTF-8 form to send.
    const text = (minLength: number) => fc.string({ unit: "grapheme", minLength, maxLength: 20 });
    fc.assert(
      fc.property(
        text(1).filter((u) => !u.includes(":") && !u.startsWith("\ufeff") && u.length <= 256),
        text(0).filter((p) => p.length <= 256),
        (user, password) => {
          const header = `Basic ${Buffer.from(`${user}:${password}`, "utf8").toString("base64")}`;
          expect(parseBasic(header)).toEqual({ user, password });
        },
      ),
      RUNS,
    );
  });

  it("readCredentials on arbitrary headers and parameters", () => {
    fc.assert(
      fc.property(fc.option(anyString, { nil: undefined }), paramMap, (header, params) => {
        readCredentials(header, params);
      }),
      RUNS,
    );
  });
});

describe("printing and parsing round-trip", () => {
  const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((b) => b.join("."));
  const v6 = fc.bigInt(0n, (1n << 128n) - 1n);

  it("IPv4 dotted quads", () => {
    fc.assert(
      fc.property(v4, (text) => {
        const parsed = parseIPv4(text);
        expect(parsed.ok && parsed.value.text).toBe(text);
        const again = parseAddress(parsed.ok ? parsed.value.text : "");
        expect(again.ok && again.value.text).toBe(text);
      }),
      RUNS,
    );
  });

  it("IPv6 from any 128-bit value: print(parse(print(x))) == print(x), and back to x", () => {
    fc.assert(
      fc.property(v6, (value) => {
        const text = fromBigInt(value);
        const parsed = parseIPv6(text);
        expect(parsed.ok && parsed.value.text).toBe(text);
        expect(toBigInt(text)).toBe(value);
      }),
      RUNS,
    );
  });

  it("IPv6 in any spelling (full, zero-padded, upper case) prints as RFC 5952", () => {
    fc.assert(
      fc.property(v6, fc.boolean(), fc.boolean(), (value, pad, upper) => {
        const groups = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(112 - 16 * i)) & 0xffffn));
        let spelled = groups.map((g) => (pad ? g.toString(16).padStart(4, "0") : g.toString(16))).join(":");
        if (upper) spelled = spelled.toUpperCase();
        const parsed = parseIPv6(spelled);
        expect(parsed.ok && parsed.value.text).toBe(fromBigInt(value));
        expect(parsed.ok && parsed.value.text).toBe(ipaddr.IPv6.parse(spelled).toRFC5952String());
      }),
      RUNS,
    );
  });

  it("fast-check's own IPv6 and IPv4 strings: accepted unless dotted inside IPv6, and stable", () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV6(), fc.ipV4()), (text) => {
        const parsed = parseAddress(text);
        if (!parsed.ok) {
          // The only refusals: dotted IPv4 inside IPv6, and IPv4 parts with a leading zero.
          expect(text.includes(":") ? text.includes(".") : /(^|\.)0\d/.test(text)).toBe(true);
          return;
        }
        const again = parseAddress(parsed.value.text);
        expect(again.ok && again.value).toEqual(parsed.value);
      }),
      RUNS,
    );
  });
});

describe("safeReason", () => {
  it("always gives one printable ASCII line without a success word", () => {
    const wordy = fc.string({
      unit: fc.constantFrom(
        ...SUCCESS_WORDS,
        ...SUCCESS_WORDS.map((w) => w.toUpperCase()),
        "o",
        "k",
        "-",
        " ",
        "\n",
        "é",
      ),
      maxLength: 30,
    });
    fc.assert(
      fc.property(fc.oneof(anyString, wordy), (reason) => {
        const safe = safeReason(reason);
        expect(safe).toMatch(/^[\x20-\x7e]*$/);
        for (const word of SUCCESS_WORDS) expect(safe.toLowerCase()).not.toContain(word);
      }),
      RUNS,
    );
  });
});
