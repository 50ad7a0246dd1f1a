import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { type ErrorCode, LogwharfError } from '../core/errors.js';
import { QuerySyntaxError } from '../query/ast.js';

/**
 * The one place that turns an error into an HTTP answer. Every error body has the same
 * shape, `{ error, message, ...details }`, where `error` is one of the stable codes below
 * (scripts match on it; the message is for people and may change).
 */
export type ApiErrorCode =
  | 'bad_query'
  | 'unknown_field'
  | 'bad_parameter'
  | 'bad_request'
  | 'not_found'
  | 'unavailable'
  | 'internal_error';

export interface ApiErrorBody {
  error: ApiErrorCode;
  message: string;
  /** bad_query: 0-based character offset of the problem in `q`. */
  position?: number;
  /** unknown_field: the field as written. */
  field?: string;
  /** bad_parameter: the query-string parameter at fault. */
  parameter?: string;
  /** When the error comes from the coded catalogue (src/core/errors.ts). */
  code?: ErrorCode;
  /** On a 5xx: the request's id, as on the logwharf log line that has the details (and the `request-id` header). */
  request_id?: string;
}

/** A request parameter that is wrong; thrown by routes, answered with 400 `bad_parameter`. */
export class ParameterError extends Error {
  readonly parameter: string;
  constructor(parameter: string, message: string, options?: { cause?: unknown }) {
    super(`${parameter}: ${message}`, options);
    this.name = 'ParameterError';
    this.parameter = parameter;
  }
}

/**
 * Store errors are recognised by name rather than imported: UnknownFieldError (src/query/sql.ts)
 * and InvalidCursorError (src/sinks/embedded/paging.ts) belong to one store, and the API must
 * not depend on it; another store (Elasticsearch) throws errors of the same names. TimeBoundError
 * is matched the same way for symmetry.
 */
function isNamed(err: unknown, name: string): err is Error & Record<string, unknown> {
  return err instanceof Error && (err.name === name || err.constructor?.name === name);
}

/** Status for a LogwharfError: the caller's fault (400) or a dependency that is down (503). */
const CODE_STATUS: Record<ErrorCode, { status: number; error: ApiErrorCode }> = {
  LOGWHARF_ERR_QUERY: { status: 400, error: 'bad_query' },
  LOGWHARF_ERR_USAGE: { status: 400, error: 'bad_request' },
  LOGWHARF_ERR_STORE: { status: 503, error: 'unavailable' },
  LOGWHARF_ERR_DOCKER_UNREACHABLE: { status: 503, error: 'unavailable' },
  LOGWHARF_ERR_SERVER: { status: 502, error: 'unavailable' },
  LOGWHARF_ERR_CONFIG: { status: 500, error: 'internal_error' },
  LOGWHARF_ERR_LISTEN: { status: 500, error: 'internal_error' },
};

/** Maps any thrown value to a status and body. Pure, so it is tested without a server. */
export function toApiError(err: unknown): { status: number; body: ApiErrorBody } {
  if (err instanceof QuerySyntaxError) {
    return { status: 400, body: { error: 'bad_query', message: err.message, position: err.position } };
  }
  if (isNamed(err, 'UnknownFieldError')) {
    const field = typeof err.field === 'string' ? err.field : undefined;
    return {
      status: 400,
      body: { error: 'unknown_field', message: err.message, ...(field !== undefined ? { field } : {}) },
    };
  }
  if (isNamed(err, 'InvalidCursorError')) {
    const message = /cursor/i.test(err.message) ? err.message : `cursor: ${err.message}`;
    return { status: 400, body: { error: 'bad_parameter', message, parameter: 'cursor' } };
  }
  if (err instanceof ParameterError) {
    return { status: 400, body: { error: 'bad_parameter', message: err.message, parameter: err.parameter } };
  }
  if (isNamed(err, 'TimeBoundError')) {
    // Routes wrap these in a ParameterError naming from/to; this catches any that escape.
    return { status: 400, body: { error: 'bad_parameter', message: err.message } };
  }
  if (err instanceof LogwharfError) {
    const m = CODE_STATUS[err.code];
    const message = m.status >= 500 && m.error === 'internal_error' ? 'internal error' : err.message;
    return { status: m.status, body: { error: m.error, message, code: err.code } };
  }
  const fe = err as Partial<FastifyError> | undefined;
  if (fe && Array.isArray(fe.validation)) return { status: 400, body: validationBody(fe as FastifyError) };
  if (fe && typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    // fastify's own client errors (bad JSON body, unsupported media type, ...): keep the status.
    return { status: fe.statusCode, body: { error: 'bad_request', message: String(fe.message) } };
  }
  // Anything else is a bug or an outage: never leak the message or stack, they go to the log.
  return { status: 500, body: { error: 'internal_error', message: 'internal error; see the logwharf log' } };
}

/** A schema validation failure names the parameter: `limit: must be <= 10000`. */
function validationBody(err: FastifyError): ApiErrorBody {
  const first = err.validation?.[0];
  let parameter: string | undefined;
  if (first) {
    const missing = (first.params as { missingProperty?: unknown } | undefined)?.missingProperty;
    parameter =
      typeof missing === 'string'
        ? missing
        : first.instancePath.replace(/^\//, '').split('/')[0] || undefined;
  }
  const detail = first?.message ?? 'is invalid';
  const allowed = (first?.params as { allowedValues?: unknown } | undefined)?.allowedValues;
  const suffix = Array.isArray(allowed) ? ` (${allowed.join(', ')})` : '';
  const message = parameter ? `${parameter}: ${detail}${suffix}` : err.message;
  return { error: 'bad_parameter', message, ...(parameter ? { parameter } : {}) };
}

/** Requests whose 5xx errorHandler logged already (with the error), so onResponse does not log them again. */
const loggedErrors = new WeakSet<FastifyRequest>();

export function errorHandler(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const { status, body } = toApiError(err);
  if (status >= 500) {
    loggedErrors.add(request);
    request.log.error(
      { err, status, method: request.method, route: request.routeOptions.url },
      'request failed',
    );
    // The id on the log line, so "see the logwharf log" leads somewhere.
    body.request_id = request.id;
  } else {
    request.log.debug({ err: { message: err.message }, status }, 'request rejected');
  }
  void reply.code(status).type('application/json; charset=utf-8').send(body);
}

/**
 * onResponse: a 5xx that no error went with (errorHandler logs those) is logged too, at error
 * level; a probe's (/readyz answering 503) at debug, since the failing part logs its own errors
 * and probes come every few seconds.
 */
export function logServerError(request: FastifyRequest, reply: FastifyReply): void {
  if (reply.statusCode < 500 || loggedErrors.has(request)) return;
  const probe = (request.routeOptions.config as { probe?: boolean } | undefined)?.probe === true;
  request.log[probe ? 'debug' : 'error'](
    { status: reply.statusCode, method: request.method, route: request.routeOptions.url ?? request.url },
    'request answered with a server error',
  );
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): void {
  const body: ApiErrorBody = {
    error: 'not_found',
    message: `no route ${request.method} ${request.url.split('?')[0]}`,
  };
  void reply.code(404).send(body);
}
