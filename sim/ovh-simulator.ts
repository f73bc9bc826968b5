/**
 * An OVH API simulator over real HTTP (node:http only), for tests, the local demo, the
 * setup CLI and benchmarks. It follows docs/reference/ovh-api.md: request signing,
 * consumer keys and access rules, DNS zone records with a written and a published ("live")
 * state, the consumer-key creation flow and OAuth2 service accounts.
 *
 * Layout: pure helpers (signature, access rules, validation) first, then the in-memory model
 * and its HTTP routes, then the one function that writes replies. The control API under
 * `/_sim/` lets shell scripts drive the same state over HTTP.
 */
import { createHash, randomBytes, randomInt, timingSafeEqual } from "node:crypto";
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
  STATUS_CODES,
} from "node:http";
import { type AddressInfo, isIPv6, type Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import {
  DNS_FAULTS,
  type DnsOptions,
  type DnsSimulator,
  isDnsFault,
  startDnsServers,
  type ZoneSource,
} from "./dns";

// ---------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------

export interface SimOptions {
  /** Interface to listen on; default "127.0.0.1". */
  host?: string;
  /** Default 0 (ephemeral). */
  port?: number;
  /** Default "/1.0"; "/v1" is always served as an alias. */
  basePath?: string;
  /** Added before every answer (API and auth routes, not /_sim); default 0. */
  latencyMs?: number;
  /** Server clock = real clock + skew; default 0. */
  clockSkewSeconds?: number;
  /** Accepted |X-Ovh-Timestamp - server time|; default 180. */
  maxDriftSeconds?: number;
  /** The name servers (sim/dns.ts): their first port (default 0: any) and names. */
  dns?: DnsOptions;
}

export interface SimRecord {
  id: number;
  zone: string;
  fieldType: string;
  subDomain: string;
  target: string;
  ttl: number;
}

export type CallKind =
  | "auth-time"
  | "list"
  | "get"
  | "create"
  | "update"
  | "delete"
  | "refresh"
  | "credential"
  | "current-credential"
  | "other";

export interface CallLogEntry {
  seq: number;
  /** Date.now() when received. */
  at: number;
  method: string;
  /** Without base path and query, e.g. "/domain/zone/example.test/record". Routes outside the
   * base path (validation page, OAuth2 token) are logged with their full path. */
  path: string;
  query: Record<string, string>;
  /** Parsed JSON body, or undefined. */
  body: unknown;
  /** 0 while unanswered, and for "hang" and "reset" faults. */
  status: number;
  queryId: string;
  /** Which credential was used (never a secret). */
  applicationKey?: string;
  consumerKey?: string;
  /** OAuth2 client id, for calls made with a bearer token or to the token endpoint. */
  clientId?: string;
  kind: CallKind;
  /** Name of the injected fault if one answered. */
  fault?: string;
  /** Why the simulator refused the call, in more detail than the public message. */
  reason?: string;
}

export type Fault =
  | { kind: "status"; status: number; body?: string; contentType?: string }
  | { kind: "hang" }
  /** The call takes effect, then its answer never comes (a time-out after the write landed). */
  | { kind: "lost" }
  | { kind: "invalid-json" }
  | { kind: "reset" };

export interface FaultRule {
  method?: string;
  /** Matched against CallLogEntry.path; a string matches exactly. */
  path?: RegExp | string;
  /** Default Infinity. */
  times?: number;
  /** The share of matching calls that fail (0 to 1, drawn per call); default 1 (every one). */
  chance?: number;
  fault: Fault;
  name?: string;
}

/**
 * Answers real OVH has been seen to give (docs/reference/ovh-api.md, "Quirks a careful client
 * handles"), off by default.
 */
export interface Quirks {
  /** POST …/record answers the record it made with id 0 (a known OVH bug). */
  createIdZero?: boolean;
  /** How POST …/refresh answers: 200 `null` (the default), 204 No Content, or 200 with an empty body. */
  refreshAnswer?: "null" | "204" | "empty";
  /** The first GET of a record the API created answers 404, as if it did not exist yet. */
  readAfterCreate404?: boolean;
}

export interface AccessRule {
  method: string;
  path: string;
}

export type CredentialState = "validated" | "pendingValidation" | "expired" | "refused";

export interface OvhSimulator {
  /** API base URL, e.g. "http://127.0.0.1:41234/1.0" (what OVH_ENDPOINT is set to). */
  readonly url: string;
  /** "http://127.0.0.1:41234" */
  readonly origin: string;
  /** The zones' name servers over DNS (sim/dns.ts); GET /domain/zone/{zone} lists their addresses. */
  readonly dns: DnsSimulator;
  addApplication(key: string, secret: string): void;
  /** Rules default to full access: GET, POST, PUT and DELETE on "/*". */
  addConsumerKey(
    consumerKey: string,
    o: { applicationKey: string; state?: CredentialState; rules?: AccessRule[] },
  ): void;
  /** What the user does on the validation page. */
  validateCredential(consumerKey: string): void;
  setCredentialState(consumerKey: string, state: CredentialState): void;
  /** An OAuth2 client; `zones` limits the zones its IAM policy covers (default: all). */
  addServiceAccount(clientId: string, secret: string, o?: { zones?: string[] }): void;
  addZone(zone: string): void;
  /** Returns the id. `live` (default true) also publishes it. */
  addRecord(
    zone: string,
    r: { fieldType: string; subDomain: string; target: string; ttl?: number },
    o?: { live?: boolean },
  ): number;
  /** A deletion "by hand" in the control panel; `live` (default true) also unpublishes it. */
  deleteRecord(zone: string, id: number, o?: { live?: boolean }): void;
  /** An edit "by hand" in the control panel; `live` (default true) also publishes it. */
  editRecord(
    zone: string,
    id: number,
    change: { target?: string; ttl?: number },
    o?: { live?: boolean },
  ): void;
  /**
   * An edit of the zone in text mode in OVH's console: every record is made anew with a new id,
   * written and live alike.
   */
  renumberRecords(zone: string): void;
  /** Written state (what the API serves), sorted by id. */
  records(zone: string): SimRecord[];
  /** Published state: as of the last refresh (or seeded live), sorted by id. */
  liveRecords(zone: string): SimRecord[];
  calls(filter?: Partial<Pick<CallLogEntry, "method" | "kind">>): CallLogEntry[];
  resetCalls(): void;
  injectFault(rule: FaultRule): void;
  clearFaults(): void;
  setLatency(ms: number): void;
  setClockSkew(seconds: number): void;
  /** Switch OVH's quirks on or off (each key given replaces its value). */
  setQuirks(quirks: Quirks): void;
  /** Also ends hung requests and open sockets. */
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------
// Pure helpers
// ---------------------------------------------------------------------------------------

/** `"$1$" + sha1hex(secret+"+"+ck+"+"+METHOD+"+"+url+"+"+body+"+"+timestamp)`, body as raw bytes. */
export function ovhSignature(
  appSecret: string,
  consumerKey: string,
  method: string,
  url: string,
  body: string | Uint8Array,
  timestamp: string | number,
): string {
  return `$1$${createHash("sha1")
    .update(`${appSecret}+${consumerKey}+${method}+${url}+`)
    .update(body)
    .update(`+${timestamp}`)
    .digest("hex")}`;
}

/**
 * OVH access-rule matching: the same method, and the whole path matched by the rule's, in which
 * each `*` stands for any run of characters (`/` included) and every other character for
 * itself. Written apart from the CLI's matcher (scripts/cli/rules.ts), which the tests check
 * against this one: a literal head, a literal tail, and the pieces between found in order.
 */
export function accessRuleMatches(rule: AccessRule, method: string, path: string): boolean {
  if (rule.method !== method) return false;
  const pieces = rule.path.split("*");
  const head = pieces.shift() ?? "";
  if (pieces.length === 0) return path === head;
  const tail = pieces.pop() ?? "";
  const end = path.length - tail.length;
  if (end < head.length || !path.startsWith(head) || !path.endsWith(tail)) return false;
  let at = head.length;
  for (const piece of pieces) {
    const found = path.indexOf(piece, at);
    if (found < 0 || found + piece.length > end) return false;
    at = found + piece.length;
  }
  return true;
}

export const FULL_ACCESS_RULES: readonly AccessRule[] = ["GET", "POST", "PUT", "DELETE"].map((method) => ({
  method,
  path: "/*",
}));

/** OVH's NamedResolutionFieldTypeEnum. */
const FIELD_TYPES = new Set(
  "A AAAA CAA CNAME DKIM DMARC DNAME HTTPS LOC MX NAPTR NS PTR SPF SRV SSHFP SVCB TLSA TXT".split(" "),
);

const IPV4_OCTET = "(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
const IPV4 = new RegExp(`^${IPV4_OCTET}(\\.${IPV4_OCTET}){3}$`);

function enumError(value: string): string {
  return `[fieldType] Given data (${value}) does not belong to the NamedResolutionFieldTypeEnum enumeration`;
}

/** The 400 message OVH would give for this target, or undefined when it is acceptable. */
function targetError(fieldType: string, target: string): string | undefined {
  if (fieldType === "A" && !IPV4.test(target)) return `Invalid IPv4 address: ${target}`;
  if (fieldType === "AAAA" && (!isIPv6(target) || target.includes("%"))) {
    return `Invalid IPv6 address: ${target}`;
  }
  if (target === "") return "[target] Property is mandatory";
  return undefined;
}

function isTtl(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0 && v <= 2 ** 31 - 1;
}

function classFor(status: number): string {
  const known: Record<number, string> = {
    400: "Client::BadRequest",
    401: "Client::Unauthorized",
    403: "Client::Forbidden",
    404: "Client::NotFound",
    405: "Client::MethodNotAllowed",
    409: "Client::Conflict",
    413: "Client::RequestEntityTooLarge",
    429: "Client::TooManyRequests",
    500: "Server::InternalServerError",
    502: "Server::BadGateway",
    503: "Server::ServiceUnavailable",
    504: "Server::GatewayTimeout",
  };
  return known[status] ?? (status >= 500 ? "Server::Error" : "Client::Error");
}

function randomAlnum(length: number): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  let out = "";
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function parseJson(raw: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(raw) };
  } catch {
    return { ok: false };
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c,
  );
}

