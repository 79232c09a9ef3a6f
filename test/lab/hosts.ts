// Host creation (the upper layer: base copy + the host's identity files), start and stop.
//
// Start: a "keeper" bash process (one per `up`) reads host folders on its stdin and starts each
// with unshare; the unshare process's pid goes to hosts/NAME/host.pid. The keeper exists
// because this machine's PID 1 does not reap orphans: a host whose parent died would stay a
// zombie after it stops. The keeper stays the parent of its hosts, reaps them, and exits when
// the last one is gone.
import {
  chmodSync,
  chownSync,
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
  lstatSync,
  readlinkSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import type { HostPaths, LabPaths } from './paths.ts';
import { hostPaths, osReleaseFixtures } from './paths.ts';
import { productByMix, prodFile } from './products.ts';
import type { HostRecord, LabNet } from './state.ts';
import { vethName } from './state.ts';
import { cmdline, isAlive, must, processTable, sleep, spawnDetached, tail } from './proc.ts';
import { createVeths, removeLinks, listLinks } from './network.ts';
import { hostCertFiles } from './server.ts';

export const SUDO_PASSWORD = 'lab-sudo-password';

/** The unshare pid of a running host, or null. Checks the pid really is that host's unshare. */
export function runningPid(hp: HostPaths): number | null {
  let pid: number;
  try {
    pid = Number(readFileSync(hp.pidFile, 'utf8').trim());
  } catch {
    return null;
  }
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return null;
  const args = cmdline(pid);
  if (args[0] !== 'unshare' && !args[0]?.endsWith('/unshare')) return null;
  if (!args.includes(hp.dir)) return null; // pid reused by something else
  return pid;
}

/** PID 1 of the host's pid namespace (the child of its unshare process). */
export function hostInitPid(unsharePid: number, table = processTable()): number | null {
  return table.find((p) => p.ppid === unsharePid)?.pid ?? null;
}

async function ensureIdentity(hp: HostPaths, name: string): Promise<void> {
  const key = join(hp.identity, 'ssh_host_ed25519_key');
  if (existsSync(key) && existsSync(`${key}.pub`)) return;
  mkdirSync(hp.identity, { recursive: true });
  rmSync(key, { force: true });
  rmSync(`${key}.pub`, { force: true });
  await must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `root@${name}`, '-f', key], `${name}: generating its ssh host key`);
}

export function hostPublicKey(paths: LabPaths, name: string): string {
  const hp = hostPaths(paths, name);
  const pub = readFileSync(join(hp.identity, 'ssh_host_ed25519_key.pub'), 'utf8').trim().split(/\s+/);
  return `${pub[0]} ${pub[1]}`;
}

async function mapLimit<T>(items: T[], limit: number, fn: (t: T) => Promise<void>): Promise<void> {
  let i = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (i < items.length) {
      const t = items[i++]!;
      await fn(t);
    }
  });
  await Promise.all(workers);
}

interface Account {
  name: string;
  uid: number;
}

function writeFileAs(path: string, text: string, mode: number, uid = 0, gid = 0): void {
  writeFileSync(path, text, { mode });
  chmodSync(path, mode);
  chownSync(path, uid, gid);
}

