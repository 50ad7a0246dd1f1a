import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // .ci/run reads the JSON results for its "N passed, N failed" line. `npm run test:faults`
    // writes its own file (--outputFile.json=.tmp/vitest-faults.json), which .ci/run adds in.
    reporters: ['default', 'json'],
    outputFile: { json: '.tmp/vitest-results.json' },
    // Three projects. Unit tests (`npm run test:unit`) need no Docker engine: only the docker
    // and faults projects run the global setup that checks the engine and builds the test image.
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'docker',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'test/unit/**', 'test/faults/**'],
          globalSetup: ['test/helpers/global-setup.ts'],
        },
      },
      {
        // The fault suite (`npm run test:faults`): crashes, outages and churn against the real
        // engine and Elasticsearch. One file at a time: scenarios restart dockerd, stop
        // Elasticsearch nodes and measure loss, and must not disturb one another.
        extends: true,
        test: {
          name: 'faults',
          include: ['test/faults/**/*.test.ts'],
          globalSetup: ['test/helpers/global-setup.ts', 'test/helpers/fault-global-setup.ts'],
          // fileParallelism is a root-only option; one fork for the project runs its files serially.
          poolOptions: { forks: { singleFork: true } },
          testTimeout: 300_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
