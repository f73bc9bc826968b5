// Structured log lines: one JSON object per line. Callers pass facts, never request headers or
// config objects, so no credential can reach a log by accident.
export type LogFields = Record<string, string | number | boolean | string[] | undefined>;

export function log(event: string, fields: LogFields): void {
  console.log(JSON.stringify({ event, ...fields }));
}
