/**
 * The test helpers against the real engine: if these fail, every Docker test would, so this file
 * says first what is wrong with the set-up itself.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  ComposeProject,
  LABEL_NUMBER,
  LABEL_PROJECT,
  LABEL_SERVICE,
  projectName,
  removeStaleProjects,
} from '../helpers/compose.js';
import { clientFor, demuxLogs, dockerClient, ensureTestImage, removeContainer } from '../helpers/docker.js';
import { waitFor } from '../helpers/poll.js';
import { DockerSocketProxy } from '../helpers/socket-proxy.js';

async function runDetached(cmd: string[]): Promise<string> {
  const image = await ensureTestImage();
  const container = await dockerClient().createContainer({
    Image: image,
    Cmd: cmd,
    Labels: { 'lwtest.engine': '1' },
  });
  onTestFinished(() => removeContainer(container.id));
  await container.start();
  return container.id;
}

describe('test image', () => {
  it('runs a busybox shell whose stdout and stderr come back through the logs API', async () => {
    const id = await runDetached([
      'sh',
      '-c',
      'echo to-stdout; echo to-stderr >&2; printf "%s\\n" $(seq 1 3)',
    ]);
    const container = dockerClient().getContainer(id);
    const { StatusCode } = await container.wait();
    expect(StatusCode).toBe(0);

    const body = (await container.logs({ stdout: true, stderr: true, follow: false })) as Buffer;
    expect(demuxLogs(body)).toEqual({ stdout: 'to-stdout\n1\n2\n3\n', stderr: 'to-stderr\n' });
  });
});

describe('ComposeProject', () => {
  it('brings two services up, one scaled to two, with compose labels, and takes them down', async () => {
    const image = await ensureTestImage();
    const project = await ComposeProject.create(
      'engine two services',
      [
        'services:',
        '  web:',
        `    image: ${image}`,
        '    command: ["sh", "-c", "echo web ready; exec sleep 3600"]',
        '  worker:',
        `    image: ${image}`,
        '    command: ["sh", "-c", "while true; do echo tick; sleep 1; done"]',
        '',
      ].join('\n'),
    );
    onTestFinished(() => project.down());
    expect(project.name).toMatch(/^lwtest-[0-9a-z]+-[0-9a-f]{6}-engine-two-services$/);

    await project.up();
    await project.scale('worker', 2);

    const containers = await project.containers();
    expect(
      containers.map((c) => [
        c.Labels[LABEL_PROJECT],
        c.Labels[LABEL_SERVICE],
        c.Labels[LABEL_NUMBER],
        c.State,
      ]),
    ).toEqual([
      [project.name, 'web', '1', 'running'],
      [project.name, 'worker', '1', 'running'],
      [project.name, 'worker', '2', 'running'],
    ]);
    // v1 names containers project_service_N, v2 project-service-N.
    for (const c of containers) {
      const n = c.Labels[LABEL_NUMBER];
      const service = c.Labels[LABEL_SERVICE];
      expect([`/${project.name}_${service}_${n}`, `/${project.name}-${service}-${n}`]).toContain(c.Names[0]);
    }

    const web = await waitFor(
      async () => {
        const body = (await dockerClient().getContainer(containers[0]!.Id).logs({ stdout: true })) as Buffer;
        return demuxLogs(body).stdout.includes('web ready') && body;
      },
      { timeoutMs: 10_000, what: 'web to log "web ready"' },
    );
    expect(demuxLogs(web).stdout).toBe('web ready\n');

    await project.down();
    expect(await project.containers()).toEqual([]);
    const networks = await dockerClient().listNetworks({
      filters: { label: [`${LABEL_PROJECT}=${project.name}`] },
    });
    expect(networks).toEqual([]);
  });
});

describe('DockerSocketProxy', () => {
  it('forwards the engine byte for byte, and cutting a logs stream leaves the container running', async () => {
    const proxy = await DockerSocketProxy.create();
    onTestFinished(() => proxy.close());
    const viaProxy = clientFor({ dockerHost: proxy.dockerHost, fromEnv: true });

    expect(String(await viaProxy.ping())).toBe('OK');
    expect(proxy.requests).toContainEqual(expect.stringMatching(/^GET \S*\/_ping HTTP\/1\.1$/));

    const id = await runDetached(['sh', '-c', 'while true; do echo tick; sleep 0.2; done']);
    const logs = await viaProxy.getContainer(id).logs({ follow: true, stdout: true, stderr: true });
    const chunks: Buffer[] = [];
    logs.on('data', (b: Buffer) => chunks.push(b));
    const ended = new Promise<void>((resolve) => logs.once('close', () => resolve()));
    logs.on('error', () => {}); // the cut surfaces as 'aborted' / ECONNRESET: that is the point

    await waitFor(() => chunks.length > 0, {
      timeoutMs: 10_000,
      what: 'the first log frame through the proxy',
    });
    expect(proxy.activeRequests()).toContainEqual(expect.stringContaining(`/containers/${id}/logs?`));

    expect(proxy.cutConnections((line) => line.includes('/logs?'))).toBe(1);
    await ended;

    const state = await dockerClient().getContainer(id).inspect();
    expect(state.State.Running).toBe(true);
    // The proxy itself still serves new connections after a cut.
    expect(String(await viaProxy.ping())).toBe('OK');
  });

  it('makes the socket go away on stop() and come back on start()', async () => {
    const proxy = await DockerSocketProxy.create();
    onTestFinished(() => proxy.close());
    const viaProxy = clientFor({ dockerHost: proxy.dockerHost, fromEnv: true });

    await proxy.stop();
    await expect(viaProxy.ping()).rejects.toMatchObject({ code: 'ENOENT' });

    await proxy.start();
    expect(String(await viaProxy.ping())).toBe('OK');
  });
});

describe('removeStaleProjects', () => {
  it('removes what lwtest projects older than an hour left behind, and nothing younger', async () => {
    const docker = dockerClient();
    const old = projectName('stale', Date.now() - 2 * 3_600_000);
    const young = projectName('young');
    for (const project of [old, young]) {
      const network = await docker.createNetwork({
        Name: `${project}_default`,
        Labels: { [LABEL_PROJECT]: project },
      });
      onTestFinished(() => network.remove().catch(() => {}));
    }

    const removed = await removeStaleProjects();

    // (Another run's global setup may have removed `old` first: assert the outcome, not who did it.)
    expect(removed).not.toContain(young);
    const left = await docker.listNetworks({ filters: { label: [LABEL_PROJECT] } });
    const names = left.map((n) => n.Labels?.[LABEL_PROJECT]);
    expect(names).not.toContain(old);
    expect(names).toContain(young);
  });
});

describe('waitFor', () => {
  it('names what it waited for and the last value when it times out', async () => {
    let n = 0;
    await expect(
      waitFor(() => ++n > 1000 && n, { timeoutMs: 150, intervalMs: 10, what: 'n to pass 1000' }),
    ).rejects.toThrow(/^timed out after 150 ms waiting for n to pass 1000; last value: false$/);
    await expect(
      waitFor(
        () => {
          throw new Error('still ENOENT');
        },
        { timeoutMs: 50, what: 'the socket' },
      ),
    ).rejects.toThrow(/waiting for the socket; last error: still ENOENT$/);
    expect(await waitFor(() => ++n >= 3 && `n=${n}`, { timeoutMs: 1000, intervalMs: 1, what: 'n' })).toMatch(
      /^n=/,
    );
  });
});
