// How a configuration problem is worded: the key's path, what is wrong in words, a likely
// intended name. Never the value of a secret or of a URL.
import type * as z from "zod/mini";

/** A path of keys as the messages show it: HOSTS."wg-end.example.tld".records[0].host_id */
export function formatPath(path: readonly PropertyKey[]): string {
  let at = "";
  for (const part of path) {
    if (typeof part === "number") at += `[${part}]`;
    else {
      const key = String(part);
      const word = /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? key : `"${key}"`;
      at += at === "" ? word : `.${word}`;
    }
  }
  return at;
}

/** One zod issue as a message line, its path after `under` (the keys above what was parsed). */
export function formatIssue(issue: z.core.$ZodIssue, under: readonly PropertyKey[] = []): string {
  return `${formatPath([...under, ...issue.path]) || "config"}: ${issue.message}`;
}

const TYPE_NAMES: Record<string, string> = {
  string: "a string",
  number: "a number",
  int: "a whole number",
  boolean: "true or false",
  object: "a table (object)",
  array: "a list",
};

/**
 * Messages for issues the schema gives none of its own (zod/mini ships no wording: it would say
 * "Invalid input"). What is wrong, in words; never the value itself.
 */
export function describeIssue(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case "unrecognized_keys":
      return `unknown key(s) ${issue.keys.map((k) => `"${k}"`).join(", ")}`;
    case "invalid_type":
      return issue.input === undefined
        ? "is missing"
        : `must be ${TYPE_NAMES[issue.expected] ?? issue.expected}`;
    default:
      return undefined;
  }
}

/** Why an OVH_ENDPOINT value is refused. A URL is not echoed: it may carry a password or token. */
export function endpointProblem(value: string): string {
  if (/^https?:\/\//i.test(value))
    return "must be a base URL without user, password, query or fragment, like https://eu.api.ovh.com/1.0";
  const shown = /^[\w.-]{1,40}$/.test(value) ? `"${value}" ` : "";
  return `${shown}is neither an OVH endpoint name (ovh-eu, ovh-ca, …) nor an http(s) URL`;
}

/** `; did you mean "x"?` for the one known name within two edits of `name`, else "". */
export function didYouMean(name: string, known: Iterable<string>): string {
  const near = [...known].filter((k) => k !== name && editDistance(name, k) <= 2);
  return near.length === 1 ? `; did you mean "${near[0]}"?` : "";
}

/** Levenshtein distance: insertions, deletions and substitutions that turn a into b. */
export function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      next[j] = Math.min((row[j] ?? 0) + 1, (next[j - 1] ?? 0) + 1, (row[j - 1] ?? 0) + cost);
    }
    row = next;
  }
  return row[b.length] ?? 0;
}
