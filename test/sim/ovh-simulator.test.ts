import { createHash } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type OvhSimulator, startOvhSimulator } from "../../sim/ovh-simulator";

// A local signer, written from ovh-api.md, independent of the simulator's own code.
function sign(secret: string, ck: string, method: string, url: string, body: string, ts: number | string) {
  return `$1$${createHash("sha1").update([secret, ck, method, url, body, ts].join("+")).digest("hex")}`;
}

const APP = { key: "app-key", secret: "app-secret" };
const OTHER_APP = { key: "other-app", secret: "other-secret" };
const CK = "ck-full";
const ZONE = "example.test";

interface Answer {
  status: number;
  body: unknown;
  text: string;
  headers: Headers;
}

interface CallOptions {
  body?: unknown;
  rawBody?: string;
  ck?: string;
  app?: { key: string; secret: string };
  timestamp?: number;
  prefix?: string;
  /** Sign this URL instead of the one sent. */
  signedUrl?: string;
  unsigned?: boolean;
  headers?: Record<string, string>;
}

let sim: OvhSimulator;

async function api(method: string, pathAndQuery: string, o: CallOptions = {}): Promise<Answer> {
  const url = `${sim.origin}${o.prefix ?? "/1.0"}${pathAndQuery}`;
  const body = o.rawBody ?? (o.body === undefined ? "" : JSON.stringify(o.body));
  const app = o.app ?? APP;
  const headers: Record<string, string> = { "X-Ovh-Application": app.key, ...o.headers };
  if (body !== "") headers["Content-Type"] = "application/json";
  if (!o.unsigned) {
    const ck = o.ck ?? CK;
    const ts = o.timestamp ?? Math.floor(Date.now() / 1000);
    headers["X-Ovh-Consumer"] = ck;
    headers["X-Ovh-Timestamp"] = String(ts);
    headers["X-Ovh-Signature"] = sign(app.secret, ck, method, o.signedUrl ?? url, body, ts);
  }
  const res = await fetch(url, { method, headers, ...(body === "" ? {} : { body }) });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, body: parsed, text, headers: res.headers };
}

function ovhError(cls: string, message: string) {
  return { class: cls, message };
}

beforeAll(async () => {
  sim = await startOvhSimulator();
  sim.addApplication(APP.key, APP.secret);
  sim.addApplication(OTHER_APP.key, OTHER_APP.secret);
  sim.addConsumerKey(CK, { applicationKey: APP.key });
  sim.addZone(ZONE);
});

afterAll(async () => {
  await sim.close();
});

beforeEach(() => {
  sim.clearFaults();
  sim.setLatency(0);
  sim.setClockSkew(0);
});

describe("signing helper (go-ovh and ovh-api.md test vectors)", () => {
  const goAs = "9ufkBmLaTQ9nz5yMUlg79taH0GNnzDjk";
  const goCk = "5mBuy6SUQcRw2ZUxg0cG68BoDKpED4KY";
  const auth = "https://eu.api.ovh.com/1.0/auth";
  const ab = '{"a":"b","c":"d"}';
  it.each([
    [goAs, goCk, "GET", auth, "", 1457018875, "$1$e9556054b6309771395efa467c22e627407461ad"],
    [goAs, goCk, "POST", auth, ab, 1457018875, "$1$ec2fb5c7a81f64723c77d2e5b609ae6f58a84fc1"],
    [goAs, goCk, "PUT", auth, ab, 1457018875, "$1$8a75a9e7c8e7296c9dbeda6a2a735eb6bd58ec4b"],
    [goAs, goCk, "DELETE", auth, "", 1457018875, "$1$a1eecd00b3b02b6cf5708b84b9ff42059a950d85"],
    [
      "AS",
      "CK",
      "PUT",
      "https://eu.api.ovh.com/1.0/domain/zone/example.tld/record/123",
      '{"target":"2001:db8::1","ttl":60}',
      1700000000,
      "$1$74e336ba26385504a905565b4ce83e98f50b2b8b",
    ],
    [
      "AS",
      "CK",
      "GET",
      "https://eu.api.ovh.com/1.0/domain/zone/example.tld/record?fieldType=AAAA&subDomain=home",
      "",
      1700000000,
      "$1$272be443c6a4c7bb3487c9097f0a5360153a06f0",
    ],
  ])("signs %#: %s %s %s", (as, ck, method, url, body, ts, expected) => {
    expect(sign(as, ck, method, url, body, ts)).toBe(expected);
  });
});

describe("GET /auth/time", () => {
  it("answers the server time as a bare JSON integer, unsigned", async () => {
    const res = await fetch(`${sim.url}/auth/time`);
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(text).toMatch(/^\d+$/);
    expect(Math.abs(Number(text) - Date.now() / 1000)).toBeLessThan(5);
  });

  it("includes the clock skew and is also served under /v1", async () => {
    sim.setClockSkew(3600);
    const res = await fetch(`${sim.origin}/v1/auth/time`);
    expect(Math.abs(Number(await res.text()) - (Date.now() / 1000 + 3600))).toBeLessThan(5);
  });

  it("carries the JSON content type and an X-Ovh-QueryId", async () => {
    const res = await fetch(`${sim.url}/auth/time`);
    expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(res.headers.get("x-ovh-queryid")).toMatch(/^EU\.ext-sim\.[0-9a-f]+\.\d+$/);
  });
});

