// OVH API base URLs by endpoint name, as the official clients name them
// (go-ovh, python-ovh, node-ovh; checked against shared/reference/ovh-api.md, 2026-11).
export const OVH_ENDPOINTS: Readonly<Record<string, string>> = {
  "ovh-eu": "https://eu.api.ovh.com/1.0",
  "ovh-ca": "https://ca.api.ovh.com/1.0",
  "ovh-us": "https://api.us.ovhcloud.com/1.0",
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
