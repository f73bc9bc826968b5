// A table's layout (src/zone/store/schema.ts) on SQLite: made when missing, given the columns and
// indexes a newer layout adds, and once brought to a layout, checked with one lookup instead of
// reading every column again (rows read are billed at every start of a coordinator).
import { DatabaseSync } from "node:sqlite";
import { describe, expect, it } from "vitest";

/** The part of a Durable Object's SqlStorage the function uses, on node:sqlite; logs each query. */
function sqlStorage() {
  const db = new DatabaseSync(":memory:");
  const queries: string[] = [];
  const sql = {
    exec: (query: string, ...bindings: (string | number | null)[]) => {
      queries.push(query);
      const rows = db.prepare(query).all(...bindings);
      return { toArray: () => rows };
    },
  };
  return { db, sql, queries };
}

// schema.ts is typed with the Workers' SqlStorage, which the tests' tsconfig does not have:
// imported by a path tsc does not follow, its signature spelled out here.
type EnsureTable = (sql: unknown, table: string, columns: string[], indexes?: Record<string, string>) => void;
const SCHEMA = "../../src/zone/store/schema";
const { ensureTable } = (await import(/* @vite-ignore */ SCHEMA)) as { ensureTable: EnsureTable };

const columnsOf = (db: DatabaseSync, table: string) =>
  db
    .prepare(`SELECT name FROM pragma_table_info('${table}')`)
    .all()
    .map((r) => r.name);
const indexesOf = (db: DatabaseSync, table: string) =>
  db
    .prepare(`SELECT name FROM pragma_index_list('${table}')`)
    .all()
    .map((r) => r.name);
const readsColumns = (queries: string[]) => queries.some((q) => q.includes("pragma_table_info"));

describe("ensureTable", () => {
  it("makes the table, then finds it at its layout with one lookup, not by reading its columns", () => {
    const { db, sql, queries } = sqlStorage();
    ensureTable(sql, "things", ["id TEXT PRIMARY KEY", "at INTEGER"], { things_at: "at" });
    expect(columnsOf(db, "things")).toEqual(["id", "at"]);
    expect(indexesOf(db, "things")).toContain("things_at");

    queries.length = 0;
    ensureTable(sql, "things", ["id TEXT PRIMARY KEY", "at INTEGER"], { things_at: "at" });
    expect(readsColumns(queries)).toBe(false);
    expect(queries.filter((q) => q.startsWith("SELECT"))).toHaveLength(1);
  });

  it("adds what a newer layout adds, keeping the rows", () => {
    const { db, sql, queries } = sqlStorage();
    ensureTable(sql, "things", ["id TEXT PRIMARY KEY"]);
    db.prepare("INSERT INTO things (id) VALUES ('a')").run();
    queries.length = 0;
    ensureTable(sql, "things", ["id TEXT PRIMARY KEY", "note TEXT"], { things_note: "note" });
    expect(readsColumns(queries)).toBe(true);
    expect(columnsOf(db, "things")).toEqual(["id", "note"]);
    expect(indexesOf(db, "things")).toContain("things_note");
    expect(db.prepare("SELECT id, note FROM things").all()).toEqual([{ id: "a", note: null }]);
  });

  it("brings a table that an older release made, before layouts were kept, to the layout", () => {
    const { db, sql } = sqlStorage();
    db.exec("CREATE TABLE things (id TEXT PRIMARY KEY)");
    db.prepare("INSERT INTO things (id) VALUES ('a')").run();
    ensureTable(sql, "things", ["id TEXT PRIMARY KEY", "note TEXT"]);
    expect(columnsOf(db, "things")).toEqual(["id", "note"]);
    expect(db.prepare("SELECT id, note FROM things").all()).toEqual([{ id: "a", note: null }]);
  });
});
