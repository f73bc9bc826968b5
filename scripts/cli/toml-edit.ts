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

/**
 * `text` with the client's section replaced by `section`, or appended when there is none. A
 * client defined another way (an inline table, dotted keys) cannot be edited safely: error.
 */
export function setClientSection(text: string, name: string, section: string): string {
  const lines = text.split("\n");
  const isHeader = (line: string) => HEADER.test(line) || /^\s*\[\[/.test(line);
  let start = -1;
  for (let i = 0; i < lines.length; i++) {
    const m = HEADER.exec(lines[i] ?? "");
    const path = m?.[1] ? headerPath(m[1]) : undefined;
    if (path && path.length === 3 && path[0] === "vars" && path[1] === KEYS.clients && path[2] === name) {
      start = i;
      break;
    }
  }
  let out: string[];
  if (start >= 0) {
    let end = start + 1;
    while (end < lines.length && !isHeader(lines[end] ?? "")) end++;
    // Comments and blank lines just above the next section belong to it.
    while (end > start + 1 && /^\s*(#.*)?$/.test(lines[end - 1] ?? "")) end--;
    out = [...lines.slice(0, start), ...section.split("\n"), ...lines.slice(end)];
  } else {
    const doc = parse(text) as Record<string, unknown>;
    const vars = doc.vars;
    const clients = isTable(vars) ? vars[KEYS.clients] : undefined;
    if (isTable(clients) && name in clients) {
      throw new CliError(
        `client "${name}" is defined in a form --write cannot edit; replace its password_sha256 and hosts by hand`,
      );
    }
    const body = text.replace(/\n*$/, "");
    out = [...(body ? [body, ""] : []), ...section.split("\n"), ""];
  }
  return out.join("\n");
}
