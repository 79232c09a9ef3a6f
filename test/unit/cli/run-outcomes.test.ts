// What the real CLI says about a run around its hosts: --json / --junit paths (a report that
// cannot be written is a usage error before any host is touched; one lost after the run names its
// flag, the other report is still written, and the run's own exit code stands), a run stopped
// by settings errors in its report, and warnings about secrets typed or read for the run.
import { spawn, spawnSync } from 'node:child_process';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertReportMatchesSchema } from '../../support/report-schema.ts';
import { cliEntry } from '../../support/compiled-cli.ts';

/** Each case is a whole CLI run (node's start-up on a loaded 2-core machine). */
const RUN = 120_000;

/** The CLI in a folder of its own with a one-host inventory whose host refuses connections. */
function cli(args: (dir: string) => string[]): { code: number | null; stdout: string; stderr: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tp-reports-'));
  writeFileSync(join(dir, 'hosts'), INVENTORY);
  const r = run(dir, args(dir));
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, dir };
}

const INVENTORY = [
  'db1 ansible_host=127.0.0.1 ansible_port=1',
  '[all:vars]',
  'trento_server_name=trento.example.com',
  'provision_rabbitmq=false',
  'trento_rabbitmq_host=rabbit.example.com',
  'agent_rabbitmq_password=report-path-rabbit',
  'agent_web_api_key=report-path-key',
  '',
].join('\n');

/** The CLI with exactly these arguments, in `dir`. */
function provisionIn(dir: string, args: string[]) {
  return spawnSync(process.execPath, [cliEntry('provision'), ...args], {
    cwd: dir,
    timeout: RUN - 10_000, // a run that hangs is killed (status null) and fails its test
    env: { PATH: process.env.PATH, HOME: process.env.HOME, CI: 'true' },
    encoding: 'utf8',
  });
}

/** A --check of the folder's `hosts` (its host refuses connections), with `args`. */
function run(dir: string, args: string[]) {
  return provisionIn(dir, ['-i', 'hosts', '--check', '-T', '2', ...args]);
}

describe('report paths', () => {
  it.each([
    ['a missing folder', ['--json', 'reports/r.json'], /--json .*reports\/r\.json: its folder .*reports does not exist; create it first/],
    ['a folder', ['--junit', '.'], /--junit .*: is a folder; name a file in it/],
    ['an empty value (an unset variable)', ['--junit', ''], /--junit needs a FILE/],
    ['one file for both', ['--json', 'r.xml', '--junit', './r.xml'], /--json and --junit name the same file/],
    ['the inventory itself', ['--json', 'hosts'], /--json .*hosts: is the inventory source .*hosts; write the report elsewhere/],
  ])(
    '%s: exit 1 before any host is touched',
    (_what, args, message) => {
      const r = cli(() => args);
      expect(r.stderr).toMatch(message);
      expect(r.code).toBe(1);
      // no play started, no host line, the inventory untouched
      expect(r.stdout).not.toContain('PLAY');
      expect(readFileSync(join(r.dir, 'hosts'), 'utf8')).toBe(INVENTORY);
    },
    RUN,
  );

  it(
    "a report lost after the run: an error naming its flag, the other report written, the run's code kept",
    () => {
      // /proc passes the folder check (root may write there as far as access(2) says) and refuses the file.
      const dir = mkdtempSync(join(tmpdir(), 'tp-reports-'));
      writeFileSync(join(dir, 'hosts'), INVENTORY);
      mkdirSync(join(dir, 'out'));
      const again = run(dir, ['--json', '/proc/tp-report.json', '--junit', 'out/r.xml']);
      expect(again.stderr).toMatch(/ERROR! --json \/proc\/tp-report\.json: the report could not be written: /);
      expect(again.stderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(again.stdout).toContain('PLAY RECAP');
      // the host is unreachable: 4, the run's own code, not 1 ("nothing was changed")
      expect(again.status).toBe(4);
      expect(existsSync(join(dir, 'out', 'r.xml'))).toBe(true);
      expect(readFileSync(join(dir, 'out', 'r.xml'), 'utf8')).toContain('<testsuite');
    },
    RUN,
  );
});

describe('output nobody reads any more', () => {
  it(
    'standard output closed (`| head`, `| less` quit): the run stops as after a first Ctrl-C and still writes its report, exit 99',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'tp-reports-'));
      writeFileSync(join(dir, 'hosts'), INVENTORY);
      const child = spawn(process.execPath, [cliEntry('provision'), '-i', 'hosts', '--check', '-T', '2', '--json', 'r.json'], {
        cwd: dir,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, CI: 'true' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      // The reader goes before the run writes its first line: every write of the run fails (EPIPE).
      child.stdout.destroy();
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
      expect(stderr).not.toMatch(/EPIPE|\n\s+at /); // no crash, no stack trace
      expect(code, stderr).toBe(99);
      const report = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')) as { interrupted: boolean; hosts: { host: string; status: string }[] };
      expect(report.interrupted).toBe(true);
      expect(report.hosts.map((h) => h.host)).toEqual(['db1']);
    },
    RUN,
  );
});

