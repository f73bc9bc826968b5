// Where notifications go: the URLs of the NOTIFY_URLS secret, in the shoutrrr style that users
// of favonia/cloudflare-ddns and ddns-updater already write, and the one HTTPS request each
// service's API documents (docs/reference/notifications.md). The URLs hold tokens: nothing here
// repeats one in a message; a target is named by its label ("#2 ntfy ntfy.sh").
import { iso } from "../core/text";
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

/**
 * Parse NOTIFY_URLS: URLs separated by spaces or line breaks. Each URL stands alone: a wrong one
 * is an error naming its position and service only ("NOTIFY_URLS #2 (ntfy): …"), and the others
 * are targets all the same. Never throws.
 */
export function parseTargets(value: string | undefined): Targets {
  const out: Targets = { targets: [], errors: [] };
  const urls = (value ?? "").split(/\s+/).filter((u) => u !== "");
  urls.forEach((raw, i) => {
    const at = `NOTIFY_URLS #${i + 1}`;
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
    let parsed: Parsed | string;
    try {
      parsed = parser(url);
    } catch (error) {
      // The parsers answer their own mistakes; a runtime error's message may quote the URL.
      parsed = error instanceof Unreadable ? error.message : "could not be read";
    }
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

/** A part of a URL that cannot be used; the message names the part, never its value. */
class Unreadable extends Error {}

/** A percent-encoded part of the URL (`what`: its name in a message), decoded. */
function decoded(part: string, what: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new Unreadable(
      `the ${what} holds a "%" that is not followed by two hex digits (write a literal % as %25)`,
    );
  }
}

/**
 * A header's value as sent: its UTF-8 bytes (what curl sends for the same text), so a token or
 * header with non-ASCII characters works where the service takes it. Line breaks and other
 * control characters cannot be in a header.
 */
function headerValue(value: string, what: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\x00-\x08\x0a-\x1f\x7f]/.test(value))
    throw new Unreadable(`the ${what} holds a line break or another control character`);
  return utf8Bytes(value);
}

/** `Authorization: Basic` for a user and password, UTF-8 encoded (RFC 7617's charset="UTF-8"). */
function basicAuth(user: string, password: string): string {
  return `Basic ${btoa(utf8Bytes(`${user}:${password}`))}`;
}

/** A string's UTF-8 encoding, one character per byte (what btoa and a header value take). */
function utf8Bytes(text: string): string {
  let binary = "";
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return binary;
}

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
    const topic = decoded(url.pathname.replace(/^\//, ""), "topic");
    if (!topic || topic.includes("/")) return "must be ntfy://[user:password@]host/topic";
    const scheme = url.searchParams.get("scheme") === "http" ? "http" : "https";
    const host = url.host || "ntfy.sh";
    const user = decoded(url.username, "user");
    const password = decoded(url.password, "password");
    const auth: Record<string, string> = {};
    if (password && !user) auth.Authorization = `Bearer ${headerValue(password, "token")}`;
    else if (user || password) auth.Authorization = basicAuth(user, password);
    const given = url.searchParams.get("priority");
    const priority = given ? headerValue(given, "priority") : undefined;
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
    const token = decoded(path.slice(cut + 1), "token");
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
            { "X-Gotify-Key": headerValue(token, "token") },
          ),
        },
      ],
    };
  },
  // discord://token@webhookid. API: POST /api/webhooks/<id>/<token> with {content} (Execute Webhook).
  discord(url) {
    const token = decoded(url.username, "token");
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
    if (url.username === "hook") parts = decoded(url.password, "webhook").split("-");
    else if (url.username.startsWith("xox") || url.password.startsWith("xox"))
      return "a bot token (xoxb) needs Slack's chat API; use an incoming webhook: slack://hook:A-B-C@webhook";
    else parts = [url.hostname.toUpperCase(), ...url.pathname.split("/").filter((p) => p !== "")];
    const [a = "", b = "", c = ""] = parts;
    if (parts.length !== 3 || !/^[A-Z0-9]+$/.test(a) || !/^[A-Z0-9]+$/.test(b) || !/^[A-Za-z0-9]+$/.test(c))
      return "must be slack://hook:A-B-C@webhook, the three parts of https://hooks.slack.com/services/A/B/C";
    const bot = url.username && url.username !== "hook" ? decoded(url.username, "bot name") : undefined;
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
    const token = `${decoded(url.username, "bot token")}:${decoded(url.password, "bot token")}`;
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
    if (key.startsWith("@")) {
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(key.slice(1)))
        return "a header's name (after @) may hold only letters, digits and !#$%&'*+.^_`|~-";
      headers[key.slice(1)] = headerValue(value, "header value");
    } else if (!GENERIC_OPTIONS.has(key.toLowerCase())) query.append(key, value);
  }
  const auth: Record<string, string> = {};
  if (url.username || url.password)
    auth.Authorization = basicAuth(decoded(url.username, "user"), decoded(url.password, "password"));
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
            at: iso(e.at),
          },
          { ...auth, ...headers },
        ),
      },
    ],
  };
}
