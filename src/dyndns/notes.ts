// Why part of a report changes nothing for a host, in one line for the log and the history: a
// family reported for a host with no record of that family, or an address field sent empty.
// Pure: no I/O. The reply is not affected (nochg stays nochg).
import type { HostSpec } from "../config";
import type { Desired } from "../core/plan";
import { isAbsent, PARAM_NAMES, type Params } from "./params";
import type { UpdateRequest } from "./report";

/** The note for one host's share of a report, or undefined when every family it carries is used. */
export function hostNote(
  host: HostSpec,
  req: UpdateRequest,
  planned: Desired[],
  params: Params,
): string | undefined {
  const notes: string[] = [];
  const has = (type: "A" | "AAAA") => host.records.some((r) => r.type === type);
  const plans = (type: "A" | "AAAA") => planned.some((d) => d.spec.type === type);

  if (req.v4 && !plans("A")) notes.push(`IPv4 ${req.v4.text} ignored: no A record for ${host.name}`);
  const v6 = req.v6 ? `IPv6 ${req.v6.text}` : req.prefix ? `prefix ${req.prefix.text}` : undefined;
  if (v6 && !plans("AAAA")) {
    notes.push(
      has("AAAA")
        ? `${v6} ignored: the AAAA records of ${host.name} without host_id take an IPv6 address, not a prefix`
        : `${v6} ignored: no AAAA record for ${host.name}`,
    );
  }
  const empty = emptyFields(params);
  if (!req.v4 && has("A") && empty.v4.length > 0)
    notes.push(`${empty.v4.join(", ")} empty: the A records of ${host.name} are left as they are`);
  if (!req.v6 && !req.prefix && has("AAAA") && empty.v6.length > 0)
    notes.push(`${empty.v6.join(", ")} empty: the AAAA records of ${host.name} are left as they are`);
  return notes.length > 0 ? notes.join("; ") : undefined;
}

/** Address parameters sent with no value (or a placeholder the router did not fill in), by family. */
function emptyFields(params: Params): { v4: string[]; v6: string[] } {
  const empty = (names: readonly string[]) => names.filter((n) => params.get(n)?.every((v) => isAbsent(v)));
  // myip carries both families ("<ipaddr>,<ip6addr>"): any part left empty counts, since a note
  // is only given for a family that came from nowhere else.
  const myip = PARAM_NAMES.myip.filter((n) => params.get(n)?.some((v) => v.split(",").some(isAbsent)));
  return {
    v4: [...myip, ...empty(PARAM_NAMES.v4)],
    v6: [...myip, ...empty(PARAM_NAMES.v6), ...empty(PARAM_NAMES.prefix)],
  };
}
