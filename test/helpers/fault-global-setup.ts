/**
 * Global setup of the faults project (after the shared one, global-setup.ts): starts the run's
 * report afresh, so `.tmp/faults-report.json` only ever holds the scenarios of one run.
 */
import { emptyReport, FAULTS_REPORT, writeReport } from './fault-report.js';

export default function setup(): void {
  writeReport(emptyReport());
  console.log(
    `faults: the report of this run goes to ${FAULTS_REPORT} (table: npx tsx scripts/faults-table.ts)`,
  );
}
