import { readEnvOverrides } from '../config/env.js';
import { checkConfig, loadConfig, resolveConfigFile } from '../config/load.js';
import { parseDuration } from '../core/duration.js';
import { Health } from '../core/health.js';
import { type Service, startService } from '../service.js';
import { createLogger } from '../telemetry/logger.js';

/** A clean stop: everything read is in the buffers or the store, positions saved. */
export const EXIT_STOPPED = 0;
/**
 * The stop ran out of shutdown_timeout, or a part of it failed (positions could not be saved);
 * what was not saved is read again at the next start.
 */
export const EXIT_STOP_TIMEOUT = 1;
/** A second SIGTERM/SIGINT cut the stop short: 128 + the signal's number, as a shell reports it. */
export const EXIT_FORCED: Readonly<Record<StopSignal, number>> = { SIGTERM: 143, SIGINT: 130 };

type StopSignal = 'SIGTERM' | 'SIGINT';

/** Where signals come from: `process`, or an EventEmitter in tests. */
export interface SignalSource {
  on(signal: NodeJS.Signals, listener: () => void): unknown;
  removeListener(signal: NodeJS.Signals, listener: () => void): unknown;
}

interface SuperviseLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface SuperviseOptions {
  start: () => Promise<Pick<Service, 'stop' | 'reload'>>;
  /** How long a stop may take before the process exits anyway (shutdown_timeout). */
  shutdownTimeoutMs: number;
  signals: SignalSource;
  log: SuperviseLog;
  /** Called once the service runs (the "running" log line). */
  onStarted?: () => void;
}

/**
 * `logwharf run`: runs until SIGTERM or SIGINT, then stops cleanly; SIGHUP reloads the
 * configuration. Resolves with the exit code; main.ts exits the process with it.
 */
export async function runCommand(args: { config?: string }): Promise<number> {
  const file = resolveConfigFile(args.config);
  const config = loadConfig({ file });
  const log = createLogger();
  const { serviceLinks } = readEnvOverrides(process.env);
  if (serviceLinks.length > 0) {
    log.debug(
      { variables: serviceLinks },
      'LOGWHARF_* variables of a Kubernetes Service named logwharf: not configuration, passed over',
    );
  }
  const health = new Health();
  const removeNet = catchUnhandledRejections(process, health, log);
  try {
    return await supervise({
      // SIGHUP reads the same file and the environment again, exactly as at start.
      start: () => startService(config, log, { configSource: () => checkConfig({ file }), health }),
      shutdownTimeoutMs: parseDuration(config.shutdown_timeout),
      signals: process,
      log,
      onStarted: () => log.info({ data_dir: config.data_dir, config: file }, 'logwharf running'),
    });
  } finally {
    removeNet();
  }
}

/**
 * A safety net, not a way of handling errors: every loop handles its own. Node ends the
 * process on a promise rejection nobody handled; a bug of that kind must not stop collection,
 * but it must not go unseen either: it is logged at fatal level, counted
 * (logwharf_component_errors_total{component="process"}), and /readyz answers 503 naming
 * `process: BUG on unhandled_rejection` from then on, so a probe or an operator sees it and
 * restarts logwharf. Returns the function that removes the net.
 */
export function catchUnhandledRejections(
  target: Pick<NodeJS.Process, 'on' | 'removeListener'>,
  health: Health,
  log: { fatal(obj: object, msg: string): void },
): () => void {
  const onUnhandled = (reason: unknown) => {
    health.fail('process', 'unhandled_rejection', 'BUG');
    log.fatal(
      { err: reason },
      'BUG: a promise rejection nobody handled; logwharf goes on, but restart it soon',
    );
  };
  target.on('unhandledRejection', onUnhandled);
  return () => target.removeListener('unhandledRejection', onUnhandled);
}

/**
 * The daemon's signal contract, apart from the process so that it can be tested:
 *
 * - SIGTERM / SIGINT: stop reading, hand what is in memory to the buffers or the store, save
 *   positions, and resolve EXIT_STOPPED; EXIT_STOP_TIMEOUT when that takes longer than
 *   `shutdownTimeoutMs`. A second SIGTERM/SIGINT during the stop resolves at once with
 *   EXIT_FORCED (what was not saved yet is read again at the next start: nothing is lost).
 * - SIGHUP: service.reload() (src/reload.ts); reloads run one after another; ignored while
 *   stopping.
 *
 * The handlers are installed before the service starts: SIGHUP's default action would end the
 * process, and a SIGTERM during start-up must still lead to a clean stop once it is up (a
 * SIGHUP then reloads once it is up, as the file may have changed since it was read).
 */
export async function supervise(opts: SuperviseOptions): Promise<number> {
  const { log, signals } = opts;
  let stopSignal: StopSignal | null = null;
  let service: Pick<Service, 'stop' | 'reload'> | null = null;
  let reloadWhenUp = false;
  const stopRequested = deferred<StopSignal>();
  const forced = deferred<StopSignal>();

  const onStop = (signal: StopSignal) => () => {
    if (stopSignal === null) {
      stopSignal = signal;
      stopRequested.resolve(signal);
      return;
    }
    log.warn(
      { signal },
      `${signal} again while stopping: exiting at once (what was not saved yet is read again at the next start)`,
    );
    forced.resolve(signal);
  };
  const onTerm = onStop('SIGTERM');
  const onInt = onStop('SIGINT');
  const onHup = () => {
    if (stopSignal !== null) {
      log.warn({ signal: 'SIGHUP' }, 'SIGHUP while stopping: ignored');
      return;
    }
    if (service === null) {
      reloadWhenUp = true;
      return;
    }
    log.info({ signal: 'SIGHUP' }, 'SIGHUP: reloading the configuration');
    void service.reload();
  };
  signals.on('SIGTERM', onTerm);
  signals.on('SIGINT', onInt);
  signals.on('SIGHUP', onHup);
  try {
    const started = opts.start();
    const up = await Promise.race([started, forced.promise]);
    if (typeof up === 'string') {
      // Cut short while starting: whatever started is left to the process's exit.
      started.catch(() => {});
      return EXIT_FORCED[up];
    }
    service = up;
    opts.onStarted?.();
    if (reloadWhenUp && stopSignal === null) onHup();

    const signal = await stopRequested.promise;
    log.info({ signal, shutdown_timeout_ms: opts.shutdownTimeoutMs }, 'stopping');
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      up.stop().then(
        () => 'stopped' as const,
        (err: unknown) => {
          log.error(
            { err: String(err) },
            'the stop did not complete (every part was stopped; what was not saved is read again at the next start)',
          );
          return 'failed' as const;
        },
      ),
      forced.promise,
      new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), opts.shutdownTimeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (outcome === 'stopped') {
      log.info({ signal }, 'stopped');
      return EXIT_STOPPED;
    }
    if (outcome === 'failed') return EXIT_STOP_TIMEOUT;
    if (outcome === 'timeout') {
      log.error(
        { shutdown_timeout_ms: opts.shutdownTimeoutMs },
        'stop timed out (shutdown_timeout); exiting anyway: what was not saved yet is read again at the next start',
      );
      return EXIT_STOP_TIMEOUT;
    }
    return EXIT_FORCED[outcome];
  } finally {
    signals.removeListener('SIGTERM', onTerm);
    signals.removeListener('SIGINT', onInt);
    signals.removeListener('SIGHUP', onHup);
  }
}

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
