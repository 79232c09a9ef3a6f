import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** The lab's own tests first, on the pristine lab; then the integration files, each of
 *  which starts from clean hosts (freshLab) whatever ran before it. */
class LabFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification) => (f.moduleId.includes('/test/lab/') ? 0 : 1);
    return [...files].sort((a, b) => rank(a) - rank(b) || a.moduleId.localeCompare(b.moduleId));
  }
}

// Two projects: fast unit tests with no host, and integration tests that share one lab
// (started once by test/lab/global-setup.ts, stopped at the end). Integration files run one
// at a time because they provision the same hosts.
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
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'lab',
          include: ['test/lab/**/*.test.ts', 'test/integration/**/*.test.ts', 'test/load/**/*.test.ts'],
          globalSetup: ['test/lab/global-setup.ts'],
          fileParallelism: false,
          sequence: { sequencer: LabFirst },
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
