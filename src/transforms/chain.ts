import type { TransformsConfig } from '../config/schema.js';
import { parseDuration } from '../core/duration.js';
import type { LogEvent } from '../core/event.js';
import { parseSyslog } from '../sources/syslog/parse.js';
import { type ParsedBody, parseBody, parseJsonBody, parseLogfmtBody } from './body.js';
import { ContainerProfiles, type ParserMode } from './container-profile.js';
import { compileRedactor, type Redactor } from './redact.js';
import { sanitizeMessage } from './sanitize.js';
import { newSenderTimeCounters, type SenderTimeCounters, senderTimeStep } from './sender-time.js';

export interface TransformOptions {
  config: TransformsConfig;
  log: { warn(obj: object, msg: string): void };
  /** Where replaced sender times are counted; the service keeps one across reloads for /metrics. */
  senderTime?: SenderTimeCounters;
}

/**
 * The transforms every event goes through as it enters the pipeline, in DESIGN.md's order
 * (multiline joining happens just before, in MultilineStage, because it holds lines across calls):
 *
 *   decode (sanitize: ANSI codes, control characters)
 *   -> parse (per container: auto | json | logfmt | syslog | none; syslog messages: their body)
 *   -> tag (log.syslog.appname from a Docker-style template)
 *   -> sender time (a syslog header's time outside transforms.sender_time: the receive time)
 *   -> redact (built-in and configured rules, on everything that is stored or forwarded)
 *
 * A level found in a container line overrides the stream's default (stdout info, stderr err);
 * a syslog message's PRI is explicit and is not overridden by words in its text.
 * `event.original` keeps the raw line whenever the stored message differs from it; it is
 * redacted like the message, or the secret would be kept there.
 */
export function createTransform(opts: TransformOptions): (events: LogEvent[]) => void {
  const profiles = new ContainerProfiles(opts.config, opts.log);
  // Validated at config load (config/semantic.ts), so this does not throw here.
  const redactor: Redactor | null = compileRedactor(opts.config.redact);
  const senderTime = senderTimeStep(
    {
      maxAgeMs: parseDuration(opts.config.sender_time.max_age),
      maxAheadMs: parseDuration(opts.config.sender_time.max_ahead),
    },
    opts.senderTime ?? newSenderTimeCounters(),
  );
  return (events) => {
    const now = new Date();
    for (const e of events) {
      transformEvent(e, profiles, now);
      senderTime(e);
      redactor?.redactEvent(e);
    }
  };
}

function transformEvent(e: LogEvent, profiles: ContainerProfiles, now: Date): void {
  const raw = e.message;
  const clean = sanitizeMessage(raw);
  let message = clean;
  if (e.dataset === 'syslog') {
    const parsed = parseBody(clean);
    if (parsed) message = applyBody(e, parsed, clean, false);
  } else {
    const profile = e.container ? profiles.get(e.container) : undefined;
    const mode: ParserMode = profile?.parser ?? 'auto';
    if (mode === 'syslog') message = applySyslogLine(e, clean, now);
    else if (mode !== 'none') {
      const parsed =
        mode === 'json'
          ? parseJsonBody(clean)
          : mode === 'logfmt'
            ? parseLogfmtBody(clean)
            : parseBody(clean);
      if (parsed) message = applyBody(e, parsed, clean, true);
    }
    if (profile?.tag !== undefined) {
      e.syslog ??= {};
      e.syslog.appname ??= profile.tag;
    }
  }
  if (message !== raw) {
    e.message = message;
    e.original ??= raw;
  }
}

/** Puts what the body parser found on the event; returns the message to store. */
function applyBody(e: LogEvent, parsed: ParsedBody, text: string, levelWins: boolean): string {
  if (levelWins) {
    if (parsed.severity !== undefined) e.severity = parsed.severity;
    if (parsed.facility !== undefined) e.facility = parsed.facility;
  }
  if (parsed.fields !== undefined) e.fields = parsed.fields;
  if (parsed.access !== undefined) e.access = parsed.access;
  return parsed.message ?? text;
}

/**
 * `logwharf.parser=syslog`: a container that writes syslog-formatted lines (an rsyslog or a
 * legacy daemon in the foreground). The header goes to log.syslog.*, the PRI to the severity;
 * the container's own facts (service, host, Docker's timestamp) stay. Its body is parsed too.
 */
function applySyslogLine(e: LogEvent, text: string, now: Date): string {
  const msg = parseSyslog(text, { now });
  if (msg.format === 'unparsed') {
    e.flags = [...(e.flags ?? []), 'unparsed'];
    return text;
  }
  if (msg.hasPri) {
    e.severity = msg.severity;
    e.facility = msg.facility;
  }
  const header: NonNullable<LogEvent['syslog']> = {};
  if (msg.hostname !== undefined) header.hostname = msg.hostname;
  if (msg.appname !== undefined) header.appname = msg.appname;
  if (msg.procid !== undefined) header.procid = msg.procid;
  if (msg.msgid !== undefined) header.msgid = msg.msgid;
  if (msg.structuredData !== undefined) header.structuredData = msg.structuredData;
  e.syslog = header;
  const parsed = parseBody(msg.message);
  return parsed ? applyBody(e, parsed, msg.message, !msg.hasPri) : msg.message;
}
