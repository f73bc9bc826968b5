// The /status answer: what the client's hosts hold and the recent reports, as JSON or as a small
// HTML page. Every value is escaped; nothing secret is in the report to begin with.
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

const html = (s: string): string => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** A plain page for a browser: the records, then the recent reports, one line each. */
export function renderStatusPage(report: StatusReport): string {
  const lines = [
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
        `  ${new Date(e.at).toISOString()}  ${e.host}  ${e.outcome}  ${e.reported}  from ${e.source ?? "?"}${e.changes
          .map((c) => `  ${c.type} ${c.name}: ${c.from ?? "(new)"} -> ${c.to}`)
          .join("")}`,
    ),
  ];
  const title = `DynDNS status for ${html(report.client)}`;
  return `<!doctype html><meta charset="utf-8"><title>${title}</title><h1>${title}</h1><pre>${html(lines.join("\n"))}</pre>\n`;
}
