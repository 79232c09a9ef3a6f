// Connection variables: ProxyJump / -J parsing, and ansible_connection=local proven by a real
// run against this machine (a Debian: facts are read, the host is refused, nothing changes).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { connectionFor, parseJumpHosts } from '../../../src/exec/connection.ts';

const execFileP = promisify(execFile);
const repoRoot = resolve(import.meta.dirname, '../../..');
const dir = mkdtempSync(join(tmpdir(), 'tp-conn-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const defaults = { timeoutMs: 10_000, hostKeyChecking: true };

describe('ProxyJump', () => {
  it('-o ProxyJump= and -J, in ansible_ssh_common_args or _extra_args, with user and port or without', () => {
    expect(connectionFor('t', { ansible_ssh_common_args: '-o ProxyJump=admin@bastion.example:2222' }, defaults).jump).toEqual([
      { address: 'bastion.example', port: 2222, user: 'admin' },
    ]);
    expect(connectionFor('t', { ansible_ssh_extra_args: "-o 'ProxyJump root@10.0.0.1'" }, defaults).jump).toEqual([{ address: '10.0.0.1', port: 22, user: 'root' }]);
    expect(connectionFor('t', { ansible_ssh_common_args: '-o UserKnownHostsFile=/k -J jump1,ops@jump2:23' }, defaults).jump).toEqual([
      { address: 'jump1', port: 22, user: process.env.USER ?? 'root' },
      { address: 'jump2', port: 23, user: 'ops' },
    ]);
    expect(connectionFor('t', { ansible_ssh_common_args: '-Jroot@[fd00::1]:2200' }, defaults).jump).toEqual([{ address: 'fd00::1', port: 2200, user: 'root' }]);
    expect(connectionFor('t', { ansible_ssh_common_args: '-o ProxyJump=none' }, defaults).jump).toEqual([]);
    expect(connectionFor('t', {}, defaults).jump).toBeUndefined();
    expect(parseJumpHosts('ssh://a@b:5', 'me')).toEqual([{ address: 'b', port: 5, user: 'a' }]);
    expect(() => parseJumpHosts('a@', 'me')).toThrow(/expected \[user@\]host\[:port\]/);
  });

  it('the ProxyCommand of Ansible\'s FAQ (ssh -W %h:%p ... bastion) is read as a jump host; other commands are not', () => {
    const jumpOf = (args: string) => connectionFor('t', { ansible_ssh_common_args: args }, defaults).jump;
    expect(jumpOf(`-o ProxyCommand="ssh -W %h:%p -q ops@gateway.example.com"`)).toEqual([{ address: 'gateway.example.com', port: 22, user: 'ops' }]);
    expect(jumpOf(`-o 'ProxyCommand=/usr/bin/ssh -q -p 2200 -l admin -W %h:%p bastion'`)).toEqual([{ address: 'bastion', port: 2200, user: 'admin' }]);
    expect(jumpOf(`-o ProxyCommand="nc -X connect -x proxy:3128 %h %p"`)).toBeUndefined();
    expect(jumpOf(`-o ProxyCommand="ssh bastion nc %h %p"`)).toBeUndefined();
    // Both given: the jump is taken from -J / ProxyJump.
    expect(jumpOf(`-J a@j1 -o ProxyCommand="ssh -W %h:%p b@j2"`)).toEqual([{ address: 'j1', port: 22, user: 'a' }]);
  });
});

describe('ansible_connection=local', () => {
  it('runs the facts on this machine without SSH: this Debian is read and refused, nothing changed', async () => {
    const inventory = join(dir, 'hosts');
    writeFileSync(
      inventory,
      '[agents]\nlocalhost ansible_connection=local\n\n[agents:vars]\nagent_web_api_key=local-test-key\nagent_rabbitmq_password=local-test-pw\nprovision_rabbitmq=false\nagent_trento_server_url=http://127.0.0.1:8080\n',
    );
    const report = join(dir, 'report.json');
    const tsx = join(repoRoot, 'node_modules/.bin/tsx');
    const { stdout } = await execFileP(tsx, [join(repoRoot, 'scripts/provision.ts'), '-i', inventory, '--check', '--json', report], {
      cwd: dir,
      env: { ...process.env, NO_COLOR: '1' },
    });
    const osRelease = readFileSync('/etc/os-release', 'utf8');
    const field = (k: string) => new RegExp(`^${k}="?([^"\\n]*)"?`, 'm').exec(osRelease)?.[1] ?? '';
    const r = JSON.parse(readFileSync(report, 'utf8')) as { exitCode: number; hosts: { host: string; status: string; product: string; roundTrips: number }[] };
    expect(r.exitCode).toBe(0);
    expect(r.hosts).toHaveLength(1);
    expect(r.hosts[0]).toMatchObject({ host: 'localhost', status: 'skipped', roundTrips: 1 });
    expect(r.hosts[0]!.product).toBe(`${field('NAME')} ${field('VERSION_ID')}`); // read from this machine's os-release
    expect(stdout).toMatch(/localhost \| SKIPPED \| refused/);
  });
});
