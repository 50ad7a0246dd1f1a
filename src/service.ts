import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApp } from './api/app.js';
import { PositionStore } from './checkpoint/positions.js';
import type { Config } from './config/schema.js';
import { splitHostPort } from './config/semantic.js';
import type { StoreWriter } from './core/store.js';
import { Pipeline } from './pipeline/pipeline.js';
import { parseDuration } from './query/time.js';
import { ElasticsearchWriter } from './sinks/elasticsearch/writer.js';
import { FanoutWriter, type NamedSink } from './sinks/fanout.js';
import { openStore } from './sinks/open-store.js';
import { openSyslogForwarder } from './sinks/syslog/forwarder.js';
import { engineAddress } from './sources/docker/client.js';
import { DockerSource } from './sources/docker/source.js';
import type { BoundAddresses } from './sources/syslog/listeners.js';
import { SyslogSource } from './sources/syslog/source.js';
import { collectServiceMetrics, type MetricSources } from './telemetry/service-metrics.js';
import { createTransform } from './transforms/chain.js';
import { MultilineStage } from './transforms/multiline-stage.js';

export interface Service {
  /** The HTTP address actually listened on (useful with port 0), or null without HTTP. */
  httpAddress: string | null;
  /** The syslog listeners' actual addresses (useful with port 0); empty without syslog. */
  syslogAddresses: BoundAddresses;
  /** Stops the sources, writes what is queued, saves positions, closes the store. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Assembles logwharf from its parts, in pipeline order, so a newcomer reads the architecture
 * here: sinks (store, forwarders) -> checkpoints -> pipeline (transforms) -> multiline ->
 * sources -> HTTP API.
 */
export async function startService(config: Config, log: Logger): Promise<Service> {
  warnUnbuiltParts(config, log);
  const store = await openStore(config, log);
  const sinks: NamedSink[] = [{ name: 'store', writer: store.writer }];
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
    sinks.push({ name: `syslog ${target.target}`, writer });
    forwarders.push({ target: target.target, counters: writer.counters });
  }
  // Every sink must take a batch before positions move past it (DESIGN.md, "Pipeline").
  const writer: StoreWriter = sinks.length === 1 ? store.writer : new FanoutWriter(sinks);
  const positions = await PositionStore.open(config.data_dir, { log });

  const pipeline = new Pipeline({
    transform: createTransform({ config: config.transforms, log }),
    writer,
    deadLetter: (events, reason) => store.deadLetters.write(events, reason, store.kind),
    acknowledge: (last) => {
      for (const [key, pos] of last) positions.advance(key, pos);
      // Saved after the commit, never before: a crash replays lines, it never skips them.
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
    config: {
      enabled: config.transforms.multiline.enabled,
      flushAfterMs: parseDuration(config.transforms.multiline.flush_after),
      maxLines: config.transforms.multiline.max_lines,
      maxBytes: config.sources.docker.max_line_bytes,
      rules: config.transforms.multiline.rules,
    },
    log,
  });

  let docker: DockerSource | null = null;
  if (config.sources.docker.enabled) {
    docker = new DockerSource({
      config: config.sources.docker,
      address: engineAddress(config.sources.docker.host),
      intake: multiline,
      committed: (id) => positions.get(id),
      onGone: (id) => multiline.forget(id),
      log,
    });
    docker.start();
    pruneRemovedContainers(docker, positions, log);
  }

  let syslog: SyslogSource | null = null;
  let syslogAddresses: BoundAddresses = {};
  if (config.sources.syslog.enabled) {
    syslog = new SyslogSource({ config: config.sources.syslog, intake: pipeline, log });
    try {
      syslogAddresses = await syslog.start();
    } catch (err) {
      // Start-up fails as a whole: close what is already open so the error is all that remains.
      await docker?.stop();
      await syslog.stop();
      await multiline.close();
      await pipeline.close();
      for (const sink of sinks.slice(1)) await sink.writer.close();
      await store.close();
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
          sources: () => [...(docker?.statuses() ?? []), ...(syslog?.statuses() ?? [])],
          ...(syslog ? { syslog: syslog.counters } : {}),
          deadLetters: () => store.deadLetters.count(),
          ...(store.writer instanceof ElasticsearchWriter ? { elasticsearch: store.writer.counters } : {}),
          forwarders,
        }),
      logger: false,
    });
    // Validated at load time (config/semantic.ts), so it always splits.
    const { host, port } = splitHostPort(config.http.listen)!;
    httpAddress = await app.listen({ host, port });
    log.info({ address: httpAddress }, 'HTTP API listening');
  }

  let stopping: Promise<void> | null = null;
  return {
    httpAddress,
    syslogAddresses,
    stop() {
      stopping ??= (async () => {
        await Promise.all([docker?.stop(), syslog?.stop()]);
        await multiline.close();
        await pipeline.close();
        await positions.flush();
        await app?.close();
        for (const sink of sinks.slice(1)) await sink.writer.close();
        await store.close();
      })();
      return stopping;
    },
  };
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
