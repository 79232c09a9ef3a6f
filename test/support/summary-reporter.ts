// A vitest reporter that closes the run with what a person (and CI) needs to read at the end:
// - each project's wall time (the suite must stay under 20 minutes on 2 cores; the lab
//   project dominates, so it shows where the time goes);
// - every skipped test BY NAME with its reason: a skip is never a quiet count (with CI set,
//   test/support/requires.ts turns a missing tool into a failure instead);
// - every failed test BY NAME with the first line of its error, each line starting with
//   FAILED_MARK, so scripts/test.ts can repeat them at the very end of `npm test` (a CI log
//   keeps only its tail, and the lab project's output comes before the unit project's);
// - one plain closing line `N passed, N failed, N skipped`.
import type { Reporter, TestModule } from 'vitest/node';

/** Starts each line naming a failed test; scripts/test.ts collects the lines by it. */
export const FAILED_MARK = 'xxx FAILED ';

interface Span {
  start: number;
  end: number;
  passed: number;
  failed: number;
  skipped: number;
}

export default class SummaryReporter implements Reporter {
  private readonly spans = new Map<string, Span>();
  private runStart = Date.now();

  onTestRunStart(): void {
    this.runStart = Date.now();
  }

  onTestModuleStart(module: TestModule): void {
    const name = module.project.name || 'default';
    if (!this.spans.has(name)) this.spans.set(name, { start: Date.now(), end: Date.now(), passed: 0, failed: 0, skipped: 0 });
  }

  onTestModuleEnd(module: TestModule): void {
    const span = this.spans.get(module.project.name || 'default');
    if (span) span.end = Date.now();
  }

  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const skipped: string[] = [];
    const failed: string[] = [];
    for (const module of modules) {
      const where = `${module.project.name}: ${module.moduleId.replace(`${process.cwd()}/`, '')}`;
      const span = this.spans.get(module.project.name || 'default');
      for (const test of module.children.allTests()) {
        const result = test.result();
        if (result.state === 'passed') span && span.passed++;
        else if (result.state === 'failed') {
          span && span.failed++;
          failed.push(`${where} > ${test.fullName}: ${firstLine(result.errors?.[0]?.message)}`);
        } else if (result.state === 'skipped') {
          span && span.skipped++;
          skipped.push(`${where} > ${test.fullName}${result.note ? ` (${result.note})` : ''}`);
        }
      }
      // A file that failed to load has no tests: count it as a failure, never as nothing.
      if (module.state() === 'failed' && [...module.children.allTests()].length === 0 && span) {
        span.failed++;
        failed.push(`${where}: the file failed to load: ${firstLine(module.errors()[0]?.message)}`);
      }
    }
    const out: string[] = ['', 'Per project:'];
    let total = { passed: 0, failed: 0, skipped: 0 };
    for (const [name, s] of this.spans) {
      out.push(`  ${name.padEnd(6)} ${((s.end - s.start) / 1000).toFixed(1).padStart(7)} s   ${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped`);
      total = { passed: total.passed + s.passed, failed: total.failed + s.failed, skipped: total.skipped + s.skipped };
    }
    out.push(`  whole run ${((Date.now() - this.runStart) / 1000).toFixed(1)} s`);
    if (skipped.length) {
      out.push('', `!!! ${skipped.length} test(s) did NOT run (skipped); they prove nothing on this machine:`);
      for (const s of skipped) out.push(`!!!   ${s}`);
    }
    if (failed.length) {
      out.push('', `${failed.length} test(s) FAILED:`);
      for (const f of failed) out.push(`${FAILED_MARK}${f}`);
    }
    out.push('', `${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
    process.stdout.write(`${out.join('\n')}\n`);
  }
}

/** An error message's first non-empty line, cut to one terminal line's worth. */
function firstLine(message: string | undefined): string {
  const line = (message ?? '(no message)').split('\n').find((l) => l.trim() !== '') ?? '(no message)';
  return line.length > 300 ? `${line.slice(0, 300)}...` : line;
}
