import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { LogwharfProcess } from './logwharf-process.js';

/**
 * A `logwharf run` config for a process test that needs events but no Docker: syslog over TCP
 * only, on free loopback ports, short flushes; and util-linux `logger` sending to it, as a host
 * outside Docker would.
 */

const exec = promisify(execFile);
const LOGGER = process.env.LOGGER_BIN ?? 'logger';

/** Writes `<dir>/logwharf.yaml` (data under `<dir>/data`); `http` is YAML added under `http:`. */
export function writeSyslogRunConfig(dir: string, http = ''): string {
  return LogwharfProcess.writeConfig(
    dir,
    `data_dir: ${dir}/data
http:
  listen: 127.0.0.1:0
${http}sources:
  docker:
    enabled: false
  syslog:
    enabled: true
    udp: null
    tcp: 127.0.0.1:0
pipeline:
  flush_interval: 20ms
`,
  );
}

/** Sends one RFC 5424 message with app-name `tag` over TCP to the run's syslog listener. */
export async function sendWithLogger(lw: LogwharfProcess, tag: string, text: string): Promise<void> {
  const port = lw.syslog.tcp?.split(':').pop();
  if (!port) throw new Error('sendWithLogger: this logwharf has no syslog TCP listener (is it started?)');
  await exec(LOGGER, ['-n', '127.0.0.1', '-P', port, '-T', '--rfc5424', '-t', tag, text]);
}
