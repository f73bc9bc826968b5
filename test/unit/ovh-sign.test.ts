// The OVH request signature (src/ovh/sign.ts): every test vector of docs/reference/ovh-api.md,
// and the official npm client (ovh 2.0.3) as an oracle for the same inputs.
import { EventEmitter } from "node:events";
import type { RequestOptions } from "node:https";
import { createRequire } from "node:module";
import { afterEach, describe, expect, it } from "vitest";
import { toHex } from "../../src/core/hex";
import { type SignInput, signRequest } from "../../src/ovh/sign";

describe("test vectors from ovh-api.md", () => {
  const go = {
    applicationSecret: "9ufkBmLaTQ9nz5yMUlg79taH0GNnzDjk",
    consumerKey: "5mBuy6SUQcRw2ZUxg0cG68BoDKpED4KY",
    timestamp: 1457018875,
    url: "https://eu.api.ovh.com/1.0/auth",
  };
  const vectors: [string, SignInput, string][] = [
    ["go-ovh GET", { ...go, method: "GET", body: "" }, "$1$e9556054b6309771395efa467c22e627407461ad"],
    [
      "go-ovh POST",
      { ...go, method: "POST", body: '{"a":"b","c":"d"}' },
      "$1$ec2fb5c7a81f64723c77d2e5b609ae6f58a84fc1",
    ],
    [
      "go-ovh PUT",
      { ...go, method: "PUT", body: '{"a":"b","c":"d"}' },
      "$1$8a75a9e7c8e7296c9dbeda6a2a735eb6bd58ec4b",
    ],
    ["go-ovh DELETE", { ...go, method: "DELETE", body: "" }, "$1$a1eecd00b3b02b6cf5708b84b9ff42059a950d85"],
    [
      "record update",
      {
        applicationSecret: "AS",
        consumerKey: "CK",
        timestamp: 1700000000,
        method: "PUT",
        url: "https://eu.api.ovh.com/1.0/domain/zone/example.tld/record/123",
        body: '{"target":"2001:db8::1","ttl":60}',
      },
      "$1$74e336ba26385504a905565b4ce83e98f50b2b8b",
    ],
    [
      "record list with a query string",
      {
        applicationSecret: "AS",
        consumerKey: "CK",
        timestamp: 1700000000,
        method: "GET",
        url: "https://eu.api.ovh.com/1.0/domain/zone/example.tld/record?fieldType=AAAA&subDomain=home",
        body: "",
      },
      "$1$272be443c6a4c7bb3487c9097f0a5360153a06f0",
    ],
  ];

  it.each(vectors)("%s", async (_name, input, signature) => {
    expect(await signRequest(input)).toBe(signature);
  });

  it("the URL is signed as sent: /1.0 and /v1 differ, and so does a query order", async () => {
    const base = vectors[0]?.[1] as SignInput;
    const v1 = await signRequest({ ...base, url: "https://eu.api.ovh.com/v1/auth" });
    expect(v1).not.toBe("$1$e9556054b6309771395efa467c22e627407461ad");
    const a = await signRequest({ ...base, url: `${base.url}?a=1&b=2` });
    const b = await signRequest({ ...base, url: `${base.url}?b=2&a=1` });
    expect(a).not.toBe(b);
  });

  it("toHex is lowercase and zero-padded", () => {
    expect(toHex(new Uint8Array([0, 1, 0xab, 0xff]))).toBe("0001abff");
  });
});

