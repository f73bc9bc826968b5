// The OVH client's own behaviour, with a fake fetch: bounded parallelism, one clock re-sync for
// calls that fail together, errors that carry OVH's message and query id, and a hung OAuth2
// token endpoint classed as the time-out it is.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Config } from "../../src/config";
import { CallPolicy } from "../../src/ovh/calls";
import { MAX_PARALLEL, OvhClient, OvhError, resetTimeDeltas } from "../../src/ovh/client";
import { Breaker } from "../../src/ovh/policy/breaker";
import { Gate } from "../../src/ovh/policy/gate";
import { Pace } from "../../src/ovh/policy/pace";
import { NotSent, OvhRecordApi, timedOut } from "../../src/ovh/records";

const credentials = { applicationKey: "ak-test-1", applicationSecret: "as-test-2", consumerKey: "ck-test-3" };
const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json", ...headers } });

beforeEach(() => resetTimeDeltas());

describe("OvhClient", () => {
  it(`keeps at most ${MAX_PARALLEL} calls in flight and completes them all`, async () => {
    let inFlight = 0;
    let most = 0;
    const fetch = async (input: RequestInfo | URL) => {
      if (String(input).endsWith("/auth/time")) return json(Math.floor(Date.now() / 1000));
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight--;
      return json(null);
    };
    const client = new OvhClient({
      endpoint: "https://eu.api.ovh.com/1.0",
      credentials,
      timeoutMs: 1000,
      fetch,
    });
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => client.request("PUT", `/domain/zone/z/record/${i}`)),
    );
    expect(most).toBe(MAX_PARALLEL);
    expect(client.calls.filter((c) => c.method === "PUT")).toHaveLength(20);
  });

  it("re-syncs the clock once when parallel calls all meet 'Invalid signature'", async () => {
    let serverSkew = 0;
    let timeCalls = 0;
    const fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
      const now = Math.floor(Date.now() / 1000) + serverSkew;
      if (String(input).endsWith("/auth/time")) {
        timeCalls++;
        return json(now);
      }
      const sent = Number(new Headers(init?.headers).get("X-Ovh-Timestamp"));
      if (Math.abs(sent - now) > 60)
        return json({ message: "Invalid signature" }, 400, { "X-Ovh-QueryId": "EU.q1" });
      return json(null);
    };
    const client = new OvhClient({
      endpoint: "https://eu.api.ovh.com/1.0",
      credentials,
      timeoutMs: 1000,
      fetch,
    });
    await client.request("GET", "/x");
    serverSkew = 600;
    await Promise.all([
      client.request("PUT", "/a"),
      client.request("PUT", "/b"),
      client.request("PUT", "/c"),
    ]);
    expect(timeCalls).toBe(2); // the first sync, and one re-sync for the three failures
  });

  it("errors carry status, OVH's message and query id; HTML bodies become a short description", async () => {
    const answers = [
      json({ class: "Client::Forbidden", message: "This call has not been granted" }, 403, {
        "X-Ovh-QueryId": "EU.q2",
      }),
      new Response("<html>down</html>", {
        status: 502,
        statusText: "Bad Gateway",
        headers: { "Content-Type": "text/html" },
      }),
    ];
    const fetch = async (input: RequestInfo | URL) =>
      String(input).endsWith("/auth/time")
        ? json(Math.floor(Date.now() / 1000))
        : (answers.shift() ?? json(null));
    const client = new OvhClient({
      endpoint: "https://eu.api.ovh.com/1.0",
      credentials,
      timeoutMs: 1000,
      fetch,
    });
    const first = await client.request("GET", "/domain/zone/z/record").catch((e: unknown) => e);
    expect(first).toBeInstanceOf(OvhError);
    expect((first as OvhError).message).toBe(
      "OVH GET /domain/zone/z/record: 403 This call has not been granted (query id EU.q2)",
    );
    const second = (await client
      .request("GET", "/domain/zone/z/record")
      .catch((e: unknown) => e)) as OvhError;
    expect(second.status).toBe(502);
    expect(second.message).toContain("Bad Gateway (text/html body)");
    expect(second.message).not.toContain("<html>");
  });
});

