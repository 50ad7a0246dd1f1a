import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import { type CheckResult, formatProblem } from './config/load.js';
import { formatPath } from './config/problems.js';
import type { Config, DockerSourceConfig, SyslogSourceConfig, TransformsConfig } from './config/schema.js';
import { parseDuration } from './core/duration.js';
import type { LogEvent } from './core/event.js';
import type { DockerSource } from './sources/docker/source.js';
import type { BoundAddresses } from './sources/syslog/listeners.js';
import type { SyslogSource } from './sources/syslog/source.js';
import type { MultilineConfig } from './transforms/multiline.js';

/**
 * SIGHUP: the configuration is read again (file and LOGWHARF_* environment, as at start) and
 * what can change while running changes, without losing or doubling a line:
 *
 * - sources: Docker's selection (enabled, project, include/exclude) and limits, syslog's
 *   listeners (enabled, addresses, TLS files), limits and idle timeout;
 * - parsing: parser, tag, multiline and redaction rules, the sender-clock window, for the lines
 *   that arrive after it;
 * - retention rules (kept; retention itself is not built yet).
 *
 * Everything else (data_dir, http, store, forward, pipeline, sources.docker.host,
 * shutdown_timeout) opens files, sockets or sinks that events flow through; changing them
 * under the running pipeline is what a restart is for. Such a change is logged as a warning
 * per key, and the rest of the reload still applies. A configuration with any problem is
 * rejected as a whole, every problem logged as check-config prints it; the old one stays.
 *
 * planReload is pure (what changes, what waits); applyReload does it, part by part: a part
 * that fails (a syslog port in use) is logged and keeps its old settings, the others apply.
 */

/** Keys that only a restart changes, as key paths; any change at or below one waits for it. */
export const RESTART_ONLY: readonly (readonly string[])[] = [
  ['data_dir'],
  ['shutdown_timeout'],
  ['http'],
  ['store'],
  ['forward'],
  ['pipeline'],
  // Another engine is another set of containers, ids and positions: a new source, not a reload.
  ['sources', 'docker', 'host'],
];

export interface ReloadPlan {
  /** Which running parts take the new settings. */
  live: {
    /** Anything under sources.docker but host. */
    docker: boolean;
    /** Anything under sources.syslog. */
    syslog: boolean;
    /** transforms.parser, tag, redact, sender_time: the pipeline's transform is built again. */
    transform: boolean;
    /** transforms.multiline, or sources.docker.max_line_bytes (the joined event's limit). */
    multiline: boolean;
    retention: boolean;
  };
  /** Changed keys that wait for a restart (`store.kind`, `forward.syslog`), in config order. */
  restartNeeded: string[];
  /** The configuration in force after the reload: `next`, with the restart-only keys as they were. */
  effective: Config;
}

/** What changes between the configuration in force and the new one. Pure. */
export function planReload(old: Config, next: Config): ReloadPlan {
  const changed = changedPaths(old, next, []);
  const under = (prefix: readonly string[]) => (path: readonly string[]) =>
    prefix.every((segment, i) => path[i] === segment);
  const any = (prefix: readonly string[]) => changed.some(under(prefix));
  const restartOnly = (path: readonly string[]) => RESTART_ONLY.some((prefix) => under(prefix)(path));

  // The restart-only keys keep their old values, taken from RESTART_ONLY itself so the two
  // cannot drift apart.
  let effective = next;
  for (const path of RESTART_ONLY) effective = withValueAt(effective, path, valueAt(old, path));
  return {
    live: {
      docker: changed.some((p) => under(['sources', 'docker'])(p) && !restartOnly(p)),
      syslog: any(['sources', 'syslog']),
      transform:
        any(['transforms', 'parser']) ||
        any(['transforms', 'tag']) ||
        any(['transforms', 'redact']) ||
        any(['transforms', 'sender_time']),
      multiline: any(['transforms', 'multiline']) || any(['sources', 'docker', 'max_line_bytes']),
      retention: any(['retention']),
    },
    restartNeeded: changed.filter(restartOnly).map(formatPath),
    effective,
  };
}

