import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { readHolder } from '../../src/checkpoint/data-dir-lock.js';
import { BIN, LogwharfProcess } from '../helpers/logwharf-process.js';
import { waitFor } from '../helpers/poll.js';
import { sendWithLogger, writeSyslogRunConfig } from '../helpers/syslog-run.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * Two `logwharf run` on one data_dir would corrupt each other's buffers and positions, so the
 * second refuses to start. Here each runs as pid 1 of its own PID namespace, as two containers
 * sharing a volume do: a pid file cannot tell them apart, the kernel's lock can. A first one
 * killed with SIGKILL frees the data_dir for the next start; `logwharf query` reads meanwhile.
 *
 * Needs `unshare` (util-linux) and the right to create PID namespaces (root, CAP_SYS_ADMIN).
 * Without them this file fails under CI=true, naming what to provide, and is skipped (with the
 * reason printed) elsewhere.
 */

const exec = promisify(execFile);
const CI = process.env.CI === 'true';
const REMEDY =
  'run the tests as root (CAP_SYS_ADMIN) with unshare from util-linux installed (Debian: apt-get install util-linux)';
/** Each logwharf as pid 1 of a new PID namespace; the shell says its pid, then becomes logwharf. */
const NAMESPACED = [
  'unshare',
  '--pid',
  '--fork',
  '--mount-proc',
  // unshare ignores SIGTERM; when it is killed, the kernel kills what runs inside too.
  '--kill-child=SIGKILL',
  'sh',
  '-c',
  'echo "namespace pid $$"; exec "$@"',
  'sh',
];

function pidNamespaces(): { ok: true } | { ok: false; reason: string } {
  try {
    const out = execFileSync('unshare', ['--pid', '--fork', '--mount-proc', 'sh', '-c', 'echo $$'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (out.trim() === '1') return { ok: true };
    return { ok: false, reason: `unshare --pid --fork gave a shell pid ${out.trim()}, not 1` };
  } catch (err) {
    const e = err as { code?: string; stderr?: string; message: string };
    return {
      ok: false,
      reason: `cannot create a PID namespace with unshare: ${e.code === 'ENOENT' ? 'unshare not found' : (e.stderr?.trim() ?? e.message)}`,
    };
  }
}

const support = pidNamespaces();
const cannot = support.ok ? '' : `${support.reason} — ${REMEDY}`;
if (cannot) console.warn(`[data_dir lock] PID namespaces: ${CI ? 'FAILS (CI)' : 'SKIPPED'}: ${cannot}`);

const running: LogwharfProcess[] = [];
afterEach(async () => {
  // SIGKILL: unshare ignores SIGTERM, and the kernel kills its namespace with it.
  for (const p of running.splice(0)) await p.kill('SIGKILL');
});

function namespacedLogwharfOn(dir: string): LogwharfProcess {
  const config = writeSyslogRunConfig(dir);
  const p = new LogwharfProcess(config, {}, { wrap: NAMESPACED });
  running.push(p);
  return p;
}

/** The logwharf process inside the namespace (unshare's child) and its pids: [host's, namespace's]. */
function innerProcess(p: LogwharfProcess): { pid: number; nspids: number[]; cmdline: string } {
  const unshare = p.pid!;
  const pid = Number(
    readFileSync(`/proc/${unshare}/task/${unshare}/children`, 'utf8').trim().split(/\s+/)[0],
  );
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const nspids = status
    .match(/^NSpid:\s+(.*)$/m)![1]!
    .trim()
    .split(/\s+/)
    .map(Number);
  const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  return { pid, nspids, cmdline };
}

async function query(configFile: string, q: string) {
  return exec(process.execPath, [BIN, 'query', q, '--config', configFile, '--json']).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({
      code: e.code,
      stdout: e.stdout,
      stderr: e.stderr,
    }),
  );
}

if (cannot && CI) {
  describe('one logwharf per data_dir, across PID namespaces', () => {
    it('needs PID namespaces', () => {
      throw new Error(cannot);
    });
  });
} else {
  describe.skipIf(!support.ok)(
    `one logwharf per data_dir, across PID namespaces${support.ok ? '' : ` — skipped: ${cannot}`}`,
    () => {
      it('refuses a second pid 1 on the same data_dir, lets query read, and starts after the first was killed', async () => {
        const dir = await tempDir('lw-lock-ns-');
        const first = namespacedLogwharfOn(dir);
        await first.start();
        const inner = innerProcess(first);
        // Really pid 1 in its own namespace, and really logwharf.
        expect(inner.nspids).toEqual([inner.pid, 1]);
        expect(inner.cmdline).toContain(`${BIN} run`);
        expect(first.output).toContain('namespace pid 1');
        expect(await readHolder(`${dir}/data`)).toMatchObject({ pid: 1 });

        const second = namespacedLogwharfOn(dir);
        await expect(second.start()).rejects.toThrow(
          `${dir}/data is in use by another logwharf run (pid 1 on host `,
        );
        expect(second.output).toContain('namespace pid 1');
        const refusal = second.output.find((l) => l.includes('[LOGWHARF_ERR_STORE]'));
        expect(refusal).toMatch(/Stop that one, or give this one its own data_dir/);
        expect(first.running).toBe(true);

        // `logwharf query` reads the store while `run` holds the data_dir.
        await sendWithLogger(first, 'lockcheck', 'heldreadable');
        await waitFor(
          async () => {
            const r = await query(first.configFile, 'heldreadable');
            if (r.code !== 0) throw new Error(`logwharf query exited ${r.code}: ${r.stderr}`);
            return r.stdout.includes('heldreadable');
          },
          { timeoutMs: 30_000, what: 'logwharf query to find the line while run holds the lock' },
        );

        // SIGKILL to logwharf itself (not to unshare): nothing of it runs a release.
        process.kill(inner.pid, 'SIGKILL');
        await first.waitForExit();
        await second.start();
        expect(second.running).toBe(true);
        expect(innerProcess(second).nspids).toEqual([expect.any(Number), 1]);
        expect(await readHolder(`${dir}/data`)).toMatchObject({ pid: 1 });
      });
    },
  );
}
