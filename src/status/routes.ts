// The status page and its JSON API. A browser that opens /status gets the page (static assets,
// no data in it); the page logs in with a form, gets a session cookie (access/session.ts) and
// reads the same JSON that scripts read with HTTP Basic. Every call that changes state must come
// from the page's own origin, and no page of another origin may read the API.
import { Hono } from "hono/tiny";
import { access } from "../access/access";
import { crossSite, fromBrowser, fromOwnPage, isNavigation } from "../access/origin";
import {
  closedSessionCookie,
  endSessions,
  hasSessionCookie,
  openSession,
  readSession,
  sessionsUnavailable,
} from "../access/session";
import { type ClientSpec, type Config, loadConfig, OAUTH2_SECRET_KEYS, SECRET_KEYS } from "../config";
import { feedsOf, recipes } from "../dyndns/recipes";
import { renderReply } from "../dyndns/reply";
import type { Env } from "../env";
import { log } from "../log";
import type { TestResult } from "../notify/notifier";
import { sendTest } from "../notify/notify";
import { historyLength, statusReport } from "./report";
import { checkServedNow } from "./served";

export const statusRoutes = new Hono<{ Bindings: Env }>();

const API_HEADERS = {
  "Content-Type": "application/json",
  "Cache-Control": "no-store",
  "X-Content-Type-Options": "nosniff",
  // No page of another origin may embed the answer (a <script src>, an <img>), with or without cookies.
  "Cross-Origin-Resource-Policy": "same-origin",
  // /status is the page or JSON depending on who asks: no cache may hand one out for the other.
  Vary: "Accept, Sec-Fetch-Dest, Cookie",
};

/** The page runs its own script and style only, talks to its own origin only, and is never framed. */
const PAGE_HEADERS = {
  "Content-Type": "text/html; charset=utf-8",
  "Cache-Control": "no-cache",
  "Content-Security-Policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "X-Frame-Options": "DENY",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "Cross-Origin-Opener-Policy": "same-origin",
  Vary: "Accept, Sec-Fetch-Dest, Cookie",
};

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { ...API_HEADERS, ...headers } });
}

/** Work that runs after the reply (the request's waitUntil). */
type Later = (work: Promise<unknown>) => void;
const laterOf =
  (c: { executionCtx: { waitUntil(work: Promise<unknown>): void } }): Later =>
  (work) =>
    c.executionCtx.waitUntil(work);

type Authorized =
  | { ok: true; config: Config; client: ClientSpec; via: string }
  | { ok: false; response: Response };

/**
 * Who is asking: a session cookie from the page, or HTTP Basic (or the query's username and
 * password) from a script. `change`: the call changes state, so a browser must send it from the
 * page's own origin. A browser is never sent a Basic challenge, so it never caches a password.
 */
export async function authorize(
  request: Request,
  env: Env,
  change: boolean,
  later: Later,
): Promise<Authorized> {
  const browserMarks = request.headers.has("Origin") || request.headers.has("Sec-Fetch-Site");
  if (change ? browserMarks && !fromOwnPage(request) : crossSite(request)) {
    return { ok: false, response: json({ error: "Only the status page itself may call this." }, 403) };
  }
  if (!request.headers.has("Authorization") && hasSessionCookie(request)) {
    const session = await readSession(request, env);
    if (session.ok && (!change || fromOwnPage(request))) return { ...session, via: "session" };
    const reason = session.ok ? "not from the page" : session.reason;
    log("status", { status: 401, notes: [reason] });
    return { ok: false, response: json({ error: "Your session has ended; log in again." }, 401) };
  }
  const granted = await access(request, env, { later });
  if (granted.ok) return { ok: true, config: granted.config, client: granted.client, via: "basic" };
  const { status, body, headers } = renderReply(granted.reply);
  log("status", { status, notes: granted.notes });
  if (fromBrowser(request)) {
    const broken = configProblem(env);
    if (broken)
      return { ok: false, response: json(broken, 503, { "Retry-After": headers["Retry-After"] ?? "300" }) };
    const { "WWW-Authenticate": _challenge, ...rest } = headers;
    return { ok: false, response: json({ error: "Log in first." }, status, rest) };
  }
  return { ok: false, response: new Response(body, { status, headers }) };
}

