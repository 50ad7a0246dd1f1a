import { afterEach, describe, expect, it } from 'vitest';
import { tally } from '../helpers/api-client.js';
import { ComposeProject } from '../helpers/compose.js';
import { dockerClient, ensureTestImage } from '../helpers/docker.js';
import { type RunningLogwharf, startLogwharf } from '../helpers/in-process.js';
import { waitFor } from '../helpers/poll.js';
import { DockerSocketProxy } from '../helpers/socket-proxy.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * The Docker source against the real engine, one test per failure that peers are known for.
 * logwharf runs in-process (same assembly as `logwharf run`); the engine is real, reached
 * directly or through a socket proxy that injects the faults.
 */

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => {});
});

async function compose(name: string, services: string): Promise<ComposeProject> {
  const image = await ensureTestImage();
  const project = await ComposeProject.create(
    name,
    `version: "2.4"\nservices:\n${services.replaceAll('IMAGE', image)}`,
  );
  cleanups.push(() => project.down());
  return project;
}

async function logwharf(
  project: ComposeProject,
  extra = '',
  dockerHost?: string,
  pipeline = '',
): Promise<RunningLogwharf> {
  const dir = await tempDir('lw-src-');
  const host = dockerHost ? `\n    host: ${dockerHost}` : '';
  const lw = await startLogwharf(
    dir,
    `sources:\n  docker:\n    project: ${project.name}${host}\n${extra}pipeline:\n  flush_interval: 20ms\n${pipeline}`,
  );
  cleanups.push(() => lw.service.stop());
  return lw;
}

/** A service printing `<prefix>1..<count>`, `per` lines every 0.1 s, then idling. */
function counter(name: string, prefix: string, count: number, per = 50, extra = ''): string {
  return `  ${name}:
    image: IMAGE
    init: true
    command: ["sh", "-c", "i=1; while [ $$i -le ${count} ]; do echo \\"${prefix}$$i\\"; if [ $$((i % ${per})) -eq 0 ]; then sleep 0.1; fi; i=$$((i+1)); done; sleep 3600"]
${extra}`;
}

async function waitForAll(lw: RunningLogwharf, q: string, prefix: string, count: number) {
  return waitFor(
    async () => {
      const events = await lw.api.searchAll(q);
      const t = tally(events, prefix, count);
      return t.missing.length === 0 ? { events, ...t } : null;
    },
    { timeoutMs: 60_000, what: `all ${count} lines of ${q}` },
  );
}

