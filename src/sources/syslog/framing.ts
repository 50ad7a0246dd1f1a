/**
 * RFC 6587 stream framing: the bytes of one TCP (or TLS) connection in, syslog messages out.
 * Pure and stateful: one decoder per connection, fed whatever chunks the socket hands over,
 * split anywhere.
 *
 * Invariants:
 * - The framing is decided per connection from its first byte (RFC 6587 section 3.4 leaves it
 *   to the receiver): a digit means octet counting (`MSG-LEN SP SYSLOG-MSG`, section 3.4.1),
 *   anything else non-transparent framing (a trailer ends each message, section 3.4.2: LF, also
 *   NUL as some senders use, and CRLF, whose CR is dropped).
 * - Memory stays bounded by `maxFrameBytes` + 1 whatever the peer sends: a longer message is cut
 *   to its first `maxFrameBytes` bytes, delivered at once flagged truncated, and the rest is
 *   skipped (by count for octet counting, up to the next trailer otherwise). A giant length
 *   prefix never allocates more than `maxFrameBytes`.
 * - A frame that lies inside one chunk is delivered as a view into that chunk (no copy); only a
 *   frame spanning chunks is copied, once, into a buffer the decoder then gives away. Callers
 *   must not modify a chunk after pushing it.
 * - State is updated before `onFrame` is called, so a throwing callback leaves the decoder
 *   consistent (the exception propagates to the caller of push/end).
 */

export interface FrameDecoderOptions {
  /** Longest message kept; a longer one is cut to this many bytes and reported truncated. Memory per connection stays O(maxFrameBytes). */
  maxFrameBytes: number;
  onFrame(frame: Buffer, truncated: boolean): void;
}

export type Framing = 'octet-counting' | 'non-transparent';

export interface FrameCounters {
  /** Frames delivered, truncated ones included. */
  frames: number;
  /** Frames longer than maxFrameBytes, delivered cut. */
  truncated: number;
  /** An octet-counted frame (or its length prefix) the peer did not finish before closing. */
  lostAtClose: number;
  /** Bad octet-count prefixes; each switches the connection to non-transparent framing. */
  framingErrors: number;
}

const LF = 0x0a;
const CR = 0x0d;
const NUL = 0x00;
const SP = 0x20;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
/** RFC 6587 puts no limit on MSG-LEN; nine digits (< 1 GB) is far past any sane frame, and keeps the arithmetic exact. */
const MAX_LEN_DIGITS = 9;

const isDigit = (b: number): boolean => b >= DIGIT_0 && b <= DIGIT_9;

export class SyslogFrameDecoder {
  readonly counters: FrameCounters = { frames: 0, truncated: 0, lostAtClose: 0, framingErrors: 0 };
  private readonly max: number;
  private readonly onFrame: (frame: Buffer, truncated: boolean) => void;
  private mode: Framing | null = null;
  private ended = false;
  /** Bytes of a frame that spans chunks. Never more than max + 1 (the +1 tells "exactly max, then CRLF" from "too long"). */
  private readonly pending: Accumulator;

  // Octet counting: reading the length prefix, the kept part of a frame, or skipping an oversized frame's tail.
  private state: 'len' | 'body' | 'skip' = 'len';
  /** The prefix bytes read so far: on a framing error they are re-read as message text, so nothing the peer sent vanishes. */
  private readonly prefix = Buffer.alloc(MAX_LEN_DIGITS + 1);
  private prefixLen = 0;
  private msgLen = 0;
  /** Bytes of the current frame still to keep (body) and still to consume in all (body + skip). */
  private keepLeft = 0;
  private remaining = 0;

  // Non-transparent: after a cut, everything up to the next trailer is dropped.
  private discarding = false;

  constructor(opts: FrameDecoderOptions) {
    if (!Number.isInteger(opts.maxFrameBytes) || opts.maxFrameBytes < 1)
      throw new RangeError(`maxFrameBytes must be a positive integer, got ${opts.maxFrameBytes}`);
    this.max = opts.maxFrameBytes;
    this.onFrame = opts.onFrame;
    this.pending = new Accumulator(opts.maxFrameBytes + 1);
  }

