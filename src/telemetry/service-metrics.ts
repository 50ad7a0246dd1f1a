import type { SourceStatus } from '../core/status.js';
import type { PipelineCounters } from '../pipeline/pipeline.js';
import type { ElasticsearchWriterCounters } from '../sinks/elasticsearch/writer.js';
import type { SyslogForwarderCounters } from '../sinks/syslog/forwarder.js';
import type { SyslogCounters } from '../sources/syslog/source.js';
import { type MetricFamily, single } from './metrics.js';

/** What the service's parts expose for `GET /metrics`; absent parts are simply left out. */
export interface MetricSources {
  pipeline: { counters: PipelineCounters; queued: number };
  sources: () => SourceStatus[];
  syslog?: SyslogCounters;
  deadLetters: () => number;
  elasticsearch?: ElasticsearchWriterCounters;
  forwarders: { target: string; counters: SyslogForwarderCounters }[];
}

/**
 * The metric families of one scrape. Names follow Prometheus conventions: `logwharf_` prefix,
 * `_total` counters, labels for the source or sink. Every drop or rejection has its counter
 * with a reason (STYLE.md), so an alert can be written on it.
 */
export function collectServiceMetrics(m: MetricSources): MetricFamily[] {
  const p = m.pipeline.counters;
  const out: MetricFamily[] = [
    single(
      'logwharf_pipeline_events_in_total',
      'Events handed to the pipeline by the sources.',
      'counter',
      p.eventsIn,
    ),
    single(
      'logwharf_pipeline_events_written_total',
      'Events every sink has taken.',
      'counter',
      p.eventsWritten,
    ),
    single(
      'logwharf_pipeline_events_rejected_total',
      'Events a sink refused for good (kept in the dead-letter store).',
      'counter',
      p.eventsRejected,
    ),
    single(
      'logwharf_pipeline_write_retries_total',
      'Batch writes that failed and were retried.',
      'counter',
      p.writeRetries,
    ),
    single(
      'logwharf_pipeline_queued_events',
      'Events waiting in memory for the sinks.',
      'gauge',
      m.pipeline.queued,
    ),
    single(
      'logwharf_dead_letters_total',
      'Events kept in the dead-letter store (data_dir/dead-letter).',
      'counter',
      m.deadLetters(),
    ),
    {
      name: 'logwharf_source_lines_total',
      help: 'Lines read, per container or syslog peer.',
      type: 'counter',
      samples: m
        .sources()
        .map((s) => ({ labels: { kind: s.kind, id: s.id, name: s.name }, value: s.linesRead })),
    },
  ];
  if (m.syslog) {
    const s = m.syslog;
    out.push(
      single('logwharf_syslog_messages_total', 'Syslog messages received.', 'counter', s.messages),
      single(
        'logwharf_syslog_unparsed_total',
        'Syslog messages stored whole because neither grammar read them.',
        'counter',
        s.unparsed,
      ),
      single(
        'logwharf_syslog_truncated_total',
        'Syslog messages cut at max_message_bytes.',
        'counter',
        s.truncated,
      ),
      {
        name: 'logwharf_syslog_lost_total',
        help: 'Syslog messages lost, by reason.',
        type: 'counter',
        samples: [
          { labels: { reason: 'peer_closed_mid_frame' }, value: s.lostAtClose },
          { labels: { reason: 'udp_pipeline_full' }, value: s.udpDroppedBackpressure },
        ],
      },
      single(
        'logwharf_syslog_framing_errors_total',
        'Malformed octet counts (the connection goes on as newline-framed).',
        'counter',
        s.framingErrors,
      ),
    );
  }
  if (m.elasticsearch) {
    const e = m.elasticsearch;
    out.push(
      single(
        'logwharf_elasticsearch_indexed_total',
        'Events Elasticsearch stored (201).',
        'counter',
        e.indexed,
      ),
      single(
        'logwharf_elasticsearch_duplicates_total',
        'Events Elasticsearch already had (409: replays).',
        'counter',
        e.duplicates,
      ),
      single(
        'logwharf_elasticsearch_dead_lettered_total',
        'Events Elasticsearch refused for good (per-item 400).',
        'counter',
        e.deadLettered,
      ),
      single('logwharf_elasticsearch_bulk_requests_total', 'Bulk requests sent.', 'counter', e.bulkRequests),
      {
        name: 'logwharf_elasticsearch_retries_total',
        help: 'Writes answered retryable, by the kind of failure.',
        type: 'counter',
        samples: Object.entries(e.retries).map(([kind, value]) => ({ labels: { kind }, value })),
      },
    );
  }
  if (m.forwarders.length > 0) {
    out.push(
      {
        name: 'logwharf_forward_events_total',
        help: 'Events forwarded to a syslog server (handed to the kernel).',
        type: 'counter',
        samples: m.forwarders.map((f) => ({ labels: { target: f.target }, value: f.counters.events })),
      },
      {
        name: 'logwharf_forward_retries_total',
        help: 'Forwarding writes answered retryable, by target and reason.',
        type: 'counter',
        samples: m.forwarders.flatMap((f) =>
          Object.entries(f.counters.retryable).map(([reason, value]) => ({
            labels: { target: f.target, reason },
            value,
          })),
        ),
      },
    );
  }
  return out;
}