function faultName(rule: FaultRule): string {
  if (rule.name) return rule.name;
  return rule.fault.kind === "status" ? `status-${rule.fault.status}` : rule.fault.kind;
}

/** Parses a FaultRule sent as JSON to the control API (a path starting with "^" is a RegExp). */
export function faultRuleFromJson(v: unknown): FaultRule {
  if (!isObject(v) || !isObject(v.fault)) throw new Error("a fault rule needs a `fault` object");
  const f = v.fault;
  let fault: Fault;
  switch (f.kind) {
    case "status":
      if (typeof f.status !== "number" || f.status < 100 || f.status > 599) {
        throw new Error("a status fault needs a `status` between 100 and 599");
      }
      fault = { kind: "status", status: f.status };
      if (typeof f.body === "string") fault.body = f.body;
      if (typeof f.contentType === "string") fault.contentType = f.contentType;
      break;
    case "hang":
    case "lost":
    case "invalid-json":
    case "reset":
      fault = { kind: f.kind };
      break;
    default:
      throw new Error("fault.kind must be status, hang, lost, invalid-json or reset");
  }
  const rule: FaultRule = { fault };
  if (typeof v.method === "string") rule.method = v.method;
  if (typeof v.path === "string") rule.path = v.path.startsWith("^") ? new RegExp(v.path) : v.path;
  if (typeof v.times === "number") rule.times = v.times;
  if (typeof v.chance === "number") rule.chance = v.chance;
  if (typeof v.name === "string") rule.name = v.name;
  return rule;
}

// ---------------------------------------------------------------------------------------
// Replies: one type, one writer
// ---------------------------------------------------------------------------------------

type Reply =
  | { type: "json"; status: number; body: unknown }
  | { type: "raw"; status: number; body: string; contentType: string }
  | { type: "hang" }
  | { type: "reset" };

const JSON_TYPE = "application/json; charset=utf-8";

function json(body: unknown, status = 200): Reply {
  return { type: "json", status, body };
}

function ovhError(status: number, message: string): Reply {
  return json({ class: classFor(status), message }, status);
}

function replyStatus(r: Reply): number {
  return r.type === "json" || r.type === "raw" ? r.status : 0;
}

const MESSAGES = {
  invalidApp: "Invalid application key",
  invalidSignature: "Invalid signature",
  invalidCredential: "This credential is not valid",
  notGranted: "This call has not been granted",
  iamDenied: "User not granted for this request",
  login: "You must login first",
  noService: "This service does not exist",
  invalidUrl: "Got an invalid (or empty) URL",
  invalidJson: "Invalid JSON received",
} as const;

