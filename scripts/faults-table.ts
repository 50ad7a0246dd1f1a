/**
 * Prints the fault suite's report (`.tmp/faults-report.json`, written by `npm run test:faults`)
 * as a markdown table, one row per scenario:
 *
 *   npx tsx scripts/faults-table.ts [report.json]
 */
import { existsSync } from 'node:fs';
import { FAULTS_REPORT, markdownTable, readReport } from '../test/helpers/fault-report.js';

const file = process.argv[2] ?? FAULTS_REPORT;
if (!existsSync(file)) {
  process.stderr.write(`faults-table: no report at ${file} — run \`npm run test:faults\` first\n`);
  process.exitCode = 1;
} else {
  const report = readReport(file);
  process.stdout.write(`Fault suite, run started ${report.startedAt}\n\n${markdownTable(report)}`);
}
