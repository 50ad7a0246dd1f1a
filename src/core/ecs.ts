import { FACILITY_NAMES, type LogEvent, SEVERITY_NAMES } from './event.js';

/** The nested ECS document of an event, as the HTTP API returns it and Elasticsearch stores it. */
export type EcsDocument = Record<string, unknown>;

export function toEcs(e: LogEvent): EcsDocument {
  const doc: EcsDocument = {
    '@timestamp': e.timestamp,
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
  if (e.fields !== undefined) doc.fields = e.fields;
  return doc;
}
