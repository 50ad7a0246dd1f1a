import type { LogEvent } from '../core/event.js';
import { parseBody } from './body.js';
import { sanitizeMessage } from './sanitize.js';

/**
 * The transforms every event goes through as it enters the pipeline, in order:
 * decode (sanitize: ANSI codes, control characters) -> parse (JSON, logfmt, PRI, level keyword).
 * A level found in the line overrides the source's default (stdout info, stderr err).
 * `event.original` keeps the raw line whenever the stored message differs from it.
 */
export function transformEvents(events: LogEvent[]): void {
  for (const e of events) transformEvent(e);
}

export function transformEvent(e: LogEvent): void {
  const raw = e.message;
  const clean = sanitizeMessage(raw);
  const parsed = parseBody(clean);
  let message = clean;
  if (parsed) {
    if (parsed.message !== undefined) message = parsed.message;
    if (parsed.severity !== undefined) e.severity = parsed.severity;
    if (parsed.facility !== undefined) e.facility = parsed.facility;
    if (parsed.fields !== undefined) e.fields = parsed.fields;
  }
  if (message !== raw) {
    e.message = message;
    e.original = raw;
  }
}
