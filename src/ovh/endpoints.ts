// OVH API base URLs by endpoint name, as the official clients name them
// (go-ovh, python-ovh, node-ovh; checked against docs/reference/ovh-api.md, 2026-11), and the
// hosts OVH is moving its API to (docs/reference/ovh-api.md, "Coming host names", 2026).
export const OVH_ENDPOINTS: Readonly<Record<string, string>> = {
  "ovh-eu": "https://eu.api.ovh.com/1.0",
  "ovh-ca": "https://ca.api.ovh.com/1.0",
  "ovh-us": "https://api.us.ovhcloud.com/1.0",
  // The 2026 domain move: the same API under ovhcloud.com; today's hosts keep answering.
  "ovhcloud-eu": "https://api.eu.ovhcloud.com/1.0",
  "ovhcloud-ca": "https://api.ca.ovhcloud.com/1.0",
  "kimsufi-eu": "https://eu.api.kimsufi.com/1.0",
  "kimsufi-ca": "https://ca.api.kimsufi.com/1.0",
  "soyoustart-eu": "https://eu.api.soyoustart.com/1.0",
  "soyoustart-ca": "https://ca.api.soyoustart.com/1.0",
};

/** An endpoint name or an http(s) base URL (a local simulator) → base URL without a trailing slash. */
export function resolveEndpoint(nameOrUrl: string): string | undefined {
  const known = OVH_ENDPOINTS[nameOrUrl];
  if (known) return known;
  if (!/^https?:\/\//.test(nameOrUrl)) return undefined;
  try {
    const url = new URL(nameOrUrl);
    if (url.search || url.hash || url.username || url.password) return undefined;
    return url.href.replace(/\/+$/, "");
  } catch {
    return undefined;
  }
}

/**
 * Where an OAuth2 service account gets its token, for an API base URL (ovh-api.md, 2026-11):
 * OVH's own endpoints have one each (the ovhcloud.com hosts of the 2026 move theirs on
 * auth.<region>.ovhcloud.com), Kimsufi and So you Start none; any other base URL (a local
 * simulator) serves it at <origin>/auth/oauth2/token.
 */
export function oauth2TokenUrl(base: string): string | undefined {
  const byApi: Record<string, string | undefined> = {
    [OVH_ENDPOINTS["ovh-eu"] ?? ""]: "https://www.ovh.com/auth/oauth2/token",
    [OVH_ENDPOINTS["ovh-ca"] ?? ""]: "https://ca.ovh.com/auth/oauth2/token",
    [OVH_ENDPOINTS["ovh-us"] ?? ""]: "https://us.ovhcloud.com/auth/oauth2/token",
    [OVH_ENDPOINTS["ovhcloud-eu"] ?? ""]: "https://auth.eu.ovhcloud.com/oauth2/token",
    [OVH_ENDPOINTS["ovhcloud-ca"] ?? ""]: "https://auth.ca.ovhcloud.com/oauth2/token",
  };
  if (base in byApi) return byApi[base];
  if (Object.values(OVH_ENDPOINTS).includes(base)) return undefined;
  return `${new URL(base).origin}/auth/oauth2/token`;
}
