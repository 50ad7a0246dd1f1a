/** What `/api/v1/sources` shows for one attached container or syslog peer. */
export interface SourceStatus {
  kind: 'docker' | 'syslog';
  /** Container id, or the peer's address. */
  id: string;
  name: string;
  state: 'attached' | 'detached' | 'reconnecting' | 'stopped';
  linesRead: number;
  /** `@timestamp` of the last line read, or null. */
  lastLineTime: string | null;
  /** `@timestamp` of the last line the store committed (the saved position), or null. */
  committedTime: string | null;
  /**
   * Seconds the oldest line read and not yet committed has waited since it was written; 0 when
   * every line read is committed (caught up, however long the source has been quiet). null when
   * not measured: a syslog peer (syslog has no per-peer acknowledgement; the sinks' oldest
   * buffered age covers it). See telemetry/lag.ts.
   */
  lagSeconds: number | null;
  /**
   * Docker: re-attaches of the log stream after it ended while the container ran, or after the
   * engine was unreachable (not the attach after a container's own restart). Syslog: new
   * connections from a peer that had none open but had connected before.
   */
  reconnects: number;
  /** Lines lost, by reason (known reasons are present with 0). Lines cut at a size limit are kept, not dropped. */
  dropped: Record<string, number>;
  /**
   * Docker: the follower stopped reading because the pipeline is full (backpressure: a sink or
   * its disk buffer cannot take more); Docker keeps the lines meanwhile, and the lag grows.
   */
  paused?: boolean;
  compose?: { project?: string; service?: string; number?: number };
}

/** The Docker source's connection to the engine, for /metrics. */
export interface DockerEngineStatus {
  connected: boolean;
  /** Connections to the engine (its event stream) made again after one was lost or failed; not the attempts between. */
  reconnects: number;
}

export interface StatusProvider {
  sources(): SourceStatus[];
  /** Whether the sources are connected (Docker engine reachable). */
  ready(): boolean;
  /** Events a sink refused for good and kept aside (the dead-letter store), if one is open. */
  deadLetters?(): DeadLetterStatus | null;
}

export interface DeadLetterStatus {
  /** Events kept there since the store was created. */
  count: number;
  /** Where they are, for the operator. */
  dir: string;
}

/** What `/metrics` and `/api/v1/sinks`-style views show for one sink and its buffer. */
export interface SinkStatus {
  /** `store`, `syslog 10.0.0.5:6514`. */
  name: string;
  /** `embedded`, `elasticsearch`, `syslog`. */
  kind: string;
  buffer: {
    kind: 'disk' | 'memory';
    /** Bytes waiting (disk: unsent record bytes; memory: 0, events wait in the pipeline). */
    bytes: number;
    maxBytes: number;
    /** Events waiting to be sent to the sink. */
    events: number;
    /** Seconds the oldest waiting event has waited, or 0 when nothing waits. */
    oldestAgeSeconds: number;
    /**
     * Damaged spots found in the disk buffer since start (a disk that lost data): each gave up
     * the rest of its segment, and the bytes given up. Always 0 for a memory buffer.
     */
    damagedRecords: number;
    damagedBytes: number;
  };
  /** Events the sink took (delivered). */
  eventsWritten: number;
  /** Events the sink refused for good (dead-lettered). */
  eventsRejected: number;
  /** Writes that failed retryably and were retried. */
  writeRetries: number;
  /** Events dropped on purpose, by reason (`buffer_full` under `when_full: drop_newest`). */
  dropped: Record<string, number>;
}
