// Where notifications go: the URLs of the NOTIFY_URLS secret, in the shoutrrr style that users
// of favonia/cloudflare-ddns and ddns-updater already write, and the one HTTPS request each
// service's API documents (docs/reference/notifications.md). The URLs hold tokens: nothing here
// repeats one in a message; a target is named by its label ("#2 ntfy ntfy.sh").
import type { HealthEvent } from "../zone/protocol";

export type Service = "ntfy" | "gotify" | "discord" | "slack" | "telegram" | "generic";

export interface Target {
  service: Service;
  /** Position, service and host, never a token: what a log line or a reply may name. */
  label: string;
  /** The requests that deliver one event (telegram: one per chat). */
  requests(event: HealthEvent): { url: string; init: RequestInit }[];
}

export type Targets = { targets: Target[]; errors: string[] };

/** Parse NOTIFY_URLS: URLs separated by spaces or line breaks. Errors name the URL's position and service only. */
export function parseTargets(value: string | undefined): Targets {
  const out: Targets = { targets: [], errors: [] };
  const urls = (value ?? "").split(/\s+/).filter((u) => u !== "");
  urls.forEach((raw, i) => {
    const at = `NOTIFY_URLS, URL ${i + 1}`;
    const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(raw)?.[1]?.toLowerCase();
    const parser = scheme ? PARSERS[scheme] : undefined;
    if (!scheme || !parser) {
      out.errors.push(
        `${at}: ${scheme ? `"${scheme}://" is not` : "is not a URL of"} a known service (${KNOWN})`,
      );
      return;
    }
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      out.errors.push(`${at} (${scheme}): is not a valid URL`);
      return;
    }
    const parsed = parser(url);
    if (typeof parsed === "string") out.errors.push(`${at} (${scheme}): ${parsed}`);
    else
      out.targets.push({
        ...parsed,
        label: `#${i + 1} ${parsed.service}${parsed.where ? ` ${parsed.where}` : ""}`,
      });
  });
  return out;
}

const KNOWN = "ntfy://, gotify://, discord://, slack://, telegram://, generic+https://, generic+http://";

/** A parsed target before it is numbered; `where` is the host shown in its label (never a token). */
type Parsed = Omit<Target, "label"> & { where?: string };

/** One line for a person, and a title, from an event. */
function title(e: HealthEvent): string {
  return `DynDNS ${e.kind}${e.host ? `: ${e.host}` : ""}`;
}

const json = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method: "POST",
  headers: { "Content-Type": "application/json", ...headers },
  body: JSON.stringify(body),
});

