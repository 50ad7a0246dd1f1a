import fs from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { LogwharfError } from '../core/errors.js';
import { fsyncDir } from '../core/fsync-dir.js';

/**
 * The read-position ledger of a disk buffer: where the next unacknowledged record is.
 *
 * The file `ledger` holds two fixed-size slots, at offsets 0 and 512 (different disk sectors):
 *
 *   [4 bytes "LWLG"][u16 version][u16 zero][u64 generation][u64 segment id][u64 offset][u32 crc32 of the 32 bytes before]
 *
 * Each write goes to the slot the previous write did not use (generation parity) with one
 * positioned write, then fsync under 'always'. A write torn by a crash spoils only its own slot
 * (its CRC fails), and the other slot still holds the position before it. So the file is never
 * rewritten as a whole, and an ack costs one small pwrite instead of write-fsync-rename-fsync.
 *
 * Reading takes the intact slot with the higher generation. A position (S, O) means: every record
 * of segments with an id below S, and of segment S before offset O, is acknowledged.
 */

export const LEDGER_FILE = 'ledger';
const TEMP_FILE = 'ledger.tmp';
const VERSION = 1;
const MAGIC = 'LWLG';
const SLOT_BYTES = 36;
const SLOT_STRIDE = 512;

export interface ReadPosition {
  segment: number;
  offset: number;
}

export type LedgerRead =
  | { state: 'missing' }
  | { state: 'ok'; position: ReadPosition; generation: number }
  | { state: 'corrupt'; problem: string };

export function encodeSlot(position: ReadPosition, generation: number): Buffer {
  const b = Buffer.alloc(SLOT_BYTES);
  b.write(MAGIC, 0, 'latin1');
  b.writeUInt16LE(VERSION, 4);
  b.writeBigUInt64LE(BigInt(generation), 8);
  b.writeBigUInt64LE(BigInt(position.segment), 16);
  b.writeBigUInt64LE(BigInt(position.offset), 24);
  b.writeUInt32LE(crc32(b.subarray(0, 32)), 32);
  return b;
}

type Slot = { ok: true; position: ReadPosition; generation: number } | { ok: false; newer?: number };

function decodeSlot(file: Buffer, at: number): Slot {
  if (file.length < at + SLOT_BYTES) return { ok: false };
  const b = file.subarray(at, at + SLOT_BYTES);
  if (b.toString('latin1', 0, 4) !== MAGIC || crc32(b.subarray(0, 32)) !== b.readUInt32LE(32)) {
    return { ok: false };
  }
  const version = b.readUInt16LE(4);
  if (version !== VERSION) return version > VERSION ? { ok: false, newer: version } : { ok: false };
  const generation = Number(b.readBigUInt64LE(8));
  const segment = Number(b.readBigUInt64LE(16));
  const offset = Number(b.readBigUInt64LE(24));
  if (![generation, segment, offset].every(Number.isSafeInteger)) return { ok: false };
  return { ok: true, position: { segment, offset }, generation };
}

/** Reads the ledger of `dir`. Throws only for a ledger a newer logwharf wrote, or an unreadable file. */
export async function readLedger(dir: string): Promise<LedgerRead> {
  const file = path.join(dir, LEDGER_FILE);
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'missing' };
    throw new LogwharfError(
      'LOGWHARF_ERR_STORE',
      `${file}: cannot read the disk buffer ledger: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  const slots = [decodeSlot(bytes, 0), decodeSlot(bytes, SLOT_STRIDE)];
  let best: Extract<Slot, { ok: true }> | undefined;
  for (const s of slots) {
    if (s.ok && (best === undefined || s.generation > best.generation)) best = s;
  }
  if (best) return { state: 'ok', position: best.position, generation: best.generation };
  const newer = slots.find((s) => !s.ok && s.newer !== undefined);
  if (newer && !newer.ok) {
    throw new LogwharfError(
      'LOGWHARF_ERR_STORE',
      `${file}: version ${newer.newer} was written by a newer logwharf (this one reads version ${VERSION}); ` +
        'upgrade logwharf, or remove the buffer directory to drop what it holds',
    );
  }
  return { state: 'corrupt', problem: bytes.length === 0 ? 'empty file' : 'no intact slot' };
}

export class Ledger {
  private constructor(
    private readonly fh: fs.FileHandle,
    private generation: number,
    private readonly sync: boolean,
  ) {}

  /**
   * Opens the ledger of `dir` to write positions. `found` is what readLedger() returned: an
   * intact ledger is continued; otherwise a new one holding `initial` replaces it atomically
   * (temp file, fsync, rename, fsync of the directory).
   */
  static async open(dir: string, found: LedgerRead, initial: ReadPosition, sync: boolean): Promise<Ledger> {
    const file = path.join(dir, LEDGER_FILE);
    if (found.state === 'ok') return new Ledger(await fs.open(file, 'r+'), found.generation, sync);
    const tmp = path.join(dir, TEMP_FILE);
    const image = Buffer.alloc(SLOT_STRIDE + SLOT_BYTES);
    encodeSlot(initial, 0).copy(image, 0);
    const t = await fs.open(tmp, 'w', 0o644);
    try {
      await t.writeFile(image);
      await t.sync();
    } finally {
      await t.close();
    }
    await fs.rename(tmp, file);
    await fsyncDir(dir);
    return new Ledger(await fs.open(file, 'r+'), 0, sync);
  }

  /** Records `position` as the next unacknowledged record; durable on return under 'always'. */
  async write(position: ReadPosition): Promise<void> {
    const generation = this.generation + 1;
    const slot = encodeSlot(position, generation);
    await this.fh.write(slot, 0, SLOT_BYTES, (generation % 2) * SLOT_STRIDE);
    if (this.sync) await this.fh.datasync();
    this.generation = generation;
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}

/** Moves a corrupt ledger out of the way (kept for the operator); returns where to. */
export async function moveLedgerAside(dir: string, now = Date.now()): Promise<string> {
  const aside = path.join(dir, `${LEDGER_FILE}.corrupt-${now}`);
  await fs.rename(path.join(dir, LEDGER_FILE), aside);
  return aside;
}

/** Leftovers of a ledger replacement a crash interrupted: never the real ledger. */
export function isLedgerTemp(name: string): boolean {
  return name === TEMP_FILE;
}
