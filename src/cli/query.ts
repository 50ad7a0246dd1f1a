import type { EcsDocument } from '../core/ecs.js';
import { LogwharfError } from '../core/errors.js';
import type { SearchRequest, StoreReader } from '../core/store.js';
import { QuerySyntaxError } from '../query/ast.js';
import { parseQuery } from '../query/parser.js';
import { parseTimeBound } from '../query/time.js';
import { formatLines, formatNdjson, formatQueryError, useColor } from './format.js';
import { authorizationHeader, authRefusal, loadServerToken, type ServerToken } from './server-token.js';

/** `logwharf query QUERY [--since 1h] [--from T] [--to T] [--limit N] [--json] [--server URL [--token-file FILE]]` */
export interface QueryArgs {
  query: string;
  /** A span before now (`1h`) or an RFC 3339 time; the same as `--from`, which it excludes. */
  since?: string;
  from?: string;
  to?: string;
  /** How many events, 1..10000; default 100. */
  limit?: number;
  json?: boolean;
  /** Ask a running logwharf (`http://127.0.0.1:8080`) instead of opening the store. */
  server?: string;
  /** With `server`: a file holding the bearer token (else $LOGWHARF_TOKEN, see server-token.ts). */
  tokenFile?: string;
  /** Which end of the range: `desc` (default) the newest `limit` events, `asc` the oldest. Printed oldest first either way. */
  order?: 'asc' | 'desc';
}

export interface QueryDeps {
  openReader: () => Promise<StoreReader>;
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  isTTY: boolean;
  now?: () => Date;
  /** For NO_COLOR and LOGWHARF_TOKEN; defaults to process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Defaults to the global fetch; tests may pass their own. */
  fetch?: typeof fetch;
}

export const EXIT_OK = 0;
/** The server or the store failed. */
export const EXIT_FAILURE = 1;
/** The query or the command line is wrong. */
export const EXIT_USAGE = 2;

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 10_000;
const SERVER_TIMEOUT_MS = 60_000;

/** A mistake of the user's, reported on stderr with exit code 2. */
class UsageError extends Error {}

interface Plan {
  query: string;
  from?: string;
  to?: string;
  limit: number;
  order: 'asc' | 'desc';
}

