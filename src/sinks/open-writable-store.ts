import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { StoreReader, StoreWriter } from '../core/store.js';
import { DeadLetterStore } from './dead-letter.js';
import { openElasticsearchReader } from './elasticsearch/reader.js';
import { openElasticsearchStore } from './elasticsearch/writer.js';
import { openEmbeddedStore } from './embedded/writer.js';

/** The store the config names, as the service needs it: one writer, one reader, one dead-letter store. */
export interface WritableStore {
  kind: 'embedded' | 'elasticsearch';
  writer: StoreWriter;
  reader: StoreReader;
  /** Where events refused for good are kept (both stores share the format). */
  deadLetters: DeadLetterStore;
  /** Closes reader, writer and client. Idempotent. */
  close(): Promise<void>;
}

/**
 * Opens the embedded store or Elasticsearch (DESIGN.md, "Stores"). Neither blocks start-up on
 * the other side being reachable: the embedded store fails here only when `data_dir` is not
 * writable; Elasticsearch is checked by /readyz and by the first write, which the pipeline
 * retries.
 */
export async function openWritableStore(config: Config, log: Logger): Promise<WritableStore> {
  if (config.store.kind === 'elasticsearch') {
    // Validated at load time: kind elasticsearch requires store.elasticsearch.
    const es = config.store.elasticsearch!;
    const store = await openElasticsearchStore({ config: es, dataDir: config.data_dir, log });
    const reader = openElasticsearchReader({ client: store.client, indexPrefix: es.index_prefix });
    return {
      kind: 'elasticsearch',
      writer: store.writer,
      reader,
      deadLetters: store.deadLetters,
      close: once(async () => {
        await reader.close();
        await store.close();
      }),
    };
  }
  const store = await openEmbeddedStore({
    dataDir: config.data_dir,
    onUpgradeFailed: (file, error) =>
      log.warn(
        { file, error },
        'could not migrate a day file to the current schema; searches of its day fail',
      ),
  });
  const deadLetters = await DeadLetterStore.open(config.data_dir);
  return {
    kind: 'embedded',
    writer: store.writer,
    reader: store.reader,
    deadLetters,
    close: once(async () => {
      await store.close();
      await deadLetters.close();
    }),
  };
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let p: Promise<void> | null = null;
  return () => {
    p ??= fn();
    return p;
  };
}