describe('a signal before the run reached any host', () => {
  // A vault password script that takes its time (a secrets manager asking a server): the signal
  // comes while it runs, before the inventory is read.
  const slowVault = (dir: string) => {
    writeFileSync(join(dir, 'vault-pass'), '#!/bin/sh\nsleep 1.5\necho vault-pass-long-enough\n', { mode: 0o755 });
    writeFileSync(join(dir, 'r.json'), '{"stale": "the previous run\'s report"}\n');
  };
  it.each([
    ['to the toolkit alone (the script finishes)', false],
    ['to its process group, as Ctrl-C on a terminal (the script dies of it too)', true],
  ])(
    "SIGINT %s: the run stops before any host, exit 99, its report says interrupted (not the previous run's)",
    async (_how, group) => {
      const dir = mkdtempSync(join(tmpdir(), 'tp-reports-'));
      writeFileSync(join(dir, 'hosts'), INVENTORY);
      slowVault(dir);
      const child = spawn(
        process.execPath,
        [cliEntry('provision'), '-i', 'hosts', '--check', '-T', '2', '--vault-password-file', 'vault-pass', '--json', 'r.json'],
        {
          cwd: dir,
          env: { PATH: process.env.PATH, HOME: process.env.HOME, CI: 'true' },
          stdio: ['ignore', 'pipe', 'pipe'],
          detached: true,
        },
      );
      let out = '';
      for (const s of [child.stdout, child.stderr]) s.on('data', (c: Buffer) => (out += c.toString()));
      // once the vault script runs
      let seen = false;
      for (let i = 0; i < 600 && !seen; i++) {
        seen = spawnSync('pgrep', ['-f', join(dir, 'vault-pass')]).stdout.length > 0;
        if (!seen) await new Promise((r) => setTimeout(r, 50));
      }
      expect(seen, `the vault script never ran: ${out}`).toBe(true);
      process.kill(group ? -child.pid! : child.pid!, 'SIGINT');
      const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
      expect(code, out).toBe(99);
      expect(out).toContain('ERROR! User interrupted execution (SIGINT before any host was reached: nothing was run on any host)');
      const report = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')) as { interrupted: boolean; hosts: unknown[]; stale?: string };
      expect(report.stale).toBeUndefined();
      expect(report.interrupted).toBe(true);
      expect(report.hosts).toEqual([]);
    },
    RUN,
  );
});

