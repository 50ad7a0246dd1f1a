/**
 * Throughput of the Docker log decoder on a multiplexed stream held in memory.
 *
 *   npx tsx bench/docker-frames.bench.ts [lines] [chunkBytes]
 *
 * Builds `lines` frames (default 1,000,000) of ~100-byte lines with timestamps, alternating
 * stdout and stderr now and then, and pushes them in chunks of `chunkBytes` (default 64 KiB,
 * what a Node socket hands over) through DockerLogDecoder. Prints the best of a few runs; the
 * engine serves up to ~140k lines/s to one follower, which is the number to beat by far.
 */

import { DockerLogDecoder } from '../src/sources/docker/frames.js';

const LINES = Number(process.argv[2] ?? 1_000_000);
const CHUNK = Number(process.argv[3] ?? 64 * 1024);
const RUNS = 5;

function build(lines: number): Buffer {
  const parts: Buffer[] = [];
  const base = Date.UTC(2024, 4, 1, 12, 0, 0);
  for (let i = 0; i < lines; i++) {
    const ms = base + Math.floor(i / 10);
    const ts = `${new Date(ms).toISOString().slice(0, 23)}${String(i % 1_000_000).padStart(6, '0')}Z`;
    const text = `level=info msg="request handled" method=GET path=/api/v1/items/${i} status=200 took=${i % 97}ms`;
    const payload = Buffer.from(`${ts} ${text.padEnd(100, '.').slice(0, 100)}\n`);
    const header = Buffer.alloc(8);
    header[0] = i % 16 === 0 ? 2 : 1;
    header.writeUInt32BE(payload.length, 4);
    parts.push(header, payload);
  }
  return Buffer.concat(parts);
}

const data = build(LINES);
const chunks: Buffer[] = [];
for (let i = 0; i < data.length; i += CHUNK) chunks.push(data.subarray(i, i + CHUNK));

let best = Number.POSITIVE_INFINITY;
let count = 0;
let textBytes = 0;
for (let run = 0; run < RUNS; run++) {
  count = 0;
  textBytes = 0;
  const decoder = new DockerLogDecoder({
    tty: false,
    maxLineBytes: 256 * 1024,
    onLine: (_stream, _ts, text) => {
      count++;
      textBytes += text.length;
    },
  });
  const t0 = process.hrtime.bigint();
  for (const c of chunks) decoder.push(c);
  decoder.end();
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (s < best) best = s;
}

if (count !== LINES) throw new Error(`decoded ${count} lines, expected ${LINES}`);
const mb = data.length / (1024 * 1024);
console.log(
  `docker-frames: ${count.toLocaleString('en-US')} lines, ${mb.toFixed(1)} MiB in ${CHUNK}-byte chunks: ` +
    `${(best * 1000).toFixed(0)} ms, ${Math.round(count / best).toLocaleString('en-US')} lines/s, ` +
    `${(mb / best).toFixed(0)} MiB/s (best of ${RUNS}; ${textBytes} text chars)`,
);
