import { DURATION_PATTERN, durationMillis } from '../core/duration.js';
import { compileRedactor } from '../transforms/redact.js';
import { compileTagTemplate } from '../transforms/tag.js';
import { type RawProblem, showValue } from './problems.js';

/**
 * Rules that span keys or need more than a type, checked after the schema. They run on a value
 * that may still be invalid elsewhere (so that every problem is reported in one go), hence each
 * rule looks at the shape it needs and stays silent when it is not there: the schema has
 * already reported it.
 */
export function semanticProblems(config: unknown): RawProblem[] {
  const out: RawProblem[] = [];
  const root = record(config);
  const http = record(root.http);
  const sources = record(root.sources);
  const syslog = record(sources.syslog);
  const docker = record(sources.docker);
  const store = record(root.store);

  const listeners: [string[], unknown][] = [
    [['http', 'listen'], http.listen],
    [['sources', 'syslog', 'udp'], syslog.udp],
    [['sources', 'syslog', 'tcp'], syslog.tcp],
    [['sources', 'syslog', 'tls', 'listen'], record(syslog.tls).listen],
  ];
  for (const [segments, listen] of listeners) {
    const address = typeof listen === 'string' ? splitHostPort(listen) : undefined;
    if (address && address.port > 65535) {
      out.push({ segments, at: 'value', message: `port ${address.port} is out of range (0 to 65535)` });
    }
  }

  // DESIGN "HTTP API": an unauthenticated API reachable from other hosts must be asked for.
  const api = typeof http.listen === 'string' ? splitHostPort(http.listen) : undefined;
  if (api && !isLoopback(api.host) && http.auth === null) {
    out.push({
      segments: ['http', 'listen'],
      at: 'value',
      message:
        `refusing to serve ${http.listen} (not a loopback address) without authentication: ` +
        `add tokens under http.auth.tokens, or write 'auth: none' under http to allow anyone who can reach it`,
    });
  }

  // Below a second, a timer meant for quiet peers would cut live ones between two messages.
  if (typeof syslog.idle_timeout === 'string') {
    const millis = durationMillis(syslog.idle_timeout);
    if (millis !== null && millis < 1000) {
      out.push({
        segments: ['sources', 'syslog', 'idle_timeout'],
        at: 'value',
        message: `must be at least 1s, got ${syslog.idle_timeout} (null never closes idle connections)`,
      });
    }
  }

  out.push(...bufferProblems(['store', 'buffer'], store.buffer));

  if (store.kind === 'elasticsearch' && store.elasticsearch === undefined) {
    out.push({
      segments: ['store', 'kind'],
      at: 'value',
      message: `'elasticsearch' needs store.elasticsearch.nodes, the cluster's URLs such as [http://127.0.0.1:9200]`,
    });
  }
  const nodes = record(store.elasticsearch).nodes;
  if (Array.isArray(nodes)) {
    nodes.forEach((node, i) => {
      if (typeof node === 'string' && !isHttpUrl(node)) {
        out.push({
          segments: ['store', 'elasticsearch', 'nodes', String(i)],
          at: 'value',
          message: `expected an http:// or https:// URL such as http://127.0.0.1:9200, got ${showValue(node)}`,
        });
      }
    });
  }

  if (Array.isArray(root.retention)) {
    const first = new Map<string, number>();
    root.retention.forEach((rule, i) => {
      const name = record(rule).name;
      if (typeof name !== 'string') return;
      const earlier = first.get(name);
      if (earlier === undefined) first.set(name, i);
      else {
        out.push({
          segments: ['retention', String(i), 'name'],
          at: 'value',
          message: `duplicate retention name '${name}' (also retention[${earlier}]); names must be unique`,
        });
      }
    });
  }

  out.push(...transformProblems(record(root.transforms)), ...forwardProblems(record(root.forward)));

  if (typeof docker.host === 'string' && !/^(unix|tcp|http|https|npipe):\/\//.test(docker.host)) {
    out.push({
      segments: ['sources', 'docker', 'host'],
      at: 'value',
      message:
        `expected a URL starting with unix://, tcp://, http://, https:// or npipe://, got ${showValue(docker.host)} ` +
        `(for a socket write unix:///var/run/docker.sock)`,
    });
  }
  return out;
}

