import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { LogwharfError } from '../core/errors.js';
import { readPrefix } from './event-codec.js';
import { isLedgerTemp, Ledger, moveLedgerAside, type ReadPosition, readLedger } from './ledger.js';
import {
  checkSegmentHeader,
  FileWindow,
  newSegmentState,
  readFrameAt,
  SEGMENT_HEADER_BYTES,
  type SegmentState,
  segmentFileName,
  segmentIdOf,
} from './segment.js';

/**
 * What a disk buffer finds in its directory at open: the segments still holding unacknowledged
 * records and their counts, learned by reading every unacknowledged record once (checking its
 * CRC, reading its fixed prefix; no JSON is parsed).
 *
 * Damage is met with one rule per place, and nothing here throws on it or loops:
 * - The tail of the LAST segment (the one being written when the process died): a record cut
 *   short, or a last record whose CRC fails, or zeros where a record should start, is a write
 *   a crash interrupted. Under 'always' its append never resolved, so nobody was told it was
 *   stored. It is truncated away, with a warning naming the file and the bytes.
 * - Anything else (a bad CRC with records after it, a nonsense length, a bad segment header):
 *   the rest of that segment is given up, with an error log and a count in corruptRecords.
 *   Records after a damaged one cannot be found without trusting the damaged length.
 * Segments are only ever read after this: the writer starts a new segment at every open, so a
 * file whose tail was cut or skipped is never appended to (records after a skipped tail would
 * be unreachable).
 */

const SCAN_CHUNK = 1024 * 1024;

export interface Recovered {
  /** Oldest first; each with its unacknowledged range [start, end) and counts. */
  segments: SegmentState[];
  /** The id for the next segment the writer creates: above every id seen. */
  nextId: number;
  oldestAppendedAt: number | null;
  corruptRecords: number;
  corruptBytes: number;
}

/**
 * Brings a buffer directory to a consistent state for open(): reads the ledger (a corrupt one is
 * moved aside, a missing one noted), recovers the segments from its position, and opens the
 * ledger for writing (a new one starts at the oldest record left).
 */
export async function recoverDir(
  dir: string,
  log: Logger,
  sync: boolean,
): Promise<{ ledger: Ledger; recovered: Recovered }> {
  await fs.mkdir(dir, { recursive: true });
  const found = await readLedger(dir);
  const recovered = await recover(dir, found.state === 'ok' ? found.position : null, log, sync);
  if (found.state === 'corrupt') {
    const movedTo = await moveLedgerAside(dir);
    log.warn(
      { dir, movedTo, problem: found.problem },
      'disk buffer: ledger is corrupt; moved it aside and replaying from the oldest segment (events keep their ids, so stores skip what they have)',
    );
  } else if (found.state === 'missing' && recovered.segments.some((s) => s.records > 0)) {
    log.warn({ dir }, 'disk buffer: no ledger; replaying from the oldest segment');
  }
  const first = recovered.segments[0];
  const initial = first ? { segment: first.id, offset: first.start } : { segment: 0, offset: 0 };
  return { ledger: await Ledger.open(dir, found, initial, sync), recovered };
}

async function recover(
  dir: string,
  position: ReadPosition | null,
  log: Logger,
  sync: boolean,
): Promise<Recovered> {
  const ids: number[] = [];
  for (const name of await fs.readdir(dir)) {
    const id = segmentIdOf(name);
    if (id !== null) ids.push(id);
    else if (isLedgerTemp(name)) await fs.rm(path.join(dir, name), { force: true });
  }
  ids.sort((a, b) => a - b);
  const out: Recovered = {
    segments: [],
    nextId: Math.max(position?.segment ?? 0, ids.at(-1) ?? 0) + 1,
    oldestAppendedAt: null,
    corruptRecords: 0,
    corruptBytes: 0,
  };
  const live = ids.filter((id) => position === null || id >= position.segment);
  for (const id of ids) {
    // Acknowledged already: the ledger moved past it, and a crash came before it was deleted.
    if (position !== null && id < position.segment) {
      await fs.rm(path.join(dir, segmentFileName(id)), { force: true });
    }
  }
  for (let i = 0; i < live.length; i++) {
    const id = live[i]!;
    const start = position !== null && id === position.segment ? position.offset : SEGMENT_HEADER_BYTES;
    const seg = newSegmentState(dir, id, 0, start); // its limit comes from its header
    if (await scanSegment(seg, i === live.length - 1, out, log, sync)) out.segments.push(seg);
  }
  return out;
}

