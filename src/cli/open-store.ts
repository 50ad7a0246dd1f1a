import { loadConfig, resolveConfigFile } from '../config/load.js';
import type { StoreReader } from '../core/store.js';
import { openEmbeddedReader } from '../sinks/embedded/reader.js';

/** Opens the store named by the config read-only, for `logwharf query`. */
export async function openReaderFromConfig(file: string | undefined): Promise<StoreReader> {
  const config = loadConfig({ file: resolveConfigFile(file) });
  return openEmbeddedReader({ dataDir: config.data_dir });
}