describe("record endpoints", () => {
  let a1: number;
  let a2: number;
  let aaaa: number;
  let apex: number;

  beforeAll(() => {
    a1 = sim.addRecord(ZONE, { fieldType: "A", subDomain: "Home", target: "192.0.2.1", ttl: 60 });
    a2 = sim.addRecord(ZONE, { fieldType: "A", subDomain: "office", target: "192.0.2.2" });
    aaaa = sim.addRecord(ZONE, { fieldType: "AAAA", subDomain: "home", target: "2001:db8::1", ttl: 60 });
    apex = sim.addRecord(ZONE, { fieldType: "A", subDomain: "", target: "192.0.2.9" });
  });

  it("uses big ids: above 2^31, safe integers, increasing", () => {
    for (const id of [a1, a2, aaaa, apex]) {
      expect(id).toBeGreaterThan(2 ** 31);
      expect(Number.isSafeInteger(id)).toBe(true);
    }
    expect(a1 < a2 && a2 < aaaa && aaaa < apex).toBe(true);
  });

  it.each([
    ["", () => [a1, a2, aaaa, apex]],
    ["?fieldType=A", () => [a1, a2, apex]],
    ["?fieldType=AAAA&subDomain=home", () => [aaaa]],
    ["?fieldType=A&subDomain=HOME", () => [a1]],
    ["?subDomain=home", () => [a1, aaaa]],
    ["?subDomain=", () => [apex]],
    ["?fieldType=A&subDomain=", () => [apex]],
    ["?fieldType=TXT", () => []],
    ["?subDomain=nothing", () => []],
  ])("lists ids%s", async (query, expected) => {
    const res = await api("GET", `/domain/zone/${ZONE}/record${query}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual(expected());
  });

  it("rejects a field type outside OVH's enumeration", async () => {
    const res = await api("GET", `/domain/zone/${ZONE}/record?fieldType=aaaa`);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ class: "Client::BadRequest" });
  });

  it("answers 404 'This service does not exist' for an unknown zone", async () => {
    for (const [method, path] of [
      ["GET", "/domain/zone/nope.test/record"],
      ["GET", "/domain/zone/nope.test/record/1"],
      ["POST", "/domain/zone/nope.test/refresh"],
    ] as const) {
      const res = await api(method, path);
      expect(res.status).toBe(404);
      expect(res.body).toEqual(ovhError("Client::NotFound", "This service does not exist"));
    }
  });

  it("reads one record with OVH's field order", async () => {
    const res = await api("GET", `/domain/zone/${ZONE}/record/${aaaa}`);
    expect(res.status).toBe(200);
    expect(res.text).toBe(
      `{"target":"2001:db8::1","ttl":60,"zone":"${ZONE}","fieldType":"AAAA","id":${aaaa},"subDomain":"home"}`,
    );
  });

  it("answers 404 with the id for an unknown record, 400 for a non-numeric id", async () => {
    const res = await api("GET", `/domain/zone/${ZONE}/record/123`);
    expect(res.status).toBe(404);
    expect(res.body).toEqual(ovhError("Client::NotFound", "The requested object (id = 123) does not exist"));
    expect((await api("GET", `/domain/zone/${ZONE}/record/abc`)).status).toBe(400);
  });

  it("creates a record with 200 and the created record", async () => {
    const res = await api("POST", `/domain/zone/${ZONE}/record`, {
      body: { fieldType: "AAAA", subDomain: "fw", target: "2001:db8::7", ttl: 60 },
    });
    expect(res.status).toBe(200);
    const rec = res.body as { id: number };
    expect(rec).toEqual({
      target: "2001:db8::7",
      ttl: 60,
      zone: ZONE,
      fieldType: "AAAA",
      id: rec.id,
      subDomain: "fw",
    });
    expect(rec.id).toBeGreaterThan(apex);
    expect(sim.records(ZONE).find((r) => r.id === rec.id)).toMatchObject({
      subDomain: "fw",
      target: "2001:db8::7",
    });
  });

  it("defaults subDomain to the apex and ttl to 0 on create", async () => {
    const res = await api("POST", `/domain/zone/${ZONE}/record`, {
      body: { fieldType: "TXT", target: "hello" },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ subDomain: "", ttl: 0, fieldType: "TXT", target: "hello" });
  });

  it.each([
    ["missing fieldType", { subDomain: "x", target: "192.0.2.1" }, "[fieldType] Property is mandatory"],
    ["missing target", { fieldType: "A", subDomain: "x" }, "[target] Property is mandatory"],
    ["garbage A target", { fieldType: "A", target: "1.2.3" }, "Invalid IPv4 address: 1.2.3"],
    ["IPv6 in an A record", { fieldType: "A", target: "2001:db8::1" }, "Invalid IPv4 address: 2001:db8::1"],
    [
      "garbage AAAA target",
      { fieldType: "AAAA", target: "2001:db8::zz" },
      "Invalid IPv6 address: 2001:db8::zz",
    ],
    ["IPv4 in an AAAA record", { fieldType: "AAAA", target: "192.0.2.1" }, "Invalid IPv6 address: 192.0.2.1"],
    [
      "negative ttl",
      { fieldType: "A", target: "192.0.2.1", ttl: -1 },
      "[ttl] Given data (-1) is not valid for type long",
    ],
  ])("rejects a create with %s", async (_name, body, message) => {
    const res = await api("POST", `/domain/zone/${ZONE}/record`, { body });
    expect(res.status).toBe(400);
    expect(res.body).toEqual(ovhError("Client::BadRequest", message));
  });

  it("rejects a create whose body is not JSON", async () => {
    const res = await api("POST", `/domain/zone/${ZONE}/record`, { rawBody: "{nope" });
    expect(res.status).toBe(400);
    expect(res.body).toEqual(ovhError("Client::BadRequest", "Invalid JSON received"));
  });

  it("updates any subset of subDomain, target and ttl with 200 null", async () => {
    const id = sim.addRecord(ZONE, { fieldType: "AAAA", subDomain: "upd", target: "2001:db8::1", ttl: 60 });
    const res = await api("PUT", `/domain/zone/${ZONE}/record/${id}`, { body: { target: "2001:db8::2" } });
    expect(res.status).toBe(200);
    expect(res.text).toBe("null");
    await api("PUT", `/domain/zone/${ZONE}/record/${id}`, { body: { ttl: 300, subDomain: "upd2" } });
    expect(sim.records(ZONE).find((r) => r.id === id)).toEqual({
      id,
      zone: ZONE,
      fieldType: "AAAA",
      subDomain: "upd2",
      target: "2001:db8::2",
      ttl: 300,
    });
  });

  it("refuses to change the field type, or to write a bad target, and 404s an unknown id", async () => {
    const id = sim.addRecord(ZONE, { fieldType: "A", subDomain: "fixed", target: "192.0.2.5" });
    const typeChange = await api("PUT", `/domain/zone/${ZONE}/record/${id}`, { body: { fieldType: "AAAA" } });
    expect(typeChange.status).toBe(400);
    expect(typeChange.body).toMatchObject({ class: "Client::BadRequest" });
    const bad = await api("PUT", `/domain/zone/${ZONE}/record/${id}`, { body: { target: "::1" } });
    expect(bad.body).toEqual(ovhError("Client::BadRequest", "Invalid IPv4 address: ::1"));
    expect(sim.records(ZONE).find((r) => r.id === id)?.target).toBe("192.0.2.5");
    const missing = await api("PUT", `/domain/zone/${ZONE}/record/42`, { body: { ttl: 60 } });
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual(
      ovhError("Client::NotFound", "The requested object (id = 42) does not exist"),
    );
  });

  it("deletes with 200 null, after which the record is 404", async () => {
    const id = sim.addRecord(ZONE, { fieldType: "A", subDomain: "gone", target: "192.0.2.6" });
    const res = await api("DELETE", `/domain/zone/${ZONE}/record/${id}`);
    expect(res.status).toBe(200);
    expect(res.text).toBe("null");
    expect((await api("GET", `/domain/zone/${ZONE}/record/${id}`)).status).toBe(404);
    expect((await api("DELETE", `/domain/zone/${ZONE}/record/${id}`)).status).toBe(404);
  });

  it("answers 404 'Got an invalid (or empty) URL' for unknown routes", async () => {
    for (const [method, path] of [
      ["GET", "/domain/zone/example.test/nothing"],
      ["PATCH", `/domain/zone/${ZONE}/record/1`],
      ["GET", "/me"],
    ] as const) {
      const res = await api(method, path);
      expect(res.status).toBe(404);
      expect(res.body).toEqual(ovhError("Client::NotFound", "Got an invalid (or empty) URL"));
      expect(res.headers.get("x-ovh-queryid")).toBeTruthy();
    }
    expect((await fetch(`${sim.origin}/elsewhere`)).status).toBe(404);
  });
});

describe("written and live state", () => {
  const zone = "live.test";
  beforeAll(() => sim.addZone(zone));

  it("serves writes at once but publishes them only on refresh", async () => {
    const seeded = sim.addRecord(zone, { fieldType: "A", subDomain: "a", target: "192.0.2.1" });
    const hidden = sim.addRecord(
      zone,
      { fieldType: "A", subDomain: "b", target: "192.0.2.2" },
      { live: false },
    );
    expect(sim.liveRecords(zone).map((r) => r.id)).toEqual([seeded]);

    const created = await api("POST", `/domain/zone/${zone}/record`, {
      body: { fieldType: "A", subDomain: "c", target: "192.0.2.3", ttl: 60 },
    });
    const cid = (created.body as { id: number }).id;
    await api("PUT", `/domain/zone/${zone}/record/${seeded}`, { body: { target: "192.0.2.10" } });
    expect(sim.records(zone).map((r) => r.id)).toEqual([seeded, hidden, cid]);
    expect(sim.liveRecords(zone)).toEqual([
      { id: seeded, zone, fieldType: "A", subDomain: "a", target: "192.0.2.1", ttl: 0 },
    ]);

    const refresh = await api("POST", `/domain/zone/${zone}/refresh`);
    expect(refresh.status).toBe(200);
    expect(refresh.text).toBe("null");
    expect(sim.liveRecords(zone)).toEqual(sim.records(zone));
    expect(sim.liveRecords(zone)[0]?.target).toBe("192.0.2.10");
  });

  it("deletes by hand from written only, or from both", () => {
    const id = sim.addRecord(zone, { fieldType: "A", subDomain: "hand", target: "192.0.2.4" });
    sim.deleteRecord(zone, id, { live: false });
    expect(sim.records(zone).some((r) => r.id === id)).toBe(false);
    expect(sim.liveRecords(zone).some((r) => r.id === id)).toBe(true);
    const id2 = sim.addRecord(zone, { fieldType: "A", subDomain: "hand2", target: "192.0.2.5" });
    sim.deleteRecord(zone, id2);
    expect(sim.liveRecords(zone).some((r) => r.id === id2)).toBe(false);
  });

  it("returns copies the caller cannot use to change the state", () => {
    const [first] = sim.records(zone);
    if (!first) throw new Error("expected a record");
    first.target = "203.0.113.1";
    expect(sim.records(zone)[0]?.target).not.toBe("203.0.113.1");
  });
});

describe("authentication", () => {
  const list = `/domain/zone/${ZONE}/record`;

  beforeAll(() => {
    sim.addConsumerKey("ck-pending", { applicationKey: APP.key, state: "pendingValidation" });
    sim.addConsumerKey("ck-expired", { applicationKey: APP.key, state: "expired" });
    sim.addConsumerKey("ck-refused", { applicationKey: APP.key, state: "refused" });
    sim.addConsumerKey("ck-other", { applicationKey: OTHER_APP.key });
  });

  it("accepts a correctly signed call", async () => {
    expect((await api("GET", list)).status).toBe(200);
  });

  it("serves /v1 as an alias, signed over the /v1 URL", async () => {
    expect((await api("GET", list, { prefix: "/v1" })).status).toBe(200);
    const signedForOtherPrefix = await api("GET", list, { prefix: "/v1", signedUrl: `${sim.url}${list}` });
    expect(signedForOtherPrefix.status).toBe(400);
  });

  it("verifies the raw query string as sent", async () => {
    const q = `${list}?subDomain=h%6Fme&fieldType=AAAA`;
    expect((await api("GET", q)).status).toBe(200);
    const reencoded = await api("GET", q, { signedUrl: `${sim.url}${list}?subDomain=home&fieldType=AAAA` });
    expect(reencoded.status).toBe(400);
  });

  it.each([
    ["a wrong secret", { app: { key: APP.key, secret: "wrong" } }],
    ["a different URL", { signedUrl: `http://eu.api.ovh.com/1.0${list}` }],
    ["a timestamp beyond the allowed drift", { timestamp: Math.floor(Date.now() / 1000) - 600 }],
    ["a timestamp from the future", { timestamp: Math.floor(Date.now() / 1000) + 600 }],
  ])("answers 400 Invalid signature for %s", async (_name, o: CallOptions) => {
    const res = await api("GET", list, o);
    expect(res.status).toBe(400);
    expect(res.body).toEqual(ovhError("Client::BadRequest", "Invalid signature"));
  });

  it("answers 400 when the body signed is not the body sent", async () => {
    const body = JSON.stringify({ fieldType: "A", subDomain: "x", target: "192.0.2.1" });
    const url = `${sim.url}${list}`;
    const ts = Math.floor(Date.now() / 1000);
    const res = await fetch(url, {
      method: "POST",
      body,
      headers: {
        "X-Ovh-Application": APP.key,
        "X-Ovh-Consumer": CK,
        "X-Ovh-Timestamp": String(ts),
        "X-Ovh-Signature": sign(APP.secret, CK, "POST", url, "{}", ts),
      },
    });
    expect(res.status).toBe(400);
  });

  it("accepts a drift within maxDriftSeconds", async () => {
    expect((await api("GET", list, { timestamp: Math.floor(Date.now() / 1000) - 100 })).status).toBe(200);
  });

  it("rejects the local clock when the server's is skewed, and accepts the corrected one", async () => {
    sim.setClockSkew(-900);
    expect((await api("GET", list)).status).toBe(400);
    const server = Number(await (await fetch(`${sim.url}/auth/time`)).text());
    expect((await api("GET", list, { timestamp: server })).status).toBe(200);
  });

  it("answers 403 Invalid application key for an unknown application", async () => {
    const res = await api("GET", list, { app: { key: "nope", secret: "x" } });
    expect(res.status).toBe(403);
    expect(res.body).toEqual(ovhError("Client::Forbidden", "Invalid application key"));
  });

  it("asks to log in when there are no credentials at all", async () => {
    const res = await fetch(`${sim.url}${list}`);
    expect(res.status).toBe(401);
  });

  it.each(["ck-unknown", "ck-pending", "ck-expired", "ck-refused", "ck-other"])(
    "answers 403 This credential is not valid for %s",
    async (ck) => {
      const res = await api("GET", list, { ck });
      expect(res.status).toBe(403);
      expect(res.body).toEqual(ovhError("Client::Forbidden", "This credential is not valid"));
    },
  );

  it("accepts a key once it is validated", async () => {
    sim.addConsumerKey("ck-later", { applicationKey: APP.key, state: "pendingValidation" });
    expect((await api("GET", list, { ck: "ck-later" })).status).toBe(403);
    sim.validateCredential("ck-later");
    expect((await api("GET", list, { ck: "ck-later" })).status).toBe(200);
  });
});

describe("access rules", () => {
  beforeAll(() => {
    sim.addConsumerKey("ck-zone-star", {
      applicationKey: APP.key,
      rules: [
        { method: "GET", path: `/domain/zone/${ZONE}/*` },
        { method: "PUT", path: `/domain/zone/${ZONE}/record/*` },
      ],
    });
    sim.addConsumerKey("ck-zone-exact", {
      applicationKey: APP.key,
      rules: [{ method: "GET", path: `/domain/zone/${ZONE}` }],
    });
    sim.addConsumerKey("ck-domain-star", {
      applicationKey: APP.key,
      rules: [{ method: "GET", path: "/domain/*" }],
    });
  });

  it.each([
    ["ck-zone-star", "GET", `/domain/zone/${ZONE}/record`, 200],
    ["ck-zone-star", "GET", `/domain/zone/${ZONE}/record?fieldType=A`, 200],
    ["ck-zone-star", "POST", `/domain/zone/${ZONE}/refresh`, 403],
    ["ck-zone-star", "DELETE", `/domain/zone/${ZONE}/record/1`, 403],
    ["ck-zone-star", "GET", `/domain/zone/${ZONE}`, 403],
    ["ck-zone-star", "GET", "/domain/zone/other.test/record", 403],
    ["ck-zone-exact", "GET", `/domain/zone/${ZONE}`, 200],
    ["ck-zone-exact", "GET", `/domain/zone/${ZONE}/record`, 403],
    ["ck-domain-star", "GET", `/domain/zone/${ZONE}/record`, 200],
    ["ck-domain-star", "GET", "/domain/zone", 200],
  ])("%s %s %s → %i", async (ck, method, path, status) => {
    const res = await api(method, path, { ck });
    expect(res.status).toBe(status);
    if (status === 403) {
      expect(res.body).toEqual(ovhError("Client::Forbidden", "This call has not been granted"));
    }
  });

  it("still answers 404 for an unknown record when the call is granted", async () => {
    const res = await api("PUT", `/domain/zone/${ZONE}/record/999`, {
      ck: "ck-zone-star",
      body: { ttl: 60 },
    });
    expect(res.status).toBe(404);
  });
});

describe("consumer-key creation flow", () => {
  const rules = [
    { method: "GET", path: "/domain/zone/flow.test/*" },
    { method: "PUT", path: "/domain/zone/flow.test/*" },
  ];
  beforeAll(() => sim.addZone("flow.test"));

  async function requestCredential(body: unknown, appKey = APP.key) {
    const res = await fetch(`${sim.url}/auth/credential`, {
      method: "POST",
      headers: { "X-Ovh-Application": appKey, "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  it("creates a pending key, validates it on the page, then honours its rules", async () => {
    const created = await requestCredential({ accessRules: rules, redirection: "https://example.test/done" });
    expect(created.status).toBe(200);
    expect(created.body.state).toBe("pendingValidation");
    const ck = created.body.consumerKey as string;
    expect(ck).toMatch(/^[A-Za-z0-9]{32}$/);
    const validationUrl = created.body.validationUrl as string;
    expect(validationUrl.startsWith(`${sim.origin}/auth/?credentialToken=`)).toBe(true);

    const pending = await api("GET", "/auth/currentCredential", { ck });
    expect(pending.status).toBe(403);
    expect(pending.body).toEqual(ovhError("Client::Forbidden", "This credential is not valid"));

    const page = await fetch(validationUrl);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await page.text()).toContain("/domain/zone/flow.test/*");

    const current = await api("GET", "/auth/currentCredential", { ck });
    expect(current.status).toBe(200);
    expect(current.body).toMatchObject({ status: "validated", rules });
    const body = current.body as Record<string, unknown>;
    for (const key of ["applicationId", "credentialId", "creation", "expiration", "lastUse"]) {
      expect(body).toHaveProperty(key);
    }

    expect((await api("GET", "/domain/zone/flow.test/record", { ck })).status).toBe(200);
    expect((await api("POST", "/domain/zone/flow.test/refresh", { ck })).status).toBe(403);
    expect((await api("GET", `/domain/zone/${ZONE}/record`, { ck })).status).toBe(403);
  });

  it("needs a known application and well-formed rules", async () => {
    expect((await requestCredential({ accessRules: rules }, "nope")).status).toBe(403);
    expect((await requestCredential({})).status).toBe(400);
    expect((await requestCredential({ accessRules: [{ method: "FETCH", path: "/x" }] })).status).toBe(400);
  });

  it("answers 404 on the validation page for an unknown token", async () => {
    expect((await fetch(`${sim.origin}/auth/?credentialToken=nope`)).status).toBe(404);
  });
});

describe("call log", () => {
  it("records kind, credentials used, query and body, never secrets", async () => {
    sim.resetCalls();
    const id = sim.addRecord(ZONE, { fieldType: "A", subDomain: "log", target: "192.0.2.1" });
    await fetch(`${sim.url}/auth/time`);
    await api("GET", `/domain/zone/${ZONE}/record?fieldType=A&subDomain=log`);
    await api("GET", `/domain/zone/${ZONE}/record/${id}`);
    await api("POST", `/domain/zone/${ZONE}/record`, {
      body: { fieldType: "A", subDomain: "x", target: "192.0.2.2" },
    });
    await api("PUT", `/domain/zone/${ZONE}/record/${id}`, { body: { ttl: 120 } });
    await api("DELETE", `/domain/zone/${ZONE}/record/${id}`);
    await api("POST", `/domain/zone/${ZONE}/refresh`);
    await api("GET", "/auth/currentCredential");
    await api("GET", "/me");

    const calls = sim.calls();
    expect(calls.map((c) => c.kind)).toEqual([
      "auth-time",
      "list",
      "get",
      "create",
      "update",
      "delete",
      "refresh",
      "current-credential",
      "other",
    ]);
    expect(calls.map((c) => c.status)).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 404]);
    const seqs = calls.map((c) => c.seq);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    const list = calls[1];
    expect(list).toMatchObject({
      method: "GET",
      path: `/domain/zone/${ZONE}/record`,
      query: { fieldType: "A", subDomain: "log" },
      applicationKey: APP.key,
      consumerKey: CK,
    });
    expect(list?.queryId).toMatch(/^EU\.ext-sim\.[0-9a-f]+\.\d+$/);
    expect(calls[4]?.body).toEqual({ ttl: 120 });
    expect(calls[0]?.body).toBeUndefined();
    expect(JSON.stringify(calls)).not.toContain(APP.secret);

    expect(sim.calls({ kind: "update" })).toHaveLength(1);
    expect(sim.calls({ method: "POST" }).map((c) => c.kind)).toEqual(["create", "refresh"]);
    sim.resetCalls();
    expect(sim.calls()).toEqual([]);
  });

  it("records why a call was refused", async () => {
    sim.resetCalls();
    await api("GET", `/domain/zone/${ZONE}/record`, { timestamp: Math.floor(Date.now() / 1000) - 1000 });
    expect(sim.calls()[0]?.reason).toMatch(/timestamp off by/);
  });
});

