/**
 * Temporary directories that tests do not have to remember to remove.
 *
 * All live under one folder, `<os tmp>/logwharf-tests/`, so what a hook or a killed run leaves
 * behind is found and removed by a later run's global setup (`removeStaleTempDirs`).
 */
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const TEMP_ROOT = join(tmpdir(), 'logwharf-tests');

/**
 * Creates a fresh, empty directory and returns its path. Called inside a test, it is removed when
 * the test finishes. Called from a hook (beforeAll, ...), remove it with `removeTempDir` in the
 * matching after-hook; otherwise the next run removes it once it is an hour old.
 */
export async function tempDir(prefix = 'lwtest-'): Promise<string> {
  await mkdir(TEMP_ROOT, { recursive: true });
  const path = await mkdtemp(join(TEMP_ROOT, prefix));
  // Imported here, not at the top: the global setup imports this module too, in vitest's main
  // process, where importing 'vitest' throws.
  const { onTestFinished } = await import('vitest');
  try {
    onTestFinished(() => removeTempDir(path));
  } catch {
    // Not inside a test: see above.
  }
  return path;
}

/** Removes a directory and everything in it; a missing one is fine. */
export function removeTempDir(path: string): Promise<void> {
  return rm(path, { recursive: true, force: true });
}

/**
 * Removes directories under TEMP_ROOT not modified for `maxAgeMs`. Younger ones may belong to a
 * run still going (other worktrees share the machine). Returns the paths removed.
 */
export async function removeStaleTempDirs(maxAgeMs = 3_600_000, now = Date.now()): Promise<string[]> {
  const names = await readdir(TEMP_ROOT).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names) {
    const path = join(TEMP_ROOT, name);
    const info = await stat(path).catch(() => undefined);
    if (info && now - info.mtimeMs > maxAgeMs) {
      await removeTempDir(path);
      removed.push(path);
    }
  }
  return removed;
}
