import type { SinkStatus } from '../core/status.js';
import type { MetricFamily } from './metrics.js';

/**
 * The per-sink families of `/metrics`, labelled `sink` (its name: `store`,
 * `syslog 10.0.0.5:6514`) and `kind` (`embedded`, `elasticsearch`, `syslog`); the buffer
 * gauges add `buffer` (`disk`, `memory`). One series per configured sink: a handful.
 */
export function sinkFamilies(statuses: readonly SinkStatus[]): MetricFamily[] {
  const labels = (s: SinkStatus) => ({ sink: s.name, kind: s.kind });
  const buffer = (s: SinkStatus) => ({ ...labels(s), buffer: s.buffer.kind });
  const counter = (name: string, help: string, value: (s: SinkStatus) => number): MetricFamily => ({
    name,
    help,
    type: 'counter',
    samples: statuses.map((s) => ({ labels: labels(s), value: value(s) })),
  });
  const gauge = (name: string, help: string, value: (s: SinkStatus) => number): MetricFamily => ({
    name,
    help,
    type: 'gauge',
    samples: statuses.map((s) => ({ labels: buffer(s), value: value(s) })),
  });
  return [
    counter(
      'logwharf_sink_events_written_total',
      'Events the sink took (delivered).',
      (s) => s.eventsWritten,
    ),
    counter(
      'logwharf_sink_events_rejected_total',
      'Events the sink refused for good (kept in the dead-letter store).',
      (s) => s.eventsRejected,
    ),
    counter(
      'logwharf_sink_write_retries_total',
      'Writes to the sink that failed retryably and were retried.',
      (s) => s.writeRetries,
    ),
    {
      name: 'logwharf_sink_events_dropped_total',
      help: 'Events dropped on purpose, by reason (buffer_full under when_full: drop_newest).',
      type: 'counter',
      samples: statuses.flatMap((s) =>
        Object.entries(s.dropped).map(([reason, value]) => ({ labels: { ...labels(s), reason }, value })),
      ),
    },
    gauge(
      'logwharf_sink_buffer_bytes',
      "Bytes waiting in the sink's buffer (disk: unsent record bytes; memory: 0).",
      (s) => s.buffer.bytes,
    ),
    gauge('logwharf_sink_buffer_max_bytes', "The buffer's size limit in bytes.", (s) => s.buffer.maxBytes),
    gauge('logwharf_sink_buffer_events', 'Events waiting to be sent to the sink.', (s) => s.buffer.events),
    gauge(
      'logwharf_sink_buffer_oldest_age_seconds',
      'Seconds the oldest waiting event has waited in the buffer; 0 when nothing waits.',
      (s) => s.buffer.oldestAgeSeconds,
    ),
    {
      name: 'logwharf_sink_buffer_damaged_records_total',
      help:
        'Damaged spots found in a disk buffer since start (a disk that lost data); each gave up the rest of its ' +
        'segment file, whose events are lost.',
      type: 'counter',
      samples: statuses.map((s) => ({ labels: buffer(s), value: s.buffer.damagedRecords })),
    },
    {
      name: 'logwharf_sink_buffer_damaged_bytes_total',
      help: 'Bytes of disk buffer given up at damaged spots since start.',
      type: 'counter',
      samples: statuses.map((s) => ({ labels: buffer(s), value: s.buffer.damagedBytes })),
    },
  ];
}
