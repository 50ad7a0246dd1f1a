/**
 * Decodes the body of `GET /containers/{id}/logs?follow=1&timestamps=1&stdout=1&stderr=1`
 * into lines. Pure and incremental: feed it the response chunks as they arrive, in any sizes.
 *
 * What the engine sends (Docker 20.10 and later):
 *
 * - A container without a TTY gets the multiplexed stream: frames of an 8-byte header
 *   `[type, 0, 0, 0, size as uint32 big-endian]` and `size` bytes of payload; type 1 is stdout,
 *   2 stderr (0 stdin and 3 the daemon's own errors never carry log lines). One log message is
 *   one frame. A container with a TTY gets the raw bytes, all of them stdout, with no frames.
 * - Every message starts with its timestamp, `2024-05-01T12:00:00.123456789Z ` (Go's
 *   RFC3339NanoFixed and one space), and a complete message ends with `\n` (`\r\n` on a TTY).
 * - The engine's log copier cuts a line longer than 16 KiB into messages of exactly 16384
 *   bytes and a last, shorter one, all with the same timestamp; only the last ends with `\n`.
 *   Multiplexed, the pieces are consecutive frames of one stream (stdout and stderr pieces may
 *   interleave); raw, a 16384-byte piece is followed straight by the next piece's timestamp.
 *
 * The decoder joins the pieces, strips every timestamp prefix but the first, and hands over
 * each line once: at most `maxLineBytes` bytes of it, cut on a UTF-8 character boundary, with
 * `truncated` set when bytes were dropped. It never holds more than `maxLineBytes` bytes per
 * stream, never throws on bad input, and reports anything it cannot make sense of through
 * `onGarbage` while carrying on with the next line. Handlers must not throw.
 *
 * Hot path (one complete message in one chunk, the usual case): a header read, a 31-byte
 * char-code check of the timestamp, one `indexOf` for the newline and two string decodes
 * straight from the chunk; nothing is copied.
 */

import type { Stream } from '../../core/event.js';
import { toCanonicalTimestamp } from '../../core/timestamp.js';
import { canonicalNow, isCanonicalTimestampAt, isDigit, isTimestampChar, utf8Boundary } from './bytes.js';

export type DockerLineHandler = (stream: Stream, timestamp: string, text: string, truncated: boolean) => void;
/** `losesLineBytes`: the bytes belonged to log lines (out of sync, cut inside a frame), not a line kept without its timestamp, nor a stdin or daemon-error frame. */
export type DockerGarbageHandler = (reason: string, bytes: number, losesLineBytes: boolean) => void;

export interface DockerLogDecoderOptions {
  /** The container has a TTY: the body is the raw stream, not the multiplexed one. */
  tty: boolean;
  /** Longest line handed over, in bytes of UTF-8 (after joining the 16 KiB pieces). */
  maxLineBytes: number;
  /** One complete line, without its line ending. `timestamp` is RFC 3339 UTC with 9 fraction digits. */
  onLine: DockerLineHandler;
  /**
   * Bytes that are not what the engine should send. For a line that lacks its timestamp this
   * is called right before the `onLine` of that same line, so a caller can tell that line's
   * timestamp is the time of reading and not the engine's.
   */
  onGarbage?: DockerGarbageHandler;
  /** Clock for lines without a timestamp, in the same canonical form. Tests pin it. */
  now?: () => string;
}

/** Size of every piece but the last of a long line (the engine's log copier buffer). */
export const DOCKER_PIECE_BYTES = 16 * 1024;

const HEADER_BYTES = 8;
/** `2024-05-01T12:00:00.123456789Z`; the prefix adds one space. */
const CANONICAL_TS_LEN = 30;
/** `2024-05-01T12:00:00.123456789+02:00`, the longest prefix we accept. */
const MAX_TS_LEN = 35;
/** After losing the frame sync, a candidate header must announce no more than this. */
const MAX_RESYNC_FRAME = 1 << 20;
/** A buffer grown past this by one long line is given back once the line is handed over. */
const KEEP_ACC_BYTES = 64 * 1024;
/** How much of a daemon error frame (type 3) is quoted in the garbage report. */
const MAX_SYSERR_QUOTE = 512;

