// The DNS wire format (RFC 1035 §4), as much of it as asking an authoritative server about a
// record needs: a query for one name and type, and a reading of the answer that trusts nothing.
// Pure: no I/O. The Worker only builds queries and reads answers; encodeMessage is for the
// simulator (sim/dns.ts) and the tests.
//
// Why not a library (compared in docs/reference/dns.md): dns-packet needs Node's Buffer; its
// Buffer-free forks cost about 7.5 KiB gzip in the bundle and read a truncated AAAA record as
// a shorter address instead of failing.
import ipaddr from "ipaddr.js";

/** The record types this Worker asks about, with their codes. */
export const TYPES = { A: 1, NS: 2, SOA: 6, AAAA: 28 } as const;
export type QType = keyof typeof TYPES;

const CLASS_IN = 1;
const HEADER = 12;
/** Longest name in wire form (RFC 1035 §2.3.4). */
const MAX_NAME = 255;
/** Pointers followed in one name: a name has at most 127 labels, so more is a loop. */
const MAX_JUMPS = 127;

export const FLAG = { QR: 0x8000, AA: 0x0400, TC: 0x0200, RD: 0x0100 } as const;
export const RCODE = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 } as const;
const RCODE_NAMES = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"];

export interface Question {
  /** Without the trailing dot; compared case-insensitively. */
  name: string;
  type: QType;
}

/** A resource record as found in a message: its data raw, and where it starts (for names in it). */
export interface ResourceRecord {
  name: string;
  type: number;
  class: number;
  ttl: number;
  data: Uint8Array;
  dataOffset: number;
}

export interface Message {
  id: number;
  flags: number;
  questions: { name: string; type: number; class: number }[];
  answers: ResourceRecord[];
  authorities: ResourceRecord[];
  additionals: ResourceRecord[];
}

/** What one server said about one question, once read. */
export type Reading =
  /** `records`: the addresses (A, AAAA) or names (NS) it serves for the name; none is an answer too. */
  | { ok: true; records: string[]; rcode: "NOERROR" | "NXDOMAIN" }
  /** No answer to trust: why, in a few words. */
  | { ok: false; reason: string };

class WireError extends Error {}

// ---------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------

/** A name at `offset` and the offset just past it (past the first pointer, if any). */
function readName(msg: Uint8Array, offset: number): { name: string; end: number } {
  const labels: string[] = [];
  let at = offset;
  let end = -1;
  let length = 1;
  /** Where the labels being read began: a pointer must point before it. */
  let floor = offset;
  for (let jumps = 0; ; ) {
    if (at >= msg.length) throw new WireError("name runs past the end");
    const len = msg[at] as number;
    if (len === 0) {
      if (end < 0) end = at + 1;
      break;
    }
    if ((len & 0xc0) === 0xc0) {
      if (at + 1 >= msg.length) throw new WireError("pointer runs past the end");
      const target = ((len & 0x3f) << 8) | (msg[at + 1] as number);
      // Only backwards (RFC 1035 §4.1.4: "a prior occurrence"), and only so often: no loop.
      if (target >= floor || ++jumps > MAX_JUMPS) throw new WireError("compression loop");
      if (end < 0) end = at + 2;
      at = target;
      floor = target;
      continue;
    }
    if ((len & 0xc0) !== 0) throw new WireError("unknown label type");
    if (at + 1 + len > msg.length) throw new WireError("label runs past the end");
    length += len + 1;
    if (length > MAX_NAME) throw new WireError("name too long");
    labels.push(labelText(msg.subarray(at + 1, at + 1 + len)));
    at += 1 + len;
  }
  return { name: labels.join("."), end };
}

/** A label as text: letters, digits, hyphen and underscore as they are, anything else as \DDD. */
function labelText(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) {
    const plain = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
    out += plain || b === 0x2d || b === 0x5f ? String.fromCharCode(b) : `\\${String(b).padStart(3, "0")}`;
  }
  return out;
}

