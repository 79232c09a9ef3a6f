// Connection variables: the OpenSSH command line (Ansible's knobs, order and precedence), the
// paramiko client's refusals, ssh's failures read back; ProxyJump / -J parsing for paramiko, and
// ansible_connection=local proven by a real run against this machine (a Debian: facts are read,
// the host is refused, nothing changes).
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { readAnsibleSettings } from '../../../src/cli/ansible-config.ts';
import { parseCli } from '../../../src/cli/args.ts';
import { connectionSettingsErrors } from '../../../src/exec/connection-settings.ts';
import { type ConnectionDefaults, connectionFor, DEFAULT_SSH_ARGS, expandControlPath, parseJumpHosts } from '../../../src/exec/connection.ts';
import { connectFailure, fileEnds, fileTail, masterMadeAt, masterSaid, sessionOpened, sshArgv, withoutSshLog } from '../../../src/exec/openssh.ts';
import { localSession, remoteShell } from '../../../src/exec/session.ts';
import { join as joinCommand, raw, sh } from '../../../src/exec/command.ts';
import { runBounded } from '../../../src/run/bounded.ts';
import type { RunOptions } from '../../../src/run/types.ts';
import { cliEntry } from '../../support/compiled-cli.ts';

const execFileP = promisify(execFile);
const repoRoot = resolve(import.meta.dirname, '../../..');
const dir = mkdtempSync(join(tmpdir(), 'tp-conn-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const defaults: ConnectionDefaults = { timeoutMs: 10_000, hostKeyChecking: true };
const control = { socket: '/run/tp-ssh-x/c0', log: '/run/tp-ssh-x/c0.log' };
const argvOf = (vars: Record<string, unknown>, d: Parameters<typeof connectionFor>[2] = defaults) =>
  sshArgv(connectionFor('db1', vars, d).openssh, 10, control);
/** The value of the first -o KEY= (the one OpenSSH uses), or undefined. */
const firstOption = (argv: string[], key: string) =>
  argv
    .find((a, i) => argv[i - 1] === '-o' && a.toLowerCase().startsWith(`${key.toLowerCase()}=`))
    ?.split('=')
    .slice(1)
    .join('=');

describe("-k's prompt answered with Enter", () => {
  it('is no password, as in Ansible: no sshpass, BatchMode and the no-password options stay', async () => {
    const { connectionDefaultsOf } = await import('../../../src/cli/connection-defaults.ts');
    const cli = parseCli(['-i', dir, '-k'], {}, join(dir, 'no-project'), { cwd: dir });
    const argvWith = (sshPassword: string) => sshArgv(connectionFor('db1', {}, connectionDefaultsOf(cli, { sshPassword })).openssh, 10, control);
    expect(argvWith('')).toContain('BatchMode=yes');
    expect(argvWith('')).toContain('PasswordAuthentication=no');
    expect(argvWith('typed-pass')).not.toContain('BatchMode=yes');
  });
});

describe('the OpenSSH command line', () => {
  it('leaves to ssh_config what nobody set: no User, Port or IdentityFile; the inventory name is the destination', () => {
    const spec = connectionFor('db1', {}, defaults);
    expect(spec.transport).toBe('ssh');
    expect(spec.openssh.destination).toBe('db1');
    const argv = argvOf({});
    expect(argv.slice(0, 7)).toEqual(['ssh', '-C', '-o', 'ControlMaster=auto', '-o', 'ControlPersist=60s', '-o']);
    expect(firstOption(argv, 'User')).toBeUndefined();
    expect(firstOption(argv, 'Port')).toBeUndefined();
    expect(firstOption(argv, 'IdentityFile')).toBeUndefined();
    expect(firstOption(argv, 'BatchMode')).toBe('yes');
    expect(firstOption(argv, 'ControlPath')).toBe('"/run/tp-ssh-x/c0"');
    expect(firstOption(argv, 'PasswordAuthentication')).toBe('no');
    // As OpenSSH's scp: no terminal (it would echo the script and the sudo password) and no
    // RemoteCommand from an ssh_config, whatever the config files say.
    expect(firstOption(argv, 'RequestTTY')).toBe('no');
    expect(firstOption(argv, 'RemoteCommand')).toBe('none');
    // A host gone silent is given up after a minute (15 s x 4), as the paramiko transport's keepalive.
    expect(firstOption(argv, 'ServerAliveInterval')).toBe('15');
    expect(firstOption(argv, 'ServerAliveCountMax')).toBe('4');
    expect(DEFAULT_SSH_ARGS).toBe('-C -o ControlMaster=auto -o ControlPersist=60s');
  });

  it("inventory values become options (quoted for ssh), in Ansible order: ssh_args first, the toolkit's fallbacks last", () => {
    const argv = argvOf({
      ansible_host: '10.0.0.5',
      ansible_port: 2200,
      ansible_user: 'sap adm',
      ansible_ssh_private_key_file: '/keys/my key',
      ansible_ssh_args: '-o ControlMaster=no',
      ansible_ssh_common_args: '-o BatchMode=no -F /etc/ssh/site.conf',
      ansible_ssh_extra_args: "-o 'ProxyCommand=nc -X connect -x proxy:3128 %h %p'",
      ansible_ssh_executable: '/opt/openssh/bin/ssh',
    });
    expect(argv[0]).toBe('/opt/openssh/bin/ssh');
    expect(argv.slice(1, 3)).toEqual(['-o', 'ControlMaster=no']);
    expect(firstOption(argv, 'Port')).toBe('2200');
    expect(firstOption(argv, 'User')).toBe('"sap adm"');
    expect(firstOption(argv, 'IdentityFile')).toBe('"/keys/my key"');
    // The admin's BatchMode=no comes before the toolkit's BatchMode=yes: OpenSSH keeps the first.
    expect(firstOption(argv, 'BatchMode')).toBe('no');
    expect(argv).toContain('-F');
    expect(firstOption(argv, 'ProxyCommand')).toBe('nc -X connect -x proxy:3128 %h %p');
    expect(connectionFor('db1', { ansible_host: '10.0.0.5' }, defaults).openssh.destination).toBe('10.0.0.5');
  });

  it('ansible_ssh_common_args beats --ssh-common-args; -u is the user only when the inventory has none', () => {
    const d = { ...defaults, sshCommonArgs: '-o ServerAliveInterval=5', sshExtraArgs: '-o Compression=no', user: 'cli-user' };
    expect(firstOption(argvOf({}, d), 'ServerAliveInterval')).toBe('5');
    expect(firstOption(argvOf({ ansible_ssh_common_args: '-o ServerAliveInterval=9' }, d), 'ServerAliveInterval')).toBe('9');
    expect(firstOption(argvOf({}, d), 'Compression')).toBe('no');
    expect(firstOption(argvOf({}, d), 'User')).toBe('"cli-user"');
    expect(firstOption(argvOf({ ansible_user: 'inv' }, d), 'User')).toBe('"inv"');
  });

  it('host_key_checking=False gives StrictHostKeyChecking=no before the common args, as with Ansible; -vvvv gives -vvv', () => {
    const argv = argvOf({ ansible_ssh_common_args: '-o StrictHostKeyChecking=yes' }, { ...defaults, hostKeyChecking: false, verbosity: 4 });
    expect(firstOption(argv, 'StrictHostKeyChecking')).toBe('no');
    expect(argv).toContain('-vvv');
    expect(argvOf({})).not.toContain('-vvv');
    expect(firstOption(argvOf({ ansible_host_key_checking: 'false' }), 'StrictHostKeyChecking')).toBe('no');
  });

  it('a password (ansible_password or -k) is never on the command line and allows password logins without BatchMode', () => {
    const argv = argvOf({ ansible_password: 's3cret-pw' });
    expect(argv.join(' ')).not.toContain('s3cret-pw');
    expect(firstOption(argv, 'BatchMode')).toBeUndefined();
    expect(firstOption(argv, 'PasswordAuthentication')).toBeUndefined();
    expect(connectionFor('db1', {}, { ...defaults, password: 'typed' }).openssh.password).toBe('typed');
    expect(connectionFor('db1', { ansible_ssh_pass: 'inv' }, { ...defaults, password: 'typed' }).openssh.password).toBe('inv');
  });
});

describe('the SSH flags and [ssh_connection]', () => {
  it('flag > ANSIBLE_* > ansible.cfg, for -c, -k, --ssh-common-args, --ssh-extra-args, ssh_args, ssh_executable, control_path_dir', () => {
    const cfgDir = mkdtempSync(join(dir, 'cfg-'));
    writeFileSync(
      join(cfgDir, 'ansible.cfg'),
      '[defaults]\ntransport = paramiko\nask_pass = False\n\n[ssh_connection]\nssh_args = -o ControlMaster=no\nssh_common_args = -o ServerAliveInterval=7\n' +
        'ssh_extra_args = -o Compression=no\nssh_executable = /opt/ssh\ncontrol_path_dir = cp\n',
    );
    const settings = (env: NodeJS.ProcessEnv) =>
      readAnsibleSettings({ env: { ANSIBLE_CONFIG: join(cfgDir, 'ansible.cfg'), ...env }, cwd: cfgDir, home: cfgDir });
    const fromCfg = parseCli(['-i', dir], {}, repoRoot, { settings: settings({}) }).ssh;
    expect(fromCfg).toEqual({
      transport: 'paramiko',
      transportOrigin: `${join(cfgDir, 'ansible.cfg')} [defaults] transport`,
      askPass: false,
      executable: '/opt/ssh',
      args: '-o ControlMaster=no',
      commonArgs: '-o ServerAliveInterval=7',
      extraArgs: '-o Compression=no',
      controlPathDir: join(cfgDir, 'cp'),
      // the paramiko plugin's own settings, none set: its host key checking as [defaults]'s, its
      // connect timeout Ansible's default
      paramiko: { hostKeyChecking: true, timeoutMs: 10_000 },
    });
    const fromEnv = parseCli(['-i', dir], {}, repoRoot, {
      settings: settings({ ANSIBLE_SSH_ARGS: '-C', ANSIBLE_TRANSPORT: 'ssh', ANSIBLE_ASK_PASS: 'yes' }),
    }).ssh;
    expect([fromEnv.args, fromEnv.transport, fromEnv.askPass]).toEqual(['-C', 'ssh', true]);
    // A flag's value that starts with "-" is taken as the value, as ansible-playbook does.
    const flags = parseCli(['-i', dir, '-c', 'local', '-k', '--ssh-common-args', '-o ServerAliveInterval=9', '--ssh-extra-args=-4'], {}, repoRoot, {
      settings: settings({}),
    }).ssh;
    expect(flags).toMatchObject({ transport: 'local', transportOrigin: '-c', askPass: true, commonArgs: '-o ServerAliveInterval=9', extraArgs: '-4' });
    // control_path_dir is an untyped option of the ssh plugin that Ansible unquotes and resolves
    // from the current folder (unfrackpath), not from the file's folder like [defaults] paths.
    writeFileSync(join(cfgDir, 'ansible.cfg'), '[ssh_connection]\ncontrol_path_dir = "cp2"\n');
    const elsewhere = mkdtempSync(join(dir, 'cwd-'));
    const quoted = readAnsibleSettings({ env: { ANSIBLE_CONFIG: join(cfgDir, 'ansible.cfg') }, cwd: elsewhere, home: cfgDir });
    expect(quoted.controlPathDir).toBe(join(elsewhere, 'cp2'));
  });
});

describe('connection settings, before any host is touched', () => {
  const errorsOf = (vars: Record<string, unknown>, d = defaults) => connectionSettingsErrors(vars, { ansible_ssh_common_args: 'group_vars/all.yml' }, d);

  it('-vvvv says whether a password login is tried (never the password); a missing ssh client is named as a path or a name on PATH', async () => {
    const { connectionForDisplay } = await import('../../../src/output/verbose.ts');
    const shown = (vars: Record<string, unknown>) => connectionForDisplay(connectionFor('h', vars, defaults)).join('\n');
    expect(shown({ ansible_password: 'Sup3rSecretPw' })).toContain('password login: given (through sshpass)');
    expect(shown({ ansible_password: 'Sup3rSecretPw' })).not.toContain('Sup3r');
    expect(shown({ ansible_connection: 'paramiko', ansible_password: 'Sup3rSecretPw' })).toContain('password login: given (offered when the key is refused)');
    expect(shown({})).not.toContain('password login');
    // The transport named: a paramiko connection runs no ssh command (-vv's EXEC line, -vvvv).
    const { execCommandLine } = await import('../../../src/output/verbose.ts');
    expect(shown({})).toMatch(/^connection ssh \(the system OpenSSH client, ssh\)$/m);
    expect(shown({ ansible_connection: 'paramiko' })).toMatch(/^connection paramiko \(the in-process SSH client\)$/m);
    expect(execCommandLine(connectionFor('h', { ansible_connection: 'paramiko', ansible_host: '192.0.2.7' }, defaults))).toMatch(
      /^paramiko .+@192\.0\.2\.7:22 \/bin\/bash < script$/,
    );
    expect(execCommandLine(connectionFor('h', { ansible_host: '192.0.2.7' }, defaults))).toMatch(/^ssh .+@192\.0\.2\.7:22 \/bin\/bash < script$/);
    const exe = (path: string) => connectionSettingsErrors({ ansible_ssh_executable: path }, {}, defaults).map((e) => e.message);
    expect(exe('/opt/nossh')).toEqual([
      'the OpenSSH client /opt/nossh does not exist or is not executable; install openssh-client or point ansible_ssh_executable at it',
    ]);
    expect(exe('nossh-here')).toEqual([
      'the OpenSSH client "nossh-here" is not an executable on PATH; install openssh-client or point ansible_ssh_executable at it',
    ]);
  });

  it("paramiko's own proxy setting is refused where paramiko connects (it would go direct, past the proxy), from the inventory or ansible.cfg; ssh does not read it", () => {
    const proxy = 'ssh -W %h:%p bastion';
    const messages = (vars: Record<string, unknown>, d = defaults) =>
      connectionSettingsErrors(vars, { ansible_paramiko_proxy_command: 'hosts.yml:4' }, d).map((e) => `${e.variable} (${e.origin}): ${e.message}`);
    expect(messages({ ansible_connection: 'paramiko', ansible_paramiko_proxy_command: proxy })).toEqual([
      'ansible_paramiko_proxy_command (hosts.yml:4): cannot be honoured by ansible_connection=paramiko (the host would be connected to directly, past the proxy); use ansible_connection=ssh (the default: the system OpenSSH client does it), with the proxy as -o ProxyCommand=... in ansible_ssh_common_args',
    ]);
    expect(
      messages(
        { ansible_connection: 'paramiko' },
        { ...defaults, paramiko: { proxyCommand: { value: proxy, origin: 'env: ANSIBLE_PARAMIKO_PROXY_COMMAND' } } },
      )[0],
    ).toMatch(/^proxy_command \(env: ANSIBLE_PARAMIKO_PROXY_COMMAND\): cannot be honoured by ansible_connection=paramiko/);
    expect(messages({ ansible_paramiko_proxy_command: proxy }, { ...defaults, paramiko: { proxyCommand: { value: proxy, origin: 'ansible.cfg' } } })).toEqual(
      [],
    );
    // read from the environment and ansible.cfg, as Ansible's paramiko plugin reads it
    const cfgDir = mkdtempSync(join(tmpdir(), 'tp-proxy-'));
    writeFileSync(join(cfgDir, 'ansible.cfg'), `[paramiko_connection]\nproxy_command = ${proxy}\n`);
    const read = readAnsibleSettings({ env: { ANSIBLE_CONFIG: join(cfgDir, 'ansible.cfg') }, cwd: cfgDir, home: cfgDir });
    expect([read.paramikoProxyCommand, read.origins.paramikoProxyCommand]).toEqual([
      proxy,
      `${join(cfgDir, 'ansible.cfg')} [paramiko_connection] proxy_command`,
    ]);
    expect(readAnsibleSettings({ env: { ANSIBLE_PARAMIKO_PROXY_COMMAND: proxy }, cwd: cfgDir, home: cfgDir }).origins.paramikoProxyCommand).toBe(
      'env: ANSIBLE_PARAMIKO_PROXY_COMMAND',
    );
    rmSync(cfgDir, { recursive: true, force: true });
  });

  it("paramiko's own settings it cannot honour are refused where paramiko connects, naming where they were set; honoured values and ssh hosts pass", () => {
    const messages = (vars: Record<string, unknown>, paramiko: ConnectionDefaults['paramiko']) =>
      connectionSettingsErrors(vars, { ansible_paramiko_use_rsa_sha2_algorithms: 'hosts.yml:7' }, { ...defaults, paramiko }).map(
        (e) => `${e.variable} (${e.origin}): ${e.message}`,
      );
    const p = { ansible_connection: 'paramiko' };
    const cfg = '/etc/ansible/ansible.cfg [paramiko_connection]';
    // host_key_auto_add: the client adds no unknown key, so with checking on it is refused ...
    const autoAdd = { hostKeyAutoAdd: { value: true, origin: `${cfg} host_key_auto_add` } };
    expect(messages(p, autoAdd)).toEqual([
      `host_key_auto_add (${cfg} host_key_auto_add): is True, which accepts and records a host key never seen before; ansible_connection=paramiko adds no host key: put the hosts' keys in known_hosts first (ssh-keyscan, their fingerprints checked), or use ansible_connection=ssh with -o StrictHostKeyChecking=accept-new in ansible_ssh_common_args`,
    ]);
    // ... and with checking off (every key taken anyway), or on an ssh host, it changes nothing.
    expect(messages({ ...p, ansible_host_key_checking: false }, autoAdd)).toEqual([]);
    expect(messages(p, { ...autoAdd, hostKeyChecking: false })).toEqual([]);
    expect(messages({}, autoAdd)).toEqual([]);
    expect(messages(p, { hostKeyAutoAdd: { value: false, origin: 'env: ANSIBLE_PARAMIKO_HOST_KEY_AUTO_ADD' } })).toEqual([]);
    // use_rsa_sha2_algorithms = False, from ansible.cfg or the inventory (which wins)
    const noRsa = { useRsaSha2Algorithms: { value: false, origin: 'env: ANSIBLE_PARAMIKO_USE_RSA_SHA2_ALGORITHMS' } };
    expect(messages(p, noRsa)).toEqual([
      'use_rsa_sha2_algorithms (env: ANSIBLE_PARAMIKO_USE_RSA_SHA2_ALGORITHMS): is False, which only servers older than rsa-sha2 signatures need (OpenSSH before 7.2; SLES 15 and 16 have them); ansible_connection=paramiko cannot turn them off: remove the setting',
    ]);
    expect(messages({ ...p, ansible_paramiko_use_rsa_sha2_algorithms: 'yes' }, noRsa)).toEqual([]);
    expect(messages({ ...p, ansible_paramiko_use_rsa_sha2_algorithms: 'no' }, {})[0]).toMatch(
      /^ansible_paramiko_use_rsa_sha2_algorithms \(hosts\.yml:7\): is False/,
    );
    expect(messages({ ...p, ansible_paramiko_use_rsa_sha2_algorithms: 'ture' }, {})[0]).toMatch(/"ture" is not a boolean/);
    expect(messages({}, noRsa)).toEqual([]);
    // banner_timeout: only Ansible's 30 s; another value names the timeout that does apply
    const banner = (value: number) => ({ bannerTimeout: { value, origin: `${cfg} banner_timeout` } });
    expect(messages({ ...p, ansible_timeout: 25 }, banner(60))).toEqual([
      `banner_timeout (${cfg} banner_timeout): is 60 s; ansible_connection=paramiko has no timeout of the server's banner's own: the connect timeout (--timeout, [defaults] timeout, ansible_timeout; 25 s here) covers the whole handshake, the banner included. Raise that one instead and remove this setting`,
    ]);
    expect(messages(p, banner(30))).toEqual([]);
    expect(messages({}, banner(60))).toEqual([]);
  });

  it("paramiko's look_for_keys = False reaches its connection (no ~/.ssh key is tried); ssh hosts and the default are untouched", () => {
    const spec = (vars: Record<string, unknown>, lookForKeys?: boolean) =>
      connectionFor('h', vars, { ...defaults, paramiko: lookForKeys === undefined ? {} : { lookForKeys } }).lookForKeys;
    expect(spec({ ansible_connection: 'paramiko' }, false)).toBe(false);
    expect(spec({ ansible_connection: 'paramiko' }, true)).toBeUndefined();
    expect(spec({ ansible_connection: 'paramiko' })).toBeUndefined();
    expect(spec({}, false)).toBeUndefined();
  });

  it("paramiko reads ansible_paramiko_port last, as Ansible's paramiko plugin does (2.15); ssh does not", () => {
    expect(connectionFor('h', { ansible_connection: 'paramiko', ansible_port: 2200, ansible_paramiko_port: 2222 }, defaults).port).toBe(2222);
    expect(connectionFor('h', { ansible_port: 2200, ansible_paramiko_port: 2222 }, defaults).port).toBe(2200);
    // its own key file too (ansible-core 2.15)
    expect(
      connectionFor('h', { ansible_connection: 'paramiko', ansible_ssh_private_key_file: '/k/a', ansible_paramiko_private_key_file: '/k/b' }, defaults)
        .privateKeyPath,
    ).toBe('/k/b');
  });

  it('a private key file that is not there: with ssh a warning naming who set it (ssh goes on with its other keys, as with Ansible); with paramiko an error; nothing for a local host or a path ssh expands', async () => {
    const { connectionSettingsWarnings } = await import('../../../src/exec/connection-settings.ts');
    const dir = mkdtempSync(join(tmpdir(), 'tp-key-'));
    try {
      const key = join(dir, 'id_ed25519');
      writeFileSync(key, 'a key\n', { mode: 0o600 });
      const origins = { ansible_ssh_private_key_file: 'hosts:3' };
      const said = (vars: Record<string, unknown>, d = defaults) => ({
        errors: connectionSettingsErrors(vars, origins, d).map((e) => `${e.variable} (${e.origin}): ${e.message}`),
        warnings: connectionSettingsWarnings(vars, origins, d),
      });
      expect(said({ ansible_ssh_private_key_file: key })).toEqual({ errors: [], warnings: [] });
      const missing = join(dir, 'nokey');
      expect(said({ ansible_ssh_private_key_file: missing })).toEqual({
        errors: [],
        warnings: [
          `ansible_ssh_private_key_file (hosts:3): ${missing} does not exist or cannot be read; give the path of the private key; ssh goes on with ssh-agent's and its default keys`,
        ],
      });
      expect(said({ ansible_connection: 'paramiko', ansible_ssh_private_key_file: missing })).toEqual({
        errors: [`ansible_ssh_private_key_file (hosts:3): ${missing} does not exist or cannot be read; give the path of the private key`],
        warnings: [],
      });
      // from --private-key / ansible.cfg: named by where it came from
      expect(said({}, { ...defaults, privateKeyPath: missing, privateKeyOrigin: '/site/ansible.cfg [defaults] private_key_file' }).warnings[0]).toMatch(
        /^private_key_file \(\/site\/ansible\.cfg \[defaults\] private_key_file\): /,
      );
      // set empty in the inventory: no key file (ssh's own), nothing to check
      expect(said({ ansible_ssh_private_key_file: '' }, { ...defaults, privateKeyPath: missing })).toEqual({ errors: [], warnings: [] });
      // a local host uses no key; ssh expands ~user/ and its tokens itself
      expect(said({ ansible_connection: 'local', ansible_ssh_private_key_file: missing })).toEqual({ errors: [], warnings: [] });
      for (const p of ['~deploy/.ssh/id_ed25519', '/keys/%r/id', `\${HOME}/none`])
        expect(said({ ansible_ssh_private_key_file: p }), p).toEqual({ errors: [], warnings: [] });
      // ~user/ reaches ssh as written (ssh expands another user's home), not as a folder of the cwd
      expect(connectionFor('h', { ansible_ssh_private_key_file: '~deploy/.ssh/id' }, defaults).openssh.privateKeyPath).toBe('~deploy/.ssh/id');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('host key checking and become set to a word that is no boolean are errors naming the variable (Ansible reads host key checking as off)', () => {
    const notBoolean = (vars: Record<string, unknown>) =>
      connectionSettingsErrors(vars, { ansible_host_key_checking: 'hosts.yml:3' }, defaults).map((e) => `${e.variable} (${e.origin}): ${e.message}`);
    expect(notBoolean({ ansible_host_key_checking: 'Ture' })).toEqual([
      'ansible_host_key_checking (hosts.yml:3): "Ture" is not a boolean: write true or false (yes/no, on/off, 1/0, y/n, t/f also do, in any case)',
    ]);
    expect(notBoolean({ ansible_host_key_checking: false, ansible_ssh_host_key_checking: 'strict' })[0]).toMatch(
      /^ansible_ssh_host_key_checking \(inventory\): "strict" is not a boolean/,
    );
    expect(notBoolean({ ansible_become: 'maybe' })[0]).toMatch(/^ansible_become \(inventory\): "maybe" is not a boolean/);
    expect(notBoolean({ ansible_become: 2 })[0]).toMatch(/^ansible_become \(inventory\): "2" is not a boolean/);
    expect(notBoolean({ ansible_connection: 'paramiko', ansible_paramiko_host_key_checking: 'enabled' })[0]).toMatch(/^ansible_paramiko_host_key_checking/);
    // the names the host's transport reads: paramiko's own does not hide an ssh host's typo, nor count there
    expect(notBoolean({ ansible_ssh_host_key_checking: 'Ture', ansible_paramiko_host_key_checking: true })[0]).toMatch(
      /^ansible_ssh_host_key_checking \(inventory\): "Ture"/,
    );
    expect(notBoolean({ ansible_paramiko_host_key_checking: 'enabled' })).toEqual([]);
    for (const ok of [true, 'no', 'Yes', 0, 1, '']) expect(notBoolean({ ansible_host_key_checking: ok, ansible_become: ok }), String(ok)).toEqual([]);
  });

  it("options that break the scripts' way in (stdin, a command of the toolkit's, no terminal) are errors naming them and their source; the rest passes", () => {
    const bad =
      '-tt -o RequestTTY=force -n -qN -o RemoteCommand=top -o SessionType=none -o StdinNull=yes -f -s -o ForkAfterAuthentication=yes -G -4V -lbob -t -qo RequestTTY=true -oStdinNull=true';
    expect(errorsOf({ ansible_ssh_common_args: bad }).map((e) => e.message.split(' cannot')[0])).toEqual([
      '-tt',
      '-o RequestTTY=force',
      '-n',
      '-qN',
      '-o RemoteCommand=top',
      '-o SessionType=none',
      '-o StdinNull=yes',
      '-f',
      '-s',
      '-o ForkAfterAuthentication=yes',
      '-G',
      '-4V',
      '-t',
      '-o RequestTTY=true',
      '-o StdinNull=true',
    ]);
    expect(errorsOf({ ansible_ssh_extra_args: '-t' })[0]).toMatchObject({
      variable: 'ansible_ssh_extra_args',
      message: expect.stringMatching(/^-t cannot be honoured: the toolkit sends its scripts/),
    });
    expect(errorsOf({}, { ...defaults, sshArgs: '-C -tt' })[0]).toMatchObject({ variable: 'ssh_args', message: expect.stringMatching(/^-tt cannot/) });
    // values are not flags; what does not touch stdin or the terminal passes
    const fine =
      '-C -T -q -vvv -F /etc/ssh/site.conf -i /k/id_n -l nfs -p 2222 -qp 2222 -o RequestTTY=no -o RemoteCommand=none -o ControlMaster=auto -J jump -S /s -4 -A';
    expect(errorsOf({ ansible_ssh_common_args: fine })).toEqual([]);
  });

  it('ansible_timeout (or ansible_ssh_timeout) that is no whole number of seconds, or one past what Node timers wait, is an error naming it', () => {
    for (const bad of ['abc', '0', '2.5', '3000000']) {
      expect(errorsOf({ ansible_timeout: bad })).toEqual([
        { variable: 'ansible_timeout', origin: 'inventory', message: `needs a whole number of seconds from 1 to 2000000 (~23 days), not "${bad}"` },
      ]);
    }
    expect(errorsOf({ ansible_ssh_timeout: 30 })).toEqual([]);
    expect(errorsOf({ ansible_timeout: '' })).toEqual([]);
  });

  it('paramiko refuses every option it cannot honour, naming it; what it does honour passes', () => {
    const vars = (common: string) => ({ ansible_connection: 'paramiko', ansible_ssh_common_args: common });
    expect(errorsOf(vars('-o UserKnownHostsFile=/k -o StrictHostKeyChecking=yes -J a@b -o ProxyCommand="ssh -W %h:%p bastion"'))).toEqual([]);
    const refused = errorsOf(
      vars('-F /etc/ssh/site.conf -o IdentityAgent=/run/agent.sock -o CertificateFile=/k-cert.pub -o ProxyCommand="nc -X 5 -x socks:1080 %h %p"'),
    );
    expect(refused.map((e) => e.message)).toEqual([
      expect.stringMatching(/^-F \/etc\/ssh\/site\.conf cannot be honoured by ansible_connection=paramiko; use ansible_connection=ssh/),
      expect.stringMatching(/^-o IdentityAgent=\/run\/agent\.sock cannot be honoured/),
      expect.stringMatching(/^-o CertificateFile=\/k-cert\.pub cannot be honoured/),
      expect.stringMatching(/^-o ProxyCommand=nc -X 5 -x socks:1080 %h %p \(only the "ssh -W %h:%p \[user@\]bastion" form/),
    ]);
    expect(refused.every((e) => e.variable === 'ansible_ssh_common_args' && e.origin === 'group_vars/all.yml')).toBe(true);
    // StrictHostKeyChecking: yes or no; accept-new (records a new key) and ask (asks on a
    // terminal) it cannot do, and read as yes the host would fail for a reason never set.
    expect(errorsOf(vars('-o StrictHostKeyChecking=no'))).toEqual([]);
    expect(errorsOf(vars('-o StrictHostKeyChecking=accept-new -o StrictHostKeyChecking=ask')).map((e) => e.message)).toEqual([
      expect.stringMatching(
        /^-o StrictHostKeyChecking=accept-new \(only yes or no: the in-process client neither records a new host key nor asks\) cannot be honoured/,
      ),
      expect.stringMatching(/^-o StrictHostKeyChecking=ask \(only yes or no/),
    ]);
    // --ssh-extra-args counts too.
    expect(errorsOf({ ansible_connection: 'paramiko' }, { ...defaults, sshExtraArgs: '-A' })).toEqual([
      expect.objectContaining({ variable: 'ansible_ssh_extra_args', message: expect.stringMatching(/^-A cannot be honoured/) }),
    ]);
    // The same options through OpenSSH are fine.
    expect(errorsOf({ ansible_ssh_common_args: '-F /etc/ssh/site.conf -o IdentityAgent=/run/agent.sock' })).toEqual([]);
    // Options of the bastion hop inside the FAQ's ProxyCommand (its own key, config): refused, not dropped.
    for (const option of ['-i /keys/bastion.pem', '-F /etc/bastion.cfg', '-o IdentitiesOnly=yes', '-oUser=ops']) {
      expect(errorsOf(vars(`-o ProxyCommand="ssh ${option} -W %h:%p jump@bastion"`)).map((e) => e.message)).toEqual([
        expect.stringMatching(/\(only the "ssh -W %h:%p \[user@\]bastion" form is understood, without options of the bastion hop/),
      ]);
    }
    // ssh_args from ansible.cfg / ANSIBLE_SSH_ARGS: connection reuse and -C ask nothing of paramiko;
    // a jump host or any other option there is refused (it would be dropped: a direct connection).
    const cfgArgs = (sshArgs: string) => errorsOf({ ansible_connection: 'paramiko' }, { ...defaults, sshArgs });
    expect(cfgArgs('-C -o ControlMaster=auto -o ControlPersist=60s -o ControlPath=/tmp/%C')).toEqual([]);
    expect(cfgArgs('-C -o ControlPersist=60s -o ProxyJump=jump@bastion -J b2 -o ServerAliveInterval=5')).toEqual([
      expect.objectContaining({
        variable: 'ssh_args',
        message: expect.stringMatching(/^-o ProxyJump=jump@bastion cannot be honoured by ansible_connection=paramiko/),
      }),
      expect.objectContaining({ variable: 'ssh_args', message: expect.stringMatching(/^-J b2 cannot be honoured/) }),
      expect.objectContaining({ variable: 'ssh_args', message: expect.stringMatching(/^-o ServerAliveInterval=5 cannot be honoured/) }),
    ]);
    // Through OpenSSH, ssh_args are OpenSSH's own.
    expect(errorsOf({}, { ...defaults, sshArgs: '-o ProxyJump=jump@bastion' })).toEqual([]);
  });

  it('a password with a line break inside it is an error naming the variable, never the value; one at the end is fine, as with Ansible', () => {
    const inside = errorsOf({ ansible_become_password: 'first-line\nsecond-line', ansible_ssh_pass: 'ssh-first\r\nssh-second' });
    expect(inside).toEqual([
      expect.objectContaining({ variable: 'ansible_ssh_pass', origin: 'inventory', message: expect.stringMatching(/line break inside it/) }),
      expect.objectContaining({ variable: 'ansible_become_password', origin: 'inventory', message: expect.stringMatching(/line break inside it/) }),
    ]);
    expect(JSON.stringify(inside)).not.toMatch(/first-line|second-line|ssh-first|ssh-second/);
    // Ansible uses the last of the plugin's variables that is set: an earlier one is not used.
    expect(errorsOf({ ansible_become_password: 'a\nb', ansible_sudo_pass: 'one-line' })).toEqual([]);
    expect(errorsOf({ ansible_become_password: 'one-line', ansible_sudo_pass: 'a\nb' })).toEqual([expect.objectContaining({ variable: 'ansible_sudo_pass' })]);
    expect(errorsOf({ ansible_become_pass: 'vaulted-file\n' })).toEqual([]);
  });

  it('a connection the toolkit does not have is an error naming where it came from', () => {
    expect(errorsOf({ ansible_connection: 'winrm' })).toEqual([
      expect.objectContaining({ variable: 'ansible_connection', message: expect.stringContaining('"winrm" is not a connection') }),
    ]);
    expect(errorsOf({}, { ...defaults, transport: 'docker', transportOrigin: '-c' })).toEqual([
      expect.objectContaining({ variable: 'connection', origin: '-c' }),
    ]);
    expect(errorsOf({ ansible_connection: 'smart' })).toEqual([]);
    expect(errorsOf({ ansible_connection: 'ansible.builtin.paramiko_ssh' })).toEqual([]);
    expect(errorsOf({ ansible_ssh_executable: '/nonexistent/ssh' })).toEqual([expect.objectContaining({ variable: 'ansible_ssh_executable' })]);
  });

  it("an option of Ansible's sh plugin the toolkit does not implement is an error naming it, unless at its default", () => {
    expect(errorsOf({ ansible_shell_type: 'csh' }).map((e) => [e.variable, e.origin])).toEqual([['ansible_shell_type', 'inventory']]);
    expect(errorsOf({ ansible_shell_type: 'csh' })[0]!.message).toMatch(/^"csh" is not supported: the toolkit's commands are written for a POSIX sh/);
    // Ansible's defaults, written out, and the variables that change nothing here
    const defaultsWritten = {
      ansible_become_exe: 'sudo',
      ansible_become_flags: '-n -H -S',
      ansible_sshpass_prompt: '',
      ansible_shell_type: 'sh',
      ansible_python_interpreter: '/usr/bin/python3',
      ansible_pipelining: true,
      ansible_ssh_transfer_method: 'scp',
    };
    expect(errorsOf(defaultsWritten)).toEqual([]);
  });

  it('ansible_become_flags / ansible_sudo_flags / become_flags: sudo gets them (the last name set wins); what sudo cannot do for the toolkit is an error naming the option', () => {
    const d = { ...defaults, become: true };
    expect(connectionFor('h', {}, d).become?.flags).toEqual(['-H', '-S', '-n']);
    expect(connectionFor('h', { ansible_sudo_flags: '-H -S -n -E', ansible_become_flags: '-i' }, d).become?.flags).toEqual(['-H', '-S', '-n', '-E']);
    expect(connectionFor('h', {}, { ...d, becomeFlags: '-HSn --preserve-env=LANG' }).become?.flags).toEqual(['-H', '-S', '-n', '--preserve-env=LANG']);
    // Set empty in the inventory: no flags at all, as in Ansible (not ansible.cfg's).
    expect(connectionFor('h', { ansible_become_flags: '' }, { ...d, becomeFlags: '-i' }).become?.flags).toEqual([]);
    const become = { ansible_become: true };
    expect(errorsOf({ ...become, ansible_become_flags: '-i --preserve-env=PATH' })).toEqual([]);
    expect(errorsOf({ ...become, ansible_become_flags: '-u admin' })).toEqual([
      {
        variable: 'ansible_become_flags',
        origin: 'inventory',
        message: expect.stringMatching(/^"-u" cannot be honoured: the user to become is ansible_become_user/),
      },
    ]);
    expect(errorsOf({ ...become, ansible_become_flags: '-i', ansible_sudo_flags: '-b' })).toEqual([
      expect.objectContaining({ variable: 'ansible_sudo_flags' }),
    ]);
    expect(errorsOf({ ...become, ansible_sudo_flags: '-X' })[0]!.message).toMatch(
      /^word 1 is not a sudo option the toolkit knows; these are sudo's options \(Ansible's default: -H -S -n\)/,
    );
    // Read only where sudo runs, as Ansible reads them only when becoming.
    expect(errorsOf({ ansible_become_flags: '-u admin' })).toEqual([]);
    // From ansible.cfg: named by where it was written.
    expect(
      connectionSettingsErrors(
        {},
        {},
        { ...defaults, become: true, becomeFlags: '--askpass', becomeFlagsOrigin: '/etc/ansible/ansible.cfg [privilege_escalation] become_flags' },
      ),
    ).toEqual([
      {
        variable: 'become_flags',
        origin: '/etc/ansible/ansible.cfg [privilege_escalation] become_flags',
        message: expect.stringMatching(/^"--askpass" cannot be honoured/),
      },
    ]);
  });

  it("ansible_become_exe / ansible_sudo_exe / become_exe: the program run instead of sudo, with sudo's arguments (an audit wrapper); one word only", () => {
    const d = { ...defaults, become: true };
    expect(connectionFor('h', { ansible_become_exe: 'sudo', ansible_sudo_exe: '/opt/audit-sudo' }, d).become).toEqual({
      user: 'root',
      exe: '/opt/audit-sudo',
      flags: ['-H', '-S', '-n'],
    });
    expect(connectionFor('h', {}, { ...d, becomeExe: '/opt/cfg-sudo' }).become).toEqual({ user: 'root', exe: '/opt/cfg-sudo', flags: ['-H', '-S', '-n'] });
    expect(connectionFor('h', { ansible_become_exe: 'sudo' }, { ...d, becomeExe: '/opt/cfg-sudo' }).become).toEqual({
      user: 'root',
      flags: ['-H', '-S', '-n'],
    });
    expect(errorsOf({ ansible_become: true, ansible_become_exe: '/opt/audit sudo' })).toEqual([
      expect.objectContaining({ variable: 'ansible_become_exe', message: expect.stringContaining('one program') }),
    ]);
    expect(errorsOf({ ansible_become: true, ansible_become_exe: '/opt/audit-sudo' })).toEqual([]);
    // Empty is sudo, as in Ansible; without become it is not read.
    expect(errorsOf({ ansible_become: true, ansible_become_exe: '' })).toEqual([]);
    expect(errorsOf({ ansible_become_exe: '/opt/audit sudo' })).toEqual([]);
    // From ansible.cfg: checked the same, named by where it was written.
    expect(errorsOf({}, { ...defaults, become: true, becomeExe: '/opt/audit sudo', becomeExeOrigin: 'env: ANSIBLE_SUDO_EXE' })).toEqual([
      expect.objectContaining({ variable: 'become_exe', origin: 'env: ANSIBLE_SUDO_EXE', message: expect.stringContaining('one program') }),
    ]);
  });

  it('ansible_become_user / become_user other than root is a settings error before any host is touched: the scripts need root (sudo -u alloy bash could not even read its script)', () => {
    const message = (user: string) =>
      `is ${JSON.stringify(user)}, but trento-provision's scripts must run as root (they install packages and write under /etc): leave it unset, or set it to root`;
    expect(errorsOf({ ansible_become: true, ansible_become_user: 'alloy' })).toEqual([
      { variable: 'ansible_become_user', origin: 'inventory', message: message('alloy') },
    ]);
    // Ansible's later name wins, as it does for the user
    expect(errorsOf({ ansible_become: true, ansible_become_user: 'root', ansible_sudo_user: 'admin' }).map((e) => e.variable)).toEqual(['ansible_sudo_user']);
    for (const root of ['root', '0', '#0', '']) expect(errorsOf({ ansible_become: true, ansible_become_user: root }), root).toEqual([]);
    // Not read without become (the login user runs the scripts; the facts say when it is not root).
    expect(errorsOf({ ansible_become_user: 'alloy' })).toEqual([]);
    // --become-user / ansible.cfg
    expect(errorsOf({}, { ...defaults, become: true, becomeUser: 'alloy' })).toEqual([
      { variable: 'become_user', origin: '--become-user or ansible.cfg', message: message('alloy') },
    ]);
  });

  it('ansible_ssh_retries / retries: how many times more an unreachable host is connected (ssh only, as in Ansible); not a number is an error', () => {
    expect(connectionFor('h', { ansible_ssh_retries: '3' }, defaults).retries).toBe(3);
    expect(connectionFor('h', {}, { ...defaults, retries: 2 }).retries).toBe(2);
    expect(connectionFor('h', { ansible_ssh_retries: 0 }, { ...defaults, retries: 2 }).retries).toBe(0);
    expect(connectionFor('h', { ansible_ssh_retries: 3, ansible_connection: 'paramiko' }, defaults).retries).toBe(0);
    expect(errorsOf({ ansible_ssh_retries: 'three' })).toEqual([
      expect.objectContaining({ variable: 'ansible_ssh_retries', message: expect.stringContaining('needs a whole number') }),
    ]);
    expect(errorsOf({ ansible_ssh_retries: 5 })).toEqual([]);
  });

  it("two of Ansible's names for one setting: the last in the ssh plugin's list wins, as ansible -vvv shows (ansible_ssh_host, _ssh_port, _ssh_user, _ssh_private_key_file, _ssh_timeout)", () => {
    const both = {
      ansible_host: '127.0.0.2',
      ansible_ssh_host: '127.0.0.3',
      ansible_port: 1001,
      ansible_ssh_port: 1002,
      ansible_user: 'ua',
      ansible_ssh_user: 'ub',
      ansible_private_key_file: '/tmp/ka',
      ansible_ssh_private_key_file: '/tmp/kb',
      ansible_timeout: 3,
      ansible_ssh_timeout: 4,
      ansible_password: 'pa',
      ansible_ssh_pass: 'pb',
    };
    // ansible-core 2.14, same variables: ssh ... -o Port=1002 -o 'IdentityFile="/tmp/kb"' -o 'User="ub"' -o ConnectTimeout=4 ... 127.0.0.3
    expect(connectionFor('h', both, defaults)).toMatchObject({
      address: '127.0.0.3',
      port: 1002,
      user: 'ub',
      privateKeyPath: '/tmp/kb',
      timeoutMs: 4000,
      openssh: { destination: '127.0.0.3', port: 1002, user: 'ub', privateKeyPath: '/tmp/kb', password: 'pb' },
    });
  });

  it('ansible_sshpass_prompt / sshpass_prompt: the prompt sshpass answers; the ssh variable wins over ansible.cfg', () => {
    expect(connectionFor('h', { ansible_password: 'pw', ansible_sshpass_prompt: 'Kennwort:' }, defaults).openssh).toMatchObject({ sshpassPrompt: 'Kennwort:' });
    expect(connectionFor('h', { ansible_password: 'pw' }, { ...defaults, sshpassPrompt: 'Mot de passe' }).openssh.sshpassPrompt).toBe('Mot de passe');
    expect(
      connectionFor('h', { ansible_password: 'pw', ansible_sshpass_prompt: '' }, { ...defaults, sshpassPrompt: 'x' }).openssh.sshpassPrompt,
    ).toBeUndefined();
  });

  it('ansible_ssh_pkcs11_provider / pkcs11_provider: as Ansible, the token\'s options first (they win), the PIN is the password that sshpass gives at "Enter PIN for "', () => {
    const token = {
      ansible_password: '4321',
      ansible_ssh_pkcs11_provider: '/usr/lib/softhsm/libsofthsm2.so',
      ansible_ssh_args: '-o PreferredAuthentications=password',
    };
    const spec = connectionFor('h', token, defaults).openssh;
    expect(spec).toMatchObject({ pkcs11Provider: '/usr/lib/softhsm/libsofthsm2.so', sshpassPrompt: 'Enter PIN for ', password: '4321' });
    expect(argvOf(token).slice(0, 10)).toEqual([
      'ssh',
      '-o',
      'KbdInteractiveAuthentication=no',
      '-o',
      'PreferredAuthentications=publickey',
      '-o',
      'PasswordAuthentication=no',
      '-o',
      'PKCS11Provider="/usr/lib/softhsm/libsofthsm2.so"',
      '-o',
    ]);
    expect(argvOf(token).join(' ')).not.toContain('4321');
    // An sshpass_prompt set is kept; from ansible.cfg, the variable wins; empty is none.
    expect(connectionFor('h', { ...token, ansible_sshpass_prompt: 'PIN:' }, defaults).openssh.sshpassPrompt).toBe('PIN:');
    expect(connectionFor('h', { ansible_password: 'x' }, { ...defaults, pkcs11Provider: '/cfg/p11.so' }).openssh.pkcs11Provider).toBe('/cfg/p11.so');
    expect(
      connectionFor('h', { ansible_password: 'x', ansible_ssh_pkcs11_provider: '' }, { ...defaults, pkcs11Provider: '/cfg/p11.so' }).openssh.pkcs11Provider,
    ).toBeUndefined();
    expect(errorsOf(token)).toEqual([]);
    // The password as ssh gets it decides: set empty it is none, also over -k (Ansible: "you must specify a password/pin").
    expect(connectionSettingsErrors({ ...token, ansible_password: '' }, {}, { ...defaults, password: 'typed' })).toEqual([
      expect.objectContaining({ variable: 'ansible_ssh_pkcs11_provider', message: expect.stringMatching(/^needs the token's PIN/) }),
    ]);
    expect(connectionSettingsErrors({ ansible_ssh_pkcs11_provider: token.ansible_ssh_pkcs11_provider }, {}, { ...defaults, password: 'typed' })).toEqual([]);
    // Set empty in the inventory, the provider of ANSIBLE_PKCS11_PROVIDER is off: a plain key login.
    expect(
      connectionSettingsErrors(
        { ansible_ssh_pkcs11_provider: '' },
        {},
        { ...defaults, pkcs11Provider: '/p11.so', pkcs11ProviderOrigin: 'env: ANSIBLE_PKCS11_PROVIDER' },
      ),
    ).toEqual([]);
    // Without a PIN (Ansible refuses too), and through paramiko: settings errors naming the setting.
    expect(errorsOf({ ansible_ssh_pkcs11_provider: '/usr/lib/softhsm/libsofthsm2.so' })).toEqual([
      { variable: 'ansible_ssh_pkcs11_provider', origin: 'inventory', message: expect.stringMatching(/^needs the token's PIN as the SSH password/) },
    ]);
    expect(connectionSettingsErrors({}, {}, { ...defaults, pkcs11Provider: '/p11.so', pkcs11ProviderOrigin: 'env: ANSIBLE_PKCS11_PROVIDER' })).toEqual([
      expect.objectContaining({ variable: 'pkcs11_provider', origin: 'env: ANSIBLE_PKCS11_PROVIDER' }),
    ]);
    expect(errorsOf({ ...token, ansible_connection: 'paramiko', ansible_ssh_args: '' })).toEqual([
      expect.objectContaining({ variable: 'ansible_ssh_pkcs11_provider', message: expect.stringMatching(/ansible_connection=paramiko does not run/) }),
    ]);
    const wrongPin = `debug1: Authenticating to 10.0.0.5:22 as 'root'\nPKCS#11 login failed: PIN incorrect\nroot@10.0.0.5: Permission denied (publickey).\n`;
    expect(connectFailure(connectionFor('h', token, defaults), 255, wrongPin).message).toBe(
      'authentication failed for root@10.0.0.5:22: the PKCS#11 token refused the PIN (PIN incorrect); check ansible_password / -k',
    );
    expect(connectFailure(connectionFor('h', token, defaults), 5, '').message).toMatch(
      /the PKCS#11 token's PIN was refused \(sshpass\); check ansible_password \/ -k/,
    );
  });

  it('a control_path_dir another account could write to (or a folder above it) is refused before the run makes its folder there; a sticky one is fine', async () => {
    const { connector } = await import('../../../src/exec/connector.ts');
    const open = join(dir, 'cp-open');
    mkdirSync(join(open, 'cp'), { recursive: true });
    chmodSync(open, 0o777); // group- and world-writable, no sticky bit: anyone can rename cp away
    const sticky = join(dir, 'cp-sticky');
    mkdirSync(sticky, { mode: 0o700 });
    chmodSync(sticky, 0o1777);
    const sessions = connector();
    try {
      await expect(sessions.open(connectionFor('h', { ansible_control_path_dir: join(open, 'cp') }, defaults))).rejects.toThrow(
        new RegExp(`${open} can be written by its group or by others \\(mode 0777\\): another account could put its own folder.*point control_path_dir`),
      );
      const ok = await sessions.open(connectionFor('h', { ansible_control_path_dir: join(sticky, 'cp') }, defaults));
      expect(ok.host).toBe('h');
    } finally {
      await sessions.close();
    }
    expect(readdirSync(join(open, 'cp'))).toEqual([]); // no run folder made there
  });

  it('a control_path_dir that is a link is judged and used where it points when the run starts: pointed elsewhere later, it leads the run nowhere', async () => {
    const { connector } = await import('../../../src/exec/connector.ts');
    const real = join(dir, 'cp-real');
    const other = join(dir, 'cp-other');
    mkdirSync(real, { mode: 0o700 });
    mkdirSync(other, { mode: 0o700 });
    const link = join(dir, 'cp-link');
    symlinkSync(real, link);
    const sessions = connector();
    await sessions.open(connectionFor('h', { ansible_control_path_dir: link }, defaults));
    expect(readdirSync(real).filter((n) => n.startsWith('tp-ssh-'))).toHaveLength(1);
    // the link's owner points it elsewhere during the run: the run's folder is still the one it made
    rmSync(link);
    symlinkSync(other, link);
    await sessions.close();
    expect(readdirSync(real)).toEqual([]);
    expect(readdirSync(other)).toEqual([]);
  });

  it("control_path (Ansible's template) and ansible_control_path_dir: used as Ansible's ssh plugin uses them, inside the run's private folder", () => {
    expect(expandControlPath('%(directory)s/ansible-%%h-%%p-%%r', '/run/d')).toBe('/run/d/ansible-%h-%p-%r');
    expect(expandControlPath('%(directory)s/%%C', '/d')).toBe('/d/%C');
    expect(expandControlPath('/tmp/%C', '/d')).toBeUndefined(); // Python: unsupported format character
    expect(expandControlPath('%(dir)s/x', '/d')).toBeUndefined(); // Python: KeyError
    // Applied where Ansible applies it: ssh_args ask for ControlPersist and set no ControlPath.
    const socket = '/run/tp-ssh-x/c0';
    const templated = argvOf({ ansible_control_path: '%(directory)s/cm-%%h' });
    expect(firstOption(templated, 'ControlPath')).toBe(`"${socket}.d/cm-%h"`);
    expect(templated.filter((a) => a.startsWith('ControlPath='))).toEqual([`ControlPath="${socket}.d/cm-%h"`, `ControlPath="${socket}"`]);
    expect(firstOption(argvOf({ ansible_control_path: '%(directory)s/cm-%%h', ansible_ssh_args: '-o ControlMaster=auto' }), 'ControlPath')).toBe(`"${socket}"`);
    expect(
      firstOption(argvOf({ ansible_control_path: '%(directory)s/x', ansible_ssh_args: '-o ControlPersist=60s -o ControlPath=/a/%C' }), 'ControlPath'),
    ).toBe('/a/%C');
    expect(firstOption(argvOf({}, { ...defaults, controlPath: '%(directory)s/cfg-%%C' }), 'ControlPath')).toBe(`"${socket}.d/cfg-%C"`);
    // The admin's ControlPath in the common or extra args wins over the template, and ControlPersist
    // there asks for the template as in ssh_args (Ansible searches the whole command line).
    const admins = '-o ControlPath=/home/admin/.ssh/cm-%r';
    expect(firstOption(argvOf({ ansible_control_path: '%(directory)s/x', ansible_ssh_common_args: admins }), 'ControlPath')).toBe('/home/admin/.ssh/cm-%r');
    expect(firstOption(argvOf({ ansible_control_path: '%(directory)s/x', ansible_ssh_extra_args: admins }), 'ControlPath')).toBe('/home/admin/.ssh/cm-%r');
    const persistLater = { ansible_control_path: '%(directory)s/x', ansible_ssh_args: '-C', ansible_ssh_common_args: '-o ControlPersist=30s' };
    expect(firstOption(argvOf(persistLater), 'ControlPath')).toBe(`"${socket}.d/x"`);
    expect(firstOption(argvOf({ ansible_control_path: '' }, { ...defaults, controlPath: '%(directory)s/cfg-%%C' }), 'ControlPath')).toBe(`"${socket}"`);
    // One round trip per host (--check): no master in the run's folder (ControlPath=none last),
    // but a ControlPath the admin chose still comes first and wins.
    const single = (vars: Record<string, unknown>, d = defaults) => sshArgv(connectionFor('db1', vars, d).openssh, 10, control, false);
    const paths = (argv: string[]) => argv.filter((a) => /^ControlPath=/i.test(a));
    expect(paths(single({}))).toEqual(['ControlPath=none']);
    expect(paths(single({ ansible_control_path: '%(directory)s/cm-%%h' }))).toEqual(['ControlPath=none']);
    expect(paths(single({ ansible_control_path: '/run/admin/cm-%%h' }))).toEqual(['ControlPath="/run/admin/cm-%h"', 'ControlPath=none']);
    // "In the run's folder" with `..` resolved: beside the host's template folder is inside it,
    // a template that climbs out of it is the admin's.
    expect(paths(single({ ansible_control_path: '%(directory)s-cm-%%h' }))).toEqual(['ControlPath=none']);
    expect(paths(single({ ansible_control_path: '%(directory)s/../../x-%%h' }))).toEqual(['ControlPath="/run/tp-ssh-x/c0.d/../../x-%h"', 'ControlPath=none']);
    expect(firstOption(single({ ansible_ssh_args: '-o ControlMaster=auto -o ControlPersist=60s -o ControlPath=/a/%C' }), 'ControlPath')).toBe('/a/%C');
    const viaS = single({ ansible_ssh_common_args: '-S /a/s' });
    expect(viaS.indexOf('-S')).toBeGreaterThan(0);
    expect(viaS.indexOf('-S')).toBeLessThan(viaS.indexOf('ControlPath=none'));
    // A template Ansible could not format: a settings error naming where it came from.
    expect(errorsOf({ ansible_control_path: '/tmp/%C' })).toEqual([
      expect.objectContaining({ variable: 'ansible_control_path', origin: 'inventory', message: expect.stringMatching(/^is formatted with Python's %/) }),
    ]);
    expect(connectionSettingsErrors({}, {}, { ...defaults, controlPath: '~/%r', controlPathOrigin: 'env: ANSIBLE_SSH_CONTROL_PATH' })).toEqual([
      expect.objectContaining({ variable: 'control_path', origin: 'env: ANSIBLE_SSH_CONTROL_PATH' }),
    ]);
    // ansible_control_path_dir: the host's folder for the run's control folder, ~ and relative paths as Ansible reads them.
    expect(connectionFor('h', { ansible_control_path_dir: 'cp' }, defaults).controlPathDir).toBe(resolve('cp'));
    expect(connectionFor('h', { ansible_control_path_dir: '~/.ansible/cp' }, defaults).controlPathDir).toBe(join(homedir(), '.ansible/cp'));
    expect(connectionFor('h', { ansible_control_path_dir: '' }, defaults).controlPathDir).toBeUndefined();
  });

  it('a later name set empty means no value, as in Ansible: no password (no sshpass), no user option; paramiko reads its own names last', () => {
    const empty = connectionFor(
      'h',
      { ansible_password: 'secret', ansible_ssh_pass: '', ansible_user: 'ua', ansible_ssh_user: '' },
      { ...defaults, user: 'cfguser' },
    );
    expect(empty.openssh.password).toBeUndefined();
    expect(empty.openssh.user).toBeUndefined();
    expect(argvOf({ ansible_password: 'secret', ansible_ssh_pass: '' })).toContain('BatchMode=yes');
    expect(connectionSettingsErrors({ ansible_password: 'secret', ansible_ssh_pass: '' }, {}, defaults, { PATH: '/nonexistent' })).not.toContainEqual(
      expect.objectContaining({ message: expect.stringContaining('sshpass') }),
    );
    const paramiko = connectionFor(
      'h',
      {
        ansible_connection: 'paramiko',
        ansible_password: 'old',
        ansible_paramiko_pass: 'new',
        ansible_paramiko_host_key_checking: false,
        ansible_paramiko_user: 'pu',
      },
      defaults,
    );
    expect(paramiko).toMatchObject({ password: 'new', strictHostKeyChecking: false, user: 'pu' });
    // The ssh connection does not read paramiko's names.
    expect(connectionFor('h', { ansible_password: 'old', ansible_paramiko_pass: 'new' }, defaults).openssh.password).toBe('old');
  });

  it('ansible_sudo_user is the become user, over ansible_become_user, as in Ansible; remote_port applies below ansible_port', () => {
    const d = { ...defaults, become: true, port: 2222 };
    expect(connectionFor('h', { ansible_sudo_user: 'sapadm' }, d)).toMatchObject({ become: { user: 'sapadm' }, port: 2222, openssh: { port: 2222 } });
    // Both set: ansible_sudo_user, the last in the sudo plugin's list (ansible-core: `ansible -b -m command -a whoami` says so).
    expect(connectionFor('h', { ansible_become_user: 'root', ansible_sudo_user: 'sapadm', ansible_port: 22 }, d)).toMatchObject({
      become: { user: 'sapadm' },
      port: 22,
    });
  });
});

describe('when sudo runs (become on)', () => {
  const d = { ...defaults, become: true };
  const usesSudo = (vars: Record<string, unknown>, dd: ConnectionDefaults = d) => /^sudo /.test(remoteShell(connectionFor('h', vars, dd)).command);

  it("always when OpenSSH's own configuration picks the login user (no ansible_user, no -u), as Ansible always runs sudo", () => {
    // ssh_config's `User sapadm` would make the login sapadm, whoever runs the toolkit.
    expect(usesSudo({})).toBe(true);
    expect(usesSudo({ ansible_ssh_common_args: '-F /etc/ssh/fleet.conf' })).toBe(true);
    // Known to be the user to become already: no sudo (which a root login may not even have).
    expect(usesSudo({ ansible_user: 'root' })).toBe(false);
    expect(usesSudo({}, { ...d, user: 'root' })).toBe(false);
    expect(usesSudo({ ansible_user: 'sapadm' })).toBe(true);
    expect(usesSudo({ ansible_user: 'sapadm', ansible_become_user: 'sapadm' })).toBe(false);
    // The in-process client logs in as the user it is given (ansible_user, else this process's).
    expect(usesSudo({ ansible_connection: 'paramiko', ansible_user: 'root' })).toBe(false);
    expect(usesSudo({ ansible_connection: 'paramiko', ansible_user: 'sapadm' })).toBe(true);
    // ansible_connection=local: this process's own user, whatever $USER says.
    expect(usesSudo({ ansible_connection: 'local', ansible_become_user: userInfo().username })).toBe(false);
    expect(usesSudo({ ansible_connection: 'local', ansible_become_user: `not-${userInfo().username}` })).toBe(true);
  });

  it('become_allow_same_user = True (ansible.cfg, ANSIBLE_BECOME_ALLOW_SAME_USER): sudo even where the login user is the user to become, as Ansible', () => {
    const cfgDir = mkdtempSync(join(dir, 'same-user-'));
    writeFileSync(join(cfgDir, 'ansible.cfg'), '[privilege_escalation]\nbecome = true\nbecome_allow_same_user = yes\n');
    const cli = (env: NodeJS.ProcessEnv) => parseCli(['-i', dir], { ANSIBLE_CONFIG: join(cfgDir, 'ansible.cfg'), ...env }, repoRoot, { cwd: cfgDir });
    const from = (env: NodeJS.ProcessEnv) => ({ ...d, becomeAllowSameUser: cli(env).become.allowSameUser });
    expect(usesSudo({ ansible_user: 'root' }, from({}))).toBe(true);
    expect(remoteShell(connectionFor('h', { ansible_user: 'root' }, from({}))).command).toMatch(/^sudo -H -S -n -u root -- /);
    expect(usesSudo({ ansible_user: 'root' }, from({ ANSIBLE_BECOME_ALLOW_SAME_USER: 'no' }))).toBe(false);
    expect(usesSudo({ ansible_user: 'sapadm', ansible_become_user: 'sapadm' }, from({}))).toBe(true);
    // not becoming at all: still no sudo
    expect(usesSudo({ ansible_user: 'root', ansible_become: false }, from({}))).toBe(false);
  });

  it("an empty ansible_become_user / ansible_sudo_user is none: sudo without -u (sudo's default target), as Ansible's sudo", () => {
    for (const variable of ['ansible_become_user', 'ansible_sudo_user']) {
      const spec = connectionFor('h', { ansible_user: 'sapadm', [variable]: '' }, d);
      expect(spec.become).not.toHaveProperty('user');
      expect(remoteShell(spec).command).toMatch(/^sudo -H -S -n -- /);
    }
    expect(remoteShell(connectionFor('h', { ansible_user: 'sapadm' }, d)).command).toMatch(/^sudo -H -S -n -u root -- /);
  });
});

describe("ssh's failures, read back from its log", () => {
  const spec = connectionFor('db1', { ansible_host: '10.0.0.5', ansible_ssh_common_args: '-o UserKnownHostsFile=/tmp/kh' }, defaults);
  const head = 'debug1: Connecting to 10.0.0.5 [10.0.0.5] port 22.\ndebug1: Server host key: ssh-ed25519 SHA256:abcDEF123\n';
  it('unknown host key: the fingerprint and the fix', () => {
    const e = connectFailure(
      spec,
      255,
      `${head}No ED25519 host key is known for 10.0.0.5 and you have requested strict checking.\nHost key verification failed.\n`,
    );
    expect(e.failure).toBe('host-key');
    expect(e.message).toMatch(
      /^unknown host key for 10\.0\.0\.5: ssh-ed25519 SHA256:abcDEF123 is not in \/tmp\/kh .*ssh-keyscan -p 22 10\.0\.0\.5 >> \/tmp\/kh/,
    );
  });
  it('changed host key: the offending line and ssh-keygen -R', () => {
    const log = `${head}@@@@@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\nThe fingerprint for the ED25519 key sent by the remote host is\nSHA256:abcDEF123.\nOffending ED25519 key in /tmp/kh:3\nHost key verification failed.\n`;
    const e = connectFailure(spec, 255, log);
    expect(e.message).toMatch(/^HOST KEY CHANGED for 10\.0\.0\.5: .*\/tmp\/kh:3.*ssh-keygen -R '10\.0\.0\.5' -f \/tmp\/kh/);
    // the fingerprint without the period that ends ssh's sentence
    expect(e.message).toContain('SHA256:abcDEF123, which differs');
  });
  it('refused key, refused password, refused connection', () => {
    const auth = connectFailure(spec, 255, `${head}debug1: Authenticating to 10.0.0.5:22 as 'root'\nroot@10.0.0.5: Permission denied (publickey).\n`);
    expect([auth.failure, auth.message]).toEqual([
      'auth',
      expect.stringMatching(/^authentication failed for root@10\.0\.0\.5:22 \(root@10\.0\.0\.5: Permission denied \(publickey\)\.\)/),
    ]);
    expect(connectFailure(spec, 5, '').message).toMatch(/password was refused/);
    // an option ssh refused before -E took effect: on stderr alone; a local failure, named
    const refused = connectFailure(spec, 255, '', 'command-line: line 0: Bad configuration option: bogusoption\n');
    expect([refused.failure, refused.message]).toEqual([
      'local',
      expect.stringMatching(
        /^ssh refused its options before connecting to 10\.0\.0\.5: command-line: line 0: Bad configuration option: bogusoption; check ansible_ssh_args/,
      ),
    ]);
    // one of the toolkit's own options on an OpenSSH older than 7.6 (RHEL 7, SLES 12): not the admin's fault
    const old = connectFailure(spec, 255, '', 'command-line: line 0: Bad configuration option: remotecommand\n');
    expect([old.failure, old.message]).toEqual([
      'local',
      "the OpenSSH client (ssh) does not know remotecommand, which trento-provision sets on every connection (as OpenSSH's own scp does, since OpenSSH 7.6): use OpenSSH 7.6 or later (ansible_ssh_executable), or ansible_connection=paramiko",
    ]);
    // a -q after the toolkit's -v: ssh logged nothing, so nothing tells a refused key from a lost host
    expect(connectFailure(spec, 255, '').message).toBe(
      "cannot reach 10.0.0.5:22: ssh exited 255 and logged nothing: a -q in ssh_args or the common/extra args silences ssh's log; leave it out to see why",
    );
    // The client vanished between the settings check and the run: node's -errno of the exec.
    expect(connectFailure(spec, -2, '').message).toBe('cannot start the OpenSSH client for 10.0.0.5: ssh: ENOENT; check ansible_ssh_executable and PATH');
    const down = connectFailure(
      spec,
      255,
      'debug1: Connecting to 10.0.0.5 [10.0.0.5] port 2222.\nssh: connect to host 10.0.0.5 port 2222: Connection refused\n',
    );
    expect([down.failure, down.message]).toEqual(['unreachable', 'cannot reach 10.0.0.5:2222: ssh: connect to host 10.0.0.5 port 2222: Connection refused']);
  });

  it('the master an ssh made and left in the background, from its -v log; none when it used one that was there or made none', () => {
    const auth = 'Authenticated to 10.0.0.5 ([10.0.0.5]:22) using "publickey".\n';
    const made = `${auth}debug1: setting up multiplex master socket\ndebug1: channel 0: new mux listener [/admin/cm-201eff] (inactive timeout: 0)\ndebug1: control_persist_detach: backgrounding master process\n`;
    expect(masterMadeAt(made)).toBe('/admin/cm-201eff');
    // OpenSSH before 9.2 (SLES 15's 8.4, RHEL 8/9, Ubuntu 22.04) logs the listener as "new [PATH]"
    const before92 = `${auth}debug1: setting up multiplex master socket\ndebug1: channel 0: new [/admin/cm-201eff]\ndebug1: control_persist_detach: backgrounding master process\n`;
    expect(masterMadeAt(before92)).toBe('/admin/cm-201eff');
    // a client of a master that was there: no login, no listener
    expect(masterMadeAt('debug1: auto-mux: Trying existing master\ndebug1: mux_client_request_session: master session id: 2\n')).toBeUndefined();
    // that master refused the session (MaxSessions): ssh logged in itself, without a master
    expect(masterMadeAt(`${auth}ControlSocket /admin/cm-201eff already exists, disabling multiplexing\n`)).toBeUndefined();
    // ControlPersist=no: a master in the foreground, gone with its session
    expect(
      masterMadeAt(`${auth}debug1: setting up multiplex master socket\ndebug1: channel 0: new mux listener [/admin/cm-201eff] (inactive timeout: 0)\n`),
    ).toBeUndefined();
  });

  it('the script ran once the session opened: after its own login, or through a master that was open before (no login logged)', () => {
    expect(sessionOpened('debug1: Authenticating to 10.0.0.5:22 as \'root\'\nAuthenticated to 10.0.0.5 ([10.0.0.5]:22) using "publickey".\n')).toBe(true);
    // OpenSSH 9.2's -v log of a script through the admin's master (this one exited 3)
    expect(sessionOpened('debug1: auto-mux: Trying existing master\ndebug1: mux_client_request_session: master session id: 2\n')).toBe(true);
    // the master is gone (stale socket) and the login fails: no session
    expect(
      sessionOpened(
        'debug1: auto-mux: Trying existing master\ndebug1: Control socket "/admin/cm" does not exist\ndebug1: Connecting to 10.0.0.5 [10.0.0.5] port 22.\nroot@10.0.0.5: Permission denied (publickey).\n',
      ),
    ).toBe(false);
  });

  it("a master's connection lost after the login: what the master logged since, not its login or transfer figures", () => {
    const login = 'debug1: Connecting to 10.0.0.5 [10.0.0.5] port 22.\nAuthenticated to 10.0.0.5 ([10.0.0.5]:22) using "publickey".\n';
    const stats = 'Transferred: sent 22996, received 4480 bytes, in 0.6 seconds\nBytes per second: sent 37426.6, received 7291.3\n';
    expect(masterSaid(`${login}debug1: channel 2: free: client-session, nchannels 1\nTimeout, server 10.0.0.5 not responding.\n${stats}`)).toBe(
      'Timeout, server 10.0.0.5 not responding.',
    );
    // a session ended under the master without the remote command's exit status (the lab's case)
    expect(masterSaid(`${login}debug1: channel 2: free: client-session, nchannels 1\n${stats}debug1: Exit status -1\n`)).toBe(
      "the connection closed before the script's exit status came back",
    );
    // the master could not make its socket: OpenSSH's words and what to change
    expect(masterSaid(`${login}unix_listener: path "/long/cm-ab.XYZ" too long for Unix domain socket\n`)).toBe(
      'unix_listener: path "/long/cm-ab.XYZ" too long for Unix domain socket (shorten the ControlPath of ssh_args, control_path_dir, or TMPDIR, where the run\'s control folder is made by default)',
    );
    // nothing said after the login: nothing to add (the run says the client gave no reason)
    expect(masterSaid(`Warning: Permanently added '10.0.0.5' (ED25519) to the list of known hosts.\n${login}${stats}`)).toBe('');
  });

  it("with -vvvv, a script's stderr without ssh's -vvv lines: a failure's headline is what the host said (sudo's refusal), not ssh's banner", () => {
    const sshLog =
      'OpenSSH_9.2p1 Debian-2+deb12u10, OpenSSL 3.0.19 27 Jan 2026\r\ndebug1: Reading configuration data /etc/ssh/ssh_config\r\ndebug3: mux_client_request_session: entering\nAuthenticated to 10.0.0.5 ([10.0.0.5]:22) using "publickey".\n';
    const said = 'Sorry, try again.\nsudo: 1 incorrect password attempt\n';
    expect(withoutSshLog(`${sshLog}${said}Transferred: sent 2, received 4 bytes, in 0.1 seconds\ndebug1: Exit status 1\n`).trim()).toBe(said.trim());
    expect(withoutSshLog(said)).toBe(said);
  });
});

describe('ProxyJump, read by the in-process client (ansible_connection=paramiko)', () => {
  it('-o ProxyJump= and -J, in ansible_ssh_common_args or _extra_args, with user and port or without', () => {
    expect(connectionFor('t', { ansible_connection: 'paramiko', ansible_ssh_common_args: '-o ProxyJump=admin@bastion.example:2222' }, defaults).jump).toEqual([
      { address: 'bastion.example', port: 2222, user: 'admin' },
    ]);
    expect(connectionFor('t', { ansible_connection: 'paramiko', ansible_ssh_extra_args: "-o 'ProxyJump root@10.0.0.1'" }, defaults).jump).toEqual([
      { address: '10.0.0.1', port: 22, user: 'root' },
    ]);
    expect(
      connectionFor('t', { ansible_connection: 'paramiko', ansible_ssh_common_args: '-o UserKnownHostsFile=/k -J jump1,ops@jump2:23' }, defaults).jump,
    ).toEqual([
      { address: 'jump1', port: 22, user: process.env.USER ?? 'root' },
      { address: 'jump2', port: 23, user: 'ops' },
    ]);
    expect(connectionFor('t', { ansible_connection: 'paramiko', ansible_ssh_common_args: '-Jroot@[fd00::1]:2200' }, defaults).jump).toEqual([
      { address: 'fd00::1', port: 2200, user: 'root' },
    ]);
    expect(connectionFor('t', { ansible_connection: 'paramiko', ansible_ssh_common_args: '-o ProxyJump=none' }, defaults).jump).toEqual([]);
    expect(connectionFor('t', {}, defaults).jump).toBeUndefined();
    // An option given twice: the first value, the one OpenSSH uses (ssh -G says the same).
    expect(
      connectionFor(
        't',
        { ansible_connection: 'paramiko', ansible_ssh_common_args: '-o ProxyJump=first@j1', ansible_ssh_extra_args: '-o ProxyJump=second@j2' },
        defaults,
      ).jump,
    ).toEqual([{ address: 'j1', port: 22, user: 'first' }]);
    expect(
      connectionFor(
        't',
        { ansible_connection: 'paramiko', ansible_ssh_common_args: '-J first@j1 -o UserKnownHostsFile=/a -o UserKnownHostsFile=/b' },
        defaults,
      ),
    ).toMatchObject({
      jump: [{ address: 'j1', port: 22, user: 'first' }],
      knownHostsFiles: ['/a'],
    });
    expect(parseJumpHosts('ssh://a@b:5', 'me')).toEqual([{ address: 'b', port: 5, user: 'a' }]);
    expect(() => parseJumpHosts('a@', 'me')).toThrow(/expected \[user@\]host\[:port\]/);
  });

  it("the ProxyCommand of Ansible's FAQ (ssh -W %h:%p ... bastion) is read as a jump host; other commands are not", () => {
    const jumpOf = (args: string) => connectionFor('t', { ansible_connection: 'paramiko', ansible_ssh_common_args: args }, defaults).jump;
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
    const { stdout } = await execFileP(process.execPath, [cliEntry('provision'), '-i', inventory, '--check', '--json', report], {
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
  }, 120_000); // a whole CLI run in a subprocess: slow on a loaded machine, not a timing check
});

describe('ansible_connection=local: its bash is stopped as an ssh client is', () => {
  // No --remote-timeout (timeout(1) would make a process group of its own anyway).
  const local = () => localSession(connectionFor('localhost', { ansible_connection: 'local' }, { ...defaults, scriptTimeoutSeconds: 0 }));
  const pgidOf = (pid: number | string) =>
    readFileSync(`/proc/${pid}/stat`, 'utf8')
      .replace(/^.*\) /s, '')
      .split(' ')[2];

  it("runs in a process group of its own: a Ctrl-C on the terminal reaches the toolkit, which decides, not the host's script", async () => {
    // The script's own process group, from /proc (no ps needed): field 3 after "PID (COMM) ".
    const own = await local().run(joinCommand([raw(`awk '{ sub(/^.*\\) /, ""); print $3 }' /proc/$$/stat`)]));
    expect(own.stdout.trim()).toMatch(/^\d+$/);
    expect(own.stdout.trim()).not.toBe(pgidOf('self'));
  });

  it('a character split between two reads of its output stays one character (stdout, stderr and what is streamed)', async () => {
    const streamed: string[] = [];
    // é is c3 a9: the two bytes leave in two writes, a pause between them.
    const r = await local().run(joinCommand([raw(String.raw`printf '\303'; printf '\303' >&2; sleep 0.2; printf '\251\n'; printf '\251\n' >&2`)]), (text) =>
      streamed.push(text),
    );
    expect(r.stdout).toBe('é\n');
    expect(r.stderr).toBe('é\n');
    expect(streamed.join('')).toBe('é\n');
  });

  it('close() stops a script in flight, one that ignores SIGTERM after the grace, and the end is unknown (code null)', async () => {
    const s = local();
    const started = join(dir, 'local-started');
    const running = s.run(sh`trap '' TERM; touch ${started}; sleep 30`);
    const deadline = Date.now() + 10_000;
    while (!existsSync(started) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    s.close();
    const r = await running;
    expect(r.code).toBeNull();
    // After close() nothing more runs.
    expect((await s.run(sh`true`)).code).toBeNull();
  }, 20_000);

  it('--max-host-output bounds it: a flood on stdout or stderr closes it and fails the host', async () => {
    const options = { maxHostOutputBytes: 1024 * 1024, connection: { scriptTimeoutSeconds: 0 } } as unknown as RunOptions;
    for (const stream of ['', '>&2']) {
      const { result, problem } = await runBounded(local(), joinCommand([raw(`while :; do head -c 65536 /dev/zero ${stream}; done`)]), options, {
        remoteSeconds: 0,
      });
      expect(problem).toMatch(/sent more than 1 MiB for one script \(--max-host-output\)/);
      expect(result.code).toBeNull();
    }
  }, 20_000);

  it("a shorter wait of the controller's (the facts'): past it the host fails with its problem and the script is stopped", async () => {
    const options = { connection: { scriptTimeoutSeconds: 1800 } } as unknown as RunOptions;
    const started = join(dir, 'wait-started');
    const { result, problem } = await runBounded(local(), sh`touch ${started}; sleep 60`, options, {
      remoteSeconds: 1800,
      // 5 s: the script must have started by then (the check below) on a busy machine too
      wait: { seconds: 5, problem: 'the host did not send its facts within 5 s' },
    });
    expect(existsSync(started)).toBe(true);
    expect(problem).toBe('the host did not send its facts within 5 s');
    expect(result.code).toBeNull();
  }, 20_000);
});

describe("ssh's -v log read back from both ends (fileEnds): a host that makes the master log without end costs no more than that", () => {
  it('whole when small; else whole lines of its start and end, and what was left out between', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-ends-'));
    try {
      const file = join(dir, 'log');
      writeFileSync(file, 'a\nb\n');
      expect(await fileEnds(file, 4)).toBe('a\nb\n');
      // the login's lines first, then a flood of the server's global requests, then why it ended
      const flood = 'debug1: client_input_global_request: rtype x\n'.repeat(10_000);
      writeFileSync(file, `Authenticated to h ([10.0.0.5]:22) using "publickey".\n${flood}Timeout, server h not responding.\n`);
      const read = await fileEnds(file, 100);
      expect(read.startsWith('Authenticated to h ([10.0.0.5]:22) using "publickey".\n')).toBe(true);
      expect(read.endsWith('\nTimeout, server h not responding.\n')).toBe(true);
      expect(read).toMatch(/\n\(\d+ bytes of the log left out\)\n/);
      expect(read.length).toBeLessThan(300);
      expect(masterSaid(read)).toBe('Timeout, server h not responding.');
      expect(await fileEnds(join(dir, 'missing'), 100)).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("a script's stderr read back from its end (fileTail)", () => {
  it('never starts inside a character: the cut one goes with the part left out, counted there', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-tail-'));
    try {
      const file = join(dir, 'stderr');
      // "é" is 2 bytes, "€" 3: a tail of 4 bytes of "aé€" starts in the middle of "é".
      writeFileSync(file, 'aé€');
      expect(await fileTail(file, 4)).toBe('(3 bytes of stderr left out)\n€');
      expect(await fileTail(file, 3)).toBe('(3 bytes of stderr left out)\n€');
      expect(await fileTail(file, 2)).toBe('(6 bytes of stderr left out)\n');
      expect(await fileTail(file, 100)).toBe('aé€');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
