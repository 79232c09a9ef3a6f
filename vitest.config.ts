import { relative } from 'node:path';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The lab files that take longest, in seconds (a full CI run of 2026-12-06 on this 2-core
 * machine, both workers busy): they start first, so the two workers end together rather than one
 * running the last long file alone (alphabetical order left one worker ~75 s of work after the
 * other's end). Rough figures suffice; a file not listed comes after them.
 */
const LONGEST_LAB_FILES: Record<string, number> = {
  'test/integration/provision-cases.test.ts': 455,
  'test/integration/verify-prometheus.test.ts': 246,
  'test/integration/trento-view.test.ts': 221,
  'test/integration/hostile-host.test.ts': 211,
  'test/load/fleet.test.ts': 210,
  'test/integration/openssh.test.ts': 198,
  'test/integration/official-playbook.test.ts': 120,
  'test/integration/faults.test.ts': 111,
  'test/integration/migration.test.ts': 80,
};

/** The lab's own tests first, on the pristine lab; then the integration files, longest first,
 *  each of which starts from clean hosts (freshLab) whatever ran before it. */
class LabFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification) => (f.moduleId.includes('/test/lab/') ? 0 : 1);
    const seconds = (f: TestSpecification) => LONGEST_LAB_FILES[relative(import.meta.dirname, f.moduleId)] ?? 0;
    return [...files].sort((a, b) => rank(a) - rank(b) || seconds(b) - seconds(a) || a.moduleId.localeCompare(b.moduleId));
  }
}

// Two projects: fast unit tests with no host, and integration tests on the lab. Lab files run
// LAB_WORKERS at a time (default 3), each worker on a lab of its own (worker 1: the repository's,
// started by test/lab/global-setup.ts; others: test/lab/worker-lab.ts), so no two files ever
// provision the same hosts. Lab files spend much of their time waiting on hosts, Prometheus and
// deadlines (Alloy's first scrape comes up to a 15 s interval after each load), which three labs
// on two cores overlap: the suite took 1,160 s with two, 857 s with three, on this machine.
const labWorkers = Number(process.env.LAB_WORKERS ?? 3);
export default defineConfig({
  test: {
    sequence: { sequencer: LabFirst },
    // The default output, then per-project times, every skip by name, and a plain closing line.
    reporters: ['default', './test/support/summary-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          // The CLI the tests start: the compiled build of the current sources.
          globalSetup: ['test/support/compiled-cli.ts'],
          setupFiles: ['test/support/property-seed.ts'],
          // A guard against a hung test, not a speed check: the unit files run beside the lab
          // project, and property tests or the Ansible judge can take minutes on a loaded machine.
          testTimeout: 120_000,
          // The same for set-up hooks (vitest's default is 10 s): a vault file encrypted by
          // ansible-vault in a beforeAll took longer than that once, beside a busy lab project.
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'lab',
          include: ['test/lab/**/*.test.ts', 'test/integration/**/*.test.ts', 'test/load/**/*.test.ts'],
          globalSetup: ['test/support/compiled-cli.ts', 'test/lab/global-setup.ts'],
          setupFiles: ['test/lab/worker-lab.ts'],
          fileParallelism: labWorkers > 1,
          maxWorkers: labWorkers,
          sequence: { sequencer: LabFirst },
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