const LF = 10;
const CR = 13;
const SPACE = 32;

/** What the next bytes of a stream should start with. */
const EXPECT_TEXT = 0;
/** A timestamp must come: a frame starts or a line ended. Anything else is garbage. */
const EXPECT_TS = 1;
/** A raw piece of 16384 bytes ended: a timestamp should come, but text is not an error. */
const EXPECT_TS_MAYBE = 2;

/** Per-stream state: the line being assembled, and where we are in its message prefix. */
class StreamState {
  readonly name: Stream;
  expect = EXPECT_TS;
  /** Bytes of a timestamp prefix that is split across chunks. */
  readonly tsBuf = Buffer.alloc(MAX_TS_LEN);
  tsLen = 0;
  /** A line has begun (its timestamp was read) and is not handed over yet. */
  open = false;
  lineTs = '';
  /** The line began without a timestamp. */
  garbage = false;
  /** Bytes of the open line kept so far (only used once a line spans chunks or frames). */
  acc: Buffer | null = null;
  accLen = 0;
  /** Bytes dropped past the cap, and the last of them (a lone `\r` past the cap is no loss). */
  dropped = 0;
  lastDropped = 0;
  /** Raw TTY stream: text bytes since the last timestamp prefix. */
  pieceBytes = 0;

  constructor(name: Stream) {
    this.name = name;
  }
}

export class DockerLogDecoder {
  private readonly tty: boolean;
  private readonly cap: number;
  private readonly onLine: DockerLineHandler;
  private readonly onGarbage: DockerGarbageHandler | undefined;
  private readonly now: () => string;
  private readonly stdout = new StreamState('stdout');
  private readonly stderr = new StreamState('stderr');

  // Multiplexed stream only.
  private readonly hdr = Buffer.alloc(HEADER_BYTES);
  private hdrLen = 0;
  private frameLeft = 0;
  /** Stream of the current frame; null while skipping a stdin or daemon-error frame. */
  private frameStream: StreamState | null = null;
  private skipType = 0;
  private skipSize = 0;
  /**
   * The first bytes of a daemon error frame, decoded only when it ends: decoding each chunk's
   * part on its own would turn a character split between two chunks into U+FFFD.
   */
  private readonly skipQuote = Buffer.alloc(MAX_SYSERR_QUOTE);
  private skipQuoteLen = 0;
  /** Out of frame sync: sliding over the bytes until something looks like a header again. */
  private lost = false;
  private lostBytes = 0;

  constructor(opts: DockerLogDecoderOptions) {
    this.tty = opts.tty;
    this.cap = Math.max(1, Math.floor(opts.maxLineBytes));
    this.onLine = opts.onLine;
    this.onGarbage = opts.onGarbage;
    this.now = opts.now ?? canonicalNow;
  }

