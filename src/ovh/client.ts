// A small OVH API client over fetch: signed calls, the server-time delta, a timeout on every
// call, and errors that carry status, message and X-Ovh-QueryId. It runs on workerd without
// nodejs_compat and in Node (the setup CLI uses it too).
import type { OAuth2Credentials, OvhAuth } from "../config";
import { messageOf } from "../core/text";
import { oauth2TokenUrl } from "./endpoints";
import { signRequest } from "./sign";

export type HttpMethod = "GET" | "POST" | "PUT" | "DELETE";

/** One call as it went: kept per request for the log line (never headers or secrets). */
export interface OvhCall {
  method: HttpMethod;
  path: string;
  status: number;
  queryId?: string;
  ms: number;
}

/** What every call held back before it was sent says first (the budget here, src/ovh/policy/ there). */
export const notSent = (why: string): string => `not sent: ${why}`;

/** `not-sent`: refused before sending (the call budget), so it cannot have reached OVH. */
export type OvhErrorKind = "http" | "timeout" | "network" | "bad-response" | "not-sent";

/** A failed OVH call: what was being done, the status, OVH's message and query id. */
export class OvhError extends Error {
  constructor(
    readonly kind: OvhErrorKind,
    readonly method: HttpMethod,
    readonly path: string,
    readonly status: number,
    readonly ovhMessage: string,
    readonly queryId?: string,
  ) {
    super(
      `OVH ${method} ${path}: ${status ? `${status} ` : ""}${ovhMessage}${queryId ? ` (query id ${queryId})` : ""}`,
    );
    this.name = "OvhError";
  }

  get notFound(): boolean {
    return this.kind === "http" && this.status === 404;
  }

  /** A signature or timestamp complaint: the one case worth a clock re-sync and a retry. */
  get clockSuspect(): boolean {
    return this.kind === "http" && this.status === 400 && /signature|timestamp|time/i.test(this.ovhMessage);
  }
}

export interface OvhClientOptions {
  /** Base URL, e.g. https://eu.api.ovh.com/1.0 (see resolveEndpoint). */
  endpoint: string;
  /** Application + consumer key (signed calls), or an OAuth2 service account (bearer token). */
  credentials: OvhAuth;
  timeoutMs: number;
  /** Calls this client may make; the last one only for a request marked `last`. */
  maxCalls?: number;
  /**
   * Asked before a request the client makes of its own accord (an OAuth2 token): the caller's
   * pace and breaker, which may refuse it (it throws).
   */
  admit?: () => Promise<void>;
  fetch?: typeof fetch;
  /** Local clock in unix seconds; injectable for tests. */
  now?: () => number;
}

export interface RequestOptions {
  query?: Record<string, string>;
  body?: unknown;
  /** Send without X-Ovh-Consumer/-Signature (only POST /auth/credential needs this). */
  unsigned?: boolean;
  /** May use the one call kept back from maxCalls (the zone refresh that publishes the rest). */
  last?: boolean;
}

/**
 * OVH calls one client makes at once. A Worker invocation keeps at most six connections open
 * (Cloudflare's limits page, 2026-11); more would only queue inside the runtime.
 */
export const MAX_PARALLEL = 6;

/** Server time minus local time, per endpoint, kept for the isolate's life. */
interface Clock {
  /** Counts re-syncs, so calls that failed together re-sync once. */
  generation: number;
  pending: Promise<number>;
  delta?: number;
}
const clocks = new Map<string, Clock>();

/** OAuth2 bearer tokens per endpoint and client id, kept for the isolate's life until they expire. */
const tokens = new Map<string, { value: Promise<string>; expiresAt?: number }>();
const tokenKey = (endpoint: string, c: OAuth2Credentials) => `${endpoint} ${c.clientId}`;

export class OvhClient {
  readonly calls: OvhCall[] = [];
  private readonly fetchImpl: typeof fetch;
  private readonly now: () => number;

  constructor(private readonly options: OvhClientOptions) {
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
    this.now = options.now ?? (() => Math.floor(Date.now() / 1000));
  }

  /** Calls sent or about to be (the budget counts them before they finish). */
  private sent = 0;
  /** Calls in flight, and calls waiting for one of MAX_PARALLEL slots. */
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  private async slot(): Promise<void> {
    if (this.active < MAX_PARALLEL) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }

  get queryIds(): string[] {
    return this.calls.flatMap((c) => (c.queryId ? [c.queryId] : []));
  }

