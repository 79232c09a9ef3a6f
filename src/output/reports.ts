// The run's --json and --junit reports: which files, and writing them, for a run that reached its
// hosts and for one stopped before any (the same dispatch, the same error line).
import { rm } from 'node:fs/promises';
import type { Redactor } from './redact.ts';
import { writeJsonReport } from './json-report.ts';
import { writeJunitReport } from './junit-report.ts';
import type { ExitPolicy, Tally } from './tally.ts';

export type ReportFlag = '--json' | '--junit';
/** A report the run writes: its flag and its path. */
export type ReportFile = readonly [flag: ReportFlag, path: string];

/** The reports the command line asks for, by flag. */
export function reportFiles(paths: { json?: string; junit?: string }): ReportFile[] {
  return [...(paths.json ? [['--json', paths.json] as const] : []), ...(paths.junit ? [['--junit', paths.junit] as const] : [])];
}

/** The inventory source PATH is, or lies in (a typo: --json hosts.yml; a report inside an
 *  inventory folder is read as inventory by the next run), if any. */
export function inventorySourceHolding(path: string, sources: readonly string[]): string | undefined {
  return sources.find((s) => path === s || path.startsWith(`${s}/`));
}

/**
 * Writes each report through the run's secret list, each on its own: one that fails (a full
 * disk) is an error line naming its flag, and the other is still written. Returns whether any was
 * lost.
 */
export async function writeReports(
  reports: readonly ReportFile[],
  tally: Tally,
  durationMs: number,
  redact: Redactor,
  policy: ExitPolicy,
  errors: NodeJS.WritableStream = process.stderr,
): Promise<boolean> {
  let lost = false;
  for (const [flag, path] of reports) {
    try {
      if (flag === '--json') await writeJsonReport(path, tally, durationMs, redact, policy);
      else await writeJunitReport(path, tally, durationMs, redact);
    } catch (error) {
      lost = true;
      errors.write(redact(`ERROR! ${flag} ${path}: the report could not be written: ${(error as Error).message}\n`));
    }
  }
  return lost;
}

/** Removes the reports' files an earlier run left (paths already checked: never a folder, never an
 *  inventory source). One that cannot be removed is an error now, before any host is touched. */
export async function removeReportFiles(reports: readonly ReportFile[]): Promise<void> {
  for (const [flag, path] of reports) {
    try {
      await rm(path, { force: true });
    } catch (error) {
      throw new Error(
        `${flag} ${path}: the previous run's report could not be removed (${(error as NodeJS.ErrnoException).code}); remove it or write the report elsewhere`,
      );
    }
  }
}
