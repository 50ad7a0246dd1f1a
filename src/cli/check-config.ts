import { checkConfig, formatProblem, resolveConfigFile } from '../config/load.js';
import type { Config } from '../config/schema.js';

/**
 * `logwharf check-config [--config FILE] [--json]`: validates a configuration (file plus
 * LOGWHARF_* environment) and prints every problem as `FILE:LINE:COL: KEY: MESSAGE`.
 * Exit code 0 when valid, 2 when not.
 */

export interface CommandOutput {
  /** Each call receives whole lines ending in '\n' (process.stdout.write fits). */
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

export const EXIT_OK = 0;
export const EXIT_INVALID = 2;

export async function checkConfigCommand(
  args: { config?: string; json?: boolean },
  out: CommandOutput,
  context: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<number> {
  const env = context.env ?? process.env;
  const cwd = context.cwd ?? process.cwd();
  const file = resolveConfigFile(args.config, env, cwd);
  const { config, problems } = checkConfig({ file, env, cwd });

  if (args.json) {
    const report = { ok: problems.length === 0, file, problems, config: config ? redact(config) : null };
    out.stdout(`${JSON.stringify(report)}\n`);
    return config ? EXIT_OK : EXIT_INVALID;
  }
  if (!config) {
    for (const problem of problems) out.stderr(`${formatProblem(problem)}\n`);
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    out.stderr(`config invalid: ${count}${file ? ` (${file})` : ''}\n`);
    return EXIT_INVALID;
  }
  out.stdout(`config OK: ${file ?? '(no file: defaults and environment)'}\n`);
  out.stdout(`${summarize(config)}\n`);
  return EXIT_OK;
}

/** One line: where data goes and what logwharf will listen to. */
export function summarize(config: Config): string {
  const parts: string[] = [];
  const store =
    config.store.kind === 'elasticsearch'
      ? `elasticsearch (${config.store.elasticsearch?.nodes.length ?? 0} nodes)`
      : 'embedded';
  parts.push(`store ${store}, data in ${config.data_dir}`);

  const auth = config.http.auth;
  const authText =
    auth === null ? 'no auth' : auth === 'none' ? 'auth: none' : `${auth.tokens.length} token(s)`;
  parts.push(config.http.listen === null ? 'HTTP off' : `HTTP ${config.http.listen} (${authText})`);

  const docker = config.sources.docker;
  if (!docker.enabled) parts.push('docker off');
  else {
    const which = docker.project === null ? 'own or every compose project' : `project '${docker.project}'`;
    parts.push(`docker: ${which} via ${docker.host ?? 'DOCKER_HOST or unix:///var/run/docker.sock'}`);
  }

  const syslog = config.sources.syslog;
  const listeners = [
    syslog.udp && `udp ${syslog.udp}`,
    syslog.tcp && `tcp ${syslog.tcp}`,
    syslog.tls && `tls ${syslog.tls.listen}`,
  ].filter(Boolean);
  parts.push(syslog.enabled ? `syslog ${listeners.join(', ') || '(no listener)'}` : 'syslog off');
  const forwards = config.forward.syslog.map((f) => `${f.target}${f.tls ? ' (tls)' : ''}`);
  if (forwards.length > 0) parts.push(`forward syslog ${forwards.join(', ')}`);

  parts.push(`retention ${config.retention.map((r) => `${r.name} ${r.keep}`).join(', ') || '(none)'}`);
  return parts.join('; ');
}

/** The config for --json output, without secrets: API tokens and Elasticsearch credentials. */
function redact(config: Config): unknown {
  const auth = config.http.auth;
  const http =
    auth === null || auth === 'none'
      ? config.http
      : { ...config.http, auth: { tokens: auth.tokens.map((t) => ({ ...t, token: '<redacted>' })) } };
  const es = config.store.elasticsearch;
  const store = es?.auth
    ? {
        ...config.store,
        elasticsearch: {
          ...es,
          auth: Object.fromEntries(
            Object.entries(es.auth).map(([k, v]) => [k, k === 'username' ? v : '<redacted>']),
          ),
        },
      }
    : config.store;
  return { ...config, http, store };
}
