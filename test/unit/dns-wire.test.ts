// The DNS codec (src/dns/wire.ts): a query for one name and type, and an answer read so that
// nothing malformed, truncated, misdirected or unauthoritative is ever trusted, nor throws.
// Answers are written byte by byte here, independent of the codec's own writer, and by property.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeMessage, encodeMessage, encodeQuery, frame, readAnswer, TYPES } from "../../src/dns/wire";

const Q = { name: "wg-end.example.tld", type: "AAAA" } as const;
const ADDRESS = [0x20, 0x01, 0x0d, 0xb8, 0, 0xab, 0, 0xcd, 0, 0, 0, 0, 0, 0, 0, 0x45];

const u16 = (n: number) => [n >> 8, n & 0xff];
const name = (text: string) => [...text.split(".").flatMap((l) => [l.length, ...Buffer.from(l)]), 0];

/** An answer as a server writes it: the question, then records whose names point back at it (0xc00c). */
function answer(o: {
  id?: number;
  flags?: number;
  qname?: string;
  qtype?: number;
  records?: { type?: number; data: number[]; owner?: number[] }[];
  counts?: number[];
}): Uint8Array {
  const records = o.records ?? [{ data: ADDRESS }];
  const counts = o.counts ?? [1, records.length, 0, 0];
  return Uint8Array.from([
    ...u16(o.id ?? 0x1234),
    ...u16(o.flags ?? 0x8400), // QR, AA, NOERROR
    ...counts.flatMap(u16),
    ...name(o.qname ?? Q.name),
    ...u16(o.qtype ?? 28),
    ...u16(1),
    ...records.flatMap((r) => [
      ...(r.owner ?? [0xc0, 0x0c]),
      ...u16(r.type ?? 28),
      ...u16(1),
      0,
      0,
      0,
      60,
      ...u16(r.data.length),
      ...r.data,
    ]),
  ]);
}

describe("a query", () => {
  it("asks one question, recursion not desired, as dig +norec writes it", () => {
    const q = encodeQuery(0xbeef, Q);
    expect([...q]).toEqual([0xbe, 0xef, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, ...name(Q.name), 0, 28, 0, 1]);
    expect([...frame(q).subarray(0, 2)]).toEqual(u16(q.length));
  });
});

