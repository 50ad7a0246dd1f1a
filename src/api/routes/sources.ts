import { type Static, Type as T } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { SourceStatus, StatusProvider } from '../../core/status.js';

/** The JSON form of a SourceStatus: the same facts with snake_case keys. */
export const SourceJson = T.Object({
  kind: T.Union([T.Literal('docker'), T.Literal('syslog')]),
  id: T.String(),
  name: T.String(),
  state: T.Union([
    T.Literal('attached'),
    T.Literal('detached'),
    T.Literal('reconnecting'),
    T.Literal('stopped'),
  ]),
  lines_read: T.Integer(),
  last_line_time: T.Union([T.String(), T.Null()]),
  committed_time: T.Union([T.String(), T.Null()]),
  /** Seconds the oldest line read and not yet committed has waited; 0 when caught up; null when not measured (syslog). */
  lag_seconds: T.Union([T.Number(), T.Null()]),
  reconnects: T.Integer(),
  /** Lines lost, by reason. */
  dropped: T.Record(T.String(), T.Integer()),
  /** Docker: reading is paused because the pipeline is full (backpressure); Docker keeps the lines. */
  paused: T.Optional(T.Boolean()),
  compose: T.Optional(
    T.Object({
      project: T.Optional(T.String()),
      service: T.Optional(T.String()),
      number: T.Optional(T.Integer()),
    }),
  ),
});
export type SourceJson = Static<typeof SourceJson>;

export const SourcesResponse = T.Object({
  sources: T.Array(SourceJson),
  /** Present when a sink keeps refused events aside: how many, and where. */
  dead_letters: T.Optional(T.Object({ count: T.Integer(), dir: T.String() })),
});
export type SourcesResponse = Static<typeof SourcesResponse>;

export function toSourceJson(s: SourceStatus): SourceJson {
  return {
    kind: s.kind,
    id: s.id,
    name: s.name,
    state: s.state,
    lines_read: s.linesRead,
    last_line_time: s.lastLineTime,
    committed_time: s.committedTime,
    lag_seconds: s.lagSeconds,
    reconnects: s.reconnects,
    dropped: { ...s.dropped },
    ...(s.paused !== undefined ? { paused: s.paused } : {}),
    ...(s.compose !== undefined ? { compose: { ...s.compose } } : {}),
  };
}

export const sourcesRoutes: FastifyPluginAsync<{ status: StatusProvider }> = async (app, opts) => {
  app.get('/sources', { schema: { response: { 200: SourcesResponse } } }, async () => {
    const body: SourcesResponse = { sources: opts.status.sources().map(toSourceJson) };
    const dead = opts.status.deadLetters?.();
    if (dead) body.dead_letters = { count: dead.count, dir: dead.dir };
    return body;
  });
};
