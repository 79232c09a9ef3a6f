// vitest globalSetup of the 'lab' project: one lab for all integration tests.
// - LAB_REUSE=1 and the lab is up: use it as it is (fast edit-test loops).
// - otherwise: stop it, wipe the hosts' disks (clean hosts; identities and known_hosts are
//   kept) and bring up the default mix (LAB_MIX=NAME=COUNT,... for another shape).
// - at the end: `down`, unless LAB_KEEP=1 or the lab was reused.
// Tests get the lab with inject('lab') (lab.json) and process.env.LAB_DIR / LAB_SSH_CONFIG.
import { readFileSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { isLabUp, labDown, labUp } from './lab.ts';
import { labPaths } from './paths.ts';
import { DEFAULT_MIX, parseMix } from './products.ts';
import type { LabInfo } from './inventory.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    lab: LabInfo;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const paths = labPaths();
  const log = (s: string) => process.stderr.write(`[lab] ${s}\n`);
  const reuse = process.env.LAB_REUSE === '1' && isLabUp();
  if (reuse) {
    log(`reusing the running lab in ${paths.labDir}`);
  } else {
    await labDown({ wipe: true, log });
    const mix = process.env.LAB_MIX ? parseMix(process.env.LAB_MIX) : undefined;
    const r = await labUp({ mix, hosts: mix ? undefined : DEFAULT_MIX.length, log });
    log(`${r.info.hosts.length} hosts up in ${(r.ms / 1000).toFixed(1)} s (${paths.labDir})`);
  }
  const info = JSON.parse(readFileSync(paths.labJson, 'utf8')) as LabInfo;
  project.provide('lab', info);
  process.env.LAB_DIR = paths.labDir;
  process.env.LAB_SSH_CONFIG = paths.sshConfig;
  process.env.LAB_INVENTORY = paths.hostsYml;
  return async () => {
    if (reuse || process.env.LAB_KEEP === '1') {
      log(`leaving the lab up (${paths.labDir}); stop it with: npm run lab -- down`);
      return;
    }
    await labDown({ log });
  };
}
