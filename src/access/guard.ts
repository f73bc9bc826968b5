// Failed logins per source network: one small Durable Object per /32 (IPv4) or /64 (IPv6), so an
// attacker rotating addresses inside their own /64 is still one source. Past the limit, every
// request from that source answers `abuse` until its failures age out of the window, without
// checking the password: a right guess from a blocked source looks the same as a wrong one.
import { DurableObject } from "cloudflare:workers";
import { parseAddress, prefixOf } from "../core/address";
import type { Env } from "../env";

export interface GuardState {
  /** Seconds until the source may try again; 0 when it is not blocked. */
  blockedFor: number;
}

/** The name of the guard that watches a source address. */
export function sourceKey(ip: string | undefined): string {
  const addr = ip ? parseAddress(ip) : undefined;
  if (!addr?.ok) return "unknown";
  return addr.value.family === "v4" ? addr.value.text : prefixOf(addr.value, 64).text;
}

export class AuthGuard extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec("CREATE TABLE IF NOT EXISTS failures (at INTEGER NOT NULL)");
  }

  /** Is the source blocked now? */
  check(limit: number, windowSeconds: number): GuardState {
    return this.state(Date.now(), limit, windowSeconds);
  }

  /** Count one failed login and answer whether the source is now blocked. */
  fail(limit: number, windowSeconds: number): GuardState {
    const now = Date.now();
    this.sql.exec("DELETE FROM failures WHERE at <= ?", now - windowSeconds * 1000);
    this.sql.exec("INSERT INTO failures (at) VALUES (?)", now);
    return this.state(now, limit, windowSeconds);
  }

  /** Read-only, so the common check costs no storage write. */
  private state(now: number, limit: number, windowSeconds: number): GuardState {
    const windowMs = windowSeconds * 1000;
    const rows = this.sql
      .exec<{ at: number }>(
        "SELECT at FROM failures WHERE at > ? ORDER BY at DESC LIMIT 1 OFFSET ?",
        now - windowMs,
        limit - 1,
      )
      .toArray();
    const limitReachedAt = rows[0]?.at;
    if (limitReachedAt === undefined) return { blockedFor: 0 };
    // Blocked until the failure that reached the limit leaves the window.
    return { blockedFor: Math.max(1, Math.ceil((limitReachedAt + windowMs - now) / 1000)) };
  }
}
