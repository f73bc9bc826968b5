// The Worker: Hono routes around the update flow. Every request gets one dyndns2 answer and one
// structured log line; anything unexpected answers 911, never a 500.
import type { Context } from "hono";
import { Hono } from "hono/tiny";
import { recordKey } from "./apply";
import { authenticate, readCredentials } from "./auth";
import { type ClientSpec, type Config, loadConfig } from "./config";
import type { Env } from "./env";
import { sourceKey } from "./guard";
import { ZoneLines } from "./lines";
import { log } from "./log";
import { RETRY_AFTER_911, type Reply, renderReply } from "./outcome";
import { collectParams, type Params } from "./request";
import { renderStatusPage, type StatusReport } from "./status";
import { handleUpdate, type UpdateFacts, type ZoneApplier } from "./update";
import { HISTORY_LIMIT } from "./zone";

export { AuthGuard } from "./guard";
export { ZoneCoordinator } from "./zone";

const UPDATE_PATHS = ["/nic/update", "/update"];
/** Form bodies larger than this are not read: a dyndns2 request fits in a URL. */
const MAX_FORM_BYTES = 64 * 1024;

type AppEnv = { Bindings: Env };
type Ctx = Context<AppEnv>;
const app = new Hono<AppEnv>();

function send(reply: Reply): Response {
  const { status, body, headers } = renderReply(reply);
  return new Response(body, { status, headers });
}

/**
 * What this isolate knows of each source network, to spare the guard a call: a block (until it
 * ends), or a recent check that found the source clear. A failed login from the source drops
 * "clear" at once and is always counted by the guard, so a source that keeps failing is
 * refused consistently; the only slack is a source this isolate saw log in correctly within
 * CLEAR_FOR_MS (see SECURITY.md).
 */
const sources = new Map<string, { blockedUntil?: number; clearUntil?: number }>();
const CLEAR_FOR_MS = 30_000;
const MAX_SOURCES = 10_000;

/** This isolate's lines to the zone coordinators (src/lines.ts), made on first use. */
const lines = new WeakMap<object, ZoneLines>();
function zoneLines({ ZONES }: Env): ZoneLines {
  let zl = lines.get(ZONES);
  if (!zl) {
    const stub = (zone: string) => ZONES.get(ZONES.idFromName(zone));
    zl = new ZoneLines({
      apply: (zone, batch, served, caller) => stub(zone).apply(batch, served, caller),
      record: (zone, served) => stub(zone).record(served),
    });
    lines.set(ZONES, zl);
  }
  return zl;
}

type Access = { ok: true; config: Config; client: ClientSpec; params: Params } | { ok: false; reply: Reply };

/** Config, parameters and credentials, with the abuse limit for failed logins. */
async function access(c: Ctx, facts: UpdateFacts): Promise<Access> {
  // Hono answers HEAD with the GET handler; an update must never run for a HEAD.
  if (c.req.method === "HEAD") return { ok: false, reply: { kind: "method", allow: "GET, POST" } };
  const config = loadConfig(c.env);
  if (!config.ok) {
    facts.notes = config.errors.map((e) => `config: ${e}`);
    return { ok: false, reply: { kind: "911", retryAfter: RETRY_AFTER_911 } };
  }
  const params = await readParams(c.req.raw);
  if (!params)
    return { ok: false, reply: { kind: "badrequest", reason: "the form body is too large or unreadable" } };

  const { authFailLimit, authFailWindow } = config.value.settings;
  const source = sourceKey(c.req.header("CF-Connecting-IP"));
  const now = Date.now();
  const known = sources.get(source);
  if (known?.blockedUntil && known.blockedUntil > now) {
    return { ok: false, reply: { kind: "abuse", retryAfter: Math.ceil((known.blockedUntil - now) / 1000) } };
  }
  const credentials = readCredentials(c.req.header("Authorization"), params);
  // No (or unreadable) credentials is not a guess: a browser asks once before it prompts.
  if (!credentials) return { ok: false, reply: { kind: "badauth" } };
  const client = await authenticate(config.value, credentials);
  if (!client || !known?.clearUntil || known.clearUntil <= now) {
    const guard = c.env.GUARD.get(c.env.GUARD.idFromName(source));
    const { blockedFor } = client
      ? await guard.check(authFailLimit, authFailWindow)
      : await guard.fail(authFailLimit, authFailWindow);
    if (sources.size >= MAX_SOURCES) sources.clear();
    if (blockedFor > 0) {
      sources.set(source, { blockedUntil: Date.now() + blockedFor * 1000 });
      facts.notes = [`source ${source} is blocked for ${blockedFor} s after repeated failed logins`];
      return { ok: false, reply: { kind: "abuse", retryAfter: blockedFor } };
    }
    if (client) sources.set(source, { clearUntil: Date.now() + CLEAR_FOR_MS });
    else sources.delete(source);
  }
  if (!client) return { ok: false, reply: { kind: "badauth" } };
  facts.client = client.name;
  return { ok: true, config: config.value, client, params };
}

