// The DNS zone record API of OVH, typed. This is the provider the update logic talks to.
//
// Contract:
// - list() returns ids whose fieldType equals `type` and whose subDomain equals `subdomain`
//   (OVH filters subDomain case-insensitively; callers re-check the records they read).
// - get() returns undefined for an id that does not exist (deleted by hand, or a read racing a
//   create); every other failure throws an OvhError.
// - create() and update() write to the zone's staging copy; nothing is served by OVH's name
//   servers until refresh(). A partial failure leaves earlier writes staged: refresh what did
//   succeed, and the next report repairs the rest (writes are idempotent: target + TTL).
// - Record ids are numbers above 2^31 and below 2^53 (safe integers in JSON).
import type { RecordType } from "../config";
import { type OvhClient, OvhError } from "./client";

export interface OvhRecord {
  id: number;
  zone: string;
  fieldType: string;
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

export class OvhZoneApi {
  constructor(private readonly client: OvhClient) {}

  private base(zone: string): string {
    return `/domain/zone/${encodeURIComponent(zone)}`;
  }

  list(zone: string, type: RecordType, subdomain: string): Promise<number[]> {
    return this.client.request<number[]>("GET", `${this.base(zone)}/record`, {
      query: { fieldType: type, subDomain: subdomain },
    });
  }

  async get(zone: string, id: number): Promise<OvhRecord | undefined> {
    try {
      const r = await this.client.request<OvhRecord>("GET", `${this.base(zone)}/record/${id}`);
      return { ...r, subDomain: r.subDomain ?? "" };
    } catch (error) {
      if (error instanceof OvhError && error.notFound) return undefined;
      throw error;
    }
  }

  create(zone: string, r: RecordData): Promise<OvhRecord> {
    return this.client.request<OvhRecord>("POST", `${this.base(zone)}/record`, {
      body: { fieldType: r.type, subDomain: r.subdomain, target: r.target, ttl: r.ttl },
    });
  }

  async update(zone: string, id: number, r: Pick<RecordData, "target" | "ttl">): Promise<void> {
    await this.client.request<null>("PUT", `${this.base(zone)}/record/${id}`, {
      body: { target: r.target, ttl: r.ttl },
    });
  }

  async refresh(zone: string): Promise<void> {
    await this.client.request<null>("POST", `${this.base(zone)}/refresh`, { last: true });
  }
}
