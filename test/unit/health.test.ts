import { describe, expect, it } from 'vitest';
import { describeFailure, errorCode, Health, readinessFailures } from '../../src/core/health.js';

/** What fails now and how often (core/health.ts): names and codes only, never a message. */

const errno = (code: unknown, message = '/data/buffer/store/1.seg: secret') =>
  Object.assign(new Error(message), { code });

describe('errorCode', () => {
  it.each([
    [errno('ENOSPC'), 'ENOSPC'],
    [errno('EIO'), 'EIO'],
    [errno('SQLITE_IOERR_FSYNC'), 'SQLITE_IOERR_FSYNC'],
    [errno('status_429'), 'status_429'],
    [errno('a message, not a code'), 'UNKNOWN'],
    [errno('/etc/passwd'), 'UNKNOWN'],
    [errno(5), 'UNKNOWN'],
    [new Error('no code'), 'UNKNOWN'],
    ['ENOSPC', 'UNKNOWN'], // a string is not an error with a code
    [null, 'UNKNOWN'],
    [undefined, 'UNKNOWN'],
  ])('%o -> %s', (err, code) => {
    expect(errorCode(err)).toBe(code);
  });
});

describe('Health', () => {
  it('shows an operation as failing from its first failure until it works, and counts every failure by code', () => {
    const h = new Health();
    expect(h.fail('store buffer', 'append', errno('ENOSPC'))).toBe('ENOSPC');
    const since = h.failing()[0]!.since;
    h.fail('store buffer', 'append', errno('ENOSPC'));
    h.fail('store buffer', 'append', errno('EIO'));
    h.fail('positions', 'save', 'EROFS');
    expect(h.failing()).toEqual([
      { component: 'store buffer', op: 'append', code: 'EIO', since },
      { component: 'positions', op: 'save', code: 'EROFS', since: expect.any(Number) },
    ]);
    h.ok('store buffer', 'append');
    h.ok('store buffer', 'read'); // never failed: nothing to clear
    expect(h.failing().map(describeFailure)).toEqual(['positions: EROFS on save']);
    expect(h.errors()).toEqual([
      { component: 'store buffer', op: 'append', code: 'ENOSPC', count: 2 },
      { component: 'store buffer', op: 'append', code: 'EIO', count: 1 },
      { component: 'positions', op: 'save', code: 'EROFS', count: 1 },
    ]);
  });

  it('keeps no message: what /readyz may show holds names and codes only', () => {
    const h = new Health();
    h.fail('store buffer', 'ack', errno('EIO', '/srv/data/buffer/store/ledger: secret token abc'));
    expect(JSON.stringify([h.failing(), h.errors()])).not.toMatch(/srv|secret|abc/);
  });

  it('leaves a sink whose writes fail out of readiness (its buffer keeps the events), but not a failing disk', () => {
    const h = new Health();
    h.fail('store', 'write', 'SQLITE_BUSY');
    expect(readinessFailures(h)).toEqual([]);
    h.fail('store buffer', 'append', errno('ENOSPC'));
    h.fail('positions', 'save', errno('ENOSPC'));
    expect(readinessFailures(h)).toEqual(['store buffer: ENOSPC on append', 'positions: ENOSPC on save']);
  });
});
