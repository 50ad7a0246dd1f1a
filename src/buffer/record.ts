import { crc32 } from 'node:zlib';
import { PREFIX_BYTES } from './event-codec.js';

/**
 * Framing of one disk-buffer record, pure:
 *
 *   [u32 payload length][u32 crc32 of the payload][payload]      (little-endian)
 *
 * The CRC covers the payload only; a damaged length shows up as a length that is implausible
 * or that makes the CRC fail.
 */

export const FRAME_HEADER_BYTES = 8;
/** Every payload starts with the codec's fixed prefix, so a shorter one (e.g. zeros) is damage. */
export const MIN_PAYLOAD_BYTES = PREFIX_BYTES;

/** Fills the first FRAME_HEADER_BYTES of `record` (left free by the encoder) from the payload after them. */
export function sealFrame(record: Buffer): Buffer {
  const payload = record.subarray(FRAME_HEADER_BYTES);
  record.writeUInt32LE(payload.length, 0);
  record.writeUInt32LE(crc32(payload), 4);
  return record;
}

export type FrameCheck =
  /** A whole, intact record of `bytes` (header included). */
  | { ok: true; bytes: number }
  /**
   * `short`: the bytes end before the header or the payload its length announces does;
   * `bad-length`: a length no record can have; `bad-crc`: the payload does not match its CRC.
   */
  | { ok: false; problem: 'short' | 'bad-length' | 'bad-crc'; bytes: number };

/**
 * Checks the record at `buf[at..]`, where `available` bytes from `at` on belong to the segment
 * (`buf` must hold all of them, or at least the header and the payload it announces).
 */
export function checkFrame(buf: Buffer, at: number, available: number): FrameCheck {
  if (available < FRAME_HEADER_BYTES) return { ok: false, problem: 'short', bytes: available };
  const length = buf.readUInt32LE(at);
  if (length < MIN_PAYLOAD_BYTES) return { ok: false, problem: 'bad-length', bytes: FRAME_HEADER_BYTES };
  const bytes = FRAME_HEADER_BYTES + length;
  if (bytes > available) return { ok: false, problem: 'short', bytes };
  const start = at + FRAME_HEADER_BYTES;
  if (crc32(buf.subarray(start, start + length)) !== buf.readUInt32LE(at + 4)) {
    return { ok: false, problem: 'bad-crc', bytes };
  }
  return { ok: true, bytes };
}

/** The length a record at `buf[at..]` announces, header included (valid or not). */
export function announcedBytes(buf: Buffer, at: number): number {
  return FRAME_HEADER_BYTES + buf.readUInt32LE(at);
}
