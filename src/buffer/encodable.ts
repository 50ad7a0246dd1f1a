import type { LogEvent } from '../core/event.js';
import { encodeBatch } from './event-codec.js';

/** The flag of an event whose parsed fields could not be written (`log.flags`). */
export const FIELDS_DROPPED_FLAG = 'fields_dropped';

/**
 * Makes every event of a batch that the codec cannot write writable, by giving up what it parsed
 * out of the line (`fields`, structured data) and flagging it `fields_dropped`: the line itself
 * (`message`, `event.original`) is always text and always kept. Without this one event that JSON
 * cannot write (parsers bound nesting, but a bug or a new parser may not) would stall its sink
 * for good, its batch retried forever. Returns how many events it changed. Only for the rare
 * batch that failed to encode: it encodes each event on its own.
 */
export function dropUnencodableParts(events: readonly LogEvent[]): number {
  let changed = 0;
  for (const e of events) {
    if (encodes(e)) continue;
    e.fields = undefined;
    if (e.syslog) e.syslog.structuredData = undefined;
    e.flags = [...(e.flags ?? []), FIELDS_DROPPED_FLAG];
    changed++;
  }
  return changed;
}

function encodes(e: LogEvent): boolean {
  try {
    encodeBatch([e], 0);
    return true;
  } catch {
    return false;
  }
}
