// Replacing one `[vars.CLIENTS.NAME]` section of wrangler.toml as text, so comments and layout
// elsewhere stay as the user wrote them. The result is parsed again before anyone writes it.
import { parse } from "smol-toml";
import { KEYS } from "../../src/config";
import { CliError } from "./errors";
import { isTable } from "./wrangler-config";

const HEADER = /^\s*\[\s*([^[\]]+?)\s*\]\s*(#.*)?$/;

/** The dotted key of a `[a.b."c.d"]` header, split into its parts. */
function headerPath(inner: string): string[] | undefined {
  try {
    // Parse `[inner]` as a table header and walk down to the one leaf: TOML decides the quoting.
    const doc = parse(`[${inner}]\n`) as Record<string, unknown>;
    const path: string[] = [];
    let node: unknown = doc;
    while (isTable(node)) {
      const keys = Object.keys(node);
      if (keys.length !== 1 || keys[0] === undefined) break;
      path.push(keys[0]);
      node = node[keys[0]];
    }
    return path;
  } catch {
    return undefined;
  }
}

/** The lines [start, end) of `[vars.CLIENTS.NAME]`, or undefined when it has no such header. */
function sectionRange(lines: string[], name: string): [number, number] | undefined {
  const isHeader = (line: string) => HEADER.test(line) || /^\s*\[\[/.test(line);
  for (let i = 0; i < lines.length; i++) {
    const m = HEADER.exec(lines[i] ?? "");
    const path = m?.[1] ? headerPath(m[1]) : undefined;
    if (path && path.length === 3 && path[0] === "vars" && path[1] === KEYS.clients && path[2] === name) {
      let end = i + 1;
      while (end < lines.length && !isHeader(lines[end] ?? "")) end++;
      // Comments and blank lines just above the next section belong to it.
      while (end > i + 1 && /^\s*(#.*)?$/.test(lines[end - 1] ?? "")) end--;
      return [i, end];
    }
  }
  return undefined;
}

/**
 * `text` with the client's section replaced by `section`. When the client has none, the section
 * of `instead` (a placeholder client) is replaced if there is one, else `section` is appended. A
 * client defined another way (an inline table, dotted keys) cannot be edited safely: error.
 */
export function setClientSection(text: string, name: string, section: string, instead?: string): string {
  const lines = text.split("\n");
  const range =
    sectionRange(lines, name) ?? (instead === undefined ? undefined : sectionRange(lines, instead));
  if (range) {
    const [start, end] = range;
    return [...lines.slice(0, start), ...section.split("\n"), ...lines.slice(end)].join("\n");
  }
  const doc = parse(text) as Record<string, unknown>;
  const vars = doc.vars;
  const clients = isTable(vars) ? vars[KEYS.clients] : undefined;
  if (isTable(clients) && name in clients) {
    throw new CliError(
      `client "${name}" is defined in a form --write cannot edit; replace its password_sha256 and hosts by hand`,
    );
  }
  const body = text.replace(/\n*$/, "");
  return [...(body ? [body, ""] : []), ...section.split("\n"), ""].join("\n");
}

/** `text` without the client's `[vars.CLIENTS.NAME]` section (unchanged when it has none). */
export function removeClientSection(text: string, name: string): string {
  const lines = text.split("\n");
  const range = sectionRange(lines, name);
  if (!range) return text;
  let [start, end] = range;
  // The comment lines just above it describe it; one blank line around it is enough.
  while (start > 0 && /^\s*#/.test(lines[start - 1] ?? "")) start--;
  while (
    end < lines.length &&
    /^\s*$/.test(lines[end] ?? "") &&
    (start === 0 || /^\s*$/.test(lines[start - 1] ?? ""))
  )
    end++;
  return [...lines.slice(0, start), ...lines.slice(end)].join("\n");
}