  /** Call the API; on an "invalid signature" answer, re-sync the clock once and try again. */
  async request<T>(method: HttpMethod, path: string, options: RequestOptions = {}): Promise<T> {
    const { credentials } = this.options;
    if ("clientId" in credentials) {
      try {
        return await this.send<T>(method, path, options);
      } catch (error) {
        // An expired or revoked token: fetch a new one once.
        if (!(error instanceof OvhError && error.kind === "http" && error.status === 401)) throw error;
        tokens.delete(tokenKey(this.options.endpoint, credentials));
        return this.send<T>(method, path, options);
      }
    }
    const generation = clocks.get(this.options.endpoint)?.generation ?? 0;
    try {
      return await this.send<T>(method, path, options);
    } catch (error) {
      if (!(error instanceof OvhError) || !error.clockSuspect || options.unsigned) throw error;
      // Parallel calls that fail together share one re-sync.
      const clock = clocks.get(this.options.endpoint);
      if (!clock || clock.generation === generation) await this.syncTime();
      else await clock.pending;
      return this.send<T>(method, path, options);
    }
  }

  /** Fetch /auth/time and remember server − local for this endpoint (one fetch at a time). */
  syncTime(): Promise<number> {
    const endpoint = this.options.endpoint;
    const previous = clocks.get(endpoint);
    const pending = (async () => {
      const server = await this.send<unknown>("GET", "/auth/time", { unsigned: true }, false);
      if (typeof server !== "number" || !Number.isFinite(server)) {
        throw new OvhError("bad-response", "GET", "/auth/time", 200, "the server time is not a number");
      }
      return Math.round(server) - this.now();
    })();
    const clock: Clock = { generation: (previous?.generation ?? 0) + 1, pending };
    clocks.set(endpoint, clock);
    pending.then(
      (delta) => {
        clock.delta = delta;
      },
      () => {
        if (clocks.get(endpoint) === clock) clocks.delete(endpoint);
      },
    );
    return pending;
  }

  /** A bearer token for the service account, fetched once and reused until a minute before it expires. */
  private token(credentials: OAuth2Credentials): Promise<string> {
    const key = tokenKey(this.options.endpoint, credentials);
    const cached = tokens.get(key);
    if (cached && (cached.expiresAt === undefined || cached.expiresAt > Date.now())) return cached.value;
    // While in flight (no expiresAt yet) the entry is shared by parallel calls.
    const entry: { value: Promise<string>; expiresAt?: number } = {
      value: this.fetchToken(credentials).then(({ token, expiresAt }) => {
        entry.expiresAt = expiresAt;
        return token;
      }),
    };
    tokens.set(key, entry);
    entry.value.catch(() => {
      if (tokens.get(key) === entry) tokens.delete(key);
    });
    return entry.value;
  }

  /** POST the client credentials to the token URL: the token, and when to stop using it. */
  private async fetchToken(credentials: OAuth2Credentials): Promise<{ token: string; expiresAt: number }> {
    const path = "/auth/oauth2/token";
    const url = oauth2TokenUrl(this.options.endpoint) ?? "";
    await this.options.admit?.(); // an OVH call like any other: paced, and refused while the breaker is open
    this.sent++; // a subrequest like any other
    const basic = btoa(`${credentials.clientId}:${credentials.clientSecret}`);
    const { response, text } = await this.exchange("POST", path, url, {
      method: "POST",
      headers: {
        Authorization: `Basic ${basic}`,
        "Content-Type": "application/x-www-form-urlencoded",
        Accept: "application/json",
      },
      body: "grant_type=client_credentials&scope=all",
    });
    const data = parseJson(text);
    const body = isObject(data) ? data : {};
    if (!response.ok || typeof body.access_token !== "string") {
      const message = typeof body.message === "string" ? body.message : `${body.error ?? "no access_token"}`;
      throw new OvhError("http", "POST", path, response.status, `no token: ${message}`);
    }
    const lifetime = typeof body.expires_in === "number" ? body.expires_in : 3600;
    return { token: body.access_token, expiresAt: Date.now() + Math.max(lifetime - 60, 0) * 1000 };
  }

  private async timestamp(): Promise<number> {
    const clock = clocks.get(this.options.endpoint);
    const delta = clock?.delta ?? (clock ? await clock.pending : await this.syncTime());
    return this.now() + delta;
  }

