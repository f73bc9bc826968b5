// The text a client's owner pastes into a router or a host: the FRITZ!Box's fields, ddclient.conf,
// inadyn.conf and client.conf for the project's shell client. Pure: the setup CLI (npm run
// new-client) prints it with a new password, and the status page shows it for the logged-in
// client with the password left as a placeholder.
import type { HostSpec, ReplyForm } from "../config";

export interface WorkerUrl {
  /** Base URL without a trailing slash, e.g. https://ovh-dyndns.example.workers.dev */
  base: string;
  /** True when it is the stand-in shown because --url was not given. */
  placeholder: boolean;
}

/** What a host's records are written from, when wrangler.toml is at hand. */
export interface HostFeeds {
  /** `A` records: the reported IPv4. */
  v4: boolean;
  /** `AAAA` records without host_id: the reported IPv6 address as it is. */
  v6: boolean;
  /** `AAAA` records with host_id: the reported prefix (derived addresses). */
  prefix: boolean;
}
export type HostFeedsOf = (host: string) => HostFeeds | undefined;

/** What a host's records are written from, by the Worker's parsed configuration. */
export function feedsOf(host: HostSpec | undefined): HostFeeds | undefined {
  if (!host) return undefined;
  return {
    v4: host.records.some((r) => r.type === "A"),
    v6: host.records.some((r) => r.type === "AAAA" && r.hostId === undefined),
    prefix: host.records.some((r) => r.type === "AAAA" && r.hostId !== undefined),
  };
}

/** Without wrangler.toml: a host may have records of every kind. */
const UNKNOWN_FEEDS: HostFeeds = { v4: true, v6: true, prefix: true };

/**
 * The FRITZ!Box's "Domain name": a host whose records hold the box's own addresses (A, or
 * AAAA without host_id, and no derived ones), because the box looks its Domain name up after
 * each update and expects its own addresses there. Undefined when no host is like that.
 */
export function fritzboxDomain(hosts: readonly string[], feedsOf?: HostFeedsOf): string | undefined {
  if (!feedsOf) return hosts[0];
  const own = (h: string) => {
    const f = feedsOf(h);
    return f !== undefined && (f.v4 || f.v6) && !f.prefix;
  };
  return hosts.find((h) => own(h) && feedsOf(h)?.v6) ?? hosts.find(own);
}

/**
 * The FRITZ!Box "Update-URL": up to two URLs separated by a space, one request for IPv4 and one
 * for IPv6 (the box sends each separately). The box fills in <username>, <pass>, <domain>,
 * <ipaddr>, <ip6addr> and <ip6lanprefix> itself, unescaped. Each URL names only the hosts with
 * records of its family, the Domain name first (as <domain> when it is the only one), so each
 * request updates the hosts it is meant for, and the first answer line is the Domain name's.
 */
export function fritzboxUpdateUrl(url: WorkerUrl, hosts: readonly string[], feedsOf?: HostFeedsOf): string {
  const feeds = (h: string) => feedsOf?.(h) ?? UNKNOWN_FEEDS;
  const domain = fritzboxDomain(hosts, feedsOf) ?? hosts[0];
  const ordered = domain === undefined ? [...hosts] : [domain, ...hosts.filter((h) => h !== domain)];
  const auth = "username=<username>&password=<pass>";
  const param = (list: string[]) => (list.length === 1 && list[0] === domain ? "<domain>" : list.join(","));
  const v4 = ordered.filter((h) => feeds(h).v4);
  const v6 = ordered.filter((h) => feeds(h).v6 || feeds(h).prefix);
  const urls: string[] = [];
  if (v4.length > 0) urls.push(`${url.base}/nic/update?hostname=${param(v4)}&myip=<ipaddr>&${auth}`);
  if (v6.length > 0) {
    urls.push(
      `${url.base}/nic/update?hostname=${param(v6)}&myipv6=<ip6addr>&ip6lanprefix=<ip6lanprefix>&${auth}`,
    );
  }
  return urls.join(" ");
}

export function fritzboxSnippet(
  url: WorkerUrl,
  name: string,
  password: string,
  hosts: readonly string[],
  feedsOf?: HostFeedsOf,
  reply?: ReplyForm,
): string {
  const domain = fritzboxDomain(hosts, feedsOf);
  const lines = [
    "Internet > Permit Access > DynDNS (Internet > Freigaben > DynDNS): use DynDNS,",
    'provider "User-defined" (Benutzerdefiniert):',
    `  Update-URL:   ${fritzboxUpdateUrl(url, hosts, feedsOf)}`,
    `  Domain name:  ${domain ?? hosts[0] ?? ""}`,
    `  Username:     ${name}`,
    `  Password:     ${password}`,
  ];
  if (!feedsOf) return lines.join("\n");
  lines.push(...oneLineNote(hosts, feedsOf, reply));
  if (domain !== undefined) {
    lines.push(
      `After each update the box looks up ${domain} and expects its own addresses there:`,
      "its records hold them, so that check passes.",
    );
  } else {
    // Every host holds derived addresses: the box's check would fail at every update.
    const zone = hosts[0]?.split(".").slice(1).join(".") || "example.tld";
    lines.push(
      "Note: after each update the box looks up its Domain name and expects its own addresses",
      "there. These hosts hold only addresses derived from the prefix (host_id), so that check",
      "would fail at every update and the box would keep re-sending. Add a host for the box's",
      "own name to wrangler.toml, give it to this client, and run new-client again:",
      "",
      `  [vars.HOSTS."router.${zone}"]`,
      `  zone = "${zone}"`,
      '  records = [{ subdomain = "router", type = "A" }, { subdomain = "router", type = "AAAA" }]',
    );
  }
  const mixed = hosts.filter((h) => {
    const f = feedsOf(h);
    return f?.v6 && f.prefix;
  });
  if (mixed.length > 0) {
    lines.push(
      `Note: ${mixed.join(", ")} has AAAA records both with and without host_id. The box's own`,
      "address usually lies in another network than its LAN prefix, and the Worker refuses a",
      "report that would feed one host from two networks (badrequest): put the host_id records",
      "into a host of their own and give this client both.",
    );
  }
  return lines.join("\n");
}

