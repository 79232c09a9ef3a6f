// The shared "SLES base" layer: everything every host has on top of the machine's Debian
// userland. It is copied into each new host's upper layer (a second lower layer nested in /
// fails with ELOOP). Opaque folders hide the machine's own files (its enabled units, /root,
// checkouts, the lab's keys) from the hosts.
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type { LabPaths } from './paths.ts';
import { hostProgramsDir } from './paths.ts';
import { findRpm } from './packages.ts';
import { must } from './proc.ts';

const BASE_VERSION = '3';

export const SSHD_CONFIG = `# lab host sshd: key-only logins, one ed25519 host key per host
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin prohibit-password
PubkeyAuthentication yes
AuthorizedKeysFile .ssh/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
MaxStartups 200:30:400
MaxSessions 50
PidFile /run/sshd.pid
PrintMotd no
PrintLastLog no
X11Forwarding no
AcceptEnv LANG LC_*
Subsystem sftp /usr/lib/openssh/sftp-server
`;

/** Folders of the machine hidden from every host (opaque in the upper layer). */
export function opaqueDirs(paths: LabPaths): string[] {
  const list = [
    '/root',
    '/tmp',
    '/var/tmp',
    '/home',
    '/opt',
    '/srv',
    '/work',
    '/etc/systemd/system',
    '/usr/lib/systemd/system',
    '/etc/ssh',
    '/etc/sudoers.d',
    '/etc/products.d',
    '/etc/zypp/repos.d',
    '/etc/zypp/services.d',
    '/var/lib/zypp',
    '/var/cache/zypp',
    '/var/log/journal',
    paths.repoRoot,
    paths.labDir,
  ];
  // A folder inside another hidden one is hidden already.
  const out: string[] = [];
  for (const d of list) {
    if (!list.some((o) => o !== d && `${d}/`.startsWith(`${o}/`))) {
      if (!out.includes(d)) out.push(d);
    }
  }
  return out;
}

/** The lab systemctl's Python entry in the hosts (/usr/lib/lab/systemctl-py): runs the compiled
 *  module. Its services' supervisors call /usr/bin/systemctl, the cheap client, not this. */
const SYSTEMCTL_LAUNCHER = `#!/usr/bin/python3 -S
import sys
sys.path.insert(0, "/usr/lib/lab")
import lab_systemctl
sys.argv[0] = "/usr/bin/systemctl"
sys.exit(lab_systemctl.entry(sys.argv[1:]))
`;

/** /usr/bin/systemctl in the hosts: the C client of the lab's systemd manager (see the file). */
function systemctlClient(): string {
  return join(hostProgramsDir, 'systemctl-client.c');
}

function systemctlProgram(): string {
  const mine = join(hostProgramsDir, 'systemctl');
  if (existsSync(mine)) return mine;
  throw new Error(`${mine} is missing: the hosts need the lab systemctl (see docs/contracts.md, Host programs)`);
}

function initProgram(): string {
  return join(hostProgramsDir, 'init');
}

/** The lab's package signing key (made by test/lab/packages/build.sh beside the packages). */
export function labKeyFile(pkgDir: string): string {
  const key = join(pkgDir, 'lab-key.asc');
  if (!existsSync(key)) throw new Error(`${key} is missing: test/lab/packages/build.sh signs the lab packages with it`);
  return key;
}

/** SUSE's update-ca-certificates (Debian's in the machine reads other folders). */
function updateCaProgram(): string {
  return join(hostProgramsDir, 'update-ca-certificates');
}

export function baseStamp(paths: LabPaths, seedRpm: string, labKey: string): string {
  const h = createHash('sha256');
  h.update(`${BASE_VERSION}\n${SSHD_CONFIG}${opaqueDirs(paths).join('\n')}\n`);
  h.update(readFileSync(systemctlProgram()));
  h.update(SYSTEMCTL_LAUNCHER);
  h.update(readFileSync(systemctlClient()));
  h.update(readFileSync(initProgram()));
  h.update(readFileSync(updateCaProgram()));
  h.update(readFileSync(seedRpm));
  h.update(readFileSync(labKey));
  h.update(readFileSync(`${paths.keyFile}.pub`));
  return h.digest('hex').slice(0, 16);
}

