// vitest globalSetup of the 'lab' project: the repository's lab, for vitest worker 1 (the
// other workers bring up labs of their own: worker-lab.ts).
// - LAB_REUSE=1 and the lab is up: use it as it is (fast edit-test loops).
// - otherwise: stop it, wipe the hosts' disks (clean hosts; identities and known_hosts are
//   kept) and bring up the default mix (LAB_MIX=NAME=COUNT,... for another shape).
// - at the end: `down`, unless LAB_KEEP=1 or the lab was reused.
// - worker labs (`<lab>-wN` beside the lab, `.lab-wN` for the repository's: workerLabDir) an earlier run left are wiped before,
//   and stopped after.
// Tests find their lab through process.env.LAB_DIR / LAB_SSH_CONFIG (test/lab/current.ts).
import { workerLabDirs } from './current.ts';
import { isLabUp, labDown, labUpClean } from './lab.ts';
import { labPaths } from './paths.ts';

export default async function setup(): Promise<() => Promise<void>> {
  const paths = labPaths();
  const log = (s: string) => process.stderr.write(`[lab] ${s}\n`);
  const reuse = process.env.LAB_REUSE === '1' && isLabUp();
  if (reuse) {
    log(`reusing the running lab in ${paths.labDir}`);
  } else {
    const r = await labUpClean({ log });
    log(`${r.info.hosts.length} hosts up in ${(r.ms / 1000).toFixed(1)} s (${paths.labDir})`);
  }
  // Clean hosts for every worker: a worker lab still up from an earlier run is stopped and
  // wiped here, and brought up again by worker-lab.ts when its worker first needs it.
  for (const dir of workerLabDirs(paths.labDir)) await labDown({ labDir: dir, wipe: true, log });
  process.env.LAB_DIR = paths.labDir;
  // What worker-lab.ts puts the other workers' labs beside (it changes their LAB_DIR).
  process.env.LAB_MAIN_DIR = paths.labDir;
  process.env.LAB_SSH_CONFIG = paths.sshConfig;
  process.env.LAB_INVENTORY = paths.hostsYml;
  return async () => {
    if (reuse || process.env.LAB_KEEP === '1') {
      log(`leaving the lab up (${paths.labDir}); stop it with: npm run lab -- down`);
      return;
    }
    await labDown({ log });
    for (const dir of workerLabDirs(paths.labDir)) await labDown({ labDir: dir, log });
  };
}
