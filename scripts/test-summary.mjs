// Prints one plain summary line per vitest JSON report, and a total: "N passed, N failed".
// CI systems read that line; vitest's own summary format is not recognised by them.
import fs from 'node:fs';

let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of process.argv.slice(2)) {
  if (!fs.existsSync(file)) {
    console.log(`${file}: no report (the run did not complete)`);
    failed += 1;
    continue;
  }
  const report = JSON.parse(fs.readFileSync(file, 'utf8'));
  const p = report.numPassedTests ?? 0;
  // vitest counts every describe block around a failing test as a failed suite too; suites count only when they
  // failed without a failing test (a file that could not load).
  const f = report.numFailedTests || report.numFailedTestSuites || 0;
  const s = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  console.log(`${file}: ${p} passed, ${f} failed, ${s} skipped`);
  passed += p;
  failed += f;
  skipped += s;
}
if (passed === 0) failed += 1; // A run that executed no test is a failure.
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