describe("faults", () => {
  const list = `/domain/zone/${ZONE}/record`;

  it("answers an injected status with an HTML body, before any auth check, the given number of times", async () => {
    sim.resetCalls();
    sim.injectFault({
      path: list,
      times: 2,
      name: "outage",
      fault: { kind: "status", status: 503, body: "<html><body>Service Unavailable</body></html>" },
    });
    const unsigned = await api("GET", list, { unsigned: true });
    expect(unsigned.status).toBe(503);
    expect(unsigned.headers.get("content-type")).toMatch(/^text\/html/);
    expect(unsigned.text).toContain("Service Unavailable");
    expect((await api("GET", list)).status).toBe(503);
    expect((await api("GET", list)).status).toBe(200);
    expect(sim.calls().map((c) => [c.status, c.fault])).toEqual([
      [503, "outage"],
      [503, "outage"],
      [200, undefined],
    ]);
  });

  it("answers a JSON status fault with OVH's error shape by default", async () => {
    sim.injectFault({ method: "PUT", fault: { kind: "status", status: 403 } });
    expect((await api("GET", list)).status).toBe(200);
    const res = await api("PUT", `${list}/1`, { body: { ttl: 1 } });
    expect(res.status).toBe(403);
    expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(res.body).toMatchObject({ class: "Client::Forbidden" });
  });

  it("matches a RegExp path and stops after clearFaults", async () => {
    sim.injectFault({ path: /\/record\/\d+$/, fault: { kind: "status", status: 500 } });
    expect((await api("GET", `${list}/1`)).status).toBe(500);
    expect((await api("GET", list)).status).toBe(200);
    sim.clearFaults();
    expect((await api("GET", `${list}/1`)).status).toBe(404);
  });

  it("answers 200 with a body that is not JSON", async () => {
    sim.injectFault({ path: list, times: 1, fault: { kind: "invalid-json" } });
    const res = await api("GET", list);
    expect(res.status).toBe(200);
    expect(res.body).toBeUndefined();
    expect(() => JSON.parse(res.text)).toThrow();
  });

  it("resets the connection", async () => {
    sim.resetCalls();
    sim.injectFault({ path: list, times: 1, fault: { kind: "reset" } });
    await expect(api("GET", list)).rejects.toThrow();
    expect(sim.calls()[0]).toMatchObject({ fault: "reset", status: 0 });
    expect((await api("GET", list)).status).toBe(200);
  });

  it("hangs until close(), which does not hang", async () => {
    const own = await startOvhSimulator();
    own.injectFault({ fault: { kind: "hang" } });
    const pending = fetch(`${own.url}/auth/time`).then(
      () => "answered",
      () => "failed",
    );
    while (own.calls().length === 0) await new Promise((r) => setTimeout(r, 10));
    expect(own.calls()[0]).toMatchObject({ fault: "hang", status: 0 });
    await own.close();
    expect(await pending).toBe("failed");
  });
});

