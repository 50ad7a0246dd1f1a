import { readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EcsDoc } from '../helpers/api-client.js';
import { ComposeProject } from '../helpers/compose.js';
import { dockerClient, ensureTestImage } from '../helpers/docker.js';
import { LogwharfProcess } from '../helpers/logwharf-process.js';
import { waitFor } from '../helpers/poll.js';
import { freePort } from '../helpers/rsyslog.js';
import { removeTempDir, tempDir } from '../helpers/tmp.js';

/**
 * The daemon's signals, on `logwharf run` as a real process against the real engine:
 * SIGTERM stops cleanly within shutdown_timeout and resumes where it stopped; SIGHUP reloads
 * the configuration without losing or doubling a line, rejects a bad one, and names what
 * waits for a restart.
 */

/** Lines `<word> ... n=<n> ...` by n; fails on a line without n. */
function byNumber(events: EcsDoc[]): Map<number, EcsDoc[]> {
  const out = new Map<number, EcsDoc[]>();
  for (const e of events) {
    const m = / n=(\d+)\b/.exec(String(e.message));
    if (!m) throw new Error(`no n= in ${JSON.stringify(e.message)}`);
    const n = Number(m[1]);
    out.set(n, [...(out.get(n) ?? []), e]);
  }
  return out;
}

/** Which of 1..count are missing or stored more than once. */
function tallyNumbers(events: EcsDoc[], count: number): { missing: number[]; doubled: number[] } {
  const seen = byNumber(events);
  const missing: number[] = [];
  const doubled: number[] = [];
  for (let n = 1; n <= count; n++) {
    const times = seen.get(n)?.length ?? 0;
    if (times === 0) missing.push(n);
    if (times > 1) doubled.push(n);
  }
  return { missing, doubled };
}

function maxNumber(events: EcsDoc[]): number {
  return Math.max(0, ...byNumber(events).keys());
}

/** Log lines of the process whose message starts with `msg`. */
function logged(lw: LogwharfProcess, msg: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of lw.output) {
    if (!line.includes(`"msg":"${msg}`)) continue;
    try {
      out.push(JSON.parse(line));
    } catch {
      // not a JSON log line
    }
  }
  return out;
}

/** Writes the config, sends SIGHUP, and waits for the reload's outcome line (any of them). */
async function reload(lw: LogwharfProcess, yaml: string): Promise<Record<string, unknown>> {
  const before = logged(lw, 'configuration reload').length;
  await writeFile(lw.configFile, yaml);
  lw.signal('SIGHUP');
  return waitFor(() => logged(lw, 'configuration reload')[before], {
    timeoutMs: 30_000,
    what: `the reload's outcome in logwharf's log\n${lw.tail()}`,
  });
}

