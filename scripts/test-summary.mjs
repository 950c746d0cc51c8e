// Prints one plain summary line per vitest JSON report, and a total: "N passed, N failed".
// CI systems read that line; vitest's own summary format is not recognised by them. The failing tests are listed
// just above it (file, name, first lines of the failure), so that the tail of a CI log says what failed.
import fs from 'node:fs';
import path from 'node:path';

let passed = 0;
let failed = 0;
let skipped = 0;
const lines = [];
const failures = [];
for (const file of process.argv.slice(2)) {
  if (!fs.existsSync(file)) {
    lines.push(`${file}: no report (the run did not complete)`);
    failed += 1;
    continue;
  }
  const report = JSON.parse(fs.readFileSync(file, 'utf8'));
  const p = report.numPassedTests ?? 0;
  // vitest counts every describe block around a failing test as a failed suite too; suites count only when they
  // failed without a failing test (a file that could not load).
  const f = report.numFailedTests || report.numFailedTestSuites || 0;
  const s = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  lines.push(`${file}: ${p} passed, ${f} failed, ${s} skipped`);
  passed += p;
  failed += f;
  skipped += s;
  for (const suite of report.testResults ?? []) {
    const where = path.relative(process.cwd(), suite.name ?? '');
    const failedTests = (suite.assertionResults ?? []).filter((t) => t.status === 'failed');
    for (const test of failedTests) {
      failures.push({ run: file, where, name: test.fullName ?? test.title, message: test.failureMessages?.[0] ?? '' });
    }
    if (failedTests.length === 0 && suite.status === 'failed') {
      failures.push({ run: file, where, name: '(the file did not load)', message: suite.message ?? '' });
    }
  }
}
if (failures.length > 0) {
  console.log(`Failed (${failures.length}):`);
  for (const failure of failures) {
    console.log(`- [${path.basename(failure.run)}] ${failure.where} > ${failure.name}`);
    const excerpt = String(failure.message).split('\n').slice(0, 6);
    for (const line of excerpt) console.log(`    ${line}`);
  }
  console.log('');
}
for (const line of lines) console.log(line);
if (passed === 0) failed += 1; // A run that executed no test is a failure.
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