/** Add the sudo users to a new host's upper layer (copies of the machine's account files + our lines). */
function addSudoUsers(paths: LabPaths, upper: string, passwordHash: string): void {
  const passwd = readFileSync('/etc/passwd', 'utf8');
  const used = new Set(
    passwd
      .split('\n')
      .map((l) => Number(l.split(':')[2]))
      .filter((n) => Number.isInteger(n)),
  );
  const groupText = readFileSync('/etc/group', 'utf8');
  for (const l of groupText.split('\n')) used.add(Number(l.split(':')[2]));
  let next = 1001;
  const accounts: Account[] = [];
  for (const name of ['admin', 'admin-pw']) {
    while (used.has(next)) next++;
    accounts.push({ name, uid: next });
    used.add(next);
  }
  const nl = (s: string) => (s.endsWith('\n') ? s : `${s}\n`);
  const E = (p: string) => join(upper, 'etc', p);
  const stat = (p: string) => lstatSync(p);
  let pw = nl(passwd);
  let gr = nl(groupText);
  let sh = nl(readFileSync('/etc/shadow', 'utf8'));
  let gs = existsSync('/etc/gshadow') ? nl(readFileSync('/etc/gshadow', 'utf8')) : '';
  const days = Math.floor(Date.now() / 86_400_000);
  for (const a of accounts) {
    pw += `${a.name}:x:${a.uid}:${a.uid}:lab sudo user:/home/${a.name}:/bin/bash\n`;
    gr += `${a.name}:x:${a.uid}:\n`;
    // "*": no password but not locked (sshd refuses "!" accounts even with a key when UsePAM is off).
    sh += `${a.name}:${a.name === 'admin-pw' ? passwordHash : '*'}:${days}:0:99999:7:::\n`;
    gs += `${a.name}:!::\n`;
  }
  for (const [f, text] of [
    ['passwd', pw],
    ['group', gr],
    ['shadow', sh],
    ['gshadow', gs],
  ] as const) {
    if (f === 'gshadow' && !existsSync('/etc/gshadow')) continue;
    const st = stat(`/etc/${f}`);
    writeFileAs(E(f), text, st.mode & 0o777, st.uid, st.gid);
  }
  mkdirSync(E('sudoers.d'), { recursive: true });
  writeFileAs(E('sudoers.d/lab-admin'), '# lab: sudo users for become tests\nadmin ALL=(ALL:ALL) NOPASSWD: ALL\nadmin-pw ALL=(ALL:ALL) ALL\n', 0o440);
  const key = readFileSync(`${paths.keyFile}.pub`, 'utf8');
  for (const a of accounts) {
    const home = join(upper, 'home', a.name);
    mkdirSync(join(home, '.ssh'), { recursive: true });
    writeFileAs(join(home, '.ssh', 'authorized_keys'), key, 0o600, a.uid, a.uid);
    writeFileAs(join(home, '.bashrc'), 'export PS1="\\u@\\h:\\w $ "\n', 0o644, a.uid, a.uid);
    chmodSync(join(home, '.ssh'), 0o700);
    chownSync(join(home, '.ssh'), a.uid, a.uid);
    chmodSync(home, 0o750);
    chownSync(home, a.uid, a.uid);
  }
}

/** (Re)write the files that make the host who it is. Only while the host is down. */
function writeIdentityFiles(paths: LabPaths, rec: HostRecord): void {
  const hp = hostPaths(paths, rec.name);
  const p = productByMix(rec.product);
  const U = (x: string) => join(hp.upper, x);
  const osRelease = readFileSync(join(osReleaseFixtures, p.mix), 'utf8');
  mkdirSync(U('usr/lib'), { recursive: true });
  mkdirSync(U('etc/ssh'), { recursive: true });
  for (const f of ['etc/os-release', 'usr/lib/os-release']) {
    rmSync(U(f), { force: true }); // a real file, never Debian's symlink
    writeFileSync(U(f), osRelease, { mode: 0o644 });
  }
  writeFileSync(U('etc/hostname'), `${rec.name}\n`);
  writeFileSync(U('etc/machine-id'), `${rec.machineId}\n`, { mode: 0o444 });
  for (const f of ['ssh_host_ed25519_key', 'ssh_host_ed25519_key.pub']) {
    copyFileSync(join(hp.identity, f), U(`etc/ssh/${f}`));
    chmodSync(U(`etc/ssh/${f}`), f.endsWith('.pub') ? 0o644 : 0o600);
  }
  const prod = U('etc/products.d');
  rmSync(prod, { recursive: true, force: true });
  mkdirSync(prod, { recursive: true });
  if (p.baseProduct) {
    writeFileSync(join(prod, `${p.baseProduct}.prod`), prodFile(p));
    symlinkSync(`${p.baseProduct}.prod`, join(prod, 'baseproduct'));
  }
  const repos = U('etc/zypp/repos.d');
  mkdirSync(repos, { recursive: true });
  const repoFile = join(repos, 'lab.repo');
  if (p.channel) {
    writeFileSync(
      repoFile,
      `[lab]\nname=Lab packages (${p.channel})\nenabled=1\nautorefresh=1\nbaseurl=file:///srv/repo\ntype=rpm-md\n# signed with the lab key, which the host trusts (test/lab/base.ts)\ngpgcheck=1\nrepo_gpgcheck=1\npkg_gpgcheck=1\n`,
    );
  } else {
    rmSync(repoFile, { force: true });
  }
  // The lab CA and the mTLS client certificate (test/lab/server.ts), where the inventory's
  // agent_prometheus_tls_* variables point.
  for (const f of hostCertFiles(paths)) {
    mkdirSync(U(dirname(f.path).slice(1)), { recursive: true });
    writeFileSync(U(f.path.slice(1)), f.text, { mode: f.mode });
    chmodSync(U(f.path.slice(1)), f.mode);
  }
}