/** Seed package for the rpm database (zypper refuses an empty one): build.sh's, else our own. */
export async function seedRpm(paths: LabPaths, pkgDir: string): Promise<string> {
  const theirs = findRpm(pkgDir, 'lab-sles-base-');
  if (theirs) return theirs;
  const dir = join(paths.labDir, 'seed');
  const existing = findRpm(dir, 'lab-sles-base-');
  if (existing) return existing;
  mkdirSync(join(dir, 'SPECS'), { recursive: true });
  writeFileSync(
    join(dir, 'SPECS', 'lab-sles-base.spec'),
    `Name: lab-sles-base
Version: 1
Release: 1
Summary: Lab: the Debian userland stands in for a SLES base system (provides only, no files)
License: MIT
BuildArch: noarch
AutoReqProv: no
Provides: /bin/sh /usr/bin/sh /bin/bash /usr/bin/bash /usr/sbin/useradd /usr/sbin/groupadd /usr/sbin/userdel /usr/sbin/groupdel
Provides: /usr/bin/getent /usr/bin/env /bin/kill /usr/bin/kill /usr/bin/python3 /usr/bin/systemctl /sbin/ldconfig
Provides: shadow bash coreutils glibc systemd sysvinit(systemd) filesystem util-linux grep sed gawk python3 sudo
Provides: system-user-root user(root) group(root) systemd-sysvinit fillup permissions
%description
Lab base provides.
%files
`,
  );
  await must('rpmbuild', ['--quiet', '--define', `_topdir ${dir}`, '-bb', join(dir, 'SPECS', 'lab-sles-base.spec')], 'building the lab seed rpm');
  const built = findRpm(dir, 'lab-sles-base-') ?? findRpmIn(join(dir, 'RPMS'));
  if (!built) throw new Error(`rpmbuild produced no lab-sles-base rpm under ${dir}`);
  return built;
}

function findRpmIn(dir: string): string | null {
  if (!existsSync(dir)) return null;
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) {
      const r = findRpmIn(p);
      if (r) return r;
    } else if (e.endsWith('.rpm')) return p;
  }
  return null;
}

