/**
 * The built-in redactions: each is a finder that reports where the next secret is, so that the
 * redactor replaces only the secret and the rest of the line stays searchable.
 *
 * Finders are hand-written scans instead of regular expressions because they run on every
 * string of every event: each starts from a native `indexOf` of something every match must
 * contain (`earer`, `://`, `=`/`:`, `AKIA`), or skips through the text (card numbers), and
 * allocates nothing until it has found a secret. Most strings never reach a finder: the
 * redactor first tests them against the rules' HINTS. Each finder skips a value that already is
 * a `[REDACTED:...]` marker, so redacting twice gives the same text.
 *
 * Where they are: bearer, url_password and AWS key ids here; password_pair and the AWS secret
 * key in redact-pairs.ts; card_number in redact-cards.ts.
 */

import { findCardNumber } from './redact-cards.js';
import { findPair, KEY_AWS_SECRET, KEY_PASSWORD } from './redact-pairs.js';
import {
  endsWithWord,
  type Finder,
  isDigit,
  isLower,
  isUpper,
  isWordChar,
  MARKER_START,
  NextIndex,
  type Span,
} from './redact-scan.js';

export const BUILTIN_REDACTIONS = [
  'bearer',
  'url_password',
  'password_pair',
  'aws_access_key',
  'card_number',
] as const;
export type BuiltinRedaction = (typeof BUILTIN_REDACTIONS)[number];

/**
 * Case-insensitive text that a line must contain for each rule to find anything in it. The
 * redactor joins the hints of the rules in use into one regular expression and runs the
 * finders only on a string it matches: one native scan instead of one per rule. Card numbers
 * have no hint; their finder skips through text on its own.
 */
export const HINTS: Readonly<Partial<Record<BuiltinRedaction, string>>> = {
  bearer: 'earer',
  url_password: String.raw`:\/\/|:\\\/\\\/`,
  // every word of KEY_WORDS (redact-pairs.ts) contains one of these (password, passphrase...: `pass`)
  password_pair: 'pass|pwd|secret|token|api.?key|private.?key',
  aws_access_key: 'akia|asia|secret',
};

export const FINDERS: Readonly<Record<BuiltinRedaction, Finder>> = {
  bearer: findBearer,
  url_password: findUrlPassword,
  password_pair: (s, from, span) => findPair(s, from, span, KEY_PASSWORD),
  aws_access_key: findAws,
  card_number: findCardNumber,
};

// The needles the finders search for, each remembering where it was last found (see NextIndex).
const EARER_LOWER = new NextIndex('earer');
const EARER_UPPER = new NextIndex('EARER');
const SCHEME_PLAIN = new NextIndex('://');
const SCHEME_ESCAPED = new NextIndex(':\\/\\/');
const COLON = new NextIndex(':');
const ECRET_LOWER = new NextIndex('ecret');
const ECRET_UPPER = new NextIndex('ECRET');
const AKIA = new NextIndex('AKIA');
const ASIA = new NextIndex('ASIA');

// ---- Authorization: Bearer <token> ----------------------------------------------------------

/**
 * `bearer` (any of `bearer`, `Bearer`, `BEARER`), blanks or `%20`, then an RFC 6750 token. After
 * `Authorization` any token is replaced; elsewhere only one that looks like a token (a digit or
 * one of `-._~+/`, or 24 characters or more), so prose such as "the bearer of bad news" and
 * `WWW-Authenticate: Bearer realm="api"` stay as they are. The word `Bearer` is kept.
 */
function findBearer(s: string, from: number, span: Span): boolean {
  let lower = EARER_LOWER.in(s, from);
  let upper = EARER_UPPER.in(s, from);
  while (lower >= 0 || upper >= 0) {
    const p = upper < 0 || (lower >= 0 && lower < upper) ? lower : upper;
    if (p === lower) lower = EARER_LOWER.in(s, p + 1);
    else upper = EARER_UPPER.in(s, p + 1);
    if (bearerToken(s, p, span)) return true;
  }
  return false;
}

function bearerToken(s: string, p: number, span: Span): boolean {
  const b = p - 1;
  if (b < 0 || (s.charCodeAt(b) | 0x20) !== 0x62 || (b > 0 && isWordChar(s.charCodeAt(b - 1)))) return false;
  const n = s.length;
  let t = p + 5;
  const gap = t;
  for (;;) {
    const c = s.charCodeAt(t);
    if (c === 0x20 || c === 0x09) t++;
    else if (c === 0x25 && s.startsWith('%20', t)) t += 3;
    else break;
  }
  if (t === gap) return false;
  let core = t;
  while (core < n && isTokenChar(s.charCodeAt(core))) core++;
  let end = core;
  while (end < n && s.charCodeAt(end) === 0x3d) end++; // base64 padding
  if (end === core) {
    // A full stop after the token ends the sentence; it is not part of the token.
    while (core > t && s.charCodeAt(core - 1) === 0x2e) core--;
    end = core;
  }
  if (core === t) return false;
  if (core - t < 24 && !hasTokenMark(s, t, core) && !afterAuthorization(s, b)) return false;
  span.start = t;
  span.end = end;
  span.quote = false;
  return true;
}