/** Secrets the Worker reads (the rest of the configuration is vars). */
const SECRETS: readonly string[] = [...SECRET_KEYS, ...OAUTH2_SECRET_KEYS, "SESSION_SECRET", "NOTIFY_URLS"];

/**
 * For the page, when the configuration is invalid (no one can log in, every report answers 911):
 * the keys with errors, never a value or the errors' wording (they may name clients and hosts),
 * which any visitor may read. `npm run check` and the Worker's log say the rest.
 */
function configProblem(
  env: Env,
): { error: string; configuration: { invalid: string[]; secrets: string[] } } | undefined {
  const config = loadConfig(env);
  if (config.ok) return undefined;
  const keys = new Set(
    config.errors.map((e) => /^[A-Za-z_][A-Za-z0-9_]*/.exec(e)?.[0] ?? "the configuration"),
  );
  const secrets = [...keys].filter((k) => SECRETS.includes(k));
  const invalid = [...keys].filter((k) => !SECRETS.includes(k));
  const what =
    invalid.length === 0
      ? "its secrets are missing or wrong"
      : secrets.length === 0
        ? "its configuration is invalid"
        : "its configuration is invalid and secrets are missing or wrong";
  return {
    error: `This Worker cannot log anyone in or take reports: ${what}.`,
    configuration: { invalid, secrets },
  };
}

/** The page itself: the same static HTML for everyone, with headers that keep it to itself. */
async function page(env: Env, url: string): Promise<Response> {
  const asset = await env.ASSETS?.fetch(new URL("/status/index.html", url));
  if (!asset?.ok)
    return new Response("the status page's files are missing from this deploy\n", { status: 404 });
  return new Response(asset.body, { headers: PAGE_HEADERS });
}

// What the client's hosts hold and what happened recently: the page for a browser, JSON for
// the page's script and for scripts.
statusRoutes.get("/status", async (c) => {
  if (isNavigation(c.req.raw)) return page(c.env, c.req.url);
  const who = await authorize(c.req.raw, c.env, false, laterOf(c));
  if (!who.ok) return who.response;
  const report = await statusReport(c.env, who.config, who.client, historyLength(c.req.query("history")));
  log("status", { client: who.client.name, via: who.via, status: 200 });
  return json(report);
});

/** Log in with the client's name and password (a form), counted by the guard like any login. */
statusRoutes.post("/status/login", async (c) => {
  const url = new URL(c.req.url);
  if (!fromOwnPage(c.req.raw)) return json({ error: "Log in on the status page itself." }, 403);
  const unavailable = sessionsUnavailable(c.env);
  if (unavailable) {
    log("login", { status: 503, notes: [unavailable] });
    return json({ error: "Logging in is not set up yet: the Worker has no SESSION_SECRET." }, 503);
  }
  const granted = await access(c.req.raw, c.env, { later: laterOf(c) });
  if (!granted.ok) {
    const { status, headers } = renderReply(granted.reply);
    log("login", { status, notes: granted.notes });
    const retry = headers["Retry-After"];
    const error =
      granted.reply.kind === "badauth"
        ? "Wrong client name or password."
        : granted.reply.kind === "abuse"
          ? `Too many failed logins from your network; try again in ${Math.ceil(Number(retry) / 60)} min.`
          : granted.reply.kind === "911"
            ? "The Worker's configuration has errors; its log says which."
            : "The login form could not be read.";
    return json({ error }, status, retry ? { "Retry-After": retry } : {});
  }
  const cookie = await openSession(c.env, url, granted.client);
  log("login", { client: granted.client.name, status: 200 });
  return json({ client: granted.client.name }, 200, cookie ? { "Set-Cookie": cookie } : {});
});

