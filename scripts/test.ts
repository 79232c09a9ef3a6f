// `npm test`: the unit project and the lab project side by side, in two vitest processes.
//
// Why two processes: vitest runs projects with different worker counts one after the other,
// and the lab project runs LAB_WORKERS files at once (3 by default), each worker on a lab of its
// own, where the unit project needs one worker. The lab files
// spend much of their time waiting (Prometheus scrapes, verify deadlines, zypper locks), so
// the unit files, on one worker, fit beside them on a 2-core machine instead of after them.
//
// The lab's output streams live; the unit project's goes to a file and is printed in one
// block at the end (two live reporters on one terminal would garble each other). Arguments
// (`npm test -- test/unit/x.test.ts`, `--project unit`) run plain `vitest run ARGS` instead.
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureCompiled } from '../test/support/compiled-cli.ts';
import { FAILED_MARK } from '../test/support/summary-reporter.ts';

/** Runs `vitest run ARGS` with TMPDIR; its output goes to every given stream (none: the terminal itself). */
const vitest = (args: string[], tmp: string, ...outs: NodeJS.WritableStream[]) =>
  new Promise<number>((resolve) => {
    const piped = outs.length > 0;
    const child = spawn(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', ...args], {
      stdio: ['ignore', piped ? 'pipe' : 'inherit', piped ? 'pipe' : 'inherit'],
      env: { ...process.env, TMPDIR: tmp },
    });
    for (const out of outs) {
      child.stdout?.pipe(out, { end: false });
      child.stderr?.pipe(out, { end: false });
    }
    child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });

/** The closing line of test/support/summary-reporter.ts, as numbers. */
function tally(output: string): { passed: number; failed: number; skipped: number } | null {
  const m = [...output.matchAll(/^(\d+) passed, (\d+) failed, (\d+) skipped$/gm)].at(-1);
  return m ? { passed: Number(m[1]), failed: Number(m[2]), skipped: Number(m[3]) } : null;
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const dir = await mkdtemp(join(tmpdir(), 'tp-test-'));
  // The tests' temporary files (thousands of folders: inventories, keys, reports) in one folder
  // of the run's, removed at the end, not left in /tmp run after run. Sticky and world-writable
  // as /tmp is: some tests run programs as another user there.
  const tmp = join(dir, 'tmp');
  await mkdir(tmp);
  await chmod(tmp, 0o1777);
  await chmod(dir, 0o711); // others may pass through to tmp/, not list the logs
  // Ctrl-C reaches the vitest processes too (one process group): they stop and report; this one
  // waits for them, then removes the folder.
  process.on('SIGINT', () => undefined);
  try {
    // The CLI the tests start, built once here rather than by both projects' globalSetup at once.
    if (args.length === 0) ensureCompiled();
    return args.length > 0 ? await vitest(args, tmp) : await wholeSuite(dir, tmp);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Both projects side by side (see the top of this file); the logs go into `dir`. */
async function wholeSuite(dir: string, tmp: string): Promise<number> {
  const unitLog = join(dir, 'unit.log');
  const unitOut = createWriteStream(unitLog);
  const started = Date.now();
  process.stdout.write("unit tests run beside the lab tests (one worker); their output follows the lab's\n");
  const unit = vitest(['--project', 'unit', '--maxWorkers', '1'], tmp, unitOut).then((code) => {
    process.stdout.write(`\n[unit project finished: exit ${code} after ${((Date.now() - started) / 1000).toFixed(0)} s; its output is printed at the end]\n`);
    return code;
  });
  const labLog = join(dir, 'lab.log');
  const labOut = createWriteStream(labLog);
  const labCode = await vitest(['--project', 'lab'], tmp, process.stdout, labOut);
  const unitCode = await unit;
  await Promise.all([unitOut, labOut].map((s) => new Promise<void>((r) => s.end(r))));
  const [unitText, labText] = await Promise.all([readFile(unitLog, 'utf8'), readFile(labLog, 'utf8')]);
  process.stdout.write(`\n${'='.repeat(30)} unit project ${'='.repeat(30)}\n${unitText}`);

  // One closing line for the whole suite, summed from each project's own closing line. A
  // project that printed none did not run to the end: that fails the suite whatever its exit.
  const counts = [tally(unitText), tally(labText)];
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  process.stdout.write(`\nwhole suite (unit beside lab) ${seconds} s: unit exit ${unitCode}, lab exit ${labCode}\n`);
  if (counts.includes(null)) {
    process.stdout.write(`a project printed no closing tally (${counts[0] ? 'lab' : 'unit'}): it did not run to the end\n`);
    return unitCode || labCode || 1;
  }
  // The failed tests by name, collected from both logs: the lab's list scrolled past long ago.
  const failedLines = `${labText}\n${unitText}`.split('\n').filter((l) => l.startsWith(FAILED_MARK));
  if (failedLines.length) process.stdout.write(`${failedLines.join('\n')}\n`);
  const sum = (k: 'passed' | 'failed' | 'skipped') => counts.reduce((n, c) => n + c![k], 0);
  process.stdout.write(`${sum('passed')} passed, ${sum('failed')} failed, ${sum('skipped')} skipped\n`);
  return unitCode || labCode;
}

process.exitCode = await main();
