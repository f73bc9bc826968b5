// The Worker's own heartbeat: each scheduled check pings HEARTBEAT_URL, so that a service outside
// Cloudflare raises the alarm when the pings stop (the Worker, its Cron Trigger or the account
// gone). Two styles, told apart by the URL (docs/reference/notifications.md):
//
//   Uptime Kuma push   a path with /api/push/: ?status=up or ?status=down, and msg=<one line>
//   healthchecks.io    anything else: a POST to the URL (success), or to URL/fail when a host
//                      needs attention, with the line as the body (healthchecks keeps it)
//
// The URL holds a token: it is never logged, nor is an error that could quote it.
import type { Env } from "../env";
import { log } from "../log";

export type HeartbeatStyle = "kuma" | "healthchecks";

/** The request to send: the style, the URL and how. Undefined when HEARTBEAT_URL is not a URL. */
export function heartbeatRequest(
  value: string,
  attention: string[],
): { style: HeartbeatStyle; url: string; init: RequestInit } | undefined {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    return undefined;
  }
  if ((url.protocol !== "https:" && url.protocol !== "http:") || url.username || url.password)
    return undefined;
  const ok = attention.length === 0;
  const line = ok ? "ok: every host is fine" : `attention: ${attention.join("; ")}`.slice(0, 250);
  if (url.pathname.includes("/api/push/")) {
    url.searchParams.set("status", ok ? "up" : "down");
    url.searchParams.set("msg", line);
    return { style: "kuma", url: url.toString(), init: { method: "GET" } };
  }
  if (!ok) url.pathname = `${url.pathname.replace(/\/+$/, "")}/fail`;
  return {
    style: "healthchecks",
    url: url.toString(),
    init: { method: "POST", body: line, headers: { "Content-Type": "text/plain; charset=utf-8" } },
  };
}

/** Ping HEARTBEAT_URL, if set; `attention` lists the hosts that need it ("host: state"). */
export async function heartbeat(env: Env, attention: string[]): Promise<void> {
  const value = env.HEARTBEAT_URL;
  if (!value?.trim()) return;
  const request = heartbeatRequest(value, attention);
  if (!request) {
    log("heartbeat", {
      status: "HEARTBEAT_URL is not an http(s) URL without user or password; no ping sent",
    });
    return;
  }
  const state = attention.length === 0 ? "up" : "down";
  try {
    const response = await fetch(request.url, { ...request.init, signal: AbortSignal.timeout(10_000) });
    await response.body?.cancel();
    log("heartbeat", { style: request.style, state, status: response.status });
  } catch (error) {
    // The message of a failed fetch may quote the URL: only its kind is logged.
    const kind =
      error instanceof Error && error.name === "TimeoutError" ? "no answer within 10 s" : "network error";
    log("heartbeat", { style: request.style, state, status: kind });
  }
}
