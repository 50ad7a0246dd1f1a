import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApp } from './api/app.js';
import { lockDataDir } from './checkpoint/data-dir-lock.js';
import { PositionStore } from './checkpoint/positions.js';
import type { CheckResult } from './config/load.js';
import type { Config, DockerSourceConfig, SyslogSourceConfig } from './config/schema.js';
import { splitHostPort } from './config/semantic.js';
import { parseDuration } from './core/duration.js';
import { resolvesWithin } from './core/wait.js';
import { type BufferedSink, forwarderBufferName, openChannels } from './pipeline/open-channels.js';
import { Pipeline } from './pipeline/pipeline.js';
import type { SinkChannel } from './pipeline/sink-channel.js';
import { applyReload, multilineConfigOf, type ReloadResult } from './reload.js';
import { ElasticsearchWriter } from './sinks/elasticsearch/writer.js';
import { openWritableStore } from './sinks/open-writable-store.js';
import { openSyslogForwarder } from './sinks/syslog/forwarder.js';
import { engineAddress } from './sources/docker/client.js';
import { DockerSource } from './sources/docker/source.js';
import type { BoundAddresses } from './sources/syslog/listeners.js';
import { SyslogSource } from './sources/syslog/source.js';
import { collectServiceMetrics, type MetricSources } from './telemetry/service-metrics.js';
import { createTransform } from './transforms/chain.js';
import { MultilineStage } from './transforms/multiline-stage.js';
import { newSenderTimeCounters } from './transforms/sender-time.js';

export interface Service {
  /** The HTTP address actually listened on (useful with port 0), or null without HTTP. */
  httpAddress: string | null;
  /** The syslog listeners' actual addresses (useful with port 0); empty without syslog. */
  syslogAddresses: BoundAddresses;
  /** Stops the sources, writes what is queued, saves positions, closes the store. Idempotent. */
  stop(): Promise<void>;
  /**
   * Reads the configuration again (ServiceOptions.configSource) and applies what can change
   * while running (src/reload.ts); a bad one is rejected and the one in force stays. Reloads
   * run one at a time; never rejects.
   */
  reload(): Promise<ReloadResult>;
}

export interface ServiceOptions {
  /** Loads the configuration for reload(), as at start; without it reload() re-applies the start config. */
  configSource?: () => CheckResult;
}

/**
 * Assembles logwharf from its parts, in pipeline order, so a newcomer reads the architecture
 * here: sinks (store, forwarders) -> checkpoints -> pipeline (transforms) -> multiline ->
 * sources -> HTTP API.
 */
export async function startService(config: Config, log: Logger, opts: ServiceOptions = {}): Promise<Service> {
  // One logwharf per data_dir: two would corrupt each other's buffers and positions.
  const lock = await lockDataDir(config.data_dir);
  try {
    const service = await startLocked(config, log, opts);
    // The same object (reload() updates its syslogAddresses), its stop() also unlocking.
    const stop = service.stop.bind(service);
    service.stop = async () => {
      await stop();
      await lock.release();
    };
    return service;
  } catch (err) {
    await lock.release();
    throw err;
  }
}

