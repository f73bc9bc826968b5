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

export function renderStatusPage(report: StatusReport): string {
  const rows = report.hosts
    .flatMap((h) =>
      h.records.map(
        (r) =>
          `<tr><td>${html(h.name)}</td><td>${html(r.name)}</td><td>${r.type}</td><td><code>${html(r.target ?? "(not yet written)")}</code></td><td>${r.ttl}</td><td>${html(r.changedAt ?? "")}</td></tr>`,
      ),
    )
    .join("\n");
  const history = report.history
    .slice(0, 50)
    .map(
      (e) =>
        `<tr><td>${new Date(e.at).toISOString()}</td><td>${html(e.host)}</td><td>${html(e.source ?? "")}</td><td><code>${html(e.reported)}</code></td><td>${html(e.outcome)}</td><td>${html(e.changes.map((c) => `${c.type} ${c.name}: ${c.from ?? "(new)"} → ${c.to}`).join("; "))}</td></tr>`,
    )
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>DynDNS status: ${html(report.client)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin-bottom:2em}
td,th{border-bottom:1px solid #ddd;padding:.3em .8em;text-align:left}code{font-size:13px}</style></head>
<body><h1>DynDNS status for ${html(report.client)}</h1>
<h2>Records</h2><table><tr><th>Host</th><th>Name</th><th>Type</th><th>Target</th><th>TTL</th><th>Last changed</th></tr>
${rows}</table>
<h2>Recent reports</h2><table><tr><th>Time (UTC)</th><th>Host</th><th>From</th><th>Reported</th><th>Outcome</th><th>Changes</th></tr>
${history}</table></body></html>
`;
}
