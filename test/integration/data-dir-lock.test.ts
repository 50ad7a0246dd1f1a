import { afterEach, describe, expect, it } from 'vitest';
import { LogwharfProcess } from '../helpers/logwharf-process.js';
import { removeTempDir, tempDir } from '../helpers/tmp.js';

/**
 * Two `logwharf run` on one data_dir would corrupt each other's buffers and positions: the
 * second refuses to start. A first one killed with SIGKILL leaves its pid file behind, which
 * must not stop the next start.
 */

const running: LogwharfProcess[] = [];
let dir: string | undefined;
afterEach(async () => {
  for (const p of running.splice(0)) await p.kill('SIGTERM');
  if (dir) await removeTempDir(dir);
  dir = undefined;
});

function logwharfOn(d: string): LogwharfProcess {
  const config = LogwharfProcess.writeConfig(
    d,
    `data_dir: ${d}/data\nhttp:\n  listen: 127.0.0.1:0\nsources:\n  docker:\n    enabled: false\n`,
  );
  const p = new LogwharfProcess(config);
  running.push(p);
  return p;
}

describe('one logwharf per data_dir', () => {
  it('refuses a second one, and starts after the first was killed', async () => {
    dir = await tempDir('lw-lock-it-');
    const first = logwharfOn(dir);
    await first.start();
    const second = logwharfOn(dir);
    await expect(second.start()).rejects.toThrow(/in use by another logwharf \(pid \d+/);
    expect(first.running).toBe(true);

    await first.kill('SIGKILL');
    await second.start();
    expect(second.running).toBe(true);
  });
});