describe("an answer", () => {
  it("an authoritative answer to the query gives its addresses, in canonical text", () => {
    expect(readAnswer(answer({}), 0x1234, Q)).toEqual({
      ok: true,
      records: ["2001:db8:ab:cd::45"],
      rcode: "NOERROR",
    });
    const two = answer({ records: [{ data: ADDRESS }, { data: [...ADDRESS.slice(0, 15), 0x46] }] });
    expect(readAnswer(two, 0x1234, Q)).toMatchObject({
      records: ["2001:db8:ab:cd::45", "2001:db8:ab:cd::46"],
    });
    const a = answer({ qtype: 1, records: [{ type: 1, data: [198, 51, 100, 7] }] });
    expect(readAnswer(a, 0x1234, { name: Q.name, type: "A" })).toMatchObject({
      ok: true,
      records: ["198.51.100.7"],
    });
  });

  it("the question may come back in other letter case (0x20 randomisation); records of other names and types are not the answer", () => {
    const upper = answer({ qname: "WG-End.Example.TLD" });
    expect(readAnswer(upper, 0x1234, Q)).toMatchObject({ ok: true, records: ["2001:db8:ab:cd::45"] });
    const cname = answer({
      records: [
        { type: 5, data: [...name("other.example.tld")] },
        { type: 28, data: ADDRESS, owner: name("other.example.tld") },
      ],
    });
    expect(readAnswer(cname, 0x1234, Q)).toEqual({ ok: true, records: [], rcode: "NOERROR" });
  });

  it("no record (NODATA) and no such name (NXDOMAIN) are answers, with nothing in them", () => {
    expect(readAnswer(answer({ records: [] }), 0x1234, Q)).toEqual({
      ok: true,
      records: [],
      rcode: "NOERROR",
    });
    expect(readAnswer(answer({ flags: 0x8403, records: [] }), 0x1234, Q)).toEqual({
      ok: true,
      records: [],
      rcode: "NXDOMAIN",
    });
  });

  it.each([
    ["another id", answer({ id: 0x1235 }), "answer to another query (its id differs)"],
    ["a query, not an answer", answer({ flags: 0x0400 }), "not an answer to a query"],
    ["another opcode", answer({ flags: 0x8c00 }), "not an answer to a query"],
    ["truncated (TC)", answer({ flags: 0x8600 }), "truncated answer"],
    [
      "not authoritative",
      answer({ flags: 0x8000 }),
      "not authoritative (the server does not serve this zone)",
    ],
    ["REFUSED", answer({ flags: 0x8005, records: [] }), "the server answers REFUSED"],
    ["SERVFAIL", answer({ flags: 0x8402, records: [] }), "the server answers SERVFAIL"],
    ["RCODE 9", answer({ flags: 0x8409, records: [] }), "the server answers RCODE 9"],
    ["another name", answer({ qname: "firewall.example.tld" }), "answer to another question"],
    ["another type", answer({ qtype: 1 }), "answer to another question"],
    [
      "no question",
      answer({ counts: [0, 0, 0, 0], records: [] }).subarray(0, 12),
      "answer to another question",
    ],
    ["an AAAA of 15 bytes", answer({ records: [{ data: ADDRESS.slice(0, 15) }] }), "malformed AAAA record"],
  ])("%s: no answer from that server", (_what, bytes, reason) => {
    expect(readAnswer(bytes, 0x1234, Q)).toEqual({ ok: false, reason });
  });

  it.each([
    ["shorter than a header", Uint8Array.of(0x12, 0x34, 0x84), "shorter than a header"],
    [
      "cut inside the address",
      answer({}).subarray(0, answer({}).length - 1),
      "record data runs past the end",
    ],
    ["a count above what follows", answer({ counts: [1, 2, 0, 0] }), "name runs past the end"],
    ["trailing bytes", Uint8Array.from([...answer({}), 0]), "trailing bytes"],
    [
      "a pointer to itself",
      answer({ records: [{ data: ADDRESS, owner: [0xc0, 0x24] }] }),
      "compression loop",
    ],
    ["a pointer forwards", answer({ records: [{ data: ADDRESS, owner: [0xc0, 0x30] }] }), "compression loop"],
    ["a label type 01", answer({ records: [{ data: ADDRESS, owner: [0x40, 0x00] }] }), "unknown label type"],
  ])("%s: a malformed answer", (_what, bytes, why) => {
    expect(readAnswer(bytes, 0x1234, Q)).toEqual({ ok: false, reason: `malformed answer (${why})` });
  });

  it("a loop of two pointers (each points before the other's name) is found", () => {
    // Question name at 12; the record's owner at 36 is "a" then a pointer to 36: backwards from
    // where the pointer sits, but not before where the name began.
    const bytes = answer({ records: [{ data: ADDRESS, owner: [1, 0x61, 0xc0, 36] }] });
    expect(readAnswer(bytes, 0x1234, Q)).toEqual({
      ok: false,
      reason: "malformed answer (compression loop)",
    });
  });

  it("a name longer than 255 bytes is refused", () => {
    const long = Array.from({ length: 5 }, () => "a".repeat(60)).join(".");
    expect(() =>
      decodeMessage(encodeMessage({ id: 1, flags: 0, questions: [{ name: long, type: 1 }] })),
    ).toThrow("name too long");
  });
});

describe("properties", () => {
  const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?$/);
  const host = fc.array(label, { minLength: 1, maxLength: 4 }).map((l) => `${l.join(".")}.example.tld`);
  const v6 = fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 16, maxLength: 16 });
  const served = fc.record({
    id: fc.integer({ min: 0, max: 0xffff }),
    name: host,
    addresses: fc.array(v6, { maxLength: 6 }),
  });

  const write = (s: { id: number; name: string; addresses: number[][] }) =>
    encodeMessage({
      id: s.id,
      flags: 0x8400,
      questions: [{ name: s.name, type: TYPES.AAAA }],
      answers: s.addresses.map((a) => ({
        name: s.name,
        type: TYPES.AAAA,
        ttl: 60,
        data: Uint8Array.from(a),
      })),
    });

  it("what a server writes is read back: the same addresses, for the same id and question", () => {
    fc.assert(
      fc.property(served, (s) => {
        const r = readAnswer(write(s), s.id, { name: s.name, type: "AAAA" });
        expect(r.ok).toBe(true);
        if (r.ok) expect(r.records).toHaveLength(s.addresses.length);
      }),
      { numRuns: 500 },
    );
  });

  it("no strict prefix of an answer is ever trusted (a cut answer is not a shorter one)", () => {
    fc.assert(
      fc.property(served, fc.nat(), (s, cut) => {
        const bytes = write(s);
        const r = readAnswer(bytes.subarray(0, cut % bytes.length), s.id, { name: s.name, type: "AAAA" });
        expect(r.ok).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });

  it("any bytes, or an answer with bytes changed, read without throwing", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.integer({ min: 0, max: 0xffff }), (bytes, id) => {
        readAnswer(bytes, id, Q);
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(
        served,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        (s, edits) => {
          const bytes = write(s);
          for (const [at, value] of edits) bytes[at % bytes.length] = value;
          const r = readAnswer(bytes, s.id, { name: s.name, type: "AAAA" });
          if (r.ok) for (const a of r.records) expect(a).toMatch(/^[0-9a-f:]+$/);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
