// The floor under a warm change: what this machine charges for the hops a change takes, with
// none of ovh-dyndns-worker's logic. The Worker hands the report to a Durable Object, which
// makes two calls to the OVH simulator in parallel, then one more (as two updates and a
// refresh do), stores one row and answers. `npm run bench` runs it next to the warm change,
// built and served the same way, so the difference between the two is the Worker's own.
import { DurableObject } from "cloudflare:workers";

interface Env {
  FLOOR: DurableObjectNamespace<Floor>;
  /** The simulator's base URL (…/1.0). */
  OVH_ENDPOINT: string;
}

export class Floor extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS targets (target TEXT)");
  }

  async change(target: string): Promise<string> {
    // GET /auth/time needs no signature and costs one round trip, like any other call.
    const call = async () => (await fetch(`${this.env.OVH_ENDPOINT}/auth/time`)).text();
    await Promise.all([call(), call()]);
    await call();
    this.ctx.storage.sql.exec("INSERT INTO targets (target) VALUES (?)", target);
    return `good ${target}\n`;
  }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const target = new URL(request.url).searchParams.get("myip") ?? "";
    return new Response(await env.FLOOR.get(env.FLOOR.idFromName("zone")).change(target));
  },
};
