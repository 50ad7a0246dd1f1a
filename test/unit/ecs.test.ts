import { describe, expect, it } from 'vitest';
import { ECS_VERSION, toEcs } from '../../src/core/ecs.js';
import type { LogEvent } from '../../src/core/event.js';

/** The ECS document the API returns and Elasticsearch stores, for the facts that have ECS names. */

function event(over: Partial<LogEvent> = {}): LogEvent {
  return {
    timestamp: '2026-11-27T02:00:00.000000001Z',
    id: 'e1',
    dataset: 'docker',
    ingested: '2026-11-27T02:00:00.500000000Z',
    message: 'hello',
    severity: 6,
    facility: 3,
    host: 'box',
    ...over,
  };
}

describe('toEcs', () => {
  it('writes ecs.version on every document', () => {
    expect(toEcs(event()).ecs).toEqual({ version: ECS_VERSION });
    expect(ECS_VERSION).toMatch(/^8\.\d+\.\d+$/);
  });

  it('puts an access line under http.*, url.original, source.address, user.name, user_agent.original', () => {
    const doc = toEcs(
      event({
        access: {
          client: '203.0.113.9',
          user: 'alice',
          method: 'POST',
          url: '/login?next=%2F',
          version: '1.1',
          status: 401,
          bytes: 17,
          referrer: 'https://shop.example.com/',
          agent: 'curl/8.5.0',
        },
        fields: { client_chain: ['10.0.0.2', '203.0.113.9'] },
      }),
    );
    expect(doc.http).toEqual({
      request: { method: 'POST', referrer: 'https://shop.example.com/' },
      response: { status_code: 401, body: { bytes: 17 } },
      version: '1.1',
    });
    expect(doc.url).toEqual({ original: '/login?next=%2F' });
    expect(doc.source).toEqual({ address: '203.0.113.9' });
    expect(doc.user).toEqual({ name: 'alice' });
    expect(doc.user_agent).toEqual({ original: 'curl/8.5.0' });
    // fields.* stays for what ECS has no name for.
    expect(doc.fields).toEqual({ client_chain: ['10.0.0.2', '203.0.113.9'] });
  });

  it('leaves out what an access line did not have, and numbers stay numbers', () => {
    const doc = toEcs(event({ access: { client: '::1', status: 408, bytes: 0 } }));
    expect(doc.http).toEqual({ response: { status_code: 408, body: { bytes: 0 } } });
    expect(doc.source).toEqual({ address: '::1' });
    for (const key of ['url', 'user', 'user_agent', 'fields']) expect(doc).not.toHaveProperty(key);
    const agentOnly = toEcs(event({ access: { client: '::1', status: 200, bytes: 1, referrer: 'r' } }));
    expect(agentOnly.http).toEqual({
      request: { referrer: 'r' },
      response: { status_code: 200, body: { bytes: 1 } },
    });
  });

  it('has no access fields for other events', () => {
    const doc = toEcs(event());
    for (const key of ['http', 'url', 'source', 'user', 'user_agent', 'sender_timestamp']) {
      expect(doc).not.toHaveProperty(key);
    }
    expect(doc.log).not.toHaveProperty('source');
  });

  it('writes the syslog sender address to log.source.address and a replaced claim to sender_timestamp', () => {
    const doc = toEcs(
      event({
        dataset: 'syslog',
        host: 'router-claims-this',
        syslog: { hostname: 'router-claims-this' },
        senderAddress: '192.0.2.7',
        senderTimestamp: '1999-12-31T23:59:59.000000000Z',
        flags: ['clock_skew'],
      }),
    );
    expect((doc.log as Record<string, unknown>).source).toEqual({ address: '192.0.2.7' });
    expect((doc.log as Record<string, unknown>).flags).toEqual(['clock_skew']);
    expect(doc.host).toEqual({ name: 'router-claims-this' });
    expect(doc.sender_timestamp).toBe('1999-12-31T23:59:59.000000000Z');
    expect(doc['@timestamp']).toBe('2026-11-27T02:00:00.000000001Z');
  });
});
