import type { estypes } from '@elastic/elasticsearch';

/**
 * Message words, phrases and prefixes on Elasticsearch: `message` is a `text` field with the
 * standard analyzer (Unicode UAX #29 word breaks, then lower case).
 *
 * The embedded store (sql.ts) hands each word to FTS5 as a quoted string: its tokens must appear
 * side by side, in order, so `api/v1` is the phrase "api v1", and `conn*` makes the last token a
 * prefix. The same rules here:
 *
 * - a bare word and a "phrase" are both `match_phrase`: a one-token word is a plain term query,
 *   and a word the analyzer splits (`api/v1`) must match as a phrase, not as "both words
 *   anywhere" (which `match` with operator `and` would give: `v1/api` would then match too);
 * - `word*` of a word that is surely one token is `match_bool_prefix`: the word goes through the
 *   field's analyzer (lower case, and whatever else the template's analyzer does), then becomes
 *   a prefix query on the indexed terms, with no limit on how many terms it expands to; any
 *   other value is `match_phrase_prefix` (the phrase of its tokens, the last one a prefix),
 *   whose expansion Elasticsearch caps, here at PREFIX_EXPANSIONS terms.
 *
 * Differences from the embedded store that no query can remove (they come from tokenizing):
 * - Diacritics count: `cafe` does not find "Café" (FTS5 `remove_diacritics 2` folds them).
 *   An `asciifolding` filter in the index template's analyzer would fold them too.
 * - Words that UAX #29 keeps together are one token: `foo_bar`, `don't`, `example.com`,
 *   `10.0.0.1`, `col:val`. So `refused` does not find "connection_refused" and `example*`
 *   finds "example.com" but `com` does not (FTS5 splits all of these at the punctuation), and
 *   `connection_refused` finds only that token, where FTS5 also finds "connection refused".
 * - Han and Hiragana characters are one token each, so a CJK word is a phrase of characters
 *   (FTS5 keeps a run of them as one token): `日本` also finds "日本語", which FTS5 finds only
 *   with `日本*`.
 * - A word with no letter or digit (`:-)`, `->`) has no token at all and matches nothing; the
 *   embedded store falls back to a case-sensitive substring search for those.
 * - `word*` on a value of several tokens (`api/v*`) expands the last one to at most
 *   PREFIX_EXPANSIONS terms per shard; FTS5 has no such limit.
 */

export type EsQuery = estypes.QueryDslQueryContainer;

export const MESSAGE = 'message';

/** How many terms the last word of a multi-token prefix may stand for (Elasticsearch's default is 50). */
export const PREFIX_EXPANSIONS = 1000;

/**
 * Values the standard tokenizer surely reads as one token: letters of alphabetic scripts and
 * decimal digits only. (Letters of Han, Hiragana, Thai and similar scripts are split per
 * character or by dictionary, so they are not in this list.)
 */
const ONE_TOKEN = /^[\p{Script=Latin}\p{Script=Greek}\p{Script=Cyrillic}\p{Nd}]+$/u;

/** A bare word or a quoted phrase: its tokens, adjacent and in order. */
export function phraseQuery(value: string, field = MESSAGE): EsQuery {
  return { match_phrase: { [field]: { query: value } } };
}

/** `word*`: the tokens of `value`, adjacent and in order, the last one a prefix. */
export function phrasePrefixQuery(value: string, field = MESSAGE): EsQuery {
  if (ONE_TOKEN.test(value)) return { match_bool_prefix: { [field]: { query: value } } };
  return { match_phrase_prefix: { [field]: { query: value, max_expansions: PREFIX_EXPANSIONS } } };
}

/** A `text` node of the AST. */
export function textQuery(value: string, phrase: boolean, prefix: boolean): EsQuery {
  // An empty value only comes from a hand-made tree; FTS5's fallback (instr with '') finds all.
  if (value === '') return { match_all: {} };
  return prefix && !phrase ? phrasePrefixQuery(value) : phraseQuery(value);
}
