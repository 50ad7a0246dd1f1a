import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { toEcs } from '../../src/core/ecs.js';
import type { LogEvent } from '../../src/core/event.js';
import { DeadLetterStore } from '../../src/sinks/dead-letter.js';
import { tempDir } from '../helpers/tmp.js';

const open: DeadLetterStore[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

async function store(dataDir: string, now?: () => number): Promise<DeadLetterStore> {
  const s = await DeadLetterStore.open(dataDir, now ? { now } : {});
  open.push(s);
  return s;
}

function event(id: string, over: Partial<LogEvent> = {}): LogEvent {
  return {
    timestamp: '2024-05-01T12:00:00.123456789Z',
    id,
    dataset: 'docker',
    ingested: '2024-05-01T12:00:01.000000000Z',
    message: `line ${id}\nwith a newline`,
    severity: 3,
    facility: 3,
    host: 'box',
    fields: { depth: { a: { b: 1 } } },
    ...over,
  };
}

const MAY_1 = Date.UTC(2024, 4, 1, 23, 59, 59, 500);
const MAY_2 = Date.UTC(2024, 4, 2, 0, 0, 1);

function lines(file: string): Record<string, unknown>[] {
  const text = fs.readFileSync(file, 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text
    .slice(0, -1)
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('DeadLetterStore', () => {
  it('appends one JSON line per event: when, which sink, why, and the ECS document', async () => {
    const dir = await tempDir();
    const s = await store(dir, () => MAY_1);
    expect(s.dir).toBe(path.join(dir, 'dead-letter'));
    const e = event('a');
    await s.write([
      { event: e, reason: 'HTTP 400 document_parsing_exception: too deep', sink: 'elasticsearch' },
    ]);
    expect(lines(path.join(s.dir, '2024-05-01.jsonl'))).toEqual([
      {
        at: '2024-05-01T23:59:59.500000000Z',
        sink: 'elasticsearch',
        reason: 'HTTP 400 document_parsing_exception: too deep',
        event: toEcs(e),
      },
    ]);
    expect(s.count()).toBe(1);
  });

  it('keeps a whole batch under one reason (the pipeline form)', async () => {
    const s = await store(await tempDir(), () => MAY_1);
    await s.write([event('a'), event('b')], 'SQLITE_MISMATCH', 'embedded');
    const got = lines(path.join(s.dir, '2024-05-01.jsonl'));
    expect(got.map((l) => [l.sink, l.reason, (l.event as { event: { id: string } }).event.id])).toEqual([
      ['embedded', 'SQLITE_MISMATCH', 'a'],
      ['embedded', 'SQLITE_MISMATCH', 'b'],
    ]);
    expect(s.count()).toBe(2);
  });

  it('starts a new file on a new UTC day', async () => {
    let now = MAY_1;
    const s = await store(await tempDir(), () => now);
    await s.write([event('a')], 'r', 'elasticsearch');
    now = MAY_2;
    await s.write([event('b')], 'r', 'elasticsearch');
    expect(fs.readdirSync(s.dir).sort()).toEqual(['2024-05-01.jsonl', '2024-05-02.jsonl']);
    expect(lines(path.join(s.dir, '2024-05-02.jsonl'))).toHaveLength(1);
  });

  it('counts what earlier runs kept, and appends after it', async () => {
    const dir = await tempDir();
    let now = MAY_1;
    const first = await store(dir, () => now);
    await first.write([event('a'), event('b')], 'r', 'elasticsearch');
    now = MAY_2;
    await first.write([event('c')], 'r', 'elasticsearch');
    await first.close();

    const second = await store(dir, () => now);
    expect(second.count()).toBe(3);
    await second.write([event('d')], 'r', 'elasticsearch');
    expect(second.count()).toBe(4);
    expect(lines(path.join(second.dir, '2024-05-02.jsonl'))).toHaveLength(2);
  });

  it('cuts off a torn last line at open, so the next line starts clean', async () => {
    const dir = await tempDir();
    const first = await store(dir, () => MAY_1);
    await first.write([event('a')], 'r', 'elasticsearch');
    await first.close();
    const file = path.join(dir, 'dead-letter', '2024-05-01.jsonl');
    fs.appendFileSync(file, '{"at":"2024-05-01T23:59:59.9');

    const second = await store(dir, () => MAY_1);
    expect(second.count()).toBe(1);
    await second.write([event('b')], 'r', 'elasticsearch');
    expect(lines(file).map((l) => (l.event as { event: { id: string } }).event.id)).toEqual(['a', 'b']);
  });

  it('never interleaves concurrent writes', async () => {
    const s = await store(await tempDir(), () => MAY_1);
    const big = 'x'.repeat(100_000);
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        s.write(
          Array.from({ length: 5 }, (_, j) => event(`${i}-${j}`, { message: big })),
          'r',
          'elasticsearch',
        ),
      ),
    );
    const got = lines(path.join(s.dir, '2024-05-01.jsonl'));
    expect(got).toHaveLength(100);
    expect(s.count()).toBe(100);
    // Each write's five lines stay together.
    const ids = got.map((l) => (l.event as { event: { id: string } }).event.id);
    for (let k = 0; k < 100; k += 5)
      expect(new Set(ids.slice(k, k + 5).map((id) => id.split('-')[0])).size).toBe(1);
  });

  it('writes nothing (and creates no file) for no events', async () => {
    const s = await store(await tempDir(), () => MAY_1);
    await s.write([]);
    expect(fs.readdirSync(s.dir)).toEqual([]);
    expect(s.count()).toBe(0);
  });

  it('keeps the id and message of an event JSON cannot hold, and says so', async () => {
    const s = await store(await tempDir(), () => MAY_1);
    await s.write([event('big', { fields: { n: 10n } })], 'refused', 'elasticsearch');
    const [line] = lines(path.join(s.dir, '2024-05-01.jsonl'));
    expect(line?.reason).toMatch(/^refused \(the event is not serializable: .*kept in part\)$/);
    expect(line?.event).toEqual({
      '@timestamp': '2024-05-01T12:00:00.123456789Z',
      event: { id: 'big' },
      message: 'line big\nwith a newline',
    });
  });

  it('refuses writes after close, and closes twice quietly', async () => {
    const s = await store(await tempDir(), () => MAY_1);
    await s.close();
    await s.close();
    await expect(s.write([event('a')], 'r', 'elasticsearch')).rejects.toThrow(/closed/);
  });
});
