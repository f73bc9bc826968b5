// The Worker's routes. The flow of an update, stage by stage:
//   config/   the configuration every stage reads, parsed once per isolate
//   access/   credentials, the browser session and the failed-login guard
//   dyndns/   the request's parameters, the report they carry, the plan per host, the reply
//   core/     the pure core every stage uses: addresses, prefixes and the plan of a host's records
//   zone/     each zone's coordinator (a Durable Object) reconciles the planned records, keeps
//             the history and each host's health, and runs the scheduled check
//   ovh/      the record API over OVH's signed HTTP API, behind the zone's call policy
//   dns/      the zone's authoritative name servers, asked over DNS over TCP
// Beside the flow: status/ (the /status page and its JSON) and notify/ (the notifier, a Durable
// Object, and the services it sends to).
// Every request gets one dyndns2 answer and one structured log line; anything unexpected answers
// 911, never a 500. The Cron Trigger runs each zone's scheduled check (src/scheduled.ts).
import { Hono } from "hono/tiny";
import { access } from "./access/access";
import { fromBrowser } from "./access/origin";
import { followTestClock } from "./core/clock";
import { messageOf } from "./core/text";
import { discardBody } from "./dyndns/params";
import { RETRY_AFTER_911, type Reply, renderReply } from "./dyndns/reply";
import { handleUpdate, type UpdateFacts } from "./dyndns/update";
import type { Env } from "./env";
import { log } from "./log";
import { scheduled } from "./scheduled";
import { statusRoutes } from "./status/routes";
import { zoneSide } from "./zone/stubs";

export { AuthGuard } from "./access/guard";
export { Notifier } from "./notify/notifier";
export { ZoneCoordinator } from "./zone/coordinator";

const UPDATE_PATHS = ["/nic/update", "/update"];

const app = new Hono<{ Bindings: Env }>();

function send(reply: Reply): Response {
  const { status, body, headers } = renderReply(reply);
  return new Response(body, { status, headers });
}

app.on(["GET", "POST"], UPDATE_PATHS, async (c) => {
  const started = Date.now();
  const source = c.req.header("CF-Connecting-IP");
  const agent = c.req.header("User-Agent")?.slice(0, 120) ?? null;
  const later = (work: Promise<unknown>) => c.executionCtx.waitUntil(work);
  const granted = await access(c.req.raw, c.env, { changesState: true, later });
  let reply: Reply;
  let facts: UpdateFacts = { notes: granted.ok ? undefined : granted.notes };
  if (granted.ok) {
    ({ reply, facts } = await handleUpdate(
      granted.config,
      granted.client,
      { params: granted.params, connectingIp: source, agent },
      zoneSide(c.env),
    ));
  } else reply = granted.reply;
  const rendered = renderReply(reply, granted.ok ? granted.client.reply : undefined);
  // A browser is never asked for Basic: it would cache the password and replay it for any page.
  if (fromBrowser(c.req.raw)) delete rendered.headers["WWW-Authenticate"];
  log("update", {
    client: granted.ok ? granted.client.name : undefined,
    source,
    agent: agent ?? undefined,
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
  return new Response(rendered.body, { status: rendered.status, headers: rendered.headers });
});

for (const path of UPDATE_PATHS) app.all(path, () => send({ kind: "method", allow: "GET, POST" }));

app.route("/", statusRoutes);

app.get("/", (c) =>
  c.text("ovh-dyndns-worker: send dyndns2 updates to /nic/update\n", 200, { "Cache-Control": "no-store" }),
);

app.notFound(() => send({ kind: "notfound" }));

app.onError((error) => {
  log("error", { message: messageOf(error) });
  return send({ kind: "911", retryAfter: RETRY_AFTER_911 });
});

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    await followTestClock(env.TEST_CLOCK);
    const response = await app.fetch(request, env, ctx);
    // Whatever answered, a body no route read is read and dropped first: an answer sent while
    // the body is still arriving ends the connection under the client (workerd), and a client
    // that reuses it fails its next request.
    await discardBody(request);
    return response;
  },
  async scheduled(controller: ScheduledController, env: Env): Promise<void> {
    await followTestClock(env.TEST_CLOCK);
    await scheduled(controller, env);
  },
} satisfies ExportedHandler<Env>;
