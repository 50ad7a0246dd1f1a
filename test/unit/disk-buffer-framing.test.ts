import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeBatch } from '../../src/buffer/event-codec.js';
import { encodeSlot, LEDGER_FILE, readLedger } from '../../src/buffer/ledger.js';
import { checkFrame, FRAME_HEADER_BYTES, sealFrame } from '../../src/buffer/record.js';
import {
  checkSegmentHeader,
  SEGMENT_HEADER_BYTES,
  segmentFileName,
  segmentHeader,
  segmentIdOf,
} from '../../src/buffer/segment.js';
import { tempDir } from '../helpers/tmp.js';

/** The byte formats of the disk buffer: record frames, segment headers and names, ledger slots. */

function record(): Buffer {
  return sealFrame(encodeBatch([], 1234, FRAME_HEADER_BYTES));
}

describe('record frames', () => {
  it('seal a payload with its length and CRC, and check whole', () => {
    const r = record();
    expect(r.readUInt32LE(0)).toBe(r.length - FRAME_HEADER_BYTES);
    expect(checkFrame(r, 0, r.length)).toEqual({ ok: true, bytes: r.length });
    const two = Buffer.concat([r, r]);
    expect(checkFrame(two, r.length, r.length)).toEqual({ ok: true, bytes: r.length });
  });

  it('tell a short record, a nonsense length and a bad CRC apart', () => {
    const r = record();
    expect(checkFrame(r, 0, 5)).toMatchObject({ ok: false, problem: 'short' });
    expect(checkFrame(r, 0, r.length - 1)).toMatchObject({ ok: false, problem: 'short' });
    const zeroLength = Buffer.from(r);
    zeroLength.writeUInt32LE(0, 0);
    expect(checkFrame(zeroLength, 0, r.length)).toMatchObject({ ok: false, problem: 'bad-length' });
    const flipped = Buffer.from(r);
    flipped[r.length - 1] = flipped[r.length - 1]! ^ 1;
    expect(checkFrame(flipped, 0, r.length)).toMatchObject({
      ok: false,
      problem: 'bad-crc',
      bytes: r.length,
    });
  });
});

describe('segments', () => {
  it('are named so that names sort as ids do', () => {
    expect(segmentFileName(1)).toBe('00000000000000000001.seg');
    const names = [10, 9, 100, 2].map(segmentFileName).sort();
    expect(names.map(segmentIdOf)).toEqual([2, 9, 10, 100]);
    expect(segmentIdOf('ledger')).toBeNull();
    expect(segmentIdOf('1.seg')).toBeNull();
    expect(segmentIdOf('00000000000000000001.seg.tmp')).toBeNull();
  });

  it('start with a versioned header naming their id and limit', () => {
    const h = segmentHeader(7, 65536);
    expect(h).toHaveLength(SEGMENT_HEADER_BYTES);
    expect(checkSegmentHeader(h, 7)).toEqual({ ok: true, limit: 65536 });
    expect(checkSegmentHeader(h, 8)).toMatchObject({ ok: false, problem: /another segment/ });
    expect(checkSegmentHeader(h.subarray(0, 10), 7)).toMatchObject({ ok: false });
    const newer = Buffer.from(h);
    newer.writeUInt16LE(2, 4);
    expect(checkSegmentHeader(newer, 7)).toMatchObject({ ok: false, newerVersion: 2 });
    const notOne = Buffer.from(h);
    notOne[0] = 0;
    expect(checkSegmentHeader(notOne, 7)).toMatchObject({ ok: false, problem: /magic/ });
  });
});

describe('ledger', () => {
  async function ledgerWith(slot0: Buffer | null, slot1: Buffer | null): Promise<string> {
    const dir = await tempDir('lw-ledger-');
    const image = Buffer.alloc(1024);
    slot0?.copy(image, 0);
    slot1?.copy(image, 512);
    await fs.writeFile(path.join(dir, LEDGER_FILE), image);
    return dir;
  }

  it('reads the intact slot with the higher generation', async () => {
    const a = encodeSlot({ segment: 3, offset: 100 }, 4);
    const b = encodeSlot({ segment: 3, offset: 200 }, 5);
    expect(await readLedger(await ledgerWith(a, b))).toEqual({
      state: 'ok',
      position: { segment: 3, offset: 200 },
      generation: 5,
    });
    const torn = Buffer.from(b);
    torn[20] = torn[20]! ^ 0xff;
    expect(await readLedger(await ledgerWith(a, torn))).toMatchObject({
      position: { segment: 3, offset: 100 },
    });
  });

  it('is missing without a file, and corrupt without an intact slot', async () => {
    expect(await readLedger(await tempDir('lw-ledger-'))).toEqual({ state: 'missing' });
    expect(await readLedger(await ledgerWith(null, null))).toMatchObject({ state: 'corrupt' });
  });
});