/**
 * The key paths whose values differ, as deep as both sides are mappings; a list, or a key
 * that is a mapping on one side only (`auth: none` against tokens), counts as one change.
 */
export function changedPaths(a: unknown, b: unknown, at: readonly string[]): string[][] {
  if (isDeepStrictEqual(a, b)) return [];
  if (!isMapping(a) || !isMapping(b)) return [[...at]];
  const out: string[][] = [];
  const keys = [...Object.keys(a), ...Object.keys(b).filter((k) => !(k in a))];
  for (const key of keys) out.push(...changedPaths(a[key], b[key], [...at, key]));
  return out;
}

/** The multiline stage's settings from the config (the joined event's limit is max_line_bytes). */
export function multilineConfigOf(config: Config): MultilineConfig {
  const m = config.transforms.multiline;
  return {
    enabled: m.enabled,
    flushAfterMs: parseDuration(m.flush_after),
    maxLines: m.max_lines,
    maxBytes: config.sources.docker.max_line_bytes,
    rules: m.rules,
  };
}

/** The running parts a reload changes. applyReload replaces `docker`, `syslog` and `syslogAddresses`. */
export interface ReloadParts {
  docker: DockerSource | null;
  syslog: SyslogSource | null;
  syslogAddresses: BoundAddresses;
  pipeline: { setTransform(transform: (events: LogEvent[]) => void): void };
  /** The pipeline's transform built as at start (its counters carry on across reloads). */
  newTransform(config: TransformsConfig): (events: LogEvent[]) => void;
  multiline: { reconfigure(config: MultilineConfig): void };
  /** A Docker source wired as at start (not started yet). */
  newDocker(config: DockerSourceConfig): DockerSource;
  /** A syslog source wired as at start (not started yet). */
  newSyslog(config: SyslogSourceConfig): SyslogSource;
}

export interface ReloadResult {
  /** False when the new configuration was rejected, or a part of it could not be applied. */
  ok: boolean;
  /** Why the configuration was rejected, as check-config prints it (`FILE:LINE:COL: KEY: MESSAGE`). */
  problems: string[];
  /** The parts that took new settings: `sources.docker`, `sources.syslog`, `transforms`, `multiline`, `retention`. */
  applied: string[];
  /** Changed keys that take effect at the next restart. */
  restartNeeded: string[];
  /** Parts that could not take their new settings (they keep the old ones), with the error. */
  failed: { part: string; error: string }[];
}

/**
 * Applies a freshly loaded configuration to the running parts; returns the configuration now
 * in force (the old one when `next` was rejected) and what happened, which it also logs.
 * Reloads must not overlap: the caller runs one at a time.
 */