async function startLocked(config: Config, log: Logger, opts: ServiceOptions): Promise<Service> {
  warnUnbuiltParts(config, log);
  const store = await openWritableStore(config, log);
  const sinks: BufferedSink[] = [
    {
      name: 'store',
      kind: store.kind,
      writer: store.writer,
      deadLetter: (events, reason) => store.deadLetters.write(events, reason, store.kind),
      bufferName: 'store',
      buffer: config.store.buffer,
    },
  ];
  const forwarders: MetricSources['forwarders'] = [];
  for (const target of config.forward.syslog) {
    const { host, port } = splitHostPort(target.target)!;
    const writer = await openSyslogForwarder({
      host,
      port,
      tls: target.tls
        ? {
            ...(target.tls.ca ? { ca: target.tls.ca } : {}),
            ...(target.tls.cert ? { cert: target.tls.cert } : {}),
            ...(target.tls.key ? { key: target.tls.key } : {}),
            ...(target.tls.server_name ? { serverName: target.tls.server_name } : {}),
          }
        : null,
      log,
    });
    sinks.push({
      name: `syslog ${target.target}`,
      kind: 'syslog',
      writer,
      deadLetter: (events, reason) => store.deadLetters.write(events, reason, `syslog ${target.target}`),
      bufferName: forwarderBufferName(target.target),
      buffer: target.buffer,
    });
    forwarders.push({ target: target.target, counters: writer.counters });
  }
  const closeSinks = async () => {
    for (const sink of sinks.slice(1)) await sink.writer.close();
    await store.close();
  };
  // Every sink's buffer must take a batch before positions move past it (DESIGN.md, "Pipeline").
  let channels: SinkChannel[];
  try {
    channels = await openChannels(sinks, config.data_dir, log);
  } catch (err) {
    await closeSinks();
    throw err;
  }
  const positions = await PositionStore.open(config.data_dir, { log });

  // One set of counters for every transform a reload builds, so /metrics never goes back.
  const senderTime = newSenderTimeCounters();
  const newTransform = (transforms: Config['transforms']) =>
    createTransform({ config: transforms, log, senderTime });
  const pipeline = new Pipeline({
    transform: newTransform(config.transforms),
    sinks: channels,
    acknowledge: (last) => {
      for (const [key, pos] of last) positions.advance(key, pos);
      // Saved after the sinks took the events, never before: a crash replays lines, never skips them.
      positions.flush().catch((err) => log.error({ err: String(err) }, 'could not save positions'));
    },
    batchSize: config.pipeline.batch_size,
    flushIntervalMs: parseDuration(config.pipeline.flush_interval),
    maxInFlight: config.pipeline.max_in_flight,
    log,
  });
  pipeline.start();
  // Joins stack traces before the pipeline's per-event transforms; holds lines across calls.
  const multiline = new MultilineStage({
    next: pipeline,
    config: multilineConfigOf(config),
    log,
  });

  const newDocker = (dockerConfig: DockerSourceConfig) =>
    new DockerSource({
      config: dockerConfig,
      address: engineAddress(dockerConfig.host),
      intake: multiline,
      committed: (id) => positions.get(id),
      onGone: (id) => multiline.forget(id),
      log,
    });
  const newSyslog = (syslogConfig: SyslogSourceConfig) =>
    new SyslogSource({ config: syslogConfig, intake: pipeline, log });
  let docker: DockerSource | null = null;
  if (config.sources.docker.enabled) {
    docker = newDocker(config.sources.docker);
    docker.start();
    pruneRemovedContainers(docker, positions, log);
  }

  let syslog: SyslogSource | null = null;
  let syslogAddresses: BoundAddresses = {};
  if (config.sources.syslog.enabled) {
    syslog = newSyslog(config.sources.syslog);
    try {
      syslogAddresses = await syslog.start();
    } catch (err) {
      // Start-up fails as a whole: close what is already open so the error is all that remains.
      await docker?.stop();
      await syslog.stop();
      await multiline.close();
      await pipeline.close();
      await Promise.all(channels.map((c) => c.close()));
      await closeSinks();
      throw err;
    }
  }

  let app: FastifyInstance | null = null;
  let httpAddress: string | null = null;
  if (config.http.listen) {
    app = await buildApp({
      reader: store.reader,
      status: {
        sources: () => [...(docker?.statuses() ?? []), ...(syslog?.statuses() ?? [])],
        ready: () => docker?.ready() ?? true,
        deadLetters: () => ({ count: store.deadLetters.count(), dir: store.deadLetters.dir }),
      },
      storeReady: () => store.writer.ready(),
      tokens: config.http.auth && config.http.auth !== 'none' ? config.http.auth.tokens : undefined,
      metrics: () =>
        collectServiceMetrics({
          pipeline,
          senderTime,
          sources: () => [...(docker?.statuses() ?? []), ...(syslog?.statuses() ?? [])],
          ...(syslog ? { syslog: syslog.counters } : {}),
          deadLetters: () => store.deadLetters.count(),
          ...(store.writer instanceof ElasticsearchWriter ? { elasticsearch: store.writer.counters } : {}),
          forwarders,
          sinks: () => channels.map((c) => c.status()),
          ...(docker ? { docker: () => docker!.engine() } : {}),
        }),
      logger: false,
    });
    // Validated at load time (config/semantic.ts), so it always splits.
    const { host, port } = splitHostPort(config.http.listen)!;
    httpAddress = await app.listen({ host, port });
    log.info({ address: httpAddress }, 'HTTP API listening');
  }

  let stopping: Promise<void> | null = null;
  let inForce = config;
  let reloading: Promise<unknown> = Promise.resolve();
  const service: Service = {
    httpAddress,
    syslogAddresses,
    reload() {
      const run = reloading
        .then(async (): Promise<ReloadResult> => {
          if (stopping) {
            log.warn('reload ignored: logwharf is stopping');
            return { ok: false, problems: [], applied: [], restartNeeded: [], failed: [] };
          }
          const parts = {
            docker,
            syslog,
            syslogAddresses: service.syslogAddresses,
            pipeline,
            newTransform,
            multiline,
            newDocker,
            newSyslog,
          };
          const next = opts.configSource ? opts.configSource() : { config: inForce, problems: [] };
          const { config: applied, result } = await applyReload(parts, inForce, next, log);
          ({ docker, syslog } = parts);
          service.syslogAddresses = parts.syslogAddresses;
          inForce = applied;
          return result;
        })
        .catch((err: unknown): ReloadResult => {
          log.error({ err: String(err) }, 'reload failed');
          return {
            ok: false,
            problems: [],
            applied: [],
            restartNeeded: [],
            failed: [{ part: '', error: String(err) }],
          };
        });
      reloading = run;
      return run;
    },
    stop() {
      stopping ??= (async () => {
        // A reload under way finishes first: it may be starting a source that must be stopped too.
        await reloading;
        await Promise.all([docker?.stop(), syslog?.stop()]);
        await multiline.close();
        // What is in memory goes to the sinks' buffers (fast on disk). A sink that cannot take it
        // (a full buffer, a memory buffer whose sink is down) gets part of the shutdown time;
        // then the channels close and the rest is re-read at the next start (positions did not
        // move past it), so the stop stays within shutdown_timeout.
        const handedOver = pipeline.close();
        const budgetMs = Math.max(500, parseDuration(config.shutdown_timeout) * 0.6);
        const inTime = await resolvesWithin(handedOver, budgetMs);
        if (!inTime) log.warn({ budget_ms: budgetMs }, 'sinks did not take every queued event in time');
        await Promise.all(channels.map((c) => c.close()));
        await handedOver;
        await positions.flush();
        await app?.close();
        await closeSinks();
      })();
      return stopping;
    },
  };
  return service;
}

/** Positions of containers the engine no longer has only grow the file: drop them once at start. */
function pruneRemovedContainers(docker: DockerSource, positions: PositionStore, log: Logger): void {
  docker
    .existingContainerIds()
    .then((ids) => {
      for (const key of positions.keys()) if (!ids.has(key)) positions.remove(key);
      return positions.flush();
    })
    .catch((err) => log.debug({ err: String(err) }, 'could not prune positions (engine unreachable)'));
}

/** Retention is validated but not applied yet: say so at every start rather than let it be assumed. */
function warnUnbuiltParts(config: Config, log: Logger): void {
  log.warn(
    { retention: config.retention },
    'retention rules are not applied yet: events are kept until removed by hand',
  );
}
