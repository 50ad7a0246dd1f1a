import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApp } from './api/app.js';
import { PositionStore } from './checkpoint/positions.js';
import type { Config } from './config/schema.js';
import { splitHostPort } from './config/semantic.js';
import { LogwharfError } from './core/errors.js';
import { Pipeline } from './pipeline/pipeline.js';
import { parseDuration } from './query/time.js';
import { openEmbeddedStore } from './sinks/embedded/writer.js';
import { engineAddress } from './sources/docker/client.js';
import { DockerSource } from './sources/docker/source.js';
import { transformEvents } from './transforms/chain.js';

export interface Service {
  /** The HTTP address actually listened on (useful with port 0), or null without HTTP. */
  httpAddress: string | null;
  /** Stops the sources, writes what is queued, saves positions, closes the store. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Assembles logwharf from its parts, in pipeline order, so a newcomer reads the architecture
 * here: store (sink) -> checkpoints -> pipeline -> sources -> HTTP API.
 */
export async function startService(config: Config, log: Logger): Promise<Service> {
  refuseUnbuiltParts(config, log);
  const store = await openEmbeddedStore({ dataDir: config.data_dir });
  const positions = await PositionStore.open(config.data_dir, { log });

  const pipeline = new Pipeline({
    transform: transformEvents,
    writer: store.writer,
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

  let docker: DockerSource | null = null;
  if (config.sources.docker.enabled) {
    docker = new DockerSource({
      config: config.sources.docker,
      address: engineAddress(config.sources.docker.host),
      intake: pipeline,
      committed: (id) => positions.get(id),
      log,
    });
    docker.start();
    pruneRemovedContainers(docker, positions, log);
  }

  let app: FastifyInstance | null = null;
  let httpAddress: string | null = null;
  if (config.http.listen) {
    app = await buildApp({
      reader: store.reader,
      status: {
        sources: () => docker?.statuses() ?? [],
        ready: () => docker?.ready() ?? true,
      },
      storeReady: () => store.writer.ready(),
      tokens: config.http.auth && config.http.auth !== 'none' ? config.http.auth.tokens : undefined,
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
    stop() {
      stopping ??= (async () => {
        await docker?.stop();
        await pipeline.close();
        await positions.flush();
        await app?.close();
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

/**
 * Parts of the contract that this version does not run yet. Refusing them (instead of starting
 * without them) keeps a user from believing syslog is received or Elasticsearch is written.
 */
function refuseUnbuiltParts(config: Config, log: Logger): void {
  const missing: string[] = [];
  if (config.sources.syslog.enabled)
    missing.push('sources.syslog.enabled: the syslog receiver is not built yet; set it to false');
  if (config.store.kind !== 'embedded')
    missing.push(`store.kind: '${config.store.kind}' is not built yet; use 'embedded'`);
  if (missing.length > 0) throw new LogwharfError('LOGWHARF_ERR_CONFIG', missing.join('\n'));
  log.warn(
    { retention: config.retention },
    'retention rules are not applied yet: events are kept until removed by hand',
  );
}