  /** Which framing this connection uses; null until its first byte. */
  get framing(): Framing | null {
    return this.mode;
  }

  /** Bytes held for an unfinished frame (for metrics and the bounded-memory tests). */
  get bufferedBytes(): number {
    return this.pending.capacity;
  }

  push(chunk: Buffer): void {
    if (this.ended) throw new Error('SyslogFrameDecoder: push() after end()');
    let at = 0;
    while (at < chunk.length) {
      if (this.mode === null) this.mode = isDigit(chunk[at]!) ? 'octet-counting' : 'non-transparent';
      if (this.mode === 'non-transparent') {
        this.nonTransparent(chunk, at);
        return;
      }
      at = this.octetCounting(chunk, at);
    }
  }

  /**
   * The peer closed. An octet-counted frame cut short (or a lone length prefix) is lost and
   * counted: its length says more was meant to come, so what arrived is known to be incomplete.
   * A last non-transparent message without its trailer is delivered: `printf 'msg' | nc host 514`
   * and many scripts end that way, and nothing says the message is incomplete. Idempotent.
   */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.mode === 'octet-counting') {
      if ((this.state === 'len' && this.prefixLen > 0) || this.state === 'body') {
        this.counters.lostAtClose++;
        this.pending.clear();
      }
      return;
    }
    if (this.mode === 'non-transparent' && !this.discarding && this.pending.length > 0) {
      this.emitText(this.pending.take(), false);
    }
  }

  /** Consumes octet-counted data from `at`; returns where it stopped (the chunk's end, or after a framing error). */
  private octetCounting(chunk: Buffer, at: number): number {
    while (at < chunk.length) {
      if (this.state === 'len') {
        const b = chunk[at]!;
        at++;
        if (this.prefixLen === 0 && (b === LF || b === CR || b === NUL)) {
          // Some senders end octet-counted frames with a trailer too; between frames it carries
          // nothing, so it is skipped rather than taken for a broken length prefix.
          continue;
        }
        if (isDigit(b) && this.prefixLen < MAX_LEN_DIGITS) {
          this.prefix[this.prefixLen++] = b;
          this.msgLen = this.msgLen * 10 + (b - DIGIT_0);
          continue;
        }
        if (b === SP && this.msgLen > 0) {
          this.startBody();
          continue;
        }
        this.prefix[this.prefixLen++] = b;
        this.framingError();
        return at;
      }
      const avail = chunk.length - at;
      if (this.state === 'skip') {
        const n = Math.min(avail, this.remaining);
        at += n;
        this.remaining -= n;
        if (this.remaining === 0) this.state = 'len';
        continue;
      }
      // state 'body'
      if (this.pending.length === 0 && avail >= this.keepLeft) {
        const frame = chunk.subarray(at, at + this.keepLeft);
        at += this.keepLeft;
        this.finishBody(frame);
        continue;
      }
      const n = Math.min(avail, this.keepLeft);
      this.pending.append(chunk.subarray(at, at + n), this.pending.length + this.keepLeft);
      at += n;
      this.keepLeft -= n;
      if (this.keepLeft === 0) this.finishBody(this.pending.take());
    }
    return at;
  }

  private startBody(): void {
    this.remaining = this.msgLen;
    this.keepLeft = Math.min(this.msgLen, this.max);
    this.prefixLen = 0;
    this.state = 'body';
  }

  /** The kept part of a frame is complete: deliver it, then skip what went past maxFrameBytes. */
  private finishBody(frame: Buffer): void {
    const truncated = this.msgLen > this.max;
    this.remaining -= frame.length;
    this.keepLeft = 0;
    this.msgLen = 0;
    this.state = this.remaining > 0 ? 'skip' : 'len';
    this.deliver(frame, truncated);
  }

  /**
   * Not `1*DIGIT SP` (or more than nine digits, or a zero length): the sender is not doing octet
   * counting, or lost count. The connection falls back to non-transparent framing for good, and
   * the prefix bytes read so far start its next message: a sender whose LF-terminated messages
   * merely begin with a digit (no PRI, a date) loses nothing, and a desynchronised one recovers
   * at the next LF. Trusting the digits instead would swallow the next N bytes of messages.
   */
  private framingError(): void {
    this.counters.framingErrors++;
    const text = Buffer.from(this.prefix.subarray(0, this.prefixLen));
    this.prefixLen = 0;
    this.msgLen = 0;
    this.mode = 'non-transparent';
    this.nonTransparent(text, 0);
  }

  private nonTransparent(chunk: Buffer, at: number): void {
    // Next LF and next NUL in this chunk: -2 = not looked for yet, -1 = none left. Each is
    // searched again only once passed, so a chunk of many messages is scanned in linear time.
    let lf = -2;
    let nul = -2;
    while (at < chunk.length) {
      if (lf !== -1 && lf < at) lf = chunk.indexOf(LF, at);
      if (nul !== -1 && nul < at) nul = chunk.indexOf(NUL, at);
      const end = lf === -1 ? nul : nul === -1 ? lf : Math.min(lf, nul);
      if (this.discarding) {
        if (end === -1) return;
        this.discarding = false;
        at = end + 1;
        continue;
      }
      if (end === -1) {
        if (!this.pending.append(chunk.subarray(at))) this.cutOverlong();
        return;
      }
      const isLf = chunk[end] === LF;
      if (this.pending.length === 0) {
        const frame = chunk.subarray(at, end);
        at = end + 1;
        this.emitText(frame, isLf);
      } else {
        const fits = this.pending.append(chunk.subarray(at, end));
        const frame = this.pending.take();
        at = end + 1;
        this.emitText(frame, isLf, !fits);
      }
    }
  }

  /** More than max + 1 bytes and still no trailer: deliver the first max bytes now, drop the rest up to the trailer. */
  private cutOverlong(): void {
    const frame = this.pending.take();
    this.discarding = true;
    this.deliver(frame.subarray(0, this.max), true);
  }

  /** A non-transparent message: drop the CR of a CRLF, cut to max, skip empty lines (blank lines between messages, NUL then LF). */
  private emitText(frame: Buffer, endedByLf: boolean, overflowed = false): void {
    let f = frame;
    if (endedByLf && !overflowed && f.length > 0 && f[f.length - 1] === CR) f = f.subarray(0, f.length - 1);
    if (f.length === 0) return;
    if (overflowed || f.length > this.max) this.deliver(f.subarray(0, this.max), true);
    else this.deliver(f, false);
  }

  private deliver(frame: Buffer, truncated: boolean): void {
    this.counters.frames++;
    if (truncated) this.counters.truncated++;
    this.onFrame(frame, truncated);
  }
}

