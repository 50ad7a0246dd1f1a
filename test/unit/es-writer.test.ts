import { errors } from '@elastic/elasticsearch';
import { describe, expect, it } from 'vitest';
import {
  classifyItem,
  classifyRequestError,
  describeCause,
  halve,
  splitBySize,
} from '../../src/sinks/elasticsearch/bulk.js';

/**
 * The writer's decisions, as pure functions: how a batch is cut into bulk requests and what
 * each answer means. What Elasticsearch really answers is in test/integration/es-writer.test.ts.
 */

const sized = (...bytes: number[]) => bytes.map((b, i) => ({ id: i, bytes: b }));
const ids = (runs: { id: number }[][]) => runs.map((r) => r.map((x) => x.id));

describe('splitBySize', () => {
  it('keeps order and fills each request up to the limit', () => {
    expect(ids(splitBySize(sized(40, 40, 20, 50, 50, 1), 100))).toEqual([[0, 1, 2], [3, 4], [5]]);
  });

  it('gives an event larger than the limit a request of its own', () => {
    expect(ids(splitBySize(sized(10, 500, 10), 100))).toEqual([[0], [1], [2]]);
  });

  it('makes no request of nothing', () => {
    expect(splitBySize([], 100)).toEqual([]);
  });

  it('never exceeds the limit with events that fit', () => {
    const items = sized(...Array.from({ length: 1000 }, (_, i) => 1 + ((i * 7919) % 97)));
    const runs = splitBySize(items, 300);
    expect(runs.flat()).toEqual(items);
    for (const r of runs) expect(r.reduce((s, x) => s + x.bytes, 0)).toBeLessThanOrEqual(300);
  });
});

describe('halve', () => {
  it('splits in two, in order', () => {
    expect(halve([1, 2, 3, 4, 5])).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
    expect(halve([1, 2])).toEqual([[1], [2]]);
  });
});

describe('classifyItem', () => {
  const parsing = {
    type: 'document_parsing_exception',
    reason: '[1:15] failed to parse field [@timestamp] of type [date_nanos]',
    caused_by: {
      type: 'illegal_argument_exception',
      reason: 'date[1969-12-31T23:59:59Z] is before the epoch',
    },
  };

  it('counts 201 as indexed and 409 (already there: a replay) as a duplicate', () => {
    expect(classifyItem({ status: 201 })).toEqual({ kind: 'indexed' });
    expect(
      classifyItem({ status: 409, error: { type: 'version_conflict_engine_exception', reason: 'exists' } }),
    ).toEqual({ kind: 'duplicate' });
  });

  it('dead-letters a 400 for the document, with the whole cause chain', () => {
    expect(classifyItem({ status: 400, error: parsing })).toEqual({
      kind: 'dead',
      reason:
        'HTTP 400 document_parsing_exception: [1:15] failed to parse field [@timestamp] of type [date_nanos] ' +
        '(caused by illegal_argument_exception: date[1969-12-31T23:59:59Z] is before the epoch)',
    });
    expect(
      classifyItem({ status: 400, error: { type: 'illegal_argument_exception', reason: 'x' } }).kind,
    ).toBe('dead');
  });

  it.each([
    [429, 'es_rejected_execution_exception', 'status_429'],
    [503, 'unavailable_shards_exception', 'status_503'],
    [500, 'whatever', 'status_500'],
    [400, 'index_closed_exception', 'index_closed_exception'],
    [403, 'cluster_block_exception', 'cluster_block_exception'],
    [404, 'index_not_found_exception', 'index_not_found_exception'],
    [401, 'security_exception', 'security_exception'],
    [418, '', 'status_418'],
  ])('retries %i %s (the cluster, not the document)', (status, type, key) => {
    const v = classifyItem({ status, ...(type ? { error: { type, reason: 'r' } } : {}) });
    expect(v).toMatchObject({ kind: 'retry', key });
  });

  it('says what to do for a closed index, a block or missing privileges', () => {
    expect(
      classifyItem({ status: 400, error: { type: 'index_closed_exception', reason: 'closed' } }),
    ).toMatchObject({
      reason: expect.stringMatching(/open it/),
    });
    expect(
      classifyItem({ status: 403, error: { type: 'cluster_block_exception', reason: 'b' } }),
    ).toMatchObject({
      reason: expect.stringMatching(/flood stage/),
    });
    expect(
      classifyItem({ status: 403, error: { type: 'security_exception', reason: 'denied' } }),
    ).toMatchObject({
      reason: expect.stringMatching(/privilege/),
    });
  });

  it('retries an item the answer is missing', () => {
    expect(classifyItem(undefined)).toMatchObject({ kind: 'retry', key: 'bad_response' });
  });
});

function responseError(statusCode: number, body: unknown, url?: string): errors.ResponseError {
  return new errors.ResponseError({
    body,
    statusCode,
    headers: {},
    warnings: null,
    meta: { connection: url ? { url: new URL(url) } : null } as never,
  });
}

describe('classifyRequestError', () => {
  it('splits a request that is too large (413), or refused as a whole (400)', () => {
    expect(classifyRequestError(responseError(413, ''))).toMatchObject({
      kind: 'split',
      reason: expect.stringMatching(/^HTTP 413 .*http\.max_content_length/),
    });
    expect(
      classifyRequestError(
        responseError(400, { error: { type: 'illegal_argument_exception', reason: 'bad' } }),
      ),
    ).toEqual({ kind: 'split', reason: 'HTTP 400 illegal_argument_exception: bad' });
  });

  it.each([
    [429, 'status_429'],
    [502, 'status_502'],
    [503, 'status_503'],
    [401, 'status_401'],
    [403, 'status_403'],
    [404, 'status_404'],
  ])('retries HTTP %i', (status, key) => {
    expect(classifyRequestError(responseError(status, { error: { type: 't', reason: 'r' } }))).toMatchObject({
      kind: 'retry',
      key,
    });
  });

  it('retries a refused connection, naming the node without its credentials', () => {
    const err = new errors.ConnectionError('connect ECONNREFUSED 127.0.0.1:1', {
      meta: { connection: { url: new URL('http://elastic:secret@127.0.0.1:1/') } },
    } as never);
    const v = classifyRequestError(err);
    expect(v).toEqual({
      kind: 'retry',
      key: 'connection',
      reason: 'cannot connect (node http://127.0.0.1:1): connect ECONNREFUSED 127.0.0.1:1',
    });
  });

  it('retries timeouts, no living connections, and anything unknown', () => {
    expect(classifyRequestError(new errors.TimeoutError('Request timed out'))).toMatchObject({
      key: 'timeout',
    });
    expect(classifyRequestError(new errors.NoLivingConnectionsError('none', {} as never))).toMatchObject({
      key: 'connection',
    });
    expect(classifyRequestError(new Error('surprise'))).toEqual({
      kind: 'retry',
      key: 'error',
      reason: 'surprise',
    });
  });

  it('says what to do about bad credentials', () => {
    expect(
      classifyRequestError(responseError(401, { error: { type: 'security_exception', reason: 'x' } })),
    ).toMatchObject({ reason: expect.stringMatching(/store\.elasticsearch\.auth/) });
  });
});

describe('describeCause', () => {
  it('reads type, reason and the caused_by chain', () => {
    expect(describeCause(undefined)).toBe('no reason given');
    expect(describeCause({ type: 't' })).toBe('t');
    expect(
      describeCause({
        type: 'a',
        reason: 'x',
        caused_by: { type: 'b', caused_by: { type: 'c', reason: 'z' } },
      }),
    ).toBe('a: x (caused by b) (caused by c: z)');
  });
});