// ---------------------------------------------------------------------------------------
// Model
// ---------------------------------------------------------------------------------------

interface Application {
  secret: string;
  id: number;
}

interface Credential {
  applicationKey: string;
  state: CredentialState;
  rules: AccessRule[];
  id: number;
  creation: Date;
  expiration: Date | null;
  lastUse: Date | null;
}

interface ServiceAccount {
  secret: string;
  zones: Set<string> | undefined;
}

interface Zone {
  name: string;
  written: Map<number, SimRecord>;
  live: Map<number, SimRecord>;
  /** Ids created through the API and not read since (the readAfterCreate404 quirk). */
  unread: Set<number>;
  /** Each published state, oldest first (at most PUBLISHED_KEPT), for the name servers. */
  published: { at: number; serial: number; records: SimRecord[] }[];
}

const PUBLISHED_KEPT = 200;

interface ActiveFault {
  rule: FaultRule;
  remaining: number;
}

/** Who made a call, once authenticated. */
type Principal =
  | { type: "none" }
  | { type: "application"; applicationKey: string }
  | { type: "consumer"; consumerKey: string; credential: Credential }
  | { type: "bearer"; clientId: string };

interface Call {
  method: string;
  /** Path segments, decoded, without base path for API calls. */
  segments: string[];
  path: string;
  query: URLSearchParams;
  rawUrl: string;
  rawBody: Buffer;
  headers: IncomingHttpHeaders;
  entry: CallLogEntry;
}

interface Route {
  kind: CallKind;
  /** none: unsigned; application: X-Ovh-Application only; signed: full signature or bearer. */
  auth: "none" | "application" | "signed";
  run(call: Call, who: Principal): Reply;
}

const MAX_BODY_BYTES = 1 << 20;
const TOKEN_LIFETIME_SECONDS = 3599;

