/**
 * The event that flows from sources through transforms to sinks.
 *
 * It is flat on purpose: the hot path creates one of these per log line, so nested objects
 * are avoided, and per-container facts live in one shared `ContainerInfo` that every event
 * of that container points to. `toEcs()` (src/core/ecs.ts) turns it into the nested ECS
 * document that the API returns and Elasticsearch stores.
 */

/** Syslog severities, RFC 5424 section 6.2.1; the index is the numeric code. */
export const SEVERITY_NAMES = [
  'emerg',
  'alert',
  'crit',
  'err',
  'warning',
  'notice',
  'info',
  'debug',
] as const;
export type SeverityName = (typeof SEVERITY_NAMES)[number];

/** Syslog facilities, RFC 5424 section 6.2.1; the index is the numeric code. */
export const FACILITY_NAMES = [
  'kern',
  'user',
  'mail',
  'daemon',
  'auth',
  'syslog',
  'lpr',
  'news',
  'uucp',
  'cron',
  'authpriv',
  'ftp',
  'ntp',
  'security',
  'console',
  'solaris-cron',
  'local0',
  'local1',
  'local2',
  'local3',
  'local4',
  'local5',
  'local6',
  'local7',
] as const;

export const SEVERITY = {
  emerg: 0,
  alert: 1,
  crit: 2,
  err: 3,
  warning: 4,
  notice: 5,
  info: 6,
  debug: 7,
} as const;

/**
 * How deep `fields` may nest (objects and arrays, the outermost counted): the body parser keeps a
 * deeper JSON line as plain text, and Elasticsearch's `flattened` mapping of `fields` is told to
 * take this depth (its default of 20 would refuse such events for good).
 */
export const MAX_FIELDS_DEPTH = 64;

/** Docker's own syslog logging driver logs with facility `daemon`; we tag container lines alike. */
export const FACILITY_DAEMON = 3;

export type Stream = 'stdout' | 'stderr';

/** Facts about one container, shared by all its events (never copied per line). */
export interface ContainerInfo {
  id: string;
  name: string;
  imageName: string;
  labels: Readonly<Record<string, string>>;
  composeProject?: string;
  composeService?: string;
  composeNumber?: number;
  tty: boolean;
}

export interface SyslogHeader {
  hostname?: string;
  appname?: string;
  procid?: string;
  msgid?: string;
  /** SD-ID -> param name -> value */
  structuredData?: Record<string, Record<string, string>>;
}

/**
 * The facts of a web server access line (nginx, Apache), under the ECS names Filebeat's nginx
 * and Apache modules use, so Kibana and its dashboards find them. Absent keys were `-` in the
 * line (not sent) or not in its format.
 */
export interface AccessLog {
  /** `source.address`: the client; for a proxy chain, the first public IP in it (else its first entry). */
  client: string;
  /** `user.name`: the authenticated user. */
  user?: string;
  /** `http.request.method` */
  method?: string;
  /** `url.original`: the request target as written (path and query). */
  url?: string;
  /** `http.version`: `1.1` of `HTTP/1.1`; another protocol as written (`RTSP/1.0`). */
  version?: string;
  /** `http.response.status_code` */
  status: number;
  /** `http.response.body.bytes`: body bytes sent; Apache's `-` (nothing sent) is 0. */
  bytes: number;
  /** `http.request.referrer` */
  referrer?: string;
  /** `user_agent.original` */
  agent?: string;
}

export interface LogEvent {
  /** `@timestamp`: RFC 3339 UTC with exactly nine fraction digits, e.g. 2024-05-01T12:00:00.123456789Z */
  timestamp: string;
  /** `event.id`: deterministic, so a replay of the same line yields the same id. */
  id: string;
  dataset: 'docker' | 'syslog';
  /** `event.ingested`, RFC 3339 UTC. */
  ingested: string;
  message: string;
  /** `event.original`: the raw line, set only when it differs from `message`. */
  original?: string;
  /** Syslog severity code 0..7 (`log.level` is its name). */
  severity: number;
  /** Syslog facility code 0..23. */
  facility: number;
  stream?: Stream;
  container?: ContainerInfo;
  /** `host.name` */
  host: string;
  /** `service.name`: the compose service, else the syslog app-name. */
  service?: string;
  syslog?: SyslogHeader;
  /** `fields.*`: keys parsed out of a JSON or logfmt body (and what an access line has beyond `access`). */
  fields?: Record<string, unknown>;
  /** An access line's facts (`http.*`, `url.original`, `source.address`, ...). */
  access?: AccessLog;
  /** `log.source.address`: a syslog sender's IP address as the socket saw it (whatever its header claims). */
  senderAddress?: string;
  /**
   * `sender_timestamp`: the time the sender wrote, kept when it lay outside the accepted window
   * around the receive time (transforms.sender_time) and `timestamp` became the receive time.
   */
  senderTimestamp?: string;
  /** `log.flags`, as Filebeat uses them: `truncated`, `multiline`; also `clock_skew` (see senderTimestamp). */
  flags?: string[];
  /**
   * Where the event came from, for checkpoints: the source's key (a container id) and the
   * position of the line (its timestamp and its index among lines with that same timestamp).
   * Not part of the stored document.
   */
  sourceKey?: string;
  seq?: number;
  /**
   * How far the source's checkpoint may move once this event is committed, when that is not the
   * event's own (timestamp, seq): a multiline event covers lines up to its last one, and an event
   * released while another stream of the same container still holds lines must not move the
   * checkpoint past those held lines. Not part of the stored document.
   */
  checkpoint?: Position;
}

/** Everything below this file speaks of positions with this shape. */
export interface Position {
  /** RFC 3339 UTC, nine fraction digits. */
  timestamp: string;
  /** Index of the line among the lines of the same container with that same timestamp. */
  seq: number;
}