app.on(["GET", "POST"], UPDATE_PATHS, async (c) => {
  const started = Date.now();
  const facts: UpdateFacts = {};
  const source = c.req.header("CF-Connecting-IP");
  const granted = await access(c, facts);
  let reply: Reply;
  if (!granted.ok) reply = granted.reply;
  else {
    const coordinator: ZoneApplier = (batch) =>
      zoneLines(c.env).apply(batch, (work) => c.executionCtx.waitUntil(work));
    reply = await handleUpdate(
      granted.config,
      granted.client,
      { params: granted.params, connectingIp: source },
      coordinator,
      facts,
    );
  }
  const rendered = renderReply(reply);
  const response = new Response(rendered.body, { status: rendered.status, headers: rendered.headers });
  // Empty facts are left out: most lines are of unchanged reports. Repeats answered from a
  // lease are counted in one line later (src/lines.ts).
  if (!facts.quiet)
    log("update", {
      client: facts.client,
      source,
      agent: c.req.header("User-Agent")?.slice(0, 120),
      hosts: facts.hosts,
      reported: facts.reported,
      status: rendered.status,
      reply: rendered.body.trim().split("\n").join(" | "),
      changes: facts.changes,
      ovhCalls: facts.ovhCalls || undefined,
      ovhQueryIds: facts.queryIds?.length ? facts.queryIds : undefined,
      notes: facts.notes?.length ? facts.notes : undefined,
      ms: Date.now() - started,
    });
  return response;
});

for (const path of UPDATE_PATHS) app.all(path, () => send({ kind: "method", allow: "GET, POST" }));

// What the client's hosts hold now and what happened recently: JSON, or HTML for a browser.
app.get("/status", async (c) => {
  const facts: UpdateFacts = {};
  const granted = await access(c, facts);
  if (!granted.ok) {
    log("status", { client: facts.client, status: renderReply(granted.reply).status, notes: facts.notes });
    return send(granted.reply);
  }
  const { config, client } = granted;
  // ?history=N shows up to N recent reports (default 50, at most the 1,000 kept per zone).
  const asked = Number(c.req.query("history") ?? 50);
  const historyLength = Number.isInteger(asked) ? Math.min(Math.max(asked, 0), HISTORY_LIMIT) : 50;
  const byZone = new Map<string, string[]>();
  for (const name of client.hosts) {
    const host = config.hosts.get(name);
    if (host) byZone.set(host.zone, [...(byZone.get(host.zone) ?? []), name]);
  }
  const report: StatusReport = { client: client.name, hosts: [], history: [] };
  await Promise.all(
    [...byZone].map(async ([zone, names]) => {
      const keys = names.flatMap(
        (n) => config.hosts.get(n)?.records.map((r) => recordKey(r.type, r.subdomain)) ?? [],
      );
      const status = await c.env.ZONES.get(c.env.ZONES.idFromName(zone)).status(keys, names, historyLength);
      for (const name of names) {
        const host = config.hosts.get(name);
        report.hosts.push({
          name,
          zone,
          records: (host?.records ?? []).map((r) => {
            const state = status.records[recordKey(r.type, r.subdomain)];
            return {
              name: r.subdomain ? `${r.subdomain}.${zone}` : zone,
              type: r.type,
              target: state?.target ?? null,
              ttl: state?.ttl ?? r.ttl,
              changedAt: state ? new Date(state.changedAt).toISOString() : null,
              confirmedAt: state ? new Date(state.confirmedAt).toISOString() : null,
            };
          }),
        });
      }
      report.history.push(...status.history);
    }),
  );
  report.hosts.sort((a, b) => a.name.localeCompare(b.name));
  report.history.sort((a, b) => b.lastAt - a.lastAt);
  report.history.splice(historyLength);
  log("status", { client: client.name, status: 200 });
  const browser = (c.req.header("Accept") ?? "").includes("text/html");
  return new Response(browser ? renderStatusPage(report) : JSON.stringify(report), {
    headers: {
      "Content-Type": browser ? "text/plain; charset=utf-8" : "application/json",
      "X-Content-Type-Options": "nosniff",
      "Cache-Control": "no-store",
    },
  });
});

app.get("/", (c) =>
  c.text("ovh-dyndns-worker: send dyndns2 updates to /nic/update\n", 200, {
    "Cache-Control": "no-store",
  }),
);

app.notFound(() => send({ kind: "notfound" }));

app.onError((error) => {
  log("error", { message: error instanceof Error ? error.message : String(error) });
  return send({ kind: "911", retryAfter: RETRY_AFTER_911 });
});

async function readParams(request: Request): Promise<Map<string, string[]> | undefined> {
  const query = new URL(request.url).searchParams;
  const type = request.headers.get("Content-Type") ?? "";
  if (request.method !== "POST" || !type.toLowerCase().startsWith("application/x-www-form-urlencoded")) {
    return collectParams(query);
  }
  const text = await readCapped(request, MAX_FORM_BYTES);
  return text === undefined ? undefined : collectParams(query, new URLSearchParams(text));
}

/** The body as text, or undefined past `limit` bytes, chunked or not, holding at most `limit` bytes. */
async function readCapped(request: Request, limit: number): Promise<string | undefined> {
  if (Number(request.headers.get("Content-Length") ?? "0") > limit) return undefined;
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    // Past the limit, keep reading (so the client can finish sending and read our answer) but
    // keep nothing: memory stays bounded by the limit.
    if (size <= limit) chunks.push(value);
  }
  if (size > limit) return undefined;
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}

export default app;
