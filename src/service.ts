import type { Logger } from 'pino';
import { buildApp } from './api/app.js';
import { listenApi } from './api/listen.js';
import { lockDataDir } from './checkpoint/data-dir-lock.js';
import { PositionSaver } from './checkpoint/position-saver.js';
import { PositionStore } from './checkpoint/positions.js';
import type { CheckResult } from './config/load.js';
import type { Config, DockerSourceConfig, SyslogSourceConfig } from './config/schema.js';
import { splitHostPort } from './config/semantic.js';
import { parseDuration } from './core/duration.js';
import { Health, readinessFailures } from './core/health.js';
import { Steps } from './core/steps.js';
import { type BufferedSink, forwarderBufferName, openChannels } from './pipeline/open-channels.js';
import { handOver, Pipeline } from './pipeline/pipeline.js';
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
  /**
   * Stops the sources, writes what is queued, saves positions, closes the store: the start-up
   * steps undone, last first. Idempotent. Rejects (after every step ran) if one failed.
   */
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
  /** Where the parts report failing I/O (shown on /readyz and /metrics); a new one without it. */
  health?: Health;
}

/**
 * Assembles logwharf from its parts, in pipeline order, so a newcomer reads the architecture
 * here: data_dir lock -> sinks (store, forwarders) -> their buffers -> checkpoints -> pipeline
 * (transforms) -> multiline -> sources -> HTTP API.
 *
 * Each part is a step with its undo (core/steps.ts). A step that fails undoes the ones before
 * it, last first, so a failed start leaves nothing running and the data_dir unlocked, and the
 * error is what remains; stop() undoes them all the same way.
 */
export async function startService(config: Config, log: Logger, opts: ServiceOptions = {}): Promise<Service> {
  const health = opts.health ?? new Health();
  const steps = new Steps(log);
  return steps.all(async () => {
    // One logwharf per data_dir: two would corrupt each other's buffers and positions.
    await steps.run(
      'data_dir lock',
      () => lockDataDir(config.data_dir),
      (lock) => lock.release(),
    );
    warnUnbuiltParts(config, log);
    const store = await steps.run(
      'store',
      () => openWritableStore(config, log),
      (s) => s.close(),
    );
    const sinks: BufferedSink[] = [
      {
        name: 'store',
        kind: store.kind,
        writer: store.writer,
        deadLetter: (events, reason) => store.deadLetters.write(events, reason, store.kind),
        reportWrites: true,
        bufferName: 'store',
        buffer: config.store.buffer,
      },
    ];
    const forwarders: MetricSources['forwarders'] = [];
    for (const target of config.forward.syslog) {
      const writer = await steps.run(
        `forward syslog ${target.target}`,
        () => openForwarder(target, log),
        (w) => w.close(),
      );
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
    // Every sink's buffer must take a batch before positions move past it (DESIGN.md, "Pipeline").
    const channels = await steps.run(
      'sink buffers',
      () => openChannels(sinks, config.data_dir, health, log),
      (cs) => Promise.all(cs.map((c) => c.close())),
    );
    const positions = await PositionStore.open(config.data_dir, { log });
    const saver = await steps.run(
      'positions',
      () => new PositionSaver(positions, health, log),
      // The last save, after the pipeline handed everything over (its step is undone first).
      (p) => p.close(),
    );

    // One set of counters for every transform a reload builds, so /metrics never goes back.
    const senderTime = newSenderTimeCounters();
    const newTransform = (transforms: Config['transforms']) =>
      createTransform({ config: transforms, log, senderTime });
    const pipeline = await steps.run(
      'pipeline',
      () => {
        const p = new Pipeline({
          transform: newTransform(config.transforms),
          sinks: channels,
          acknowledge: (last) => {
            for (const [key, pos] of last) positions.advance(key, pos);
            // Saved after the sinks took the events, never before: a crash replays lines, never skips them.
            saver.save();
          },
          batchSize: config.pipeline.batch_size,
          batchMaxBytes: config.pipeline.batch_max_bytes,
          flushIntervalMs: parseDuration(config.pipeline.flush_interval),
          maxInFlight: config.pipeline.max_in_flight,
          maxInFlightBytes: config.pipeline.max_in_flight_bytes,
          health,
          log,
        });
        p.start();
        return p;
      },
      (p) => handOver(p, channels, parseDuration(config.shutdown_timeout), log),
    );
    // Joins stack traces before the pipeline's per-event transforms; holds lines across calls.
    const multiline = await steps.run(
      'multiline',
      () => new MultilineStage({ next: pipeline, config: multilineConfigOf(config), log }),
      (m) => m.close(),
    );

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
    // The sources' undo stops whatever runs then: a reload may have started or replaced them.
    let docker: DockerSource | null = null;
    await steps.run(
      'docker source',
      () => {
        if (!config.sources.docker.enabled) return;
        docker = newDocker(config.sources.docker);
        docker.start();
        pruneRemovedContainers(docker, positions, log);
      },
      () => docker?.stop(),
    );
    let syslog: SyslogSource | null = null;
    let syslogAddresses: BoundAddresses = {};
    await steps.run(
      'syslog source',
      async () => {
        if (!config.sources.syslog.enabled) return;
        const source = newSyslog(config.sources.syslog);
        try {
          syslogAddresses = await source.start();
        } catch (err) {
          // Not a step yet: its own listeners that did bind are closed here.
          await source.stop();
          throw err;
        }
        syslog = source;
      },
      () => syslog?.stop(),
    );

    const sourceStatuses = () => [...(docker?.statuses() ?? []), ...(syslog?.statuses() ?? [])];
    let httpAddress: string | null = null;
    const listen = config.http.listen;
    if (listen) {
      const app = await steps.run(
        'HTTP API',
        () =>
          buildApp({
            reader: store.reader,
            status: {
              sources: sourceStatuses,
              ready: () => docker?.ready() ?? true,
              deadLetters: () => ({ count: store.deadLetters.count(), dir: store.deadLetters.dir }),
            },
            storeReady: () => store.writer.ready(),
            failing: () => readinessFailures(health),
            tokens: config.http.auth && config.http.auth !== 'none' ? config.http.auth.tokens : undefined,
            metrics: () =>
              collectServiceMetrics({
                pipeline,
                senderTime,
                sources: sourceStatuses,
                ...(syslog ? { syslog: syslog.counters } : {}),
                deadLetters: () => store.deadLetters.count(),
                ...(store.writer instanceof ElasticsearchWriter
                  ? { elasticsearch: store.writer.counters }
                  : {}),
                forwarders,
                sinks: () => channels.map((c) => c.status()),
                ...(docker ? { docker: () => docker!.engine() } : {}),
                health,
              }),
            logger: log,
          }),
        (a) => a.close(),
      );
      httpAddress = await listenApi(app, listen);
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
          await steps.unwind();
        })();
        return stopping;
      },
    };
    return service;
  });
}

function openForwarder(target: Config['forward']['syslog'][number], log: Logger) {
  const { host, port } = splitHostPort(target.target)!;
  return openSyslogForwarder({
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
