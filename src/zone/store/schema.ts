// The one way a table of the coordinator's SQLite storage is made and kept up to date: created
// when missing, given each column added since its first layout (NULL in older rows), indexed.
// The layout a table was last brought to is kept in table_layouts, so an object that starts
// reads one row per table there instead of one per column of pragma_table_info (rows read are
// billed, and a coordinator starts again for nearly every report of a client that reports every
// few minutes).

/**
 * Create `table` with `columns` (SQL column definitions) when it is missing, add any of them it
 * lacks, and create the `indexes` (name → column list) that are missing; nothing beyond the
 * CREATE and one lookup when the table was already brought to this layout.
 */
export function ensureTable(
  sql: SqlStorage,
  table: string,
  columns: string[],
  indexes: Record<string, string> = {},
): void {
  sql.exec(`CREATE TABLE IF NOT EXISTS ${table} (${columns.join(", ")})`);
  sql.exec("CREATE TABLE IF NOT EXISTS table_layouts (name TEXT PRIMARY KEY, layout TEXT)");
  const layout = JSON.stringify({ columns, indexes });
  const done = sql
    .exec<{ layout: string }>("SELECT layout FROM table_layouts WHERE name = ?", table)
    .toArray()[0];
  if (done?.layout === layout) return;
  const have = new Set(
    sql
      .exec<{ name: string }>(`SELECT name FROM pragma_table_info('${table}')`)
      .toArray()
      .map((c) => c.name),
  );
  for (const column of columns) {
    const name = column.split(" ")[0] ?? "";
    if (!have.has(name)) sql.exec(`ALTER TABLE ${table} ADD COLUMN ${column}`);
  }
  for (const [name, on] of Object.entries(indexes))
    sql.exec(`CREATE INDEX IF NOT EXISTS ${name} ON ${table} (${on})`);
  sql.exec("INSERT OR REPLACE INTO table_layouts (name, layout) VALUES (?, ?)", table, layout);
}
