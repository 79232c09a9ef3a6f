// The real CLI, no host contacted: values only known to be secret because they came out of an
// Ansible Vault or were typed at a prompt are masked on the paths outside a host's lines too
// (--list-hosts, an error thrown before any host, settings errors), since all of them go
// through the sink's one secret list. The lab tests (test/integration/secrets.test.ts) cover
// the run itself, the diffs and the reports.
import { type ChildProcessWithoutNullStreams, execFile, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { packageRoot } from '../../../src/cli/invocation.ts';
import { MASK } from '../../../src/settings/secrets.ts';
import { ANSIBLE_CORE, describeWith, SCRIPT_PTY } from '../../support/requires.ts';
import { cliEntry } from '../../support/compiled-cli.ts';

const execFileP = promisify(execFile);
const repo = packageRoot(import.meta.url);
const dir = mkdtempSync(join(tmpdir(), 'tp-secrets-cli-'));
const inv = join(dir, 'inv');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// None of these variables is secret by the table; only the vault or the prompt makes them so.
const VAULTED_HOST = 'vaulted-host-SENTINEL3.example';
const VAULTED_OTHER = 'vaulted-other-SENTINEL2';
const TYPED = 'typed-become-SENTINEL4';
/** Each case is a whole CLI run; on a loaded 2-core machine that can take a while. */
const RUN = 120_000;

beforeAll(async () => {
  if (!ANSIBLE_CORE.available) return;
  mkdirSync(join(inv, 'group_vars'), { recursive: true });
  mkdirSync(join(inv, 'host_vars'), { recursive: true });
  writeFileSync(join(dir, 'pass.txt'), 'vault password for the test\n');
  writeFileSync(join(inv, 'hosts'), '[agents]\nweb1 ansible_host=192.0.2.1\nweb2\n');
  writeFileSync(join(inv, 'group_vars', 'agents.yml'), `something_else: ${VAULTED_OTHER}\n`);
  writeFileSync(join(inv, 'host_vars', 'web2.yml'), `ansible_host: ${VAULTED_HOST}\n`);
  for (const file of ['group_vars/agents.yml', 'host_vars/web2.yml']) {
    await execFileP('ansible-vault', ['encrypt', '--vault-password-file', join(dir, 'pass.txt'), join(inv, file)]);
  }
});

async function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await execFileP(process.execPath, [cliEntry('provision'), '-i', inv, '--vault-password-file', join(dir, 'pass.txt'), ...args], {
      cwd: repo,
      env: { ...process.env, CI: 'true', ...env },
    });
    return { code: 0, out: stdout + stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/**
 * The provision CLI with `args` on a terminal of its own (script(1)), as an admin runs it: `act`
 * is called once, when `question` shows. Its exit code, what the terminal showed, and whether it acted.
 */
async function underPty(args: string[], question: string, act: (child: ChildProcessWithoutNullStreams) => void) {
  const command = [process.execPath, cliEntry('provision'), ...args].map((w) => `'${w}'`).join(' ');
  const child = spawn('script', ['-q', '-e', '-c', `stty cols 120 rows 40; exec ${command}`, '/dev/null'], {
    cwd: repo,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, TERM: 'dumb', CI: 'true' },
  });
  let out = '';
  let acted = false;
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
    if (!acted && out.includes(question)) {
      acted = true;
      act(child);
    }
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, out, acted };
}

describeWith(ANSIBLE_CORE, 'vault values outside a host run', () => {
  it(
    '--list-hosts masks a vaulted ansible_host',
    async () => {
      const { code, out } = await cli(['--list-hosts']);
      expect(code, out).toBe(0);
      expect(out).toMatch(/web2\s+\*{8}/);
      expect(out).toContain('192.0.2.1');
      expect(out).not.toContain('SENTINEL');
    },
    RUN,
  );

  it(
    'an error thrown before any host masks a vaulted value the admin also typed',
    async () => {
      const { code, out } = await cli(['--limit', VAULTED_OTHER, '--syntax-check']);
      expect(code, out).toBe(1);
      expect(out).toContain(`ERROR! no hosts matched --limit ${MASK}`);
      expect(out).not.toContain('SENTINEL');
    },
    RUN,
  );

  it(
    "log_path (ANSIBLE_LOG_PATH): what the run printed and the error that ended it, masked, in the lines of Ansible's log, 0600; one that cannot be written is warned about",
    async () => {
      mkdirSync(join(dir, 'logs'), { recursive: true });
      const log = join(dir, 'logs', 'run.log');
      expect((await cli(['--list-hosts'], { ANSIBLE_LOG_PATH: log })).code).toBe(0);
      expect((await cli(['--limit', VAULTED_OTHER, '--syntax-check'], { ANSIBLE_LOG_PATH: log })).code).toBe(1);
      const text = readFileSync(log, 'utf8');
      expect(statSync(log).mode & 0o777).toBe(0o600);
      // as Ansible's logger writes them: "2026-12-07 07:48:26,492 p=30518 u=root n=ansible | ..."
      expect(text).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} p=\d+ u=\S+ n=trento-provision \| play #1 \(agents\): /m);
      expect(text).toMatch(/^ {2}hosts \(2\):$/m); // a record's later lines as printed, as in Ansible's
      expect(text).toMatch(/web2\s+\*{8}/);
      expect(text).toMatch(/ n=trento-provision \| ERROR! no hosts matched --limit \*{8}/);
      expect(text).not.toContain('SENTINEL');
      // the -v line saying which config file was read is in the log too
      expect((await cli(['--list-hosts', '-v'], { ANSIBLE_LOG_PATH: log })).code).toBe(0);
      expect(readFileSync(log, 'utf8')).toMatch(/ n=trento-provision \| (Using \S+ as config file|No config file found; using defaults)$/m);
      // the warning on stderr, as Ansible's: stdout is the listing
      const unwritable = await execFileP(process.execPath, [cliEntry('provision'), '-i', inv, '--vault-password-file', join(dir, 'pass.txt'), '--list-hosts'], {
        cwd: repo,
        env: { ...process.env, CI: 'true', ANSIBLE_LOG_PATH: join(dir, 'no-such-folder', 'run.log') },
      });
      expect(unwritable.stderr).toMatch(/\[WARNING\]: log file at \S+no-such-folder\/run\.log is not writeable and we cannot create it, aborting/);
      expect(unwritable.stdout).not.toContain('WARNING');
    },
    RUN,
  );
});

