import type { LogEvent } from './event.js';

/**
 * Where sources hand their events to the pipeline. `push` answers false when the pipeline
 * holds as much as it may: the source then stops reading (pauses its stream) until `onDrain`
 * fires. Nothing is ever dropped to make room.
 */
export interface Intake {
  push(events: LogEvent[]): boolean;
  onDrain(listener: () => void): () => void;
}
