/**
 * End to end: a container prints N numbered lines as fast as it can (busybox `seq`), logwharf
 * (assembled in this process, as `logwharf run` does) follows it through the real engine into
 * the embedded store. Prints lines/s until every line is committed, and this process's CPU
 * seconds per million lines (decode + transform + store).
 *
 *   npm run bench:ingest -- [lines] [--plain] [--buffer=disk|disk-nofsync|memory]
 *   (default 1000000 lines, --buffer=disk; needs a Docker engine: npm run services)
 *
 * `--buffer` picks the store's buffer: the default disk buffer (fsync always), the disk buffer
 * with `fsync: never`, or none (`kind: memory`), to measure what the disk buffer costs.
 * `--plain` turns multiline joining and the built-in redaction off, to measure what they cost
 * (run both in a row: these machines are shared and noisy, compare ratios of one session).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig } from '../src/config/load.js';
import { startService } from '../src/service.js';
import { openEmbeddedReader } from '../src/sinks/embedded/reader.js';
import { dockerClient, ensureTestImage } from '../test/helpers/docker.js';

const lines = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 1_000_000);
const plain = process.argv.includes('--plain');
const bufferArg = process.argv.find((a) => a.startsWith('--buffer='))?.slice('--buffer='.length) ?? 'disk';
const BUFFERS: Record<string, string> = {
  disk: '',
  'disk-nofsync': 'store:\n  buffer:\n    fsync: never\n',
  memory: 'store:\n  buffer:\n    kind: memory\n',
};
if (!(bufferArg in BUFFERS))
  throw new Error(`--buffer=${bufferArg}: expected one of ${Object.keys(BUFFERS).join(', ')}`);
const image = await ensureTestImage();
const docker = dockerClient();
const dir = await mkdtemp(join(tmpdir(), 'lw-bench-'));
const file = join(dir, 'logwharf.yaml');
await writeFile(
  file,
  `data_dir: ${dir}/data\nhttp:\n  listen: null\nsources:\n  docker:\n    project: lwbench\n` +
    (plain ? 'transforms:\n  multiline:\n    enabled: false\n  redact:\n    builtin: false\n' : '') +
    BUFFERS[bufferArg],
);
const service = await startService(loadConfig({ file, env: {} }), pino({ level: 'warn' }));
const reader = await openEmbeddedReader({ dataDir: join(dir, 'data') });

const cpu0 = process.cpuUsage();
const t0 = performance.now();
const container = await docker.createContainer({
  Image: image,
  Cmd: ['sh', '-c', `seq 1 ${lines} | sed 's/^/bench line number /'`],
  Labels: { 'com.docker.compose.project': 'lwbench', 'com.docker.compose.service': 'bench' },
});
await container.start();
let stored = 0;
while (stored < lines) {
  await new Promise((r) => setTimeout(r, 100));
  stored = reader.countAll();
}
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
console.log(
  JSON.stringify({
    lines,
    transforms: plain ? 'plain (no multiline, no redaction)' : 'default',
    buffer: bufferArg,
    seconds: Number(seconds.toFixed(2)),
    lines_per_second: Math.round(lines / seconds),
    cpu_seconds_per_million: Number(((cpuSeconds * 1e6) / lines).toFixed(2)),
  }),
);
await service.stop();
await reader.close();
await container.remove({ force: true });
await rm(dir, { recursive: true, force: true });