function header(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

function copy(r: SimRecord): SimRecord {
  return {
    id: r.id,
    zone: r.zone,
    fieldType: r.fieldType,
    subDomain: r.subDomain,
    target: r.target,
    ttl: r.ttl,
  };
}

/** A record as OVH serialises it, key order included. */
function recordJson(r: SimRecord) {
  return {
    target: r.target,
    ttl: r.ttl,
    zone: r.zone,
    fieldType: r.fieldType,
    id: r.id,
    subDomain: r.subDomain,
  };
}

function sorted(m: Map<number, SimRecord>): SimRecord[] {
  return [...m.values()].sort((a, b) => a.id - b.id).map(copy);
}

class Simulator implements OvhSimulator, ZoneSource {
  url = "";
  origin = "";
  dns = undefined as unknown as DnsSimulator; // set by startOvhSimulator before it returns

  private readonly apps = new Map<string, Application>();
  private readonly credentials = new Map<string, Credential>();
  private readonly credentialTokens = new Map<string, string>();
  private readonly serviceAccounts = new Map<string, ServiceAccount>();
  private readonly tokens = new Map<string, { clientId: string; expiresAt: number }>();
  private readonly zones = new Map<string, Zone>();
  private log: CallLogEntry[] = [];
  private faults: ActiveFault[] = [];
  private seq = 0;
  private nextId = 5_000_000_000 + randomInt(1_000_000);
  private nextAppId = 100_000 + randomInt(100_000);
  private nextCredentialId = 1_000_000 + randomInt(1_000_000);
  private readonly instance = randomBytes(4).toString("hex");
  private latencyMs: number;
  private skewSeconds: number;
  private quirks: Quirks = {};
  private readonly maxDrift: number;
  private readonly basePaths: string[];
  private readonly closing = new AbortController();
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly server: Server,
    opts: SimOptions,
  ) {
    this.latencyMs = opts.latencyMs ?? 0;
    this.skewSeconds = opts.clockSkewSeconds ?? 0;
    this.maxDrift = opts.maxDriftSeconds ?? 180;
    const base = `/${(opts.basePath ?? "/1.0").replace(/^\/+|\/+$/g, "")}`;
    this.basePaths = [...new Set([base, "/v1"])];
    server.on("connection", (s: Socket) => {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
    });
    server.on("request", (req: IncomingMessage, res: ServerResponse) => {
      this.handle(req, res).catch(() => {
        if (!res.headersSent && !res.destroyed) {
          this.write(res, ovhError(500, "Internal server error"), undefined);
        }
      });
    });
  }

  listening(opts: SimOptions): void {
    const { port } = this.server.address() as AddressInfo;
    const host = opts.host ?? "127.0.0.1";
    const shown = host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "::1" : host;
    this.origin = `http://${shown.includes(":") ? `[${shown}]` : shown}:${port}`;
    this.url = `${this.origin}${this.basePaths[0]}`;
  }

  // --- setup -----------------------------------------------------------------------------

  addApplication(key: string, secret: string): void {
    this.apps.set(key, { secret, id: this.nextAppId++ });
  }

  addConsumerKey(
    consumerKey: string,
    o: { applicationKey: string; state?: CredentialState; rules?: AccessRule[] },
  ): void {
    if (!this.apps.has(o.applicationKey)) throw new Error(`unknown application key ${o.applicationKey}`);
    const state = o.state ?? "validated";
    this.credentials.set(consumerKey, {
      applicationKey: o.applicationKey,
      state,
      rules: (o.rules ?? FULL_ACCESS_RULES).map((r) => ({ method: r.method, path: r.path })),
      id: this.nextCredentialId++,
      creation: new Date(this.nowMs()),
      expiration: null,
      lastUse: null,
    });
  }

  validateCredential(consumerKey: string): void {
    this.setCredentialState(consumerKey, "validated");
  }

  setCredentialState(consumerKey: string, state: CredentialState): void {
    const c = this.credentials.get(consumerKey);
    if (!c) throw new Error("unknown consumer key");
    c.state = state;
  }

  addServiceAccount(clientId: string, secret: string, o?: { zones?: string[] }): void {
    this.serviceAccounts.set(clientId, {
      secret,
      zones: o?.zones ? new Set(o.zones.map((z) => z.toLowerCase())) : undefined,
    });
  }

  addZone(zone: string): void {
    const name = zone.toLowerCase();
    if (this.zones.has(name)) return;
    const z: Zone = { name, written: new Map(), live: new Map(), unread: new Set(), published: [] };
    this.zones.set(name, z);
    this.publish(z);
  }

  addRecord(
    zone: string,
    r: { fieldType: string; subDomain: string; target: string; ttl?: number },
    o?: { live?: boolean },
  ): number {
    const z = this.zoneOrThrow(zone);
    const rec = this.newRecord(z, r.fieldType, r.subDomain, r.target, r.ttl ?? 0);
    if (o?.live ?? true) this.publish(z, () => z.live.set(rec.id, copy(rec)));
    return rec.id;
  }

  deleteRecord(zone: string, id: number, o?: { live?: boolean }): void {
    const z = this.zoneOrThrow(zone);
    if (!z.written.delete(id)) throw new Error(`no record ${id} in ${zone}`);
    if (o?.live ?? true) this.publish(z, () => z.live.delete(id));
  }

  editRecord(
    zone: string,
    id: number,
    change: { target?: string; ttl?: number },
    o?: { live?: boolean },
  ): void {
    const z = this.zoneOrThrow(zone);
    const rec = z.written.get(id);
    if (!rec) throw new Error(`no record ${id} in ${zone}`);
    Object.assign(rec, change);
    if (o?.live ?? true) this.publish(z, () => z.live.set(id, copy(rec)));
  }

  renumberRecords(zone: string): void {
    const z = this.zoneOrThrow(zone);
    const written = new Map<number, SimRecord>();
    const live = new Map<number, SimRecord>();
    for (const [id, rec] of z.written) {
      this.nextId += 1 + randomInt(1000);
      written.set(this.nextId, { ...copy(rec), id: this.nextId });
      const served = z.live.get(id);
      if (served) live.set(this.nextId, { ...copy(served), id: this.nextId });
    }
    z.written = written;
    this.publish(z, () => {
      z.live = live;
    });
    z.unread.clear();
  }

  records(zone: string): SimRecord[] {
    return sorted(this.zoneOrThrow(zone).written);
  }

  liveRecords(zone: string): SimRecord[] {
    return sorted(this.zoneOrThrow(zone).live);
  }

  calls(filter?: Partial<Pick<CallLogEntry, "method" | "kind">>): CallLogEntry[] {
    return this.log
      .filter(
        (e) => (!filter?.method || e.method === filter.method) && (!filter?.kind || e.kind === filter.kind),
      )
      .map((e) => structuredClone(e));
  }

  resetCalls(): void {
    this.log = [];
  }

  injectFault(rule: FaultRule): void {
    this.faults.push({ rule, remaining: rule.times ?? Number.POSITIVE_INFINITY });
  }

  clearFaults(): void {
    this.faults = [];
  }

  setLatency(ms: number): void {
    this.latencyMs = Math.max(0, ms);
  }

  setClockSkew(seconds: number): void {
    this.skewSeconds = seconds;
  }

  setQuirks(quirks: Quirks): void {
    this.quirks = { ...this.quirks, ...quirks };
  }

  zoneNames(): string[] {
    return [...this.zones.keys()];
  }

  publishedAt(zone: string, asOf: number): { serial: number; records: SimRecord[] } | undefined {
    const list = this.zones.get(zone)?.published ?? [];
    return list.findLast((p) => p.at <= asOf) ?? list[0];
  }

  async close(): Promise<void> {
    await this.dns?.close();
    this.closing.abort();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  // --- internals -------------------------------------------------------------------------

  private nowMs(): number {
    return Date.now() + this.skewSeconds * 1000;
  }

  private serverTime(): number {
    return Math.floor(this.nowMs() / 1000);
  }

  private zoneOrThrow(zone: string): Zone {
    const z = this.zones.get(zone.toLowerCase());
    if (!z) throw new Error(`unknown zone ${zone}`);
    return z;
  }

  private newRecord(z: Zone, fieldType: string, subDomain: string, target: string, ttl: number): SimRecord {
    this.nextId += 1 + randomInt(1000);
    const rec: SimRecord = { id: this.nextId, zone: z.name, fieldType, subDomain, target, ttl };
    z.written.set(rec.id, rec);
    return rec;
  }

  /** Change what the zone serves (its live state), and keep the result for the name servers. */
  private publish(z: Zone, change?: () => void): void {
    change?.();
    const serial = (z.published.at(-1)?.serial ?? 0) + 1;
    z.published.push({ at: Date.now(), serial, records: sorted(z.live) });
    if (z.published.length > PUBLISHED_KEPT) z.published.shift();
  }

  private takeFault(call: Call): FaultRule | undefined {
    for (const f of this.faults) {
      const r = f.rule;
      if (f.remaining <= 0) continue;
      if (r.chance !== undefined && Math.random() >= r.chance) continue;
      if (r.method && r.method.toUpperCase() !== call.method) continue;
      if (r.path !== undefined) {
        if (r.path instanceof RegExp) r.path.lastIndex = 0; // a /g or /y RegExp is stateful
        const hit = typeof r.path === "string" ? r.path === call.path : r.path.test(call.path);
        if (!hit) continue;
      }
      f.remaining--;
      return r;
    }
    return undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const arrived = performance.now();
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    }
    const rawBody = Buffer.concat(chunks);
    const rawUrl = req.url ?? "/";
    const q = rawUrl.indexOf("?");
    const rawPath = q < 0 ? rawUrl : rawUrl.slice(0, q);
    const query = new URLSearchParams(q < 0 ? "" : rawUrl.slice(q + 1));
    const method = (req.method ?? "GET").toUpperCase();

    if (rawPath === "/_sim" || rawPath.startsWith("/_sim/")) {
      this.write(res, this.control(method, rawPath.split("/").slice(2).map(decodeSegment), query, rawBody));
      return;
    }

    const base = this.basePaths.find((b) => rawPath === b || rawPath.startsWith(`${b}/`));
    const segments = (base ? rawPath.slice(base.length) : rawPath).split("/").slice(1).map(decodeSegment);
    const path = `/${segments.join("/")}`;
    const route = base ? this.apiRoute(method, segments) : this.originRoute(method, segments);

    const seq = ++this.seq;
    const entry: CallLogEntry = {
      seq,
      at: Date.now(),
      method,
      path,
      query: Object.fromEntries(query),
      body: route?.kind === "other" && !base ? undefined : loggedBody(rawBody),
      status: 0,
      queryId: `EU.ext-sim.${this.instance}.${seq}`,
      kind: route?.kind ?? "other",
    };
    const appKey = header(req.headers, "x-ovh-application");
    const consumerKey = header(req.headers, "x-ovh-consumer");
    if (appKey !== undefined) entry.applicationKey = appKey;
    if (consumerKey !== undefined) entry.consumerKey = consumerKey;
    this.log.push(entry);
    const call: Call = { method, segments, path, query, rawUrl, rawBody, headers: req.headers, entry };

    const fault = this.takeFault(call);
    if (fault) entry.fault = faultName(fault);
    let reply: Reply;
    try {
      if (fault && fault.fault.kind !== "lost") reply = faultReply(fault.fault);
      else if (size > MAX_BODY_BYTES) reply = ovhError(413, "Request body too large");
      else if (!route) reply = ovhError(404, MESSAGES.invalidUrl);
      else {
        const who = this.authenticate(call, route);
        reply = "reply" in who ? who.reply : route.run(call, who.principal);
        if (fault) reply = { type: "hang" }; // "lost": applied, never answered
      }
    } catch (err) {
      entry.reason = `simulator error: ${err instanceof Error ? err.message : String(err)}`;
      reply = ovhError(500, "Internal server error");
    }
    entry.status = replyStatus(reply);
    if (reply.type === "json" && reply.status >= 400 && entry.reason === undefined && isObject(reply.body)) {
      const m = reply.body.message;
      if (typeof m === "string") entry.reason = m;
    }
    // The call takes effect on arrival, as at a real server; the answer leaves one round trip
    // after the request arrived: not sooner, and, as near as Node can time it, not later.
    if (!(await this.until(arrived + this.latencyMs))) return; // closing
    this.write(res, reply, entry.queryId);
  }

  /**
   * Wait until performance.now() reaches `due`; false when the simulator closes first. Node's
   * timers count whole milliseconds from the loop's cached time, so they cover all but the
   * last 2 ms, and event-loop turns the rest.
   */
  private async until(due: number): Promise<boolean> {
    for (let left = due - performance.now(); left > 0; left = due - performance.now()) {
      if (this.closing.signal.aborted) return false;
      try {
        if (left > 2) await sleep(Math.floor(left - 2), undefined, { signal: this.closing.signal });
        else await new Promise((resolve) => setImmediate(resolve));
      } catch {
        return false;
      }
    }
    return !this.closing.signal.aborted;
  }

  /** The single place that turns a Reply into bytes on the wire. */
  private write(res: ServerResponse, reply: Reply, queryId?: string): void {
    switch (reply.type) {
      case "hang":
        return; // never answered; close() destroys the socket
      case "reset":
        res.socket?.resetAndDestroy();
        return;
      case "json":
      case "raw": {
        const body = reply.type === "json" ? JSON.stringify(reply.body) : reply.body;
        const headers: Record<string, string | number> = {
          "Content-Type": reply.type === "json" ? JSON_TYPE : reply.contentType,
          "Content-Length": Buffer.byteLength(body),
        };
        if (queryId) headers["X-Ovh-QueryId"] = queryId;
        res.writeHead(reply.status, headers);
        res.end(body);
        return;
      }
    }
  }

  // --- authentication --------------------------------------------------------------------

  private authenticate(call: Call, route: Route): { principal: Principal } | { reply: Reply } {
    const e = call.entry;
    const deny = (status: number, message: string, reason?: string) => {
      if (reason) e.reason = reason;
      return { reply: ovhError(status, message) };
    };
    if (route.auth === "none") return { principal: { type: "none" } };

    const authorization = header(call.headers, "authorization");
    const appKey = e.applicationKey;
    if (route.auth === "signed" && appKey === undefined && authorization?.startsWith("Bearer ")) {
      const token = this.tokens.get(authorization.slice(7).trim());
      if (!token || token.expiresAt <= this.nowMs()) {
        return deny(401, "Invalid token", token ? "bearer token expired" : "unknown bearer token");
      }
      e.clientId = token.clientId;
      return { principal: { type: "bearer", clientId: token.clientId } };
    }

    if (appKey === undefined) return deny(401, MESSAGES.login, "no X-Ovh-Application header");
    const app = this.apps.get(appKey);
    if (!app) return deny(403, MESSAGES.invalidApp);
    if (route.auth === "application") return { principal: { type: "application", applicationKey: appKey } };

    const ck = e.consumerKey;
    if (ck === undefined) return deny(401, MESSAGES.login, "no X-Ovh-Consumer header");
    const ts = header(call.headers, "x-ovh-timestamp");
    const sig = header(call.headers, "x-ovh-signature");
    if (ts === undefined || !/^\d+$/.test(ts)) {
      return deny(400, MESSAGES.invalidSignature, "missing or malformed X-Ovh-Timestamp");
    }
    if (sig === undefined) return deny(400, MESSAGES.invalidSignature, "no X-Ovh-Signature header");
    const drift = Number(ts) - this.serverTime();
    if (Math.abs(drift) > this.maxDrift) {
      return deny(400, MESSAGES.invalidSignature, `timestamp off by ${drift}s (max ${this.maxDrift}s)`);
    }
    const proto = header(call.headers, "x-forwarded-proto") === "https" ? "https" : "http";
    const host = header(call.headers, "host") ?? new URL(this.origin).host;
    const fullUrl = `${proto}://${host}${call.rawUrl}`;
    const expected = ovhSignature(app.secret, ck, call.method, fullUrl, call.rawBody, ts);
    if (!safeEqual(sig, expected)) {
      return deny(400, MESSAGES.invalidSignature, `signature does not match ${call.method} ${fullUrl}`);
    }

    const credential = this.credentials.get(ck);
    if (!credential) return deny(403, MESSAGES.invalidCredential, "unknown consumer key");
    if (credential.applicationKey !== appKey) {
      return deny(403, MESSAGES.invalidCredential, "consumer key belongs to another application");
    }
    if (credential.state !== "validated") {
      return deny(403, MESSAGES.invalidCredential, `consumer key is ${credential.state}`);
    }
    // A key may always describe itself; the setup flow relies on it.
    if (route.kind !== "current-credential") {
      const granted = credential.rules.some((r) => accessRuleMatches(r, call.method, call.path));
      if (!granted)
        return deny(403, MESSAGES.notGranted, `no access rule covers ${call.method} ${call.path}`);
    }
    credential.lastUse = new Date(this.nowMs());
    return { principal: { type: "consumer", consumerKey: ck, credential } };
  }

  // --- routes ------------------------------------------------------------------------------

  private apiRoute(method: string, s: string[]): Route | undefined {
    const [a, b, zone, d, id, ...rest] = s;
    if (s.length === 2 && a === "auth") {
      if (b === "time" && method === "GET") {
        return { kind: "auth-time", auth: "none", run: () => json(this.serverTime()) };
      }
      if (b === "credential" && method === "POST") {
        return { kind: "credential", auth: "application", run: (c, who) => this.createCredential(c, who) };
      }
      if (b === "currentCredential" && method === "GET") {
        return { kind: "current-credential", auth: "signed", run: (_c, who) => this.currentCredential(who) };
      }
      return undefined;
    }
    if (a !== "domain" || b !== "zone" || rest.length > 0) return undefined;
    if (zone === undefined) {
      if (method !== "GET") return undefined;
      return { kind: "other", auth: "signed", run: (_c, who) => this.listZones(who) };
    }
    const inZone = (kind: CallKind, run: (z: Zone, c: Call) => Reply): Route => ({
      kind,
      auth: "signed",
      run: (c, who) => {
        if (who.type === "bearer" && !this.iamAllows(who.clientId, zone)) {
          c.entry.reason = `service account ${who.clientId} has no policy on zone ${zone}`;
          return ovhError(403, MESSAGES.iamDenied);
        }
        const z = this.zones.get(zone.toLowerCase());
        return z ? run(z, c) : ovhError(404, MESSAGES.noService);
      },
    });
    if (d === undefined) {
      return method === "GET" ? inZone("other", (z) => json(this.zoneJson(z))) : undefined;
    }
    if (d === "refresh" && id === undefined && method === "POST") {
      return inZone("refresh", (z) => {
        this.publish(z, () => {
          z.live = new Map([...z.written].map(([k, r]) => [k, copy(r)]));
        });
        const answer = this.quirks.refreshAnswer;
        if (answer === "204") return { type: "raw", status: 204, body: "", contentType: JSON_TYPE };
        if (answer === "empty") return { type: "raw", status: 200, body: "", contentType: JSON_TYPE };
        return json(null);
      });
    }
    if (d !== "record") return undefined;
    if (id === undefined) {
      if (method === "GET") return inZone("list", (z, c) => listRecords(z, c.query));
      if (method === "POST") return inZone("create", (z, c) => this.createRecord(z, c.rawBody));
      return undefined;
    }
    const withRecord = (kind: CallKind, run: (z: Zone, r: SimRecord, c: Call) => Reply) =>
      inZone(kind, (z, c) => {
        if (!/^\d+$/.test(id)) return ovhError(400, `[id] Given data (${id}) is not valid for type long`);
        const r = z.written.get(Number(id));
        return r ? run(z, r, c) : ovhError(404, `The requested object (id = ${id}) does not exist`);
      });
    if (method === "GET")
      return withRecord("get", (z, r) =>
        this.quirks.readAfterCreate404 && z.unread.delete(r.id)
          ? ovhError(404, `The requested object (id = ${r.id}) does not exist`)
          : json(recordJson(r)),
      );
    if (method === "PUT") return withRecord("update", (_z, r, c) => updateRecord(r, c.rawBody));
    if (method === "DELETE") {
      return withRecord("delete", (z, r) => {
        z.written.delete(r.id);
        return json(null);
      });
    }
    return undefined;
  }

  private originRoute(method: string, s: string[]): Route | undefined {
    if (s[0] !== "auth") return undefined;
    // The validation page: GET <origin>/auth/?credentialToken=…
    if (method === "GET" && (s.length === 1 || (s.length === 2 && s[1] === ""))) {
      return { kind: "other", auth: "none", run: (c) => this.validationPage(c.query) };
    }
    if (method === "POST" && s.length === 3 && s[1] === "oauth2" && s[2] === "token") {
      return { kind: "other", auth: "none", run: (c) => this.oauth2Token(c) };
    }
    return undefined;
  }

  /** OVH lists the zone's servers by name; the simulator's are reached by address ("127.0.0.1:PORT"). */
  private zoneJson(z: Zone) {
    return {
      name: z.name,
      hasDnsAnycast: false,
      dnssecSupported: true,
      nameServers: this.dns.servers().map((s) => s.address),
      lastUpdate: new Date(z.published.at(-1)?.at ?? Date.now()).toISOString(),
    };
  }

  private iamAllows(clientId: string, zone: string): boolean {
    const zones = this.serviceAccounts.get(clientId)?.zones;
    return !zones || zones.has(zone.toLowerCase());
  }

  private listZones(who: Principal): Reply {
    const names = [...this.zones.keys()].sort();
    return json(who.type === "bearer" ? names.filter((z) => this.iamAllows(who.clientId, z)) : names);
  }

  private createRecord(z: Zone, rawBody: Buffer): Reply {
    const parsed = parseJson(rawBody.toString("utf8"));
    if (!parsed.ok || !isObject(parsed.value)) return ovhError(400, MESSAGES.invalidJson);
    const { fieldType, subDomain, target, ttl } = parsed.value;
    if (fieldType === undefined || fieldType === null)
      return ovhError(400, "[fieldType] Property is mandatory");
    if (typeof fieldType !== "string" || !FIELD_TYPES.has(fieldType)) {
      return ovhError(400, enumError(String(fieldType)));
    }
    if (target === undefined || target === null) return ovhError(400, "[target] Property is mandatory");
    if (typeof target !== "string") return ovhError(400, "[target] Given data is not valid for type string");
    if (subDomain !== undefined && subDomain !== null && typeof subDomain !== "string") {
      return ovhError(400, "[subDomain] Given data is not valid for type string");
    }
    if (ttl !== undefined && ttl !== null && !isTtl(ttl)) {
      return ovhError(400, `[ttl] Given data (${JSON.stringify(ttl)}) is not valid for type long`);
    }
    const bad = targetError(fieldType, target);
    if (bad) return ovhError(400, bad);
    const rec = this.newRecord(z, fieldType, subDomain ?? "", target, ttl ?? 0);
    if (this.quirks.readAfterCreate404) z.unread.add(rec.id);
    return json(this.quirks.createIdZero ? { ...recordJson(rec), id: 0 } : recordJson(rec));
  }

  private createCredential(call: Call, who: Principal): Reply {
    if (who.type !== "application") return ovhError(403, MESSAGES.invalidApp);
    const parsed = parseJson(call.rawBody.toString("utf8"));
    if (!parsed.ok || !isObject(parsed.value)) return ovhError(400, MESSAGES.invalidJson);
    const { accessRules, redirection } = parsed.value;
    if (!Array.isArray(accessRules)) return ovhError(400, "[accessRules] Property is mandatory");
    const rules: AccessRule[] = [];
    for (const r of accessRules) {
      if (!isObject(r) || typeof r.path !== "string" || !r.path.startsWith("/")) {
        return ovhError(400, "[accessRules] Invalid access rule: a path starting with / is required");
      }
      if (typeof r.method !== "string" || !["GET", "POST", "PUT", "DELETE"].includes(r.method)) {
        return ovhError(400, `[accessRules] Given data (${String(r.method)}) is not a valid method`);
      }
      rules.push({ method: r.method, path: r.path });
    }
    if (redirection !== undefined && typeof redirection !== "string") {
      return ovhError(400, "[redirection] Given data is not valid for type string");
    }
    const consumerKey = randomAlnum(32);
    const token = randomAlnum(64);
    this.addConsumerKey(consumerKey, {
      applicationKey: who.applicationKey,
      state: "pendingValidation",
      rules,
    });
    this.credentialTokens.set(token, consumerKey);
    return json({
      state: "pendingValidation",
      consumerKey,
      validationUrl: `${this.origin}/auth/?credentialToken=${token}`,
    });
  }

  private currentCredential(who: Principal): Reply {
    if (who.type !== "consumer") return ovhError(403, MESSAGES.iamDenied);
    const c = who.credential;
    const app = this.apps.get(c.applicationKey);
    return json({
      status: c.state,
      rules: c.rules,
      applicationId: app?.id ?? 0,
      credentialId: c.id,
      creation: c.creation.toISOString(),
      expiration: c.expiration?.toISOString() ?? null,
      lastUse: c.lastUse?.toISOString() ?? null,
      ovhSupport: false,
      allowedIPs: null,
    });
  }

  private validationPage(query: URLSearchParams): Reply {
    const ck = this.credentialTokens.get(query.get("credentialToken") ?? "");
    const page = (status: number, title: string, text: string): Reply => ({
      type: "raw",
      status,
      contentType: "text/html; charset=utf-8",
      body: `<!doctype html><html><head><title>${title}</title></head><body><h1>${title}</h1><p>${text}</p></body></html>\n`,
    });
    if (!ck) return page(404, "Unknown credential token", "This validation link is not valid.");
    this.validateCredential(ck);
    const c = this.credentials.get(ck);
    const rules = (c?.rules ?? []).map((r) => `${escapeHtml(r.method)} ${escapeHtml(r.path)}`).join("<br>");
    return page(200, "Credential validated", `The application may now use these rights:<br>${rules}`);
  }

  private oauth2Token(call: Call): Reply {
    const form = new URLSearchParams(call.rawBody.toString("utf8"));
    call.entry.body = { grant_type: form.get("grant_type"), scope: form.get("scope") }; // no secrets
    const oauthError = (status: number, error: string, description: string): Reply =>
      json({ error, error_description: description }, status);
    let clientId = form.get("client_id") ?? undefined;
    let secret = form.get("client_secret") ?? undefined;
    const authorization = header(call.headers, "authorization");
    if (authorization?.startsWith("Basic ")) {
      const decoded = Buffer.from(authorization.slice(6).trim(), "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      if (colon > 0) {
        clientId = decodeSegment(decoded.slice(0, colon));
        secret = decodeSegment(decoded.slice(colon + 1));
      }
    }
    if (clientId !== undefined) call.entry.clientId = clientId;
    if (form.get("grant_type") !== "client_credentials") {
      return oauthError(400, "unsupported_grant_type", "only client_credentials is supported");
    }
    const account = clientId === undefined ? undefined : this.serviceAccounts.get(clientId);
    if (!account || secret === undefined || !safeEqual(secret, account.secret)) {
      return oauthError(401, "invalid_client", "client authentication failed");
    }
    const token = randomAlnum(48);
    this.tokens.set(token, {
      clientId: clientId as string,
      expiresAt: this.nowMs() + TOKEN_LIFETIME_SECONDS * 1000,
    });
    return json({
      access_token: token,
      token_type: "Bearer",
      expires_in: TOKEN_LIFETIME_SECONDS,
      scope: form.get("scope") ?? "all",
    });
  }

  // --- control API -------------------------------------------------------------------------

  private control(method: string, s: string[], query: URLSearchParams, rawBody: Buffer): Reply {
    try {
      const body = rawBody.length > 0 ? (JSON.parse(rawBody.toString("utf8")) as unknown) : undefined;
      const obj = isObject(body) ? body : {};
      const [a, zone, c, id] = s;
      const route = `${method} ${s.length}:${a}${c === undefined ? "" : `/${c}`}`;
      switch (route) {
        case "GET 2:zones":
          return json({ written: this.records(zone ?? ""), live: this.liveRecords(zone ?? "") });
        case "POST 2:zones":
          this.addZone(zone ?? "");
          return json(null);
        case "POST 3:zones/records": {
          const { fieldType, subDomain, target, ttl, live } = obj;
          if (typeof fieldType !== "string" || typeof target !== "string") {
            throw new Error("fieldType and target are required");
          }
          const newId = this.addRecord(
            zone ?? "",
            {
              fieldType,
              subDomain: typeof subDomain === "string" ? subDomain : "",
              target,
              ttl: typeof ttl === "number" ? ttl : 0,
            },
            { live: live !== false },
          );
          return json({ id: newId });
        }
        case "DELETE 4:zones/records":
          this.deleteRecord(zone ?? "", Number(id), { live: query.get("live") !== "false" });
          return json(null);
        case "GET 1:calls": {
          const filter: Partial<Pick<CallLogEntry, "method" | "kind">> = {};
          const m = query.get("method");
          const k = query.get("kind");
          if (m) filter.method = m.toUpperCase();
          if (k) filter.kind = k as CallKind;
          return json(this.calls(filter));
        }
        case "POST 1:reset-calls":
          this.resetCalls();
          return json(null);
        case "GET 1:faults":
          return json(
            this.faults.map((f) => ({
              ...f.rule,
              path: f.rule.path instanceof RegExp ? f.rule.path.source : f.rule.path,
              remaining: Number.isFinite(f.remaining) ? f.remaining : null,
            })),
          );
        case "POST 1:faults":
          this.injectFault(faultRuleFromJson(body));
          return json(null);
        case "DELETE 1:faults":
          this.clearFaults();
          return json(null);
        case "POST 1:latency":
          if (typeof obj.ms !== "number") throw new Error('body must be {"ms": number}');
          this.setLatency(obj.ms);
          return json(null);
        case "POST 1:quirks":
          this.setQuirks({
            ...(typeof obj.createIdZero === "boolean" ? { createIdZero: obj.createIdZero } : {}),
            ...(typeof obj.readAfterCreate404 === "boolean"
              ? { readAfterCreate404: obj.readAfterCreate404 }
              : {}),
            ...(obj.refreshAnswer === "null" || obj.refreshAnswer === "204" || obj.refreshAnswer === "empty"
              ? { refreshAnswer: obj.refreshAnswer }
              : {}),
          });
          return json(null);
        case "GET 1:dns":
          return json({
            servers: this.dns.servers(),
            connections: this.dns.connections(),
            queries: this.dns.queries(),
          });
        case "POST 1:dns": {
          const server = typeof obj.server === "string" ? obj.server : undefined;
          if (typeof obj.delayMs === "number") this.dns.setDelay(obj.delayMs, server);
          if ("fault" in obj) {
            if (server === undefined) throw new Error("a fault needs a `server`");
            if (obj.fault !== null && !isDnsFault(obj.fault))
              throw new Error(`fault must be null or one of ${DNS_FAULTS.join(", ")}`);
            this.dns.setFault(server, obj.fault);
          }
          return json(this.dns.servers());
        }
        case "DELETE 1:dns":
          this.dns.resetLog();
          return json(null);
        case "POST 1:clock-skew":
          if (typeof obj.seconds !== "number") throw new Error('body must be {"seconds": number}');
          this.setClockSkew(obj.seconds);
          return json(null);
        case "POST 3:credentials/validate":
          this.validateCredential(zone ?? "");
          return json(null);
        default:
          return ovhError(404, MESSAGES.invalidUrl);
      }
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      return ovhError(/^unknown|^no record/.test(message) ? 404 : 400, message);
    }
  }
}

