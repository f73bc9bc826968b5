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
const row = (cells: string[], tag = "td"): string =>
  `<tr>${cells.map((c) => `<${tag}>${c}</${tag}>`).join("")}</tr>`;
const table = (head: string[], rows: string[][]): string =>
  `<table>${row(head, "th")}${rows.map((cells) => row(cells)).join("\n")}</table>`;

export function renderStatusPage(report: StatusReport): string {
  const records = report.hosts.flatMap((h) =>
    h.records.map((r) => [
      html(h.name),
      html(r.name),
      r.type,
      `<code>${html(r.target ?? "(not yet written)")}</code>`,
      String(r.ttl),
      html(r.changedAt ?? ""),
    ]),
  );
  const history = report.history.map((e) => [
    new Date(e.at).toISOString(),
    html(e.host),
    html(e.source ?? ""),
    `<code>${html(e.reported)}</code>`,
    html(e.outcome),
    html(e.changes.map((c) => `${c.type} ${c.name}: ${c.from ?? "(new)"} → ${c.to}`).join("; ")),
  ]);
  const title = `DynDNS status for ${html(report.client)}`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<style>body{font-family:sans-serif}td,th{padding:.2em .8em;text-align:left}</style></head>
<body><h1>${title}</h1><h2>Records</h2>
${table(["Host", "Name", "Type", "Target", "TTL", "Last changed"], records)}
<h2>Recent reports</h2>
${table(["Time (UTC)", "Host", "From", "Reported", "Outcome", "Changes"], history)}</body></html>
`;
}