export interface PreparedHost {
  rec: HostRecord;
  hp: HostPaths;
}

/** Make sure every given (stopped) host has an upper layer from the current base and its identity. */
export async function prepareHosts(
  paths: LabPaths,
  recs: HostRecord[],
  baseStamp: string,
  net: LabNet,
  pkgDir: string,
  log: (s: string) => void,
): Promise<PreparedHost[]> {
  const out = recs.map((rec) => ({ rec, hp: hostPaths(paths, rec.name) }));
  await mapLimit(out, 8, ({ rec, hp }) => ensureIdentity(hp, rec.name));
  const fresh = out.filter(({ hp }) => !existsSync(hp.upper) || !existsSync(hp.baseStamp) || readFileSync(hp.baseStamp, 'utf8').trim() !== baseStamp);
  if (fresh.length) {
    log(`creating ${fresh.length} host disk(s)`);
    for (const { hp } of fresh) {
      rmSync(hp.upper, { recursive: true, force: true });
      rmSync(hp.work, { recursive: true, force: true });
      mkdirSync(hp.upper, { recursive: true });
    }
    // cp -a keeps the opaque xattrs, owners and modes; one shell for all hosts.
    await must(
      'bash',
      ['-c', 'b=$1; shift; for d in "$@"; do cp -a "$b/." "$d/" || exit 1; done', 'copy', paths.baseDir, ...fresh.map(({ hp }) => hp.upper)],
      'copying the base layer into new hosts',
    );
    const sudo = fresh.filter(({ rec }) => rec.sudoUsers.length > 0);
    if (sudo.length) {
      const hash = (await must('openssl', ['passwd', '-6', SUDO_PASSWORD], 'hashing the sudo password')).trim();
      for (const { hp } of sudo) addSudoUsers(paths, hp.upper, hash);
    }
  }
  for (const { rec, hp } of out) {
    mkdirSync(hp.work, { recursive: true });
    mkdirSync(hp.merged, { recursive: true });
    writeIdentityFiles(paths, rec);
    const p = productByMix(rec.product);
    const env: Record<string, string> = {
      LAB_HOSTNAME: rec.name,
      LAB_ADDR: rec.address,
      LAB_PREFIX: String(net.prefix),
      LAB_GW: net.gateway,
      LAB_REPO: p.channel ? join(pkgDir, 'repos', p.channel) : '',
      LAB_RO_ROOT: p.readOnlyRoot ? '1' : '0',
      LAB_HOSTS_FILE: paths.etcHosts,
    };
    writeFileSync(
      hp.bootEnv,
      Object.entries(env)
        .map(([k, v]) => `${k}='${v}'\n`)
        .join(''),
    );
  }
  for (const { hp } of fresh) writeFileSync(hp.baseStamp, `${baseStamp}\n`);
  return out;
}

/**
 * Start stopped hosts in batches: the keeper (`init --keeper`) starts unshare for each, then one `ip -batch` per
 * batch plugs their veths into the bridge. Returns when every unshare is running and wired;
 * waiting for sshd is the caller's job.
 */
