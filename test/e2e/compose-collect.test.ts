import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tally } from '../helpers/api-client.js';
import { ComposeProject } from '../helpers/compose.js';
import { ensureTestImage } from '../helpers/docker.js';
import { BIN, LogwharfProcess } from '../helpers/logwharf-process.js';
import { waitFor } from '../helpers/poll.js';
import { tempDir } from '../helpers/tmp.js';

const run = promisify(execFile);
const COUNT = 3000;
const BIG = 40 * 1024;
const CANONICAL_TS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/;

/**
 * The walking skeleton end to end: a real compose project on the real engine, `logwharf run`
 * as a process, every line found through the HTTP API and `logwharf query`, and a SIGKILL in
 * the middle of the numbered lines that neither loses nor doubles one of them.
 */
describe('collecting a compose project', () => {
  let project: ComposeProject;
  let lw: LogwharfProcess;
  let configFile: string;

  beforeAll(async () => {
    const image = await ensureTestImage();
    const dir = await tempDir('lw-e2e-');
    project = await ComposeProject.create(
      'e2e',
      `
version: "2.4"
services:
  counter:
    image: ${image}
    command: ["sh", "-c", "i=1; while [ $$i -le ${COUNT} ]; do echo \\"counter seq=$$i\\"; if [ $$((i % 50)) -eq 0 ]; then sleep 0.1; fi; i=$$((i+1)); done; sleep 3600"]
  worker:
    image: ${image}
    command: ["sh", "-c", "echo \\"worker out $$HOSTNAME\\"; echo \\"worker err $$HOSTNAME\\" >&2; echo '{\\"level\\":\\"warn\\",\\"msg\\":\\"json hello\\",\\"user\\":\\"ann\\",\\"n\\":5}'; sleep 3600"]
  tty:
    image: ${image}
    tty: true
    command: ["sh", "-c", "echo tty line one; echo tty line two; sleep 3600"]
  big:
    image: ${image}
    command: ["sh", "-c", "printf BIG-START; head -c ${BIG} /dev/zero | tr '\\\\0' x; echo BIG-END; sleep 3600"]
`,
    );
    configFile = LogwharfProcess.writeConfig(
      dir,
      `data_dir: ${dir}/data
http:
  listen: 127.0.0.1:0
sources:
  docker:
    project: ${project.name}
pipeline:
  flush_interval: 50ms
`,
    );
    lw = new LogwharfProcess(configFile);
    await lw.start();
    // Started after logwharf: discovery must attach each container within a second and read
    // from the container's start, so the first lines are there too.
    await project.up(['--scale', 'worker=2']);
  }, 240_000);

  afterAll(async () => {
    await lw?.kill('SIGTERM');
    await project?.down();
  });

  it('survives SIGKILL in the middle of the numbered lines: each stored exactly once', async () => {
    await waitFor(
      async () => (await lw.api.search({ q: 'service:counter', limit: '400' })).events.length >= 300,
      {
        timeoutMs: 60_000,
        what: 'the first 300 counter lines to be stored',
      },
    );
    const before = (await lw.api.search({ q: 'service:counter', limit: '1' })).events[0]?.message as string;
    expect(Number(before.split('=')[1])).toBeLessThan(COUNT);
    expect(await lw.kill('SIGKILL')).toBeNull();

    lw = new LogwharfProcess(configFile);
    await lw.start();
    const events = await lw.api.waitForEvents('service:counter', COUNT, 120_000);
    expect({ ...tally(events, 'counter seq=', COUNT), total: events.length }).toEqual({
      missing: [],
      doubled: [],
      total: COUNT,
    });
    const first = events[0]!;
    expect(first).toMatchObject({
      message: 'counter seq=1',
      stream: 'stdout',
      log: { level: 'info', syslog: { severity: { code: 6 } } },
      event: { dataset: 'docker' },
      service: { name: 'counter' },
      compose: { project: project.name, service: 'counter', container_number: 1 },
      container: { image: { name: expect.stringContaining('logwharf-test/busybox') } },
    });
    expect(first['@timestamp']).toMatch(CANONICAL_TS);
    expect(first.host.name).toEqual(expect.any(String));
    expect(first.container.id).toMatch(/^[0-9a-f]{64}$/);
    expect(first.container.labels['com.docker.compose.service']).toBe('counter');
    // Timestamps are Docker's, in order, and ids are unique.
    const timestamps = events.map((e) => e['@timestamp'] as string);
    expect([...timestamps].sort()).toEqual(timestamps);
    expect(new Set(events.map((e) => e.event.id)).size).toBe(COUNT);
  }, 300_000);

  it('tags stdout as info, stderr as err, and a JSON line by its own level, for both scaled workers', async () => {
    const events = await lw.api.waitForEvents('service:worker', 6, 60_000);
    expect(events).toHaveLength(6);
    const numbers = new Set(events.map((e) => e.compose.container_number));
    expect(numbers).toEqual(new Set([1, 2]));
    for (const n of [1, 2]) {
      const mine = events.filter((e) => e.compose.container_number === n);
      const out = mine.find((e) => String(e.message).startsWith('worker out'));
      const err = mine.find((e) => String(e.message).startsWith('worker err'));
      const json = mine.find((e) => e.message === 'json hello');
      expect(out).toMatchObject({ stream: 'stdout', log: { level: 'info' } });
      expect(err).toMatchObject({
        stream: 'stderr',
        log: { level: 'err', syslog: { severity: { code: 3 } } },
      });
      expect(json).toMatchObject({
        stream: 'stdout',
        log: { level: 'warning' },
        fields: { user: 'ann', n: 5 },
      });
      expect(json?.event.original).toContain('"msg":"json hello"');
    }
    const errors = await lw.api.searchAll('service:worker level>=err');
    expect(errors.map((e) => e.stream)).toEqual(['stderr', 'stderr']);
  });

  it('reads a TTY container without carriage returns', async () => {
    const events = await lw.api.waitForEvents('service:tty', 2, 60_000);
    expect(events.map((e) => e.message)).toEqual(['tty line one', 'tty line two']);
    expect(events[0]).toMatchObject({ stream: 'stdout', compose: { service: 'tty' } });
  });

  it('joins a 40 KiB line that Docker cut into 16 KiB frames into one event', async () => {
    const events = await lw.api.waitForEvents('service:big', 1, 60_000);
    expect(events).toHaveLength(1);
    const message = events[0]!.message as string;
    expect(message.length).toBe('BIG-START'.length + BIG + 'BIG-END'.length);
    expect(message.startsWith('BIG-STARTxxx')).toBe(true);
    expect(message.endsWith('xxxBIG-END')).toBe(true);
    expect(events[0]!.log.flags).toBeUndefined();
  });

  it('finds the same events through `logwharf query`', async () => {
    const { stdout } = await run(process.execPath, [
      BIN,
      'query',
      'service:worker',
      '--json',
      '--config',
      configFile,
    ]);
    const lines = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(6);
    expect(lines.filter((e) => e.message === 'json hello')).toHaveLength(2);
    expect(lines.every((e) => e.compose.project === project.name)).toBe(true);

    const plain = await run(process.execPath, [
      BIN,
      'query',
      'service:counter "seq=42"',
      '--config',
      configFile,
    ]);
    const printed = plain.stdout.trim().split('\n');
    expect(printed).toHaveLength(1);
    expect(printed[0]).toMatch(/counter.*\| \d{4}-\d\d-\d\dT[\d:.]+Z counter seq=42$/);

    const bad = await run(process.execPath, [BIN, 'query', 'service:(', '--config', configFile]).catch(
      (e) => e,
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('^');
  });

  it('stops cleanly on SIGTERM, saving its positions', async () => {
    expect(await lw.kill('SIGTERM')).toBe(0);
    expect(lw.output.some((l) => l.includes('"msg":"stopped"'))).toBe(true);
  });
});
