import type Docker from 'dockerode';
import type { Logger } from 'pino';
import type { DockerSourceConfig } from '../../config/schema.js';
import { backoffMs } from '../../core/backoff.js';
import type { ContainerInfo, Position } from '../../core/event.js';
import type { Intake } from '../../core/intake.js';
import type { DockerEngineStatus, SourceStatus } from '../../core/status.js';
import { dockerClient, type EngineAddress, unreachableMessage } from './client.js';
import { forEachEventLine } from './engine-events.js';
import { ContainerFollower } from './follower.js';
import {
  COMPOSE_NUMBER,
  COMPOSE_PROJECT,
  COMPOSE_SERVICE,
  type Selection,
  selectContainer,
} from './select.js';
import { findSelf, type SelfInfo } from './self.js';

export interface DockerSourceOptions {
  config: DockerSourceConfig;
  address: EngineAddress;
  intake: Intake;
  /** Committed positions from earlier runs (the checkpoint store). */
  committed: (containerId: string) => Position | undefined;
  /** Called when the engine has destroyed a container (stages that hold per-container state let go). */
  onGone?: (containerId: string) => void;
  log: Logger;
}

/**
 * The Docker source: discovers containers (a list, then the engine's event stream) and runs
 * one follower per selected container. When the engine goes away it reconnects with backoff;
 * meanwhile `ready()` is false and followers resume from their positions once it is back.
 */
export class DockerSource {
  private readonly opts: DockerSourceOptions;
  private readonly docker: Docker;
  private readonly followers = new Map<string, ContainerFollower>();
  /** Containers inspected and not followed, with the reason (kept to avoid re-inspecting). */
  private readonly ignored = new Map<string, string>();
  private hostName = 'unknown';
  private selection: Selection | null = null;
  /** logwharf's own container and compose project, found once at the first connection. */
  private self: SelfInfo | null = null;
  private connected = false;
  private stopped = false;
  private eventStream: (NodeJS.ReadableStream & { destroy?: () => void }) | null = null;
  private wake: (() => void) | null = null;
  private loopDone: Promise<void> | null = null;
  /** Connections to the engine made again after one was lost or failed (not the attempts between). */
  private reconnects = 0;
  private everConnected = false;

  constructor(opts: DockerSourceOptions) {
    this.opts = opts;
    this.docker = dockerClient(opts.address);
  }

  start(): void {
    if (!this.loopDone) this.loopDone = this.connectLoop();
  }

  ready(): boolean {
    return this.connected;
  }

  /** The engine connection, for /metrics. */
  engine(): DockerEngineStatus {
    return { connected: this.connected, reconnects: this.reconnects };
  }

  statuses(): SourceStatus[] {
    return [...this.followers.values()].map((f) => f.status(this.opts.committed(f.container.id)));
  }

  /** Ids of containers the engine still has, for pruning positions of removed ones. */
  async existingContainerIds(): Promise<Set<string>> {
    const list = await this.docker.listContainers({ all: true });
    return new Set(list.map((c) => c.Id));
  }

  /** Stops discovery and every follower. Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.eventStream?.destroy?.();
    this.wake?.();
    for (const f of this.followers.values()) f.stop();
    await this.loopDone;
  }

  private async connectLoop(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      try {
        await this.session(() => {
          failures = 0;
          if (this.everConnected) this.reconnects++;
          this.everConnected = true;
        });
      } catch (err) {
        if (this.stopped) break;
        const level = failures === 0 ? 'error' : 'debug';
        this.opts.log[level](
          { err: unreachableMessage(this.opts.address, err) },
          'Docker engine unreachable; retrying',
        );
      }
      this.connected = false;
      if (this.stopped) break;
      failures++;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, backoffMs(failures));
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wake = null;
    }
  }

  /** One connection to the engine: subscribe to events first, then list, so no start is missed between. */
  private async session(onConnected: () => void): Promise<void> {
    const info = await this.docker.info();
    this.hostName = info.Name || this.hostName;
    if (!this.selection) {
      const self = await findSelf(this.docker);
      this.self = self;
      this.selection = this.selectionFor(this.opts.config);
      const project = this.selection.project;
      this.opts.log.info(
        { project: project ?? '(every compose project)', self: self.containerId?.slice(0, 12) ?? null },
        'Docker source: following containers',
      );
    }
    const events = (await this.docker.getEvents({
      filters: JSON.stringify({ type: ['container'], event: ['start', 'restart', 'unpause', 'destroy'] }),
    } as unknown as Docker.GetEventsOptions)) as NodeJS.ReadableStream & { destroy?: () => void };
    this.eventStream = events;
    const ended = new Promise<void>((resolve, reject) => {
      forEachEventLine(events, (line) => this.onEngineEvent(line));
      events.on('end', () => resolve());
      events.on('close', () => resolve());
      events.on('error', (err: Error) => reject(err));
    });
    // A stop() while this session was connecting found no stream to end: end it here, or the
    // stop would wait on it for good (seen as a start-up that failed and never exited).
    if (this.stopped) {
      events.destroy?.();
      await ended.catch(() => undefined);
      return;
    }
    const list = await this.docker.listContainers({ all: true });
    for (const c of list) await this.consider(c.Id);
    this.connected = true;
    onConnected();
    this.opts.log.info(
      { engine: this.opts.address.display, containers: this.followers.size },
      'connected to the Docker engine',
    );
    // Followers that waited out the outage re-attach now rather than at their next backoff.
    for (const f of this.followers.values()) f.poke();
    await ended;
    this.eventStream = null;
    if (!this.stopped) this.opts.log.warn('Docker event stream ended; reconnecting');
  }

