import { type AccessLog, FACILITY_NAMES, type LogEvent, SEVERITY_NAMES } from './event.js';

/** The nested ECS document of an event, as the HTTP API returns it and Elasticsearch stores it. */
export type EcsDocument = Record<string, unknown>;

/**
 * The ECS version the documents and the Elasticsearch mapping (sinks/elasticsearch/template.ts)
 * follow, written as `ecs.version` into every document. 8.11 has every field used here,
 * `log.syslog.*` included; fields ECS does not define (`compose.*`, `stream`, `fields`,
 * `sender_timestamp`, `log.source.address` as Filebeat writes it) are logwharf's own.
 */
export const ECS_VERSION = '8.11.0';

export function toEcs(e: LogEvent): EcsDocument {
  const doc: EcsDocument = {
    '@timestamp': e.timestamp,
    ecs: { version: ECS_VERSION },
    event: {
      id: e.id,
      dataset: e.dataset,
      ingested: e.ingested,
      ...(e.original !== undefined ? { original: e.original } : {}),
    },
    message: e.message,
    log: {
      level: SEVERITY_NAMES[e.severity] ?? 'info',
      ...(e.flags?.length ? { flags: e.flags } : {}),
      ...(e.senderAddress !== undefined ? { source: { address: e.senderAddress } } : {}),
      syslog: {
        severity: { code: e.severity, name: SEVERITY_NAMES[e.severity] ?? 'info' },
        facility: { code: e.facility, name: FACILITY_NAMES[e.facility] ?? String(e.facility) },
        ...(e.syslog?.hostname !== undefined ? { hostname: e.syslog.hostname } : {}),
        ...(e.syslog?.appname !== undefined ? { appname: e.syslog.appname } : {}),
        ...(e.syslog?.procid !== undefined ? { procid: e.syslog.procid } : {}),
        ...(e.syslog?.msgid !== undefined ? { msgid: e.syslog.msgid } : {}),
        ...(e.syslog?.structuredData !== undefined ? { structured_data: e.syslog.structuredData } : {}),
      },
    },
    host: { name: e.host },
  };
  if (e.senderTimestamp !== undefined) doc.sender_timestamp = e.senderTimestamp;
  if (e.stream !== undefined) doc.stream = e.stream;
  if (e.service !== undefined) doc.service = { name: e.service };
  const c = e.container;
  if (c) {
    doc.container = { id: c.id, name: c.name, image: { name: c.imageName }, labels: c.labels };
    if (c.composeProject !== undefined) {
      doc.compose = {
        project: c.composeProject,
        ...(c.composeService !== undefined ? { service: c.composeService } : {}),
        ...(c.composeNumber !== undefined ? { container_number: c.composeNumber } : {}),
      };
    }
  }
  if (e.access !== undefined) putAccess(doc, e.access);
  if (e.fields !== undefined) doc.fields = e.fields;
  return doc;
}

/** An access line's facts at their ECS paths (http.*, url.original, source.address, user.*, user_agent.*). */
function putAccess(doc: EcsDocument, a: AccessLog): void {
  const request: Record<string, unknown> = {};
  if (a.method !== undefined) request.method = a.method;
  if (a.referrer !== undefined) request.referrer = a.referrer;
  doc.http = {
    ...(a.method !== undefined || a.referrer !== undefined ? { request } : {}),
    response: { status_code: a.status, body: { bytes: a.bytes } },
    ...(a.version !== undefined ? { version: a.version } : {}),
  };
  if (a.url !== undefined) doc.url = { original: a.url };
  doc.source = { address: a.client };
  if (a.user !== undefined) doc.user = { name: a.user };
  if (a.agent !== undefined) doc.user_agent = { original: a.agent };
}
