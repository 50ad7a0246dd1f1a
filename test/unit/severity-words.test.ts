import { describe, expect, it } from 'vitest';
import type { LogEvent } from '../../src/core/event.js';
import { SEVERITY_WORDS } from '../../src/core/severity-words.js';
import { parseQuery } from '../../src/query/parser.js';
import { openEmbeddedStore } from '../../src/sinks/embedded/writer.js';
import { createTransform } from '../../src/transforms/chain.js';
import { severityFromWord } from '../../src/transforms/severity.js';
import { web1 } from '../helpers/query-events.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * One meaning per word: a level word found in a line is found again by the same word in a query,
 * on a real embedded store. Go's `level=panic` lines used to be stored as crit and looked for as
 * emerg.
 */
describe('level words: the same table for ingest and queries', () => {
  const words = [...SEVERITY_WORDS.keys()];
  const transform = createTransform({
    config: {
      parser: 'auto',
      tag: null,
      multiline: { enabled: false, flush_after: '1s', max_lines: 1000, rules: [] },
      redact: { builtin: false, rules: [] },
      sender_time: { max_age: '7d', max_ahead: '1d' },
    },
    log: { warn() {} },
  });

  function line(word: string, i: number, body: string): LogEvent {
    return {
      timestamp: `2024-05-01T12:00:${String(i % 60).padStart(2, '0')}.${String(i).padStart(9, '0')}Z`,
      id: `${body.slice(0, 1)}-${word}-${i}`,
      dataset: 'docker',
      ingested: '2024-05-01T12:01:00.000000000Z',
      message: body,
      severity: 6,
      facility: 3,
      stream: 'stdout',
      container: web1,
      host: 'h',
    };
  }

  it('reads every word, in any case, to the code the query language gives it', () => {
    for (const word of words) {
      const query = parseQuery(`level:${word}`);
      expect(query.type).toBe('severity');
      const code = (query as { code: number }).code;
      expect(severityFromWord(word), word).toBe(code);
      expect(severityFromWord(word.toUpperCase()), word).toBe(code);
    }
  });

  it('finds a JSON line and a logfmt line of each word with level:<word>', async () => {
    const dir = await tempDir('lw-sev-');
    const store = await openEmbeddedStore({ dataDir: dir });
    try {
      const events = words.flatMap((word, i) => [
        line(word, 2 * i, `{"level":"${word}","msg":"json ${word}"}`),
        line(word, 2 * i + 1, `level=${word} msg="logfmt ${word}"`),
      ]);
      transform(events);
      expect(await store.writer.write(events)).toEqual({ status: 'delivered' });
      for (const word of words) {
        const found = await store.reader.search({
          query: parseQuery(`level:${word} "${word}"`),
          limit: 10,
          order: 'asc',
        });
        const messages = found.events.map((e) => e.message);
        expect(messages, `level:${word}`).toEqual(expect.arrayContaining([`json ${word}`, `logfmt ${word}`]));
      }
    } finally {
      await store.close();
    }
  });
});
