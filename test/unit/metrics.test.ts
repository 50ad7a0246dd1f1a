import { describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { renderMetrics, single } from '../../src/telemetry/metrics.js';
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
      metrics: () => [single('logwharf_dead_letters_total', 'Dead letters.', 'counter', 2)],
    });
    const res = await app.inject('/metrics');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain; version=0.0.4');
    expect(res.body).toContain('logwharf_dead_letters_total 2');
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
