import { loadConfig, resolveConfigFile } from '../config/load.js';
import { startService } from '../service.js';
import { createLogger } from '../telemetry/logger.js';

/** Grace period for SIGTERM/SIGINT before giving up on a clean stop. */
const STOP_TIMEOUT_MS = 10_000;

/** `logwharf run`: runs until SIGTERM or SIGINT, then stops cleanly. Resolves with the exit code. */
export async function runCommand(args: { config?: string }): Promise<number> {
  const config = loadConfig({ file: resolveConfigFile(args.config) });
  const log = createLogger();
  const service = await startService(config, log);
  log.info({ data_dir: config.data_dir }, 'logwharf running');
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  log.info({ signal }, 'stopping');
  const timedOut = await Promise.race([
    service.stop().then(() => false),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(true), STOP_TIMEOUT_MS).unref()),
  ]);
  if (timedOut) {
    log.error(
      { timeout_ms: STOP_TIMEOUT_MS },
      'stop timed out; exiting anyway (unsaved positions replay on the next start)',
    );
    return 1;
  }
  log.info('stopped');
  return 0;
}
