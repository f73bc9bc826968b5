// The simulator's name servers (sim/dns.ts) and the DNS client (src/dns/client.ts), against each
// other and against dig: dig's query is byte for byte ours (its id aside), and dig reads every
// answer the simulator gives as our client does. Then the client's limits and the servers'
// faults, on loopback only.
import { execFile } from "node:child_process";
import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import { promisify } from "node:util";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type OvhSimulator, startOvhSimulator } from "../../sim/ovh-simulator";
import { type AskOptions, askServers, type NameServer, parseNameServer } from "../../src/dns/client";
import { decodeMessage, encodeQuery, type Question } from "../../src/dns/wire";
import { nodeConnect } from "../support/dns";

const run = promisify(execFile);
const ZONE = "example.test";
const OPTIONS: AskOptions = { connect: nodeConnect, timeoutMs: 5000, maxOpen: 6 };

let sim: OvhSimulator;
let servers: NameServer[];

beforeAll(async () => {
  sim = await startOvhSimulator();
  sim.addZone(ZONE);
  servers = sim.dns.servers().map((s) => parseNameServer(s.address) as NameServer);
});
afterAll(() => sim.close());
beforeEach(() => {
  for (const s of sim.dns.servers()) sim.dns.setFault(s.name, null);
  sim.dns.setDelay(0);
  sim.dns.resetLog();
});

/** What dig says: the status and the answer section's data, over UDP or TCP. */
async function dig(type: string, name: string, tcp: boolean): Promise<{ status: string; data: string[] }> {
  const port = String(servers[0]?.port);
  const args = [
    "+norec",
    "+tries=1",
    "+time=2",
    ...(tcp ? ["+tcp"] : []),
    "@127.0.0.1",
    "-p",
    port,
    type,
    name,
  ];
  const { stdout } = await run("dig", args);
  const status = /status: (\w+)/.exec(stdout)?.[1] ?? "(none)";
  const section = stdout.split(";; ANSWER SECTION:\n")[1]?.split("\n\n")[0] ?? "";
  const data = section
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => l.split(/\s+/).slice(4).join(" ").replace(/\.$/, ""));
  return { status, data };
}

describe("the codec against dig", () => {
  it("dig's query (+norec +noedns +noadflag) is byte for byte the one we send, but for its id", async () => {
    let captured: Buffer | undefined;
    const capture: Server = createServer((s: Socket) =>
      s.on("data", (d: Buffer) => {
        captured = d;
        s.destroy();
      }),
    );
    await new Promise<void>((resolve) => capture.listen(0, "127.0.0.1", resolve));
    const port = String((capture.address() as AddressInfo).port);
    const flags = ["+tcp", "+norec", "+noedns", "+noadflag", "+tries=1", "+time=1"];
    await run("dig", [...flags, "@127.0.0.1", "-p", port, "AAAA", "wg-end.example.tld"]).catch(
      () => undefined,
    );
    capture.close();
    const message = new Uint8Array((captured as Buffer).subarray(2));
    const id = decodeMessage(message).id;
    expect([...message]).toEqual([...encodeQuery(id, { name: "wg-end.example.tld", type: "AAAA" })]);
  });

  it("every answer reads as dig reads it: addresses, none, no such name, name servers, over UDP and TCP", async () => {
    sim.addRecord(ZONE, {
      fieldType: "AAAA",
      subDomain: "wg-end",
      target: "2001:db8:ab:cd10:211:32ff:fe12:3456",
    });
    sim.addRecord(ZONE, { fieldType: "AAAA", subDomain: "two", target: "2001:db8::1" });
    sim.addRecord(ZONE, { fieldType: "AAAA", subDomain: "two", target: "2001:db8::2" });
    sim.addRecord(ZONE, { fieldType: "A", subDomain: "", target: "198.51.100.7" });
    const questions: Question[] = [
      { name: `wg-end.${ZONE}`, type: "AAAA" },
      { name: `two.${ZONE}`, type: "AAAA" },
      { name: `wg-end.${ZONE}`, type: "A" }, // NODATA
      { name: `nothing.${ZONE}`, type: "AAAA" }, // NXDOMAIN
      { name: ZONE, type: "A" },
      { name: ZONE, type: "NS" },
    ];
    const [ours] = await askServers(servers.slice(0, 1), questions, OPTIONS);
    for (const [i, q] of questions.entries()) {
      const reading = ours?.answers[i];
      for (const tcp of [false, true]) {
        const theirs = await dig(q.type, q.name, tcp);
        expect(reading?.ok, `${q.type} ${q.name}`).toBe(true);
        if (!reading?.ok) continue;
        expect(reading.rcode).toBe(theirs.status);
        expect([...reading.records].sort()).toEqual([...theirs.data].sort());
      }
    }
  });
});

