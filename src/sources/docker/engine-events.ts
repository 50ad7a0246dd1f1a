import split2 from 'split2';

/**
 * The engine's event stream (GET /events) is NDJSON: one JSON object per line, for as long as
 * the connection lasts. The socket's chunks cut lines, and the UTF-8 characters of label values,
 * anywhere: split2 joins both back (it decodes through a StringDecoder, where decoding each
 * chunk on its own turns a character cut in two into two U+FFFD).
 *
 * Calls `onLine` with each non-blank line, trimmed. The caller keeps watching `stream` itself for
 * its end and errors (a reconnect), as before.
 */
export function forEachEventLine(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  stream.pipe(split2()).on('data', (line: string) => {
    const trimmed = line.trim();
    if (trimmed) onLine(trimmed);
  });
}