const PARSERS: Record<string, (url: URL) => Parsed | string> = {
  // ntfy://[user:password@]host/topic, ntfy://:token@host/topic; ?scheme=http for a plain server.
  // API: POST the message as the body to /<topic>, Title and Tags as headers (docs.ntfy.sh/publish).
  ntfy(url) {
    const topic = decodeURIComponent(url.pathname.replace(/^\//, ""));
    if (!topic || topic.includes("/")) return "must be ntfy://[user:password@]host/topic";
    const scheme = url.searchParams.get("scheme") === "http" ? "http" : "https";
    const host = url.host || "ntfy.sh";
    const user = decodeURIComponent(url.username);
    const password = decodeURIComponent(url.password);
    const auth: Record<string, string> = {};
    if (password && !user) auth.Authorization = `Bearer ${password}`;
    else if (user || password) auth.Authorization = `Basic ${btoa(`${user}:${password}`)}`;
    const priority = url.searchParams.get("priority");
    return {
      service: "ntfy",
      where: host,
      requests: (e) => [
        {
          url: `${scheme}://${host}/${encodeURIComponent(topic)}`,
          init: {
            method: "POST",
            headers: {
              "Content-Type": "text/plain; charset=utf-8",
              Title: title(e),
              Tags: e.kind,
              ...(priority ? { Priority: priority } : {}),
              ...auth,
            },
            body: e.message,
          },
        },
      ],
    };
  },
  // gotify://host[:port][/path]/token; ?disabletls=yes for plain HTTP.
  // API: POST /message with {title, message, priority}; the token in X-Gotify-Key (gotify.net/api-docs).
  gotify(url) {
    const path = url.pathname.replace(/\/$/, "");
    const cut = path.lastIndexOf("/");
    const token = decodeURIComponent(path.slice(cut + 1));
    if (!url.host || !token) return "must be gotify://host[:port][/path]/token";
    const scheme = /^(yes|true|1)$/i.test(url.searchParams.get("disabletls") ?? "") ? "http" : "https";
    const priority = Number(url.searchParams.get("priority") ?? 5);
    return {
      service: "gotify",
      where: url.host,
      requests: (e) => [
        {
          url: `${scheme}://${url.host}${path.slice(0, cut)}/message`,
          init: json(
            { title: title(e), message: e.message, priority: Number.isInteger(priority) ? priority : 5 },
            { "X-Gotify-Key": token },
          ),
        },
      ],
    };
  },
  // discord://token@webhookid. API: POST /api/webhooks/<id>/<token> with {content} (Execute Webhook).
  discord(url) {
    const token = decodeURIComponent(url.username);
    const id = url.hostname;
    if (!token || !/^\d+$/.test(id)) return "must be discord://TOKEN@WEBHOOK_ID";
    return {
      service: "discord",
      requests: (e) => [
        {
          url: `https://discord.com/api/webhooks/${id}/${encodeURIComponent(token)}`,
          init: json({ content: e.message.slice(0, 2000) }),
        },
      ],
    };
  },
  // slack://hook:A-B-C@webhook (shoutrrr ≥ 0.6), or slack://[botname@]A/B/C (the older form): an
  // incoming webhook. API: POST https://hooks.slack.com/services/A/B/C with {text}.
  slack(url) {
    let parts: string[];
    if (url.username === "hook") parts = decodeURIComponent(url.password).split("-");
    else if (url.username.startsWith("xox") || url.password.startsWith("xox"))
      return "a bot token (xoxb) needs Slack's chat API; use an incoming webhook: slack://hook:A-B-C@webhook";
    else parts = [url.hostname.toUpperCase(), ...url.pathname.split("/").filter((p) => p !== "")];
    const [a = "", b = "", c = ""] = parts;
    if (parts.length !== 3 || !/^[A-Z0-9]+$/.test(a) || !/^[A-Z0-9]+$/.test(b) || !/^[A-Za-z0-9]+$/.test(c))
      return "must be slack://hook:A-B-C@webhook, the three parts of https://hooks.slack.com/services/A/B/C";
    const bot = url.username && url.username !== "hook" ? decodeURIComponent(url.username) : undefined;
    return {
      service: "slack",
      requests: (e) => [
        {
          url: `https://hooks.slack.com/services/${a}/${b}/${c}`,
          init: json({ text: e.message, ...(bot ? { username: bot } : {}) }),
        },
      ],
    };
  },
  // telegram://token@telegram?chats=@channel,123456. API: POST /bot<token>/sendMessage with
  // {chat_id, text}, once per chat (core.telegram.org/bots/api#sendmessage).
  telegram(url) {
    const token = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    const chats = (url.searchParams.get("chats") ?? url.searchParams.get("channels") ?? "")
      .split(",")
      .map((c) => c.trim())
      .filter((c) => c !== "");
    if (!/^\d+:[\w-]+$/.test(token)) return "must be telegram://BOT_TOKEN@telegram?chats=@channel,123456";
    if (chats.length === 0) return "names no chat: add ?chats=@channel or a chat id";
    return {
      service: "telegram",
      requests: (e) =>
        chats.map((chat) => ({
          url: `https://api.telegram.org/bot${token}/sendMessage`,
          init: json({ chat_id: chat, text: e.message }),
        })),
    };
  },
  "generic+https": (url) => generic(url, "https"),
  "generic+http": (url) => generic(url, "http"),
};

/** Options of shoutrrr's generic service that are not part of the webhook URL. */
const GENERIC_OPTIONS = new Set([
  "contenttype",
  "disabletls",
  "method",
  "messagekey",
  "template",
  "title",
  "titlekey",
]);

// generic+https://host/path[?@Header=value]. POST JSON {event, host, message, at}; query
// parameters go along, except @-prefixed ones, which are headers (as in shoutrrr).
function generic(url: URL, scheme: "http" | "https"): Parsed | string {
  if (!url.host) return `must be generic+${scheme}://host/path`;
  const headers: Record<string, string> = {};
  const query = new URLSearchParams();
  for (const [key, value] of url.searchParams) {
    if (key.startsWith("@")) headers[key.slice(1)] = value;
    else if (!GENERIC_OPTIONS.has(key.toLowerCase())) query.append(key, value);
  }
  const auth: Record<string, string> = {};
  if (url.username || url.password) {
    const user = decodeURIComponent(url.username);
    auth.Authorization = `Basic ${btoa(`${user}:${decodeURIComponent(url.password)}`)}`;
  }
  const target = `${scheme}://${url.host}${url.pathname}${query.size > 0 ? `?${query}` : ""}`;
  return {
    service: "generic",
    where: url.host,
    requests: (e) => [
      {
        url: target,
        init: json(
          {
            event: e.kind,
            ...(e.host ? { host: e.host } : {}),
            message: e.message,
            at: new Date(e.at).toISOString(),
          },
          { ...auth, ...headers },
        ),
      },
    ],
  };
}
