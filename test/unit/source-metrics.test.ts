import { describe, expect, it } from 'vitest';
import type { Position } from '../../src/core/event.js';
import type { SourceStatus } from '../../src/core/status.js';
import { lagSeconds, PendingLines, timestampMillis } from '../../src/telemetry/lag.js';
import { renderMetrics } from '../../src/telemetry/metrics.js';
import { dockerEngineFamilies, sourceFamilies } from '../../src/telemetry/source-metrics.js';

/**
 * A source's lag: 0 when every line read is committed, else the age of the oldest line read
 * and not committed (telemetry/lag.ts says why), and the per-source families of /metrics.
 */

const T0 = '2024-05-01T12:00:00.000000000Z';
const T0_MS = Date.parse('2024-05-01T12:00:00Z');

/** The canonical timestamp `ms` milliseconds after T0 (nanoseconds from `nanos`). */
function at(ms: number, nanos = 0): string {
  const iso = new Date(T0_MS + ms).toISOString(); // ...SS.mmmZ
  return `${iso.slice(0, 23)}${String(nanos).padStart(6, '0')}Z`;
}

function pos(ms: number, seq = 0, nanos = 0): Position {
  return { timestamp: at(ms, nanos), seq };
}

describe('lagSeconds', () => {
  const cases: [string, number, string | null, number][] = [
    ['nothing waiting is no lag', T0_MS + 5_000, null, 0],
    ['a line written 2.5 s ago', T0_MS + 2_500, T0, 2.5],
    ['millisecond precision', T0_MS + 1_234, T0, 1.234],
    ['a line just read', T0_MS, T0, 0],
    ['a day-old backlog', T0_MS + 86_400_000, T0, 86_400],
    ['a timestamp ahead of the clock (skew) is not negative', T0_MS, at(3_000), 0],
    ['nanoseconds below the millisecond do not count', T0_MS + 1, at(0, 999_999), 0.001],
    ['an unreadable timestamp is no lag rather than NaN', T0_MS, 'garbage', 0],
  ];
  it.each(cases)('%s', (_what, now, oldest, expected) => {
    expect(lagSeconds(now, oldest)).toBe(expected);
  });

  it('reads canonical timestamps to the millisecond', () => {
    expect(timestampMillis('2024-05-01T12:00:00.123456789Z')).toBe(T0_MS + 123);
    expect(timestampMillis('1970-01-01T00:00:00.000000000Z')).toBe(0);
    expect(Number.isNaN(timestampMillis(''))).toBe(true);
  });
});

describe('PendingLines', () => {
  it('is caught up when nothing was read', () => {
    const p = new PendingLines();
    expect(p.oldest(undefined)).toBeNull();
    expect(p.oldest(pos(0))).toBeNull();
  });

  it('waits from the first line read when nothing is committed yet', () => {
    const p = new PendingLines();
    p.add(pos(100), pos(200), undefined);
    p.add(pos(300), pos(400), undefined);
    expect(p.oldest(undefined)).toBe(at(100));
  });

  it('is caught up once the last line read is committed', () => {
    const p = new PendingLines();
    p.add(pos(100), pos(200), undefined);
    p.add(pos(300), pos(400), undefined);
    expect(p.oldest(pos(400))).toBeNull();
    expect(p.size).toBe(0);
  });

  it('moves to the next hand-over once one is committed whole', () => {
    const p = new PendingLines();
    p.add(pos(100), pos(200), undefined);
    p.add(pos(300), pos(400), undefined);
    expect(p.oldest(pos(200))).toBe(at(300));
    // A commit between hand-overs (a batch that ended there) counts the same.
    expect(p.oldest(pos(250))).toBe(at(300));
  });

  it('keeps a hand-over committed only in part (the pipeline may cut a batch inside it)', () => {
    const p = new PendingLines();
    p.add(pos(100), pos(200), undefined);
    expect(p.oldest(pos(150))).toBe(at(100));
    expect(p.oldest(pos(199, 7))).toBe(at(100));
  });

  it('orders lines of the same timestamp by seq', () => {
    const p = new PendingLines();
    p.add(pos(100, 0), pos(100, 3), undefined);
    expect(p.oldest(pos(100, 2))).toBe(at(100));
    expect(p.oldest(pos(100, 3))).toBeNull();
  });

  it('counts the nanoseconds of a position, not only its millisecond', () => {
    const p = new PendingLines();
    p.add(pos(100, 0, 5), pos(100, 0, 9), undefined);
    expect(p.oldest(pos(100, 0, 8))).toBe(at(100, 5));
    expect(p.oldest(pos(100, 0, 9))).toBeNull();
  });

  it('ignores lines re-read at or before the committed position (a resume margin)', () => {
    const p = new PendingLines();
    p.add(pos(100), pos(200), pos(200));
    expect(p.size).toBe(0);
    expect(p.oldest(pos(200))).toBeNull();
    // A hand-over reaching past the position waits from the position (its first lines are re-reads).
    p.add(pos(150), pos(300), pos(200));
    expect(p.oldest(pos(200))).toBe(at(200));
    expect(p.oldest(pos(300))).toBeNull();
  });

  it('forgets committed hand-overs as new ones come, without being asked (no scrape needed)', () => {
    const p = new PendingLines();
    for (let i = 0; i < 10_000; i++) p.add(pos(i * 10), pos(i * 10 + 5), i > 0 ? pos(i * 10 - 5) : undefined);
    expect(p.size).toBe(1);
    expect(p.oldest(undefined)).toBe(at(99_990));
  });

  it('trims from the front in amortized constant time, keeping what waits', () => {
    const p = new PendingLines();
    for (let i = 0; i < 3_000; i++) p.add(pos(i * 10), pos(i * 10 + 5), undefined);
    expect(p.oldest(pos(1_999 * 10 + 5))).toBe(at(20_000));
    expect(p.size).toBe(1_000);
  });

  it('stays bounded in a long stall, erring high (never low) on the wait', () => {
    const p = new PendingLines(8);
    for (let i = 0; i < 100; i++) p.add(pos(i * 10), pos(i * 10 + 5), undefined);
    expect(p.size).toBeLessThanOrEqual(8);
    // The oldest line is never lost by merging.
    expect(p.oldest(undefined)).toBe(at(0));
    // Half committed: the oldest reported is at or before the true oldest waiting line (500).
    const oldest = p.oldest(pos(495));
    expect(oldest).not.toBeNull();
    expect(oldest! <= at(500)).toBe(true);
    // All committed: caught up.
    expect(p.oldest(pos(995))).toBeNull();
  });
});

