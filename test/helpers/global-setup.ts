/**
 * Vitest global setup for the tests that use Docker (see vitest.config.ts): runs once per run,
 * before any test file. A missing engine fails the run here, with what to do, instead of every
 * test failing (or, worse, being skipped) on its own.
 */
import { readServicesEnv } from '../../scripts/services/env-file.js';
import { removeStaleProjects } from './compose.js';
import { ensureEngine, ensureTestImage } from './docker.js';
import { ensureElasticsearch } from './es-setup.js';
import { removeStaleTempDirs } from './tmp.js';

export default async function setup(): Promise<void> {
  // What `npm run services` found (DOCKER_HOST, later ELASTICSEARCH_URL, ...), unless the
  // environment says otherwise. Test processes start after this and inherit it.
  for (const [key, value] of Object.entries(await readServicesEnv())) process.env[key] ??= value;
  await Promise.all([ensureEngine(), ensureElasticsearch()]);
  // Leftovers of runs that crashed or were killed more than an hour ago.
  const [, projects] = await Promise.all([ensureTestImage(), removeStaleProjects(), removeStaleTempDirs()]);
  if (projects.length > 0)
    console.warn(`global setup: removed stale compose projects ${projects.join(', ')}`);
}
