// Where a lab keeps its files. Every path derives from the lab folder, so several labs
// (the default one and small dedicated ones started by tests) can live side by side.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface LabPaths {
  repoRoot: string;
  labDir: string;
  /** The repository's own lab (`<repo>/.lab`): it owns tplab0 / 10.77.0.0/16 and `inventories/lab/`. */
  isDefault: boolean;
  state: string; // internal state (identities, addresses, net id), survives `down`
  labJson: string; // the public description of the running lab (contract)
  lock: string;
  keysDir: string;
  keyFile: string; // root's (and the sudo users') private key
  hostsDir: string; // hosts/NAME/{upper,work,merged,identity,boot.env,host.pid,host.lock,console.log}
  baseDir: string; // shared "SLES base" layer, copied into each new host's upper layer
  packagesDir: string; // packages/<stamp>/{rpms,repos/<channel>} built by test/lab/packages/build.sh
  etcHosts: string; // the lab's /etc/hosts, copied into each host at start
  sshConfig: string;
  inventoryDir: string;
  knownHosts: string;
  hostsYml: string;
  groupVarsAll: string;
  keepersDir: string; // pid files of the keeper processes (parents of the hosts' unshare processes)
  delayPid: string; // the `up --rtt` delay process (test/lab/delay.ts)
  delayLog: string;
}

export function labPaths(labDir?: string): LabPaths {
  const defaultDir = join(repoRoot, '.lab');
  const dir = resolve(labDir ?? process.env.LAB_DIR ?? defaultDir);
  const isDefault = dir === defaultDir;
  // Only the repository's own lab writes `inventories/lab/` (the contract's path); a dedicated
  // lab keeps its inventory inside its own folder so it never overwrites the default one.
  const inventoryDir = resolve(process.env.LAB_INVENTORY_DIR ?? (isDefault ? join(repoRoot, 'inventories', 'lab') : join(dir, 'inventory')));
  return {
    repoRoot,
    labDir: dir,
    isDefault,
    state: join(dir, 'state.json'),
    labJson: join(dir, 'lab.json'),
    lock: join(dir, 'lab.lock'),
    keysDir: join(dir, 'keys'),
    keyFile: join(dir, 'keys', 'id_ed25519'),
    hostsDir: join(dir, 'hosts'),
    baseDir: join(dir, 'base'),
    packagesDir: join(dir, 'packages'),
    etcHosts: join(dir, 'etc-hosts'),
    sshConfig: join(dir, 'ssh_config'),
    inventoryDir,
    // Beside the inventory folder, not in it: every file in an inventory folder is an inventory source.
    knownHosts: join(dir, 'known_hosts'),
    hostsYml: join(inventoryDir, 'hosts.yml'),
    groupVarsAll: join(inventoryDir, 'group_vars', 'all.yml'),
    keepersDir: join(dir, 'keepers'),
    delayPid: join(dir, 'link-delay.pid'),
    delayLog: join(dir, 'link-delay.log'),
  };
}

export interface HostPaths {
  dir: string;
  upper: string;
  work: string;
  merged: string;
  identity: string; // host key + machine-id, kept when the disk (upper) is wiped
  bootEnv: string;
  pidFile: string;
  lockFile: string;
  console: string;
  baseStamp: string; // which base the upper layer was copied from
}

export function hostPaths(paths: LabPaths, name: string): HostPaths {
  const dir = join(paths.hostsDir, name);
  return {
    dir,
    upper: join(dir, 'upper'),
    work: join(dir, 'work'),
    merged: join(dir, 'merged'),
    identity: join(dir, 'identity'),
    bootEnv: join(dir, 'boot.env'),
    pidFile: join(dir, 'host.pid'),
    lockFile: join(dir, 'host.lock'),
    console: join(dir, 'console.log'),
    baseStamp: join(dir, 'base-stamp'),
  };
}

/** Host programs (test/lab/host/) and packages (test/lab/packages/) in the repository. */
export const hostProgramsDir = join(repoRoot, 'test', 'lab', 'host');
export const packagesSrcDir = join(repoRoot, 'test', 'lab', 'packages');
export const osReleaseFixtures = join(repoRoot, 'test', 'fixtures', 'os-release');