describe('a vault script killed by a Ctrl-C the toolkit learns of later', () => {
  it(
    "is the interruption, not a failed script: the toolkit's handler may run after the script's death is seen (a busy machine), and the run still ends as interrupted (exit 99)",
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'tp-reports-'));
      writeFileSync(join(dir, 'hosts'), INVENTORY);
      // The script dies of SIGINT at once; the toolkit's own SIGINT comes 0.1 s later, as the
      // race a group's Ctrl-C can be on a loaded machine (PPID: the toolkit, read at the start; the
      // sleeper holds none of the script's output open, which the toolkit waits for).
      writeFileSync(join(dir, 'vault-pass'), '#!/bin/sh\n(sleep 0.1; kill -INT $PPID) </dev/null >/dev/null 2>&1 &\nkill -INT $$\nsleep 5\n', { mode: 0o755 });
      const r = run(dir, ['--vault-password-file', 'vault-pass', '--json', 'r.json']);
      expect(r.status, r.stdout + r.stderr).toBe(99);
      expect(r.stdout + r.stderr).toContain('ERROR! User interrupted execution (SIGINT before any host was reached: nothing was run on any host)');
      expect(JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8'))).toMatchObject({ interrupted: true, hosts: [] });
      // killed by a signal nobody sent the toolkit: the script's failure, saying so
      writeFileSync(join(dir, 'vault-pass'), '#!/bin/sh\nkill -TERM $$\nsleep 5\n', { mode: 0o755 });
      const killed = run(dir, ['--vault-password-file', 'vault-pass']);
      expect(killed.status, killed.stdout + killed.stderr).toBe(1);
      expect(killed.stdout + killed.stderr).toMatch(/ERROR! Vault password script \S+vault-pass returned non-zero \(killed by SIGTERM\)/);
    },
    RUN,
  );
});

describe('a run stopped by settings errors, in its report', () => {
  it(
    'lists every host as not run (skipped), never ok or failed, and says it once on the terminal',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'tp-reports-'));
      // db2's server URL is no URL: a settings error before any connection
      writeFileSync(
        join(dir, 'hosts'),
        INVENTORY.replace('[all:vars]', 'db2 ansible_host=127.0.0.1 ansible_port=1 agent_trento_server_url=not-a-url\n[all:vars]'),
      );
      const r = run(dir, ['--json', 'r.json']);
      expect(r.status).toBe(1);
      expect(r.stdout).toMatch(/settings error\(s\): nothing was changed on any host/);
      expect(r.stdout).not.toMatch(/\| (SKIPPED|FAILED|OK) \|/);
      const report = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')) as { exitCode: number; hosts: { host: string; status: string; message: string }[] };
      expect(report.exitCode).toBe(1);
      expect(report.hosts.map((h) => [h.host, h.status, h.message])).toEqual([
        ['db1', 'skipped', 'not run: settings errors (nothing was changed on any host)'],
        ['db2', 'skipped', 'not run: settings errors (nothing was changed on any host)'],
      ]);
    },
    RUN,
  );
});

describe('the become method', () => {
  it(
    "sudo by any of Ansible's names (ansible.builtin.sudo, ansible.legacy.sudo) is run; another method is a settings error naming it",
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'tp-reports-'));
      const hosts = (method: string) =>
        INVENTORY.replace(
          'db1 ansible_host=127.0.0.1 ansible_port=1',
          `db1 ansible_host=127.0.0.1 ansible_port=1 ansible_become=true ansible_become_method=${method}`,
        );
      for (const method of ['sudo', 'ansible.builtin.sudo', 'ansible.legacy.sudo']) {
        writeFileSync(join(dir, 'hosts'), hosts(method));
        const r = run(dir, []);
        // Past the settings: the host is tried, and it refuses the connection.
        expect(r.stdout, method).not.toMatch(/only sudo is supported/);
        expect(r.stdout, method).toMatch(/db1 \| UNREACHABLE/);
        expect(r.status, method).toBe(4);
      }
      writeFileSync(join(dir, 'hosts'), hosts('ansible.builtin.su'));
      const su = run(dir, []);
      expect(su.status).toBe(1);
      expect(su.stdout).toMatch(/ansible_become_method \(.*\): only sudo is supported, not ansible\.builtin\.su/);
    },
    RUN,
  );
});

