import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { forEachEventLine } from '../../src/sources/docker/engine-events.js';

/** The engine's event stream (NDJSON) to whole lines, whatever the socket's chunks cut. */

const EVENTS = [
  { status: 'start', id: 'c1', Action: 'start', Actor: { ID: 'c1', Attributes: { name: 'café-web-1' } } },
  {
    status: 'destroy',
    id: 'c2',
    Action: 'destroy',
    Actor: { ID: 'c2', Attributes: { 'com.example.note': '日本語 ✓' } },
  },
  { Type: 'container', Action: 'restart', Actor: { ID: 'c3', Attributes: {} } },
];
const BYTES = Buffer.from(EVENTS.map((e) => `${JSON.stringify(e)}\n`).join(''));

async function linesOf(chunks: Buffer[]): Promise<string[]> {
  const stream = new PassThrough();
  const lines: string[] = [];
  forEachEventLine(stream, (l) => lines.push(l));
  for (const c of chunks) stream.write(c);
  stream.end();
  await new Promise((resolve) => setImmediate(resolve));
  return lines;
}

describe('Docker engine event lines', () => {
  it('gives each event whole, cut at every byte (mid-line, mid-character)', async () => {
    for (let cut = 1; cut < BYTES.length; cut++) {
      const lines = await linesOf([BYTES.subarray(0, cut), BYTES.subarray(cut)]);
      expect(lines.map((l) => JSON.parse(l))).toEqual(EVENTS);
    }
  });

  it('gives each event whole, one byte at a time', async () => {
    const bytes = [...BYTES].map((b) => Buffer.from([b]));
    expect((await linesOf(bytes)).map((l) => JSON.parse(l))).toEqual(EVENTS);
  });

  it('skips blank lines and trims (keep-alive newlines, CRLF)', async () => {
    const lines = await linesOf([Buffer.from('\n  \r\n{"a":1}\r\n\n{"b":2}\n')]);
    expect(lines).toEqual(['{"a":1}', '{"b":2}']);
  });
});