describe("OVH's quirks, switched on", () => {
  const zone = "quirks.test";
  beforeAll(() => sim.addZone(zone));

  it("a create answers id 0 while the record gets its real id", async () => {
    sim.setQuirks({ createIdZero: true });
    try {
      const created = await api("POST", `/domain/zone/${zone}/record`, {
        body: { fieldType: "A", subDomain: "q", target: "192.0.2.9", ttl: 60 },
      });
      expect(created.status).toBe(200);
      expect(created.body).toMatchObject({ id: 0, subDomain: "q", target: "192.0.2.9" });
      const listed = await api("GET", `/domain/zone/${zone}/record?fieldType=A&subDomain=q`);
      const [id] = listed.body as number[];
      expect(id).toBeGreaterThan(2 ** 31);
      expect(sim.records(zone).map((r) => r.id)).toEqual([id]);
    } finally {
      sim.setQuirks({ createIdZero: false });
    }
  });

  it.each([
    ["null", 200, "null"],
    ["204", 204, ""],
    ["empty", 200, ""],
  ] as const)(
    "refreshAnswer %s: the refresh answers %i with body %j, and publishes",
    async (refreshAnswer, status, text) => {
      sim.setQuirks({ refreshAnswer });
      try {
        sim.addRecord(
          zone,
          { fieldType: "A", subDomain: `r${refreshAnswer}`, target: "192.0.2.7" },
          { live: false },
        );
        const refresh = await api("POST", `/domain/zone/${zone}/refresh`);
        expect([refresh.status, refresh.text]).toEqual([status, text]);
        expect(sim.liveRecords(zone)).toEqual(sim.records(zone));
      } finally {
        sim.setQuirks({ refreshAnswer: "null" });
      }
    },
  );

  it("readAfterCreate404: the first read of a created record answers 404 though the list names it; the next read finds it", async () => {
    sim.setQuirks({ readAfterCreate404: true });
    try {
      const created = await api("POST", `/domain/zone/${zone}/record`, {
        body: { fieldType: "AAAA", subDomain: "late", target: "2001:db8::9", ttl: 60 },
      });
      const id = (created.body as { id: number }).id;
      const listed = await api("GET", `/domain/zone/${zone}/record?fieldType=AAAA&subDomain=late`);
      expect(listed.body).toEqual([id]);
      expect((await api("GET", `/domain/zone/${zone}/record/${id}`)).status).toBe(404);
      expect((await api("GET", `/domain/zone/${zone}/record/${id}`)).body).toMatchObject({ id });
    } finally {
      sim.setQuirks({ readAfterCreate404: false });
    }
  });

  it("renumberRecords: every record gets a new id, written and live alike, and the old ids answer 404", async () => {
    const id = sim.addRecord(zone, { fieldType: "A", subDomain: "renum", target: "192.0.2.5" });
    const before = sim.records(zone).length;
    sim.renumberRecords(zone);
    const [moved] = sim.records(zone).filter((r) => r.subDomain === "renum");
    expect(moved?.id).not.toBe(id);
    expect(sim.records(zone)).toHaveLength(before);
    expect(sim.liveRecords(zone).find((r) => r.subDomain === "renum")?.id).toBe(moved?.id);
    expect((await api("GET", `/domain/zone/${zone}/record/${id}`)).status).toBe(404);
  });

  it("a fault with a chance fails only some of the calls it matches", async () => {
    const own = `/domain/zone/${zone}/record`;
    sim.injectFault({ path: own, chance: 0.5, fault: { kind: "status", status: 503 } });
    try {
      const statuses = new Set<number>();
      for (let i = 0; i < 60 && statuses.size < 2; i++) statuses.add((await api("GET", own)).status);
      expect([...statuses].sort()).toEqual([200, 503]);
    } finally {
      sim.clearFaults();
    }
  });

  it("the lost fault applies the call and never answers", async () => {
    const own = await startOvhSimulator();
    own.addZone(zone);
    own.addApplication(APP.key, APP.secret);
    own.addConsumerKey(CK, { applicationKey: APP.key });
    own.injectFault({ method: "POST", fault: { kind: "lost" } });
    const url = `${own.url}/domain/zone/${zone}/record`;
    const body = JSON.stringify({ fieldType: "A", subDomain: "l", target: "192.0.2.8" });
    const ts = Math.floor(Date.now() / 1000);
    const pending = fetch(url, {
      method: "POST",
      body,
      headers: {
        "Content-Type": "application/json",
        "X-Ovh-Application": APP.key,
        "X-Ovh-Consumer": CK,
        "X-Ovh-Timestamp": String(ts),
        "X-Ovh-Signature": sign(APP.secret, CK, "POST", url, body, ts),
      },
    }).then(
      () => "answered",
      () => "failed",
    );
    while (own.records(zone).length === 0) await new Promise((r) => setTimeout(r, 10));
    expect(own.records(zone).map((r) => r.target)).toEqual(["192.0.2.8"]);
    expect(own.calls()[0]).toMatchObject({ fault: "lost", status: 0 });
    await own.close();
    expect(await pending).toBe("failed");
  });
});