describeWith(
  { ...SCRIPT_PTY, available: SCRIPT_PTY.available && ANSIBLE_CORE.available, what: `${SCRIPT_PTY.what}; ${ANSIBLE_CORE.what}` },
  'a password typed at -K',
  () => {
    it(
      'is masked where an inventory value repeats it',
      async () => {
        const {
          code,
          out,
          acted: answered,
        } = await underPty(
          [
            '-i',
            inv,
            '--vault-password-file',
            join(dir, 'pass.txt'),
            '-K',
            // a run (its settings errors stop it before any host; --syntax-check asks no password)
            '--check',
            '-e',
            `agent_prometheus_mode=${TYPED}`,
          ],
          // Answer once the question is on the terminal: echo is off by then (src/cli/prompt.ts).
          'BECOME password:',
          (child) => child.stdin.write(`${TYPED}\r`),
        );
        expect(answered, out).toBe(true);
        expect(code, out).toBe(1);
        expect(out).toMatch(/agent_prometheus_mode.*\*{8}/);
        expect(out).not.toContain('SENTINEL');
      },
      RUN,
    );
  },
);

describeWith(SCRIPT_PTY, 'a signal while a password prompt waits', () => {
  it(
    'SIGTERM (a supervisor stopping the run: not a key the raw terminal reads) ends the prompt: exit 99, the report says interrupted',
    async () => {
      const report = join(dir, 'prompt-term.json');
      writeFileSync(report, '{"stale": true}\n');
      const {
        code,
        out,
        acted: signalled,
      } = await underPty(['-i', inv, '--ask-vault-pass', '--check', '--json', report], 'Vault password:', (child) => {
        const pid = spawnSync('pgrep', ['-f', '--', `--json ${report}`], { encoding: 'utf8' })
          .stdout.trim()
          .split('\n')[0];
        if (pid) process.kill(Number(pid), 'SIGTERM');
        else child.kill('SIGKILL'); // (fails the test below rather than waiting for its timeout)
      });
      expect(signalled, out).toBe(true);
      expect(code, out).toBe(99);
      expect(out).toContain('User interrupted execution (SIGTERM at the password prompt)');
      const written = JSON.parse(readFileSync(report, 'utf8')) as { interrupted?: boolean; stale?: boolean };
      expect(written.stale).toBeUndefined();
      expect(written.interrupted).toBe(true);
    },
    RUN,
  );
});

it(
  'a private key pasted where its path goes, and a RabbitMQ URL with its password where the host goes: refused before any host is reached, neither shown on the terminal nor in --json or --junit',
  async () => {
    const site = mkdtempSync(join(dir, 'pasted-'));
    mkdirSync(join(site, 'group_vars'));
    // Settings errors stop the run before any connection (this loopback port is never tried).
    writeFileSync(join(site, 'hosts'), '[agents]\nweb1 ansible_host=127.0.0.1 ansible_port=9\n');
    // Plain group_vars, no vault: only the settings' own errors can keep these values out.
    const key = ['-----BEGIN PRIVATE KEY-----', 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7PEMSENTINEL5', '-----END PRIVATE KEY-----', ''].join('\n');
    writeFileSync(
      join(site, 'group_vars', 'agents.yml'),
      `${stringify({
        trento_server_name: 'trento.example.com',
        agent_web_api_key: 'api-key-of-the-test',
        rabbitmq_password: 'rabbit-password-of-the-test',
        agent_prometheus_tls_client_key: key,
        agent_rabbitmq_host: 'amqp://trento:URLSENTINEL6@rabbit.example.com:5672',
      })}`,
    );
    const [json, junit] = [join(site, 'r.json'), join(site, 'r.xml')];
    let out: string;
    let code: number;
    try {
      const r = await execFileP(process.execPath, [cliEntry('provision'), '-i', join(site, 'hosts'), '--check', '--json', json, '--junit', junit], {
        cwd: repo,
        env: { ...process.env, CI: 'true' },
      });
      [out, code] = [r.stdout + r.stderr, 0];
    } catch (error) {
      const e = error as { code?: number; stdout?: string; stderr?: string };
      [out, code] = [`${e.stdout ?? ''}${e.stderr ?? ''}`, e.code ?? -1];
    }
    expect(code, out).toBe(1);
    expect(out).toContain('agent_prometheus_tls_client_key');
    expect(out).toContain('got a PEM block ("-----BEGIN PRIVATE KEY-----"');
    expect(out).toContain('agent_rabbitmq_host');
    const reports = `${readFileSync(json, 'utf8')}${readFileSync(junit, 'utf8')}`;
    expect(reports).toContain('agent_prometheus_tls_client_key');
    for (const text of [out, reports]) {
      expect(text).not.toContain('PEMSENTINEL5');
      expect(text).not.toContain('URLSENTINEL6');
    }
  },
  RUN,
);
