// Pure work on inputs that come back report after report (a client's Authorization header, the
// addresses it reports), done once per isolate. Bounded: the memory is cleared when full.

/**
 * `work`, remembering its results (but undefined) for up to `max` inputs of at most `longest`
 * characters: a longer input is worked on every time and never held, so hostile input cannot
 * fill the memory (1,024 values of 64 KiB would be 64 MiB).
 */
export function remembered<V>(work: (input: string) => V, longest: number, max = 1024): (input: string) => V {
  const seen = new Map<string, V>();
  return (input) => {
    if (input.length > longest) return work(input);
    let value = seen.get(input);
    if (value === undefined) {
      value = work(input);
      if (seen.size >= max) seen.clear();
      if (value !== undefined) seen.set(input, value);
    }
    return value;
  };
}
