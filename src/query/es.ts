import type { QueryNode } from './ast.js';
import { fieldQuery, severityQuery } from './es-fields.js';
import { type EsQuery, textQuery } from './es-text.js';

/**
 * QueryNode -> Elasticsearch query DSL, for the index layout of src/sinks/elasticsearch. Pure:
 * no client here. The counterpart of sql.ts, with the same fields and errors; where the
 * mapping makes a query mean something else than on the embedded store, the difference is
 * written next to the code that makes it (es-text.ts for message words, es-fields.ts for
 * fields, es-time.ts for timestamps).
 *
 * Everything is in filter context (`bool.filter`, not `must`): results are sorted by time,
 * never by relevance, so scores would be computed for nothing, and filters can be cached.
 * NOT is `must_not`, which is two-valued like the embedded store's: `-service:web` also
 * matches events that have no service at all.
 */

export { type EsField, esField, integerPrefixRanges, UnsearchableFieldError } from './es-fields.js';
export type { EsQuery } from './es-text.js';

/** The query as one `bool` query, to which a caller can add its own filters (a time range). */
export function toEsQuery(node: QueryNode): { bool: { filter: EsQuery[] } } {
  return { bool: { filter: [translate(node)] } };
}

function translate(node: QueryNode): EsQuery {
  switch (node.type) {
    case 'all':
      return { match_all: {} };
    case 'and':
      if (node.children.length === 0) return { match_all: {} };
      if (node.children.length === 1) return translate(node.children[0]!);
      return { bool: { filter: node.children.map(translate) } };
    case 'or':
      if (node.children.length === 0) return { match_none: {} };
      if (node.children.length === 1) return translate(node.children[0]!);
      return { bool: { should: node.children.map(translate), minimum_should_match: 1 } };
    case 'not':
      return { bool: { must_not: [translate(node.child)] } };
    case 'text':
      return textQuery(node.value, node.phrase, node.prefix);
    case 'severity':
      return severityQuery(node.op, node.code);
    case 'field':
      return fieldQuery(node.field, node.op, node.value);
  }
}
