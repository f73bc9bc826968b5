// Small formats every stage writes the same way.

/** An error's message, or the thrown value as text. */
export const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** Unix ms as an ISO 8601 time (UTC). */
export const iso = (ms: number): string => new Date(ms).toISOString();