export async function applyReload(
  parts: ReloadParts,
  old: Config,
  next: CheckResult,
  log: Logger,
): Promise<{ config: Config; result: ReloadResult }> {
  if (!next.config) {
    const problems = next.problems.map(formatProblem);
    log.error(
      { problems },
      `configuration reload rejected (${problems.length === 1 ? '1 problem' : `${problems.length} problems`}): ` +
        `the configuration in force stays\n${problems.join('\n')}`,
    );
    return { config: old, result: { ok: false, problems, applied: [], restartNeeded: [], failed: [] } };
  }
  const plan = planReload(old, next.config);
  let effective = plan.effective;
  const applied: string[] = [];
  const failed: ReloadResult['failed'] = [];

  for (const key of plan.restartNeeded) {
    log.warn({ key }, `${key} changed: takes effect at the next restart`);
  }
  // Parsing first, so that containers and peers followed from now on are read with the new rules.
  if (plan.live.transform) {
    parts.pipeline.setTransform(parts.newTransform(effective.transforms));
    applied.push('transforms');
  }
  if (plan.live.multiline) {
    parts.multiline.reconfigure(multilineConfigOf(effective));
    applied.push('transforms.multiline');
  }
  if (plan.live.docker) {
    await reloadDocker(parts, effective.sources.docker);
    applied.push('sources.docker');
  }
  // TLS listeners re-read their certificate files at every reload (certificate rotation).
  const syslogNext = effective.sources.syslog;
  if (plan.live.syslog || (parts.syslog !== null && syslogNext.enabled && syslogNext.tls !== null)) {
    const error = await reloadSyslog(parts, syslogNext);
    if (error) {
      failed.push({ part: 'sources.syslog', error });
      log.error({ part: 'sources.syslog', err: error }, `sources.syslog: not reloaded as a whole: ${error}`);
      // What did not apply stays as it was (a receiver that could not start: off), so that the
      // next reload tries it again.
      const kept = parts.syslog?.settings ?? old.sources.syslog;
      effective = freeze({ ...effective, sources: freeze({ ...effective.sources, syslog: kept }) });
    }
    if (plan.live.syslog) applied.push('sources.syslog');
  }
  if (plan.live.retention) {
    applied.push('retention');
    log.warn(
      { retention: effective.retention },
      'retention rules updated; retention is not applied yet: events are kept until removed by hand',
    );
  }

  const result: ReloadResult = {
    ok: failed.length === 0,
    problems: [],
    applied,
    restartNeeded: plan.restartNeeded,
    failed,
  };
  const summary = { applied, restart_needed: plan.restartNeeded, failed: failed.map((f) => f.part) };
  if (failed.length > 0) log.warn(summary, 'configuration reloaded in part');
  else if (applied.length === 0 && plan.restartNeeded.length === 0)
    log.info(summary, 'configuration reloaded: nothing changed');
  else log.info(summary, 'configuration reloaded');
  return { config: effective, result };
}

async function reloadDocker(parts: ReloadParts, config: DockerSourceConfig): Promise<void> {
  if (!config.enabled) {
    // Stopping keeps every position: lines read go on through the pipeline and are committed.
    await parts.docker?.stop();
    parts.docker = null;
    return;
  }
  if (parts.docker) {
    await parts.docker.reconfigure(config);
    return;
  }
  const docker = parts.newDocker(config);
  parts.docker = docker;
  docker.start();
}

/** Returns the error text when the syslog part could not be applied in full. */
async function reloadSyslog(parts: ReloadParts, config: SyslogSourceConfig): Promise<string | null> {
  if (!config.enabled) {
    await parts.syslog?.stop();
    parts.syslog = null;
    parts.syslogAddresses = {};
    return null;
  }
  if (parts.syslog) {
    try {
      parts.syslogAddresses = await parts.syslog.reconfigure(config);
      return null;
    } catch (err) {
      return errorText(err);
    }
  }
  const syslog = parts.newSyslog(config);
  try {
    parts.syslogAddresses = await syslog.start();
    parts.syslog = syslog;
    return null;
  } catch (err) {
    await syslog.stop();
    return errorText(err);
  }
}

function errorText(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' && code.startsWith('LOGWHARF_ERR_')
      ? `${err.message} [${code}]`
      : err.message;
  }
  return String(err);
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function valueAt(config: unknown, path: readonly string[]): unknown {
  let v = config;
  for (const key of path) v = isMapping(v) ? v[key] : undefined;
  return v;
}

/** A frozen copy of `config` with `value` at `path`, sharing everything off that path. */
function withValueAt<T>(config: T, path: readonly string[], value: unknown): T {
  if (path.length === 0) return value as T;
  const [key, ...rest] = path as [string, ...string[]];
  const mapping = config as Record<string, unknown>;
  return freeze({ ...mapping, [key]: withValueAt(mapping[key], rest, value) }) as T;
}

function freeze<T extends object>(value: T): T {
  return Object.freeze(value);
}
