// The configuration's names and shapes: the keys of wrangler.toml and the parsed values every
// stage of the Worker reads. No checks here (schema.ts, parse.ts, secrets.ts do those).
import type { Settings } from "./settings";

/** Names of the vars and secrets: the public contract of wrangler.toml. */
export const KEYS = {
  endpoint: "OVH_ENDPOINT",
  hosts: "HOSTS",
  clients: "CLIENTS",
  settings: "SETTINGS",
  applicationKey: "OVH_APPLICATION_KEY",
  applicationSecret: "OVH_APPLICATION_SECRET",
  consumerKey: "OVH_CONSUMER_KEY",
  clientId: "OVH_CLIENT_ID",
  clientSecret: "OVH_CLIENT_SECRET",
  sessionSecret: "SESSION_SECRET",
  notifyUrls: "NOTIFY_URLS",
  heartbeatUrl: "HEARTBEAT_URL",
} as const;

export const DEFAULT_TTL = 60;
export const MAX_HOSTS_PER_REQUEST = 20;

export type RecordType = "A" | "AAAA";

/** One DNS record a host writes. */
export interface RecordSpec {
  zone: string;
  subdomain: string;
  type: RecordType;
  ttl: number;
  /** Interface identifier (host bits) joined to the reported prefix; AAAA only. */
  hostId?: bigint;
  /** How many top bits of the reported prefix to keep; unset: the reported length. */
  prefixLength?: number;
}

export interface HostSpec {
  name: string;
  zone: string;
  allowPrivate: boolean;
  records: RecordSpec[];
  /** Its own stale_after, when it sets one (see staleAfterOf). */
  staleAfter?: number;
  /** Its own serve_within, when it sets one (see serveWithinOf). */
  serveWithin?: number;
}

/**
 * How a reply to several hosts is written: one line per host, as dyndns2 says, or a single line
 * (the first host's, or the first failure's) for a router that may read only the first line.
 */
export type ReplyForm = "lines" | "first";

export interface ClientSpec {
  name: string;
  /** Lowercase hex. */
  passwordSha256: string;
  hosts: ReadonlySet<string>;
  /** May see every host on the status page (it still reports only for `hosts`). */
  admin: boolean;
  /** Set when the client asks for a reply form; unset means "lines". */
  reply?: ReplyForm;
}

export type { Settings };

export interface Vars {
  endpoint: string;
  hosts: ReadonlyMap<string, HostSpec>;
  clients: ReadonlyMap<string, ClientSpec>;
  settings: Settings;
}

export interface OvhCredentials {
  applicationKey: string;
  applicationSecret: string;
  consumerKey: string;
}

export interface OAuth2Credentials {
  clientId: string;
  clientSecret: string;
}

/** How the Worker authenticates to OVH: application + consumer key, or an OAuth2 service account. */
export type OvhAuth = OvhCredentials | OAuth2Credentials;

export interface Config extends Vars {
  credentials: OvhAuth;
}

export type ConfigResult<T> = { ok: true; value: T } | { ok: false; errors: string[] };