/** Log out: this browser forgets the cookie, and every session the client opened until now ends. */
statusRoutes.post("/status/logout", async (c) => {
  if (!fromOwnPage(c.req.raw)) return json({ error: "Only the status page itself may call this." }, 403);
  const session = await readSession(c.req.raw, c.env);
  if (session.ok) await endSessions(c.env, session.client);
  log("logout", { client: session.ok ? session.client.name : undefined, status: 200 });
  return json({ ok: true }, 200, { "Set-Cookie": closedSessionCookie(new URL(c.req.url)) });
});

/** How to set up the client's routers and hosts, with this Worker's URL; the password is a placeholder. */
statusRoutes.get("/status/setup", async (c) => {
  const who = await authorize(c.req.raw, c.env, false, laterOf(c));
  if (!who.ok) return who.response;
  const url = { base: new URL(c.req.url).origin, placeholder: false };
  const hosts = [...who.client.hosts].sort();
  const feeds = (host: string) => feedsOf(who.config.hosts.get(host));
  return json({
    client: who.client.name,
    recipes: recipes(url, who.client.name, "<password>", hosts, feeds, who.client.reply),
  });
});

/**
 * A test message to every NOTIFY_URLS target (src/notify/), at most one a minute per client (the
 * notifier keeps count). An admin client gets the answer per target (delivered, or the service's
 * status) and what is wrong with NOTIFY_URLS; any other client the targets by position only. From
 * a browser, only the page itself may ask.
 */
statusRoutes.post("/status/notify-test", async (c) => {
  const who = await authorize(c.req.raw, c.env, true, laterOf(c));
  if (!who.ok) return who.response;
  const answer = await sendTest(c.env, who.client.name);
  if ("waitMs" in answer) {
    const seconds = Math.ceil(answer.waitMs / 1000);
    log("notify-test", { client: who.client.name, status: 429, notes: ["one test message a minute"] });
    const error = `One test message a minute: try again in ${seconds} s.`;
    return json({ error }, 429, { "Retry-After": String(seconds) });
  }
  const failed = answer.targets.filter((t) => !t.delivered).map((t) => `${t.target}: ${t.error}`);
  log("notify-test", {
    client: who.client.name,
    status: 200,
    delivered: answer.targets.length - failed.length,
    notes: [...failed, ...answer.errors],
  });
  return json(who.client.admin ? answer : withoutDetails(answer));
});

/**
 * "Check now": the name servers of the client's zones asked about its records at once
 * (src/status/served.ts), at most once per 10 s per client and zone. From a browser, only the
 * page itself may ask.
 */
statusRoutes.post("/status/check", async (c) => {
  const who = await authorize(c.req.raw, c.env, true, laterOf(c));
  if (!who.ok) return who.response;
  const answer = await checkServedNow(c.env, who.config, who.client);
  if ("retryAfter" in answer) {
    const seconds = String(answer.retryAfter);
    log("check-now", { client: who.client.name, status: 429, notes: ["one check per 10 s"] });
    return json({ error: `One check per 10 s: try again in ${seconds} s.` }, 429, { "Retry-After": seconds });
  }
  const notes = answer.problems.length > 0 ? answer.problems : undefined;
  log("check-now", { client: who.client.name, status: 200, notes });
  return json(answer);
});

/** A test's result for a client that is not admin: targets by position, wrong URLs only counted. */
function withoutDetails(result: TestResult): TestResult & { details: false } {
  const wrong = result.errors.filter((e) => e.startsWith("NOTIFY_URLS #")).length;
  return {
    targets: result.targets.map((t) => ({ target: t.target.split(" ")[0] ?? "", delivered: t.delivered })),
    errors:
      wrong > 0
        ? [
            `${wrong} NOTIFY_URLS ${wrong === 1 ? "entry" : "entries"} cannot be used (an admin client sees which)`,
          ]
        : result.errors,
    details: false,
  };
}
