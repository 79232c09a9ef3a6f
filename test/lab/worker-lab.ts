// setupFiles of the 'lab' project: each vitest worker gets a lab of its own, so lab files run
// LAB_WORKERS at a time (vitest.config.ts) without sharing hosts. Worker 1 uses the repository's lab (started by
// global-setup.ts); worker N > 1 uses `<lab>-wN` beside it, with a network number of its own,
// brought up (from wiped disks) the first time a file runs there. Tests find their lab through
// process.env.LAB_DIR (currentLab(), freshLab()), never through a fixed path.
import { workerLabDir } from './current.ts';
import { isLabUp, labUpClean } from './lab.ts';
import { labPaths } from './paths.ts';

const dir = workerLabDir(process.env.VITEST_POOL_ID, process.env.LAB_MAIN_DIR ?? labPaths().labDir);
if (dir !== undefined) {
  process.env.LAB_DIR = dir;
  // A number forced for the repository's lab (LAB_NET_ID) is that lab's; this one picks a free one.
  delete process.env.LAB_NET_ID;
  const paths = labPaths(dir);
  process.env.LAB_SSH_CONFIG = paths.sshConfig;
  process.env.LAB_INVENTORY = paths.hostsYml;
  if (!isLabUp(dir)) await labUpClean({ labDir: dir });
}
