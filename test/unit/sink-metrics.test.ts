import { describe, expect, it } from 'vitest';
import type { SinkStatus } from '../../src/core/status.js';
import { renderMetrics } from '../../src/telemetry/metrics.js';
import { sinkFamilies } from '../../src/telemetry/sink-metrics.js';

/** The per-sink families of /metrics, from the sinks' statuses. */

const store: SinkStatus = {
  name: 'store',
  kind: 'elasticsearch',
  buffer: {
    kind: 'disk',
    bytes: 4096,
    maxBytes: 268_435_456,
    events: 12,
    oldestAgeSeconds: 3.25,
    damagedRecords: 1,
    damagedBytes: 2048,
  },
  eventsWritten: 1000,
  eventsRejected: 2,
  writeRetries: 5,
  dropped: {},
};

const forward: SinkStatus = {
  name: 'syslog 10.0.0.5:6514',
  kind: 'syslog',
  buffer: {
    kind: 'memory',
    bytes: 0,
    maxBytes: 0,
    events: 0,
    oldestAgeSeconds: 0,
    damagedRecords: 0,
    damagedBytes: 0,
  },
  eventsWritten: 998,
  eventsRejected: 0,
  writeRetries: 0,
  dropped: { buffer_full: 7 },
};

function samples(text: string): string[] {
  return text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
}

describe('sinkFamilies', () => {
  it('renders delivery counters per sink and buffer gauges per sink and buffer kind', () => {
    const s = 'sink="store",kind="elasticsearch"';
    const f = 'sink="syslog 10.0.0.5:6514",kind="syslog"';
    expect(samples(renderMetrics(sinkFamilies([store, forward])))).toEqual([
      `logwharf_sink_events_written_total{${s}} 1000`,
      `logwharf_sink_events_written_total{${f}} 998`,
      `logwharf_sink_events_rejected_total{${s}} 2`,
      `logwharf_sink_events_rejected_total{${f}} 0`,
      `logwharf_sink_write_retries_total{${s}} 5`,
      `logwharf_sink_write_retries_total{${f}} 0`,
      `logwharf_sink_events_dropped_total{${f},reason="buffer_full"} 7`,
      `logwharf_sink_buffer_bytes{${s},buffer="disk"} 4096`,
      `logwharf_sink_buffer_bytes{${f},buffer="memory"} 0`,
      `logwharf_sink_buffer_max_bytes{${s},buffer="disk"} 268435456`,
      `logwharf_sink_buffer_max_bytes{${f},buffer="memory"} 0`,
      `logwharf_sink_buffer_events{${s},buffer="disk"} 12`,
      `logwharf_sink_buffer_events{${f},buffer="memory"} 0`,
      `logwharf_sink_buffer_oldest_age_seconds{${s},buffer="disk"} 3.25`,
      `logwharf_sink_buffer_oldest_age_seconds{${f},buffer="memory"} 0`,
      `logwharf_sink_buffer_damaged_records_total{${s},buffer="disk"} 1`,
      `logwharf_sink_buffer_damaged_records_total{${f},buffer="memory"} 0`,
      `logwharf_sink_buffer_damaged_bytes_total{${s},buffer="disk"} 2048`,
      `logwharf_sink_buffer_damaged_bytes_total{${f},buffer="memory"} 0`,
    ]);
  });

  it('types counters and gauges, with a help line each', () => {
    const text = renderMetrics(sinkFamilies([store]));
    for (const name of [
      'logwharf_sink_events_written_total',
      'logwharf_sink_events_rejected_total',
      'logwharf_sink_write_retries_total',
      'logwharf_sink_events_dropped_total',
      'logwharf_sink_buffer_damaged_records_total',
      'logwharf_sink_buffer_damaged_bytes_total',
    ])
      expect(text).toContain(`# TYPE ${name} counter\n`);
    for (const name of [
      'logwharf_sink_buffer_bytes',
      'logwharf_sink_buffer_max_bytes',
      'logwharf_sink_buffer_events',
      'logwharf_sink_buffer_oldest_age_seconds',
    ])
      expect(text).toContain(`# TYPE ${name} gauge\n`);
    expect(text.match(/^# HELP /gm)).toHaveLength(10);
  });

  it('escapes a sink name that needs it', () => {
    const text = renderMetrics(sinkFamilies([{ ...store, name: 'a "quoted" \\ name' }]));
    expect(text).toContain(
      'logwharf_sink_events_written_total{sink="a \\"quoted\\" \\\\ name",kind="elasticsearch"} 1000',
    );
  });

  it('writes the families without samples when there are no sinks', () => {
    expect(samples(renderMetrics(sinkFamilies([])))).toEqual([]);
  });
});
