/**
 * Keys that name a secret (`password`, `db_pass`, `apiKey`, `aws_secret_access_key`...) and the
 * values written after them, for the `password_pair` rule, the AWS secret key half of
 * `aws_access_key`, and the redactor's whole-value replacement of such fields.
 */

import {
  endsWithWord,
  isDigit,
  isLower,
  isUpper,
  MARKER_START,
  NextIndex,
  type Span,
} from './redact-scan.js';

export const KEY_NONE = 0;
export const KEY_PASSWORD = 1;
export const KEY_AWS_SECRET = 2;
export type KeyKind = typeof KEY_NONE | typeof KEY_PASSWORD | typeof KEY_AWS_SECRET;

/**
 * Key endings (lower case, without `_`, `-`, `.`, which are ignored when comparing, so
 * `api_key`, `x-api-key`, `apiKey` and `APIKEY` all end in `apikey`). `boundary`: the word must
 * start the key or a part of it (after a separator or a lower-to-upper case change), so `pass`
 * matches `db_pass` and `dbPass` but not `bypass`, and `pwd` not `cwd`-like words.
 * The AWS secret comes first: `aws_secret_access_key` belongs to that rule, not to `password_pair`.
 */
const KEY_WORDS: readonly { word: string; kind: KeyKind; boundary: boolean }[] = [
  { word: 'secretaccesskey', kind: KEY_AWS_SECRET, boundary: false },
  { word: 'awssecretkey', kind: KEY_AWS_SECRET, boundary: false },
  { word: 'password', kind: KEY_PASSWORD, boundary: false },
  { word: 'passwd', kind: KEY_PASSWORD, boundary: false },
  { word: 'passphrase', kind: KEY_PASSWORD, boundary: false },
  { word: 'secret', kind: KEY_PASSWORD, boundary: false },
  { word: 'secretkey', kind: KEY_PASSWORD, boundary: false },
  { word: 'privatekey', kind: KEY_PASSWORD, boundary: false },
  { word: 'token', kind: KEY_PASSWORD, boundary: false },
  { word: 'apikey', kind: KEY_PASSWORD, boundary: false },
  { word: 'pwd', kind: KEY_PASSWORD, boundary: true },
  { word: 'pass', kind: KEY_PASSWORD, boundary: true },
];
/** Longest key looked at backwards from a separator. */
const MAX_KEY = 64;

/** KEY_WORDS by their last letter, so a key is compared with at most the few words it could end with. */
const BY_LAST_LETTER: readonly (readonly (typeof KEY_WORDS)[number][])[] = (() => {
  const table: (typeof KEY_WORDS)[number][][] = Array.from({ length: 26 }, () => []);
  for (const k of KEY_WORDS) table[k.word.charCodeAt(k.word.length - 1) - 0x61]!.push(k);
  return table;
})();

/** What the key `s[from, to)` names: a password-like secret, an AWS secret key, or nothing. */
export function keyKind(s: string, from = 0, to = s.length): KeyKind {
  if (to - from < 3) return KEY_NONE;
  const last = (s.charCodeAt(to - 1) | 0x20) - 0x61;
  const words = last >= 0 && last < 26 ? BY_LAST_LETTER[last]! : NO_WORDS;
  for (let w = 0; w < words.length; w++) {
    const k = words[w]!;
    const start = endsWithWord(s, from, to, k.word);
    if (start < 0) continue;
    if (k.boundary && !atWordStart(s, from, start)) continue;
    // The shell's working directory, in environment dumps: `PWD=/app`, `OLDPWD=/`.
    if (k.word === 'pwd' && start === from && to - from === 3 && s.charCodeAt(start) === 0x50) continue;
    return k.kind;
  }
  return KEY_NONE;
}
const NO_WORDS: readonly (typeof KEY_WORDS)[number][] = [];

function atWordStart(s: string, from: number, start: number): boolean {
  if (start === from) return true;
  const prev = s.charCodeAt(start - 1);
  if (prev === 0x5f || prev === 0x2d || prev === 0x2e) return true;
  const cur = s.charCodeAt(start);
  return isUpper(cur) && (isLower(prev) || isDigit(prev)); // dbPass, md5Pwd
}

// Where `=` and `:` were last found (see NextIndex).
const EQUALS = new NextIndex('=');
const COLON = new NextIndex(':');

// ---- key=value, key: value, "key": "value" --------------------------------------------------

