/**
 * Positions keep Docker's nanoseconds; `since` for the logs endpoint is `seconds.nanoseconds`.
 *
 * We resume a little before the saved position on purpose. Docker stamps stdout and stderr
 * lines in two goroutines, so its log file is not strictly in timestamp order: a line written
 * after the last committed one may carry a slightly older timestamp, and `since=<position>`
 * would skip it for good. Re-reading a short margin costs a few lines that the store drops as
 * duplicates (same `event.id`), and it also covers engines that floor `since` to whole seconds.
 */
export const RESUME_MARGIN_SECONDS = 1;

export function sinceParam(canonicalTimestamp: string, marginSeconds = RESUME_MARGIN_SECONDS): string {
  const seconds = Math.floor(Date.parse(`${canonicalTimestamp.slice(0, 19)}Z`) / 1000) - marginSeconds;
  const nanos = canonicalTimestamp.slice(20, 29);
  return `${Math.max(0, seconds)}.${nanos}`;
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
