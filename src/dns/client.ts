// Asking authoritative name servers, over DNS over TCP (RFC 7766): Workers have no UDP. One
// connection per server, every question written on it at once (pipelined) and the answers
// matched by id in whatever order they come; at most `maxOpen` connections at once, since a
// Worker invocation may hold 6 (sockets and fetches together). Each server has `timeoutMs` for
// all its answers. What comes back is read by src/dns/wire.ts, which trusts only an
// authoritative answer to exactly the query sent.
import { messageOf } from "../core/text";
import { encodeQuery, frame, type Question, type Reading, readAnswer } from "./wire";

/** A name server as configured or as OVH lists it: `host` or `host:port` (`[v6]:port`). */
export interface NameServer {
  host: string;
  port: number;
  /** As written, for people: "dns200.anycast.me", "127.0.0.1:5300". */
  label: string;
}

/** The part of a socket this module uses: connect() from cloudflare:sockets gives one. */
export interface DnsSocket {
  readable: ReadableStream<Uint8Array>;
  writable: WritableStream<Uint8Array>;
  close(): Promise<void> | void;
}

export type Connect = (server: NameServer) => DnsSocket;

export interface AskOptions {
  connect: Connect;
  /** For each server, from its connect to its last answer. */
  timeoutMs: number;
  /** Connections open at once, at most. */
  maxOpen: number;
  /** Query ids; random by default (an id an off-path attacker cannot guess). */
  newId?: () => number;
}

/** A server's answers, in the order of the questions. */
export interface ServerAnswers {
  server: NameServer;
  answers: Reading[];
}

/** An answer longer than this is not one to a question about an address: refused unread. */
export const MAX_ANSWER_BYTES = 16_384;

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/i;

/** `host`, `host:port` or `[v6]:port` as a name server; undefined when it is not one. */
export function parseNameServer(text: string): NameServer | undefined {
  const label = text.trim();
  let host = label;
  let port = 53;
  const bracket = /^\[([0-9a-f:.]+)\](?::(\d{1,5}))?$/i.exec(label);
  const colon = label.lastIndexOf(":");
  if (bracket) {
    host = bracket[1] as string;
    if (bracket[2] !== undefined) port = Number(bracket[2]);
  } else if (colon > 0 && label.indexOf(":") === colon) {
    if (!/^\d{1,5}$/.test(label.slice(colon + 1))) return undefined;
    host = label.slice(0, colon);
    port = Number(label.slice(colon + 1));
  } else if (colon >= 0) return undefined;
  const name = host.replace(/\.$/, "");
  const isName = name.length <= 253 && name.split(".").every((l) => LABEL.test(l));
  const isV6 = bracket !== null && name.includes(":");
  if (!(isName || isV6) || port < 1 || port > 65_535) return undefined;
  return { host: name, port, label };
}

/**
 * Ask every server every question. Never throws: a server that cannot be reached, closes, stays
 * silent or answers nonsense gets, for each question it did not answer, why.
 */
export async function askServers(
  servers: NameServer[],
  questions: Question[],
  options: AskOptions,
): Promise<ServerAnswers[]> {
  const results: ServerAnswers[] = new Array(servers.length);
  let next = 0;
  const lane = async () => {
    while (next < servers.length) {
      const i = next++;
      const server = servers[i] as NameServer;
      results[i] = { server, answers: await askOne(server, questions, options) };
    }
  };
  const lanes = Math.max(1, Math.min(options.maxOpen, servers.length));
  await Promise.all(Array.from({ length: lanes }, lane));
  return results;
}

/** Distinct ids for the questions of one connection. */
function idsFor(count: number, newId: () => number): number[] {
  const ids = new Set<number>();
  while (ids.size < Math.min(count, 65_536)) ids.add(newId() & 0xffff);
  return [...ids];
}

const randomId = () => crypto.getRandomValues(new Uint16Array(1))[0] as number;

async function askOne(server: NameServer, questions: Question[], o: AskOptions): Promise<Reading[]> {
  const answers: (Reading | undefined)[] = new Array(questions.length).fill(undefined);
  if (questions.length === 0) return [];
  const ids = idsFor(questions.length, o.newId ?? randomId);
  const byId = new Map(ids.map((id, i) => [id, i]));
  let unanswered = questions.length;
  let socket: DnsSocket | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let why = `no answer within ${o.timeoutMs / 1000} s`;

  const talk = async (s: DnsSocket) => {
    const writer = s.writable.getWriter();
    await writer.write(questions.map((q, i) => frame(encodeQuery(ids[i] as number, q))).reduce(concat));
    writer.releaseLock();
    const reader = s.readable.getReader();
    let buffered: Uint8Array = new Uint8Array(0);
    while (unanswered > 0) {
      const { value, done } = await reader.read();
      if (done) {
        why = "the server closed the connection before answering";
        return;
      }
      buffered = concat(buffered, value);
      while (buffered.length >= 2) {
        const size = ((buffered[0] as number) << 8) | (buffered[1] as number);
        if (size > MAX_ANSWER_BYTES) {
          why = `oversized answer (${size} bytes)`;
          return;
        }
        if (buffered.length < 2 + size) break;
        const message = buffered.slice(2, 2 + size);
        buffered = buffered.slice(2 + size);
        const id = size >= 2 ? ((message[0] as number) << 8) | (message[1] as number) : -1;
        const i = byId.get(id);
        // An answer for an id we did not send is nobody's: it answers nothing.
        if (i === undefined || answers[i] !== undefined) continue;
        answers[i] = readAnswer(message, id, questions[i] as Question);
        unanswered--;
      }
    }
  };

  try {
    socket = o.connect(server);
    const talking = talk(socket);
    talking.catch(() => undefined); // after a time-out, closing the socket may fail the read
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, o.timeoutMs);
    });
    await Promise.race([talking, late]);
  } catch (error) {
    why = `connection failed (${messageOf(error)})`;
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    try {
      await socket?.close();
    } catch {
      // closing a broken connection may fail too; it is closed either way
    }
  }
  return answers.map((a) => a ?? { ok: false, reason: why });
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
