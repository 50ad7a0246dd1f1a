import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig } from '../../src/config/load.js';
import { type Service, startService } from '../../src/service.js';
import { ApiClient } from './api-client.js';

export interface RunningLogwharf {
  service: Service;
  api: ApiClient;
  dataDir: string;
}

/**
 * logwharf assembled in the test process from a config file, exactly as `logwharf run` does,
 * for integration tests that need many starts and stops (the e2e tests use the real CLI).
 */
export async function startLogwharf(dir: string, yaml: string): Promise<RunningLogwharf> {
  const file = join(dir, `logwharf-${Date.now()}.yaml`);
  await writeFile(file, `data_dir: ${join(dir, 'data')}\nhttp:\n  listen: 127.0.0.1:0\n${yaml}`);
  const config = loadConfig({ file, env: {} });
  const log = pino({ level: process.env.LOGWHARF_TEST_LOG_LEVEL ?? 'silent' });
  const service = await startService(config, log);
  return { service, api: new ApiClient(service.httpAddress!), dataDir: config.data_dir };
}
