// Failed logins per source network: one small Durable Object per IPv4 address or IPv6 prefix
// (a /56 unless auth_ipv6_prefix says otherwise, since a home gets a /56 or a /48 and can rotate
// through all of it). Failures are counted per user name: a device with a stale password locks
// out its own user name at that source, not the household. A coarser cap across user names
// (SOURCE_CAP_FACTOR × the limit) still stops one source from guessing many names. While blocked,
// a user name (or the whole source) answers `abuse` without its password being checked, and
// its failures are no longer counted, so a right guess and a wrong one get the same answer and
// the same Retry-After. Once the last failure has left the window, an alarm deletes the
// object's storage: a source that failed once leaves nothing behind. Its times are clockNow()'s
// (src/core/clock.ts).
import { DurableObject } from "cloudflare:workers";
import { loadConfig } from "../config";
import { sourceNetwork } from "../core/address";
import { clockNow, followTestClock } from "../core/clock";
import type { Env } from "../env";

/** Failures of all user names from one source, as a multiple of auth_fail_limit, before it is blocked. */
export const SOURCE_CAP_FACTOR = 3;

export interface GuardState {
  /** Milliseconds until this user name may try again from the source; 0 when not blocked. */
  blockedForMs: number;
  /** Milliseconds until any user name may try again from the source; 0 when not blocked. */
  sourceBlockedForMs: number;
}

const CLEAR: GuardState = { blockedForMs: 0, sourceBlockedForMs: 0 };

/** How long a client's failed logins stay listed in its status (failedLogins). */
export const FAILED_LOGINS_KEPT_MS = 86_400_000;

/** The guard that lists a configured user name's failed logins (see noteFailedLogin). */
export const loginsGuardName = (user: string) => `logins ${user}`;

/** The name of the guard that watches a source address: IPv4 per address, IPv6 per prefix. */
export const sourceKey = sourceNetwork;

export class AuthGuard extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  /** The failed_logins table exists. Created by the first failure, not before: a check writes nothing. */
  private hasTable = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
  }

  // The guard named "session CLIENT" (never a source's name) remembers when the client last
  // logged out of the status page (session.ts); sessions opened before then are over.
  sessionsEndedAt(): number {
    return this.ctx.storage.kv.get<number>("sessionsEndedAt") ?? 0;
  }

  endSessions(at: number): void {
    this.ctx.storage.kv.put("sessionsEndedAt", Math.max(at, this.sessionsEndedAt()));
  }

  // The guard named "logins USER" (a configured client's name; never a source's) keeps that
  // user's failed logins per source network for the status page, for FAILED_LOGINS_KEPT_MS.

  /** Count one failed login of this guard's user from `source`. */
  async noteFailedLogin(source: string): Promise<void> {
    const now = clockNow();
    this.sql.exec(
      "CREATE TABLE IF NOT EXISTS user_failures (source TEXT PRIMARY KEY, count INTEGER, last_at INTEGER)",
    );
    this.sql.exec("DELETE FROM user_failures WHERE last_at <= ?", now - FAILED_LOGINS_KEPT_MS);
    this.sql.exec(
      "INSERT INTO user_failures (source, count, last_at) VALUES (?, 1, ?) ON CONFLICT (source) DO UPDATE SET count = count + 1, last_at = excluded.last_at",
      source,
      now,
    );
    await this.ctx.storage.setAlarm(now + FAILED_LOGINS_KEPT_MS);
  }

  /** This guard's user's failed logins per source within FAILED_LOGINS_KEPT_MS, newest first. */
  failedLogins(): { source: string; count: number; lastAt: number }[] {
    const exists = this.sql
      .exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'user_failures'")
      .toArray().length;
    if (!exists) return [];
    return this.sql
      .exec<{ source: string; count: number; last_at: number }>(
        "SELECT * FROM user_failures WHERE last_at > ? ORDER BY last_at DESC LIMIT 20",
        clockNow() - FAILED_LOGINS_KEPT_MS,
      )
      .toArray()
      .map((r) => ({ source: r.source, count: r.count, lastAt: r.last_at }));
  }

  /** Is this user name, or the whole source, blocked now? Writes nothing. */
  async check(user: string, limit: number, windowSeconds: number): Promise<GuardState> {
    // The clock of the request's isolate, which may be another than this object's.
    await followTestClock(this.env.TEST_CLOCK);
    if (!this.tableExists()) return CLEAR;
    return this.state(clockNow(), user, limit, windowSeconds * 1000);
  }

  /** Count one failed login of `user`, unless already blocked, and answer whether it is blocked now. */
  async fail(user: string, limit: number, windowSeconds: number): Promise<GuardState> {
    await followTestClock(this.env.TEST_CLOCK);
    const now = clockNow();
    const windowMs = windowSeconds * 1000;
    if (!this.tableExists()) {
      this.sql.exec("CREATE TABLE IF NOT EXISTS failed_logins (at INTEGER NOT NULL, user TEXT NOT NULL)");
      this.hasTable = true;
    }
    // A blocked login is not counted: the block would grow with every try, and a wrong password
    // would get another Retry-After than a right one.
    const before = this.state(now, user, limit, windowMs);
    if (before.blockedForMs > 0) return before;
    this.sql.exec("DELETE FROM failed_logins WHERE at <= ?", now - windowMs);
    this.sql.exec("INSERT INTO failed_logins (at, user) VALUES (?, ?)", now, user);
    await this.ctx.storage.setAlarm(now + windowMs);
    return this.state(now, user, limit, windowMs);
  }

  /** The window of the newest failure has passed: forget the source, or wait for the rest. */
  override async alarm(): Promise<void> {
    await followTestClock(this.env.TEST_CLOCK);
    const config = loadConfig(this.env);
    const windowMs = (config.ok ? config.value.settings.authFailWindow : 0) * 1000;
    const newest = this.tableExists()
      ? this.sql.exec<{ at: number | null }>("SELECT MAX(at) AS at FROM failed_logins").one().at
      : null;
    if (newest !== null && newest + windowMs > clockNow()) {
      await this.ctx.storage.setAlarm(newest + windowMs);
      return;
    }
    await this.ctx.storage.deleteAll();
    this.hasTable = false;
  }

  private tableExists(): boolean {
    this.hasTable ||=
      this.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'failed_logins'").toArray()
        .length > 0;
    return this.hasTable;
  }

  /** Read-only: blocked until the failure that reached a limit leaves the window. */
  private state(now: number, user: string, limit: number, windowMs: number): GuardState {
    const since = now - windowMs;
    const reachedAt = (rows: { at: number }[]) => rows[0]?.at;
    const userAt = reachedAt(
      this.sql
        .exec<{ at: number }>(
          "SELECT at FROM failed_logins WHERE user = ? AND at > ? ORDER BY at DESC LIMIT 1 OFFSET ?",
          user,
          since,
          limit - 1,
        )
        .toArray(),
    );
    const sourceAt = reachedAt(
      this.sql
        .exec<{ at: number }>(
          "SELECT at FROM failed_logins WHERE at > ? ORDER BY at DESC LIMIT 1 OFFSET ?",
          since,
          SOURCE_CAP_FACTOR * limit - 1,
        )
        .toArray(),
    );
    const left = (at: number | undefined) => (at === undefined ? 0 : Math.max(1, at + windowMs - now));
    const sourceBlockedForMs = left(sourceAt);
    return { blockedForMs: Math.max(left(userAt), sourceBlockedForMs), sourceBlockedForMs };
  }
}
