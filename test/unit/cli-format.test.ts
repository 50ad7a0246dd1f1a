import { describe, expect, it } from 'vitest';
import {
  colorFor,
  formatLines,
  formatNdjson,
  formatQueryError,
  PREFIX_COLORS,
  sourceName,
  useColor,
} from '../../src/cli/format.js';
import type { EcsDocument } from '../../src/core/ecs.js';

function docker(name: string, ts: string, message: string): EcsDocument {
  return { '@timestamp': ts, message, container: { id: 'id', name }, host: { name: 'dockerhost' } };
}

describe('sourceName', () => {
  it('is the container name for a container line', () => {
    expect(sourceName(docker('demo-web-1', 't', 'm'))).toBe('demo-web-1');
  });

  it("drops the leading slash of Docker's raw names", () => {
    expect(sourceName(docker('/demo-web-1', 't', 'm'))).toBe('demo-web-1');
  });

  it('is host/app for a syslog line', () => {
    const doc = {
      message: 'm',
      host: { name: 'db1' },
      log: { syslog: { hostname: 'db1', appname: 'postgres' } },
    };
    expect(sourceName(doc)).toBe('db1/postgres');
  });

  it('falls back to service.name for the app and host.name for the host', () => {
    expect(sourceName({ service: { name: 'cron' }, host: { name: 'h2' } })).toBe('h2/cron');
  });

  it('is whichever of host and app there is, else "-"', () => {
    expect(sourceName({ host: { name: 'h3' } })).toBe('h3');
    expect(sourceName({ log: { syslog: { appname: 'sshd' } } })).toBe('sshd');
    expect(sourceName({ message: 'x' })).toBe('-');
  });

  it('reads flattened keys too', () => {
    expect(sourceName({ 'container.name': 'flat-1' })).toBe('flat-1');
  });
});

describe('colorFor', () => {
  it('gives a name the same colour every time, from the six', () => {
    for (const name of ['demo-web-1', 'demo-db-1', 'db1/postgres', '']) {
      expect(colorFor(name)).toBe(colorFor(name));
      expect(PREFIX_COLORS).toContain(colorFor(name));
    }
  });

  it('spreads names over the colours', () => {
    const names = Array.from({ length: 30 }, (_, i) => `demo-svc${i}-1`);
    expect(new Set(names.map(colorFor)).size).toBeGreaterThanOrEqual(4);
  });
});

describe('formatLines', () => {
  const events = [
    docker('demo-web-1', '2024-05-01T12:00:00.000000001Z', 'GET / 200'),
    docker('demo-worker-1', '2024-05-01T12:00:00.000000002Z', 'job done'),
    {
      '@timestamp': '2024-05-01T12:00:00.000000003Z',
      message: 'auth ok',
      log: { syslog: { hostname: 'db1', appname: 'sshd' } },
    },
  ];

  it('pads names to the widest in the batch, like docker compose logs --timestamps', () => {
    expect(formatLines(events, { color: false })).toEqual([
      'demo-web-1     | 2024-05-01T12:00:00.000000001Z GET / 200',
      'demo-worker-1  | 2024-05-01T12:00:00.000000002Z job done',
      'db1/sshd       | 2024-05-01T12:00:00.000000003Z auth ok',
    ]);
  });

  it('colours the prefix only, with the name’s colour', () => {
    const [line] = formatLines([events[0]!], { color: true });
    expect(line).toBe(
      `\u001b[${colorFor('demo-web-1')}mdemo-web-1  |\u001b[0m 2024-05-01T12:00:00.000000001Z GET / 200`,
    );
  });

  it('prints a multiline message under its timestamp, each line with the prefix', () => {
    const doc = docker('w', '2024-05-01T12:00:00.000000000Z', 'Traceback:\n  File "x"\r\nValueError\n');
    expect(formatLines([doc], { color: false })).toEqual([
      'w  | 2024-05-01T12:00:00.000000000Z Traceback:',
      `w  | ${' '.repeat(30)}   File "x"`,
      `w  | ${' '.repeat(30)} ValueError`,
    ]);
  });

  it('copes with a missing timestamp or message', () => {
    expect(formatLines([{ container: { name: 'c' } }], { color: false })).toEqual(['c  |  ']);
  });

  it('prints nothing for no events', () => {
    expect(formatLines([], { color: true })).toEqual([]);
  });
});

describe('formatNdjson', () => {
  it('is one ECS document per line, unchanged', () => {
    const docs = [docker('a', 't1', 'x'), { message: 'line\nbreak', fields: { n: 1 } }];
    const lines = formatNdjson(docs);
    expect(lines).toHaveLength(2);
    expect(lines.every((l) => !l.includes('\n'))).toBe(true);
    expect(lines.map((l) => JSON.parse(l))).toEqual(docs);
  });
});

describe('formatQueryError', () => {
  it('puts a caret under the position', () => {
    const q = 'service:web (level>=warning';
    expect(formatQueryError(q, q.length, "expected ')' at position 27")).toBe(
      `query: service:web (level>=warning\n${' '.repeat('query: '.length + 27)}^ expected ')'`,
    );
  });

  it('points into the middle of a query', () => {
    expect(formatQueryError('a AND OR b', 6, 'OR needs a term on both sides')).toBe(
      'query: a AND OR b\n             ^ OR needs a term on both sides',
    );
  });

  it('keeps the caret aligned when the query holds tabs or newlines', () => {
    expect(formatQueryError('a\t(b', 4, "expected ')'")).toBe("query: a (b\n           ^ expected ')'");
  });

  it('clamps a position beyond the end', () => {
    expect(formatQueryError('ab', 99, 'x')).toBe('query: ab\n         ^ x');
  });
});

describe('useColor', () => {
  it('colours a terminal unless NO_COLOR is set', () => {
    expect(useColor(true, {})).toBe(true);
    expect(useColor(true, { NO_COLOR: '' })).toBe(true);
    expect(useColor(true, { NO_COLOR: '1' })).toBe(false);
    expect(useColor(false, {})).toBe(false);
  });
});