function loggedBody(raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  const parsed = parseJson(raw.toString("utf8"));
  return parsed.ok ? parsed.value : undefined;
}

function listRecords(z: Zone, query: URLSearchParams): Reply {
  const fieldType = query.get("fieldType");
  if (fieldType !== null && !FIELD_TYPES.has(fieldType)) return ovhError(400, enumError(fieldType));
  const sub = query.get("subDomain")?.toLowerCase() ?? null;
  const ids = [...z.written.values()]
    .filter((r) => fieldType === null || r.fieldType === fieldType)
    .filter((r) => sub === null || r.subDomain.toLowerCase() === sub)
    .map((r) => r.id)
    .sort((a, b) => a - b);
  return json(ids);
}

function updateRecord(r: SimRecord, rawBody: Buffer): Reply {
  const text = rawBody.toString("utf8");
  const parsed = text.trim() === "" ? { ok: true as const, value: {} } : parseJson(text);
  if (!parsed.ok || !isObject(parsed.value)) return ovhError(400, MESSAGES.invalidJson);
  const { subDomain, target, ttl } = parsed.value;
  for (const readOnly of ["fieldType", "id", "zone"]) {
    if (readOnly in parsed.value) return ovhError(400, `[${readOnly}] Property is read-only`);
  }
  if (subDomain !== undefined && subDomain !== null && typeof subDomain !== "string") {
    return ovhError(400, "[subDomain] Given data is not valid for type string");
  }
  if (target !== undefined && typeof target !== "string") {
    return ovhError(400, "[target] Given data is not valid for type string");
  }
  if (ttl !== undefined && !isTtl(ttl)) {
    return ovhError(400, `[ttl] Given data (${JSON.stringify(ttl)}) is not valid for type long`);
  }
  if (typeof target === "string") {
    const bad = targetError(r.fieldType, target);
    if (bad) return ovhError(400, bad);
  }
  if (subDomain !== undefined) r.subDomain = subDomain ?? "";
  if (typeof target === "string") r.target = target;
  if (ttl !== undefined) r.ttl = ttl;
  return json(null);
}

