import { describe, expect, it } from 'vitest';
import { pidFileOf, systemdUnitOf, withLiveRestore } from '../helpers/dockerd.js';
import { metricSum, parseMetrics } from '../helpers/fault-observe.js';
import { emptyReport, markdownTable } from '../helpers/fault-report.js';
import { parseSentFile, type SentLine } from '../helpers/fault-sequence.js';
import { storedSequenceLines, tallyKeys, tallySequences } from '../helpers/fault-tally.js';

/** The fault suite's own arithmetic, checked before it is trusted with a verdict. */

const H = 'abcdef012345';
const line = (run: string, seq: number, host = H): SentLine => ({ host, run, seq });
const stored = (run: string, seq: number, host = H) => ({
  message: `lwseq h=${host} r=${run} s=${seq}`,
  container: { id: `${host}${'0'.repeat(52)}` },
});

describe('tallySequences', () => {
  const sent = [line('aaaaaaaa', 1), line('aaaaaaaa', 2), line('aaaaaaaa', 3), line('bbbbbbbb', 1)];

  it('counts lost, duplicated and stored by (container, run, seq)', () => {
    const events = [
      stored('aaaaaaaa', 1),
      stored('aaaaaaaa', 1),
      stored('aaaaaaaa', 3),
      stored('bbbbbbbb', 1),
    ];
    const t = tallySequences(sent, storedSequenceLines(events));
    expect(t).toMatchObject({
      sent: 4,
      stored: 3,
      lost: 1,
      duplicated: 1,
      copies: 1,
      extra: 0,
      unexpected: 0,
    });
    expect(t.samples.lost).toEqual([`${H}/aaaaaaaa/2`]);
  });

  it("allows one line per run past the container's file (printed, then killed), and nothing else", () => {
    const events = [
      ...sent.map((l) => stored(l.run, l.seq)),
      stored('aaaaaaaa', 4), // the last seq + 1: allowed
      stored('bbbbbbbb', 3), // a gap: never printed
      stored('cccccccc', 1), // a run whose file has no line yet: its first line is allowed
      stored('cccccccc', 2),
    ];
    const t = tallySequences(sent, storedSequenceLines(events));
    expect(t).toMatchObject({ lost: 0, duplicated: 0, extra: 2, unexpected: 2 });
  });

  it('does not credit a line stored under another container than the one that printed it', () => {
    const events = [{ message: `lwseq h=${H} r=aaaaaaaa s=1`, container: { id: 'f'.repeat(64) } }];
    expect(tallySequences([line('aaaaaaaa', 1)], storedSequenceLines(events))).toMatchObject({
      lost: 1,
      unexpected: 1,
    });
  });

  it('reads only whole lines of a container file', () => {
    expect(parseSentFile(`${H} aaaaaaaa 1\n${H} aaaaaaaa 2\n${H} aaaa`)).toEqual([
      line('aaaaaaaa', 1),
      line('aaaaaaaa', 2),
    ]);
  });
});

describe('tallyKeys', () => {
  it('counts a key never sent as unexpected unless allowed', () => {
    expect(tallyKeys(new Set(['a', 'b']), ['a', 'b', 'b', 'c'])).toMatchObject({
      stored: 2,
      lost: 0,
      duplicated: 1,
      unexpected: 1,
    });
  });
});

describe('metrics', () => {
  const m = parseMetrics(
    '# HELP x y\n# TYPE x counter\nlogwharf_a_total 3\nlogwharf_b_total{reason="x"} 1\nlogwharf_b_total{reason="y"} 2\n',
  );
  it('sums the samples of a metric', () => {
    expect(metricSum(m, 'logwharf_b_total')).toBe(3);
    expect(metricSum(m, 'logwharf_b_total{reason="y"}')).toBe(2);
    expect(metricSum(m, 'logwharf_a_total')).toBe(3);
    expect(metricSum(m, 'logwharf_none')).toBeUndefined();
  });
});

describe('dockerd command lines', () => {
  it('turns live-restore on and off, whatever its spelling', () => {
    expect(withLiveRestore(['--debug'], true)).toEqual(['--debug', '--live-restore']);
    expect(withLiveRestore(['--live-restore=true', '--debug', '--live-restore'], false)).toEqual(['--debug']);
  });
  it('finds the pid file and a systemd unit', () => {
    expect(pidFileOf([])).toBe('/var/run/docker.pid');
    expect(pidFileOf(['-p', '/run/d.pid'])).toBe('/run/d.pid');
    expect(pidFileOf(['--pidfile=/run/e.pid'])).toBe('/run/e.pid');
    expect(systemdUnitOf('0::/system.slice/docker.service\n')).toBe('docker.service');
    expect(systemdUnitOf('9:name=systemd:/\n0::/\n')).toBeUndefined();
  });
});

describe('the report table', () => {
  it('has one row per scenario and marks a dirty one', () => {
    const r = emptyReport(new Date(0));
    r.entries.push({
      scenario: 's1',
      description: 'd',
      file: 'f',
      sent: 10,
      stored: 9,
      lost: 1,
      duplicated: 0,
      extra: 0,
      unexpected: 0,
      details: { kills: 3 },
      durationMs: 12_400,
      clean: false,
      finishedAt: '',
    });
    expect(markdownTable(r).split('\n')[2]).toBe(
      '| s1 | 10 | 9 | 1 | 0 | 0 | 0 | 12 s | **FAIL** | kills 3 |',
    );
  });
});
