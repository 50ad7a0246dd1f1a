import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/telemetry/logger.js';

/** logwharf's own log lines, as an operator (or a log collector) reads them. */

function capture(level: string) {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger(level, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { log, lines };
}

describe("logwharf's own log", () => {
  it('writes each level by its name, not pino’s number', () => {
    const { log, lines } = capture('trace');
    for (const name of ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const)
      log[name]({ n: 1 }, name);
    expect(lines.map((l) => [l.level, l.msg])).toEqual(
      ['trace', 'debug', 'info', 'warn', 'error', 'fatal'].map((name) => [name, name]),
    );
  });

  it('keeps the rest of the line: app, ISO time, fields, message', () => {
    const { log, lines } = capture('info');
    log.info({ address: 'http://127.0.0.1:8080' }, 'HTTP API listening');
    expect(lines).toEqual([
      {
        level: 'info',
        time: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
        app: 'logwharf',
        address: 'http://127.0.0.1:8080',
        msg: 'HTTP API listening',
      },
    ]);
  });

  it('leaves out what is below its level; a child logger writes names too', () => {
    const { log, lines } = capture('info');
    log.debug('hidden');
    log.child({ component: 'store' }).warn('shown');
    expect(lines).toMatchObject([{ level: 'warn', component: 'store', msg: 'shown' }]);
  });
});
