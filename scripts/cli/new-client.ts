// `new-client NAME --host H …`: a password for one router or host, its SHA-256 for wrangler.toml,
// and what to paste into the FRITZ!Box, ddclient and the shell client.
import { rename, stat, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { CLIENT_NAME_RE, isFqdn, KEYS, parseVars, type ReplyForm } from "../../src/config";
import { parseFlags } from "./args";
import { CliError, UsageError } from "./errors";
import type { Io } from "./io";
import {
  clientConfSnippet,
  clientToml,
  ddclientSnippet,
  fritzboxSnippet,
  generatePassword,
  inadynSnippet,
  PASSWORD_LENGTH,
  parseWorkerUrl,
  placeholderUrl,
  sha256Hex,
  type WorkerUrl,
} from "./snippets";
import { removeClientSection, setClientSection } from "./toml-edit";
import {
  DEFAULT_CONFIG,
  hostFeeds,
  hostNames,
  isTable,
  parseWranglerConfig,
  readWranglerConfig,
  type WranglerConfig,
} from "./wrangler-config";

export const NEW_CLIENT_HELP = `usage: npm run new-client -- NAME --host HOST [--host HOST …] [options]
       (tsx scripts/cli.ts new-client NAME --host HOST …)

Makes a password for one client (a router or a host that reports its addresses): ${PASSWORD_LENGTH} letters and
digits from crypto.getRandomValues (about 190 bits; nothing a router must escape). Prints its
SHA-256 as the [vars.${KEYS.clients}.NAME] lines for wrangler.toml, and ready-made settings for a
FRITZ!Box, ddclient and the shell client (client.conf). The password is shown once; only its hash
is kept.

NAME is the user name the client sends: 1 to 64 of A-Z a-z 0-9 . _ -
Each HOST must be a key of [vars.${KEYS.hosts}] in wrangler.toml (checked when the file exists).

options:
  --host HOST          a host this client may update (repeat for several)
  --url URL            the Worker's URL, e.g. https://ovh-dyndns.you.workers.dev (default: a
                       placeholder to replace)
  --config PATH        wrangler.toml (default ${DEFAULT_CONFIG})
  --write              put the [vars.${KEYS.clients}.NAME] section into wrangler.toml, in place of
                       that client's section, or else of a placeholder client's (whose
                       password_sha256 is no hash yet); the rest of the file is kept
  --client-conf PATH   also write client.conf for the shell client there (mode 0600)
  --interface IFACE    INTERFACE in client.conf (default eth0)
  --reply first        one answer line for a request naming several hosts (the first host's, or
                       the first failure): for a FRITZ!Box, which may read only the first line;
                       the default, lines, is one line per host
  -h, --help           this text

Exit status: 0 done, 1 failed, 2 usage error.`;

const HR = "-".repeat(72);

function parseNewClientFlags(argv: string[]) {
  return parseFlags(argv, {
    host: { type: "string", multiple: true },
    url: { type: "string" },
    config: { type: "string" },
    write: { type: "boolean" },
    "client-conf": { type: "string" },
    interface: { type: "string" },
    reply: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
}

type NewClientValues = ReturnType<typeof parseNewClientFlags>["values"];

/** What the command line asks for, checked. */
interface Request {
  name: string;
  hosts: string[];
  url: WorkerUrl | undefined;
  iface: string;
  configArg: string;
  reply: ReplyForm | undefined;
}

/** The new client: its password (shown once), its hash and its wrangler.toml section. */
interface NewClient {
  password: string;
  hash: string;
  section: string;
}

export async function newClientCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseNewClientFlags(argv);
  if (values.help) {
    io.out(NEW_CLIENT_HELP);
    return 0;
  }
  const request = readRequest(values, positionals);
  const config = await readConfigFor(io, request, values.write === true);
  const url = request.url ?? placeholderUrl(config?.name);
  const password = generatePassword();
  const hash = sha256Hex(password);
  const section = clientToml(request.name, hash, request.hosts, request.reply);
  const client: NewClient = { password, hash, section };
  if (config) passesTheWorkersCheck(config, request, hash);

  // Clients still holding a placeholder hash (the shipped `fritzbox`) make the whole configuration
  // invalid, so every client would get 911: --write puts the new client in the first one's place
  // and drops the others.
  const stale = config ? placeholderClients(config.vars, request.name) : [];
  if (values.write && config) await writeSection(config, request, client, stale);
  if (values["client-conf"] !== undefined)
    await writeClientConf(io, values["client-conf"], url, request, password);
  printClient(io, values, request, client, stale, url, config);
  return 0;
}

/** NAME, --host, --url, --interface and --config, checked; nothing read or written yet. */
function readRequest(values: NewClientValues, positionals: string[]): Request {
  const [name, ...extra] = positionals;
  if (name === undefined) throw new UsageError("new-client: give the client's NAME (see --help)");
  if (extra.length > 0)
    throw new UsageError(`new-client: unexpected argument "${extra[0]}" (hosts go after --host)`);
  if (!CLIENT_NAME_RE.test(name)) {
    throw new UsageError(
      `NAME "${name}": must be 1 to 64 characters of A-Z a-z 0-9 . _ - (it is the user name)`,
    );
  }
  const hosts = [...new Set((values.host ?? []).map((h) => h.trim().toLowerCase().replace(/\.$/, "")))];
  if (hosts.length === 0) throw new UsageError("--host: give at least one host this client may update");
  for (const h of hosts) {
    if (!isFqdn(h)) throw new UsageError(`--host "${h}": not a domain name like wg-end.example.tld`);
  }
  let url: WorkerUrl | undefined;
  if (values.url !== undefined) {
    url = parseWorkerUrl(values.url);
    if (!url) {
      throw new UsageError(
        `--url "${values.url}": must be the Worker's http(s) URL, e.g. https://ovh-dyndns.you.workers.dev`,
      );
    }
  }
  const iface = values.interface ?? "eth0";
  if (!/^[A-Za-z0-9._@:-]{1,15}$/.test(iface))
    throw new UsageError(`--interface "${iface}": not an interface name`);
  const reply = values.reply;
  if (reply !== undefined && reply !== "lines" && reply !== "first")
    throw new UsageError(`--reply "${reply}": "lines" (one line per host) or "first" (one line)`);
  return { name, hosts, url, iface, configArg: values.config ?? DEFAULT_CONFIG, reply };
}

/** wrangler.toml, when it exists: every --host must be one of its HOSTS. */
async function readConfigFor(io: Io, request: Request, write: boolean): Promise<WranglerConfig | undefined> {
  const { configArg, hosts } = request;
  const config = await readWranglerConfig(io.cwd, configArg);
  if (!config) {
    if (write) throw new CliError(`--write: ${configArg} does not exist`);
    io.err(`warning: ${configArg} not found; the hosts were not checked against [vars.${KEYS.hosts}]`);
    return undefined;
  }
  const known = hostNames(config) ?? [];
  const unknown = hosts.filter((h) => !known.includes(h));
  if (unknown.length > 0) {
    throw new CliError(
      `--host: ${unknown.map((h) => `"${h}"`).join(", ")} ${unknown.length === 1 ? "is" : "are"} not in [vars.${KEYS.hosts}] of ${configArg}` +
        ` (known: ${known.length > 0 ? known.join(", ") : "none"}); add the host there first`,
    );
  }
  return config;
}

/** The new client through the Worker's own schema, next to the hosts of wrangler.toml. */
function passesTheWorkersCheck(config: WranglerConfig, { name, hosts, reply }: Request, hash: string): void {
  const candidate = parseVars({
    ...config.vars,
    [KEYS.clients]: { [name]: { password_sha256: hash, hosts, ...(reply ? { reply } : {}) } },
  });
  const own = candidate.ok ? [] : candidate.errors.filter((e) => e.startsWith(`${KEYS.clients}`));
  if (own.length > 0)
    throw new CliError(`the new client would not pass the Worker's check:\n  - ${own.join("\n  - ")}`);
}

/** --write: the section in place of the client's own, or of the first placeholder client. */
async function writeSection(
  config: WranglerConfig,
  { name, configArg }: Request,
  { section, hash }: NewClient,
  stale: string[],
): Promise<void> {
  let text = setClientSection(config.text, name, section, stale[0]);
  for (const other of stale.slice(1)) text = removeClientSection(text, other);
  const again = parseWranglerConfig(config.path, text); // throws on broken TOML
  const clients = again.vars[KEYS.clients];
  const written = isTable(clients) ? clients[name] : undefined;
  const left = isTable(clients) ? stale.filter((other) => other in clients) : [];
  if (!isTable(written) || written.password_sha256 !== hash || left.length > 0) {
    throw new CliError(
      `--write: could not place [vars.${KEYS.clients}.${name}] in ${configArg}; add the lines by hand`,
    );
  }
  await replaceFile(config.path, text);
}

/** --client-conf: the shell client's file, mode 0600, never over an existing one. */
async function writeClientConf(
  io: Io,
  target: string,
  url: WorkerUrl,
  { name, hosts, iface }: Request,
  password: string,
): Promise<void> {
  const path = resolve(io.cwd, target);
  await writeFile(path, `${clientConfSnippet(url, name, password, hosts, iface)}\n`, {
    mode: 0o600,
    flag: "wx",
  }).catch((error: NodeJS.ErrnoException) => {
    throw new CliError(
      `--client-conf ${target}: ${error.code === "EEXIST" ? "exists already; not overwritten" : error.message}`,
    );
  });
}

/** The password once, the section, each client's recipe, and what to do next. */
function printClient(
  io: Io,
  values: NewClientValues,
  request: Request,
  { password, section }: NewClient,
  stale: string[],
  url: WorkerUrl,
  config: WranglerConfig | undefined,
): void {
  const { name, hosts, configArg } = request;

  io.out(`Client "${name}" for ${hosts.join(", ")}`);
  io.out("");
  io.out("Password (shown once; only its SHA-256 is kept):");
  io.out(`  ${password}`);
  io.out("");
  io.out(HR);
  const placeholders = stale.map((n) => `"${n}"`).join(", ");
  const dropped = stale.length > 0 ? ` (in place of the placeholder client ${placeholders})` : "";
  io.out(
    values.write
      ? `wrangler.toml: written to ${configArg}${dropped}:`
      : `wrangler.toml: add these lines (replace the section if "${name}" exists):`,
  );
  io.out("");
  io.out(section);
  io.out("");
  printRecipes(io, values, request, password, url, config);
  if (url.placeholder) {
    io.err(`warning: no --url given: replace ${url.base} with the Worker's URL (wrangler deploy prints it)`);
  }
  if (!values.write && config) {
    const instead = stale.length > 0 ? ` in place of the placeholder client ${placeholders}` : "";
    io.err(
      `next: paste the [vars.${KEYS.clients}.${name}] lines into ${configArg}${instead} (or use --write), then npm run deploy`,
    );
  }
}

/** What to paste into the FRITZ!Box, ddclient, inadyn and the shell client. */
function printRecipes(
  io: Io,
  values: NewClientValues,
  { name, hosts, iface, reply }: Request,
  password: string,
  url: WorkerUrl,
  config: WranglerConfig | undefined,
): void {
  io.out(HR);
  io.out("FRITZ!Box:");
  const feeds = config ? (host: string) => hostFeeds(config, host) : undefined;
  io.out(fritzboxSnippet(url, name, password, hosts, feeds, reply));
  io.out("");
  io.out(HR);
  io.out("ddclient:");
  io.out(ddclientSnippet(url, name, password, hosts));
  io.out("");
  io.out(HR);
  io.out("inadyn:");
  io.out(inadynSnippet(url, name, password, hosts));
  io.out("");
  io.out(HR);
  io.out(
    values["client-conf"] !== undefined
      ? `Shell client: written to ${values["client-conf"]} (mode 0600):`
      : "Shell client (client.conf, mode 0600):",
  );
  io.out(clientConfSnippet(url, name, password, hosts, iface));
}

/** Clients other than `name` whose password_sha256 is not a SHA-256 yet (a placeholder). */
function placeholderClients(vars: Record<string, unknown>, name: string): string[] {
  const clients = vars[KEYS.clients];
  if (!isTable(clients)) return [];
  return Object.entries(clients)
    .filter(([other, client]) => {
      if (other === name || !isTable(client)) return false;
      const hash = client.password_sha256;
      return typeof hash !== "string" || !/^[0-9a-fA-F]{64}$/.test(hash);
    })
    .map(([other]) => other);
}

/** Write next to the file, then rename over it: never a half-written wrangler.toml. */
async function replaceFile(path: string, text: string): Promise<void> {
  const mode = (await stat(path)).mode & 0o777;
  const temp = join(path, "..", `.wrangler.toml.${process.pid}.tmp`);
  await writeFile(temp, text, { mode });
  await rename(temp, path);
}
