// OVH's endpoints by name, including the hosts of OVH's 2026 domain move (api.<region>.ovhcloud.com,
// tokens from auth.<region>.ovhcloud.com), which the configuration accepts as names and as URLs.
import { beforeEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config";
import { OvhClient, resetTimeDeltas } from "../../src/ovh/client";
import { oauth2TokenUrl, resolveEndpoint } from "../../src/ovh/endpoints";
import { signRequest } from "../../src/ovh/sign";

beforeEach(() => resetTimeDeltas());

const json = (body: unknown) =>
  new Response(JSON.stringify(body), { headers: { "Content-Type": "application/json" } });

describe("OVH's 2026 domain move", () => {
  it.each([
    ["ovhcloud-eu", "https://api.eu.ovhcloud.com/1.0", "https://auth.eu.ovhcloud.com/oauth2/token"],
    ["ovhcloud-ca", "https://api.ca.ovhcloud.com/1.0", "https://auth.ca.ovhcloud.com/oauth2/token"],
    ["ovh-eu", "https://eu.api.ovh.com/1.0", "https://www.ovh.com/auth/oauth2/token"],
    ["ovh-ca", "https://ca.api.ovh.com/1.0", "https://ca.ovh.com/auth/oauth2/token"],
  ])("%s is %s, with tokens from %s, by name and by URL", (name, base, token) => {
    expect(resolveEndpoint(name)).toBe(base);
    expect(resolveEndpoint(`${base}/`)).toBe(base);
    expect(oauth2TokenUrl(base)).toBe(token);
  });

  it("the configuration takes the new names, with OAuth2 service accounts as well", () => {
    const vars = { HOSTS: {}, CLIENTS: {} };
    for (const OVH_ENDPOINT of ["ovhcloud-eu", "ovhcloud-ca", "https://api.eu.ovhcloud.com/1.0"]) {
      const result = parseConfig({
        ...vars,
        OVH_ENDPOINT,
        OVH_CLIENT_ID: "id-1234",
        OVH_CLIENT_SECRET: "s3cr3t-5678",
      });
      expect(result.ok, OVH_ENDPOINT).toBe(true);
    }
  });

  it("an OAuth2 client gets its token from auth.eu.ovhcloud.com and calls api.eu.ovhcloud.com", async () => {
    const urls: string[] = [];
    const fetch = async (input: RequestInfo | URL) => {
      urls.push(String(input));
      return String(input).endsWith("/oauth2/token")
        ? json({ access_token: "tok-1", token_type: "Bearer", expires_in: 3599 })
        : json([1]);
    };
    const client = new OvhClient({
      endpoint: "https://api.eu.ovhcloud.com/1.0",
      credentials: { clientId: "id-1", clientSecret: "secret-2" },
      timeoutMs: 1000,
      fetch,
    });
    await client.request("GET", "/domain/zone/example.tld/record");
    expect(urls).toEqual([
      "https://auth.eu.ovhcloud.com/oauth2/token",
      "https://api.eu.ovhcloud.com/1.0/domain/zone/example.tld/record",
    ]);
  });

  it("a signed call to api.ca.ovhcloud.com signs that host's URL", async () => {
    const credentials = { applicationKey: "ak-1", applicationSecret: "as-2", consumerKey: "ck-3" };
    const seen: { url: string; headers: Headers }[] = [];
    const fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
      if (String(input).endsWith("/auth/time")) return json(1_800_000_000);
      seen.push({ url: String(input), headers: new Headers(init?.headers) });
      return json(null);
    };
    const client = new OvhClient({
      endpoint: "https://api.ca.ovhcloud.com/1.0",
      credentials,
      timeoutMs: 1000,
      fetch,
      now: () => 1_800_000_000,
    });
    await client.request("POST", "/domain/zone/example.tld/refresh");
    const [call] = seen;
    expect(call?.url).toBe("https://api.ca.ovhcloud.com/1.0/domain/zone/example.tld/refresh");
    expect(call?.headers.get("X-Ovh-Signature")).toBe(
      await signRequest({
        ...credentials,
        method: "POST",
        url: "https://api.ca.ovhcloud.com/1.0/domain/zone/example.tld/refresh",
        body: "",
        timestamp: 1_800_000_000,
      }),
    );
  });
});
