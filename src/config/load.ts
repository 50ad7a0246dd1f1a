import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { LogwharfError } from '../core/errors.js';
import { applyDefaults, dropNullMappings, isRecord } from './defaults.js';
import { applyEnvOverrides, type EnvOverride, readEnvOverrides } from './env.js';
import { type ConfigProblem, formatPath, formatProblem, type RawProblem, showValue } from './problems.js';
import { type Config, ConfigSchema } from './schema.js';
import { semanticProblems } from './semantic.js';
import { schemaProblems } from './validate.js';
import { parseYamlSource, type YamlSource } from './yaml-source.js';

/**
 * Loading the configuration: YAML file (with positions) + `LOGWHARF_*` environment overrides
 * -> defaults -> schema validation -> cross-field rules -> a deeply frozen `Config`.
 * Every problem is collected before anything is reported, so one run shows all of them.
 */

export type { ConfigProblem } from './problems.js';
export { formatProblem } from './problems.js';

export interface LoadOptions {
  /** The YAML file; null or absent = defaults and environment only. Relative to `cwd`. */
  file?: string | null;
  /** Defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** Defaults to process.cwd(); relative `file` and `data_dir` resolve against it. */
  cwd?: string;
}

export interface CheckResult {
  /** Present exactly when there are no problems. */
  config?: Config;
  problems: ConfigProblem[];
}

/** The file `npm start` and `check-config` use when none is named. */
export const DEFAULT_CONFIG_FILE = 'config/logwharf.yaml';

/** Thrown by loadConfig; the message lists every problem, one `FILE:LINE:COL: KEY: MESSAGE` per line. */
export class ConfigError extends LogwharfError {
  readonly problems: readonly ConfigProblem[];
  constructor(problems: readonly ConfigProblem[]) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super(
      'LOGWHARF_ERR_CONFIG',
      `invalid configuration (${count}):\n${problems.map(formatProblem).join('\n')}`,
    );
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Which file to read: the one named, else $LOGWHARF_CONFIG, else config/logwharf.yaml if it exists, else none. */
export function resolveConfigFile(
  explicit: string | null | undefined,
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
): string | null {
  if (explicit) return explicit;
  if (env.LOGWHARF_CONFIG) return env.LOGWHARF_CONFIG;
  return existsSync(resolve(cwd, DEFAULT_CONFIG_FILE)) ? DEFAULT_CONFIG_FILE : null;
}

/** The validated, defaulted, frozen configuration; throws ConfigError (LOGWHARF_ERR_CONFIG) listing every problem. */
export function loadConfig(opts: LoadOptions = {}): Config {
  const { config, problems } = checkConfig(opts);
  if (!config) throw new ConfigError(problems);
  return config;
}

/** Every problem with the configuration, or the configuration when there is none. */
export function checkConfig(opts: LoadOptions = {}): CheckResult {
  const cwd = opts.cwd ?? process.cwd();
  const { overrides, problems: envProblems } = readEnvOverrides(opts.env ?? process.env);

  let source: YamlSource | undefined;
  if (opts.file !== null && opts.file !== undefined) {
    const text = readConfigFile(opts.file, cwd);
    if (typeof text !== 'string') return { problems: [text, ...envProblems] };
    source = parseYamlSource(text, opts.file);
    // A document with syntax errors has no reliable structure; schema problems found in
    // whatever was recovered from it would mislead, so stop at the syntax errors.
    if (source.syntaxProblems.length > 0) return { problems: [...source.syntaxProblems, ...envProblems] };
  }

  const data = source?.data ?? {};
  if (!isRecord(data)) {
    const at = source?.locate([], 'value');
    const message = `expected a mapping of settings at the top level, got ${showValue(data)}`;
    return { problems: [{ path: '', message, file: source?.file, ...at, source: 'file' }, ...envProblems] };
  }

  const merged = dropNullMappings(ConfigSchema, applyEnvOverrides(data, overrides));
  const value = applyDefaults(ConfigSchema, merged);
  const raw = schemaProblems(ConfigSchema, value);
  const reported = new Set(raw.map((p) => formatPath(p.segments)));
  raw.push(...semanticProblems(value).filter((p) => !reported.has(formatPath(p.segments))));

  const problems = [...raw.map((p) => locate(p, source, overrides)), ...envProblems].sort(byPosition);
  if (problems.length > 0) return { problems };

  const config = value as Config;
  // data_dir resolves against the working directory, not the config file's directory:
  // `npm start` runs from the checkout with config/logwharf.yaml and DESIGN puts data under
  // ./data of the checkout, not config/data. Scripts and containers set the working directory
  // (or an absolute data_dir) to choose where data goes, whatever file they pass.
  return { config: deepFreeze({ ...config, data_dir: resolve(cwd, config.data_dir) }), problems: [] };
}

function readConfigFile(file: string, cwd: string): string | ConfigProblem {
  const path = resolve(cwd, file);
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const message =
      code === 'ENOENT'
        ? `config file not found (looked for ${path})`
        : code === 'EISDIR'
          ? `${path} is a directory, not a config file`
          : `cannot read the config file: ${(error as Error).message}`;
    return { path: '', message, file, source: 'file' };
  }
}

/**
 * Places a problem where the user wrote the offending setting: the environment variable that
 * set the key or one of its parents (env wins over the file), else the file position.
 */
function locate(
  problem: RawProblem,
  source: YamlSource | undefined,
  overrides: readonly EnvOverride[],
): ConfigProblem {
  const { segments, message } = problem;
  const path = formatPath(segments);
  const shared = (o: EnvOverride) => {
    let n = 0;
    while (n < o.segments.length && n < segments.length && o.segments[n] === segments[n]) n++;
    return n;
  };
  let blame = overrides
    .filter((o) => shared(o) === o.segments.length)
    .sort((a, b) => shared(b) - shared(a))[0];
  // With no file, a key the environment did not set itself can only be missing next to one it did.
  if (!blame && !source) blame = [...overrides].sort((a, b) => shared(b) - shared(a))[0];
  if (blame) return { path, message, file: blame.variable, source: 'env' };
  if (!source) return { path, message, source: 'file' };
  return { path, message, file: source.file, ...source.locate(segments, problem.at), source: 'file' };
}

/** File problems first, in file order; then environment problems by variable name. */
function byPosition(a: ConfigProblem, b: ConfigProblem): number {
  if (a.source !== b.source) return a.source === 'file' ? -1 : 1;
  if (a.source === 'env') return (a.file ?? '').localeCompare(b.file ?? '');
  return (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
