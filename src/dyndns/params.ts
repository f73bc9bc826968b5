// Reading a dyndns2 request's parameters: the query and a form body, with lowercased names.
// Accepts the parameter names of ddclient, inadyn, the FRITZ!Box, OpenWrt, UniFi, dynv6, deSEC
// and friends (docs/reference/dyndns-clients.md).

export type Params = ReadonlyMap<string, readonly string[]>;

export const PARAM_NAMES = {
  hostname: ["hostname", "host", "domain"],
  // ip: deSEC and the UniFi recipe (…/update?ip=%i&hostname=%h); myip6: dyndnsd and some scripts.
  myip: ["myip", "ip"],
  v4: ["myipv4", "ipv4", "ipaddr"],
  v6: ["myipv6", "myip6", "ipv6", "ip6addr", "ip6"],
  prefix: ["ip6lanprefix", "ipv6prefix", "prefix"],
  user: ["username", "user"],
  password: ["password", "pass", "passwd"],
  /** Dyn's offline=YES (park the host): refused, we never take a host offline. */
  offline: ["offline"],
} as const;

/** Every name above: a parameter under any other name is not ours to read. */
export const KNOWN_NAMES: ReadonlySet<string> = new Set(Object.values(PARAM_NAMES).flat());

/** Collect parameters with lowercased names; later sources append to earlier ones. */
export function collectParams(...sources: URLSearchParams[]): Map<string, string[]> {
  const params = new Map<string, string[]>();
  for (const source of sources) {
    for (const [key, value] of source) {
      const k = key.toLowerCase();
      const list = params.get(k);
      if (list) list.push(value);
      else params.set(k, [value]);
    }
  }
  return params;
}

/** An empty value, or a placeholder the router did not fill in (<ip6addr>, [IP], %i), is absent. */
export function isAbsent(value: string): boolean {
  const v = value.trim();
  return (
    v === "" ||
    /^<[\w-]*>$/.test(v) ||
    /^\[[\w-]*\]$/.test(v) ||
    /^%\w$/.test(v) ||
    v.toLowerCase() === "preserve"
  );
}

/** All present values of any of the names, in order. */
export function values(params: Params, names: readonly string[]): { name: string; value: string }[] {
  const out: { name: string; value: string }[] = [];
  for (const name of names) {
    for (const value of params.get(name) ?? []) if (!isAbsent(value)) out.push({ name, value: value.trim() });
  }
  return out;
}

/** Form bodies larger than this are not read: a dyndns2 request fits in a URL. */
const MAX_FORM_BYTES = 64 * 1024;
/** A form body longer than MAX_FORM_BYTES but not than this is read to its end before the refusal. */
const DRAIN_BYTES = 1024 * 1024;
/** A form body fits in one packet; one still arriving after this long is not waited for. */
const FORM_DEADLINE_MS = 5_000;

/**
 * The query and, for a POSTed form, its body; or why the body was not read (too large, too
 * slow, or unreadable).
 */
export async function readParams(request: Request): Promise<Map<string, string[]> | { refused: string }> {
  const query = new URL(request.url).searchParams;
  const type = request.headers.get("Content-Type") ?? "";
  if (request.method !== "POST" || !type.toLowerCase().startsWith("application/x-www-form-urlencoded")) {
    return collectParams(query);
  }
  const text = await readCapped(request, MAX_FORM_BYTES, FORM_DEADLINE_MS);
  if (text === "late") return { refused: "the form body did not arrive in time" };
  if (text === undefined) return { refused: "the form body is too large or unreadable" };
  return collectParams(query, new URLSearchParams(text));
}

/**
 * Read and drop a request's body before answering without it: an answer sent while the body is
 * still arriving ends the connection, and a client that reuses it fails its next request. A body
 * over 1 MiB, or one still arriving after the form's deadline, is left unread.
 */
export async function discardBody(request: Request): Promise<void> {
  if (request.body && !request.bodyUsed) await readCapped(request, 0, FORM_DEADLINE_MS);
}

/**
 * The body as text; undefined past `limit` bytes, chunked or not, holding at most `limit` bytes;
 * "late" when it has not ended within `deadlineMs`.
 */
async function readCapped(
  request: Request,
  limit: number,
  deadlineMs: number,
): Promise<string | undefined | "late"> {
  // A declared length past what we would read to the end is refused unread (the connection is
  // then closed); up to it, the body is read and dropped below, so the client can finish sending
  // and read our answer on a connection that stays usable.
  if (Number(request.headers.get("Content-Length") ?? "0") > DRAIN_BYTES) return undefined;
  if (!request.body) return "";
  const reader = request.body.getReader();
  let expire = (): void => undefined;
  const late = new Promise<"late">((resolve) => {
    expire = () => resolve("late");
  });
  const timer = setTimeout(() => expire(), deadlineMs);
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const next = await Promise.race([reader.read(), late]);
      if (next === "late") {
        reader.cancel().catch(() => undefined);
        return "late";
      }
      if (next.done) break;
      size += next.value.byteLength;
      // Past the limit, keep reading (so the client can finish sending and read our answer) but
      // keep nothing: memory stays bounded by the limit.
      if (size <= limit) chunks.push(next.value);
      else if (size > DRAIN_BYTES) {
        reader.cancel().catch(() => undefined);
        return undefined;
      }
    }
  } finally {
    clearTimeout(timer);
  }
  if (size > limit) return undefined;
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}