describe('the Docker source', () => {
  it('re-attaches when the log stream ends while the container still runs', async () => {
    const proxy = await DockerSocketProxy.create();
    cleanups.push(() => proxy.close());
    const project = await compose('reattach', counter('talker', 'talk ', 1500, 25));
    const lw = await logwharf(project, '', proxy.dockerHost);
    await project.up();
    await waitFor(
      async () => (await lw.api.search({ q: 'service:talker', limit: '200' })).events.length >= 100,
      {
        timeoutMs: 60_000,
        what: 'the first 100 lines',
      },
    );
    // The engine-side stream ends while the container keeps printing.
    const cut = proxy.cutConnections((line) => line.includes('/logs?'));
    expect(cut).toBeGreaterThan(0);
    const { events, doubled } = await waitForAll(lw, 'service:talker', 'talk ', 1500);
    expect(doubled).toEqual([]);
    expect(events).toHaveLength(1500);
    expect(proxy.requests.filter((r) => r.includes('/logs?')).length).toBeGreaterThanOrEqual(2);
  });

  it('reads the rest of an exited container whose log stream was cut before its last line', async () => {
    const proxy = await DockerSocketProxy.create();
    cleanups.push(() => proxy.close());
    const project = await compose(
      'cut-exited',
      `  burst:
    image: IMAGE
    command: ["sh", "-c", "seq 1 20000 | sed 's/^/burst /'"]
`,
    );
    // A small pipeline keeps the follower paused most of the time, so the stream is still
    // open, far from its end, when the container has long exited.
    const lw = await logwharf(project, '', proxy.dockerHost, '  max_in_flight: 200\n  batch_size: 100\n');
    await project.up();
    const [c] = await project.containers('burst');
    await waitFor(async () => !(await dockerClient().getContainer(c!.Id).inspect()).State.Running, {
      timeoutMs: 30_000,
      what: 'the container to exit',
    });
    await waitFor(
      async () => (await lw.api.search({ q: 'service:burst', limit: '300' })).events.length >= 300,
      { timeoutMs: 60_000, what: 'the first 300 lines' },
    );
    expect(proxy.cutConnections((line) => line.includes('/logs?'))).toBeGreaterThan(0);
    const { events, doubled } = await waitForAll(lw, 'service:burst', 'burst ', 20000);
    expect(doubled).toEqual([]);
    expect(events).toHaveLength(20000);
  });

  it('does not read the whole history again when a container restarts (same id)', async () => {
    const project = await compose(
      'restart',
      `  once:
    image: IMAGE
    command: ["sh", "-c", "i=1; while [ $$i -le 500 ]; do echo \\"run $$i\\"; i=$$((i+1)); done"]
`,
    );
    const lw = await logwharf(project);
    await project.up();
    await waitForAll(lw, 'service:once', 'run ', 500);
    const [c] = await project.containers('once');
    const docker = dockerClient();
    await waitFor(async () => !(await docker.getContainer(c!.Id).inspect()).State.Running, {
      timeoutMs: 30_000,
      what: 'the container to exit',
    });
    await docker.getContainer(c!.Id).start();
    const all = await lw.api.waitForEvents('service:once', 1000, 60_000);
    expect(all).toHaveLength(1000);
    const source = (await lw.api.sources()).find((s) => s.id === c!.Id);
    // Each run's 500 lines were read once: the restart resumed from the position.
    expect(source?.lines_read).toBe(1000);
  });

  it('reads a short-lived container that exited before logwharf started, and one that comes and goes', async () => {
    const project = await compose(
      'short',
      `  early:
    image: IMAGE
    command: ["sh", "-c", "echo early one; echo early two >&2"]
  late:
    image: IMAGE
    command: ["sh", "-c", "echo late one; echo late two"]
    profiles: ["late"]
`,
    );
    await project.up(['early']);
    await waitFor(async () => (await project.containers('early'))[0]?.State === 'exited', {
      timeoutMs: 30_000,
      what: 'the early container to exit',
    });
    const lw = await logwharf(project);
    const early = await lw.api.waitForEvents('service:early', 2, 30_000);
    // Docker stamps stdout and stderr separately, so their order by timestamp may differ from print order.
    expect(early.map((e) => [e.message, e.stream]).sort()).toEqual([
      ['early one', 'stdout'],
      ['early two', 'stderr'],
    ]);
    await project.run(['--profile', 'late', 'up', '-d', 'late']);
    const late = await lw.api.waitForEvents('service:late', 2, 30_000);
    expect(late.map((e) => e.message)).toEqual(['late one', 'late two']);
  });

  it('reconnects when the engine socket goes away, is not ready meanwhile, and loses nothing', async () => {
    const proxy = await DockerSocketProxy.create();
    cleanups.push(() => proxy.close());
    const project = await compose('outage', counter('steady', 'tick ', 1200, 20));
    const lw = await logwharf(project, '', proxy.dockerHost);
    await project.up();
    await waitFor(
      async () => (await lw.api.search({ q: 'service:steady', limit: '100' })).events.length >= 50,
      {
        timeoutMs: 60_000,
        what: 'the first lines',
      },
    );
    await proxy.stop();
    await waitFor(async () => (await lw.api.readyz()) === 503, {
      timeoutMs: 30_000,
      what: '/readyz to report 503',
    });
    await proxy.start();
    await waitFor(async () => (await lw.api.readyz()) === 200, {
      timeoutMs: 30_000,
      what: '/readyz to recover',
    });
    const { events, doubled } = await waitForAll(lw, 'service:steady', 'tick ', 1200);
    expect(doubled).toEqual([]);
    expect(events).toHaveLength(1200);
  });

  it('follows scale-up and force-recreate, and skips containers labelled logwharf.enable=false', async () => {
    const project = await compose(
      'churn',
      `  web:
    image: IMAGE
    init: true
    command: ["sh", "-c", "echo \\"hello from $$HOSTNAME\\"; sleep 3600"]
  quiet:
    image: IMAGE
    labels: { logwharf.enable: "false" }
    command: ["sh", "-c", "echo should not be collected; sleep 3600"]
`,
    );
    const lw = await logwharf(project);
    await project.up();
    await lw.api.waitForEvents('service:web', 1, 30_000);
    await project.up(['--scale', 'web=3']);
    await lw.api.waitForEvents('service:web', 3, 30_000);
    const before = new Set((await project.containers('web')).map((c) => c.Id));
    await project.up(['--scale', 'web=3', '--force-recreate']);
    const after = (await project.containers('web')).map((c) => c.Id);
    expect(after.some((id) => before.has(id))).toBe(false);
    const events = await lw.api.waitForEvents('service:web', 6, 30_000);
    expect(new Set(events.map((e) => e.container.id))).toEqual(new Set([...before, ...after]));
    expect(await lw.api.searchAll('service:quiet')).toEqual([]);
    expect((await lw.api.sources()).some((s) => s.name.includes('quiet'))).toBe(false);
  });
});

describe('hostile output', () => {
  it('keeps ANSI codes, NUL, invalid UTF-8, CRLF and an over-long line from crashing or spilling into other lines', async () => {
    const project = await compose(
      'hostile',
      `  noisy:
    image: IMAGE
    command: ["sh", "-c", "printf '\\\\033[31mred alert\\\\033[0m\\\\n'; printf 'nul\\\\000byte\\\\n'; printf 'bad \\\\377\\\\376 utf8\\\\n'; printf 'crlf line\\\\r\\\\n'; head -c 40000 /dev/zero | tr '\\\\0' y; echo; echo after the long line"]
`,
    );
    const lw = await logwharf(project, '    max_line_bytes: 4096\n');
    await project.up();
    const events = await lw.api.waitForEvents('service:noisy', 6, 30_000);
    const byStart = (prefix: string) => events.find((e) => String(e.message).startsWith(prefix));
    expect(byStart('red alert')).toMatchObject({
      message: 'red alert',
      event: { original: '\u001b[31mred alert\u001b[0m' },
    });
    expect(byStart('nul')?.message).toBe('nul\uFFFDbyte');
    expect(byStart('bad ')?.message).toMatch(/^bad \uFFFD+ utf8$/);
    expect(byStart('crlf')?.message).toBe('crlf line');
    const long = byStart('yyy');
    expect(long?.message).toBe('y'.repeat(4096));
    expect(long?.log.flags).toEqual(['truncated']);
    expect(byStart('after')?.message).toBe('after the long line');
    expect(events).toHaveLength(6);
  });
});