function u16(msg: Uint8Array, at: number): number {
  if (at + 2 > msg.length) throw new WireError("message ends early");
  return ((msg[at] as number) << 8) | (msg[at + 1] as number);
}

function u32(msg: Uint8Array, at: number): number {
  return u16(msg, at) * 0x10000 + u16(msg, at + 2);
}

function readRecords(msg: Uint8Array, at: number, count: number, into: ResourceRecord[]): number {
  for (let i = 0; i < count; i++) {
    const { name, end } = readName(msg, at);
    const type = u16(msg, end);
    const cls = u16(msg, end + 2);
    const ttl = u32(msg, end + 4);
    const size = u16(msg, end + 8);
    const dataOffset = end + 10;
    if (dataOffset + size > msg.length) throw new WireError("record data runs past the end");
    into.push({ name, type, class: cls, ttl, data: msg.subarray(dataOffset, dataOffset + size), dataOffset });
    at = dataOffset + size;
  }
  return at;
}

/** Parse a whole message; throws a WireError on anything malformed, trailing bytes included. */
export function decodeMessage(msg: Uint8Array): Message {
  if (msg.length < HEADER) throw new WireError("shorter than a header");
  const counts = [u16(msg, 4), u16(msg, 6), u16(msg, 8), u16(msg, 10)] as const;
  const m: Message = {
    id: u16(msg, 0),
    flags: u16(msg, 2),
    questions: [],
    answers: [],
    authorities: [],
    additionals: [],
  };
  let at = HEADER;
  for (let i = 0; i < counts[0]; i++) {
    const { name, end } = readName(msg, at);
    m.questions.push({ name, type: u16(msg, end), class: u16(msg, end + 2) });
    at = end + 4;
  }
  at = readRecords(msg, at, counts[1], m.answers);
  at = readRecords(msg, at, counts[2], m.authorities);
  at = readRecords(msg, at, counts[3], m.additionals);
  if (at !== msg.length) throw new WireError("trailing bytes");
  return m;
}

const sameName = (a: string, b: string) => a.toLowerCase() === b.toLowerCase().replace(/\.$/, "");

/**
 * What an answer says about the question asked with `id`, trusted only when it is a well-formed,
 * untruncated, authoritative response to exactly that query. Anything else is "no answer from
 * that server", with the reason; it never throws.
 */
export function readAnswer(bytes: Uint8Array, id: number, question: Question): Reading {
  let m: Message;
  try {
    m = decodeMessage(bytes);
  } catch (error) {
    return {
      ok: false,
      reason: `malformed answer (${error instanceof WireError ? error.message : "unreadable"})`,
    };
  }
  const q = m.questions[0];
  if (m.id !== id) return { ok: false, reason: "answer to another query (its id differs)" };
  if ((m.flags & FLAG.QR) === 0 || ((m.flags >> 11) & 0xf) !== 0)
    return { ok: false, reason: "not an answer to a query" };
  if (m.flags & FLAG.TC) return { ok: false, reason: "truncated answer" };
  if (
    m.questions.length !== 1 ||
    !q ||
    !sameName(q.name, question.name) ||
    q.type !== TYPES[question.type] ||
    q.class !== CLASS_IN
  )
    return { ok: false, reason: "answer to another question" };
  const rcode = m.flags & 0xf;
  if (rcode !== RCODE.NOERROR && rcode !== RCODE.NXDOMAIN)
    return { ok: false, reason: `the server answers ${RCODE_NAMES[rcode] ?? `RCODE ${rcode}`}` };
  if ((m.flags & FLAG.AA) === 0)
    return { ok: false, reason: "not authoritative (the server does not serve this zone)" };
  const records: string[] = [];
  for (const rr of m.answers) {
    if (rr.type !== TYPES[question.type] || rr.class !== CLASS_IN || !sameName(rr.name, question.name))
      continue;
    const text = recordText(bytes, rr);
    if (text === undefined) return { ok: false, reason: `malformed ${question.type} record` };
    records.push(text);
  }
  return { ok: true, records, rcode: rcode === RCODE.NXDOMAIN ? "NXDOMAIN" : "NOERROR" };
}