describe('a run stopped before any host (an inventory or -e error), in its reports', () => {
  it(
    "replaces the previous run's reports with its error (a CI job never reads an old run as this one), never an inventory it was given",
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'tp-reports-'));
      writeFileSync(join(dir, 'hosts'), INVENTORY);
      writeFileSync(join(dir, 'broken.yml'), 'all:\n  hosts:\n    h1: {ansible_host: 127.0.0.1\n');
      writeFileSync(join(dir, 'r.json'), '{"exitCode": 0, "old": true}\n');
      writeFileSync(join(dir, 'r.xml'), '<old/>\n');
      const r = provisionIn(dir, ['-i', 'broken.yml', '--json', 'r.json', '--junit', 'r.xml']);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/^ERROR! .*broken\.yml:4: YAML syntax error/m);
      const report = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')) as Record<string, unknown>;
      assertReportMatchesSchema(report, 'r.json');
      expect(report).toMatchObject({
        exitCode: 1,
        hosts: [],
        settingsErrors: [{ host: 'all', variable: 'inventory', origin: `${join(dir, 'broken.yml')}:4` }],
      });
      const junit = readFileSync(join(dir, 'r.xml'), 'utf8');
      expect(junit).toContain('errors="1"');
      expect(junit).toMatch(
        /<testcase classname="trento-provision.install" name="all: inventory">\n\s+<error type="settings" message="the run stopped before any host \(nothing was changed\)">inventory \(from .*broken\.yml:4\): YAML syntax error/,
      );

      // -e words that are not key=value: the same, naming the command line
      const e = run(dir, ['-e', 'agent_web_api_key: x', '--json', 'r.json']);
      expect(e.status).toBe(1);
      expect(JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8'))).toMatchObject({
        exitCode: 1,
        settingsErrors: [{ variable: '-e', origin: 'command line' }],
      });
      // a --limit that cannot be read: named as the limit's
      const limit = run(dir, ['--limit', '~[bad', '--json', 'r.json']);
      expect(limit.status).toBe(1);
      expect(JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8'))).toMatchObject({ exitCode: 1, settingsErrors: [{ variable: '--limit' }] });

      // A --json that is the broken inventory itself (a typo) is never written over.
      const over = provisionIn(dir, ['-i', 'broken.yml', '--json', 'broken.yml']);
      expect(over.status).toBe(1);
      expect(readFileSync(join(dir, 'broken.yml'), 'utf8')).toBe('all:\n  hosts:\n    h1: {ansible_host: 127.0.0.1\n');
    },
    RUN,
  );
});

describe('a run that reached its hosts and never ended (killed, or a crash)', () => {
  it(
    "leaves no report rather than the previous run's: the old files go before the first host is reached",
    async () => {
      // A host that takes the connection and never answers: the run is on it until it is killed.
      const sockets: Socket[] = [];
      const host = createServer((socket) => sockets.push(socket));
      await new Promise<void>((r) => host.listen(0, '127.0.0.1', r));
      const reached = new Promise<void>((r) => host.once('connection', () => r()));
      const dir = mkdtempSync(join(tmpdir(), 'tp-reports-'));
      writeFileSync(join(dir, 'hosts'), INVENTORY.replace('ansible_port=1', `ansible_port=${(host.address() as AddressInfo).port}`));
      writeFileSync(join(dir, 'r.json'), '{"exitCode": 0, "old": true}\n');
      writeFileSync(join(dir, 'r.xml'), '<old/>\n');
      const child = spawn(process.execPath, [cliEntry('provision'), '-i', 'hosts', '--check', '-T', '60', '--json', 'r.json', '--junit', 'r.xml'], {
        cwd: dir,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, CI: 'true' },
        stdio: 'ignore',
      });
      const exited = new Promise((r) => child.once('exit', r));
      try {
        await reached;
        child.kill('SIGKILL');
        await exited;
        expect(existsSync(join(dir, 'r.json'))).toBe(false);
        expect(existsSync(join(dir, 'r.xml'))).toBe(false);
      } finally {
        child.kill('SIGKILL');
        for (const s of sockets) s.destroy();
        host.close();
      }
    },
    RUN,
  );
});

