import { type Static, Type as T } from '@sinclair/typebox';
import { DURATION_PATTERN } from '../core/duration.js';

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
  pattern: DURATION_PATTERN,
  description: 'a duration such as 500ms, 30s, 15m, 2h, 14d, 1h30m',
});
const Strict = { additionalProperties: false } as const;

/**
 * The buffer between the pipeline and one sink (DESIGN.md, "Pipeline"). Positions move once
 * every sink's buffer has durably taken the events (a `memory` buffer: once the sink has).
 */
export const BufferSchema = T.Object(
  {
    /** `disk`: segment files under `<data_dir>/buffer/<sink>/`; `memory`: the sink is written directly. */
    kind: T.Union([T.Literal('disk'), T.Literal('memory')], { default: 'disk' }),
    /** Unsent bytes at most (disk); when reached, `when_full` applies. */
    max_bytes: T.Integer({ minimum: 65536, default: 268435456 }),
    /** `always`: fsync before the events count as taken (survives power loss); `never`: the OS decides (survives a crash of logwharf). */
    fsync: T.Union([T.Literal('always'), T.Literal('never')], { default: 'always' }),
    /** `block`: the sources stop reading until there is room (nothing lost); `drop_newest`: new events are dropped and counted. */
    when_full: T.Union([T.Literal('block'), T.Literal('drop_newest')], { default: 'block' }),
  },
  { ...Strict, default: {} },
);

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

/** Server side of syslog over TLS (RFC 5425). */
const SyslogTls = T.Object(
  {
    listen: HostPort,
    /** PEM files: the server's certificate chain and key. */
    cert: T.String({ minLength: 1 }),
    key: T.String({ minLength: 1 }),
    /** PEM CA bundle: with it, peers must present a client certificate it signed (mutual TLS). */
    ca: T.Optional(T.String({ minLength: 1 })),
  },
  Strict,
);

export const SyslogSourceSchema = T.Object(
  {
    enabled: T.Boolean({ default: false }),
    udp: T.Union([HostPort, T.Null()], { default: '127.0.0.1:5514' }),
    tcp: T.Union([HostPort, T.Null()], { default: '127.0.0.1:5514' }),
    tls: T.Union([SyslogTls, T.Null()], { default: null }),
    /** Longest message kept, in bytes; a longer one is cut and flagged `truncated` (RFC 5425 asks for at least 8192). */
    max_message_bytes: T.Integer({ minimum: 480, maximum: 16777216, default: 65536 }),
    /**
     * Open TCP connections at most, and TLS connections at most (each holds at most
     * max_message_bytes); beyond it a newcomer takes an idle connection's slot, or is refused.
     */
    max_connections: T.Integer({ minimum: 1, default: 1024 }),
    /**
     * A TCP/TLS connection that sends nothing for this long is closed from our side (and read on
     * until the peer closes it or its slot is needed: see connections.ts), so that quiet peers
     * cannot hold every max_connections slot. At least 1s; null: never.
     */
    idle_timeout: T.Union([Duration, T.Null()], { default: '5m' }),
  },
  { ...Strict, default: {} },
);

const Parser = T.Union(
  [T.Literal('auto'), T.Literal('json'), T.Literal('logfmt'), T.Literal('syslog'), T.Literal('none')],
  { default: 'auto' },
);

export const TransformsSchema = T.Object(
  {
    /** How container lines are parsed, unless a container's `logwharf.parser` label says otherwise. */
    parser: Parser,
    /** Docker-style tag template stored as log.syslog.appname (label `logwharf.tag` wins); null = none. */
    tag: T.Union([T.String({ minLength: 1 }), T.Null()], { default: null }),
    multiline: T.Object(
      {
        enabled: T.Boolean({ default: true }),
        /** Quiet time after which a pending multiline event is released. */
        flush_after: T.Union([Duration], { default: '1s' }),
        max_lines: T.Integer({ minimum: 2, default: 1000 }),
        /** Per compose service (globs): a regex that starts a new event; other lines continue it. */
        rules: T.Array(
          T.Object(
            {
              services: T.Array(T.String({ minLength: 1 }), { minItems: 1 }),
              start: T.String({ minLength: 1 }),
            },
            Strict,
          ),
          { default: [] },
        ),
      },
      { ...Strict, default: {} },
    ),
    redact: T.Object(
      {
        /** true: every built-in rule; false: none; or a list of their names. */
        builtin: T.Union([T.Boolean(), T.Array(T.String({ minLength: 1 }))], { default: true }),
        rules: T.Array(
          T.Object(
            {
              name: T.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_-]*$' }),
              pattern: T.String({ minLength: 1 }),
              replacement: T.Optional(T.String()),
            },
            Strict,
          ),
          { default: [] },
        ),
      },
      { ...Strict, default: {} },
    ),
    /**
     * The window around the receive time in which a time the sender wrote (a syslog header) is
     * believed; outside it the event is stored under the receive time (see transforms/sender-time.ts).
     */
    sender_time: T.Object(
      {
        max_age: T.Union([Duration], { default: '7d' }),
        max_ahead: T.Union([Duration], { default: '1d' }),
      },
      { ...Strict, default: {} },
    ),
  },
  { ...Strict, default: {} },
);