/** Runs a shell script in a running container: `> /proc/1/fd/1` writes to the container's log. */
async function execIn(containerId: string, script: string): Promise<void> {
  const exec = await dockerClient()
    .getContainer(containerId)
    .exec({ Cmd: ['sh', '-c', script], AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({});
  await new Promise<void>((resolve, reject) => {
    stream.on('end', () => resolve());
    stream.on('close', () => resolve());
    stream.on('error', reject);
    stream.resume();
  });
  const { ExitCode } = await exec.inspect();
  if (ExitCode !== 0) throw new Error(`exec in ${containerId.slice(0, 12)} exited ${ExitCode}: ${script}`);
}

describe('SIGTERM', () => {
  const COUNT = 3000;
  let project: ComposeProject;
  let dir: string;
  let lw: LogwharfProcess;

  beforeAll(async () => {
    const image = await ensureTestImage();
    dir = await tempDir('lw-sigterm-');
    project = await ComposeProject.create(
      'sigterm',
      `
version: "2.4"
services:
  counter:
    image: ${image}
    command: ["sh", "-c", "i=1; while [ $$i -le ${COUNT} ]; do echo \\"counter n=$$i\\"; if [ $$((i % 50)) -eq 0 ]; then sleep 0.1; fi; i=$$((i+1)); done; sleep 3600"]
`,
    );
    const configFile = LogwharfProcess.writeConfig(
      dir,
      `data_dir: ${dir}/data
shutdown_timeout: 10s
http: { listen: 127.0.0.1:0 }
sources: { docker: { project: ${project.name} } }
pipeline: { flush_interval: 50ms }
`,
    );
    lw = new LogwharfProcess(configFile, { LOGWHARF_LOG_LEVEL: 'info' });
    await lw.start();
    await project.up();
  }, 240_000);

  afterAll(async () => {
    await lw?.kill('SIGKILL');
    await project?.down();
    if (dir) await removeTempDir(dir);
  });

  it('stops cleanly while a container prints: exit 0 within shutdown_timeout, positions saved, every line once after a restart', async () => {
    const storedBefore = await waitFor(
      async () => {
        const n = (await lw.api.searchAll('service:counter')).length;
        return n >= 300 && n < COUNT ? n : null;
      },
      { timeoutMs: 60_000, what: 'the first 300 counter lines to be stored, while it still prints' },
    );
    const sentAt = Date.now();
    lw.signal('SIGTERM');
    expect(await lw.waitForExit(15_000)).toBe(0);
    expect(Date.now() - sentAt).toBeLessThan(10_000);
    expect(logged(lw, 'stopped')).toHaveLength(1);

    const [counter] = await project.containers('counter');
    const saved = JSON.parse(await readFile(join(dir, 'data', 'positions.json'), 'utf8'));
    const position = saved.positions[counter!.Id];
    expect(position?.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);

    await lw.start();
    const events = await lw.api.waitForEvents('service:counter', COUNT, 120_000);
    expect({ ...tallyNumbers(events, COUNT), total: events.length }).toEqual({
      missing: [],
      doubled: [],
      total: COUNT,
    });
    // The saved position is a line that was read, and the restart went on from there rather
    // than from the container's first line (it re-reads only the quarter-second margin).
    expect(events.some((e) => e['@timestamp'] === position.timestamp)).toBe(true);
    const status = (await lw.api.sources()).find((s) => s.id === counter!.Id);
    expect(status?.lines_read).toBeLessThan(COUNT - 100);
    expect(storedBefore).toBeGreaterThanOrEqual(300);
  }, 300_000);
});

describe('SIGHUP: parsing rules and the Docker source', () => {
  let project: ComposeProject;
  let dir: string;
  let lw: LogwharfProcess;
  const ids: Record<string, string> = {};

  /** The config of these tests: one redaction rule named after the word it redacts. */
  const config = (opts: { redact: string; exclude: string; more?: string }) =>
    `data_dir: ${dir}/data
http: { listen: 127.0.0.1:0 }
sources:
  docker:
    project: ${project.name}
    exclude: { services: [${opts.exclude}] }
pipeline: { flush_interval: 50ms }
transforms:
  redact:
    builtin: false
    rules: [ { name: ${opts.redact}, pattern: "${opts.redact}-[0-9]+" } ]
${opts.more ?? ''}`;

  /** `count` lines `gated p=<phase> n=<i> alpha-<i> beta-<i> gamma-<i>` in the gated container. */
  const emit = (phase: number, count = 100) =>
    execIn(
      ids.gated!,
      `i=1; while [ $i -le ${count} ]; do echo "gated p=${phase} n=$i alpha-$i beta-$i gamma-$i" > /proc/1/fd/1; i=$((i+1)); done`,
    );

  /** The stored lines of one phase, after all `count` arrived; every n exactly once. */
  const phase = async (p: number, count = 100): Promise<string[]> => {
    const mine = await waitFor(
      async () => {
        const all = await lw.api.searchAll('service:gated');
        const found = all.filter((e) => String(e.message).startsWith(`gated p=${p} `));
        return found.length >= count ? found : null;
      },
      { timeoutMs: 60_000, what: `${count} gated lines of phase ${p}` },
    );
    expect(tallyNumbers(mine, count)).toEqual({ missing: [], doubled: [] });
    expect(mine).toHaveLength(count);
    return [...byNumber(mine).entries()].sort(([a], [b]) => a - b).map(([, [e]]) => String(e!.message));
  };

  beforeAll(async () => {
    const image = await ensureTestImage();
    dir = await tempDir('lw-sighup-');
    project = await ComposeProject.create(
      'sighup',
      `
version: "2.4"
services:
  steady:
    image: ${image}
    command: ["sh", "-c", "i=1; while true; do echo \\"steady n=$$i alpha-$$i beta-$$i gamma-$$i\\"; i=$$((i+1)); sleep 0.05; done"]
  gated:
    image: ${image}
    command: ["sleep", "3600"]
  drop:
    image: ${image}
    command: ["sh", "-c", "i=1; while true; do echo \\"drop n=$$i\\"; i=$$((i+1)); sleep 0.05; done"]
  extra:
    image: ${image}
    command: ["sh", "-c", "i=1; while [ $$i -le 50 ]; do echo \\"extra n=$$i\\"; i=$$((i+1)); done; sleep 3600"]
`,
    );
    await project.up();
    for (const c of await project.containers()) ids[c.Labels['com.docker.compose.service']!] = c.Id;
    const configFile = LogwharfProcess.writeConfig(dir, config({ redact: 'alpha', exclude: 'extra' }));
    lw = new LogwharfProcess(configFile, { LOGWHARF_LOG_LEVEL: 'info' });
    await lw.start();
    await lw.api.waitForEvents('service:steady', 20, 60_000);
  }, 240_000);

  afterAll(async () => {
    await lw?.kill('SIGKILL');
    await project?.down();
    if (dir) await removeTempDir(dir);
  });

  it('a changed redaction rule applies to the lines after the reload; none is lost or doubled', async () => {
    await emit(1);
    for (const m of await phase(1))
      expect(m).toMatch(/^gated p=1 n=\d+ \[REDACTED:alpha\] beta-\d+ gamma-\d+$/);

    const outcome = await reload(lw, config({ redact: 'beta', exclude: 'extra' }));
    expect(outcome).toMatchObject({
      msg: 'configuration reloaded',
      applied: ['transforms'],
      restart_needed: [],
    });
    await emit(2);
    for (const m of await phase(2))
      expect(m).toMatch(/^gated p=2 n=\d+ alpha-\d+ \[REDACTED:beta\] gamma-\d+$/);
    // The lines before stay as they were stored.
    for (const m of await phase(1)) expect(m).toContain('[REDACTED:alpha]');

    // The steady container printed throughout: one switch from the old rule to the new one.
    const steadyNow = maxNumber(await lw.api.searchAll('service:steady'));
    const steady = await lw.api.waitForEvents('service:steady', steadyNow + 20, 60_000);
    const rules = [...byNumber(steady).entries()]
      .sort(([a], [b]) => a - b)
      .map(([, [e]]) => (String(e!.message).includes('[REDACTED:alpha]') ? 'alpha' : 'beta'));
    const switchAt = rules.indexOf('beta');
    expect(switchAt).toBeGreaterThan(0);
    expect(rules.slice(switchAt).every((r) => r === 'beta')).toBe(true);
  }, 180_000);

  it('rejects a broken configuration (YAML syntax, then schema), naming the line and key; the old one stays', async () => {
    const good = config({ redact: 'beta', exclude: 'extra' });
    const syntax = good.replace('pipeline: { flush_interval: 50ms }', 'pipeline: { flush_interval: 50ms');
    const rejected = await reload(lw, syntax);
    expect(rejected.msg).toMatch(
      /^configuration reload rejected \(\d+ problems?\): the configuration in force stays/,
    );
    expect((rejected.problems as string[]).join('\n')).toMatch(/logwharf\.yaml:\d+:\d+: /);
    await emit(3);
    for (const m of await phase(3)) expect(m).toContain('[REDACTED:beta]');

    const schema = good.replace(
      '    exclude: { services: [extra] }',
      '    exclude: { services: [extra] }\n    max_line_bytes: lots',
    );
    const line = schema.split('\n').findIndex((l) => l.includes('max_line_bytes')) + 1;
    const rejected2 = await reload(lw, schema);
    expect(rejected2.problems).toEqual([
      expect.stringMatching(new RegExp(`logwharf\\.yaml:${line}:\\d+: sources\\.docker\\.max_line_bytes: `)),
    ]);
    await emit(4);
    for (const m of await phase(4)) expect(m).toContain('[REDACTED:beta]');
    // Still following what it followed: extra stays excluded.
    expect((await lw.api.searchAll('service:extra')).length).toBe(0);
  }, 180_000);

  it('a changed store.kind waits for a restart (a warning says so); the rest of the reload applies', async () => {
    const outcome = await reload(
      lw,
      config({
        redact: 'gamma',
        exclude: 'extra',
        more: 'store: { kind: elasticsearch, elasticsearch: { nodes: ["http://127.0.0.1:9"] } }\n',
      }),
    );
    expect(outcome).toMatchObject({
      msg: 'configuration reloaded',
      applied: ['transforms'],
      restart_needed: ['store.kind', 'store.elasticsearch'],
    });
    expect(logged(lw, 'store.kind changed: takes effect at the next restart')).toHaveLength(1);
    expect(logged(lw, 'store.elasticsearch changed: takes effect at the next restart')).toHaveLength(1);
    // Still the embedded store, now with the gamma rule.
    await emit(5);
    for (const m of await phase(5))
      expect(m).toMatch(/^gated p=5 n=\d+ alpha-\d+ beta-\d+ \[REDACTED:gamma\]$/);
  }, 180_000);

  it('a new exclude rule drops one service and lets another in; the untouched ones lose and double nothing', async () => {
    const dropBefore = (await lw.api.searchAll('service:drop')).length;
    expect(dropBefore).toBeGreaterThan(0);
    const outcome = await reload(lw, config({ redact: 'gamma', exclude: 'drop' }));
    expect(outcome).toMatchObject({ msg: 'configuration reloaded', applied: ['sources.docker'] });

    // extra is followed from its first line, drop no longer.
    const extra = await lw.api.waitForEvents('service:extra', 50, 60_000);
    expect({ ...tallyNumbers(extra, 50), total: extra.length }).toEqual({
      missing: [],
      doubled: [],
      total: 50,
    });
    const followed = await waitFor(
      async () => {
        const names = (await lw.api.sources()).map((s) => s.compose?.service).sort();
        return names.includes('extra') && !names.includes('drop') ? names : null;
      },
      { timeoutMs: 30_000, what: 'extra followed and drop no longer' },
    );
    expect(followed).toEqual(['extra', 'gated', 'steady']);

    // Once lines the steady container printed well after the reload are stored, drop has
    // stopped for good: what it has is a prefix, each line once, and it does not grow.
    const dropStopped = await lw.api.searchAll('service:drop');
    const steadyNow = maxNumber(await lw.api.searchAll('service:steady'));
    await lw.api.waitForEvents('service:steady', steadyNow + 40, 60_000);
    const dropLater = await lw.api.searchAll('service:drop');
    expect(dropLater.length).toBe(dropStopped.length);
    expect(tallyNumbers(dropLater, maxNumber(dropLater))).toEqual({ missing: [], doubled: [] });
    // Its position stays saved, for when it is followed again.
    const saved = JSON.parse(await readFile(join(dir, 'data', 'positions.json'), 'utf8'));
    expect(saved.positions[ids.drop!]).toBeDefined();

    // The gated and steady containers went on untouched through every reload of this file.
    await emit(6);
    await phase(6);
    const steady = await lw.api.searchAll('service:steady');
    expect(tallyNumbers(steady, maxNumber(steady))).toEqual({ missing: [], doubled: [] });
  }, 180_000);
});

describe('SIGHUP: the syslog receiver', () => {
  let dir: string;
  let lw: LogwharfProcess;
  const held: net.Server[] = [];
  const sockets: net.Socket[] = [];

  const config = (syslog: string) =>
    `data_dir: ${dir}/data
http: { listen: 127.0.0.1:0 }
sources:
  docker: { enabled: false }
  syslog: ${syslog}
pipeline: { flush_interval: 50ms }
`;

  /** Opens a TCP connection to a syslog listener. */
  const connect = (port: number) =>
    new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(s));
      s.once('error', reject);
      sockets.push(s);
    });
  const line = (n: number) => `<14>1 2024-05-01T12:00:00.000Z host mover - - - mover n=${n}\n`;
  const refused = (port: number) =>
    waitFor(
      () =>
        connect(port).then(
          (s) => {
            s.destroy();
            return false;
          },
          (err: NodeJS.ErrnoException) => err.code === 'ECONNREFUSED',
        ),
      { timeoutMs: 10_000, what: `port ${port} to refuse connections` },
    );

  beforeAll(async () => {
    dir = await tempDir('lw-sighup-syslog-');
    const configFile = LogwharfProcess.writeConfig(dir, config('{ enabled: false }'));
    lw = new LogwharfProcess(configFile, { LOGWHARF_LOG_LEVEL: 'info' });
    await lw.start();
  }, 120_000);

  afterAll(async () => {
    for (const s of sockets) s.destroy();
    for (const s of held) s.close();
    await lw?.kill('SIGKILL');
    if (dir) await removeTempDir(dir);
  });

  it('turns syslog on, moves its TCP port (open connections go on), keeps it where it was when the new port is taken, turns it off', async () => {
    const [p1, p2] = [await freePort(), await freePort()];
    const on = await reload(lw, config(`{ enabled: true, udp: null, tcp: "127.0.0.1:${p1}" }`));
    expect(on).toMatchObject({ msg: 'configuration reloaded', applied: ['sources.syslog'] });
    expect(lw.syslog.tcp).toBe(`127.0.0.1:${p1}`);
    const old = await connect(p1);
    old.write(line(1));
    await lw.api.waitForEvents('app:mover', 1, 30_000);

    const moved = await reload(lw, config(`{ enabled: true, udp: null, tcp: "127.0.0.1:${p2}" }`));
    expect(moved).toMatchObject({ msg: 'configuration reloaded', applied: ['sources.syslog'] });
    expect(lw.syslog.tcp).toBe(`127.0.0.1:${p2}`);
    await refused(p1);
    old.write(line(2));
    (await connect(p2)).write(line(3));
    await lw.api.waitForEvents('app:mover', 3, 30_000);

    // A port another program holds: that part of the reload fails, the listener stays on p2.
    const taken = net.createServer();
    held.push(taken);
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const p3 = (taken.address() as net.AddressInfo).port;
    const failed = await reload(lw, config(`{ enabled: true, udp: null, tcp: "127.0.0.1:${p3}" }`));
    expect(failed).toMatchObject({ msg: 'configuration reloaded in part', failed: ['sources.syslog'] });
    const error = logged(lw, 'sources.syslog: not reloaded as a whole').at(-1);
    expect(String(error?.err)).toMatch(
      new RegExp(
        `sources\\.syslog\\.tcp: cannot listen on 127\\.0\\.0\\.1:${p3} \\(EADDRINUSE\\).*\\[LOGWHARF_ERR_LISTEN\\]`,
      ),
    );
    (await connect(p2)).write(line(4));
    await lw.api.waitForEvents('app:mover', 4, 30_000);

    const off = await reload(lw, config('{ enabled: false }'));
    expect(off).toMatchObject({ msg: 'configuration reloaded', applied: ['sources.syslog'] });
    await refused(p2);

    const events = await lw.api.searchAll('app:mover');
    expect({ ...tallyNumbers(events, 4), total: events.length }).toEqual({
      missing: [],
      doubled: [],
      total: 4,
    });
  }, 120_000);
});
