// What GET /__bench/meter answers (bench/meter/index.ts): the counts since its previous answer.
// Plain data, read by the bench in Node too.
export interface Meter {
  /** Calls on Durable Object stubs, by binding: each is one billed Durable Object request. */
  zones: number;
  guard: number;
  /** Rows the SQL statements of the Durable Objects read and wrote, as their cursors count them. */
  rowsRead: number;
  rowsWritten: number;
}
