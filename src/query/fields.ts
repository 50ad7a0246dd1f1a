import { LogwharfError } from '../core/errors.js';

/**
 * The fields the query language knows, and the errors a query about a field can raise: one
 * catalogue for both translators (sql.ts for the embedded store, es-fields.ts for
 * Elasticsearch), so a field means the same on both stores.
 */

/** The query names a field this store does not know: the API answers 400 with `known`. */
export class UnknownFieldError extends LogwharfError {
  readonly field: string;
  readonly known: readonly string[];
  constructor(field: string) {
    super('LOGWHARF_ERR_QUERY', `unknown field '${field}'; known: ${KNOWN_FIELDS.join(', ')}`);
    this.name = 'UnknownFieldError';
    this.field = field;
    this.known = KNOWN_FIELDS;
  }
}

/** A known field with a value it cannot take (`compose.container_number:abc`, `log.level:loud`). */
export class FieldValueError extends LogwharfError {
  readonly field: string;
  readonly value: string;
  constructor(field: string, value: string, expected: string) {
    super('LOGWHARF_ERR_QUERY', `field '${field}' takes ${expected}; got '${value}'`);
    this.name = 'FieldValueError';
    this.field = field;
    this.value = value;
  }
}

/**
 * The keyword fields of an access line (`http.*`, `url.original`, ...), of a syslog sender
 * (`log.source.address`, `sender_timestamp`) and `ecs.version`: exact, prefix and range
 * comparisons as text on both stores.
 */
export const ECS_KEYWORD_FIELDS = [
  'http.request.method',
  'http.request.referrer',
  'http.version',
  'url.original',
  'user_agent.original',
  'user.name',
  'source.address',
  'log.source.address',
  'sender_timestamp',
  'ecs.version',
] as const;

/** An access line's numbers: compared as numbers on both stores (`status>=500`). */
export const ECS_NUMBER_FIELDS = ['http.response.status_code', 'http.response.body.bytes'] as const;

/** Field paths the embedded store can filter on (`<...>` stands for any key). */
export const KNOWN_FIELDS: readonly string[] = [
  '@timestamp',
  'message',
  'event.id',
  'event.dataset',
  'event.ingested',
  'event.original',
  'log.level',
  'log.flags',
  'log.syslog.severity.code',
  'log.syslog.severity.name',
  'log.syslog.facility.code',
  'log.syslog.facility.name',
  'log.syslog.hostname',
  'log.syslog.appname',
  'log.syslog.procid',
  'log.syslog.msgid',
  'log.syslog.structured_data.<sd-id>.<param>',
  'stream',
  'host.name',
  'service.name',
  'container.id',
  'container.name',
  'container.image.name',
  'container.labels.<key>',
  'compose.project',
  'compose.service',
  'compose.container_number',
  ...ECS_NUMBER_FIELDS,
  ...ECS_KEYWORD_FIELDS,
  'fields.<path>',
];

/**
 * Fields holding canonical timestamps: the parser canonicalizes their values, so comparing as
 * text is comparing times, and a histogram refuses to split by them (a group per event).
 */
export const TIMESTAMP_FIELDS: ReadonlySet<string> = new Set([
  '@timestamp',
  'event.ingested',
  'sender_timestamp',
]);
