// The /status answer: what the client's hosts hold and the recent reports, as JSON or, for a
// browser, as plain text (no markup, so nothing in it needs escaping). Nothing secret is in the
// report to begin with.
import { describeChange } from "./apply";
import type { HistoryEntry } from "./zone";

export interface StatusReport {
  client: string;
  hosts: {
    name: string;
    zone: string;
    records: {
      name: string;
      type: string;
      target: string | null;
      ttl: number;
      changedAt: string | null;
      confirmedAt: string | null;
    }[];
  }[];
  history: HistoryEntry[];
}

/** A plain-text page for a browser: the records, then the recent reports, one line each. */
export function renderStatusPage(report: StatusReport): string {
  const lines = [
    `DynDNS status for ${report.client}`,
    "",
    "Records:",
    ...report.hosts.flatMap((h) =>
      h.records.map(
        (r) =>
          `  ${r.type.padEnd(6)}${r.name}  ${r.target ?? "(not yet written)"}  ttl ${r.ttl}  changed ${r.changedAt ?? "-"}`,
      ),
    ),
    "",
    "Recent reports (UTC):",
    ...report.history.map(
      (e) =>
        `  ${new Date(e.at).toISOString()}  ${e.host}  ${e.outcome}  ${e.reported}  from ${e.source ?? "?"}${
          e.repeats > 1 ? `  (${e.repeats} times, the last at ${new Date(e.lastAt).toISOString()})` : ""
        }${e.changes.map((c) => `  ${describeChange(c)}`).join("")}`,
    ),
  ];
  return `${lines.join("\n")}\n`;
}
