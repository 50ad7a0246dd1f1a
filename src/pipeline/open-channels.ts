import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { BufferConfig } from '../config/schema.js';
import type { Health } from '../core/health.js';
import { DiskChannel } from './disk-channel.js';
import { type ChannelSink, MemoryChannel, type SinkChannel } from './sink-channel.js';

/** `<data_dir>/buffer/<sink>/`: one folder per sink. */
export const BUFFER_DIR = 'buffer';

export interface BufferedSink extends ChannelSink {
  /** Folder name under `<data_dir>/buffer/`; stable across restarts so a backlog is found again. */
  bufferName: string;
  buffer: BufferConfig;
}

/**
 * Puts each sink behind the buffer its config asks for. The store's folder is `store` whatever
 * its kind: a backlog left when switching from the embedded store to Elasticsearch goes to the
 * store now configured, since its positions were already saved (kept nowhere else). Folders of
 * sinks no longer buffered on disk are left alone, with a warning: their events are not sent anywhere.
 */
export async function openChannels(
  sinks: readonly BufferedSink[],
  dataDir: string,
  health: Health,
  log: Logger,
): Promise<SinkChannel[]> {
  const root = path.join(dataDir, BUFFER_DIR);
  const channels: SinkChannel[] = [];
  try {
    for (const sink of sinks) {
      if (sink.buffer.kind === 'memory') {
        channels.push(new MemoryChannel(sink, health, log));
        continue;
      }
      channels.push(
        await DiskChannel.open({
          sink,
          dir: path.join(root, sink.bufferName),
          maxBytes: sink.buffer.max_bytes,
          fsync: sink.buffer.fsync,
          whenFull: sink.buffer.when_full,
          health,
          log,
        }),
      );
    }
  } catch (err) {
    await Promise.all(channels.map((c) => c.close()));
    throw err;
  }
  await warnAboutOrphans(
    root,
    new Set(sinks.filter((s) => s.buffer.kind === 'disk').map((s) => s.bufferName)),
    log,
  );
  return channels;
}

/** `forward-syslog-10.0.0.5-6514`: a folder name from a forwarding target. */
export function forwarderBufferName(target: string): string {
  return `forward-syslog-${target.replace(/[^A-Za-z0-9._-]+/g, '-')}`;
}

async function warnAboutOrphans(root: string, inUse: Set<string>, log: Logger): Promise<void> {
  let names: string[];
  try {
    names = await fs.readdir(root);
  } catch {
    return;
  }
  for (const name of names) {
    if (inUse.has(name)) continue;
    log.warn(
      { dir: path.join(root, name) },
      'a disk buffer no configured sink uses (the sink was removed, or its buffer is now kind: memory): its events are not sent anywhere; configure it again as before to send them, or delete the folder',
    );
  }
}
