import type { DockerEngineStatus, SourceStatus } from '../core/status.js';
import type { MetricFamily, MetricSample } from './metrics.js';

/**
 * The per-source families of `/metrics`: one series per followed container and per syslog peer,
 * labelled `kind` (`docker`, `syslog`), `id` (container id, or `tcp://10.0.0.5`) and `name`
 * (container name, or the peer's hostname once it sent one).
 *
 * Cardinality: a container id is a label, so every re-created container (a `compose up` that
 * replaces it) starts new series and a removed one's series end. That is fine for a sidecar
 * following one compose project; syslog peers are capped at 1024 remembered senders.
 */
export function sourceFamilies(statuses: readonly SourceStatus[]): MetricFamily[] {
  const labels = (s: SourceStatus) => ({ kind: s.kind, id: s.id, name: s.name });
  return [
    {
      name: 'logwharf_source_lines_total',
      help: 'Lines read, per container or syslog peer.',
      type: 'counter',
      samples: statuses.map((s) => ({ labels: labels(s), value: s.linesRead })),
    },
    {
      name: 'logwharf_source_lag_seconds',
      help:
        'Seconds the oldest line read and not yet committed (taken by every sink) has waited since it was written; ' +
        '0 when caught up, however long the source has been quiet. Absent for syslog peers (no per-peer acknowledgement).',
      type: 'gauge',
      samples: statuses.flatMap((s): MetricSample[] =>
        s.lagSeconds === null ? [] : [{ labels: labels(s), value: s.lagSeconds }],
      ),
    },
    {
      name: 'logwharf_source_reconnects_total',
      help:
        'Docker: log stream re-attached after it ended while the container ran or the engine was away. ' +
        'Syslog: new connections from a peer after all of its earlier ones closed.',
      type: 'counter',
      samples: statuses.map((s) => ({ labels: labels(s), value: s.reconnects })),
    },
    {
      name: 'logwharf_source_lines_dropped_total',
      help:
        'Lines lost, by reason: peer_closed_mid_frame, udp_pipeline_full (syslog), undecodable (Docker stream bytes skipped). ' +
        'Lines cut at a size limit are kept and flagged, not counted here.',
      type: 'counter',
      samples: statuses.flatMap((s) =>
        Object.entries(s.dropped).map(([reason, value]) => ({ labels: { ...labels(s), reason }, value })),
      ),
    },
  ];
}

export function dockerEngineFamilies(e: DockerEngineStatus): MetricFamily[] {
  return [
    {
      name: 'logwharf_docker_engine_connected',
      help: '1 while the Docker engine and its event stream are connected, else 0.',
      type: 'gauge',
      samples: [{ value: e.connected ? 1 : 0 }],
    },
    {
      name: 'logwharf_docker_engine_reconnects_total',
      help: 'Connections to the Docker engine (its event stream) made again after one was lost.',
      type: 'counter',
      samples: [{ value: e.reconnects }],
    },
  ];
}
