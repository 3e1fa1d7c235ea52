// Printed last when the browser suite fails, so the end of a CI log says what failed and why:
// each failed test with the first lines of its error (from Playwright's JSON report), then the
// server's warnings and errors (from the suite's output, `$1`).
import fs from 'node:fs';
import path from 'node:path';

const here = path.dirname(new URL(import.meta.url).pathname);
const strip = (text) => text.replace(/\x1b\[[0-9;]*m/g, '');
const report = path.join(here, 'test-results', 'report.json');

const failures = [];
const walk = (suite, titles) => {
  for (const spec of suite.specs ?? []) {
    for (const test of spec.tests ?? []) {
      for (const result of test.results ?? []) {
        if (result.status === 'passed' || result.status === 'skipped') continue;
        const error = strip(result.error?.message ?? result.status).split('\n').slice(0, 12).join('\n    ');
        failures.push(`${spec.file}:${spec.line} › ${[...titles, spec.title].join(' › ')}\n    ${error}`);
      }
    }
  }
  for (const child of suite.suites ?? []) walk(child, [...titles, child.title].filter((t) => !t.endsWith('.ts')));
};
if (fs.existsSync(report)) {
  for (const suite of JSON.parse(fs.readFileSync(report, 'utf8')).suites ?? []) walk(suite, []);
}
console.log('==> end2end failures');
console.log(failures.length ? failures.join('\n') : '(no JSON report: the suite did not finish)');

const output = process.argv[2];
if (output && fs.existsSync(output)) {
  const warnings = strip(fs.readFileSync(output, 'utf8'))
    .split('\n')
    .filter((line) => line.startsWith('[WebServer]') && /\b(WARN|ERROR)\b|panicked/.test(line));
  console.log(`==> the server's warnings and errors (${warnings.length}, the last 20)`);
  for (const line of warnings.slice(-20)) console.log(line.slice(0, 400));
}
