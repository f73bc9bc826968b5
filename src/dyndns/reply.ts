// Every path through a request ends in one of these outcomes; renderReply is the one place
// that turns them into a dyndns2 body and an HTTP status.
import type { ReplyForm } from "../config";

/** What happened to one hostname of a request. */
export type HostOutcome =
  | { code: "good"; addresses: string }
  | { code: "nochg"; addresses: string }
  | { code: "notfqdn" }
  | { code: "nohost" }
  | { code: "dnserr" }
  /** `retryAfter`: seconds until the host may be written again by this client, when known. */
  | { code: "abuse"; retryAfter?: number }
  | { code: "911" };

/** The answer to a whole request. */
export type Reply =
  | { kind: "hosts"; hosts: HostOutcome[] }
  | { kind: "badauth" }
  | { kind: "badrequest"; reason: string }
  | { kind: "numhost" }
  | { kind: "notfqdn" }
  | { kind: "abuse"; retryAfter: number }
  | { kind: "911"; retryAfter: number }
  | { kind: "method"; allow: string }
  | { kind: "notfound" };

export interface RenderedReply {
  status: number;
  body: string;
  headers: Record<string, string>;
}

/** Seconds a client should wait after a 911 (dyndns2 asks for at least 10 minutes; we are kinder). */
export const RETRY_AFTER_911 = 300;

/** The least Retry-After of a host refused by the change limit. */
export const RETRY_AFTER_ABUSE_MIN = 60;

/**
 * Words inadyn reads as success when they appear anywhere in a reply (a substring test,
 * case-insensitive). No error text may contain them.
 */
export const SUCCESS_WORDS = ["good", "nochg", "ok", "true", "updated", "success"] as const;

export function hostLine(o: HostOutcome): string {
  switch (o.code) {
    case "good":
    case "nochg":
      return o.addresses ? `${o.code} ${o.addresses}` : o.code;
    case "notfqdn":
    case "nohost":
    case "dnserr":
    case "abuse":
    case "911":
      return o.code;
  }
}

/** The one line of the "first" reply form: the first failure, else the first host's line. */
export function oneLine(hosts: readonly HostOutcome[]): HostOutcome[] {
  const first = hosts.find((h) => h.code !== "good" && h.code !== "nochg") ?? hosts[0];
  return first ? [first] : [];
}

/** `form` is the client's reply form for several hosts (ClientSpec.reply); the status is the same. */
export function renderReply(reply: Reply, form: ReplyForm = "lines"): RenderedReply {
  const text = { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store" };
  switch (reply.kind) {
    case "hosts": {
      const shown = form === "first" ? oneLine(reply.hosts) : reply.hosts;
      const body = `${shown.map(hostLine).join("\n")}\n`;
      // Any host that hit an OVH failure makes the whole answer retryable, so clients come back.
      const failed = reply.hosts.some((h) => h.code === "911");
      if (failed) return { status: 503, body, headers: { ...text, "Retry-After": String(RETRY_AFTER_911) } };
      // Every host refused by the change limit: a 429 that says when to come back.
      if (reply.hosts.every((h) => h.code === "abuse")) {
        const wait = Math.max(
          RETRY_AFTER_ABUSE_MIN,
          ...reply.hosts.map((h) => ("retryAfter" in h ? (h.retryAfter ?? 0) : 0)),
        );
        return { status: 429, body, headers: { ...text, "Retry-After": String(wait) } };
      }
      return { status: 200, body, headers: text };
    }
    case "badauth":
      return {
        status: 401,
        body: "badauth\n",
        headers: { ...text, "WWW-Authenticate": 'Basic realm="dyndns", charset="UTF-8"' },
      };
    case "badrequest":
      return { status: 400, body: `badrequest: ${safeReason(reply.reason)}\n`, headers: text };
    case "numhost":
      return { status: 200, body: "numhost\n", headers: text };
    case "notfqdn":
      return { status: 200, body: "notfqdn\n", headers: text };
    case "abuse":
      return { status: 429, body: "abuse\n", headers: { ...text, "Retry-After": String(reply.retryAfter) } };
    case "911":
      return { status: 503, body: "911\n", headers: { ...text, "Retry-After": String(reply.retryAfter) } };
    case "method":
      return {
        status: 405,
        body: "badrequest: method not allowed\n",
        headers: { ...text, Allow: reply.allow },
      };
    case "notfound":
      return { status: 404, body: "badrequest: unknown path; updates go to /nic/update\n", headers: text };
  }
}

/**
 * Reasons are written by this code, never copied from the request; this is the last guard
 * that keeps them one printable line free of the success words.
 */
export function safeReason(reason: string): string {
  let line = reason.replace(/[^\x20-\x7e]/g, "?");
  for (const word of SUCCESS_WORDS)
    line = line.replace(new RegExp(word, "gi"), (w) => `${w[0]}-${w.slice(1)}`);
  return line;
}
