import type { TransformsConfig } from '../config/schema.js';
import type { ContainerInfo } from '../core/event.js';
import { compileTagTemplate, TAG_LABEL } from './tag.js';

export type ParserMode = 'auto' | 'json' | 'logfmt' | 'syslog' | 'none';
const PARSER_MODES: ReadonlySet<string> = new Set(['auto', 'json', 'logfmt', 'syslog', 'none']);

export const PARSER_LABEL = 'logwharf.parser';

/** How one container's lines are parsed and tagged: its labels over the config's defaults. */
export interface ContainerProfile {
  parser: ParserMode;
  /** The rendered tag (log.syslog.appname), or undefined for none. */
  tag: string | undefined;
}

/**
 * Profiles are worked out once per container, not per line: every event of a container shares
 * one ContainerInfo object, so a WeakMap on it costs one lookup per line and forgets the
 * container with its last event. A label with a bad value is reported once, and the config's
 * default is used instead: a typo in one container's labels must not stop its logs.
 */
export class ContainerProfiles {
  private readonly cache = new WeakMap<ContainerInfo, ContainerProfile>();
  private readonly config: TransformsConfig;
  private readonly log: { warn(obj: object, msg: string): void };
  private readonly defaultTag: ((c: ContainerInfo) => string) | null;

  constructor(config: TransformsConfig, log: { warn(obj: object, msg: string): void }) {
    this.config = config;
    this.log = log;
    // Validated at config load, so it compiles.
    this.defaultTag = config.tag === null ? null : compileTagTemplate(config.tag);
  }

  get(c: ContainerInfo): ContainerProfile {
    let p = this.cache.get(c);
    if (!p) {
      p = { parser: this.parserOf(c), tag: this.tagOf(c) };
      this.cache.set(c, p);
    }
    return p;
  }

  private parserOf(c: ContainerInfo): ParserMode {
    const label = c.labels[PARSER_LABEL];
    if (label === undefined) return this.config.parser;
    const mode = label.trim().toLowerCase();
    if (PARSER_MODES.has(mode)) return mode as ParserMode;
    this.log.warn(
      { container: c.name, label: `${PARSER_LABEL}=${label}` },
      `unknown parser; expected one of auto, json, logfmt, syslog, none; using '${this.config.parser}'`,
    );
    return this.config.parser;
  }

  private tagOf(c: ContainerInfo): string | undefined {
    const label = c.labels[TAG_LABEL];
    if (label !== undefined && label !== '') {
      try {
        return compileTagTemplate(label)(c);
      } catch (err) {
        this.log.warn(
          { container: c.name, label: `${TAG_LABEL}=${label}`, err: String(err) },
          'invalid tag template; using the configured default',
        );
      }
    }
    return this.defaultTag?.(c);
  }
}