/**
 * The bytes of one frame that spans chunks, in one owned buffer. `take()` gives the buffer away
 * (the frame handed to onFrame must not be overwritten by the next one) and starts afresh.
 */
class Accumulator {
  private buf: Buffer | null = null;
  length = 0;

  constructor(private readonly limit: number) {}

  get capacity(): number {
    return this.buf?.length ?? 0;
  }

  /**
   * Copies as much of `part` as fits under the limit; false when some did not fit.
   * `expectedTotal`, when the frame's size is known (octet counting), sizes the buffer exactly.
   */
  append(part: Buffer, expectedTotal?: number): boolean {
    const n = Math.min(part.length, this.limit - this.length);
    const need = this.length + n;
    if (this.buf === null || need > this.buf.length) {
      const wanted = expectedTotal ?? Math.max(256, need * 2);
      const grown = Buffer.allocUnsafe(Math.min(this.limit, Math.max(wanted, need)));
      if (this.buf !== null) this.buf.copy(grown, 0, 0, this.length);
      this.buf = grown;
    }
    part.copy(this.buf, this.length, 0, n);
    this.length = need;
    return n === part.length;
  }

  take(): Buffer {
    const out = this.buf === null ? Buffer.alloc(0) : this.buf.subarray(0, this.length);
    this.clear();
    return out;
  }

  clear(): void {
    this.buf = null;
    this.length = 0;
  }
}
