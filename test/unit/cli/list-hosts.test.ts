// provision --list-hosts: the real CLI, no host contacted. It lists the hosts the run itself
// would take: the play's (group agents when the inventory has one, as the official agent play),
// --limit within them, in the play's order.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { packageRoot } from '../../../src/cli/invocation.ts';
import { cliEntry } from '../../support/compiled-cli.ts';

const execFileP = promisify(execFile);
const repo = packageRoot(import.meta.url);
const dir = mkdtempSync(join(tmpdir(), 'tp-list-hosts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const listed = async (file: string, ...args: string[]) => {
  const { stdout } = await execFileP(process.execPath, [cliEntry('provision'), '-i', file, '--list-hosts', ...args], {
    cwd: repo,
    env: { ...process.env, NO_COLOR: '1' },
  });
  return stdout;
};

/** The provision CLI with `args` and extra environment: its exit code and output, failed or not. */
const provisionCli = (args: string[], env: Record<string, string>) =>
  execFileP(process.execPath, [cliEntry('provision'), ...args], { cwd: repo, env: { ...process.env, NO_COLOR: '1', ...env } }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );

it("lists the play's hosts (group agents, as the run takes them), --limit within them; without that group, every host", { timeout: 120_000 }, async () => {
  // The official examples list the server, Postgres and RabbitMQ hosts too: they get no agent.
  const official = join(dir, 'official');
  writeFileSync(official, '[agents:children]\napp\n[app]\nhana01\nhana02\n[trento_server]\nsrv1\n[rabbitmq_hosts]\nrmq1\n');
  const all = await listed(official);
  expect(all).toMatch(/^play #1 \(agents\): /);
  expect(all).toMatch(/hosts \(2\):\n {4}hana01 +hana01\n {4}hana02 +hana02\n$/);
  expect(await listed(official, '-l', 'hana02:rmq1')).toMatch(/hosts \(1\):\n {4}hana02 /);
  const plain = join(dir, 'plain');
  writeFileSync(plain, 'db1\n[web]\nweb1\n');
  expect(await listed(plain)).toMatch(/^play #1 \(all\): [\s\S]*hosts \(2\):\n {4}db1 +db1\n {4}web1 +web1\n$/);
});

it('a --limit pattern that matches nothing is warned about, by the list and the run alike; --limit @FILE is read from where the admin ran npm', {
  timeout: 120_000,
}, async () => {
  const file = join(dir, 'warned');
  writeFileSync(
    file,
    '[agents]\nhana01\nhana02\n[agents:vars]\nagent_web_api_key=k\ntrento_server_url=https://trento.example\nprovision_rabbitmq=false\ntrento_rabbitmq_host=rmq.example\nrabbitmq_password=p-long-enough\n',
  );
  const listedOnly = await execFileP(process.execPath, [cliEntry('provision'), '-i', file, '--list-hosts', '-l', 'hana01,hanna02'], {
    cwd: repo,
    env: { ...process.env, NO_COLOR: '1' },
  });
  expect(listedOnly.stderr).toContain('[WARNING]: Could not match supplied host pattern, ignoring: hanna02');
  expect(listedOnly.stdout).toMatch(/hosts \(1\):\n {4}hana01 /);
  // The run (--syntax-check: settings only, no host contacted), as `npm run provision` starts
  // it: in the project's folder, INIT_CWD the admin's. The limit file lies in the admin's folder.
  writeFileSync(join(dir, 'retry'), 'hana01\nhanna02\n');
  const run = await execFileP(process.execPath, [cliEntry('provision'), '-i', file, '--syntax-check', '-l', '@retry'], {
    cwd: repo,
    env: { ...process.env, NO_COLOR: '1', INIT_CWD: dir },
  });
  expect(run.stderr).toContain('[WARNING]: Could not match supplied host pattern, ignoring: hanna02');
  expect(run.stdout).toContain('inventory and settings of 1 host(s) are valid');

  // host_pattern_mismatch = error stops the run there, as it stops ansible-playbook; ignore says nothing.
  const strict = await provisionCli(['-i', file, '--syntax-check', '-l', 'hana01,hanna02'], { ANSIBLE_HOST_PATTERN_MISMATCH: 'error' });
  expect(strict.code).toBe(1);
  expect(strict.stderr).toContain('ERROR! Could not match supplied host pattern, ignoring: hanna02');
  const quiet = await provisionCli(['-i', file, '--list-hosts', '-l', 'hana01,hanna02'], { ANSIBLE_HOST_PATTERN_MISMATCH: 'ignore' });
  expect(quiet.stderr).not.toContain('Could not match');
  expect(quiet.stdout).toMatch(/hosts \(1\):\n {4}hana01 /);
  const typo = await provisionCli(['-i', file, '--list-hosts'], { ANSIBLE_HOST_PATTERN_MISMATCH: 'eror' });
  expect(typo.code).toBe(1);
  expect(typo.stderr).toContain('host_pattern_mismatch (env: ANSIBLE_HOST_PATTERN_MISMATCH) is one of warning, error, ignore, not "eror"');
});

it("a --limit that leaves no host is an error for the list too (exit 1), as for ansible-playbook --list-hosts and the run; a --syntax-check asks for no password (become_ask_pass), as Ansible's", {
  timeout: 120_000,
}, async () => {
  const file = join(dir, 'none');
  writeFileSync(
    file,
    '[agents]\nhana01\n[agents:vars]\nagent_web_api_key=k\ntrento_server_url=https://trento.example\nprovision_rabbitmq=false\ntrento_rabbitmq_host=rmq.example\nrabbitmq_password=p-long-enough\n',
  );
  const env = { ...process.env, NO_COLOR: '1' };
  const failed = await execFileP(process.execPath, [cliEntry('provision'), '-i', file, '--list-hosts', '-l', 'nosuch'], { cwd: repo, env }).then(
    () => undefined,
    (error: { code: number; stderr: string }) => error,
  );
  expect(failed?.code).toBe(1);
  expect(failed?.stderr).toMatch(/no hosts matched --limit nosuch in /);
  // ansible.cfg asking for the sudo password, no terminal (execFile gives none): nothing asked
  writeFileSync(join(dir, 'ansible.cfg'), '[privilege_escalation]\nbecome = True\nbecome_ask_pass = True\n');
  const checked = await execFileP(process.execPath, [cliEntry('provision'), '-i', file, '--syntax-check'], {
    cwd: repo,
    env: { ...env, ANSIBLE_CONFIG: join(dir, 'ansible.cfg') },
  });
  expect(checked.stdout).toContain('syntax check passed');
});

it('says what the run does to every host, support packages and the CA anchor included', { timeout: 120_000 }, async () => {
  const file = join(dir, 'headlines');
  writeFileSync(file, 'hana01\n');
  expect(await listed(file)).toMatch(/^ {2}plan: .*supportutils \+ its Trento plugin \(supportutils_enabled\); the server CA anchor/m);
  expect(await listed(file, '--uninstall')).toMatch(
    /^ {2}plan: remove .*supportutils-plugin-trento; .*supportutils, agent\.yaml \(on SLES 15 as agent\.yaml\.rpmsave\) and the CA anchor stay$/m,
  );
  expect(await listed(file, '--uninstall', '--purge')).toMatch(
    /^ {2}plan: remove .*the CA anchor, supportutils and its plugin, .*the packages and the CA anchor only where the toolkit installed or wrote them\)$/m,
  );
});