describe("the client", () => {
  it("asks each server once, every question on one connection, and reads the answers in any order", async () => {
    for (let i = 0; i < 30; i++)
      sim.addRecord(ZONE, { fieldType: "A", subDomain: `h${i}`, target: `198.51.100.${i}` });
    const questions = Array.from({ length: 30 }, (_, i): Question => ({ name: `h${i}.${ZONE}`, type: "A" }));
    const answers = await askServers(servers, questions, OPTIONS);
    expect(answers.map((a) => a.server.label)).toEqual(servers.map((s) => s.label));
    for (const a of answers)
      expect(a.answers).toEqual(
        questions.map((_, i) => ({ ok: true, records: [`198.51.100.${i}`], rcode: "NOERROR" })),
      );
    expect(sim.dns.connections().total).toBe(2);
    expect(sim.dns.queries()).toHaveLength(60);
  });

  it("opens at most maxOpen connections at once, and still asks every server", async () => {
    const many = await startOvhSimulator({
      dns: { names: Array.from({ length: 9 }, (_, i) => `ns${i}.sim.test`) },
    });
    many.addZone(ZONE);
    many.addRecord(ZONE, { fieldType: "A", subDomain: "a", target: "198.51.100.1" });
    const nine = many.dns.servers().map((s) => parseNameServer(s.address) as NameServer);
    let open = 0;
    let most = 0;
    const counting: AskOptions["connect"] = (server) => {
      const socket = nodeConnect(server);
      most = Math.max(most, ++open);
      const close = () => {
        open--;
        return socket.close();
      };
      return { ...socket, close };
    };
    const q: Question = { name: `a.${ZONE}`, type: "A" };
    const answers = await askServers(nine, [q], { ...OPTIONS, connect: counting, maxOpen: 2 });
    expect(answers.every((a) => a.answers[0]?.ok)).toBe(true);
    expect(most).toBe(2);
    expect(many.dns.connections().total).toBe(9);
    await many.close();
  });

  it.each([
    ["refuse", "the server answers REFUSED"],
    ["not-authoritative", "not authoritative (the server does not serve this zone)"],
    ["silent", "no answer within 0.3 s"],
    ["wrong-id", "no answer within 0.3 s"],
  ] as const)("a server that does %s gives no answer, the other answers", async (fault, reason) => {
    sim.addRecord(ZONE, { fieldType: "A", subDomain: fault, target: "198.51.100.9" });
    sim.dns.setFault(sim.dns.servers()[1]?.name as string, fault);
    const q: Question = { name: `${fault}.${ZONE}`, type: "A" };
    const [good, bad] = await askServers(servers, [q], { ...OPTIONS, timeoutMs: 300 });
    expect(good?.answers).toEqual([{ ok: true, records: ["198.51.100.9"], rcode: "NOERROR" }]);
    expect(bad?.answers).toEqual([{ ok: false, reason }]);
  });

  it("a server nobody listens on, one that hangs up, one that sends too much: no answer, and why", async () => {
    const closing = createServer((s: Socket) => s.on("data", () => s.end()));
    const flooding = createServer((s: Socket) =>
      s.on("data", () => s.write(Buffer.from([0xff, 0xff, 0, 0]))),
    );
    const listening = async (server: Server) => {
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      return parseNameServer(`127.0.0.1:${(server.address() as AddressInfo).port}`) as NameServer;
    };
    const a = await listening(closing);
    const b = await listening(flooding);
    const gone = createServer();
    const nobody = await listening(gone);
    await new Promise((resolve) => gone.close(resolve));
    const q: Question = { name: `x.${ZONE}`, type: "A" };
    const result = await askServers([a, b, nobody], [q], OPTIONS);
    expect(result.map((r) => r.answers[0])).toEqual([
      { ok: false, reason: "the server closed the connection before answering" },
      { ok: false, reason: "oversized answer (65535 bytes)" },
      { ok: false, reason: expect.stringMatching(/^connection failed \(.*ECONNREFUSED/) },
    ]);
    closing.close();
    flooding.close();
  });

  it("a server's propagation delay: what the zone held that long ago, then the new", async () => {
    sim.dns.setDelay(60_000, sim.dns.servers()[1]?.name);
    sim.addRecord(ZONE, { fieldType: "AAAA", subDomain: "late", target: "2001:db8::2" });
    const q: Question = { name: `late.${ZONE}`, type: "AAAA" };
    const [now, lagging] = await askServers(servers, [q], OPTIONS);
    expect(now?.answers[0]).toMatchObject({ records: ["2001:db8::2"] });
    expect(lagging?.answers[0]).toEqual({ ok: true, records: [], rcode: "NXDOMAIN" }); // a minute ago: no such name
    sim.dns.setDelay(0);
    const [, caughtUp] = await askServers(servers, [q], OPTIONS);
    expect(caughtUp?.answers[0]).toMatchObject({ records: ["2001:db8::2"] });
  });

  it("a stale server keeps the answer it had when the fault was set; only refreshes publish", async () => {
    const id = sim.addRecord(ZONE, { fieldType: "AAAA", subDomain: "kept", target: "2001:db8::1" });
    sim.dns.setFault(sim.dns.servers()[0]?.name as string, "stale");
    sim.editRecord(ZONE, id, { target: "2001:db8::2" }, { live: false }); // written, not refreshed
    const q: Question = { name: `kept.${ZONE}`, type: "AAAA" };
    let [stale, fresh] = await askServers(servers, [q], OPTIONS);
    expect(fresh?.answers[0]).toMatchObject({ records: ["2001:db8::1"] });
    sim.editRecord(ZONE, id, { target: "2001:db8::2" }); // published
    [stale, fresh] = await askServers(servers, [q], OPTIONS);
    expect(stale?.answers[0]).toMatchObject({ records: ["2001:db8::1"] });
    expect(fresh?.answers[0]).toMatchObject({ records: ["2001:db8::2"] });
  });
});

describe("name servers as written", () => {
  it.each([
    ["dns200.anycast.me", { host: "dns200.anycast.me", port: 53 }],
    ["ns200.anycast.me.", { host: "ns200.anycast.me", port: 53 }],
    ["127.0.0.1:5300", { host: "127.0.0.1", port: 5300 }],
    ["[::1]:5300", { host: "::1", port: 5300 }],
    ["[2001:db8::53]", { host: "2001:db8::53", port: 53 }],
  ])("%s", (text, expected) => {
    expect(parseNameServer(text)).toEqual({ ...expected, label: text });
  });

  it.each(["", "dns200.anycast.me:0", "host:70000", "::1", "a..b", "-x.tld", "http://x", "x.tld:53:53"])(
    "%j is not a name server",
    (text) => {
      expect(parseNameServer(text)).toBeUndefined();
    },
  );
});

describe("the control API", () => {
  it("sets a server's delay and fault, lists the servers and the queries, and empties the log", async () => {
    const post = (body: unknown) =>
      fetch(`${sim.origin}/_sim/dns`, { method: "POST", body: JSON.stringify(body) });
    const name = sim.dns.servers()[1]?.name;
    expect((await post({ server: name, fault: "refuse", delayMs: 1500 })).status).toBe(200);
    expect(sim.dns.servers()[1]).toMatchObject({ fault: "refuse", delayMs: 1500 });
    expect((await post({ server: name, fault: "explode" })).status).toBe(400);
    expect((await post({ fault: "refuse" })).status).toBe(400);
    await askServers(servers, [{ name: `x.${ZONE}`, type: "A" }], OPTIONS);
    const listed = (await (await fetch(`${sim.origin}/_sim/dns`)).json()) as {
      queries: unknown[];
      servers: unknown[];
    };
    expect(listed.servers).toHaveLength(2);
    expect(listed.queries).toHaveLength(2);
    await fetch(`${sim.origin}/_sim/dns`, { method: "DELETE" });
    expect(sim.dns.queries()).toEqual([]);
  });
});
