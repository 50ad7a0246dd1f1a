import type { DockerEngineStatus, SinkStatus, SourceStatus } from '../core/status.js';
import type { PipelineCounters } from '../pipeline/pipeline.js';
import type { ElasticsearchWriterCounters } from '../sinks/elasticsearch/writer.js';
import type { SyslogForwarderCounters } from '../sinks/syslog/forwarder.js';
import type { SyslogCounters } from '../sources/syslog/source.js';
import { type MetricFamily, single } from './metrics.js';
import { sinkFamilies } from './sink-metrics.js';
import { dockerEngineFamilies, sourceFamilies } from './source-metrics.js';

/** What the service's parts expose for `GET /metrics`; absent parts are simply left out. */
export interface MetricSources {
  pipeline: { counters: PipelineCounters; queued: number };
  sources: () => SourceStatus[];
  /** The Docker source's engine connection (DockerSource.engine), when the Docker source is on. */
  docker?: () => DockerEngineStatus;
  /** Every sink and its buffer. */
  sinks?: () => SinkStatus[];
  syslog?: SyslogCounters;
  deadLetters: () => number;
  elasticsearch?: ElasticsearchWriterCounters;
  forwarders: { target: string; counters: SyslogForwarderCounters }[];
}

/**
 * The metric families of one scrape. Names follow Prometheus conventions: `logwharf_` prefix,
 * `_total` on counters and only there, base units in the name (`_seconds`, `_bytes`), what
 * varies (source, sink, reason) in labels, not in names. Every drop or rejection has its
 * counter with a reason (STYLE.md), so an alert can be written on it. README.md lists them.
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
      'Events every sink has taken (into its buffer, or delivered for a memory buffer).',
      'counter',
      p.eventsWritten,
    ),
    single(
      'logwharf_pipeline_queued_events',
      'Events waiting in memory for the sinks.',
      'gauge',
      m.pipeline.queued,
    ),
    // A gauge: the count of what the files hold, read again at start (it falls if they are removed).
    single(
      'logwharf_dead_letter_events',
      'Events kept in the dead-letter store (data_dir/dead-letter).',
      'gauge',
      m.deadLetters(),
    ),
    ...sourceFamilies(m.sources()),
  ];
  if (m.docker) out.push(...dockerEngineFamilies(m.docker()));
  if (m.sinks) out.push(...sinkFamilies(m.sinks()));
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
        name: 'logwharf_syslog_messages_dropped_total',
        help: 'Syslog messages lost, by reason (per peer: logwharf_source_lines_dropped_total).',
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
      single(
        'logwharf_syslog_socket_errors_total',
        'Socket errors on the syslog listeners and connections (resets, TLS handshakes refused).',
        'counter',
        s.socketErrors,
      ),
      single(
        'logwharf_syslog_idle_connections_closed_total',
        'TCP/TLS connections closed (our FIN) after sending nothing for sources.syslog.idle_timeout.',
        'counter',
        s.idleClosed,
      ),
      single(
        'logwharf_syslog_connections_refused_total',
        'New TCP/TLS connections turned away: max_connections were open and none had been idle for idle_timeout.',
        'counter',
        s.connectionsRefused,
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
      single(
        'logwharf_elasticsearch_bulk_splits_total',
        'Bulk requests halved after Elasticsearch refused one whole (413 too large, or 400).',
        'counter',
        e.splits,
      ),
      {
        name: 'logwharf_elasticsearch_retries_total',
        help: 'Writes answered retryable, by the reason of the failure (connection, status_429, ...).',
        type: 'counter',
        samples: Object.entries(e.retries).map(([reason, value]) => ({ labels: { reason }, value })),
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
        name: 'logwharf_forward_bytes_total',
        help: 'Bytes forwarded to a syslog server, framing included.',
        type: 'counter',
        samples: m.forwarders.map((f) => ({ labels: { target: f.target }, value: f.counters.bytes })),
      },
      {
        name: 'logwharf_forward_disconnects_total',
        help: 'Connections to a syslog server lost (closed, reset, a write failed or stalled).',
        type: 'counter',
        samples: m.forwarders.map((f) => ({ labels: { target: f.target }, value: f.counters.disconnects })),
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