/** Client side of syslog over TLS, for forwarding. */
const ForwardTls = T.Object(
  {
    /** PEM CA bundle to verify the server; absent = the system's CAs. */
    ca: T.Optional(T.String({ minLength: 1 })),
    /** PEM client certificate and key, when the server asks for one. */
    cert: T.Optional(T.String({ minLength: 1 })),
    key: T.Optional(T.String({ minLength: 1 })),
    /** Name to verify the server's certificate against; default: the target's host. */
    server_name: T.Optional(T.String({ minLength: 1 })),
  },
  Strict,
);

export const ForwardSchema = T.Object(
  {
    /** Remote syslog servers that get every event as RFC 5424 (octet-counted over TCP or TLS). */
    syslog: T.Array(
      T.Object(
        { target: HostPort, tls: T.Union([ForwardTls, T.Null()], { default: null }), buffer: BufferSchema },
        Strict,
      ),
      { default: [] },
    ),
  },
  { ...Strict, default: {} },
);

/** The Elasticsearch store (DESIGN.md "Stores"): where users outgrow one machine. */
export const ElasticsearchSchema = T.Object(
  {
    /** The cluster's HTTP(S) URLs; requests are spread over them. */
    nodes: T.Array(T.String({ minLength: 1 }), { minItems: 1 }),
    /** null: no authentication (a cluster with security off). */
    auth: T.Union(
      [
        T.Object({ username: T.String({ minLength: 1 }), password: T.String() }, Strict),
        T.Object({ api_key: T.String({ minLength: 1 }) }, Strict),
        T.Object({ bearer: T.String({ minLength: 1 }) }, Strict),
        T.Null(),
      ],
      { default: null },
    ),
    /** PEM CA bundle to verify https:// nodes; absent = the system's CAs. */
    ca: T.Union([T.String({ minLength: 1 }), T.Null()], { default: null }),
    /** Indices are `<index_prefix>-<retention class>-YYYY.MM.DD`. */
    index_prefix: T.String({ pattern: '^[a-z0-9][a-z0-9_-]*$', maxLength: 100, default: 'logwharf' }),
    /** Largest bulk request body, in bytes; a batch is split to fit (and on a 413). */
    bulk_max_bytes: T.Integer({ minimum: 65536, maximum: 104857600, default: 5242880 }),
    /** Bulk requests in flight at once. */
    max_concurrency: T.Integer({ minimum: 1, maximum: 16, default: 2 }),
    /** Time limit of one request. */
    request_timeout: T.Union([Duration], { default: '30s' }),
  },
  Strict,
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
    /** SIGTERM/SIGINT: how long a clean stop may take (flush to buffers, save positions) before exiting anyway. */
    shutdown_timeout: T.Union([Duration], { default: '10s' }),
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
    transforms: TransformsSchema,
    forward: ForwardSchema,
    store: T.Object(
      {
        kind: T.Union([T.Literal('embedded'), T.Literal('elasticsearch')], { default: 'embedded' }),
        elasticsearch: T.Optional(ElasticsearchSchema),
        buffer: BufferSchema,
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
        /**
         * Bytes held in memory before the sources are paused, whichever of this and max_in_flight
         * comes first; an event counts its text (pipeline/event-bytes.ts). 64 MiB by default.
         */
        max_in_flight_bytes: T.Integer({ minimum: 1048576, default: 67108864 }),
        /** Bytes per batch at most (same count), whichever of this and batch_size comes first. 8 MiB by default. */
        batch_max_bytes: T.Integer({ minimum: 65536, default: 8388608 }),
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
export type TransformsConfig = Static<typeof TransformsSchema>;
export type ForwardConfig = Static<typeof ForwardSchema>;
export type BufferConfig = Static<typeof BufferSchema>;
export type ElasticsearchConfig = Static<typeof ElasticsearchSchema>;
