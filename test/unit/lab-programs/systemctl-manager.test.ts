// The lab hosts' /usr/bin/systemctl: a C client (test/lab/host/systemctl-client.c) of a manager
// that has the Python program loaded, answers root's queries itself and forks for other calls. Laid out here as in a host (base.ts):
// the module, its launcher, the client; every call must answer exactly as the Python program
// run directly does, with the caller's environment, credentials and descriptors.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
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

/** A service's `echo ... > FILE` is done: the shell creates FILE (empty) before echo writes it,
 *  so its existing is not enough (a CI run read it empty once). */
const written = (path: string): boolean => existsSync(path) && readFileSync(path, 'utf8').endsWith('\n');

/** Polls CHECK until it holds; on a machine the lab keeps busy, 10 s at least. */
async function waitFor(check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${check.toString()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A pids cgroup allowing `max` tasks (cgroup v1's pids hierarchy, or v2's with the pids
 * controller): add() moves a process in, remove() moves it back to the root and deletes it.
 */
function pidsCgroup(max: number): { add(pid: number): void; remove(): void } {
  const v1 = '/sys/fs/cgroup/pids';
  const v2 = '/sys/fs/cgroup';
  const base = existsSync(join(v1, 'cgroup.procs'))
    ? v1
    : existsSync(join(v2, 'cgroup.controllers')) && readFileSync(join(v2, 'cgroup.controllers'), 'utf8').split(/\s+/).includes('pids')
      ? v2
      : null;
  if (!base) throw new Error('no pids cgroup controller (cgroup v1 /sys/fs/cgroup/pids or v2 with "pids"): this test needs one');
  if (base === v2) writeFileSync(join(v2, 'cgroup.subtree_control'), '+pids');
  const dir = join(base, `lab-systemctl-test-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'pids.max'), String(max));
  const members: number[] = [];
  return {
    add(pid) {
      writeFileSync(join(dir, 'cgroup.procs'), String(pid));
      members.push(pid);
    },
    remove() {
      for (const pid of members) if (existsSync(`/proc/${pid}`)) writeFileSync(join(base, 'cgroup.procs'), String(pid));
      rmdirSync(dir);
    },
  };
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
    await removeLabRoot(root); // ends the manager once the stopped services' supervisors are done
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
    await waitFor(() => written(join(out, 'caller-parent')));
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

  it("answers root's queries itself, without a child; any other call, or another user's query, needs one", () => {
    // The manager in a pids cgroup that holds only itself: it cannot fork, so what still answers
    // was answered in place (without the in-place answers, every call here fails).
    unit('q.service', '[Service]\nExecStart=/bin/sleep 300\n');
    chmodSync(root, 0o755); // another user reaches the manager's socket (mkdtemp makes 0700)
    const noFork = pidsCgroup(1);
    try {
      noFork.add(managerPid());
      for (const args of [
        ['show', '-p', 'Id,ActiveState,UnitFileState', 'q', 'missing'],
        ['show', 'q'],
        ['is-enabled', 'q'],
        ['is-failed', 'q'],
        ['is-active', 'q'],
      ]) {
        expect(client(...args), args.join(' ')).toEqual(run(join(bin, 'systemctl-py'), args));
      }
      const cannot = { code: 1, stdout: '', stderr: expect.stringContaining('the lab manager cannot start a process for this call') };
      expect(client('start', 'q')).toEqual(cannot);
      expect(run(join(bin, 'systemctl'), ['is-active', 'q'], { uid: 65534 })).toEqual(cannot);
    } finally {
      noFork.remove();
    }
    // The manager went on serving: with children allowed again, the same calls run.
    expect(client('start', 'q')).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(run(join(bin, 'systemctl'), ['is-active', 'q'], { uid: 65534 })).toEqual({ code: 0, stdout: 'active\n', stderr: '' });
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