/** RFC 6750 b64token characters: letters, digits, `-._~+/`. */
function isTokenChar(c: number): boolean {
  return isUpper(c) || isLower(c) || isMarkChar(c);
}

function isMarkChar(c: number): boolean {
  return isDigit(c) || c === 0x2d || c === 0x2e || c === 0x5f || c === 0x7e || c === 0x2b || c === 0x2f;
}

/** A digit or a symbol: what a word of prose does not have and a token nearly always has. */
function hasTokenMark(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (isMarkChar(s.charCodeAt(i))) return true;
  return false;
}

/** `Authorization: `, `"authorization":"`, `authorization=` right before index `b`. */
function afterAuthorization(s: string, b: number): boolean {
  let i = b;
  for (let k = 0; k < 4 && i > 0; k++) {
    const c = s.charCodeAt(i - 1);
    if (c !== 0x20 && c !== 0x3a && c !== 0x3d && c !== 0x22 && c !== 0x27 && c !== 0x5b) break;
    i--;
  }
  return endsWithWord(s, Math.max(0, i - 13), i, 'authorization') >= 0;
}

// ---- scheme://user:password@host ------------------------------------------------------------

/**
 * The password of a URL's userinfo; user and host stay. Also in JSON that escapes slashes
 * (`http:\/\/u:p@h`, PHP's default). The authority ends at `/`, `?`, `#`, a blank, a quote or
 * `<>`; the last `@` in it ends the password, so a raw `@` inside the password is covered.
 */
function findUrlPassword(s: string, from: number, span: Span): boolean {
  let plain = SCHEME_PLAIN.in(s, from);
  let escaped = SCHEME_ESCAPED.in(s, from);
  while (plain >= 0 || escaped >= 0) {
    const p = escaped < 0 || (plain >= 0 && plain < escaped) ? plain : escaped;
    let a: number;
    if (p === plain) {
      a = p + 3;
      plain = SCHEME_PLAIN.in(s, a);
    } else {
      a = p + 5;
      escaped = SCHEME_ESCAPED.in(s, a);
    }
    if (p === 0 || !isSchemeChar(s.charCodeAt(p - 1))) continue;
    let end = a;
    let at = -1;
    const n = s.length;
    for (; end < n; end++) {
      const c = s.charCodeAt(end);
      if (c === 0x40) at = end;
      else if (endsAuthority(c)) break;
    }
    if (at < 0) continue;
    const colon = COLON.in(s, a);
    if (colon < 0 || colon >= at || colon + 1 === at || s.startsWith(MARKER_START, colon + 1)) continue;
    span.start = colon + 1;
    span.end = at;
    span.quote = false;
    return true;
  }
  return false;
}

function endsAuthority(c: number): boolean {
  return (
    c <= 0x20 ||
    c === 0x2f || // /
    c === 0x3f || // ?
    c === 0x23 || // #
    c === 0x22 ||
    c === 0x27 ||
    c === 0x3c || // <
    c === 0x3e || // >
    c === 0x5c // \ (of an escaped slash)
  );
}

// ---- AWS ------------------------------------------------------------------------------------

/**
 * Access key ids (`AKIA` long-term, `ASIA` temporary, then 16 upper-case letters or digits, as a
 * whole word) and secret access keys in pairs (`aws_secret_access_key=...`,
 * `"SecretAccessKey": "..."`): whichever comes first.
 */
function findAws(s: string, from: number, span: Span): boolean {
  const id = findAwsKeyId(s, from);
  // A secret key is only named with "secret" in its key: skip the pair scan without it.
  const maySecret = ECRET_LOWER.in(s, from) >= 0 || ECRET_UPPER.in(s, from) >= 0;
  // Only a pair whose separator comes before the key id can come first: looking further made a
  // line of key ids with one secret pair at its end quadratic (each id searched up to it).
  const until = id < 0 ? s.length : id;
  if (maySecret && findPair(s, from, span, KEY_AWS_SECRET, until) && (id < 0 || span.start < id)) return true;
  if (id < 0) return false;
  span.start = id;
  span.end = id + 20;
  span.quote = false;
  return true;
}

function findAwsKeyId(s: string, from: number): number {
  let akia = AKIA.in(s, from);
  let asia = ASIA.in(s, from);
  while (akia >= 0 || asia >= 0) {
    const p = asia < 0 || (akia >= 0 && akia < asia) ? akia : asia;
    if (p === akia) akia = AKIA.in(s, p + 1);
    else asia = ASIA.in(s, p + 1);
    if (p > 0 && isWordChar(s.charCodeAt(p - 1))) continue;
    let i = p + 4;
    while (i < p + 20 && (isUpper(s.charCodeAt(i)) || isDigit(s.charCodeAt(i)))) i++;
    if (i === p + 20 && !isWordChar(s.charCodeAt(i))) return p;
  }
  return -1;
}

function isSchemeChar(c: number): boolean {
  return isUpper(c) || isLower(c) || isDigit(c) || c === 0x2b || c === 0x2d || c === 0x2e;
}