const DURATION_RE = new RegExp(DURATION_PATTERN);

/** Regexes and templates are compiled here, by the code that will run them, so a bad one stops start-up. */
function transformProblems(transforms: Record<string, unknown>): RawProblem[] {
  const out: RawProblem[] = [];
  if (typeof transforms.tag === 'string') {
    try {
      compileTagTemplate(transforms.tag);
    } catch (err) {
      out.push({ segments: ['transforms', 'tag'], at: 'value', message: errorText(err) });
    }
  }
  const rules = record(transforms.multiline).rules;
  if (Array.isArray(rules)) {
    rules.forEach((rule, i) => {
      const start = record(rule).start;
      if (typeof start !== 'string') return;
      try {
        new RegExp(start);
      } catch (err) {
        out.push({
          segments: ['transforms', 'multiline', 'rules', String(i), 'start'],
          at: 'value',
          message: `not a valid regular expression: ${errorText(err)}`,
        });
      }
    });
  }
  // The schema checks the form; a duration of that form can still be too long to hold.
  const senderTime = record(transforms.sender_time);
  for (const key of ['max_age', 'max_ahead']) {
    const v = senderTime[key];
    if (typeof v === 'string' && DURATION_RE.test(v) && durationMillis(v) === null) {
      out.push({
        segments: ['transforms', 'sender_time', key],
        at: 'value',
        message: `${showValue(v)} is more than a duration can hold (64 characters, about 285,000 years); write e.g. 7d or 52w`,
      });
    }
  }
  const redact = record(transforms.redact);
  const builtin = redact.builtin;
  const redactRules = redact.rules;
  const shapeOk =
    (typeof builtin === 'boolean' ||
      (Array.isArray(builtin) && builtin.every((b) => typeof b === 'string'))) &&
    Array.isArray(redactRules) &&
    redactRules.every((r) => typeof record(r).name === 'string' && typeof record(r).pattern === 'string');
  if (shapeOk) {
    try {
      compileRedactor({
        builtin: builtin as boolean | string[],
        rules: redactRules as { name: string; pattern: string; replacement?: string }[],
      });
    } catch (err) {
      out.push({ segments: ['transforms', 'redact'], at: 'value', message: errorText(err) });
    }
  }
  return out;
}

function forwardProblems(forward: Record<string, unknown>): RawProblem[] {
  const out: RawProblem[] = [];
  const targets = forward.syslog;
  if (!Array.isArray(targets)) return out;
  targets.forEach((target, i) => {
    out.push(...bufferProblems(['forward', 'syslog', String(i), 'buffer'], record(target).buffer));
    const t = record(record(target).tls);
    if ((t.cert === undefined) !== (t.key === undefined)) {
      out.push({
        segments: ['forward', 'syslog', String(i), 'tls'],
        at: 'value',
        message: 'a client certificate needs both cert and key (PEM files); give both or neither',
      });
    }
  });
  return out;
}

/** A memory buffer never fills (the pipeline's max_in_flight bounds it), so it cannot drop. */
function bufferProblems(segments: string[], buffer: unknown): RawProblem[] {
  const b = record(buffer);
  if (b.kind === 'memory' && b.when_full === 'drop_newest') {
    return [
      {
        segments: [...segments, 'when_full'],
        at: 'value',
        message:
          'drop_newest needs kind: disk: a memory buffer writes to the sink directly and has no room to run out of; use kind: disk with a max_bytes, or when_full: block',
      },
    ];
  }
  return [];
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** `127.0.0.1:8080` -> host and port; `[::1]:8080` -> `::1`. */
export function splitHostPort(listen: string): { host: string; port: number } | undefined {
  const m = /^\[([^\]]+)\]:([0-9]+)$/.exec(listen) ?? /^([^:]+):([0-9]+)$/.exec(listen);
  return m ? { host: m[1]!, port: Number(m[2]) } : undefined;
}

/** Whether only this machine can reach a listener on `host`: 127.0.0.0/8, ::1 or localhost. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice('::ffff:'.length) : h;
  return /^127\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$/.test(v4);
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}
