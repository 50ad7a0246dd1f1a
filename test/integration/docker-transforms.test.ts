import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EcsDoc } from '../helpers/api-client.js';
import { ComposeProject } from '../helpers/compose.js';
import { ensureTestImage } from '../helpers/docker.js';
import { type RunningLogwharf, startLogwharf } from '../helpers/in-process.js';
import { removeTempDir, tempDir } from '../helpers/tmp.js';

/**
 * Parsing, multiline joining, tags and redaction on container lines that went through a real
 * Docker engine: real stack traces (the multiline fixtures, bind-mounted and printed by the
 * container), labels set in a real compose file, one logwharf following the project.
 */

const FIXTURES = fileURLToPath(new URL('../fixtures/multiline', import.meta.url));

let dir: string;
let project: ComposeProject;
let lw: RunningLogwharf;

const service = (name: string, command: string, labels: Record<string, string> = {}) => `  ${name}:
    image: IMAGE
    init: true
    volumes: ["${FIXTURES}:/fx:ro"]
    labels: ${JSON.stringify(labels)}
    command: ["sh", "-c", ${JSON.stringify(`${command}; sleep 3600`)}]
`;

beforeAll(async () => {
  dir = await tempDir('lw-transforms-');
  const image = await ensureTestImage();
  const services = [
    service('java', 'echo java-before; cat /fx/java_java_exc.log; echo java-after'),
    service('py', 'echo py-before; cat /fx/python_python_exc.log >&2; echo py-after'),
    service(
      'custom',
      "printf '2026-11-27 custom-first\\nno indent but continues\\n2026-11-27 custom-second\\n'",
      { 'logwharf.multiline.start': '^\\d{4}-\\d{2}-\\d{2} ' },
    ),
    service('raw', `echo '{"level":"error","msg":"raw-json"}'`, {
      'logwharf.parser': 'none',
      'logwharf.tag': '{{.Name}}',
    }),
    service(
      'access',
      `echo '10.1.2.3 - alice [27/Nov/2026:02:00:00 +0000] "POST /login HTTP/1.1" 401 17 "-" "curl/8.5.0"'`,
    ),
    service(
      'secret',
      "echo 'secret-line Authorization: Bearer s3cr3t.t0ken.value and postgres://app:hunter22@db/app'",
    ),
  ];
  project = await ComposeProject.create(
    'transforms',
    `version: "2.4"\nservices:\n${services.join('').replaceAll('IMAGE', image)}`,
  );
  lw = await startLogwharf(
    dir,
    `sources:\n  docker:\n    project: ${project.name}\ntransforms:\n  multiline:\n    flush_after: 300ms\npipeline:\n  flush_interval: 20ms\n`,
  );
  await project.up();
});

afterAll(async () => {
  await lw?.service.stop();
  await project?.down();
  if (dir) await removeTempDir(dir);
});

async function eventsOf(svc: string, count: number): Promise<EcsDoc[]> {
  return lw.api.waitForEvents(`service:${svc}`, count, 30_000);
}

describe('multiline through the engine', () => {
  it('joins a Java stack trace into one event, between the lines around it', async () => {
    const trace = (await readFile(`${FIXTURES}/java_java_exc.log`, 'utf8')).replace(/\n$/, '');
    const events = await eventsOf('java', 3);
    expect(events.map((e) => e.message)).toEqual(['java-before', trace, 'java-after']);
    expect(events[1]!.log.flags).toContain('multiline');
    expect(events[1]!.stream).toBe('stdout');
  });

  it('joins a Python traceback on stderr, apart from the stdout lines', async () => {
    const trace = (await readFile(`${FIXTURES}/python_python_exc.log`, 'utf8')).replace(/\n$/, '');
    const events = await eventsOf('py', 3);
    const joined = events.find((e) => e.stream === 'stderr');
    expect(joined?.message).toBe(trace);
    expect(joined?.log.level).toBe('err');
    expect(events.filter((e) => e.stream === 'stdout').map((e) => e.message)).toEqual([
      'py-before',
      'py-after',
    ]);
  });

  it('follows logwharf.multiline.start: a matching line starts an event, the others continue it', async () => {
    const events = await eventsOf('custom', 2);
    expect(events.map((e) => e.message)).toEqual([
      '2026-11-27 custom-first\nno indent but continues',
      '2026-11-27 custom-second',
    ]);
  });
});

describe('labels, parsing and redaction through the engine', () => {
  it('logwharf.parser=none keeps JSON as text; logwharf.tag sets the app name', async () => {
    const [e] = await eventsOf('raw', 1);
    expect(e!.message).toBe('{"level":"error","msg":"raw-json"}');
    expect(e!.log.level).toBe('info');
    expect(e!.fields).toBeUndefined();
    expect(e!.log.syslog.appname).toBe(e!.container.name);
  });

  it('an nginx/Apache access line gets its ECS fields, searchable by their names', async () => {
    const [e] = await eventsOf('access', 1);
    expect(e!.http).toEqual({
      request: { method: 'POST' },
      response: { status_code: 401, body: { bytes: 17 } },
      version: '1.1',
    });
    expect(e!.url).toEqual({ original: '/login' });
    expect(e!.source).toEqual({ address: '10.1.2.3' });
    expect(e!.user).toEqual({ name: 'alice' });
    expect(e!.user_agent).toEqual({ original: 'curl/8.5.0' });
    expect(e!.fields).toBeUndefined();
    expect(e!.ecs.version).toMatch(/^8\./);
    expect((await lw.api.search({ q: 'status >= 400 method:POST url.original:/login' })).events).toHaveLength(
      1,
    );
    expect((await lw.api.search({ q: 'status>=500 method:POST' })).events).toHaveLength(0);
  });

  it('secrets are redacted in what is stored; the rest of the line stays searchable', async () => {
    const [e] = await eventsOf('secret', 1);
    expect(JSON.stringify(e)).not.toContain('s3cr3t.t0ken.value');
    expect(JSON.stringify(e)).not.toContain('hunter22');
    expect(e!.message).toContain('postgres://app:');
    expect((await lw.api.search({ q: 'secret-line postgres' })).events).toHaveLength(1);
    expect((await lw.api.search({ q: 'hunter22' })).events).toHaveLength(0);
  });
});
