/**
 * OVH's official npm client (ovh 2.0.3) against the simulator: proves that the simulator's
 * signature check agrees with OVH's own signer, including query strings, bodies with escaped
 * non-ASCII characters and the server-time delta.
 *
 * ovh 2.0.3 always speaks https and signs "https://" + host + path, without the port (see
 * node_modules/ovh/lib/ovh.es5.js, `request`). So this file points the client at
 * eu.api.ovh.com and, for the duration of the tests, reroutes https.request for that host
 * to the simulator over plain http, keeping the Host header the client signed and adding
 * X-Forwarded-Proto: https, as a TLS-terminating proxy in front of the API would. Any other
 * https request fails the test.
 */
import type { ClientRequest, IncomingMessage, RequestOptions } from "node:http";
import { request as httpRequest } from "node:http";
import { createRequire } from "node:module";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OvhSimulator, startOvhSimulator } from "../../sim/ovh-simulator";

interface OvhClient {
  requestPromised(method: string, path: string, params?: Record<string, unknown>): Promise<unknown>;
}
type OvhFactory = (o: {
  appKey: string;
  appSecret: string;
  consumerKey?: string;
  apiTimeDiff?: number;
  host?: string;
  basePath?: string;
}) => OvhClient;
type HttpsRequest = (options: RequestOptions, callback?: (res: IncomingMessage) => void) => ClientRequest;

const require = createRequire(import.meta.url);
// The package ships no types; the shape used here is declared above.
const ovhFactory = require("ovh") as OvhFactory;
// The CommonJS module object the client itself requires, so the reroute reaches it.
const httpsModule = require("node:https") as { request: HttpsRequest };

const API_HOST = "eu.api.ovh.com";
const APP = { key: "official-app", secret: "official-secret" };
const CK = "official-consumer-key";
const ZONE = "example.test";

let sim: OvhSimulator;
const realHttpsRequest = httpsModule.request;

function client(o: { basePath?: string; appSecret?: string } = {}): OvhClient {
  return ovhFactory({
    appKey: APP.key,
    appSecret: o.appSecret ?? APP.secret,
    consumerKey: CK,
    host: API_HOST,
    ...(o.basePath ? { basePath: o.basePath } : {}),
  });
}

beforeAll(async () => {
  sim = await startOvhSimulator();
  sim.addApplication(APP.key, APP.secret);
  sim.addConsumerKey(CK, { applicationKey: APP.key });
  sim.addZone(ZONE);
  sim.addZone("authority.test");
  const { hostname, port } = new URL(sim.origin);
  httpsModule.request = (options, callback) => {
    if (options.host !== API_HOST) throw new Error(`unexpected https request to ${String(options.host)}`);
    return httpRequest(
      {
        ...options,
        host: hostname,
        port: Number(port),
        headers: { ...options.headers, Host: API_HOST, "X-Forwarded-Proto": "https" },
      },
      callback,
    );
  };
});

afterAll(async () => {
  httpsModule.request = realHttpsRequest;
  await sim.close();
});

describe("the official ovh client against the simulator", () => {
  it("fetches the server time first, then lists, creates, updates, reads, refreshes and deletes", async () => {
    sim.resetCalls();
    const ovh = client();
    const home = sim.addRecord(ZONE, {
      fieldType: "AAAA",
      subDomain: "Home",
      target: "2001:db8::1",
      ttl: 60,
    });

    expect(
      await ovh.requestPromised("GET", `/domain/zone/${ZONE}/record`, {
        fieldType: "AAAA",
        subDomain: "home",
      }),
    ).toEqual([home]);

    const created = (await ovh.requestPromised("POST", `/domain/zone/${ZONE}/record`, {
      fieldType: "A",
      subDomain: "fw",
      target: "203.0.113.7",
      ttl: 60,
    })) as { id: number };
    expect(created).toMatchObject({
      fieldType: "A",
      subDomain: "fw",
      target: "203.0.113.7",
      ttl: 60,
      zone: ZONE,
    });

    expect(
      await ovh.requestPromised("PUT", `/domain/zone/${ZONE}/record/${home}`, { target: "2001:db8::2" }),
    ).toBeNull();
    expect(await ovh.requestPromised("GET", `/domain/zone/${ZONE}/record/${home}`)).toMatchObject({
      target: "2001:db8::2",
    });
    expect(sim.liveRecords(ZONE).find((r) => r.id === home)?.target).toBe("2001:db8::1");
    expect(await ovh.requestPromised("POST", `/domain/zone/${ZONE}/refresh`)).toBeNull();
    expect(sim.liveRecords(ZONE)).toEqual(sim.records(ZONE));
    expect(await ovh.requestPromised("DELETE", `/domain/zone/${ZONE}/record/${created.id}`)).toBeNull();

    const calls = sim.calls();
    expect(calls.map((c) => c.kind)).toEqual([
      "auth-time",
      "list",
      "create",
      "update",
      "get",
      "refresh",
      "delete",
    ]);
    expect(calls.every((c) => c.status === 200)).toBe(true);
    expect(calls[1]?.query).toEqual({ fieldType: "AAAA", subDomain: "home" });
  });

  it("signs a body with escaped non-ASCII characters the same way", async () => {
    const txt = (await client().requestPromised("POST", `/domain/zone/${ZONE}/record`, {
      fieldType: "TXT",
      subDomain: "note",
      target: "héllo wörld",
    })) as { target: string };
    expect(txt.target).toBe("héllo wörld");
  });

  it("follows the server clock through /auth/time when it is skewed", async () => {
    sim.setClockSkew(3600);
    try {
      expect(
        await client().requestPromised("GET", `/domain/zone/${ZONE}/record`, { fieldType: "TXT" }),
      ).toHaveLength(1);
    } finally {
      sim.setClockSkew(0);
    }
  });

  it("works under the /v1 alias", async () => {
    const ids = await client({ basePath: "/v1" }).requestPromised("GET", `/domain/zone/${ZONE}/record`);
    expect(Array.isArray(ids)).toBe(true);
  });

  it("sees OVH's errors as {error: status, message}", async () => {
    await expect(client().requestPromised("GET", `/domain/zone/${ZONE}/record/1`)).rejects.toEqual({
      error: 404,
      message: "The requested object (id = 1) does not exist",
    });
    await expect(
      client({ appSecret: "wrong" }).requestPromised("GET", `/domain/zone/${ZONE}/record`),
    ).rejects.toEqual({ error: 400, message: "Invalid signature" });
  });

  it("shows the client's known defect: a path containing /auth is sent unsigned", async () => {
    sim.resetCalls();
    await expect(client().requestPromised("GET", "/domain/zone/authority.test/record")).rejects.toMatchObject(
      {
        error: 401,
      },
    );
    expect(sim.calls({ kind: "list" })[0]?.consumerKey).toBeUndefined();
  });
});
