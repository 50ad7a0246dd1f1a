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
  compose?: { project?: string; service?: string; number?: number };
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
