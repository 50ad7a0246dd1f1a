import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

/**
 * Config files for tests that load them: a temp `root` (removed after the file's tests) and
 * `yamlFile(text)`, which writes `logwharf.yaml` in a fresh directory under it and returns its
 * path. Call at the top of a test file.
 */
export function yamlFiles(prefix: string): { root: string; yamlFile: (text: string) => string } {
  const root = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  let files = 0;
  return {
    root,
    yamlFile(text: string): string {
      const dir = join(root, `case-${++files}`);
      mkdirSync(dir);
      const file = join(dir, 'logwharf.yaml');
      writeFileSync(file, text);
      return file;
    },
  };
}