/** Build the base layer if missing or stale; returns its stamp. */
export async function ensureBase(paths: LabPaths, pkgDir: string, log: (s: string) => void): Promise<string> {
  const seed = await seedRpm(paths, pkgDir);
  const labKey = labKeyFile(pkgDir);
  const stamp = baseStamp(paths, seed, labKey);
  const stampFile = join(paths.labDir, 'base.stamp');
  if (existsSync(paths.baseDir) && existsSync(stampFile) && readFileSync(stampFile, 'utf8').trim() === stamp) return stamp;
  log('building the base layer');
  const tmp = `${paths.baseDir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const B = (p: string) => join(tmp, p);
  const opaque = opaqueDirs(paths);
  for (const d of opaque) mkdirSync(B(d), { recursive: true });
  const more = [
    '/root/.ssh',
    '/etc/ssh/ssh_config.d',
    '/etc/rpm',
    '/usr/lib/sysimage/rpm',
    '/usr/lib/lab',
    '/usr/bin',
    '/srv/repo',
    '/var/lib/dbus',
    '/var/log',
    '/etc/sysconfig',
    '/usr/sbin',
    '/etc/pki/trust/anchors',
    '/usr/share/pki/trust/anchors',
  ];
  for (const d of more) mkdirSync(B(d), { recursive: true });

  writeFileSync(B('/etc/ssh/sshd_config'), SSHD_CONFIG);
  for (const f of ['moduli', 'ssh_config']) if (existsSync(`/etc/ssh/${f}`)) copyFileSync(`/etc/ssh/${f}`, B(`/etc/ssh/${f}`));
  copyFileSync(`${paths.keyFile}.pub`, B('/root/.ssh/authorized_keys'));
  chmodSync(B('/root/.ssh/authorized_keys'), 0o600);
  writeFileSync(B('/root/.bashrc'), 'export PS1="\\h:\\w # "\n');
  writeFileSync(B('/root/.profile'), '[ -f ~/.bashrc ] && . ~/.bashrc\n');
  // rpm: the SUSE database location instead of Debian's ~/.rpmdb.
  writeFileSync(B('/etc/rpm/macros'), '%_dbpath /usr/lib/sysimage/rpm\n');
  rmSync(B('/var/lib/rpm'), { recursive: true, force: true });
  symlinkSync('../../usr/lib/sysimage/rpm', B('/var/lib/rpm'));
  symlinkSync('/etc/machine-id', B('/var/lib/dbus/machine-id'));
  // No nameserver: glibc tries 127.0.0.1 in the host's netns and fails at once (no 10 s waits).
  writeFileSync(B('/etc/resolv.conf'), '# lab host: no DNS server; the lab names are in /etc/hosts\noptions timeout:1 attempts:1\n');
  // systemctl runs on every fact gathering, check and service exit: /usr/bin/systemctl is a C
  // client of a per-host manager that has the Python module loaded and forks per call (a few ms,
  // as the real one; a Python start costs 30-60 ms). The module's bytecode is compiled here, for
  // the manager's start and the client's fallback (Python compiles a script at every start).
  copyFileSync(systemctlProgram(), B('/usr/lib/lab/lab_systemctl.py'));
  await must('python3', ['-S', '-m', 'py_compile', B('/usr/lib/lab/lab_systemctl.py')], 'compiling the lab systemctl');
  writeFileSync(B('/usr/lib/lab/systemctl-py'), SYSTEMCTL_LAUNCHER);
  chmodSync(B('/usr/lib/lab/systemctl-py'), 0o755);
  await must('cc', ['-O2', '-Wall', '-o', B('/usr/bin/systemctl'), systemctlClient()], 'compiling the lab systemctl client (gcc, scripts/setup.sh)');
  chmodSync(B('/usr/bin/systemctl'), 0o755);
  copyFileSync(updateCaProgram(), B('/usr/sbin/update-ca-certificates'));
  chmodSync(B('/usr/sbin/update-ca-certificates'), 0o755);
  copyFileSync(initProgram(), B('/usr/lib/lab/systemd'));
  chmodSync(B('/usr/lib/lab/systemd'), 0o755);

  // Folders that exist on the machine keep its owner and mode (an upper folder's own
  // attributes win over the lower one's).
  const fixAttrs = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (!e.isDirectory()) continue;
      const p = join(dir, e.name);
      const machine = `/${relative(tmp, p)}`;
      try {
        const st = lstatSync(machine);
        if (st.isDirectory()) {
          chmodSync(p, st.mode & 0o7777);
          chownSync(p, st.uid, st.gid);
        }
      } catch {
        /* not on the machine: keep ours */
      }
      fixAttrs(p);
    }
  };
  fixAttrs(tmp);
  chmodSync(B('/root'), 0o700);
  chmodSync(B('/root/.ssh'), 0o700);
  chmodSync(B('/tmp'), 0o1777);
  chmodSync(B('/var/tmp'), 0o1777);

  // Opaque: the machine's content of these folders is not visible in the hosts.
  await must(
    '/usr/bin/python3',
    ['-c', 'import os,sys\nfor p in sys.argv[1:]: os.setxattr(p, "trusted.overlay.opaque", b"y")', ...opaque.map(B)],
    'marking the base folders opaque',
  );
  // rpm database seeded with a files-less package providing what the Debian userland has.
  await must('rpm', ['--root', tmp, '--dbpath', '/usr/lib/sysimage/rpm', '--initdb'], 'creating the base rpm database');
  await must('rpm', ['--root', tmp, '--dbpath', '/usr/lib/sysimage/rpm', '-i', '--nodeps', '--noscripts', '--justdb', seed], 'seeding the base rpm database');
  // The lab's signing key is trusted as SLES trusts SUSE's: a gpg-pubkey in the rpm database,
  // which is also zypp's trusted keyring. Nothing else is trusted.
  await must('rpm', ['--root', tmp, '--dbpath', '/usr/lib/sysimage/rpm', '--import', labKey], 'importing the lab signing key');

  rmSync(paths.baseDir, { recursive: true, force: true });
  mkdirSync(dirname(paths.baseDir), { recursive: true });
  renameSync(tmp, paths.baseDir);
  writeFileSync(stampFile, `${stamp}\n`);
  return stamp;
}
