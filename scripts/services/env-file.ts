/**
 * .tmp/services.env: the KEY=value lines of the last `npm run services`, so the vitest run that
 * follows it (a separate process) reaches the same services. Written whole on each run.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SERVICES_ENV_FILE = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '.tmp',
  'services.env',
);

export function formatServicesEnv(vars: Record<string, string>): string {
  return Object.entries(vars)
    .map(([k, v]) => `${k}=${v}\n`)
    .join('');
}

/** Pure: KEY=value lines; blank lines and # comments are ignored. */
export function parseServicesEnv(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) vars[m[1]!] = m[2]!;
  }
  return vars;
}

export async function writeServicesEnv(
  vars: Record<string, string>,
  path = SERVICES_ENV_FILE,
): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, formatServicesEnv(vars));
}

/** The variables of the last run, or none if `npm run services` has not run here. */
export async function readServicesEnv(path = SERVICES_ENV_FILE): Promise<Record<string, string>> {
  return parseServicesEnv(await readFile(path, 'utf8').catch(() => ''));
}