describe("latency", () => {
  it("delays API answers by at least the latency set", async () => {
    sim.setLatency(150);
    const started = performance.now();
    const res = await fetch(`${sim.url}/auth/time`);
    await res.text();
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });

  it("does not delay the control API", async () => {
    sim.setLatency(10 * 60_000); // would outlast the test timeout if applied
    const res = await fetch(`${sim.origin}/_sim/calls`);
    expect(res.status).toBe(200);
  });

  it("is released by close()", async () => {
    const own = await startOvhSimulator({ latencyMs: 10 * 60_000 });
    const pending = fetch(`${own.url}/auth/time`).then(
      () => "answered",
      () => "failed",
    );
    while (own.calls().length === 0) await new Promise((r) => setTimeout(r, 10));
    await own.close();
    expect(await pending).toBe("failed");
  });
});

describe("OAuth2 service accounts", () => {
  beforeAll(() => {
    sim.addServiceAccount("client-all", "secret-all");
    sim.addServiceAccount("client-other", "secret-other", { zones: ["other.test"] });
  });

  async function token(clientId: string, secret: string, grant = "client_credentials") {
    const res = await fetch(`${sim.origin}/auth/oauth2/token`, {
      method: "POST",
      headers: {
        Authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString("base64")}`,
        "Content-Type": "application/x-www-form-urlencoded",
      },
      body: `grant_type=${grant}&scope=all`,
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  function bearer(method: string, path: string, accessToken: string) {
    return fetch(`${sim.url}${path}`, { method, headers: { Authorization: `Bearer ${accessToken}` } });
  }

  it("issues a bearer token that is accepted without X-Ovh headers", async () => {
    sim.resetCalls();
    const t = await token("client-all", "secret-all");
    expect(t.status).toBe(200);
    expect(t.body).toMatchObject({ token_type: "Bearer", expires_in: 3599, scope: "all" });
    const res = await bearer("GET", `/domain/zone/${ZONE}/record`, t.body.access_token as string);
    expect(res.status).toBe(200);
    expect(JSON.stringify(sim.calls())).not.toContain("secret-all");
    expect(sim.calls()[1]).toMatchObject({ clientId: "client-all", kind: "list" });
  });

  it("refuses bad client credentials, other grants and unknown tokens", async () => {
    expect((await token("client-all", "wrong")).status).toBe(401);
    expect((await token("client-all", "secret-all", "password")).status).toBe(400);
    expect((await bearer("GET", `/domain/zone/${ZONE}/record`, "nope")).status).toBe(401);
  });

  it("answers 403 User not granted outside the account's zones", async () => {
    const t = await token("client-other", "secret-other");
    const res = await bearer("GET", `/domain/zone/${ZONE}/record`, t.body.access_token as string);
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual(ovhError("Client::Forbidden", "User not granted for this request"));
  });
});

describe("control API over HTTP", () => {
  const zone = "control.test";
  const control = (method: string, path: string, body?: unknown) =>
    fetch(`${sim.origin}/_sim${path}`, {
      method,
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { "Content-Type": "application/json" } }),
    });

  it("shows written and live records of a zone", async () => {
    expect((await control("POST", `/zones/${zone}`)).status).toBe(200);
    const added = await control("POST", `/zones/${zone}/records`, {
      fieldType: "A",
      subDomain: "x",
      target: "192.0.2.1",
      live: false,
    });
    const { id } = (await added.json()) as { id: number };
    const res = await control("GET", `/zones/${zone}`);
    expect(await res.json()).toEqual({
      written: [{ id, zone, fieldType: "A", subDomain: "x", target: "192.0.2.1", ttl: 0 }],
      live: [],
    });
    expect((await control("DELETE", `/zones/${zone}/records/${id}`)).status).toBe(200);
    expect(sim.records(zone)).toEqual([]);
    expect((await control("GET", "/zones/unknown.test")).status).toBe(404);
  });

  it("lists and resets calls", async () => {
    sim.resetCalls();
    await fetch(`${sim.url}/auth/time`);
    const calls = (await (await control("GET", "/calls")).json()) as { kind: string }[];
    expect(calls.map((c) => c.kind)).toEqual(["auth-time"]);
    expect(((await (await control("GET", "/calls?kind=list")).json()) as unknown[]).length).toBe(0);
    expect((await control("POST", "/reset-calls")).status).toBe(200);
    expect(sim.calls()).toEqual([]);
  });

  it("injects faults with exact and ^RegExp paths, and clears them", async () => {
    expect(
      (
        await control("POST", "/faults", {
          path: "/auth/time",
          times: 1,
          fault: { kind: "status", status: 502 },
        })
      ).status,
    ).toBe(200);
    expect((await fetch(`${sim.url}/auth/time`)).status).toBe(502);
    expect((await fetch(`${sim.url}/auth/time`)).status).toBe(200);

    await control("POST", "/faults", { path: "^/auth/", fault: { kind: "status", status: 504 } });
    expect((await fetch(`${sim.url}/auth/time`)).status).toBe(504);
    expect((await control("DELETE", "/faults")).status).toBe(200);
    expect((await fetch(`${sim.url}/auth/time`)).status).toBe(200);
  });

  it("rejects a malformed fault rule", async () => {
    expect((await control("POST", "/faults", { fault: { kind: "explode" } })).status).toBe(400);
  });

  it("sets latency and clock skew", async () => {
    expect((await control("POST", "/clock-skew", { seconds: 7200 })).status).toBe(200);
    const t = Number(await (await fetch(`${sim.url}/auth/time`)).text());
    expect(t - Date.now() / 1000).toBeGreaterThan(7000);
    expect((await control("POST", "/latency", { ms: 0 })).status).toBe(200);
  });
});

describe("close()", () => {
  it("closes even with idle keep-alive connections", async () => {
    const own = await startOvhSimulator({ port: 0 });
    await (await fetch(`${own.url}/auth/time`)).text();
    await own.close();
    await expect(fetch(`${own.url}/auth/time`)).rejects.toThrow();
  });
});