describe("the official ovh npm client signs identically", () => {
  interface OfficialClient {
    signRequest(method: string, url: string, body: string | null, timestamp: number | string): string;
    request(method: string, path: string, params: unknown, callback: () => void): void;
  }
  type OvhFactory = (o: {
    appKey: string;
    appSecret: string;
    consumerKey: string;
    apiTimeDiff?: number;
  }) => OfficialClient;
  // node_modules/ovh/lib/ovh.es5.js, Ovh.prototype.signRequest:
  //   "$1$" + sha1hex([appSecret, consumerKey, method, url, body || "", timestamp].join("+"))
  const ovh = createRequire(import.meta.url)("ovh") as OvhFactory;

  const cases: Omit<SignInput, "applicationSecret" | "consumerKey">[] = [
    {
      method: "GET",
      url: "https://eu.api.ovh.com/1.0/domain/zone/example.tld/record",
      body: "",
      timestamp: 1,
    },
    {
      method: "GET",
      url: "https://eu.api.ovh.com/1.0/domain/zone/example.tld/record?fieldType=AAAA&subDomain=wg-end",
      body: "",
      timestamp: 1_700_000_000,
    },
    {
      method: "GET",
      url: "https://ca.api.ovh.com/1.0/domain/zone/xn--bcher-kva.example/record?subDomain=&fieldType=A",
      body: "",
      timestamp: 1_763_000_000,
    },
    {
      method: "POST",
      url: "https://eu.api.ovh.com/1.0/domain/zone/example.tld/record",
      body: '{"fieldType":"AAAA","subDomain":"wg-end","target":"2001:db8:ab:cd10:211:32ff:fe12:3456","ttl":60}',
      timestamp: 1_763_000_001,
    },
    {
      method: "PUT",
      url: "https://eu.api.ovh.com/1.0/domain/zone/example.tld/record/5000000001",
      body: '{"target":"198.51.100.7","ttl":0}',
      timestamp: 1_763_000_002,
    },
    {
      method: "POST",
      url: "https://eu.api.ovh.com/1.0/domain/zone/example.tld/refresh",
      body: "",
      timestamp: 1_763_000_003,
    },
    {
      method: "DELETE",
      url: "https://api.us.ovhcloud.com/1.0/domain/zone/example.tld/record/42",
      body: "",
      timestamp: 1_763_000_004,
    },
    {
      // non-ASCII escaped the way the official client escapes its bodies
      method: "PUT",
      url: "https://eu.api.ovh.com/1.0/domain/zone/example.tld/record/7",
      body: '{"subDomain":"b\\u00fccher","target":"2001:db8::1"}',
      timestamp: 1_763_000_005,
    },
    {
      // and raw UTF-8, which both hash as UTF-8
      method: "PUT",
      url: "https://eu.api.ovh.com/1.0/domain/zone/example.tld/record/7",
      body: '{"subDomain":"bücher"}',
      timestamp: 1_763_000_006,
    },
  ];
  const keys: [string, string][] = [
    ["AS", "CK"],
    ["9ufkBmLaTQ9nz5yMUlg79taH0GNnzDjk", "5mBuy6SUQcRw2ZUxg0cG68BoDKpED4KY"],
    ["secret+with+plus", "ck/with/slash"],
  ];

  for (const [applicationSecret, consumerKey] of keys) {
    const official = ovh({ appKey: "app-key", appSecret: applicationSecret, consumerKey });
    it.each(cases)(`${applicationSecret.slice(0, 6)}…: $method $url`, async (c) => {
      const ours = await signRequest({ ...c, applicationSecret, consumerKey });
      expect(ours).toBe(official.signRequest(c.method, c.url, c.body === "" ? null : c.body, c.timestamp));
      expect(ours).toMatch(/^\$1\$[0-9a-f]{40}$/);
    });
  }

  describe("the signature it puts on a request it builds itself", () => {
    interface Sent {
      options: RequestOptions & { headers: Record<string, string | number> };
      body: string;
    }
    type RequestFn = (options: RequestOptions) => EventEmitter;
    const https = createRequire(import.meta.url)("node:https") as { request: RequestFn };
    const realRequest = https.request;
    afterEach(() => {
      https.request = realRequest;
    });

    /** Let the official client build and sign one call; capture it instead of sending it. */
    function capture(method: string, path: string, params?: Record<string, unknown>): Sent {
      const sent: Sent[] = [];
      https.request = (options) => {
        const req = Object.assign(new EventEmitter(), {
          write: (chunk: string) => {
            (sent.at(-1) as Sent).body += chunk;
          },
          end: () => {},
        });
        sent.push({ options: options as Sent["options"], body: "" });
        return req;
      };
      // apiTimeDiff 0 would count as unknown and fetch /auth/time first.
      const client = ovh({ appKey: "app-key", appSecret: "AS", consumerKey: "CK", apiTimeDiff: 1 });
      client.request(method, path, params ?? {}, () => {});
      https.request = realRequest;
      expect(sent).toHaveLength(1);
      return sent[0] as Sent;
    }

    it.each([
      ["GET", "/domain/zone/example.tld/record", { fieldType: "AAAA", subDomain: "wg-end" }],
      ["GET", "/domain/zone/example.tld/record", { subDomain: "" }],
      [
        "POST",
        "/domain/zone/example.tld/record",
        { fieldType: "A", subDomain: "fw", target: "203.0.113.7", ttl: 60 },
      ],
      ["PUT", "/domain/zone/example.tld/record/5000000001", { target: "2001:db8::1", ttl: 60 }],
      ["PUT", "/domain/zone/example.tld/record/7", { subDomain: "bücher" }],
      ["POST", "/domain/zone/example.tld/refresh", undefined],
      ["DELETE", "/domain/zone/example.tld/record/42", undefined],
    ])("%s %s %j", async (method, path, params) => {
      const { options, body } = capture(method, path, params);
      const url = `https://${options.host}${options.path}`;
      const timestamp = Number(options.headers["X-Ovh-Timestamp"]);
      if (params && method === "GET") expect(url).toContain("?");
      if (params && method !== "GET") expect(body).not.toBe("");
      const ours = await signRequest({
        applicationSecret: "AS",
        consumerKey: "CK",
        method,
        url,
        body,
        timestamp,
      });
      expect(ours).toBe(options.headers["X-Ovh-Signature"]);
    });
  });

  it("agrees with the go-ovh vector too", () => {
    const official = ovh({
      appKey: "x",
      appSecret: "9ufkBmLaTQ9nz5yMUlg79taH0GNnzDjk",
      consumerKey: "5mBuy6SUQcRw2ZUxg0cG68BoDKpED4KY",
    });
    expect(official.signRequest("GET", "https://eu.api.ovh.com/1.0/auth", null, 1457018875)).toBe(
      "$1$e9556054b6309771395efa467c22e627407461ad",
    );
  });
});
