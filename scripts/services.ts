/**
 * `npm run services`: makes every service the tests need answer, installing and starting it where
 * this machine allows (as root on Debian/Ubuntu, as on CI), then prints how to reach each as
 * `KEY=value` lines on stdout and writes the same lines to .tmp/services.env, which the vitest
 * global setup loads. Idempotent, and quick when everything already runs.
 *
 * Services run in order, and the first failure stops the run.
 */
import { dockerService } from './services/docker.js';
import { elasticsearchService } from './services/elasticsearch.js';
import { formatServicesEnv, writeServicesEnv } from './services/env-file.js';
import type { Service } from './services/service.js';
import { syslogPeersService } from './services/syslog-peers.js';

const SERVICES: readonly Service[] = [dockerService, syslogPeersService, elasticsearchService];

async function main(): Promise<number> {
  const ctx = { log: (line: string) => process.stderr.write(`services: ${line}\n`) };
  const vars: Record<string, string> = {};
  for (const service of SERVICES) {
    try {
      Object.assign(vars, await service.ensure(ctx));
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      process.stderr.write(`services: ${service.name} is not available:\n${message}\n`);
      return 1;
    }
  }
  await writeServicesEnv(vars);
  process.stdout.write(formatServicesEnv(vars));
  return 0;
}

process.exitCode = await main();