/**
 * Fills in `seg` from its file. False when the file was removed: a last segment torn inside its
 * header, or a segment the ledger is at the end of (all acknowledged; a crash came before its
 * removal, or it was the writer's when the buffer closed).
 */
async function scanSegment(
  seg: SegmentState,
  isLast: boolean,
  out: Recovered,
  log: Logger,
  sync: boolean,
): Promise<boolean> {
  const fh = await fs.open(seg.file, 'r+');
  let keep = true;
  try {
    const size = (await fh.stat()).size;
    const header = Buffer.alloc(SEGMENT_HEADER_BYTES);
    const { bytesRead } = await fh.read(header, 0, SEGMENT_HEADER_BYTES, 0);
    const check = checkSegmentHeader(header.subarray(0, bytesRead), seg.id);
    if (!check.ok) {
      if (check.newerVersion !== undefined) {
        throw new LogwharfError(
          'LOGWHARF_ERR_STORE',
          `${seg.file}: segment version ${check.newerVersion} was written by a newer logwharf; ` +
            'upgrade logwharf, or remove the buffer directory to drop what it holds',
        );
      }
      // Created just before the crash: its header never reached the disk (under 'never', a power
      // loss may leave the file with its length but zeros for data).
      if (
        isLast &&
        (size < SEGMENT_HEADER_BYTES || (await zerosFrom(new FileWindow(fh, SCAN_CHUNK), 0, size)))
      ) {
        log.warn(
          { file: seg.file, bytes: size },
          'disk buffer: removing a segment torn while it was created',
        );
        keep = false;
        return false;
      }
      damaged(seg, 0, size, check.problem, out, log);
      return true;
    }
    seg.limit = check.limit;
    let pos = Math.max(seg.start, SEGMENT_HEADER_BYTES);
    if (pos > size) {
      log.warn(
        { file: seg.file, ledgerOffset: pos, size },
        'disk buffer: the ledger points past the end of its segment (a power loss under fsync "never"?); ' +
          'taking the segment as acknowledged',
      );
      pos = size;
    }
    if (pos === size) {
      keep = false;
      return false;
    }
    seg.start = pos;
    const win = new FileWindow(fh, SCAN_CHUNK);
    let problem: string | null = null;
    let failedBytes = 0;
    while (pos < size) {
      const f = await readFrameAt(win, seg, pos, size);
      if (!f.ok) {
        problem = f.problem;
        failedBytes = f.bytes;
        break;
      }
      const prefix = readPrefix(f.buf, f.payloadStart, f.payloadEnd);
      if (prefix === null) {
        problem = 'bad-payload';
        break;
      }
      seg.records++;
      seg.bytes += f.bytes;
      seg.events += prefix.eventCount;
      out.oldestAppendedAt ??= prefix.appendedAt;
      pos += f.bytes;
    }
    seg.end = pos;
    if (problem === null) return true;
    const torn =
      isLast &&
      (problem === 'short' ||
        (problem === 'bad-crc' && pos + failedBytes === size) ||
        (problem === 'bad-length' && (await zerosFrom(win, pos, size))));
    if (!torn) {
      damaged(seg, pos, size, problem, out, log);
      return true;
    }
    await fh.truncate(pos);
    if (sync) await fh.datasync();
    log.warn(
      { file: seg.file, at: pos, bytes: size - pos, problem },
      'disk buffer: truncated a record torn by a crash at the end of the last segment (its append never completed)',
    );
    return true;
  } finally {
    await fh.close();
    if (!keep) await fs.rm(seg.file, { force: true });
  }
}

function damaged(seg: SegmentState, at: number, size: number, problem: string, out: Recovered, log: Logger) {
  seg.end = Math.max(seg.start, at);
  out.corruptRecords++;
  out.corruptBytes += size - at;
  log.error(
    { file: seg.file, at, bytes: size - at, problem },
    'disk buffer: damaged record; skipping the rest of this segment (its records are lost)',
  );
}

async function zerosFrom(win: FileWindow, from: number, size: number): Promise<boolean> {
  for (let pos = from; pos < size; ) {
    const n = Math.min(SCAN_CHUNK, size - pos);
    const o = await win.ensure(pos, n, size);
    const b = win.bytes;
    for (let i = o; i < o + n; i++) if (b[i] !== 0) return false;
    pos += n;
  }
  return true;
}
