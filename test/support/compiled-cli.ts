// The CLI as the suite starts it: the compiled JavaScript of the current sources, as
// `npm run provision` starts it after scripts/setup.sh (scripts/launch.mjs runs dist/ when it is
// the build of the current sources), so the tests run what admins run. The suite starts the CLI
// some hundreds of times, and through tsx each start costs ~0.45 s more CPU (it compiles every
// module again) on a machine the lab already keeps busy.
//
// Built once per version of the sources (their hash, scripts/sources-hash.mjs) into
// .test-build/HASH/ by the projects' globalSetup (and by `npm test` before both projects start).
// Not dist/: install.test.ts's `npm pack` rebuilds dist/ (prepack) while other files run the CLI.
// Inside the repository, as dist/ is, so the compiled modules find node_modules. The folder a run
// chose is handed to its workers in TP_TEST_BUILD: a source edited while the suite runs does not
// change what it tests halfway.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, renameSync, rmSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { STAMP, sourcesHash } from '../../scripts/sources-hash.mjs';
import { repoRoot } from '../lab/paths.ts';

const BUILDS = join(repoRoot, '.test-build');
/** Builds of other sources no run has chosen for this long are removed (a newer one may belong
 *  to a suite running in this checkout meanwhile; each run marks its build as it chooses it, so
 *  only a run longer than this can lose its build). */
const PRUNE_AFTER_MS = 60 * 60 * 1000;

/** The build of the current sources, made now if there is none; its folder. */
export function ensureCompiled(): string {
  const dir = join(BUILDS, sourcesHash(repoRoot));
  if (existsSync(join(dir, STAMP))) {
    // Chosen now: a build made over an hour ago is not pruned by a run starting under this one.
    const now = new Date();
    try {
      utimesSync(dir, now, now);
    } catch {
      // pruned by another run at this very moment: built again below
    }
  }
  if (!existsSync(join(dir, STAMP))) {
    // Built beside, then renamed into place: two projects starting at once never run half a build.
    const building = `${dir}.building-${process.pid}`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'scripts', 'build.ts'), '--out', building], {
      cwd: repoRoot,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    if (r.status !== 0) {
      rmSync(building, { recursive: true, force: true });
      throw new Error(`the suite's build of the CLI failed (scripts/build.ts --out ${building}, exit ${r.status}): fix what tsc says above`);
    }
    try {
      renameSync(building, dir);
    } catch (error) {
      rmSync(building, { recursive: true, force: true });
      if (!existsSync(join(dir, STAMP))) throw error; // not another process's build of the same sources
    }
  }
  for (const name of readdirSync(BUILDS)) {
    const other = join(BUILDS, name);
    if (other !== dir && Date.now() - statSync(other).mtimeMs > PRUNE_AFTER_MS) rmSync(other, { recursive: true, force: true });
  }
  process.env.TP_TEST_BUILD = dir;
  return dir;
}

/** vitest globalSetup: the build the run's workers start (TP_TEST_BUILD reaches them). */
export default function setup(): void {
  ensureCompiled();
}

/** The command line that starts SCRIPT (provision, inventory) of the run's build. */
export function compiledCli(script: 'provision' | 'inventory'): [node: string, entry: string] {
  const dir = process.env.TP_TEST_BUILD;
  if (!dir || !existsSync(join(dir, STAMP))) {
    throw new Error(
      `no build of the CLI for this test run (TP_TEST_BUILD=${dir ?? ''}): the projects' globalSetup makes it (test/support/compiled-cli.ts); run the tests through vitest's config`,
    );
  }
  return [process.execPath, join(dir, 'scripts', `${script}.js`)];
}

/** The compiled entry of SCRIPT, for `node ENTRY ARGS` (process.execPath is the node). */
export const cliEntry = (script: 'provision' | 'inventory'): string => compiledCli(script)[1];
