// The hostile corpus end to end: every row against one Worker in workerd and the OVH simulator.
import { Agent, request as httpRequest } from "node:http";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { SUCCESS_WORDS } from "../../src/dyndns/reply";
import { type Endpoint, startEndpoint } from "../support/endpoint";
import { OTHER_ZONE, ZONE } from "../support/fixtures";
import { AUTH, CORPUS, corpusVars, type HostileRequest, SEEDED, seedCorpus } from "./corpus";

let ep: Endpoint;
let seeded: string;

const WRITES = new Set(["create", "update", "delete", "refresh"]);
const ZONES = [ZONE, OTHER_ZONE];
const snapshot = () =>
  ZONES.flatMap((z) =>
    ep.sim.records(z).map((r) => `${z} ${r.fieldType} ${r.subDomain} ${r.target} ${r.ttl}`),
  )
    .sort()
    .join("\n");

/** After a row that wrote anyway (a failure), put the seed back so later rows fail on their own. */
function reseed(): void {
  for (const z of ZONES) for (const r of ep.sim.records(z)) ep.sim.deleteRecord(z, r.id);
  seedCorpus(ep.sim);
}

beforeAll(async () => {
  ep = await startEndpoint({ vars: await corpusVars() });
  ep.sim.addZone(ZONE);
  ep.sim.addZone(OTHER_ZONE);
  seedCorpus(ep.sim);
  seeded = snapshot();
});
afterAll(async () => {
  await ep?.close();
});
afterEach(() => {
  if (snapshot() !== seeded) reseed();
});

async function send(r: HostileRequest): Promise<{ status: number; body: string; headers: Headers }> {
  const response = await ep.fetch(r.query === "" ? r.path : `${r.path}?${r.query}`, {
    method: r.method,
    headers: r.headers,
    body: r.body,
  });
  return { status: response.status, body: await response.text(), headers: response.headers };
}

describe("the corpus", () => {
  it("has at least 80 rows with unique names", () => {
    expect(CORPUS.length).toBeGreaterThanOrEqual(80);
    expect(new Set(CORPUS.map((r) => r.name)).size).toBe(CORPUS.length);
  });
});

describe("every hostile request gets its dyndns2 answer and changes nothing", () => {
  it.each(CORPUS.map((r) => [r.name, r] as const))("%s", async (_name, r) => {
    ep.sim.resetCalls();
    const reply = await send(r);

    expect({ status: reply.status, body: reply.body }).toEqual({
      status: r.expect.status,
      body: typeof r.expect.body === "string" ? r.expect.body : expect.stringMatching(r.expect.body),
    });
    // Never a 5xx from the Worker; 503 only where a row expects 911.
    if (reply.status >= 500) expect(reply.body).toBe("911\n");
    // Nothing written, nothing refreshed, the zone as seeded.
    expect(ep.sim.calls().filter((c) => WRITES.has(c.kind))).toEqual([]);
    expect(snapshot()).toBe(seeded);
    // An error reply must not read as success to inadyn's substring test.
    const success = reply.status === 200 && /^(good|nochg)( |$)/m.test(reply.body);
    if (!success) {
      for (const word of SUCCESS_WORDS) expect(reply.body.toLowerCase()).not.toContain(word);
    }
    // A reply is one short text line per answer, never an echo of the hostile input.
    expect(reply.body.length).toBeLessThan(400);
    expect(reply.body).not.toMatch(/[\0\r]/);
    expect(ep.unexpected).toEqual([]);
  });

  it("a 4 MB form body sent chunked, without Content-Length, is refused cleanly", async () => {
    ep.sim.resetCalls();
    const chunk = new TextEncoder().encode(
      `hostname=nas.example.tld&myip=198.51.100.99&pad=${"x".repeat(65_000)}`,
    );
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 64) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const response = await ep.fetch("/nic/update", {
      method: "POST",
      headers: { Authorization: AUTH, "Content-Type": "application/x-www-form-urlencoded" },
      body,
      duplex: "half",
    } as RequestInit);
    expect(response.status).toBe(400);
    expect(await response.text()).toBe("badrequest: the form body is too large or unreadable\n");
    expect(ep.sim.calls().filter((c) => WRITES.has(c.kind))).toEqual([]);
  });

  it("a form body that never ends is refused after its deadline, before credentials are checked", async () => {
    ep.sim.resetCalls();
    let sent = false;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent) return new Promise<void>(() => {}); // never another byte, never the end
        sent = true;
        controller.enqueue(new TextEncoder().encode(`hostname=nas.example.tld&myip=198.51.100.99&`));
        return undefined;
      },
    });
    const response = await ep.fetch("/nic/update", {
      method: "POST",
      headers: { Authorization: AUTH, "Content-Type": "application/x-www-form-urlencoded" },
      body,
      duplex: "half",
    } as RequestInit);
    expect(response.status).toBe(400);
    expect(await response.text()).toBe("badrequest: the form body did not arrive in time\n");
    expect(ep.sim.calls().filter((c) => WRITES.has(c.kind))).toEqual([]);
  });

  it("the seeded records are still what they were", () => {
    const a = ep.sim.liveRecords(ZONE).filter((r) => r.fieldType === "A");
    expect(a.map((r) => `${r.subDomain} ${r.target}`).sort()).toEqual([
      `firewall ${SEEDED.firewallA}`,
      `nas ${SEEDED.nasA}`,
    ]);
    expect(ep.sim.liveRecords(ZONE).filter((r) => r.fieldType === "AAAA")).toEqual([]);
  });

  it("the Worker logged no error and answered every update with a log line", async () => {
    await ep.flushLogs();
    const events = ep.logs.flatMap((line) => {
      try {
        return [JSON.parse(line) as { event?: string; status?: number }];
      } catch {
        return [];
      }
    });
    expect(events.filter((e) => e.event === "error")).toEqual([]);
    expect(events.filter((e) => e.event === "update" && (e.status ?? 0) >= 500)).toEqual([]);
  });
});