  /** Bytes held for unfinished lines, both streams (for the bounded-memory tests): at most 2 x maxLineBytes. */
  get bufferedBytes(): number {
    return (this.stdout.acc?.length ?? 0) + (this.stderr.acc?.length ?? 0);
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.tty) this.feed(this.stdout, chunk, 0, chunk.length);
    else this.pushMultiplexed(chunk);
  }

  /** The body ended: hand over what is pending (a last line without `\n` is a complete line). */
  end(): void {
    if (!this.tty) {
      if (this.lost)
        this.garbage('multiplexed stream out of sync until its end', this.lostBytes + this.hdrLen, true);
      else if (this.hdrLen > 0) this.garbage('stream ended inside a frame header', this.hdrLen, true);
      if (this.frameLeft > 0) {
        this.garbage('stream ended inside a frame', this.frameLeft, true);
        if (this.frameStream === null) this.endSkippedFrame();
      }
      this.hdrLen = 0;
      this.frameLeft = 0;
      this.frameStream = null;
      this.lost = false;
      this.lostBytes = 0;
    }
    this.flush(this.stdout);
    this.flush(this.stderr);
  }

  // ---- multiplexed stream -------------------------------------------------------------

  private pushMultiplexed(chunk: Buffer): void {
    const len = chunk.length;
    let pos = 0;
    while (pos < len) {
      if (this.frameLeft > 0) {
        const end = pos + Math.min(this.frameLeft, len - pos);
        const st = this.frameStream;
        if (st !== null) this.feed(st, chunk, pos, end);
        else this.skipPayload(chunk, pos, end);
        this.frameLeft -= end - pos;
        pos = end;
        if (this.frameLeft === 0) {
          if (st !== null) this.frameEnded(st);
          else this.endSkippedFrame();
        }
        continue;
      }
      if (this.lost) {
        pos = this.resync(chunk, pos);
        continue;
      }
      if (this.hdrLen === 0 && len - pos >= HEADER_BYTES) {
        // Whole header in this chunk: read it in place.
        if (!this.startFrame(chunk, pos)) {
          chunk.copy(this.hdr, 0, pos, pos + HEADER_BYTES);
          this.loseSync();
        }
        pos += HEADER_BYTES;
        continue;
      }
      const n = Math.min(HEADER_BYTES - this.hdrLen, len - pos);
      chunk.copy(this.hdr, this.hdrLen, pos, pos + n);
      this.hdrLen += n;
      pos += n;
      if (this.hdrLen < HEADER_BYTES) return;
      this.hdrLen = 0;
      if (!this.startFrame(this.hdr, 0)) this.loseSync();
    }
  }

  /** Reads a header at `at`; false when it cannot be one. */
  private startFrame(h: Buffer, at: number): boolean {
    const type = h[at]!;
    if (type > 3 || h[at + 1] !== 0 || h[at + 2] !== 0 || h[at + 3] !== 0) return false;
    const size = h.readUInt32BE(at + 4);
    if (type === 1 || type === 2) {
      if (size === 0) return true;
      const st = type === 1 ? this.stdout : this.stderr;
      // Every message starts with its timestamp, also the continuation of a partial line.
      st.expect = EXPECT_TS;
      this.frameStream = st;
      this.frameLeft = size;
      return true;
    }
    this.frameStream = null;
    this.skipType = type;
    this.skipSize = size;
    this.skipQuoteLen = 0;
    this.frameLeft = size;
    if (size === 0) this.endSkippedFrame();
    return true;
  }

  private skipPayload(chunk: Buffer, pos: number, end: number): void {
    if (this.skipType === 3 && this.skipQuoteLen < MAX_SYSERR_QUOTE) {
      const n = Math.min(end - pos, MAX_SYSERR_QUOTE - this.skipQuoteLen);
      chunk.copy(this.skipQuote, this.skipQuoteLen, pos, pos + n);
      this.skipQuoteLen += n;
    }
  }

  private endSkippedFrame(): void {
    const what =
      this.skipType === 3
        ? `daemon error frame (stream type 3): ${this.quote().trim()}`
        : 'stdin frame (stream type 0)';
    this.skipQuoteLen = 0;
    this.garbage(what, this.skipSize, false);
  }

  /** The quoted start of a daemon error frame; cut on a character boundary when the frame was longer. */
  private quote(): string {
    const n = this.skipQuoteLen;
    return this.skipQuote.toString('utf8', 0, this.skipSize > n ? utf8Boundary(this.skipQuote, 0, n) : n);
  }

  /** A header made no sense: slide one byte at a time until something looks like a header. */
  private loseSync(): void {
    this.lost = true;
    this.hdr.copyWithin(0, 1, HEADER_BYTES);
    this.hdrLen = HEADER_BYTES - 1;
    this.lostBytes = 1;
  }

  private resync(chunk: Buffer, pos: number): number {
    const h = this.hdr;
    const len = chunk.length;
    while (pos < len) {
      if (this.hdrLen < HEADER_BYTES) {
        h[this.hdrLen++] = chunk[pos++]!;
        if (this.hdrLen < HEADER_BYTES) continue;
      } else {
        h.copyWithin(0, 1, HEADER_BYTES);
        h[HEADER_BYTES - 1] = chunk[pos++]!;
        this.lostBytes++;
      }
      // Stricter than a normal header: a log frame, with a plausible size.
      const type = h[0]!;
      const size = h.readUInt32BE(4);
      if ((type === 1 || type === 2) && h[1] === 0 && h[2] === 0 && h[3] === 0) {
        if (size > 0 && size <= MAX_RESYNC_FRAME) {
          this.garbage(
            'multiplexed stream out of sync; skipped bytes up to the next frame header',
            this.lostBytes,
            true,
          );
          this.lost = false;
          this.lostBytes = 0;
          this.hdrLen = 0;
          this.startFrame(h, 0);
          return pos;
        }
      }
    }
    return pos;
  }

  /** A frame of `st` ended. A frame without a final `\n` is a piece that the next one continues. */
  private frameEnded(st: StreamState): void {
    // A frame too short to hold its timestamp: its bytes are text.
    if (st.tsLen > 0) this.timestampMissing(st);
    // A line without timestamp is not the start of a long line: do not let it absorb the next frame.
    if (st.open && st.garbage) this.emitAccumulated(st);
  }

  // ---- per-stream line assembly (both modes) ------------------------------------------

  /** Consumes `buf[pos, end)`, all of it bytes of stream `st` (within one frame, when multiplexed). */
  private feed(st: StreamState, buf: Buffer, pos: number, end: number): void {
    const tty = this.tty;
    while (pos < end) {
      if (st.expect !== EXPECT_TEXT) {
        if (st.tsLen === 0 && end - pos > CANONICAL_TS_LEN && isCanonicalTimestampAt(buf, pos)) {
          this.timestampFound(st, buf.toString('latin1', pos, pos + CANONICAL_TS_LEN));
          pos += CANONICAL_TS_LEN + 1;
        } else {
          pos = this.gatherTimestamp(st, buf, pos, end);
        }
        continue;
      }

      // Text of the open line. On a raw stream a piece ends after 16384 bytes without `\n`.
      let stop = end;
      if (tty) {
        const room = DOCKER_PIECE_BYTES - st.pieceBytes;
        if (end - pos > room) stop = pos + room;
      }
      const nl = buf.indexOf(LF, pos);
      if (nl !== -1 && nl < end && nl <= stop) {
        if (st.accLen === 0 && st.dropped === 0) this.emitDirect(st, buf, pos, nl);
        else {
          this.append(st, buf, pos, nl);
          this.emitAccumulated(st);
        }
        st.expect = EXPECT_TS;
        pos = nl + 1;
        continue;
      }
      this.append(st, buf, pos, stop);
      if (tty) {
        st.pieceBytes += stop - pos;
        if (st.pieceBytes >= DOCKER_PIECE_BYTES) st.expect = EXPECT_TS_MAYBE;
      }
      pos = stop;
    }
  }

  /** Slow path: a prefix that is split across chunks, not canonical, or not there at all. */
  private gatherTimestamp(st: StreamState, buf: Buffer, pos: number, end: number): number {
    while (pos < end) {
      const c = buf[pos]!;
      if (c === SPACE && st.tsLen > 0) {
        const ts = toCanonicalTimestamp(st.tsBuf.toString('latin1', 0, st.tsLen)) ?? undefined;
        if (ts === undefined) {
          this.timestampMissing(st);
          return pos;
        }
        st.tsLen = 0;
        this.timestampFound(st, ts);
        return pos + 1;
      }
      if (st.tsLen === MAX_TS_LEN || !(st.tsLen === 0 ? isDigit(c) : isTimestampChar(c))) {
        this.timestampMissing(st);
        return pos;
      }
      st.tsBuf[st.tsLen++] = c;
      pos++;
    }
    return pos;
  }

  private timestampFound(st: StreamState, ts: string): void {
    st.expect = EXPECT_TEXT;
    st.pieceBytes = 0;
    if (!st.open) {
      st.open = true;
      st.garbage = false;
      st.lineTs = ts;
    }
    // else: the next piece of a long line; it repeats the first piece's timestamp, which we keep.
  }

  /** Where a timestamp should be, there is none: the bytes gathered so far are text. */
  private timestampMissing(st: StreamState): void {
    if (st.expect === EXPECT_TS) {
      // A line that was waiting for its next piece gets no more: it is complete as it is.
      if (st.open && (st.accLen > 0 || st.dropped > 0)) this.emitAccumulated(st);
      // Why "now": the engine gave this line no time of its own (an error text from the
      // daemon or a proxy, a log driver that lost the timestamp, a corrupted stream). It must
      // not be dropped nor glued to a neighbour, and the time we read it is the closest
      // truthful time we have. onGarbage tells the caller, right before the line, so it can
      // keep that time out of resume positions.
      st.open = true;
      st.garbage = true;
      st.lineTs = this.now();
    }
    // EXPECT_TS_MAYBE: a raw piece ended without the next prefix; the text simply goes on.
    st.expect = EXPECT_TEXT;
    st.pieceBytes = 0;
    if (st.tsLen > 0) {
      const n = st.tsLen;
      st.tsLen = 0;
      this.append(st, st.tsBuf, 0, n);
      if (this.tty) st.pieceBytes = n;
    }
  }

  /** Adds text to the open line, keeping at most `cap` bytes of it. */
  private append(st: StreamState, src: Buffer, start: number, end: number): void {
    const n = end - start;
    if (n <= 0) return;
    const room = this.cap - st.accLen;
    const take = Math.max(0, Math.min(n, room));
    if (take > 0) {
      const need = st.accLen + take;
      let acc = st.acc;
      if (acc === null || acc.length < need) {
        const grown = Buffer.allocUnsafe(Math.min(this.cap, Math.max(need, (acc?.length ?? 0) * 2, 4096)));
        if (acc !== null && st.accLen > 0) acc.copy(grown, 0, 0, st.accLen);
        st.acc = acc = grown;
      }
      src.copy(acc, st.accLen, start, start + take);
      st.accLen = need;
    }
    if (take < n) {
      st.dropped += n - take;
      st.lastDropped = src[end - 1]!;
    }
  }

  /** A whole line in one buffer, nothing accumulated: decode it in place. */
  private emitDirect(st: StreamState, buf: Buffer, start: number, end: number): void {
    const rawBytes = end - start;
    if (this.tty && end > start && buf[end - 1] === CR) end--;
    let truncated = false;
    if (end - start > this.cap) {
      end = utf8Boundary(buf, start, start + this.cap);
      truncated = true;
    }
    this.deliver(st, buf.toString('utf8', start, end), truncated, rawBytes);
  }

  private emitAccumulated(st: StreamState): void {
    const acc = st.acc;
    let len = st.accLen;
    let truncated = false;
    if (st.dropped > 0 && !(this.tty && st.dropped === 1 && st.lastDropped === CR)) {
      truncated = true;
      if (acc !== null) len = utf8Boundary(acc, 0, len);
    } else if (this.tty && st.dropped === 0 && len > 0 && acc !== null && acc[len - 1] === CR) {
      len--;
    }
    const rawBytes = st.accLen + st.dropped;
    const text = acc === null || len === 0 ? '' : acc.toString('utf8', 0, len);
    st.accLen = 0;
    st.dropped = 0;
    if (acc !== null && acc.length > KEEP_ACC_BYTES) st.acc = null;
    this.deliver(st, text, truncated, rawBytes);
  }

  private deliver(st: StreamState, text: string, truncated: boolean, rawBytes: number): void {
    const ts = st.lineTs;
    const garbage = st.garbage;
    st.open = false;
    st.garbage = false;
    if (garbage) this.garbage('line without timestamp prefix', rawBytes, false);
    this.onLine(st.name, ts, text, truncated);
  }

  private flush(st: StreamState): void {
    if (st.tsLen > 0) this.timestampMissing(st);
    if (st.open && (st.accLen > 0 || st.dropped > 0)) this.emitAccumulated(st);
    st.open = false;
    st.garbage = false;
    st.accLen = 0;
    st.dropped = 0;
    st.tsLen = 0;
    st.pieceBytes = 0;
    st.expect = EXPECT_TS;
  }

  private garbage(reason: string, bytes: number, losesLineBytes: boolean): void {
    this.onGarbage?.(reason, bytes, losesLineBytes);
  }
}
