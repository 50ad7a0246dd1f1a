/**
 * End to end over a real socket: one TCP peer sends N octet-counted RFC 5424 messages (built
 * before the clock starts) to logwharf's syslog receiver (assembled in this process, as
 * `logwharf run` does), which parses, transforms and stores them in the embedded store.
 * Prints messages/s until every message is committed, and this process's CPU seconds per
 * million messages (framing + parse + transforms + store; the sender's share is small).
 *
 * Runs twice in one process, with the built-in redaction rules on (the default) and off, so
 * the cost of redaction is a ratio measured on the same machine at the same time.
 *
 *   npm run bench:syslog -- [messages]        (default 500000)
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig } from '../src/config/load.js';
import { startService } from '../src/service.js';
import { openEmbeddedReader } from '../src/sinks/embedded/reader.js';

const count = Number(process.argv[2] ?? 500_000);

/**
 * The messages, stamped with the second the benchmark starts: a sender with a sound clock, so
 * its times stand (transforms.sender_time replaces times more than 7 days old).
 */
function payload(n: number): Buffer {
  const second = new Date().toISOString().slice(0, 19);
  const parts: Buffer[] = [];
  for (let i = 1; i <= n; i++) {
    const msg = Buffer.from(
      `<134>1 ${second}.${String(i % 1_000_000).padStart(6, '0')}Z web-${i % 7} nginx ${1000 + (i % 50)} ACCESS ` +
        `[req@32473 id="${i}"] request ${i} served in ${i % 900} ms for user-${i % 1000} path=/api/items/${i % 5000}`,
    );
    parts.push(Buffer.from(`${msg.length} `), msg);
  }
  return Buffer.concat(parts);
}

async function run(label: string, redact: boolean, data: Buffer): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'lw-bench-syslog-'));
  const file = join(dir, 'logwharf.yaml');
  await writeFile(
    file,
    `data_dir: ${dir}/data\nhttp:\n  listen: null\nsources:\n  docker:\n    enabled: false\n  syslog:\n    enabled: true\n    udp: null\n    tcp: 127.0.0.1:0\ntransforms:\n  redact:\n    builtin: ${redact}\n`,
  );
  const service = await startService(loadConfig({ file, env: {} }), pino({ level: 'warn' }));
  const port = Number(service.syslogAddresses.tcp!.split(':').pop());
  const reader = await openEmbeddedReader({ dataDir: join(dir, 'data') });

  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const socket = net.connect(port, '127.0.0.1');
  await new Promise((r) => socket.once('connect', r));
  for (let at = 0; at < data.length; at += 1 << 20) {
    if (!socket.write(data.subarray(at, at + (1 << 20)))) await new Promise((r) => socket.once('drain', r));
  }
  socket.end();
  let stored = 0;
  while (stored < count) {
    await new Promise((r) => setTimeout(r, 100));
    stored = reader.countAll();
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  console.log(
    JSON.stringify({
      run: label,
      messages: count,
      seconds: Number(seconds.toFixed(2)),
      messages_per_second: Math.round(count / seconds),
      cpu_seconds_per_million: Number(((cpuSeconds * 1e6) / count).toFixed(2)),
    }),
  );
  await service.stop();
  await reader.close();
  await rm(dir, { recursive: true, force: true });
}

const data = payload(count);
await run('redaction on (default)', true, data);
await run('redaction off', false, data);
