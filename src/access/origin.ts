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
