// ovh-dyndns-worker as `npm run bench` runs it: the Worker's own app and Durable Objects, with
// counters around what the Workers Free plan bills. Every call on a Durable Object stub is one
// billed Durable Object request; every SQL statement's cursor tells the rows it read and wrote.
// GET /__bench/meter answers the counts since the previous GET of it (and is not counted).
// src/ knows nothing of this: the counting lives in this entry and in subclasses of its classes.

import type { Env } from "../../src/env";
import app, { ZoneCoordinator as Coordinator, AuthGuard as Guard } from "../../src/index";

export interface Meter {
  /** Calls on Durable Object stubs, by binding. */
  zones: number;
  guard: number;
  rowsRead: number;
  rowsWritten: number;
}

// One isolate holds the Worker and its Durable Objects in workerd, so one set of counters sees both.
let calls = { zones: 0, guard: 0 };
let cursors: SqlStorageCursor<Record<string, SqlStorageValue>>[] = [];

function take(): Meter {
  let rowsRead = 0;
  let rowsWritten = 0;
  for (const cursor of cursors) {
    rowsRead += cursor.rowsRead;
    rowsWritten += cursor.rowsWritten;
  }
  const meter = { ...calls, rowsRead, rowsWritten };
  calls = { zones: 0, guard: 0 };
  cursors = [];
  return meter;
}

/** Keep every cursor the object's SQL storage hands out, to read its row counts later. */
function meterSql(ctx: DurableObjectState): void {
  const sql = ctx.storage.sql;
  const exec = sql.exec.bind(sql);
  Object.defineProperty(sql, "exec", {
    value: (query: string, ...bindings: unknown[]) => {
      const cursor = exec(query, ...bindings);
      cursors.push(cursor);
      return cursor;
    },
  });
}

export class ZoneCoordinator extends Coordinator {
  constructor(ctx: DurableObjectState, env: Env) {
    meterSql(ctx);
    super(ctx, env);
  }
}

export class AuthGuard extends Guard {
  constructor(ctx: DurableObjectState, env: Env) {
    meterSql(ctx);
    super(ctx, env);
  }
}

/** The namespace, with every method call on its stubs counted under `binding`. */
function counted<T extends Rpc.DurableObjectBranded | undefined>(
  namespace: DurableObjectNamespace<T>,
  binding: keyof typeof calls,
): DurableObjectNamespace<T> {
  return new Proxy(namespace, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (typeof value !== "function") return value;
      if (property !== "get") return value.bind(target);
      return (...args: Parameters<typeof target.get>) =>
        new Proxy(target.get(...args), {
          get(stub, name) {
            const member = Reflect.get(stub, name, stub);
            if (typeof member !== "function") return member;
            return (...callArgs: unknown[]) => {
              calls[binding]++;
              return Reflect.apply(member, stub, callArgs);
            };
          },
        });
    },
  });
}

/** The same wrapped env for the same env, so the Worker's per-env memo (loadConfig) still holds. */
const wrapped = new WeakMap<Env, Env>();

export default {
  fetch(request: Request, env: Env, ctx: ExecutionContext): Response | Promise<Response> {
    if (new URL(request.url).pathname === "/__bench/meter") return Response.json(take());
    let metered = wrapped.get(env);
    if (!metered) {
      metered = { ...env, ZONES: counted(env.ZONES, "zones"), GUARD: counted(env.GUARD, "guard") };
      wrapped.set(env, metered);
    }
    return app.fetch(request, metered, ctx);
  },
} satisfies ExportedHandler<Env>;
