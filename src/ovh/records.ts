// The record API the reconciler (src/zone/reconcile.ts) talks to, with its contract, and its
// implementation over the OVH API. The tests run one contract suite (test/contract/) against
// this implementation on the simulator, against an in-memory fake, and against a live OVH zone
// when its credentials are given.
import type { RecordType } from "../config";
import { notSent, type OvhClient, OvhError } from "./client";

/** A record as the provider holds it. */
export interface ZoneRecord {
  id: number;
  zone: string;
  fieldType: string;
  /** "" for the zone apex. */
  subDomain: string;
  target: string;
  ttl: number;
}

export interface RecordData {
  type: RecordType;
  subdomain: string;
  target: string;
  ttl: number;
}

/**
 * The DNS records of a zone. Contract:
 *
 * - **Reading.** `list` answers the ids of the records of exactly this type and name (OVH
 *   compares names case-insensitively; callers check each record they `get`). `get` answers
 *   undefined for an id no record has (deleted by hand, or a read racing a create).
 * - **Writing.** `create` and `update` write to the zone's staging copy; nothing of it is served
 *   until `refresh`. `update` answers false, and writes nothing, when no record has the id.
 *   Writes are idempotent (the whole target and TTL), so repeating one is always safe.
 * - **No change.** The API has no notion of it: a write of the same target and TTL is still a
 *   write. Deciding that nothing needs writing is the caller's job (compare, then write).
 * - **Partial failure.** Writes are independent: one that fails leaves the others staged, and
 *   the next `refresh` of the zone publishes every staged write, including those of an earlier
 *   attempt whose refresh failed. After any failure, what the zone serves is known only by
 *   reading it again.
 * - **Refresh.** One `refresh` after a set of writes publishes them all; it is needed only when
 *   something was written.
 * - **Failures.** Every failure throws an Error whose message says what was being done and
 *   holds no secret (OVH's message and query id, never a key or signature).
 */
export interface RecordApi {
  list(zone: string, type: RecordType, subdomain: string): Promise<number[]>;
  get(zone: string, id: number): Promise<ZoneRecord | undefined>;
  create(zone: string, record: RecordData): Promise<ZoneRecord>;
  update(zone: string, id: number, change: Pick<RecordData, "target" | "ttl">): Promise<boolean>;
  refresh(zone: string): Promise<void>;
}

/**
 * Why a call was held back before it was sent: the zone's breaker was open after a time-out,
 * the pace (or the job's deadline) left it for later, or the job had used its OVH calls.
 */
export type HoldCause = "breaker" | "pace" | "budget";

/** A call held back, and why: it cannot have reached OVH. */
export interface Hold {
  by: HoldCause;
  /** One line for a person, beginning "not sent: ". */
  reason: string;
}

/** A call held back before it was sent (a breaker, a pace, a deadline): it cannot have reached OVH. */
export class NotSent extends Error {
  constructor(
    readonly by: HoldCause,
    why: string,
  ) {
    super(notSent(why));
    this.name = "NotSent";
  }
}

/** The hold, when a failed call was never sent (NotSent, or the OVH client's call budget). */
export function heldBack(error: unknown): Hold | undefined {
  if (error instanceof NotSent) return { by: error.by, reason: error.message };
  if (error instanceof OvhError && error.kind === "not-sent") return { by: "budget", reason: error.message };
  return undefined;
}

/** Whether a call failed by taking its whole time-out (a hung or very slow OVH). */
export function timedOut(error: unknown): boolean {
  return error instanceof OvhError && error.kind === "timeout";
}

/**
 * Whether a failed call may still have taken effect at OVH: anything but a call never sent or
 * one OVH refused with a 4xx answer (a time-out, a lost connection, a 5xx, an unreadable answer:
 * the write may have landed). Errors of other RecordApis count as "may have".
 */
export function mayHaveLanded(error: unknown): boolean {
  if (heldBack(error)) return false;
  if (!(error instanceof OvhError)) return true;
  return !(error.kind === "http" && error.status >= 400 && error.status < 500);
}

/** The OVH API's `/domain/zone/{zone}/record` endpoints as a RecordApi. */
export class OvhRecordApi implements RecordApi {
  constructor(private readonly client: OvhClient) {}

  private base(zone: string): string {
    return `/domain/zone/${encodeURIComponent(zone)}`;
  }

  list(zone: string, type: RecordType, subdomain: string): Promise<number[]> {
    return this.client.request<number[]>("GET", `${this.base(zone)}/record`, {
      query: { fieldType: type, subDomain: subdomain },
    });
  }

  async get(zone: string, id: number): Promise<ZoneRecord | undefined> {
    try {
      const r = await this.client.request<ZoneRecord>("GET", `${this.base(zone)}/record/${id}`);
      return { ...r, subDomain: r.subDomain ?? "" };
    } catch (error) {
      if (error instanceof OvhError && error.notFound) return undefined;
      throw error;
    }
  }

  create(zone: string, r: RecordData): Promise<ZoneRecord> {
    return this.client.request<ZoneRecord>("POST", `${this.base(zone)}/record`, {
      body: { fieldType: r.type, subDomain: r.subdomain, target: r.target, ttl: r.ttl },
    });
  }

  async update(zone: string, id: number, r: Pick<RecordData, "target" | "ttl">): Promise<boolean> {
    try {
      await this.client.request<null>("PUT", `${this.base(zone)}/record/${id}`, {
        body: { target: r.target, ttl: r.ttl },
      });
      return true;
    } catch (error) {
      if (error instanceof OvhError && error.notFound) return false;
      throw error;
    }
  }

  async refresh(zone: string): Promise<void> {
    await this.client.request<null>("POST", `${this.base(zone)}/refresh`, { last: true });
  }
}

/**
 * The zone's authoritative name servers as OVH lists them (`GET /domain/zone/{zone}`,
 * `nameServers`: names such as "dns200.anycast.me"); entries that are not strings are left out.
 */
export async function zoneNameServers(client: OvhClient, zone: string): Promise<string[]> {
  const info = await client.request<{ nameServers?: unknown }>(
    "GET",
    `/domain/zone/${encodeURIComponent(zone)}`,
  );
  const list = Array.isArray(info?.nameServers) ? info.nameServers : [];
  return list.filter((n): n is string => typeof n === "string");
}
