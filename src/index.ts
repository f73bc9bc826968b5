// The Worker: Hono routes around the update flow. Every request gets one dyndns2 answer and one
// structured log line; anything unexpected answers 911, never a 500.
import { Hono } from "hono";
import { applyZone, NO_MEMORY } from "./apply";
import { loadConfig } from "./config";
import type { Env } from "./env";
import { log } from "./log";
import { RETRY_AFTER_911, type Reply, renderReply } from "./outcome";
import { OvhClient } from "./ovh/client";
import { OvhZoneApi } from "./ovh/records";
import { collectParams } from "./request";
import { handleUpdate, type UpdateFacts, type ZoneApplier } from "./update";

const UPDATE_PATHS = ["/nic/update", "/update"];
/** Form bodies larger than this are not read: a dyndns2 request fits in a URL. */
const MAX_FORM_BYTES = 64 * 1024;

type AppEnv = { Bindings: Env; Variables: { started: number } };
const app = new Hono<AppEnv>();

function send(reply: Reply): Response {
  const { status, body, headers } = renderReply(reply);
  return new Response(body, { status, headers });
}

// Hono answers HEAD with the GET handler; an update must never run for a HEAD.
app.use("*", async (c, next) => {
  if (c.req.method === "HEAD") return send({ kind: "method", allow: "GET, POST" });
  c.set("started", Date.now());
  await next();
});

app.on(["GET", "POST"], UPDATE_PATHS, async (c) => {
  const facts: UpdateFacts = {};
  const source = c.req.header("CF-Connecting-IP");
  const config = loadConfig(c.env);
  let reply: Reply;
  let client: OvhClient | undefined;
  if (!config.ok) {
    reply = { kind: "911", retryAfter: RETRY_AFTER_911 };
    facts.notes = config.errors.map((e) => `config: ${e}`);
  } else {
    const params = await readParams(c.req.raw);
    if (!params) reply = { kind: "badrequest", reason: "the form body is too large or unreadable" };
    else {
      const ovh = new OvhClient({
        endpoint: config.value.endpoint,
        credentials: config.value.credentials,
        timeoutMs: config.value.settings.ovhTimeoutMs,
      });
      client = ovh;
      const api = new OvhZoneApi(ovh);
      const direct: ZoneApplier = (batch) =>
        applyZone(api, batch.zone, batch.desired, NO_MEMORY, { now: Date.now(), recheckAfterMs: 0 });
      reply = await handleUpdate(
        config.value,
        { params, authorization: c.req.header("Authorization"), connectingIp: source },
        direct,
        facts,
      );
    }
  }
  const response = send(reply);
  log("update", {
    client: facts.client,
    source,
    agent: c.req.header("User-Agent")?.slice(0, 120),
    hosts: facts.hosts,
    reported: facts.reported,
    status: response.status,
    reply: (await response.clone().text()).trim().split("\n").join(" | "),
    changes: facts.changes,
    ovhCalls: client?.calls.length,
    ovhQueryIds: client?.queryIds,
    notes: facts.notes,
    ms: Date.now() - c.get("started"),
  });
  return response;
});

for (const path of UPDATE_PATHS) app.all(path, () => send({ kind: "method", allow: "GET, POST" }));

app.get("/", (c) =>
  c.text("ovh-dyndns-worker: a dyndns2 endpoint for OVH DNS. Send updates to /nic/update.\n", 200, {
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
  const length = Number(request.headers.get("Content-Length") ?? "0");
  if (length > MAX_FORM_BYTES) return undefined;
  const text = await request.text();
  if (text.length > MAX_FORM_BYTES) return undefined;
  return collectParams(query, new URLSearchParams(text));
}

export default app;
