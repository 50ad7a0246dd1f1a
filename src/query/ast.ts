/**
 * The syntax tree of the query language (DESIGN.md, "Query language").
 *
 * Every store translates this one tree (src/query/sql.ts for the embedded store, the
 * Elasticsearch DSL later). Field names are already resolved to full ECS paths by the
 * parser, and `log.level` values to severity codes, so translators never see short names.
 * An access scope is added later by wrapping a tree: `{ type: 'and', children: [scope, tree] }`.
 */
export type QueryNode =
  /** Matches every event (the empty query). */
  | { type: 'all' }
  | { type: 'and'; children: QueryNode[] }
  | { type: 'or'; children: QueryNode[] }
  | { type: 'not'; child: QueryNode }
  /**
   * Full-text match on `message`: a bare word (`phrase: false`), a "quoted phrase"
   * (`phrase: true`), or a word prefix (`prefix: true`, from `conn*`). Case-insensitive.
   */
  | { type: 'text'; value: string; phrase: boolean; prefix: boolean }
  /** `field:value` (eq), `field:val*` (prefix), `field>=value` etc. */
  | { type: 'field'; field: string; op: FieldOp; value: string }
  /**
   * `level` comparisons, on the numeric syslog severity code (0 emerg .. 7 debug).
   * `level>=warning` means "warning or worse", i.e. code <= 4: the parser turns it into
   * `{ op: 'lte', code: 4 }` so translators compare codes directly.
   */
  | { type: 'severity'; op: 'eq' | 'lt' | 'lte' | 'gt' | 'gte'; code: number };

export type FieldOp = 'eq' | 'prefix' | 'lt' | 'lte' | 'gt' | 'gte';

/** A query that does not parse: `position` is the 0-based character offset of the problem. */
export class QuerySyntaxError extends Error {
  readonly position: number;
  constructor(message: string, position: number) {
    super(`${message} at position ${position}`);
    this.name = 'QuerySyntaxError';
    this.position = position;
  }
}
