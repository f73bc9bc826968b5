// The zone's call policy as it stands (src/ovh/calls.ts): the pace's bucket and the breaker's
// cool-down, in the coordinator's SQLite storage, so an evicted coordinator goes on at the pace
// it had (no new burst) and keeps refusing calls while its breaker is open.
import type { PolicyState } from "../../ovh/calls";
import { ensureTable } from "./schema";

type PolicyRow = { tokens: number; at: number; open_until: number };

export class StoredPolicy {
  /** What is stored, as this instance knows it (a save that changes nothing writes nothing). */
  private stored: string | undefined;

  constructor(private readonly sql: SqlStorage) {
    ensureTable(sql, "call_policy", [
      "id INTEGER PRIMARY KEY",
      "tokens REAL",
      "at INTEGER",
      "open_until INTEGER",
    ]);
  }

  get(): PolicyState | undefined {
    const [row] = this.sql
      .exec<PolicyRow>("SELECT tokens, at, open_until FROM call_policy WHERE id = 1")
      .toArray();
    if (!row) return undefined;
    const state = { pace: { tokens: row.tokens, at: row.at }, openUntil: row.open_until };
    this.stored = JSON.stringify(state);
    return state;
  }

  set(state: PolicyState): void {
    const image = JSON.stringify(state);
    if (image === this.stored) return;
    this.sql.exec(
      "INSERT OR REPLACE INTO call_policy (id, tokens, at, open_until) VALUES (1, ?, ?, ?)",
      state.pace.tokens,
      state.pace.at,
      state.openUntil,
    );
    this.stored = image;
  }
}