  private onEngineEvent(line: string): void {
    let ev: { Action?: string; status?: string; id?: string; Actor?: { ID?: string } };
    try {
      ev = JSON.parse(line);
    } catch {
      this.opts.log.warn({ line: line.slice(0, 200) }, 'unparseable Docker event');
      return;
    }
    const id = ev.Actor?.ID ?? ev.id;
    const action = ev.Action ?? ev.status;
    if (!id || !action) return;
    if (action === 'destroy') {
      const f = this.followers.get(id);
      // Its stream ends by itself once the engine has sent every line; the follower then sees 404.
      if (f) this.followers.delete(id);
      this.ignored.delete(id);
      this.opts.onGone?.(id);
      return;
    }
    void this.consider(id).catch((err) =>
      this.opts.log.debug({ err: String(err) }, 'inspect after event failed'),
    );
  }

  /**
   * Applies new settings (SIGHUP) in place. Followed containers that the new selection keeps
   * are not touched: their streams go on where they are, which is what keeps a reload from
   * losing or doubling their lines. Containers it no longer selects stop being followed (what
   * was read goes on through the pipeline, and their position is saved as usual, so following
   * them again later resumes there). Containers it newly selects are followed from their saved
   * position, or from their first line when they have none. `max_line_bytes` applies to the
   * containers followed from now on; the ones already followed keep the limit they started with.
   * `host` is not applied here: another engine is another source (a restart).
   */
  async reconfigure(config: DockerSourceConfig): Promise<void> {
    this.opts.config = config;
    if (this.stopped || !this.selection) return; // not connected yet: the first session uses `config`
    this.selection = this.selectionFor(config);
    for (const [id, f] of this.followers) {
      const c = f.container;
      const verdict = selectContainer({ id, name: c.name, labels: c.labels }, this.selection);
      if (verdict.follow) continue;
      f.stop();
      this.followers.delete(id);
      this.opts.log.info(
        { container: c.name, id: id.slice(0, 12), reason: verdict.reason },
        'container no longer followed',
      );
    }
    // Containers passed over under the old selection may be selected now: look at them again.
    this.ignored.clear();
    let ids: string[];
    try {
      ids = (await this.docker.listContainers({ all: true })).map((c) => c.Id);
    } catch (err) {
      // The next connection lists every container again, under the new selection.
      this.opts.log.debug({ err: String(err) }, 'could not list containers after a reconfiguration');
      return;
    }
    for (const id of ids) {
      if (this.stopped) return;
      if (this.followers.has(id)) continue;
      await this.consider(id).catch((err) =>
        this.opts.log.debug({ err: String(err) }, 'inspect after a reconfiguration failed'),
      );
    }
  }

  private selectionFor(config: DockerSourceConfig): Selection {
    // Inside a compose project logwharf follows that project, whatever the config says (DESIGN.md).
    return {
      project: this.self?.composeProject ?? config.project ?? null,
      include: config.include,
      exclude: config.exclude,
      selfId: this.self?.containerId ?? null,
    };
  }

  private async consider(id: string): Promise<void> {
    const existing = this.followers.get(id);
    if (existing) {
      existing.poke();
      return;
    }
    if (this.ignored.has(id) || !this.selection) return;
    let inspect: Docker.ContainerInspectInfo;
    try {
      inspect = await this.docker.getContainer(id).inspect();
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return;
      throw err;
    }
    if (this.followers.has(id)) return this.followers.get(id)!.poke();
    if (this.stopped) return;
    const info = containerInfo(inspect);
    const verdict = selectContainer({ id: info.id, name: info.name, labels: info.labels }, this.selection);
    if (!verdict.follow) {
      this.ignored.set(id, verdict.reason);
      this.opts.log.debug({ container: info.name, reason: verdict.reason }, 'container not followed');
      return;
    }
    const follower = new ContainerFollower({
      docker: this.docker,
      container: info,
      intake: this.opts.intake,
      hostName: () => this.hostName,
      maxLineBytes: this.opts.config.max_line_bytes,
      resumeFrom: this.opts.committed(id),
      committed: () => this.opts.committed(id),
      log: this.opts.log,
    });
    this.followers.set(id, follower);
    this.opts.log.info({ container: info.name, id: id.slice(0, 12) }, 'following container');
    follower.poke();
  }
}

export function containerInfo(inspect: Docker.ContainerInspectInfo): ContainerInfo {
  const labels = Object.freeze({ ...(inspect.Config.Labels ?? {}) });
  const number = labels[COMPOSE_NUMBER];
  const info: ContainerInfo = {
    id: inspect.Id,
    name: inspect.Name.replace(/^\//, ''),
    imageName: inspect.Config.Image,
    labels,
    tty: Boolean(inspect.Config.Tty),
  };
  if (labels[COMPOSE_PROJECT] !== undefined) info.composeProject = labels[COMPOSE_PROJECT];
  if (labels[COMPOSE_SERVICE] !== undefined) info.composeService = labels[COMPOSE_SERVICE];
  if (number !== undefined && /^\d+$/.test(number)) info.composeNumber = Number(number);
  return Object.freeze(info);
}
