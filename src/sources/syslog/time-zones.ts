/**
 * Time zones written after the time in BSD headers: a numeric offset (`+0100`, `-07`,
 * `+05:30`) or an abbreviation, as Cisco IOS (`service timestamps ... show-timezone`:
 * `*Mar  1 18:48:50.483 UTC:`), Cisco NX-OS (`2017 Mar 06 09:22:34 CET:`) and Go's
 * `time.String()` (`2024-05-01 12:00:00 +0000 UTC`) write them. Pure.
 *
 * Abbreviations are not a standard: the same letters name different zones in different
 * places. Only a small fixed table is read; one with a single common meaning gives its
 * offset, one with several (`CST`: US Central, China or Cuba; `IST`: India, Ireland or
 * Israel) is recognised as a zone, so it does not become the hostname or the tag, but gives
 * no offset: the time is then taken as UTC and the message says so. Anything not in the
 * table is not a zone. rsyslog ignores zone names in its default parser (its Cisco parser
 * looks them up in a table the user configures); there is no per-sender zone setting here.
 */

import { CH_COLON, CH_DASH, CH_PLUS, CH_SP, fixedDigits } from './scan.js';

/**
 * The zone names read: minutes east of UTC, or null when the name has more than one common
 * meaning. docs/syslog.md lists them (a test checks).
 */
export const ZONE_ABBREVIATIONS: ReadonlyMap<string, number | null> = new Map<string, number | null>([
  ['UTC', 0],
  ['UT', 0],
  ['GMT', 0],
  ['WET', 0],
  ['WEST', 60],
  ['CET', 60],
  ['CEST', 120],
  ['MET', 60],
  ['MEST', 120],
  ['EET', 120],
  ['EEST', 180],
  ['MSK', 180],
  ['EST', -300],
  ['EDT', -240],
  ['CDT', -300],
  ['MST', -420],
  ['MDT', -360],
  ['PST', -480],
  ['PDT', -420],
  ['AKST', -540],
  ['AKDT', -480],
  ['HST', -600],
  ['JST', 540],
  ['KST', 540],
  ['HKT', 480],
  ['SGT', 480],
  ['AWST', 480],
  ['ACST', 570],
  ['ACDT', 630],
  ['AEST', 600],
  ['AEDT', 660],
  ['NZST', 720],
  ['NZDT', 780],
  ['CST', null],
  ['IST', null],
  ['BST', null],
  ['AST', null],
  ['SST', null],
]);

/** A zone found in a header. */
export interface ZoneRead {
  /** Index just past it. */
  end: number;
  /** Minutes east of UTC; null when the zone is named but ambiguous. */
  minutes: number | null;
  /** The abbreviation, when it was one. */
  name?: string;
}

const MAX_ABBREVIATION = 4;

/**
 * A numeric offset attached at `p`: `+hh`, `+hhmm` or `+hh:mm` (or `-`), hours up to 23 and
 * minutes up to 59; null when there is none. What follows it is the caller's business.
 */
export function offsetAt(text: string, p: number, end: number): ZoneRead | null {
  const sign = text.charCodeAt(p);
  if (sign !== CH_PLUS && sign !== CH_DASH) return null;
  const hours = fixedDigits(text, p + 1, 2, end);
  if (hours < 0 || hours > 23) return null;
  let q = p + 3;
  let minutes = 0;
  const colon = text.charCodeAt(q) === CH_COLON ? 1 : 0;
  const mm = fixedDigits(text, q + colon, 2, end);
  if (mm >= 0) {
    if (mm > 59) return null;
    minutes = mm;
    q += colon + 2;
  }
  const total = hours * 60 + minutes;
  return { end: q, minutes: sign === CH_DASH ? -total : total };
}

/**
 * A zone standing as its own word at `p` (after the time and a space): a numeric offset or an
 * abbreviation from the table, followed by a space, a colon (Cisco) or the end. Null otherwise.
 */
export function zoneWordAt(text: string, p: number, end: number): ZoneRead | null {
  const offset = offsetAt(text, p, end);
  if (offset !== null) return endsWord(text, offset.end, end) ? offset : null;
  let q = p;
  while (q < end && q - p < MAX_ABBREVIATION + 1) {
    const c = text.charCodeAt(q);
    if (c < 65 || c > 90) break;
    q++;
  }
  if (q - p < 2 || !endsWord(text, q, end)) return null;
  const name = text.slice(p, q);
  const minutes = ZONE_ABBREVIATIONS.get(name);
  return minutes === undefined ? null : { end: q, minutes, name };
}

function endsWord(text: string, q: number, end: number): boolean {
  if (q >= end) return true;
  const c = text.charCodeAt(q);
  return c === CH_SP || c === CH_COLON;
}
