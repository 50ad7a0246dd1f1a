import { describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { Health } from '../../src/core/health.js';
import { renderMetrics, single } from '../../src/telemetry/metrics.js';
import { collectServiceMetrics, type MetricSources } from '../../src/telemetry/service-metrics.js';
import { FakeReader } from '../helpers/fake-reader.js';

/** Prometheus text format, and GET /metrics behind the same tokens as the rest of the API. */

describe('renderMetrics', () => {
  it('writes HELP, TYPE and samples, labels escaped', () => {
    expect(
      renderMetrics([
        single('logwharf_x_total', 'Things.\nTwo lines.', 'counter', 3),
        {
          name: 'logwharf_y',
          help: 'Y.',
          type: 'gauge',
          samples: [
            { labels: { id: 'a"b\\c', kind: 'syslog' }, value: 1.5 },
            { value: Number.POSITIVE_INFINITY },
          ],
        },
      ]),
    ).toBe(
      '# HELP logwharf_x_total Things.\\nTwo lines.\n# TYPE logwharf_x_total counter\nlogwharf_x_total 3\n' +
        '# HELP logwharf_y Y.\n# TYPE logwharf_y gauge\nlogwharf_y{id="a\\"b\\\\c",kind="syslog"} 1.5\nlogwharf_y +Inf\n',
    );
  });
});

describe('GET /metrics', () => {
  const status = { sources: () => [], ready: () => true };
  it('answers Prometheus text from the collector', async () => {
    const app = await buildApp({
      reader: new FakeReader(),
      status,
      storeReady: async () => true,
      metrics: () => [single('logwharf_dead_letter_events', 'Dead letters.', 'gauge', 2)],
    });
    const res = await app.inject('/metrics');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain; version=0.0.4');
    expect(res.body).toContain('logwharf_dead_letter_events 2');
    await app.close();
  });

  it('needs a token when tokens are configured', async () => {
    const token = 'metrics-token-0123456789';
    const app = await buildApp({
      reader: new FakeReader(),
      status,
      storeReady: async () => true,
      tokens: [{ token, role: 'read' }],
    });
    expect((await app.inject('/metrics')).statusCode).toBe(401);
    expect(
      (await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${token}` } })).statusCode,
    ).toBe(200);
    await app.close();
  });
});

/** Every part present, so every family of a scrape is rendered. */
function everything(): MetricSources {
  return {
    pipeline: {
      counters: { eventsIn: 10, eventsWritten: 9, pauses: { events: 1, bytes: 2 } },
      queued: 1,
      queuedBytes: 1000,
      paused: 'bytes',
    },
    senderTime: { syslog: { past: 2, future: 1 } },
    sources: () => [
      {
        kind: 'docker',
        id: 'c1',
        name: 'demo-web-1',
        state: 'attached',
        linesRead: 10,
        lastLineTime: '2024-05-01T12:00:00.000000000Z',
        committedTime: '2024-05-01T12:00:00.000000000Z',
        lagSeconds: 0,
        reconnects: 1,
        dropped: { undecodable: 0 },
      },
    ],
    docker: () => ({ connected: true, reconnects: 2 }),
    sinks: () => [
      {
        name: 'store',
        kind: 'embedded',
        buffer: {
          kind: 'disk',
          bytes: 0,
          maxBytes: 1024,
          events: 0,
          oldestAgeSeconds: 0,
          damagedRecords: 0,
          damagedBytes: 0,
        },
        eventsWritten: 9,
        eventsRejected: 0,
        writeRetries: 0,
        dropped: { buffer_full: 0 },
      },
    ],
    syslog: {
      messages: 1,
      truncated: 0,
      unparsed: 0,
      lostAtClose: 0,
      framingErrors: 0,
      socketErrors: 0,
      udpDroppedBackpressure: 0,
      idleClosed: 0,
      connectionsRefused: 0,
    },
    deadLetters: () => 0,
    elasticsearch: {
      indexed: 1,
      duplicates: 0,
      deadLettered: 0,
      bulkRequests: 1,
      splits: 0,
      retries: { connection: 1 },
    },
    forwarders: [
      {
        target: '10.0.0.5:6514',
        counters: {
          events: 1,
          batches: 1,
          bytes: 100,
          connects: 1,
          disconnects: 0,
          retryable: { connect: 0, write: 0, timeout: 0, closed: 0 },
          rejected: 0,
        },
      },
    ],
    health: failingHealth(),
  };
}

/** The store's buffer failed to append twice (disk full), and fails now. */
function failingHealth(): Health {
  const h = new Health();
  h.fail('store buffer', 'append', Object.assign(new Error('no space'), { code: 'ENOSPC' }));
  h.fail('store buffer', 'append', Object.assign(new Error('no space'), { code: 'ENOSPC' }));
  return h;
}

describe('the names of every metric (Prometheus conventions)', () => {
  const families = collectServiceMetrics(everything());

  it('are logwharf_ snake case, each once', () => {
    const names = families.map((f) => f.name);
    expect(new Set(names).size).toBe(names.length);
    for (const n of names) expect(n).toMatch(/^logwharf_[a-z0-9]+(_[a-z0-9]+)*$/);
  });

  it('end in _total exactly when they are counters', () => {
    for (const f of families) expect(f.name.endsWith('_total')).toBe(f.type === 'counter');
  });

  it('use base units, and no unit in a label or a label in a name', () => {
    for (const f of families) {
      expect(f.name).not.toMatch(/_(ms|milliseconds|minutes|kb|mb|kilobytes|megabytes)(_|$)/);
      expect(f.name).not.toMatch(/_(docker|syslog|elasticsearch|embedded)_(lines|events)_/);
      expect(f.help.length).toBeGreaterThan(10);
      for (const s of f.samples)
        for (const k of Object.keys(s.labels ?? {}))
          expect(k).toMatch(/^(kind|id|name|reason|sink|buffer|target|dataset|direction|component|op|code)$/);
    }
  });

  it('list the whole scrape', () => {
    expect(families.map((f) => `${f.name} ${f.type}`)).toEqual([
      'logwharf_pipeline_events_in_total counter',
      'logwharf_pipeline_events_written_total counter',
      'logwharf_pipeline_queued_events gauge',
      'logwharf_pipeline_queued_bytes gauge',
      'logwharf_pipeline_paused gauge',
      'logwharf_pipeline_pauses_total counter',
      'logwharf_events_timestamp_replaced_total counter',
      'logwharf_dead_letter_events gauge',
      'logwharf_source_lines_total counter',
      'logwharf_source_lag_seconds gauge',
      'logwharf_source_reconnects_total counter',
      'logwharf_source_lines_dropped_total counter',
      'logwharf_component_errors_total counter',
      'logwharf_component_failing gauge',
      'logwharf_docker_engine_connected gauge',
      'logwharf_docker_engine_reconnects_total counter',
      'logwharf_sink_events_written_total counter',
      'logwharf_sink_events_rejected_total counter',
      'logwharf_sink_write_retries_total counter',
      'logwharf_sink_events_dropped_total counter',
      'logwharf_sink_buffer_bytes gauge',
      'logwharf_sink_buffer_max_bytes gauge',
      'logwharf_sink_buffer_events gauge',
      'logwharf_sink_buffer_oldest_age_seconds gauge',
      'logwharf_sink_buffer_damaged_records_total counter',
      'logwharf_sink_buffer_damaged_bytes_total counter',
      'logwharf_syslog_messages_total counter',
      'logwharf_syslog_unparsed_total counter',
      'logwharf_syslog_truncated_total counter',
      'logwharf_syslog_messages_dropped_total counter',
      'logwharf_syslog_framing_errors_total counter',
      'logwharf_syslog_socket_errors_total counter',
      'logwharf_syslog_idle_connections_closed_total counter',
      'logwharf_syslog_connections_refused_total counter',
      'logwharf_elasticsearch_indexed_total counter',
      'logwharf_elasticsearch_duplicates_total counter',
      'logwharf_elasticsearch_dead_lettered_total counter',
      'logwharf_elasticsearch_bulk_requests_total counter',
      'logwharf_elasticsearch_bulk_splits_total counter',
      'logwharf_elasticsearch_retries_total counter',
      'logwharf_forward_events_total counter',
      'logwharf_forward_bytes_total counter',
      'logwharf_forward_disconnects_total counter',
      'logwharf_forward_retries_total counter',
    ]);
  });

  it('count replaced sender times by dataset and direction', () => {
    const text = renderMetrics(families);
    expect(text).toContain('logwharf_events_timestamp_replaced_total{dataset="syslog",direction="past"} 2\n');
    expect(text).toContain(
      'logwharf_events_timestamp_replaced_total{dataset="syslog",direction="future"} 1\n',
    );
  });

  it('show failing I/O by component, operation and code, and why the sources are paused', () => {
    const text = renderMetrics(collectServiceMetrics(everything()));
    for (const line of [
      'logwharf_component_errors_total{component="store buffer",op="append",code="ENOSPC"} 2',
      'logwharf_component_failing{component="store buffer",op="append",code="ENOSPC"} 1',
      'logwharf_pipeline_queued_bytes 1000',
      'logwharf_pipeline_paused{reason="events"} 0',
      'logwharf_pipeline_paused{reason="bytes"} 1',
      'logwharf_pipeline_pauses_total{reason="bytes"} 2',
    ]) {
      expect(text.split('\n')).toContain(line);
    }
  });

  it('leave out the parts that are off', () => {
    const m = everything();
    const names = collectServiceMetrics({
      ...m,
      docker: undefined,
      sinks: undefined,
      syslog: undefined,
      elasticsearch: undefined,
      forwarders: [],
      health: undefined,
    }).map((f) => f.name);
    expect(names.some((n) => /^logwharf_(docker|sink|syslog|elasticsearch|forward)_/.test(n))).toBe(false);
    expect(names).toContain('logwharf_source_lag_seconds');
  });
});