  /** One call: its URL, its credentials, a place in the budget, the exchange, and OVH's answer read. */
  private async send<T>(
    method: HttpMethod,
    path: string,
    options: RequestOptions,
    withAuth = true,
  ): Promise<T> {
    const url = new URL(this.options.endpoint + path);
    for (const [k, v] of Object.entries(options.query ?? {})) url.searchParams.append(k, v);
    const body = options.body === undefined ? "" : JSON.stringify(options.body);
    const headers: Record<string, string> = {
      Accept: "application/json",
      ...(body ? { "Content-Type": "application/json" } : {}),
      ...(withAuth ? await this.credentialHeaders(method, url.href, body, options.unsigned) : {}),
    };
    this.spend(method, path, options.last);
    const { response, text } = await this.exchange(method, path, url.href, {
      method,
      headers,
      body: body || undefined,
    });
    return readAnswer<T>(method, path, response, text);
  }

  /** A bearer token, or the application key and (unless `unsigned`) the call's signature. */
  private async credentialHeaders(
    method: HttpMethod,
    href: string,
    body: string,
    unsigned: boolean | undefined,
  ): Promise<Record<string, string>> {
    const credentials = this.options.credentials;
    if ("clientId" in credentials) return { Authorization: `Bearer ${await this.token(credentials)}` };
    const { applicationKey, applicationSecret, consumerKey } = credentials;
    if (unsigned) return { "X-Ovh-Application": applicationKey };
    const timestamp = await this.timestamp();
    const signature = await signRequest({
      applicationSecret,
      consumerKey,
      method,
      url: href,
      body,
      timestamp,
    });
    return {
      "X-Ovh-Application": applicationKey,
      "X-Ovh-Consumer": consumerKey,
      "X-Ovh-Timestamp": String(timestamp),
      "X-Ovh-Signature": signature,
    };
  }

  /** Count a call against the budget, or refuse it unsent (the last call is kept for a `last` one). */
  private spend(method: HttpMethod, path: string, last: boolean | undefined): void {
    const budget = (this.options.maxCalls ?? Number.POSITIVE_INFINITY) - (last ? 0 : 1);
    if (this.sent >= budget) {
      throw new OvhError(
        "not-sent",
        method,
        path,
        0,
        notSent(`this report used its ${this.options.maxCalls} OVH calls; the next report goes on`),
      );
    }
    this.sent++;
  }

  /**
   * Send a request within MAX_PARALLEL and the time-out, and read its whole answer; the call is
   * kept for the log line. No answer in time is a `timeout` (a hung OVH, which opens the breaker),
   * any other failure to get one a `network` error.
   */
  private async exchange(
    method: HttpMethod,
    path: string,
    href: string,
    init: RequestInit,
  ): Promise<{ response: Response; text: string }> {
    await this.slot();
    const started = Date.now();
    const signal = AbortSignal.timeout(this.options.timeoutMs);
    let response: Response;
    let text: string;
    try {
      response = await this.fetchImpl(href, { ...init, signal });
      text = await response.text();
    } catch (error) {
      this.calls.push({ method, path, status: 0, ms: Date.now() - started });
      if (signal.aborted)
        throw new OvhError("timeout", method, path, 0, `no answer within ${this.options.timeoutMs} ms`);
      throw new OvhError("network", method, path, 0, `network error: ${messageOf(error)}`);
    } finally {
      this.release();
    }
    const queryId = response.headers.get("X-Ovh-QueryId") ?? undefined;
    this.calls.push({ method, path, status: response.status, queryId, ms: Date.now() - started });
    return { response, text };
  }
}

/** OVH's answer: its JSON, or an error with OVH's message (never an HTML page) and query id. */
function readAnswer<T>(method: HttpMethod, path: string, response: Response, text: string): T {
  const queryId = response.headers.get("X-Ovh-QueryId") ?? undefined;
  const data = parseJson(text);
  if (!response.ok) {
    const message =
      isObject(data) && typeof data.message === "string"
        ? data.message
        : `${response.statusText || "error"} (${(response.headers.get("Content-Type") ?? "no content type").split(";")[0]} body)`;
    throw new OvhError("http", method, path, response.status, message, queryId);
  }
  if (data === NOT_JSON)
    throw new OvhError("bad-response", method, path, response.status, "the answer is not JSON", queryId);
  return data as T;
}

const NOT_JSON = Symbol("not JSON");

/** A body's JSON (null when empty), or NOT_JSON. */
function parseJson(text: string): unknown {
  try {
    return text === "" ? null : JSON.parse(text);
  } catch {
    return NOT_JSON;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null;
}

/** Forget cached clock deltas (tests). */
export function resetTimeDeltas(): void {
  clocks.clear();
  tokens.clear();
}
