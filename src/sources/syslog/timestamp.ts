/**
 * RFC 5424's TIMESTAMP (RFC 3339, `2024-05-01T12:00:00.123+02:00`) to logwharf's canonical
 * form (UTC, nine fraction digits): `toCanonicalTimestamp` from core/timestamp.ts, after the
 * few repairs real senders need, each named. The BSD header's timestamps, which follow no
 * standard, are read by header-time.ts.
 */

import { toCanonicalTimestamp } from '../../core/timestamp.js';
import { CH_DASH, CH_DOT, CH_PLUS, fixedDigits, isDigit } from './scan.js';

const CH_T = 84;
const CH_t = 116;
const CH_z = 122;

/** `dddd-dd-ddT` (or `t`) at `p`: the start of an RFC 3339 date-time. */
export function looksLikeRfc3339(text: string, p: number, end: number): boolean {
  if (p + 11 > end) return false;
  const sep = text.charCodeAt(p + 10);
  return (
    fixedDigits(text, p, 4, end) >= 0 &&
    text.charCodeAt(p + 4) === CH_DASH &&
    fixedDigits(text, p + 5, 2, end) >= 0 &&
    text.charCodeAt(p + 7) === CH_DASH &&
    fixedDigits(text, p + 8, 2, end) >= 0 &&
    (sep === CH_T || sep === CH_t)
  );
}

/** Quoted for a problem text, cut so that a huge token cannot make a huge problem. */
export function quote(token: string): string {
  return JSON.stringify(token.length > 40 ? `${token.slice(0, 40)}...` : token);
}

/**
 * The canonical form of an RFC 3339 token (already known to start like one). Repaired, with
 * the repair named in `problem`: no offset (taken as UTC, as for BSD times), more than nine
 * fraction digits (cut: the canonical form has nine), `+hhmm` without the colon, a
 * lower-case `t`/`z` (which RFC 5424 forbids).
 * Unusable when the date or time does not exist (Feb 30, 24:00, a leap second).
 */
export function canonicalRfc3339(token: string): {
  timestamp: string | undefined;
  problem: string | undefined;
} {
  const direct = toCanonicalTimestamp(token);
  if (direct !== null) {
    const lower = token.charCodeAt(10) === CH_t || token.charCodeAt(token.length - 1) === CH_z;
    const problem = lower ? `lower-case 't' or 'z' in timestamp ${quote(token)}` : undefined;
    return { timestamp: direct, problem };
  }
  if (token.length < 19) return { timestamp: undefined, problem: `unusable timestamp ${quote(token)}` };
  let repairs = '';
  let i = 19;
  let fraction = '';
  if (token.charCodeAt(i) === CH_DOT) {
    let j = i + 1;
    while (j < token.length && isDigit(token.charCodeAt(j))) j++;
    if (j - i - 1 > 9) repairs += ', fraction cut to nine digits';
    fraction = `.${token.slice(i + 1, Math.min(j, i + 10))}`;
    i = j;
  }
  let zone = token.slice(i);
  if (zone === '') {
    zone = 'Z';
    repairs += ', no time zone offset (taken as UTC)';
  } else if (
    zone.length === 5 &&
    (zone.charCodeAt(0) === CH_PLUS || zone.charCodeAt(0) === CH_DASH) &&
    fixedDigits(zone, 1, 4, 5) >= 0
  ) {
    zone = `${zone.slice(0, 3)}:${zone.slice(3)}`;
    repairs += ', offset without a colon';
  }
  const repaired = repairs === '' ? null : toCanonicalTimestamp(token.slice(0, 19) + fraction + zone);
  if (repaired === null) return { timestamp: undefined, problem: `unusable timestamp ${quote(token)}` };
  return { timestamp: repaired, problem: `timestamp ${quote(token)}: ${repairs.slice(2)}` };
}