function status(over: Partial<SourceStatus>): SourceStatus {
  return {
    kind: 'docker',
    id: 'c1',
    name: 'demo-web-1',
    state: 'attached',
    linesRead: 0,
    lastLineTime: null,
    committedTime: null,
    lagSeconds: 0,
    reconnects: 0,
    dropped: {},
    ...over,
  };
}

describe('sourceFamilies', () => {
  it('renders lines, lag, reconnects and drops per source, labelled kind, id and name', () => {
    const text = renderMetrics(
      sourceFamilies([
        status({ linesRead: 42, lagSeconds: 1.5, reconnects: 2, dropped: { undecodable: 0 } }),
        status({
          kind: 'syslog',
          id: 'tcp://10.0.0.5',
          name: 'db1',
          linesRead: 7,
          lagSeconds: null,
          reconnects: 3,
          dropped: { peer_closed_mid_frame: 1 },
        }),
      ]),
    );
    const samples = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    expect(samples).toEqual([
      'logwharf_source_lines_total{kind="docker",id="c1",name="demo-web-1"} 42',
      'logwharf_source_lines_total{kind="syslog",id="tcp://10.0.0.5",name="db1"} 7',
      // Not measured for a syslog peer: no sample rather than a made-up 0.
      'logwharf_source_lag_seconds{kind="docker",id="c1",name="demo-web-1"} 1.5',
      'logwharf_source_reconnects_total{kind="docker",id="c1",name="demo-web-1"} 2',
      'logwharf_source_reconnects_total{kind="syslog",id="tcp://10.0.0.5",name="db1"} 3',
      'logwharf_source_lines_dropped_total{kind="docker",id="c1",name="demo-web-1",reason="undecodable"} 0',
      'logwharf_source_lines_dropped_total{kind="syslog",id="tcp://10.0.0.5",name="db1",reason="peer_closed_mid_frame"} 1',
    ]);
    expect(text).toContain('# TYPE logwharf_source_lag_seconds gauge\n');
    expect(text).toContain('# TYPE logwharf_source_reconnects_total counter\n');
  });

  it('writes the families, without samples, when nothing is followed', () => {
    const text = renderMetrics(sourceFamilies([]));
    expect(text.split('\n').filter((l) => l !== '' && !l.startsWith('#'))).toEqual([]);
    expect(text).toContain('# TYPE logwharf_source_lines_total counter\n');
  });

  it('renders the Docker engine connection', () => {
    expect(renderMetrics(dockerEngineFamilies({ connected: true, reconnects: 4 }))).toBe(
      '# HELP logwharf_docker_engine_connected 1 while the Docker engine and its event stream are connected, else 0.\n' +
        '# TYPE logwharf_docker_engine_connected gauge\nlogwharf_docker_engine_connected 1\n' +
        '# HELP logwharf_docker_engine_reconnects_total Connections to the Docker engine (its event stream) made again after one was lost.\n' +
        '# TYPE logwharf_docker_engine_reconnects_total counter\nlogwharf_docker_engine_reconnects_total 4\n',
    );
    expect(renderMetrics(dockerEngineFamilies({ connected: false, reconnects: 0 }))).toContain(
      '\nlogwharf_docker_engine_connected 0\n',
    );
  });
});
