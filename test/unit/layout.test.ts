// The layout of src/ as the README describes it: folders by stage of the flow, and no module that
// reaches into a later stage except through that stage's boundary module. Also: index.ts stays a
// router, and no file of the repository cites notes that live outside it.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { ROOT } from "../support/endpoint";

/**
 * The stages in the order a report flows through them. `core` is the pure core (addresses,
 * plans): every stage may use it, and it uses no later stage. `config` comes before all: every
 * stage reads the configuration. A new folder must be given its stage here.
 */
const STAGES: Record<string, number> = {
  config: -1,
  access: 0,
  dyndns: 0,
  status: 0,
  notify: 0,
  core: 1,
  zone: 2,
  ovh: 3,
  dns: 3,
};

/**
 * What a module of an earlier stage may import from a later one: the data and constants that
 * cross into a coordinator and the Worker's way to reach one; the record API's contract and
 * the coordinator's way to OVH; the name servers' client and its TCP sockets.
 */
const BOUNDARIES = new Set([
  "zone/protocol.ts",
  "zone/stubs.ts",
  "ovh/records.ts",
  "ovh/calls.ts",
  "dns/client.ts",
  "dns/tcp.ts",
]);

/** Modules outside the stages: they wire the stages together and may import any of them. */
const EXEMPT = new Set(["index.ts", "scheduled.ts", "env.ts", "log.ts"]);

/** Known crossings, each with why it is there; an entry no longer needed fails the test. */
const ALLOWED: Record<string, string> = {
  "config/parse.ts -> ovh/endpoints.ts":
    "OVH_ENDPOINT is resolved by OVH's own list of endpoint names when the configuration is read",
};

const INDEX_MAX_LINES = 120;

/** Files of the repository: tracked, or new and not ignored (node_modules, .git and .tmp are out). */
function repositoryFiles(): string[] {
  const out = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "-z"], {
    cwd: ROOT,
    encoding: "utf8",
  });
  return out.split("\0").filter((f) => f !== "");
}

/** The modules under src/, as paths relative to src/. */
function srcModules(files: string[]): string[] {
  return files.filter((f) => f.startsWith("src/") && f.endsWith(".ts")).map((f) => f.slice(4));
}

/** Each relative import of every module, as paths relative to src/. */
function srcImports(modules: string[]): { from: string; to: string }[] {
  const known = new Set(modules);
  return modules.flatMap((from) => {
    const text = readFileSync(join(ROOT, "src", from), "utf8");
    return ts
      .preProcessFile(text, true, true)
      .importedFiles.map((i) => i.fileName)
      .filter((spec) => spec.startsWith("."))
      .map((spec) => {
        const base = normalize(join(dirname(from), spec));
        const to = [`${base}.ts`, join(base, "index.ts"), base].find((c) => known.has(c)) ?? `${base}.ts`;
        return { from, to };
      });
  });
}

const stageOf = (module: string): string | undefined =>
  module.includes("/") ? module.split("/")[0] : undefined;

/** Modules that are neither in a folder with a stage nor one of the wiring modules. */
function unstaged(modules: string[]): string[] {
  return modules.filter((m) => !EXEMPT.has(m) && !((stageOf(m) ?? "") in STAGES));
}

/** The imports that break the stage order, as "from -> to". */
function crossings(imports: { from: string; to: string }[]): string[] {
  const found: string[] = [];
  for (const { from, to } of imports) {
    if (EXEMPT.has(from) || EXEMPT.has(to)) continue;
    const [a, b] = [stageOf(from), stageOf(to)];
    if (a === undefined || b === undefined || !(a in STAGES) || !(b in STAGES)) continue;
    if (b === "core" || (STAGES[b] ?? 0) <= (STAGES[a] ?? 0) || BOUNDARIES.has(to)) continue;
    found.push(`${from} -> ${to}`);
  }
  return found;
}

describe("the src/ layout", () => {
  const modules = srcModules(repositoryFiles());
  const imports = srcImports(modules);

  it("every module lives in a folder with a stage, or is one of the wiring modules", () => {
    expect(modules.length).toBeGreaterThan(20);
    expect(unstaged(modules), "give each new folder its stage in STAGES (test/unit/layout.test.ts)").toEqual(
      [],
    );
  });

  it("no module imports from a later stage except through a boundary module", () => {
    expect(imports.length).toBeGreaterThan(40);
    const found = crossings(imports);
    expect(found.filter((c) => !(c in ALLOWED))).toEqual([]);
    expect(
      Object.keys(ALLOWED).filter((c) => !found.includes(c)),
      "allowed crossings no longer needed",
    ).toEqual([]);
  });

  it(`src/index.ts stays a router (at most ${INDEX_MAX_LINES} lines)`, () => {
    const lines = readFileSync(join(ROOT, "src", "index.ts"), "utf8")
      .trimEnd()
      .split("\n").length;
    expect(lines).toBeLessThanOrEqual(INDEX_MAX_LINES);
  });

  it("the guard finds a crossing when there is one", () => {
    const planted = [
      { from: "dyndns/update.ts", to: "zone/coordinator.ts" },
      { from: "zone/reconcile.ts", to: "ovh/client.ts" },
      { from: "core/plan.ts", to: "zone/protocol.ts" },
      { from: "dyndns/update.ts", to: "core/plan.ts" },
      { from: "ovh/sign.ts", to: "core/hex.ts" },
      { from: "index.ts", to: "zone/coordinator.ts" },
    ];
    expect(crossings(planted)).toEqual([
      "dyndns/update.ts -> zone/coordinator.ts",
      "zone/reconcile.ts -> ovh/client.ts",
    ]);
    expect(unstaged(["mail/send.ts", "index.ts", "zone/health.ts", "stray.ts"])).toEqual([
      "mail/send.ts",
      "stray.ts",
    ]);
  });
});

describe("the repository stands on its own", () => {
  // Spelled in pieces, so this file does not cite them itself.
  const CITATIONS = [
    new RegExp(["shared", "reference"].join("/")),
    new RegExp(`\\.\\./${"shared"}/`),
    new RegExp(`(^|[\\s"'\`(=:])/${"work"}/`, "m"),
  ];

  it("no file cites the notes outside the repository or an absolute /work path", () => {
    const found: string[] = [];
    for (const file of repositoryFiles()) {
      let text: string;
      try {
        text = readFileSync(join(ROOT, file), "utf8");
      } catch {
        continue; // deleted in the work tree, or not a file
      }
      for (const pattern of CITATIONS) {
        const line = text.split("\n").findIndex((l) => pattern.test(l));
        if (line >= 0) found.push(`${relative(ROOT, join(ROOT, file))}:${line + 1}`);
      }
    }
    expect(found, "write the fact into docs/reference/ in your own words and cite that").toEqual([]);
  });
});
