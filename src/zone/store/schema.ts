// The one way a table of the coordinator's SQLite storage is made and kept up to date: created
// when missing, given each column added since its first layout (NULL in older rows), indexed.

/**
 * Create `table` with `columns` (SQL column definitions) when it is missing, add any of them it
 * lacks, and create the `indexes` (name → column list) that are missing.
 */
export function ensureTable(
  sql: SqlStorage,
  table: string,
  columns: string[],
  indexes: Record<string, string> = {},
): void {
  sql.exec(`CREATE TABLE IF NOT EXISTS ${table} (${columns.join(", ")})`);
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
}
