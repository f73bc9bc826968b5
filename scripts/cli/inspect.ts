// Read-only look at the records the configured hosts write: list + get for each, as the Worker
// finds them (recordsNamed() of src/zone/reconcile.ts). Used by `setup ovh` to prove a new key
// works and by `check`.
import type { RecordSpec, Vars } from "../../src/config";
import type { OvhClient } from "../../src/ovh/client";
import { OvhRecordApi, type ZoneRecord } from "../../src/ovh/records";
import { fqdnOf } from "../../src/zone/protocol";
import { matches, recordsNamed } from "../../src/zone/reconcile";

export { fqdnOf };

export interface RecordView {
  host: string;
  spec: RecordSpec;
  /** The full name, e.g. wg-end.example.tld (the zone itself for the apex). */
  fqdn: string;
  /** What OVH holds for this name and type; more than one makes the Worker answer dnserr. */
  records?: ZoneRecord[];
  /** Records of another type on the same name that block this one (a CNAME). */
  blockers?: ZoneRecord[];
  error?: unknown;
}

/** Each configured record once (two hosts never share one: parseVars refuses that). */
export function configuredRecords(vars: Vars): { host: string; spec: RecordSpec }[] {
  return [...vars.hosts.values()].flatMap((h) => h.records.map((spec) => ({ host: h.name, spec })));
}

async function find(client: OvhClient, zone: string, type: "A" | "AAAA" | "CNAME", subdomain: string) {
  const api = new OvhRecordApi(client);
  if (type !== "CNAME") return recordsNamed(api, zone, type, subdomain);
  // OvhRecordApi.list takes the Worker's types only; a CNAME is listed with the same call.
  const ids = await client.request<number[]>("GET", `/domain/zone/${encodeURIComponent(zone)}/record`, {
    query: { fieldType: type, subDomain: subdomain },
  });
  const records = await Promise.all(ids.map((id) => api.get(zone, id)));
  return records.filter((r): r is ZoneRecord => r !== undefined && matches(r, type, subdomain));
}

/**
 * What OVH holds for every configured record. One record at a time: a person is waiting, and
 * OVH suggests staying under 60 calls a minute per key.
 */
export async function inspectRecords(
  client: OvhClient,
  vars: Vars,
  options: { cnames?: boolean } = {},
): Promise<RecordView[]> {
  const views: RecordView[] = [];
  const cnameChecked = new Map<string, ZoneRecord[]>();
  for (const { host, spec } of configuredRecords(vars)) {
    const view: RecordView = { host, spec, fqdn: fqdnOf(spec) };
    try {
      view.records = await find(client, spec.zone, spec.type, spec.subdomain);
      if (options.cnames) {
        const key = view.fqdn.toLowerCase();
        let cnames = cnameChecked.get(key);
        if (!cnames) {
          cnames = await find(client, spec.zone, "CNAME", spec.subdomain);
          cnameChecked.set(key, cnames);
        }
        if (cnames.length > 0) view.blockers = cnames;
      }
    } catch (error) {
      view.error = error;
    }
    views.push(view);
  }
  return views;
}

export function describeRecord(r: ZoneRecord): string {
  return `${r.target} (ttl ${r.ttl}, id ${r.id})`;
}