describe('usage errors', () => {
  it(
    'point at --help for a flag, not for a file a flag names',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'tp-reports-'));
      writeFileSync(join(dir, 'hosts'), INVENTORY);
      const flag = run(dir, ['--chek']);
      expect(flag.status).toBe(1);
      expect(flag.stderr).toBe('ERROR! unknown option --chek; did you mean --check?\nRun with --help for the options.\n');
      const file = provisionIn(dir, ['-i', 'hosts.yml', '--check']);
      expect(file.status).toBe(1);
      expect(file.stderr).toBe(`ERROR! inventory ${join(dir, 'hosts.yml')} does not exist (-i hosts.yml, from ${dir})\n`);
    },
    RUN,
  );
});

describe('a --limit that names only hosts the play does not run on', () => {
  it(
    'says so, naming them and the play group, instead of "no hosts matched"',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'tp-reports-'));
      writeFileSync(
        join(dir, 'hosts'),
        INVENTORY.replace('db1 ansible_host', '[agents]\ndb1 ansible_host').replace('[all:vars]', '[rabbitmq_hosts]\nmq ansible_host=127.0.0.1\n[all:vars]'),
      );
      const r = run(dir, ['--limit', 'mq']);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('ERROR! --limit mq selects mq, which the play does not run on: it runs on group agents (1 host(s): db1)');
      const none = run(dir, ['--limit', 'nosuch']);
      expect(none.stderr).toMatch(/ERROR! no hosts matched --limit nosuch in /);
    },
    RUN,
  );
});

describe('a password of the run too short to hide in free text', () => {
  it(
    'is warned about, naming which one and never showing it',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'tp-reports-'));
      writeFileSync(join(dir, 'hosts'), INVENTORY);
      writeFileSync(join(dir, 'vault-pass'), 'vlt42\n');
      const r = run(dir, ['--vault-password-file', 'vault-pass']);
      expect(r.stderr).toMatch(/\[WARNING\]: the vault password of id default \(.*vault-pass\) is 5 characters long: too short to hide in free text/);
      expect(`${r.stdout}${r.stderr}`).not.toContain('vlt42');
    },
    RUN,
  );
});

describe("a problem of this machine's, not the host's", () => {
  it(
    'a control_path_dir that cannot be made: the host failed (exit 2) with the folder and the setting named, never unreachable (exit 4)',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'tp-reports-'));
      writeFileSync(join(dir, 'hosts'), INVENTORY.replace('ansible_port=1', 'ansible_port=1 ansible_control_path_dir=/etc/hostname/tp-cp'));
      const r = run(dir, ['--json', 'r.json']);
      expect(r.status, r.stdout + r.stderr).toBe(2);
      expect(r.stdout).toContain("cannot make the run's folder of SSH control sockets in /etc/hostname/tp-cp");
      expect(r.stdout).toContain('point control_path_dir');
      const report = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')) as { hosts: { host: string; status: string }[] };
      expect(report.hosts.map((h) => [h.host, h.status])).toEqual([['db1', 'failed']]);
    },
    RUN,
  );

  it(
    "one under /proc, where mkdir answers ENOENT with the parent there (Node's recursive mkdir never returned): the host fails, naming it",
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'tp-reports-'));
      writeFileSync(join(dir, 'hosts'), INVENTORY.replace('ansible_port=1', 'ansible_port=1 ansible_control_path_dir=/proc/tp-cp'));
      const r = run(dir, []);
      expect(r.status, r.stdout + r.stderr).toBe(2);
      expect(r.stdout).toContain("cannot make the run's folder of SSH control sockets in /proc/tp-cp (ENOENT");
    },
    RUN,
  );
});
