/**
 * Exponential backoff with jitter, 100 ms doubling up to 10 s: the one retry delay used by
 * every reconnect and retry loop, so their behaviour is the same and tuned in one place.
 */
export function backoffMs(failures: number): number {
  const base = Math.min(10_000, 100 * 2 ** Math.min(failures, 10));
  // Jitter so that many followers do not hammer a recovering engine or store in lockstep.
  return Math.round(base / 2 + Math.random() * (base / 2));
}
