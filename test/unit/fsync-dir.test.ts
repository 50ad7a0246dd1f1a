import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fsyncDir, fsyncDirSync } from '../../src/core/fsync-dir.js';
import { tempDir } from '../helpers/tmp.js';

describe('fsyncDir: one behaviour, async and sync', () => {
  it('syncs an existing directory', async () => {
    const dir = await tempDir();
    await expect(fsyncDir(dir)).resolves.toBeUndefined();
    expect(() => fsyncDirSync(dir)).not.toThrow();
  });

  it('throws when the directory is gone: durability cannot be promised there', async () => {
    const gone = path.join(await tempDir(), 'gone');
    await expect(fsyncDir(gone)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(() => fsyncDirSync(gone)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });
});