/**
 * When the IPv6 URL names several hosts: AVM does not document whether the box reads more than
 * the first answer line (docs/reference/dyndns-clients.md), so the client should answer with one.
 */
function oneLineNote(hosts: readonly string[], feedsOf: HostFeedsOf, reply: ReplyForm | undefined): string[] {
  const v6 = hosts.filter((h) => feedsOf(h)?.v6 || feedsOf(h)?.prefix);
  if (v6.length < 2) return [];
  if (reply === "first")
    return [`The IPv6 URL names ${v6.length} hosts; this client's reply = "first" answers it with one line.`];
  return [
    `Note: the IPv6 URL names ${v6.length} hosts, and whether the box reads more than the first`,
    'answer line is not documented: give this client reply = "first" in wrangler.toml',
    "(npm run new-client with --reply first writes it).",
  ];
}

/** ddclient.conf (3.10+): dyndns2 against the Worker. */
export function ddclientSnippet(
  url: WorkerUrl,
  name: string,
  password: string,
  hosts: readonly string[],
): string {
  const server = url.base.replace(/^https?:\/\//, "");
  return [
    "# /etc/ddclient.conf (mode 0600)",
    "protocol=dyndns2",
    `ssl=${url.base.startsWith("https:") ? "yes" : "no"}`,
    `server=${server}`,
    `login=${name}`,
    `password='${password}'`,
    "# IPv4 as seen from outside; for this machine's own IPv6 address use instead: use=if, if=eth0",
    "use=web, web=ipify-ipv4",
    hosts.join(","),
  ].join("\n");
}

/** inadyn.conf (2.10+, Debian's): one request per hostname, HTTP Basic. */
export function inadynSnippet(
  url: WorkerUrl,
  name: string,
  password: string,
  hosts: readonly string[],
): string {
  const base = new URL(url.base);
  const path = base.pathname.replace(/\/+$/, "");
  return [
    "# /etc/inadyn.conf (mode 0600)",
    "period = 300",
    "",
    "custom ovh-dyndns {",
    `    username    = ${name}`,
    `    password    = ${password}`,
    `    ddns-server = ${base.host}`,
    `    ddns-path   = "${path}/nic/update?hostname=%h&myip=%i"`,
    `    ssl         = ${base.protocol === "https:"}`,
    `    hostname    = { ${hosts.join(", ")} }`,
    "}",
  ].join("\n");
}

export interface Recipe {
  id: "fritzbox" | "ddclient" | "inadyn" | "client-conf";
  title: string;
  text: string;
  /** A router's form fields, each copied on its own (the page's Copy takes the value, not the label). */
  fields?: { label: string; value: string }[];
}

/** Every recipe for a client and its hosts, as the status page shows them. */
export function recipes(
  url: WorkerUrl,
  name: string,
  password: string,
  hosts: readonly string[],
  feeds?: HostFeedsOf,
  reply?: ReplyForm,
): Recipe[] {
  return [
    {
      id: "fritzbox",
      title: "FRITZ!Box",
      text: fritzboxSnippet(url, name, password, hosts, feeds, reply),
      fields: [
        { label: "Update-URL", value: fritzboxUpdateUrl(url, hosts, feeds) },
        { label: "Domain name", value: fritzboxDomain(hosts, feeds) ?? hosts[0] ?? "" },
        { label: "Username", value: name },
      ],
    },
    { id: "ddclient", title: "ddclient", text: ddclientSnippet(url, name, password, hosts) },
    { id: "inadyn", title: "inadyn", text: inadynSnippet(url, name, password, hosts) },
    {
      id: "client-conf",
      title: "The shell client (client.conf)",
      text: clientConfSnippet(url, name, password, hosts, "eth0"),
    },
  ];
}

/** client.conf for the shell client (client/ovh-dyndns-client): KEY=value lines, read, never run. */
export function clientConfSnippet(
  url: WorkerUrl,
  name: string,
  password: string,
  hosts: readonly string[],
  iface: string,
): string {
  return [
    "# /etc/ovh-dyndns/client.conf for ovh-dyndns-client (install -m 600; it holds the password)",
    `ENDPOINT=${url.base}/nic/update`,
    `USERNAME=${name}`,
    `PASSWORD=${password}`,
    "# The interface that carries this host's global IPv6 address.",
    `INTERFACE=${iface}`,
    `HOSTNAMES=${hosts.join(",")}`,
  ].join("\n");
}
