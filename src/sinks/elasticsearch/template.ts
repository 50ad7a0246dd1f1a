import type { Client, estypes } from '@elastic/elasticsearch';
import { MAX_FIELDS_DEPTH } from '../../core/event.js';

/**
 * The indices logwharf writes to Elasticsearch, and the composable index template that maps
 * them (DESIGN.md, "Stores").
 *
 * Indices are daily, per retention class: `<prefix>-<class>-YYYY.MM.DD`, the UTC date of the
 * event's `@timestamp`. Retention (a later issue) then drops whole indices, never runs a
 * delete-by-query. The template `<prefix>` matches `<prefix>-*`, so every new daily index is
 * created with the mapping below the moment the first event for it arrives.
 *
 * Mapping choices:
 * - `dynamic: false` at the root (inherited by every object): a key the mapping does not name
 *   stays in `_source` (returned by search, kept for audit) but is not indexed. An unexpected
 *   key can never add fields, explode the mapping or clash with another event's type, so it
 *   can never make a document fail.
 * - `container.labels`, `fields` and `log.syslog.structured_data` are `flattened`: one field
 *   each, whatever keys they hold. Label keys contain dots (`com.docker.compose.service`),
 *   and `fields` holds whatever a JSON or logfmt line carried, a number in one line and an
 *   object in the next; as flattened leaves they are all keywords and cannot clash.
 * - Every keyword has `ignore_above`: Lucene refuses a term over 32766 bytes and would refuse
 *   the whole document; a longer value is kept in `_source`, just not indexed.
 * - `@timestamp` and `event.ingested` are `date_nanos`: Docker gives nanoseconds, and sorting
 *   and cursors need all of them. date_nanos holds 1970..2262 only; an event outside is
 *   refused per item and goes to the dead-letter store. (A syslog sender's time that far off is
 *   replaced by the receive time before it gets here: transforms/sender-time.ts.)
 * - `sender_timestamp` (the replaced claim) is a keyword, not a date: it is exactly the time
 *   that is out of line, year 0000 or 9999 included, which no date type may refuse. Its
 *   canonical text sorts and compares as time.
 * - The access-log fields take ECS's own types: `http.response.status_code` and
 *   `http.response.body.bytes` are `long`, the rest keywords; `url.original`,
 *   `user_agent.original` and `user.name` have ECS's `.text` sub-field for word searches from
 *   Kibana. ECS makes `url.original` a `wildcard` where the cluster has that type; it is a
 *   keyword here, which ECS allows, because the type is a module some clusters lack (the
 *   template would be refused whole; the test cluster is one), and the query language needs only exact, prefix
 *   and range matches, which a keyword answers. A URL longer than IGNORE_ABOVE is kept in
 *   `_source`, not indexed.
 *
 * A changed template applies to indices created after the PUT (tomorrow's), not to existing
 * ones: that is how Elasticsearch templates work, and why TEMPLATE_VERSION is in `_meta`. Fields
 * a new version adds are also put into the mapping of the indices that exist
 * (`addFieldsToExistingIndices`), so today's index searches them from the upgrade on, not from
 * tomorrow; documents stored before keep what they were indexed with.
 */

export const TEMPLATE_VERSION = 3;

/** The retention class when none is configured. */
export const DEFAULT_CLASS = 'default';

/**
 * 8191 UTF-16 code units are at most 32764 UTF-8 bytes, just under Lucene's term limit of
 * 32766: the longest value that is always safe to index.
 */
const IGNORE_ABOVE = 8191;

const keyword = { type: 'keyword', ignore_above: IGNORE_ABOVE } as const;
const integer = { type: 'integer' } as const;
const long = { type: 'long' } as const;
/**
 * ECS's multi-field for word search on a keyword. ECS 8 makes it `match_only_text`, a module
 * some clusters lack (as `wildcard`); `text` answers the same queries on every cluster.
 */
const withText = { fields: { text: { type: 'text' } } } as const;
const dateNanos = { type: 'date_nanos' } as const;
// `ignore_above` on flattened is supported by Elasticsearch but missing from the client's types.
const flattened = { type: 'flattened', ignore_above: IGNORE_ABOVE } as unknown as estypes.MappingProperty;
/**
 * `fields` holds whatever a JSON line nested, up to MAX_FIELDS_DEPTH (the body parser keeps a
 * deeper line as text); flattened's own default of 20 objects would refuse the deeper ones for
 * good. One more than ours, as Elasticsearch also counts the object it starts from.
 */
const flattenedFields = {
  ...flattened,
  depth_limit: MAX_FIELDS_DEPTH + 1,
} as unknown as estypes.MappingProperty;

