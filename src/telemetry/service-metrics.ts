import type { Health } from '../core/health.js';
import type { DockerEngineStatus, SinkStatus, SourceStatus } from '../core/status.js';
import type { PauseReason, PipelineCounters } from '../pipeline/pipeline.js';
import type { ElasticsearchWriterCounters } from '../sinks/elasticsearch/writer.js';
import type { SyslogForwarderCounters } from '../sinks/syslog/forwarder.js';
import type { SyslogCounters } from '../sources/syslog/source.js';
import type { SenderTimeCounters } from '../transforms/sender-time.js';
import { type MetricFamily, single } from './metrics.js';
import { sinkFamilies } from './sink-metrics.js';
import { dockerEngineFamilies, sourceFamilies } from './source-metrics.js';

/** What the service's parts expose for `GET /metrics`; absent parts are simply left out. */
export interface MetricSources {
  pipeline: { counters: PipelineCounters; queued: number; queuedBytes: number; paused: PauseReason | null };
  /** Sender times replaced by the receive time (transforms.sender_time). */
  senderTime: SenderTimeCounters;
  sources: () => SourceStatus[];
  /** The Docker source's engine connection (DockerSource.engine), when the Docker source is on. */
  docker?: () => DockerEngineStatus;
  /** Every sink and its buffer. */
  sinks?: () => SinkStatus[];
  syslog?: SyslogCounters;
  deadLetters: () => number;
  elasticsearch?: ElasticsearchWriterCounters;
  forwarders: { target: string; counters: SyslogForwarderCounters }[];
  /** Failing I/O of the parts (disk buffers, positions, the store's writes). */
  health?: Health;
}

/**
 * The metric families of one scrape. Names follow Prometheus conventions: `logwharf_` prefix,
 * `_total` on counters and only there, base units in the name (`_seconds`, `_bytes`), what
 * varies (source, sink, reason) in labels, not in names. Every drop or rejection has its
 * counter with a reason (STYLE.md), so an alert can be written on it. docs/metrics.md lists them.
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
    single(
      'logwharf_pipeline_queued_bytes',
      'Bytes of the events waiting in memory for the sinks (their text, as pipeline.max_in_flight_bytes counts it).',
      'gauge',
      m.pipeline.queuedBytes,
    ),
    {
      name: 'logwharf_pipeline_paused',
      help: 'The sources are paused (1) because the pipeline holds max_in_flight events or max_in_flight_bytes, by which bound.',
      type: 'gauge',
      samples: PAUSE_REASONS.map((reason) => ({
        labels: { reason },
        value: m.pipeline.paused === reason ? 1 : 0,
      })),
    },
    {
      name: 'logwharf_pipeline_pauses_total',
      help: 'Times the sources were paused because the pipeline was full, by the bound reached (events, bytes).',
      type: 'counter',
      samples: PAUSE_REASONS.map((reason) => ({ labels: { reason }, value: p.pauses[reason] })),
    },
    {
      name: 'logwharf_events_timestamp_replaced_total',
      help:
        "Events stored under their receive time because the sender's own time lay outside transforms.sender_time " +
        '(direction: past or future); the claimed time is kept in sender_timestamp, the event flagged clock_skew.',
      type: 'counter',
      samples: Object.entries(m.senderTime).flatMap(([dataset, c]) => [
        { labels: { dataset, direction: 'past' }, value: c.past },
        { labels: { dataset, direction: 'future' }, value: c.future },
      ]),
    },
    // A gauge: the count of what the files hold, read again at start (it falls if they are removed).
    single(
      'logwharf_dead_letter_events',
      'Events kept in the dead-letter store (data_dir/dead-letter).',
      'gauge',
      m.deadLetters(),
    ),
    ...sourceFamilies(m.sources()),
  ];
  if (m.health) out.push(...healthFamilies(m.health));
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

const PAUSE_REASONS: readonly PauseReason[] = ['events', 'bytes'];

/**
 * Failing I/O, by component (`store buffer`, `store`, `positions`), operation (`append`, `read`,
 * `ack`, `write`, `save`) and error code (`ENOSPC`, `EIO`, `SQLITE_FULL`): a counter of every
 * failure (each was retried) and a gauge of what fails now, the same list /readyz shows.
 */
function healthFamilies(health: Health): MetricFamily[] {
  return [
    {
      name: 'logwharf_component_errors_total',
      help: 'Failed operations that were retried (disk buffer append/read/ack, positions save, store write), by component, operation and error code.',
      type: 'counter',
      samples: health.errors().map((e) => ({
        labels: { component: e.component, op: e.op, code: e.code },
        value: e.count,
      })),
    },
    {
      name: 'logwharf_component_failing',
      help: "Operations failing now (1; being retried), by component, operation and error code: what /readyz lists, and a sink's failing writes.",
      type: 'gauge',
      samples: health.failing().map((f) => ({
        labels: { component: f.component, op: f.op, code: f.code },
        value: 1,
      })),
    },
  ];
}
