// The Worker's bindings, grouped as wrangler.toml and `wrangler secret put` provide them.
// Their shapes are checked at run time by config/; here they are only named.
import type { AuthGuard } from "./access/guard";
import type { Notifier } from "./notify/notifier";
import type { ZoneCoordinator } from "./zone/coordinator";

export interface Env {
  // bindings (wrangler.toml [[durable_objects.bindings]])
  /** One coordinator per OVH zone: serialized writes, remembered records, history. */
  ZONES: DurableObjectNamespace<ZoneCoordinator>;
  /** Failed logins per source network, for the abuse limit. */
  GUARD: DurableObjectNamespace<AuthGuard>;
  /** The notifier: dedupes and sends events to NOTIFY_URLS (absent in setups without notifications). */
  NOTIFY?: DurableObjectNamespace<Notifier>;

  // vars (wrangler.toml [vars])
  /** OVH endpoint name ("ovh-eu", …) or a base URL such as a local simulator's. */
  OVH_ENDPOINT?: string;
  /** Hostname clients report for → zone and records it writes. */
  HOSTS?: unknown;
  /** DynDNS user name → password hash and the hosts it may update. */
  CLIENTS?: unknown;
  /** Optional tuning: recheck_after, ovh_timeout_ms, abuse limits. */
  SETTINGS?: unknown;

  // secrets (wrangler secret put)
  OVH_APPLICATION_KEY?: string;
  OVH_APPLICATION_SECRET?: string;
  OVH_CONSUMER_KEY?: string;
  /** Instead of the three above: an OAuth2 service account (rights from an IAM policy). */
  OVH_CLIENT_ID?: string;
  OVH_CLIENT_SECRET?: string;
  /** Key material for the status page's session cookies (npm run setup -- session). */
  SESSION_SECRET?: string;
  /** Where notifications go: ntfy://, gotify://, discord://, slack://, telegram://, generic+https:// URLs (they hold tokens). */
  NOTIFY_URLS?: string;
  /** Pinged at each scheduled check (healthchecks.io or Uptime Kuma push URL; it holds a token). */
  HEARTBEAT_URL?: string;

  // static assets (wrangler.toml [assets]): the status page's HTML, CSS and script
  ASSETS?: Fetcher;

  // tests only: never in wrangler.toml (SECURITY.md)
  /** Runs the Worker's clock ahead (src/core/clock.ts): a function of the test harness in Miniflare. */
  TEST_CLOCK?: Fetcher;
}
