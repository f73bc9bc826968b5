/**
 * The simulator's name servers: each serves the simulator's zones over DNS, TCP and UDP, on its
 * own loopback port, as OVH's servers do (docs/reference/ovh-api.md, "Name servers and
 * propagation"): a zone as of its last refresh, seen by each server `delayMs` after it (the
 * propagation delay), and faults a test or the control API sets per server.
 *
 * A server is a name ("dns200.sim.test") and a port; the Worker knows it as "127.0.0.1:PORT".
 * Every query and connection is logged, so a test can count what the Worker asked.
 */
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import {
  addressBytes,
  decodeMessage,
  encodeMessage,
  FLAG,
  RCODE,
  type RecordToWrite,
  TYPES,
} from "../src/dns/wire";

/** How one server misbehaves. */
export type DnsFault =
  /** Answers as of the moment the fault was set: a secondary that stopped taking updates. */
  | "stale"
  /** Answers REFUSED to everything. */
  | "refuse"
  /** Reads queries and never answers (the connection stays open). */
  | "silent"
  /** Answers without the authoritative flag, as a server that does not hold the zone. */
  | "not-authoritative"
  /** Answers with the query's id plus one. */
  | "wrong-id";

export const DNS_FAULTS: readonly DnsFault[] = ["stale", "refuse", "silent", "not-authoritative", "wrong-id"];

/** A record as a zone publishes it. */
export interface PublishedRecord {
  fieldType: string;
  subDomain: string;
  target: string;
  ttl: number;
}

/** What the name servers serve from: the simulator's zones and their published states. */
export interface ZoneSource {
  /** Zone names, lowercase. */
  zoneNames(): string[];
  /** The zone as published at `asOf` (Unix ms): its newest refresh at or before then. */
  publishedAt(zone: string, asOf: number): { serial: number; records: PublishedRecord[] } | undefined;
}

export interface DnsQueryLog {
  at: number;
  server: string;
  transport: "tcp" | "udp";
  name: string;
  type: number;
}

export interface DnsServerState {
  name: string;
  host: string;
  port: number;
  /** "127.0.0.1:5300": what name_servers lists for it. */
  address: string;
  delayMs: number;
  fault: DnsFault | null;
}

export interface DnsSimulator {
  servers(): DnsServerState[];
  /** The propagation delay of one server, or of all. */
  setDelay(ms: number, server?: string): void;
  /** A fault on one server (null: none). */
  setFault(server: string, fault: DnsFault | null): void;
  queries(): DnsQueryLog[];
  /** TCP connections accepted, and the most that were open at once. */
  connections(): { total: number; maxOpen: number };
  resetLog(): void;
  close(): Promise<void>;
}

export interface DnsOptions {
  host?: string;
  /** The first server's port (0: any); the others take the next ones (or any, with 0). */
  port?: number;
  /** Default: dns200.sim.test and ns200.sim.test, as an OVH zone has two. */
  names?: string[];
}

interface Server1 {
  state: DnsServerState;
  tcp: Server;
  udp: UdpSocket;
  frozenAt: number;
}

/** Bytes of a UDP answer without EDNS, at most (RFC 1035 §4.2.1); longer ones are truncated. */
const UDP_MAX = 512;

