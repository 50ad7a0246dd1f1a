/**
 * Positions keep Docker's nanoseconds; `since` for the logs endpoint is `seconds.nanoseconds`.
 *
 * We resume a little before the saved position on purpose. Docker stamps stdout and stderr
 * lines in two goroutines, so its log file is not strictly in timestamp order: a line written
 * after the last committed one may carry a slightly older timestamp, and `since=<position>`
 * would skip it for good. The lines re-read in that margin are recognised by their ids (the
 * follower remembers the ids it read in the last margin; after a crash the store drops them as
 * duplicates), so the margin costs a few re-sent lines, never a doubled one.
 */
export const RESUME_MARGIN_MS = 250;

export function sinceParam(canonicalTimestamp: string, marginMs = RESUME_MARGIN_MS): string {
  let seconds = Math.floor(Date.parse(`${canonicalTimestamp.slice(0, 19)}Z`) / 1000);
  let nanos = Number(canonicalTimestamp.slice(20, 29)) - marginMs * 1_000_000;
  while (nanos < 0) {
    nanos += 1_000_000_000;
    seconds -= 1;
  }
  seconds += Math.floor(nanos / 1_000_000_000);
  nanos %= 1_000_000_000;
  if (seconds < 0) return '0.000000000';
  return `${seconds}.${String(nanos).padStart(9, '0')}`;
}

/** The canonical timestamp `marginMs` before `canonicalTimestamp` (millisecond precision is enough here). */
export function marginBefore(canonicalTimestamp: string, marginMs = RESUME_MARGIN_MS): string {
  const [seconds, nanos] = sinceParam(canonicalTimestamp, marginMs).split('.') as [string, string];
  return `${new Date(Number(seconds) * 1000).toISOString().slice(0, 19)}.${nanos}Z`;
}

/** `event.id` of a container line: container, timestamp and index among lines with that timestamp. */
export function dockerEventId(containerId: string, canonicalTimestamp: string, seq: number): string {
  const t = canonicalTimestamp;
  // 2024-05-01T12:00:00.123456789Z -> 20240501120000123456789
  const compact =
    t.slice(0, 4) +
    t.slice(5, 7) +
    t.slice(8, 10) +
    t.slice(11, 13) +
    t.slice(14, 16) +
    t.slice(17, 19) +
    t.slice(20, 29);
  return `${containerId.slice(0, 12)}-${compact}-${seq}`;
}