/** An A or AAAA record's address (canonical text), an NS record's name; undefined when malformed. */
function recordText(msg: Uint8Array, rr: ResourceRecord): string | undefined {
  if (rr.type === TYPES.A || rr.type === TYPES.AAAA) {
    if (rr.data.length !== (rr.type === TYPES.A ? 4 : 16)) return undefined;
    return ipaddr.fromByteArray([...rr.data]).toString();
  }
  if (rr.type === TYPES.NS) {
    try {
      const { name, end } = readName(msg, rr.dataOffset);
      return end === rr.dataOffset + rr.data.length ? name : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------

/** A record to write: `data` is its rdata, or a name (NS, the names in SOA are written by the caller). */
export interface RecordToWrite {
  name: string;
  type: number;
  ttl: number;
  data: Uint8Array | { name: string };
}

export interface MessageToWrite {
  id: number;
  flags: number;
  questions: { name: string; type: number }[];
  answers?: RecordToWrite[];
  authorities?: RecordToWrite[];
}

/** Bytes of a message, names compressed against earlier ones as servers do. */
export function encodeMessage(m: MessageToWrite): Uint8Array {
  const out: number[] = [];
  const seen = new Map<string, number>();
  const push16 = (n: number) => out.push((n >> 8) & 0xff, n & 0xff);
  const name = (text: string) => {
    const labels = text
      .replace(/\.$/, "")
      .split(".")
      .filter((l) => l !== "");
    for (let i = 0; i < labels.length; i++) {
      const suffix = labels.slice(i).join(".").toLowerCase();
      const at = seen.get(suffix);
      if (at !== undefined) {
        push16(0xc000 | at);
        return;
      }
      if (out.length < 0x4000) seen.set(suffix, out.length);
      const bytes = new TextEncoder().encode(labels[i]);
      if (bytes.length > 63) throw new Error(`label too long in ${text}`);
      out.push(bytes.length, ...bytes);
    }
    out.push(0);
  };
  const answers = m.answers ?? [];
  const authorities = m.authorities ?? [];
  for (const n of [m.id, m.flags, m.questions.length, answers.length, authorities.length, 0]) push16(n);
  for (const q of m.questions) {
    name(q.name);
    push16(q.type);
    push16(CLASS_IN);
  }
  for (const rr of [...answers, ...authorities]) {
    name(rr.name);
    push16(rr.type);
    push16(CLASS_IN);
    push16(Math.floor(rr.ttl / 0x10000));
    push16(rr.ttl & 0xffff);
    const lengthAt = out.length;
    push16(0);
    if (rr.data instanceof Uint8Array) out.push(...rr.data);
    else name(rr.data.name);
    const size = out.length - lengthAt - 2;
    out[lengthAt] = size >> 8;
    out[lengthAt + 1] = size & 0xff;
  }
  return Uint8Array.from(out);
}

/** A query for one name and type, recursion not desired (we ask the authoritative server). */
export function encodeQuery(id: number, q: Question): Uint8Array {
  return encodeMessage({ id, flags: 0, questions: [{ name: q.name, type: TYPES[q.type] }] });
}

/** The message with its 2-byte length in front, as DNS over TCP sends it (RFC 1035 §4.2.2). */
export function frame(message: Uint8Array): Uint8Array {
  const out = new Uint8Array(message.length + 2);
  out[0] = message.length >> 8;
  out[1] = message.length & 0xff;
  out.set(message, 2);
  return out;
}

/** An address's bytes, for the A or AAAA record a server writes. */
export function addressBytes(address: string): Uint8Array {
  return Uint8Array.from(ipaddr.parse(address).toByteArray());
}
