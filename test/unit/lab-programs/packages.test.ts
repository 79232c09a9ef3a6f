// test/lab/packages/build.sh: the lab's RPMs and channel repositories, built into a temp dir.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, realpathSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RPM_TOOLS, describeWith } from '../../support/requires.ts';

const here = dirname(fileURLToPath(import.meta.url));
const BUILD = resolve(here, '../../lab/packages/build.sh');
const haveTools = RPM_TOOLS.available;

let out = '';

function rpm(...args: string[]): string {
  const r = spawnSync('rpm', ['--dbpath', join(out, 'rpmbuild/rpmdb'), ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`rpm ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function rpmFile(name: string): string {
  const f = readdirSync(join(out, 'rpms')).find((n) => n.startsWith(`${name}-`) && /^\d/.test(n.slice(name.length + 1)));
  if (!f) throw new Error(`no RPM for ${name}`);
  return join(out, 'rpms', f);
}

/** Files of an RPM's payload (rpm2cpio gives a newc cpio archive). */
function payload(file: string): Map<string, Buffer> {
  const r = spawnSync('rpm2cpio', [file], { maxBuffer: 64 * 1024 * 1024 });
  const data = r.stdout;
  const files = new Map<string, Buffer>();
  let off = 0;
  const pad = (n: number) => (n + 3) & ~3;
  while (off + 110 <= data.length) {
    const hdr = data.subarray(off, off + 110).toString('ascii');
    if (!hdr.startsWith('070701')) throw new Error('not a newc archive');
    const field = (i: number) => parseInt(hdr.slice(6 + i * 8, 14 + i * 8), 16);
    const size = field(6);
    const nameSize = field(11);
    const name = data.subarray(off + 110, off + 110 + nameSize - 1).toString();
    if (name === 'TRAILER!!!') break;
    const start = pad(off + 110 + nameSize);
    files.set(name.replace(/^\.?\//, '/'), data.subarray(start, start + size));
    off = pad(start + size);
  }
  return files;
}

beforeAll(() => {
  if (!haveTools) return;
  out = mkdtempSync(join(tmpdir(), 'lab-packages-'));
  const r = spawnSync(BUILD, [out], { encoding: 'utf8', timeout: 240_000 });
  if (r.status !== 0) throw new Error(`build.sh failed:\n${r.stdout}\n${r.stderr}`);
  if (r.stdout !== '' || r.stderr !== '') throw new Error(`build.sh is not quiet on success:\n${r.stdout}\n${r.stderr}`);
}, 300_000);

afterAll(() => {
  if (out) rmSync(out, { recursive: true, force: true });
});

describeWith(RPM_TOOLS, 'lab packages (build.sh)', () => {
  it('builds the ten RPMs', () => {
    expect(readdirSync(join(out, 'rpms')).sort()).toEqual([
      'alloy-1.9.2-1.1.noarch.rpm',
      'golang-github-prometheus-node_exporter-1.5.0-1.1.noarch.rpm',
      'golang-github-prometheus-node_exporter-1.8.2-1.1.noarch.rpm',
      'lab-sles-base-16.0-1.noarch.rpm',
      'supportutils-3.2.10-1.1.noarch.rpm',
      'supportutils-plugin-trento-2.5.0-1.1.noarch.rpm',
      'trento-agent-3.0.2-150000.1.1.noarch.rpm',
      'trento-agent-3.0.2-160000.1.1.noarch.rpm',
      'trento-agent-3.1.0-150000.1.1.noarch.rpm',
      'trento-agent-3.1.0-160000.1.1.noarch.rpm',
    ]);
  });

  it('alloy: files, modes, owners, unit, sysconfig, user creation', () => {
    const file = rpmFile('alloy');
    const list = rpm('-qp', '--qf', '[%{FILEMODES:perms} %{FILEUSERNAME}:%{FILEGROUPNAME} %{FILENAMES}\n]', file);
    const lines = list.trim().split('\n');
    expect(lines.sort()).toEqual(
      [
        '-rw-r--r-- root:root /etc/sysconfig/alloy',
        '-rw-r--r-- root:root /usr/lib/systemd/system/alloy.service',
        '-rw-r----- root:alloy /etc/alloy/config.alloy',
        '-rwxr-xr-x root:root /usr/bin/alloy',
        'drwxr-x--- alloy:alloy /var/lib/alloy',
        'drwxrwx--- root:alloy /etc/alloy',
      ].sort(),
    );
    expect(rpm('-qp', '--configfiles', file).trim().split('\n').sort()).toEqual(['/etc/alloy/config.alloy', '/etc/sysconfig/alloy']);
    const files = payload(file);
    const unit = files.get('/usr/lib/systemd/system/alloy.service')!.toString();
    expect(unit).toContain('\nUser=alloy\n');
    expect(unit).toContain('\nEnvironmentFile=/etc/sysconfig/alloy\n');
    expect(unit).toContain('\nExecStart=/usr/bin/alloy run $CUSTOM_ARGS --storage.path=/var/lib/alloy/data $CONFIG_FILE\n');
    expect(unit).toContain('\nExecReload=/usr/bin/env kill -HUP $MAINPID\n');
    expect(unit).toContain('\nEnvironment=HOSTNAME=%H\n');
    const sysconfig = files.get('/etc/sysconfig/alloy')!.toString();
    expect(sysconfig).toMatch(/^CONFIG_FILE="\/etc\/alloy\/config.alloy"$/m);
    expect(sysconfig).toMatch(/^CUSTOM_ARGS=""$/m);
    expect(files.get('/etc/alloy/config.alloy')!.toString()).toMatch(/logging \{\n {2}level = "info"\n\}/);
    expect(files.get('/usr/bin/alloy')!.toString()).toContain('alloy, version v1.9.2 (lab stand-in)');
    const scripts = rpm('-qp', '--scripts', file);
    expect(scripts).toContain('groupadd -r alloy');
    expect(scripts).toContain('useradd -r -g alloy -d /var/lib/alloy');
    expect(rpm('-qp', '--requires', file)).not.toMatch(/python/);
  });

  it("node_exporter: the machine's real binary (linked, so that every host shares its pages), the unit and sysconfig of SLES 15", () => {
    const file = rpmFile('golang-github-prometheus-node_exporter');
    const files = payload(file);
    expect([...files.keys()].sort()).toEqual([
      '/etc/sysconfig/prometheus-node_exporter',
      '/usr/bin/node_exporter',
      '/usr/lib/systemd/system/prometheus-node_exporter.service',
    ]);
    expect(rpm('-qp', '--qf', '[%{FILEMODES:perms} %{FILENAMES} -> %{FILELINKTOS}\\n]', file)).toContain(
      `lrwxrwxrwx /usr/bin/node_exporter -> ${realpathSync('/usr/bin/prometheus-node-exporter')}\n`,
    );
    const unit = files.get('/usr/lib/systemd/system/prometheus-node_exporter.service')!.toString();
    expect(unit).toContain('\nUser=prometheus\n');
    expect(unit).toContain('\nEnvironmentFile=-/etc/sysconfig/prometheus-node_exporter\n');
    expect(unit).toContain('\nExecStart=/usr/bin/node_exporter $ARGS\n');
    expect(unit).toContain('\nExecReload=/bin/kill -HUP $MAINPID\n');
    expect(files.get('/etc/sysconfig/prometheus-node_exporter')!.toString()).toMatch(/^ARGS=''$/m);
    expect(rpm('-qp', '--scripts', file)).toContain('useradd -r -g prometheus');
  });

  it("trento-agent: two versions with the version baked in, a unit with no exporter dependency, each generation's agent.yaml; node_exporter recommended", () => {
    for (const [version, sle] of [
      ['3.0.2', 15],
      ['3.1.0', 15],
      ['3.0.2', 16],
      ['3.1.0', 16],
    ] as const) {
      const file = join(out, 'rpms', `trento-agent-${version}-${sle}0000.1.1.noarch.rpm`);
      const files = payload(file);
      // SLE 15: the default agent.yaml in /etc/trento, a %config(noreplace) file; SLE 16: in
      // /usr/etc/trento, owning no /etc/trento (as SUSE's)
      const config = sle === 15 ? ['/etc/trento', '/etc/trento/agent.yaml'] : ['/usr/etc/trento', '/usr/etc/trento/agent.yaml'];
      expect([...files.keys()].sort()).toEqual([...config, '/usr/bin/trento-agent', '/usr/lib/systemd/system/trento-agent.service'].sort());
      expect(rpm('-qp', '--configfiles', file).trim()).toBe(sle === 15 ? '/etc/trento/agent.yaml' : '');
      expect(rpm('-qp', '--qf', '[%{FILEMODES:perms} %{FILENAMES}\n]', file)).toMatch(/^-rw------- \/(usr\/)?etc\/trento\/agent\.yaml$/m);
      expect(rpm('-qp', '--recommends', file).trim()).toBe('golang-github-prometheus-node_exporter');
      expect(files.get('/usr/bin/trento-agent')!.toString()).toContain(`VERSION = "${version}"`);
      const unit = files.get('/usr/lib/systemd/system/trento-agent.service')!.toString();
      expect(unit).toContain('\nExecStart=/usr/bin/trento-agent start\n');
      expect(unit).toContain('\nType=simple\n');
      expect(unit).not.toMatch(/node_exporter|alloy/);
    }
  });

  it("every file of a package version carries that version's one fixed time, a day after the version before it: an upgrade brings a unit file systemd sees as changed, on every build", () => {
    const times = (file: string) => [...new Set(rpm('-qp', '--qf', '[%{FILEMTIMES}\n]', file).trim().split('\n'))];
    const day = 86_400;
    const [agent0, agent1] = ['3.0.2', '3.1.0'].map((v) => times(join(out, 'rpms', `trento-agent-${v}-150000.1.1.noarch.rpm`)));
    expect(agent0).toHaveLength(1);
    expect(agent1).toEqual([String(Number(agent0![0]) + day)]);
    const [exporter0, exporter1] = ['1.5.0', '1.8.2'].map((v) => times(join(out, 'rpms', `golang-github-prometheus-node_exporter-${v}-1.1.noarch.rpm`)));
    expect(exporter0).toEqual(agent0);
    expect(exporter1).toEqual(agent1);
  });

  it('lab-sles-base: no files, provides the base capabilities', () => {
    const file = rpmFile('lab-sles-base');
    expect(rpm('-qpl', file).trim()).toBe('(contains no files)');
    const provides = rpm('-qp', '--provides', file).split('\n');
    for (const cap of ['/bin/sh', 'bash', 'shadow', 'systemd', 'coreutils', 'glibc', 'user(root)', 'group(root)']) {
      expect(provides).toContain(cap);
    }
  });

  it("supportutils and its Trento plugin: the real plugin's files, stand-ins that say so", () => {
    const base = rpmFile('supportutils');
    expect(rpm('-qpl', base).trim().split('\n')).toContain('/usr/sbin/supportconfig');
    expect(payload(base).get('/usr/sbin/supportconfig')!.toString()).toMatch(/lab stand-in for SUSE's supportutils/);
    const plugin = rpmFile('supportutils-plugin-trento');
    // The file list of trento-project/support's supportutils-plugin-trento.spec.
    expect(rpm('-qp', '--qf', '[%{FILEMODES:perms} %{FILEUSERNAME}:%{FILEGROUPNAME} %{FILENAMES}\n]', plugin).trim().split('\n')).toEqual([
      '-rwxr-xr-x root:root /usr/bin/trento-support',
      'drwxr-xr-x root:root /usr/lib/supportconfig',
      'drwxr-xr-x root:root /usr/lib/supportconfig/plugins',
      '-r-xr--r-- root:root /usr/lib/supportconfig/plugins/trento',
    ]);
    expect(payload(plugin).get('/usr/lib/supportconfig/plugins/trento')!.toString()).toMatch(/lab stand-in/);
    expect(rpm('-qp', '--requires', plugin).split('\n')).toContain('supportutils');
  });

  it('makes the three channel repositories with hard links and repodata', () => {
    // supportutils in every base channel, its Trento plugin wherever trento-agent is.
    const support = ['supportutils-3.2.10-1.1.noarch.rpm', 'supportutils-plugin-trento-2.5.0-1.1.noarch.rpm'];
    const want: Record<string, string[]> = {
      sle15: [
        'golang-github-prometheus-node_exporter-1.5.0-1.1.noarch.rpm',
        'golang-github-prometheus-node_exporter-1.8.2-1.1.noarch.rpm',
        ...support,
        'trento-agent-3.0.2-150000.1.1.noarch.rpm',
        'trento-agent-3.1.0-150000.1.1.noarch.rpm',
      ],
      sle15sp7: [
        'alloy-1.9.2-1.1.noarch.rpm',
        'golang-github-prometheus-node_exporter-1.5.0-1.1.noarch.rpm',
        'golang-github-prometheus-node_exporter-1.8.2-1.1.noarch.rpm',
        ...support,
        'trento-agent-3.0.2-150000.1.1.noarch.rpm',
        'trento-agent-3.1.0-150000.1.1.noarch.rpm',
      ],
      sle16: ['alloy-1.9.2-1.1.noarch.rpm', ...support, 'trento-agent-3.0.2-160000.1.1.noarch.rpm', 'trento-agent-3.1.0-160000.1.1.noarch.rpm'],
    };
    expect(readdirSync(join(out, 'repos')).sort()).toEqual(Object.keys(want));
    for (const [channel, rpms] of Object.entries(want)) {
      const repo = join(out, 'repos', channel);
      expect(
        readdirSync(repo)
          .filter((f) => f.endsWith('.rpm'))
          .sort(),
      ).toEqual(rpms);
      expect(existsSync(join(repo, 'repodata', 'repomd.xml'))).toBe(true);
      for (const f of rpms) expect(statSync(join(repo, f)).ino).toBe(statSync(join(out, 'rpms', f)).ino);
    }
  });

  it('does not rebuild when nothing changed', () => {
    const before = statSync(rpmFile('alloy')).mtimeMs;
    // no timing bound: the unchanged mtime and the silence are what "not rebuilt" means
    const r = spawnSync(BUILD, [out], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(0);
    expect(r.stdout + r.stderr).toBe('');
    expect(statSync(rpmFile('alloy')).mtimeMs).toBe(before);
  });
});
