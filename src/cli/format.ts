import type { EcsDocument } from '../core/ecs.js';

/**
 * How `logwharf query` prints events: like `docker compose logs --timestamps`, or NDJSON.
 * Pure functions only; src/cli/query.ts does the I/O.
 */

/** The six colours compose cycles through for container prefixes (SGR foreground codes). */
export const PREFIX_COLORS = ['36', '33', '32', '35', '34', '31'] as const;

/** Reads `a.b.c` from a nested ECS document (or a flattened `"a.b.c"` key, as some stores return). */
export function field(doc: EcsDocument, path: string): unknown {
  if (path in doc) return doc[path];
  let cur: unknown = doc;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/**
 * The name in front of a line: the container name (as compose prints it); for an event
 * without a container (syslog) `host/app`, or whichever of the two it has.
 */
export function sourceName(doc: EcsDocument): string {
  const container = str(field(doc, 'container.name'));
  if (container !== undefined) return container.replace(/^\//, '');
  const app = str(field(doc, 'log.syslog.appname')) ?? str(field(doc, 'service.name'));
  const host = str(field(doc, 'log.syslog.hostname')) ?? str(field(doc, 'host.name'));
  if (host !== undefined && app !== undefined) return `${host}/${app}`;
  return app ?? host ?? '-';
}

/** FNV-1a (32 bit): the same name gets the same colour in every run and on every machine. */
export function colorFor(name: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return PREFIX_COLORS[h % PREFIX_COLORS.length]!;
}

export interface FormatOptions {
  /** Colour the `name  |` prefix (only for a terminal, and not when NO_COLOR is set). */
  color: boolean;
}

/**
 * One batch of events (already in the order to print) as lines without the trailing newline:
 * `<name padded to the widest in the batch>  | <@timestamp> <message>`. A message of several
 * lines (a multiline event) keeps the prefix on each line and indents under the timestamp,
 * so grep still finds the container and the event still reads as one.
 */
export function formatLines(events: readonly EcsDocument[], opts: FormatOptions): string[] {
  const names = events.map(sourceName);
  const width = names.reduce((w, n) => Math.max(w, n.length), 0);
  const out: string[] = [];
  events.forEach((doc, i) => {
    const name = names[i]!;
    const plain = `${name.padEnd(width)}  |`;
    const prefix = opts.color ? `\u001b[${colorFor(name)}m${plain}\u001b[0m` : plain;
    const ts = str(field(doc, '@timestamp')) ?? '';
    const message = field(doc, 'message');
    const lines = (
      typeof message === 'string' ? message : message === undefined ? '' : JSON.stringify(message)
    )
      .replace(/\r?\n$/, '')
      .split(/\r?\n/);
    out.push(`${prefix} ${ts} ${lines[0]}`);
    const indent = ' '.repeat(ts.length);
    for (const line of lines.slice(1)) out.push(`${prefix} ${indent} ${line}`);
  });
  return out;
}

/** NDJSON: one ECS document per line. */
export function formatNdjson(events: readonly EcsDocument[]): string[] {
  return events.map((doc) => JSON.stringify(doc));
}

/**
 * A query that does not parse, with a caret under the problem:
 *
 *     query: service:web (level>=warning
 *                                       ^ expected ')'
 */
export function formatQueryError(query: string, position: number, message: string): string {
  const label = 'query: ';
  // Tabs and newlines in the query would shift the caret; show them as spaces.
  const shown = query.replace(/[\t\r\n]/g, ' ');
  const at = Math.max(0, Math.min(position, shown.length));
  const reason = message.replace(/ at position \d+$/, '');
  return `${label}${shown}\n${' '.repeat(label.length + at)}^ ${reason}`;
}

/** Whether to colour: a terminal, and NO_COLOR (no-color.org) unset or empty. */
export function useColor(isTTY: boolean, env: Readonly<Record<string, string | undefined>>): boolean {
  return isTTY && !env.NO_COLOR;
}
