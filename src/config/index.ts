// The Worker's configuration: [vars] of wrangler.toml and the secrets, parsed once per isolate.
//   types.ts     the keys of wrangler.toml and the parsed shapes (Config, HostSpec, …)
//   schema.ts    the zod schemas of hosts, records and clients
//   settings.ts  [vars.SETTINGS] from one table: key, schema, default, doc line
//   parse.ts     parseVars / parseConfig / loadConfig: every problem of a configuration at once
//   secrets.ts   the secrets the Worker reads, when each is needed, and the checks of their values
//   issues.ts    how a problem is worded: the key's path, what is wrong, a likely intended name
export * from "./issues";
export * from "./parse";
export * from "./schema";
export * from "./secrets";
export * from "./settings";
export * from "./types";
