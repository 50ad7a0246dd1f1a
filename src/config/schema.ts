import { type Static, Type as T } from '@sinclair/typebox';

/**
 * The configuration schema: the one source of the config's types, defaults and runtime
 * validation (DESIGN.md, "Command line"). Unknown keys are errors (additionalProperties: false),
 * so a typo fails start-up instead of being silently ignored.
 */

const HostPort = T.String({
  pattern: '^(\\[[0-9a-fA-F:.]+\\]|[^\\s:\\[\\]]+):[0-9]{1,5}$',
  description: 'host:port',
});
const Duration = T.String({
  pattern: '^[0-9]+(ms|s|m|h|d|w)$',
  description: 'a duration such as 500ms, 30s, 15m, 2h, 14d',
});
const Strict = { additionalProperties: false } as const;

/** Which containers: each list entry is a glob (`*`, `?`); labels are `key` or `key=value` globs. */
const ContainerMatch = T.Object(
  {
    labels: T.Array(T.String({ minLength: 1 }), { default: [] }),
    services: T.Array(T.String({ minLength: 1 }), { default: [] }),
    containers: T.Array(T.String({ minLength: 1 }), { default: [] }),
  },
  Strict,
);

export const DockerSourceSchema = T.Object(
  {
    enabled: T.Boolean({ default: true }),
    /** unix:///path, tcp://host:port or http(s)://host:port; null = DOCKER_HOST or the local socket */
    host: T.Union([T.String({ minLength: 1 }), T.Null()], { default: null }),
    project: T.Union([T.String({ minLength: 1 }), T.Null()], { default: null }),
    include: T.Optional(ContainerMatch),
    exclude: T.Optional(ContainerMatch),
    /** Longest event kept; a longer line (Docker cuts lines into 16 KiB frames) is cut and flagged `truncated`. */
    max_line_bytes: T.Integer({ minimum: 1024, default: 1048576 }),
  },
  { ...Strict, default: {} },
);

export const SyslogSourceSchema = T.Object(
  {
    enabled: T.Boolean({ default: false }),
    udp: T.Union([HostPort, T.Null()], { default: '127.0.0.1:5514' }),
    tcp: T.Union([HostPort, T.Null()], { default: '127.0.0.1:5514' }),
    tls: T.Union(
      [
        T.Object({ listen: HostPort, cert: T.String(), key: T.String(), ca: T.Optional(T.String()) }, Strict),
        T.Null(),
      ],
      {
        default: null,
      },
    ),
  },
  { ...Strict, default: {} },
);

const Token = T.Object(
  {
    token: T.String({ minLength: 16 }),
    role: T.Union([T.Literal('read'), T.Literal('admin')], { default: 'read' }),
  },
  Strict,
);

export const ConfigSchema = T.Object(
  {
    data_dir: T.String({ minLength: 1, default: './data' }),
    http: T.Object(
      {
        listen: T.Union([HostPort, T.Null()], {
          default: '127.0.0.1:8080',
          description: 'host:port, or null for no HTTP server',
        }),
        auth: T.Union(
          [T.Literal('none'), T.Object({ tokens: T.Array(Token, { minItems: 1 }) }, Strict), T.Null()],
          {
            default: null,
          },
        ),
      },
      { ...Strict, default: {} },
    ),
    sources: T.Object(
      {
        docker: DockerSourceSchema,
        syslog: SyslogSourceSchema,
      },
      { ...Strict, default: {} },
    ),
    store: T.Object(
      {
        kind: T.Union([T.Literal('embedded'), T.Literal('elasticsearch')], { default: 'embedded' }),
        elasticsearch: T.Optional(
          T.Object(
            { nodes: T.Array(T.String({ minLength: 1 }), { minItems: 1 }) },
            { additionalProperties: true },
          ),
        ),
      },
      { ...Strict, default: {} },
    ),
    pipeline: T.Object(
      {
        /** Events per store transaction, at most. */
        batch_size: T.Integer({ minimum: 1, maximum: 100000, default: 4096 }),
        /** How long an incomplete batch may wait before it is written. */
        flush_interval: T.Union([Duration], { default: '250ms' }),
        /** Events held in memory before the sources are paused (backpressure, never dropping). */
        max_in_flight: T.Integer({ minimum: 1, default: 65536 }),
      },
      { ...Strict, default: {} },
    ),
    retention: T.Array(
      T.Object(
        {
          name: T.String({ pattern: '^[a-z0-9][a-z0-9_-]*$' }),
          keep: Duration,
          match: T.Optional(T.String()),
        },
        Strict,
      ),
      { default: [{ name: 'default', keep: '14d' }] },
    ),
  },
  Strict,
);

export type Config = Static<typeof ConfigSchema>;
export type DockerSourceConfig = Static<typeof DockerSourceSchema>;
export type SyslogSourceConfig = Static<typeof SyslogSourceSchema>;