export async function startDnsServers(source: ZoneSource, o: DnsOptions = {}): Promise<DnsSimulator> {
  const host = o.host ?? "127.0.0.1";
  const names = o.names ?? ["dns200.sim.test", "ns200.sim.test"];
  const log: DnsQueryLog[] = [];
  const sockets = new Set<Socket>();
  let total = 0;
  let maxOpen = 0;
  const servers: Server1[] = [];

  const answer = (s: Server1, query: Uint8Array, transport: "tcp" | "udp"): Uint8Array | undefined => {
    let m: ReturnType<typeof decodeMessage>;
    try {
      m = decodeMessage(query);
    } catch {
      return undefined; // not a query: nothing to say
    }
    const q = m.questions[0];
    if (q) log.push({ at: Date.now(), server: s.state.name, transport, name: q.name, type: q.type });
    const fault = s.state.fault;
    if (fault === "silent") return undefined;
    const id = fault === "wrong-id" ? (m.id + 1) & 0xffff : m.id;
    const reply = (
      rcode: number,
      aa: boolean,
      answers: RecordToWrite[] = [],
      authorities: RecordToWrite[] = [],
    ) =>
      encodeMessage({
        id,
        flags: FLAG.QR | (aa ? FLAG.AA : 0) | (m.flags & FLAG.RD) | rcode,
        questions: q ? [{ name: q.name, type: q.type }] : [],
        answers,
        authorities,
      });
    if (!q || m.questions.length !== 1 || (m.flags & FLAG.QR) !== 0) return reply(1, false); // FORMERR
    if (fault === "refuse") return reply(RCODE.REFUSED, false);
    const name = q.name.toLowerCase();
    const zone = source
      .zoneNames()
      .filter((z) => name === z || name.endsWith(`.${z}`))
      .sort((a, b) => b.length - a.length)[0];
    if (zone === undefined) return reply(RCODE.REFUSED, false);
    const asOf = Math.min(
      Date.now() - s.state.delayMs,
      fault === "stale" ? s.frozenAt : Number.POSITIVE_INFINITY,
    );
    const published = source.publishedAt(zone, asOf) ?? { serial: 0, records: [] };
    const aa = fault !== "not-authoritative";
    const sub = name === zone ? "" : name.slice(0, -zone.length - 1);
    const soa: RecordToWrite = {
      name: zone,
      type: TYPES.SOA,
      ttl: 60,
      data: soaData(zone, names[0] ?? "dns.sim.test", published.serial),
    };
    const here = published.records.filter((r) => r.subDomain.toLowerCase() === sub);
    const ns = names.map((n) => ({ name: zone, type: TYPES.NS, ttl: 3600, data: { name: n } }));
    let answers: RecordToWrite[] = [];
    if (sub === "" && q.type === TYPES.NS) answers = ns;
    else if (sub === "" && q.type === TYPES.SOA) answers = [soa];
    else {
      const type = Object.entries(TYPES).find(([, code]) => code === q.type)?.[0];
      answers = here
        .filter((r) => r.fieldType === type && (type === "A" || type === "AAAA"))
        .map((r) => ({ name: q.name, type: q.type, ttl: r.ttl || 60, data: addressBytes(r.target) }));
    }
    if (answers.length > 0) return reply(RCODE.NOERROR, aa, answers);
    // No such record: NODATA when the name holds something else, else NXDOMAIN; the SOA says so.
    const exists = sub === "" || published.records.some((r) => r.subDomain.toLowerCase() === sub);
    return reply(exists ? RCODE.NOERROR : RCODE.NXDOMAIN, aa, [], [soa]);
  };

  const listenTcp = (s: Server1) => {
    s.tcp.on("connection", (socket: Socket) => {
      sockets.add(socket);
      total++;
      maxOpen = Math.max(maxOpen, sockets.size);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => socket.destroy());
      let buffered = Buffer.alloc(0);
      socket.on("data", (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        while (buffered.length >= 2) {
          const size = buffered.readUInt16BE(0);
          if (buffered.length < 2 + size) return;
          const out = answer(s, new Uint8Array(buffered.subarray(2, 2 + size)), "tcp");
          buffered = buffered.subarray(2 + size);
          if (out) {
            const head = Buffer.alloc(2);
            head.writeUInt16BE(out.length);
            socket.write(Buffer.concat([head, out]));
          }
        }
      });
    });
  };

  for (let i = 0; i < names.length; i++) {
    const name = names[i] as string;
    const wanted = o.port ? o.port + i : 0;
    const tcp = createServer();
    await new Promise<void>((resolve, reject) => {
      tcp.once("error", reject);
      tcp.listen(wanted, host, () => resolve());
    });
    const port = (tcp.address() as AddressInfo).port;
    const udp = createSocket(host.includes(":") ? "udp6" : "udp4");
    await new Promise<void>((resolve, reject) => {
      udp.once("error", reject);
      udp.bind(port, host, () => resolve());
    });
    const shown = host.includes(":") ? `[${host}]` : host;
    const s: Server1 = {
      state: { name, host, port, address: `${shown}:${port}`, delayMs: 0, fault: null },
      tcp,
      udp,
      frozenAt: 0,
    };
    listenTcp(s);
    udp.on("message", (msg, from) => {
      let out = answer(s, new Uint8Array(msg), "udp");
      if (!out) return;
      if (out.length > UDP_MAX) out = truncated(out);
      udp.send(out, from.port, from.address);
    });
    servers.push(s);
  }

  const find = (name: string) => {
    const s = servers.find((x) => x.state.name === name || x.state.address === name);
    if (!s) throw new Error(`unknown name server ${name}`);
    return s;
  };
  return {
    servers: () => servers.map((s) => ({ ...s.state })),
    setDelay(ms, server) {
      for (const s of server === undefined ? servers : [find(server)]) s.state.delayMs = Math.max(0, ms);
    },
    setFault(server, fault) {
      const s = find(server);
      if (fault === "stale" && s.state.fault !== "stale") s.frozenAt = Date.now();
      s.state.fault = fault;
    },
    queries: () => log.map((q) => ({ ...q })),
    connections: () => ({ total, maxOpen }),
    resetLog() {
      log.length = 0;
      total = 0;
      maxOpen = sockets.size;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await Promise.all(
        servers.flatMap((s) => [
          new Promise<void>((resolve) => s.tcp.close(() => resolve())),
          new Promise<void>((resolve) => s.udp.close(() => resolve())),
        ]),
      );
    },
  };
}

/** The header and question of an answer, with TC set: "ask again over TCP". */
function truncated(out: Uint8Array): Uint8Array {
  const m = decodeMessage(out);
  return encodeMessage({ id: m.id, flags: m.flags | FLAG.TC, questions: m.questions });
}

/** SOA rdata: primary server, mailbox, serial, refresh, retry, expire, minimum. */
function soaData(zone: string, primary: string, serial: number): Uint8Array {
  const name = (text: string) =>
    text
      .split(".")
      .flatMap((l) => [l.length, ...new TextEncoder().encode(l)])
      .concat([0]);
  const u32 = (n: number) => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
  return Uint8Array.from([
    ...name(primary),
    ...name(`tech.${zone}`),
    ...u32(serial),
    ...u32(86_400),
    ...u32(3600),
    ...u32(3_600_000),
    ...u32(60),
  ]);
}

/** Whether a text names a fault (for the control API). */
export function isDnsFault(v: unknown): v is DnsFault {
  return typeof v === "string" && (DNS_FAULTS as readonly string[]).includes(v);
}