function faultReply(f: Fault): Reply {
  switch (f.kind) {
    case "status": {
      const body =
        f.body ?? JSON.stringify({ class: classFor(f.status), message: STATUS_CODES[f.status] ?? "Fault" });
      const html = f.body?.trimStart().startsWith("<") ?? false;
      return {
        type: "raw",
        status: f.status,
        body,
        contentType: f.contentType ?? (html ? "text/html; charset=utf-8" : JSON_TYPE),
      };
    }
    case "invalid-json":
      return { type: "raw", status: 200, body: '{"target":"198.51.100.', contentType: JSON_TYPE };
    case "hang":
    case "lost":
      return { type: "hang" };
    case "reset":
      return { type: "reset" };
  }
}

// ---------------------------------------------------------------------------------------
// Entry points
// ---------------------------------------------------------------------------------------

export async function startOvhSimulator(opts: SimOptions = {}): Promise<OvhSimulator> {
  const server = createServer();
  const sim = new Simulator(server, opts);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  sim.listening(opts);
  try {
    sim.dns = await startDnsServers(sim, {
      host: opts.host === "0.0.0.0" ? "127.0.0.1" : opts.host,
      ...opts.dns,
    });
  } catch (error) {
    await sim.close();
    throw error;
  }
  return sim;
}

/** The credentials and zone `--demo` seeds; public test values, not secrets. */
export const DEMO = {
  applicationKey: "demo-app-key",
  applicationSecret: "demo-app-secret",
  consumerKey: "demo-consumer-key",
  zone: "example.test",
} as const;

/** Seeds the demo data: an application, a validated consumer key limited to the demo zone,
 * and zone example.test with A `firewall` → 198.51.100.7 (ttl 60, live). Returns the record id. */
export function seedDemo(sim: OvhSimulator): number {
  sim.addApplication(DEMO.applicationKey, DEMO.applicationSecret);
  const paths = [`/domain/zone/${DEMO.zone}`, `/domain/zone/${DEMO.zone}/*`];
  sim.addConsumerKey(DEMO.consumerKey, {
    applicationKey: DEMO.applicationKey,
    rules: ["GET", "POST", "PUT"].flatMap((method) => paths.map((path) => ({ method, path }))),
  });
  sim.addZone(DEMO.zone);
  return sim.addRecord(DEMO.zone, { fieldType: "A", subDomain: "firewall", target: "198.51.100.7", ttl: 60 });
}