describe("an OAuth2 token endpoint that never answers", () => {
  const oauth2 = { clientId: "sa-id-1", clientSecret: "sa-secret-2" };
  /** A fetch whose token endpoint hangs until the client gives up on it. */
  const hangingTokens = async (input: RequestInfo | URL, init?: RequestInit) => {
    if (!String(input).includes("/auth/oauth2/token")) return json([]);
    return new Promise<Response>((_, reject) => {
      init?.signal?.addEventListener("abort", () => reject(init.signal?.reason));
    });
  };

  it("is a time-out, like any call OVH does not answer, and opens the zone's breaker", async () => {
    const client = new OvhClient({
      endpoint: "https://eu.api.ovh.com/1.0",
      credentials: oauth2,
      timeoutMs: 50,
      fetch: hangingTokens,
    });
    const breaker = new Breaker("example.tld", 60_000);
    const gate = new Gate(new OvhRecordApi(client), breaker, new Pace(600), Date.now() + 60_000);
    const error = await gate.list("example.tld", "A", "nas").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OvhError);
    expect(error).toMatchObject({ kind: "timeout", method: "POST", path: "/auth/oauth2/token" });
    expect((error as OvhError).message).toBe("OVH POST /auth/oauth2/token: no answer within 50 ms");
    expect(timedOut(error)).toBe(true);
    // The next call of the zone fails at once instead of waiting for a time-out of its own.
    expect(breaker.refusal()).toMatch(/^OVH failed or timed out just now/);
    expect(await gate.list("example.tld", "A", "nas").catch((e: unknown) => e)).toBeInstanceOf(NotSent);
    expect(client.calls).toEqual([
      { method: "POST", path: "/auth/oauth2/token", status: 0, ms: expect.any(Number) },
    ]);
  });
});

describe("an OAuth2 token request is an OVH call like any other", () => {
  const oauth2 = { clientId: "sa-id-3", clientSecret: "sa-secret-4" };

  /** A job of a zone's call policy (src/ovh/calls.ts), over a fake OVH that lists what it was asked. */
  function job(callsPerMinute: number, deadline: number) {
    const asked: string[] = [];
    vi.stubGlobal("fetch", async (input: RequestInfo | URL) => {
      asked.push(new URL(String(input)).pathname);
      return String(input).includes("/auth/oauth2/token")
        ? json({ access_token: "tok-1", expires_in: 3600 })
        : json([]);
    });
    const config = {
      endpoint: "https://eu.api.ovh.com/1.0",
      credentials: oauth2,
      settings: { ovhTimeoutMs: 1000, maxOvhCalls: 50, ovhCallsPerMinute: callsPerMinute },
    } as unknown as Config;
    const { api } = new CallPolicy("example.tld", config).job(config, deadline);
    return { gate: api, asked };
  }
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it("takes a token of the pace: with none left before the deadline, no token is asked for and the call waits for later", async () => {
    // Two calls a minute: a burst of one, the next token 60 s later, past this job's deadline.
    const { gate, asked } = job(2, Date.now() + 1000);
    const error = await gate.list("example.tld", "A", "nas").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotSent);
    expect((error as Error).message).toMatch(/^not sent: paced/);
    expect(asked).toEqual([]);
  });

  it("within the pace, the token and then the call go, and later calls reuse the token", async () => {
    const { gate, asked } = job(600, Date.now() + 60_000);
    for (let i = 0; i < 3; i++) expect(await gate.list("example.tld", "A", "nas")).toEqual([]);
    expect(asked).toEqual([
      "/auth/oauth2/token",
      "/1.0/domain/zone/example.tld/record",
      "/1.0/domain/zone/example.tld/record",
      "/1.0/domain/zone/example.tld/record",
    ]);
  });
});
