// Why part of a report changes nothing for a host, in one line for the log and the history: a
// family reported for a host with no record of that family, an IPv6 address that records with
// host_id do not take, or an address field sent empty.
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
  // Records with host_id take the prefix; an address feeds them only when no prefix field came.
  const takesAddress = (d: Desired) => d.spec.hostId === undefined || !req.prefix;
  const v6Used = planned.some((d) => d.spec.type === "AAAA" && takesAddress(d));
  if (req.v6 && !v6Used) {
    const v6 = `IPv6 ${req.v6.text}`;
    if (!has("AAAA")) notes.push(`${v6} ignored: no AAAA record for ${host.name}`);
    else if (req.prefix)
      notes.push(
        `${v6} not used: the AAAA records of ${host.name} have a host_id and take the prefix ${req.prefix.text}`,
      );
    else
      notes.push(
        `${v6} not used: the AAAA records of ${host.name} have a host_id and take a prefix, and ${req.emptyPrefix.join(", ")} came empty (the router has no prefix yet); they are left as they are`,
      );
  } else if (!req.v6 && req.prefix && !plans("AAAA")) {
    const v6 = `prefix ${req.prefix.text}`;
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