function timeOption(flag: string, value: string, now: Date): string {
  try {
    return parseTimeBound(value, now);
  } catch (err) {
    throw new UsageError(`${flag}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Checks the options and resolves relative times against one `now`. */
function plan(args: QueryArgs, now: Date): Plan {
  if (args.tokenFile !== undefined && args.server === undefined) {
    throw new UsageError('--token-file is for --server; a local query reads the store directly');
  }
  if (args.since !== undefined && args.from !== undefined) {
    throw new UsageError('--since and --from both set a start; give one of them');
  }
  const limit = args.limit ?? DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new UsageError(`--limit: expected a whole number from 1 to ${MAX_LIMIT}, got ${args.limit}`);
  }
  const order = args.order ?? 'desc';
  if (order !== 'asc' && order !== 'desc')
    throw new UsageError(`--order: expected asc or desc, got ${order}`);
  const start = args.since ?? args.from;
  const from =
    start !== undefined ? timeOption(args.since !== undefined ? '--since' : '--from', start, now) : undefined;
  const to = args.to !== undefined ? timeOption('--to', args.to, now) : undefined;
  if (from !== undefined && to !== undefined && from > to) {
    throw new UsageError(`the start (${from}) is after --to (${to})`);
  }
  return {
    query: args.query,
    limit,
    order,
    ...(from !== undefined ? { from } : {}),
    ...(to !== undefined ? { to } : {}),
  };
}

/** One answer of the store or the server: some events, and where the next answer starts. */
interface Page {
  events: EcsDocument[];
  nextCursor: string | null;
}

/**
 * The `limit` events the user asked for, following cursors: an answer also ends at the store's
 * byte budget (core/answer.ts), so one request may return fewer events than there are.
 */
async function collect(limit: number, page: (limit: number, cursor?: string) => Promise<Page>) {
  const events: EcsDocument[] = [];
  let cursor: string | undefined;
  do {
    const answer = await page(limit - events.length, cursor);
    events.push(...answer.events);
    // An empty answer with a cursor would be a store's bug; stop rather than ask forever.
    cursor = answer.events.length > 0 ? (answer.nextCursor ?? undefined) : undefined;
  } while (cursor !== undefined && events.length < limit);
  return events;
}

async function searchLocal(p: Plan, openReader: () => Promise<StoreReader>): Promise<EcsDocument[]> {
  const query = parseQuery(p.query);
  const req: SearchRequest = {
    query,
    limit: p.limit,
    order: p.order,
    ...(p.from !== undefined ? { from: p.from } : {}),
    ...(p.to !== undefined ? { to: p.to } : {}),
  };
  const reader = await openReader();
  try {
    return await collect(p.limit, (limit, cursor) =>
      reader.search({ ...req, limit, ...(cursor !== undefined ? { cursor } : {}) }),
    );
  } finally {
    await reader.close();
  }
}

/** A 400 from the server, carried to the same output a local error gets. */
class ServerQueryError extends Error {
  constructor(
    message: string,
    readonly position: number | undefined,
  ) {
    super(message);
  }
}

/** One answer of the server's `GET /api/v1/search`. */
async function searchRemote(
  p: Plan,
  server: string,
  doFetch: typeof fetch,
  auth: ServerToken | null,
  cursor?: string,
): Promise<Page> {
  let url: URL;
  try {
    // Resolve against the base as a directory, so `http://host/logwharf` keeps its path.
    url = new URL('api/v1/search', server.endsWith('/') ? server : `${server}/`);
  } catch {
    throw new UsageError(`--server: not a URL: ${server}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`--server: expected an http:// or https:// URL, got ${server}`);
  }
  url.searchParams.set('q', p.query);
  if (p.from !== undefined) url.searchParams.set('from', p.from);
  if (p.to !== undefined) url.searchParams.set('to', p.to);
  url.searchParams.set('limit', String(p.limit));
  url.searchParams.set('order', p.order);
  if (cursor !== undefined) url.searchParams.set('cursor', cursor);

  let res: Response;
  try {
    res = await doFetch(url, {
      headers: { accept: 'application/json', ...authorizationHeader(auth) },
      signal: AbortSignal.timeout(SERVER_TIMEOUT_MS),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: unknown } }).cause?.code ?? (err as Error).message;
    throw new LogwharfError(
      'LOGWHARF_ERR_SERVER',
      `cannot reach ${url.origin} (${String(cause)}); is logwharf running there?`,
      { cause: err },
    );
  }
  if (res.status === 401 || res.status === 403) {
    throw new LogwharfError('LOGWHARF_ERR_SERVER', authRefusal(url.origin, res.status, auth));
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const b = (body ?? {}) as {
    message?: unknown;
    position?: unknown;
    events?: unknown;
    next_cursor?: unknown;
  };
  if (res.status === 400) {
    const message = typeof b.message === 'string' ? b.message : text.slice(0, 200);
    throw new ServerQueryError(message, typeof b.position === 'number' ? b.position : undefined);
  }
  if (!res.ok || !Array.isArray(b.events)) {
    const detail = typeof b.message === 'string' ? b.message : text.slice(0, 200);
    throw new LogwharfError('LOGWHARF_ERR_SERVER', `${url.origin} answered HTTP ${res.status}: ${detail}`);
  }
  return {
    events: b.events as EcsDocument[],
    nextCursor: typeof b.next_cursor === 'string' ? b.next_cursor : null,
  };
}

/**
 * Runs `logwharf query` and returns the exit code: 0 (also when nothing matched), 1 when
 * the store or server fails, 2 for a bad query or command line. Unexpected errors are
 * thrown for main.ts to report.
 */
export async function queryCommand(args: QueryArgs, deps: QueryDeps): Promise<number> {
  const now = (deps.now ?? (() => new Date()))();
  let events: EcsDocument[];
  try {
    const p = plan(args, now);
    const server = args.server;
    if (server !== undefined) {
      const auth = await loadServerToken({ tokenFile: args.tokenFile, env: deps.env ?? process.env });
      events = await collect(p.limit, (limit, cursor) =>
        searchRemote({ ...p, limit }, server, deps.fetch ?? fetch, auth, cursor),
      );
    } else {
      events = await searchLocal(p, deps.openReader);
    }
    // Descending fetches the newest `limit`; the terminal shows them oldest first.
    if (p.order === 'desc') events = events.slice().reverse();
  } catch (err) {
    return report(err, args.query, deps.stderr);
  }
  const lines = args.json
    ? formatNdjson(events)
    : formatLines(events, { color: useColor(deps.isTTY, deps.env ?? process.env) });
  for (const line of lines) deps.stdout(`${line}\n`);
  return EXIT_OK;
}

function report(err: unknown, query: string, stderr: (s: string) => void): number {
  if (err instanceof QuerySyntaxError) {
    stderr(`${formatQueryError(query, err.position, err.message)}\n`);
    return EXIT_USAGE;
  }
  if (err instanceof ServerQueryError) {
    stderr(
      err.position !== undefined
        ? `${formatQueryError(query, err.position, err.message)}\n`
        : `logwharf query: ${err.message}\n`,
    );
    return EXIT_USAGE;
  }
  if (err instanceof UsageError) {
    stderr(`logwharf query: ${err.message}\n`);
    return EXIT_USAGE;
  }
  // UnknownFieldError comes from the store's translator; matched by name so the CLI does not import it.
  if (
    err instanceof Error &&
    (err.name === 'UnknownFieldError' || err.constructor?.name === 'UnknownFieldError')
  ) {
    stderr(`logwharf query: ${err.message}\n`);
    return EXIT_USAGE;
  }
  if (err instanceof LogwharfError) {
    stderr(`logwharf query: ${err.message}\n`);
    return err.code === 'LOGWHARF_ERR_QUERY' || err.code === 'LOGWHARF_ERR_USAGE' ? EXIT_USAGE : EXIT_FAILURE;
  }
  throw err;
}
