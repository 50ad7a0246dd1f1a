import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EcsDoc } from '../helpers/api-client.js';
import { ComposeProject } from '../helpers/compose.js';
import { ensureTestImage } from '../helpers/docker.js';
import { ensureNodeImage } from '../helpers/node-image.js';
import { waitFor } from '../helpers/poll.js';
import { engineUpstream } from '../helpers/socket-proxy.js';

const exec = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');

/**
 * logwharf as a sidecar inside a compose project, with no project configured: it must find
 * its own project from its container's labels, follow that project's containers, and leave
 * alone both other projects and itself.
 */
describe('logwharf running inside a compose project', () => {
  let mine: ComposeProject;
  let other: ComposeProject;

  beforeAll(async () => {
    const [busybox, node] = await Promise.all([ensureTestImage(), ensureNodeImage()]);
    const upstream = engineUpstream();
    if (!('path' in upstream))
      throw new Error('this test mounts the engine socket: it needs DOCKER_HOST=unix://...');
    other = await ComposeProject.create(
      'stranger',
      `version: "2.4"
services:
  stranger:
    image: ${busybox}
    command: ["sh", "-c", "echo stranger line; sleep 3600"]
`,
    );
    await other.up();
    mine = await ComposeProject.create(
      'sidecar',
      `version: "2.4"
services:
  logwharf:
    image: ${node}
    working_dir: /app
    command: ["/app/bin/logwharf.js", "run"]
    environment:
      LOGWHARF_DATA_DIR: /data
      LOGWHARF_HTTP_LISTEN: 0.0.0.0:8080
      LOGWHARF_HTTP_AUTH: none
    volumes:
      - ${ROOT}:/app:ro
      - ${upstream.path}:/var/run/docker.sock
  app:
    image: ${busybox}
    command: ["sh", "-c", "i=1; while [ $$i -le 20 ]; do echo \\"app line $$i\\"; i=$$((i+1)); done; sleep 3600"]
`,
    );
    await mine.up();
  }, 240_000);

  afterAll(async () => {
    await mine?.down();
    await other?.down();
  });

  async function query(q: string): Promise<EcsDoc[]> {
    const [c] = await mine.containers('logwharf');
    // docker exec does not go through the entrypoint: name the node binary (the image has no env).
    const args = [
      'exec',
      c!.Id,
      process.execPath,
      '/app/bin/logwharf.js',
      'query',
      q,
      '--json',
      '--limit',
      '1000',
    ];
    const { stdout } = await exec('docker', args);
    return stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as EcsDoc);
  }

  it('follows its own project, and neither other projects nor itself', { timeout: 150_000 }, async () => {
    const app = await waitFor(
      async () => {
        const events = await query('service:app').catch((err) => {
          console.error(String(err).slice(0, 500));
          return [];
        });
        return events.length >= 20 ? events : null;
      },
      { timeoutMs: 90_000, what: 'the 20 app lines, queried inside the sidecar' },
    );
    expect(app.map((e) => e.message)).toEqual(Array.from({ length: 20 }, (_, i) => `app line ${i + 1}`));
    expect(app[0]?.compose.project).toBe(mine.name);
    const all = await query('');
    const services = new Set(all.map((e) => e.service.name));
    expect(services).toEqual(new Set(['app']));
    expect(all.some((e) => String(e.message).includes('stranger'))).toBe(false);
  });
});