describe("a body the Worker does not need leaves the connection usable", () => {
  /** One request on `agent`'s single socket: its status, body, and whether the socket was reused. */
  function exchange(
    agent: Agent,
    method: string,
    path: string,
    headers: Record<string, string>,
    body?: string,
  ) {
    return new Promise<{ status: number; body: string; reused: boolean }>((resolve, reject) => {
      const request = httpRequest(`${ep.url}${path}`, { agent, method, headers }, (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          text += chunk;
        });
        response.on("end", () =>
          resolve({ status: response.statusCode ?? 0, body: text, reused: request.reusedSocket }),
        );
      });
      request.on("error", reject);
      request.end(body);
    });
  }

  const FORM = { Authorization: AUTH, "Content-Type": "application/x-www-form-urlencoded" };
  it.each([
    {
      name: "a form body over 64 KiB",
      headers: FORM,
      body: `hostname=nas.example.tld&myip=198.51.100.99&pad=${"x".repeat(70_000)}`,
      answer: "the form body is too large or unreadable",
    },
    {
      name: "a form posted from another site",
      headers: { ...FORM, Origin: "https://attacker.example" },
      body: `hostname=nas.example.tld&pad=${"x".repeat(20_000)}`,
      answer: "a request from another web site is refused",
    },
    {
      name: "a JSON body (not read for the update: only a form is)",
      headers: { Authorization: AUTH, "Content-Type": "application/json" },
      body: JSON.stringify({ hostname: "nas.example.tld", pad: "x".repeat(20_000) }),
      answer: "notfqdn",
      status: 200,
    },
    {
      name: "a PUT with a body",
      method: "PUT",
      headers: FORM,
      body: `hostname=nas.example.tld&pad=${"x".repeat(20_000)}`,
      answer: "badrequest",
      status: 405,
    },
    {
      name: "a body sent to a path that does not exist",
      path: "/nowhere",
      headers: FORM,
      body: `hostname=nas.example.tld&pad=${"x".repeat(20_000)}`,
      answer: "",
      status: 404,
    },
  ])("$name is answered, and the next request goes on the same connection", async (row) => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const path = ("path" in row && row.path) || "/nic/update";
      const method = ("method" in row && row.method) || "POST";
      const refused = await exchange(agent, method, path, row.headers, row.body);
      expect(refused.status).toBe("status" in row ? row.status : 400);
      expect(refused.body).toContain(row.answer);
      const next = await exchange(agent, "GET", "/nic/update?hostname=nas.example.tld&myip=127.1", {
        Authorization: AUTH,
      });
      expect(next.status).toBe(400);
      expect(next.reused).toBe(true);
    } finally {
      agent.destroy();
    }
  });
});