/** The ECS mapping of the document `toEcs()` (src/core/ecs.ts) builds. */
export const MAPPINGS: estypes.MappingTypeMapping = {
  dynamic: false,
  properties: {
    '@timestamp': dateNanos,
    ecs: { properties: { version: keyword } },
    sender_timestamp: keyword,
    event: {
      properties: {
        id: keyword,
        dataset: keyword,
        ingested: dateNanos,
        // Kept for audit, returned with the event, never searched: no index, no doc values.
        original: { type: 'keyword', index: false, doc_values: false },
      },
    },
    message: { type: 'text' },
    log: {
      properties: {
        level: keyword,
        flags: keyword,
        source: { properties: { address: keyword } },
        syslog: {
          properties: {
            severity: { properties: { code: integer, name: keyword } },
            facility: { properties: { code: integer, name: keyword } },
            hostname: keyword,
            appname: keyword,
            procid: keyword,
            msgid: keyword,
            structured_data: flattened,
          },
        },
      },
    },
    stream: keyword,
    host: { properties: { name: keyword } },
    service: { properties: { name: keyword } },
    container: {
      properties: {
        id: keyword,
        name: keyword,
        image: { properties: { name: keyword } },
        labels: flattened,
      },
    },
    compose: {
      properties: {
        project: keyword,
        service: keyword,
        container_number: integer,
      },
    },
    http: {
      properties: {
        request: { properties: { method: keyword, referrer: keyword } },
        response: { properties: { status_code: long, body: { properties: { bytes: long } } } },
        version: keyword,
      },
    },
    url: { properties: { original: { ...keyword, ...withText } } },
    source: { properties: { address: keyword } },
    user: { properties: { name: { ...keyword, ...withText } } },
    user_agent: { properties: { original: { ...keyword, ...withText } } },
    fields: flattenedFields,
  },
};

export interface TemplateOptions {
  /**
   * `index.number_of_replicas` of new indices. Unset (the default) leaves it to the cluster's
   * default (1 on a stock cluster), which is right for a real cluster: 0 would lose data with
   * one node. A single-node test cluster sets 0 so its indices turn green.
   */
  replicas?: number;
}

/** Higher than Elasticsearch's built-in `logs-*-*` (100), and a longer prefix wins over a shorter one. */
export function templatePriority(prefix: string): number {
  // Two templates of the same priority whose patterns overlap are refused by Elasticsearch.
  // Patterns `<a>-*` and `<b>-*` overlap only when one prefix starts the other, and then their
  // lengths differ: two logwharf deployments sharing a cluster never collide, and the more
  // specific prefix maps its own indices.
  return 200 + prefix.length;
}

export function indexTemplate(
  prefix: string,
  opts: TemplateOptions = {},
): estypes.IndicesPutIndexTemplateRequest {
  return {
    name: prefix,
    index_patterns: [`${prefix}-*`],
    priority: templatePriority(prefix),
    version: TEMPLATE_VERSION,
    _meta: { managed_by: 'logwharf', template_version: TEMPLATE_VERSION },
    template: {
      settings: {
        // A sidecar's daily index is small; one shard per index keeps the shard count, the
        // real cost on a cluster, low.
        number_of_shards: 1,
        ...(opts.replicas !== undefined ? { number_of_replicas: opts.replicas } : {}),
        // With `dynamic: false` only this template adds fields (about 55), so this limit is
        // never approached; it is set so a changed cluster default cannot matter.
        'mapping.total_fields.limit': 1000,
        // refresh_interval is left at its default (1s): new events are searchable within a second.
      },
      mappings: MAPPINGS,
    },
  };
}

/**
 * Creates or replaces the template (a PUT, so running it at every start is idempotent).
 * Must have succeeded before the first event is written: an index created without it would
 * be mapped dynamically (`@timestamp` as a millisecond `date`, labels exploded) for its day.
 */
export async function ensureTemplate(
  client: Client,
  prefix: string,
  opts: TemplateOptions & { requestTimeout?: number } = {},
): Promise<void> {
  const { requestTimeout, ...templateOpts } = opts;
  await client.indices.putIndexTemplate(
    indexTemplate(prefix, templateOpts),
    requestTimeout !== undefined ? { requestTimeout } : {},
  );
}

/**
 * Puts MAPPINGS into the indices `<prefix>-*` that exist: Elasticsearch adds the fields they lack
 * and leaves the rest (a type can never change; the same one is accepted as it is). Matching no
 * index is fine.
 */
export async function addFieldsToExistingIndices(
  client: Client,
  prefix: string,
  opts: { requestTimeout?: number } = {},
): Promise<void> {
  await client.indices.putMapping(
    {
      index: `${prefix}-*`,
      allow_no_indices: true,
      ignore_unavailable: true,
      expand_wildcards: 'open',
      ...MAPPINGS,
    },
    opts.requestTimeout !== undefined ? { requestTimeout: opts.requestTimeout } : {},
  );
}

/** A retention class becomes part of an index name: lower case, digits, `_` and `-` only. */
const CLASS_RE = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export function isValidClass(name: string): boolean {
  return CLASS_RE.test(name);
}

/** `<prefix>-<class>-YYYY.MM.DD` of a canonical timestamp (`2024-05-01T...Z` -> `2024.05.01`). */
export function indexName(prefix: string, retentionClass: string, timestamp: string): string {
  return `${prefix}-${retentionClass}-${timestamp.slice(0, 4)}.${timestamp.slice(5, 7)}.${timestamp.slice(8, 10)}`;
}
