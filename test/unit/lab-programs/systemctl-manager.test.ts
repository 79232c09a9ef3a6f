// The lab hosts' /usr/bin/systemctl: a C client (test/lab/host/systemctl-client.c) of a manager
// that has the Python program loaded and forks per call. Laid out here as in a host (base.ts):
// the module, its launcher, the client; every call must answer exactly as the Python program
// run directly does, with the caller's environment, credentials and descriptors.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { describeWith } from '../../support/requires.ts';
import { removeLabRoot } from './lab-root.ts';

const here = dirname(fileURLToPath(import.meta.url));
const PROGRAM = resolve(here, '../../lab/host/systemctl');
const CLIENT_SOURCE = resolve(here, '../../lab/host/systemctl-client.c');
const cc = {
  what: 'a C compiler (gcc, libc6-dev) and root',
  available: spawnSync('cc', ['--version']).status === 0 && process.getuid?.() === 0,
  fix: 'bash scripts/setup.sh, run as root',
};

let bin = ''; // client, launcher and module, as /usr/bin/systemctl, /usr/lib/lab/systemctl-py, lab_systemctl.py
let root = '';
let out = '';

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}
function run(program: string, args: string[], opts: { env?: Record<string, string>; uid?: number } = {}): Result {
  const argv = opts.uid === undefined ? [program, ...args] : ['setpriv', `--reuid=${opts.uid}`, `--regid=${opts.uid}`, '--clear-groups', program, ...args];
  const r = spawnSync(argv[0]!, argv.slice(1), {
    env: { PATH: process.env.PATH!, LAB_SYSTEMCTL_ROOT: root, LAB_SYSTEMCTL_PYTHON: join(bin, 'systemctl-py'), LAB_SYSTEMCTL_HELD: '', ...opts.env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
const client = (...args: string[]) => run(join(bin, 'systemctl'), args);
const managerPid = () => Number(readFileSync(join(root, 'run/lab-systemd/manager.pid'), 'utf8'));
const alive = (pid: number) => existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));

async function waitFor(check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

function unit(name: string, text: string): void {
  const path = join(root, '/etc/systemd/system', name);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

describeWith(cc, 'lab systemctl client and manager', () => {
  beforeAll(() => {
    bin = mkdtempSync(join(tmpdir(), 'lab-systemctl-bin-'));
    copyFileSync(PROGRAM, join(bin, 'lab_systemctl.py'));
    writeFileSync(
      join(bin, 'systemctl-py'),
      `#!/usr/bin/python3 -S\nimport sys\nsys.path.insert(0, ${JSON.stringify(bin)})\nimport lab_systemctl\nsys.argv[0] = ${JSON.stringify(join(bin, 'systemctl'))}\nsys.exit(lab_systemctl.entry(sys.argv[1:]))\n`,
    );
    chmodSync(join(bin, 'systemctl-py'), 0o755);
    chmodSync(bin, 0o755); // other users call it too
    const built = spawnSync('cc', ['-O2', '-Wall', '-Werror', '-o', join(bin, 'systemctl'), CLIENT_SOURCE], { encoding: 'utf8' });
    expect(built.stderr).toBe('');
    expect(built.status).toBe(0);
  });

  beforeEach(async () => {
    root = mkdtempSync(join(tmpdir(), 'lab-systemctl-root-'));
    out = mkdtempSync(join(tmpdir(), 'lab-systemctl-out-'));
    chmodSync(out, 0o777);
    mkdirSync(join(root, 'var/log/lab-systemd'), { recursive: true });
    // The first call runs the program itself and starts the manager for the next ones.
    expect(client('is-system-running')).toEqual({ code: 0, stdout: 'running\n', stderr: '' });
    await waitFor(() => existsSync(join(root, 'run/lab-systemd/manager.sock')));
  });

  afterEach(async () => {
    for (const line of client('list-units', '--all', '--no-legend', '--plain').stdout.split('\n')) {
      const name = line.trim().split(/\s+/)[0];
      if (name?.endsWith('.service')) client('stop', name);
    }
    try {
      process.kill(managerPid(), 'SIGTERM');
    } catch {
      /* gone already */
    }
    await removeLabRoot(root);
    await removeLabRoot(out);
  }, 120_000);

  afterAll(() => rmSync(bin, { recursive: true, force: true }));

  it('answers every verb as the program run directly does: output, messages, exit codes', async () => {
    // The same calls in two roots: through the client here, the program run directly in another.
    const other = mkdtempSync(join(tmpdir(), 'lab-systemctl-root-'));
    const text = '[Service]\nExecStart=/bin/sleep 300\n[Install]\nWantedBy=multi-user.target\n';
    unit('a.service', text);
    mkdirSync(join(other, 'etc/systemd/system'), { recursive: true });
    writeFileSync(join(other, 'etc/systemd/system/a.service'), text);
    const calls = [
      ['is-active', 'a'],
      ['is-enabled', 'a'],
      ['enable', 'a'],
      ['is-enabled', 'a'],
      ['start', 'a'],
      ['is-active', 'a', 'missing'],
      ['show', '-p', 'Id,ActiveState,UnitFileState,NeedDaemonReload', 'a', 'missing'],
      ['show', 'a', '-p', 'ActiveState', '--value'],
      ['is-failed', 'a'],
      ['cat', 'a'],
      ['cat', 'missing'],
      ['start', 'missing'],
      ['stop', 'missing'],
      ['bogus'],
      ['start'],
      ['--version'],
      ['disable', 'a'],
      ['stop', 'a'],
      ['is-active', 'a'],
      ['status', 'missing'],
      ['list-unit-files', '--no-legend'],
    ];
    try {
      for (const args of calls) {
        const ours = client(...args);
        const theirs = run(join(bin, 'systemctl-py'), args, { env: { LAB_SYSTEMCTL_ROOT: other } });
        const same = (r: Result) => ({ ...r, stdout: r.stdout.replaceAll(root, 'ROOT'), stderr: r.stderr.replaceAll(root, 'ROOT') });
        const theirsSame = { ...theirs, stdout: theirs.stdout.replaceAll(other, 'ROOT'), stderr: theirs.stderr.replaceAll(other, 'ROOT') };
        expect(same(ours), args.join(' ')).toEqual(theirsSame);
      }
    } finally {
      run(join(bin, 'systemctl-py'), ['stop', 'a'], { env: { LAB_SYSTEMCTL_ROOT: other } });
      await removeLabRoot(other);
    }
  });

  it('is served by the manager, which keeps running; a manager that died is replaced, and the call still answers', async () => {
    const first = managerPid();
    expect(alive(first)).toBe(true);
    // ExecStartPre's parent is the systemctl process that ran it; that one's parent, the manager
    writeFileSync(join(out, 'pre.sh'), `ps -o ppid= -p "$PPID" > ${out}/caller-parent\n`);
    unit('b.service', `[Service]\nExecStartPre=/bin/sh ${out}/pre.sh\nExecStart=/bin/sleep 300\n`);
    expect(client('start', 'b')).toEqual({ code: 0, stdout: '', stderr: '' });
    // the process that ran ExecStartPre= was a child of the manager
    await waitFor(() => existsSync(join(out, 'caller-parent')));
    expect(Number(readFileSync(join(out, 'caller-parent'), 'utf8'))).toBe(first);
    process.kill(first, 'SIGKILL');
    await waitFor(() => !alive(first));
    expect(client('is-active', 'b')).toEqual({ code: 0, stdout: 'active\n', stderr: '' });
    await waitFor(() => existsSync(join(root, 'run/lab-systemd/manager.pid')) && managerPid() !== first && alive(managerPid()));
    expect(client('is-active', 'b')).toEqual({ code: 0, stdout: 'active\n', stderr: '' });
  });

  it('Type=simple and Restart=: the supervisor reports through the client; NRestarts counts, a clean exit is inactive', async () => {
    unit('dies.service', `[Service]\nExecStart=/bin/sh -c "sleep 0.3; exit 4"\n`);
    unit(
      'flaky.service',
      `[Service]\nExecStart=/bin/sh -c "if [ -e ${out}/ran ]; then exec sleep 300; fi; touch ${out}/ran; sleep 0.2; exit 1"\nRestart=on-failure\nRestartSec=0.2\n`,
    );
    expect(client('start', 'dies', 'flaky').code).toBe(0);
    await waitFor(() => client('is-active', 'dies').stdout === 'failed\n');
    expect(client('show', 'dies', '-p', 'ActiveState,Result').stdout).toBe('ActiveState=failed\nResult=exit-code\n');
    await waitFor(() => client('show', 'flaky', '-p', 'NRestarts').stdout === 'NRestarts=1\n');
    await waitFor(() => client('is-active', 'flaky').stdout === 'active\n');
  });

  it("a unit's ExecStartPre= may call systemctl on its own unit (the held lock travels in the environment)", () => {
    unit(
      'self.service',
      `[Service]\nEnvironment=LAB_SYSTEMCTL_ROOT=${root} LAB_SYSTEMCTL_PYTHON=${join(bin, 'systemctl-py')}\nExecStartPre=/bin/sh -c '${join(bin, 'systemctl')} show self -p ActiveState > ${out}/self-state'\nExecStart=/bin/sleep 300\n`,
    );
    expect(client('start', 'self')).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(readFileSync(join(out, 'self-state'), 'utf8')).toBe('ActiveState=activating\n');
  });

  it("runs with the caller's uid and descriptors", () => {
    unit('c.service', '[Service]\nExecStart=/bin/sleep 300\n');
    expect(client('start', 'c').code).toBe(0);
    const asNobody = (program: string) => run(program, ['is-active', 'c'], { uid: 65534 });
    expect(asNobody(join(bin, 'systemctl'))).toEqual(asNobody(join(bin, 'systemctl-py')));
    const stop = (program: string) => run(program, ['stop', 'c'], { uid: 65534 });
    const ours = stop(join(bin, 'systemctl'));
    expect(ours.code).not.toBe(0);
    expect(ours).toEqual(stop(join(bin, 'systemctl-py')));
    expect(client('is-active', 'c').stdout).toBe('active\n');
    // stdout closed, stdin closed: still an answer, and the exit code
    const closed = spawnSync('/bin/sh', ['-c', `"$0" is-active c >&- <&-; echo "rc=$?" >&2`, join(bin, 'systemctl')], {
      env: { PATH: process.env.PATH!, LAB_SYSTEMCTL_ROOT: root, LAB_SYSTEMCTL_PYTHON: join(bin, 'systemctl-py') },
      encoding: 'utf8',
    });
    expect(closed.stderr).toBe('rc=0\n');
  });
});