export async function startHosts(paths: LabPaths, hosts: PreparedHost[], net: LabNet, batchSize = 25): Promise<void> {
  if (hosts.length === 0) return;
  // Links of a host that went down recently may still be around: wait until they are gone.
  const existing = new Set((await listLinks()).map((l) => l.ifname));
  await removeLinks(hosts.map(({ rec }) => vethName(net, rec.index)).filter((v) => existing.has(v)));
  mkdirSync(paths.keepersDir, { recursive: true });
  const init = join(paths.baseDir, 'usr', 'lib', 'lab', 'systemd');
  const logFd = openSync(join(paths.keepersDir, 'keeper.log'), 'a');
  const keeper = spawnDetached('bash', [init, '--keeper'], { stdout: logFd, stdin: 'pipe' });
  closeSync(logFd);
  if (!keeper.pid) throw new Error('could not start the lab keeper (bash)');
  writeFileSync(join(paths.keepersDir, String(keeper.pid)), `${paths.labDir}\n`);
  keeper.unref();
  const stdin = keeper.stdin!;
  try {
    for (let i = 0; i < hosts.length; i += batchSize) {
      const batch = hosts.slice(i, i + batchSize);
      for (const { hp } of batch) rmSync(hp.pidFile, { force: true });
      stdin.write(`${batch.map(({ hp }) => hp.dir).join('\n')}\n`);
      const pids = new Map<string, number>();
      const deadline = Date.now() + 30_000;
      while (pids.size < batch.length) {
        for (const { rec, hp } of batch) {
          if (pids.has(rec.name)) continue;
          const pid = runningPid(hp);
          // Only once unshare has really left the machine's namespaces: `ip link add ... netns PID`
          // just before that would put the link into the machine's own netns.
          if (pid && inOwnNamespaces(pid)) pids.set(rec.name, pid);
          else if (existsSync(hp.pidFile)) {
            const dead = Number(readFileSync(hp.pidFile, 'utf8').trim());
            if (dead && !isAlive(dead)) {
              throw new Error(`${rec.name}: its namespace process exited at once; see ${hp.console}:\n${tail(hp.console)}`);
            }
          }
        }
        if (pids.size < batch.length) {
          if (Date.now() > deadline)
            throw new Error(
              `hosts did not start within 30 s: ${batch
                .filter(({ rec }) => !pids.has(rec.name))
                .map(({ rec }) => rec.name)
                .join(', ')}`,
            );
          await sleep(10);
        }
      }
      // The unshare process itself lives in the new netns: its pid names it.
      await createVeths(
        net,
        batch.map(({ rec }) => ({ veth: vethName(net, rec.index), pid: pids.get(rec.name)! })),
      );
    }
  } finally {
    stdin.end();
  }
}

const machineNs = (kind: string) => readlinkSync(`/proc/self/ns/${kind}`);

function inOwnNamespaces(pid: number): boolean {
  try {
    return ['net', 'mnt', 'uts'].every((k) => readlinkSync(`/proc/${pid}/ns/${k}`) !== machineNs(k));
  } catch {
    return false;
  }
}

/** Stop hosts: SIGTERM to each host's PID 1 (it stops its services), wait, then SIGKILL what is left. */
export async function stopHosts(paths: LabPaths, names: string[], timeoutMs = 15_000): Promise<void> {
  const table = processTable();
  const targets: Array<{ name: string; unshare: number; init: number | null }> = [];
  for (const name of names) {
    const hp = hostPaths(paths, name);
    const pid = runningPid(hp);
    if (pid) targets.push({ name, unshare: pid, init: hostInitPid(pid, table) });
  }
  for (const t of targets) {
    try {
      // PID 1 of the host, not unshare: unshare then exits normally and its keeper reaps it.
      process.kill(t.init ?? t.unshare, 'SIGTERM');
    } catch {
      /* already gone */
    }
  }
  const deadline = Date.now() + timeoutMs;
  let left = targets;
  while (left.length) {
    left = left.filter((t) => isAlive(t.unshare));
    if (left.length === 0) break;
    if (Date.now() > deadline) {
      for (const t of left) {
        for (const pid of [t.init, t.unshare]) {
          if (pid && isAlive(pid)) {
            try {
              process.kill(pid, 'SIGKILL'); // killing a pid namespace's PID 1 kills the whole namespace
            } catch {
              /* gone */
            }
          }
        }
      }
      await sleep(500);
      left = left.filter((t) => isAlive(t.unshare));
      if (left.length) throw new Error(`hosts would not stop: ${left.map((t) => `${t.name} (pid ${t.unshare})`).join(', ')}`);
      break;
    }
    await sleep(50);
  }
  for (const name of names) {
    const hp = hostPaths(paths, name);
    if (!runningPid(hp)) {
      try {
        unlinkSync(hp.pidFile);
      } catch {
        /* none */
      }
    }
  }
}
