import type { TransformsConfig } from '../config/schema.js';
import type { ContainerInfo } from '../core/event.js';
import { resolveTag, TAG_LABEL } from './tag.js';

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

  constructor(config: TransformsConfig, log: { warn(obj: object, msg: string): void }) {
    this.config = config;
    this.log = log;
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
    // The configured template was validated at config load, so only the label can be wrong.
    const { tag, labelError } = resolveTag(c, this.config.tag);
    if (labelError) {
      this.log.warn(
        { container: c.name, label: `${TAG_LABEL}=${c.labels[TAG_LABEL]}`, err: String(labelError) },
        'invalid tag template; using the configured default',
      );
    }
    return tag;
  }
}
