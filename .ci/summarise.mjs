// Adds up vitest JSON reports in a folder and prints "N passed, N failed".
// A report that is missing, or a suite that failed to load, counts as a failure.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const dir = process.argv[2];
const expected = ['unit-sqlite', 'e2e', 'unit-postgres'];
let passed = 0;
let failed = 0;
const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
for (const name of expected) {
  if (!files.includes(`${name}.json`)) {
    console.log(`${name}: no report (the run did not finish)`);
    failed += 1;
  }
}
for (const file of files) {
  const report = JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
  const loadFailures = (report.testResults ?? []).filter((r) => r.status === 'failed' && (r.assertionResults ?? []).length === 0).length;
  console.log(`${file.replace(/\.json$/, '')}: ${report.numPassedTests} passed, ${report.numFailedTests} failed${loadFailures ? `, ${loadFailures} files failed to load` : ''}`);
  passed += report.numPassedTests;
  failed += report.numFailedTests + loadFailures;
}
// A step that exited non-zero although its report shows no failed test (an unhandled error, a
// crash after the report) still counts: .ci/run lists such steps in failed-steps.
let steps = [];
try {
  steps = readFileSync(path.join(dir, 'failed-steps'), 'utf8').split('\n').filter(Boolean);
} catch {}
for (const step of steps) {
  console.log(`${step}: exited non-zero (counted as 1 failure)`);
  failed += 1;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