/**
 * The value after a secret-naming key and `=` or `:`, in the forms logs write them: query strings
 * and logfmt (`password=x&a=b`, `token="a b"`), `key: value`, JSON (`"password": "x"`, also
 * inside an escaped JSON string: `\"password\":\"x\"`), Python and Java reprs (`'pwd': 'x'`,
 * `User(password=x)`). Only the value is replaced: a JSON line stays valid JSON.
 *
 * A bare value ends at a blank, `&`, `,`, `;`, a quote, or a closing bracket; a password that
 * contains one of those loses only its head to the marker. `null`, `true`, `false` and `***`
 * are not secrets and stay. Separators at `until` or after are not looked at.
 */
export function findPair(s: string, from: number, span: Span, want: KeyKind, until = s.length): boolean {
  let eq = EQUALS.in(s, from);
  let co = COLON.in(s, from);
  while (eq >= 0 || co >= 0) {
    const p = co < 0 || (eq >= 0 && eq < co) ? eq : co;
    if (p >= until) return false;
    if (p === eq) eq = EQUALS.in(s, p + 1);
    else co = COLON.in(s, p + 1);
    if (pairKeyKind(s, p) === want && pairValue(s, p, span)) return true;
  }
  return false;
}

/** The kind of the key that ends right before the separator at `p` (quotes and blanks skipped). */
function pairKeyKind(s: string, p: number): KeyKind {
  let end = p;
  while (end > 0 && s.charCodeAt(end - 1) === 0x20) end--;
  const q = s.charCodeAt(end - 1);
  if (q === 0x22 || q === 0x27) {
    end--;
    if (s.charCodeAt(end - 1) === 0x5c) end--; // \" around a key inside an escaped JSON string
  }
  let start = end;
  while (start > 0 && end - start < MAX_KEY && isKeyChar(s.charCodeAt(start - 1))) start--;
  return keyKind(s, start, end);
}

/** The value after the separator at `p` into `span`; false when there is none worth replacing. */
function pairValue(s: string, p: number, span: Span): boolean {
  const n = s.length;
  let v = p + 1;
  const colon = s.charCodeAt(p) === 0x3a;
  if (!colon && s.charCodeAt(v) === 0x3d) return false; // `==` compares
  // `key: value` has blanks after the colon; `key = value` has them on both sides, and
  // `password= next=1` is an empty password, not one named `next=1`.
  if (colon || s.charCodeAt(p - 1) === 0x20) {
    while (v < n && (s.charCodeAt(v) === 0x20 || s.charCodeAt(v) === 0x09)) v++;
  }
  if (v >= n) return false;
  const c = s.charCodeAt(v);
  if (c === 0x7b || c === 0x5b) return false; // { [ : a structure, not a secret; its strings have keys of their own
  let start: number;
  let end: number;
  span.quote = false;
  if (c === 0x22 || c === 0x27) {
    start = v + 1;
    end = closingQuote(s, start, c);
  } else if (c === 0x5c && s.charCodeAt(v + 1) === 0x22) {
    start = v + 2;
    end = s.indexOf('\\"', start);
    if (end < 0) end = n;
  } else {
    start = v;
    end = v;
    while (end < n && !endsBareValue(s, end)) end++;
    if (isNotSecret(s, start, end)) return false;
    span.quote = colon && s.charCodeAt(p - 1) === 0x22; // "key": 1234
  }
  if (end <= start || s.startsWith(MARKER_START, start)) return false;
  span.start = start;
  span.end = end;
  return true;
}

/** Index of the quote `q` that closes a value starting at `i` (backslash escapes skipped); the end when none. */
function closingQuote(s: string, i: number, q: number): number {
  const n = s.length;
  for (let j = i; j < n; j++) {
    const c = s.charCodeAt(j);
    if (c === q) return j;
    if (c === 0x5c) j++;
  }
  return n; // unclosed (a cut line): the rest is the value
}

function endsBareValue(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return (
    c <= 0x20 ||
    c === 0x26 || // &
    c === 0x2c || // ,
    c === 0x3b || // ;
    c === 0x22 ||
    c === 0x27 ||
    c === 0x29 || // )
    c === 0x5d || // ]
    c === 0x7d || // }
    (c === 0x5c && s.charCodeAt(i + 1) === 0x22) // \" closes an escaped JSON string around the pair
  );
}

function isNotSecret(s: string, start: number, end: number): boolean {
  const len = end - start;
  if (len === 4 && (s.startsWith('null', start) || s.startsWith('true', start))) return true;
  if (len === 5 && s.startsWith('false', start)) return true;
  for (let i = start; i < end; i++) if (s.charCodeAt(i) !== 0x2a) return false; // *
  return true; // already masked, or empty
}

function isKeyChar(c: number): boolean {
  return isUpper(c) || isLower(c) || isDigit(c) || c === 0x5f || c === 0x2d || c === 0x2e;
}
