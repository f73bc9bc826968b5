// Cross-site request forgery: a browser that has cached a client's HTTP Basic credentials (say,
// after opening /status) sends them along with any request a web page makes, by a link, an
// image or a form. Routers and dyndns clients send neither Origin nor Sec-Fetch-Site; browsers
// send them, and say when the request comes from another site.

/** Why a state-changing request is refused as coming from another site; undefined when it is not. */
export function crossSite(request: Request): string | undefined {
  const site = request.headers.get("Sec-Fetch-Site");
  const origin = request.headers.get("Origin");
  const fromElsewhere =
    site === "cross-site" ||
    site === "same-site" ||
    (origin !== null && origin !== new URL(request.url).origin);
  return fromElsewhere
    ? "a request from another web site is refused; updates come from dyndns clients, not from web pages"
    : undefined;
}

/**
 * Was the request sent by a page of this very origin? Browsers send Origin with every POST and
 * Sec-Fetch-Site with every request; a request with neither did not come from a browser page.
 */
export function fromOwnPage(request: Request): boolean {
  const origin = request.headers.get("Origin");
  if (origin !== null) return origin === new URL(request.url).origin;
  return request.headers.get("Sec-Fetch-Site") === "same-origin";
}

/**
 * A browser's request: browsers send Sec-Fetch-Dest and Sec-Fetch-Site to secure origins (and
 * loopback). Sec-Fetch-Mode alone is no sign: Node's fetch sends it too.
 */
export function fromBrowser(request: Request): boolean {
  const { headers } = request;
  return (
    headers.has("Sec-Fetch-Dest") ||
    headers.has("Sec-Fetch-Site") ||
    (headers.get("Accept") ?? "").includes("text/html")
  );
}

/** A browser navigating to the URL (typing it, following a link), not a script's fetch. */
export function isNavigation(request: Request): boolean {
  const dest = request.headers.get("Sec-Fetch-Dest");
  if (dest !== null) return dest === "document";
  return (request.headers.get("Accept") ?? "").includes("text/html");
}
