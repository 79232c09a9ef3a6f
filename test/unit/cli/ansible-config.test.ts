// ansible.cfg discovery, parsing and precedence, judged by ansible-core itself (`ansible-config
// dump --only-changed --format json` in the same folder with the same environment), and the
// CLI / inventory layers on top (flag > ANSIBLE_* > ansible.cfg > default; inventory vars win).
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { findAnsibleConfig, readAnsibleSettings } from '../../../src/cli/ansible-config.ts';
import { CliError, parseCli } from '../../../src/cli/args.ts';
import { connectionDefaultsOf } from '../../../src/cli/connection-defaults.ts';
import { connectionFor } from '../../../src/exec/connection.ts';
import { ANSIBLE_CORE, ANSIBLE_PYTHON, describeWith } from '../../support/requires.ts';

const execFileP = promisify(execFile);
const root = mkdtempSync(join(tmpdir(), 'tp-cfg-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const NO_SYSTEM = join(root, 'no-such-system.cfg');

let n = 0;
/** A fresh folder layout: HOME, a project folder (cwd) and a config folder. */
/** A reader of one ansible.cfg (ANSIBLE_CONFIG) with extra environment: call it to read. */
function cfgReader() {
  const { home, cwd, etc } = layout();
  return (cfg: string, env: Record<string, string> = {}) => {
    writeFileSync(join(etc, 'ansible.cfg'), cfg);
    return () => readAnsibleSettings({ env: { ANSIBLE_CONFIG: join(etc, 'ansible.cfg'), HOME: home, ...env }, cwd, home, systemFile: NO_SYSTEM });
  };
}

function layout() {
  const base = join(root, `case-${n++}`);
  const home = join(base, 'home');
  const cwd = join(base, 'project');
  const etc = join(base, 'etc');
  for (const d of [home, cwd, etc]) mkdirSync(d, { recursive: true });
  return { base, home, cwd, etc };
}

const FULL_CFG = `# every setting the toolkit reads
[defaults]
inventory = hosts.yml, ../other ; an inline comment
forks: 7
remote_user = "deploy"
private_key_file = keys/id_ed25519
host_key_checking = False
vault_password_file = ~/vault.txt
timeout = 33
; another comment

[diff]
always = yes
context = 1

[privilege_escalation]
become = yes
become_user = 'admin'
become_method = su
become_ask_pass = true
become_allow_same_user = yes
`;

const NAMES: Record<string, string> = {
  inventory: 'DEFAULT_HOST_LIST',
  forks: 'DEFAULT_FORKS',
  remoteUser: 'DEFAULT_REMOTE_USER',
  privateKeyFile: 'DEFAULT_PRIVATE_KEY_FILE',
  hostKeyChecking: 'HOST_KEY_CHECKING',
  vaultPasswordFile: 'DEFAULT_VAULT_PASSWORD_FILE',
  timeout: 'DEFAULT_TIMEOUT',
  become: 'DEFAULT_BECOME',
  becomeUser: 'DEFAULT_BECOME_USER',
  becomeMethod: 'DEFAULT_BECOME_METHOD',
  becomeAskPass: 'DEFAULT_BECOME_ASK_PASS',
  becomeAllowSameUser: 'BECOME_ALLOW_SAME_USER',
  diffAlways: 'DIFF_ALWAYS',
  diffContext: 'DIFF_CONTEXT',
};

/** What ansible-config says: config file and the values/origins of the settings we read. */
async function ansibleSays(cwd: string, env: Record<string, string>) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ANSIBLE_')));
  const { stdout } = await execFileP('ansible-config', ['dump', '--only-changed', '--format', 'json'], { cwd, env: { ...clean, ...env } });
  const rows = JSON.parse(stdout) as { name: string; origin: string; value: unknown }[];
  const byName = new Map(rows.map((r) => [r.name, r]));
  const values: Record<string, unknown> = {};
  for (const [ours, theirs] of Object.entries(NAMES)) if (byName.has(theirs)) values[ours] = byName.get(theirs)!.value;
  return { file: (byName.get('CONFIG_FILE')?.value as string | null | undefined) ?? undefined, values };
}

function oursSay(cwd: string, home: string, env: Record<string, string>) {
  const s = readAnsibleSettings({ env: { HOME: home, ...env }, cwd, home, systemFile: NO_SYSTEM });
  const values: Record<string, unknown> = {};
  for (const k of Object.keys(NAMES)) if ((s as unknown as Record<string, unknown>)[k] !== undefined) values[k] = (s as unknown as Record<string, unknown>)[k];
  return { file: s.file, values, settings: s };
}

describeWith(ANSIBLE_CORE, 'ansible.cfg as ansible-config reads it', () => {
  it("ANSIBLE_CONFIG (a file, or a folder with ansible.cfg) wins; paths are relative to the file's folder; ~ is expanded; inline ; comments dropped", async () => {
    const { home, cwd, etc } = layout();
    writeFileSync(join(etc, 'ansible.cfg'), FULL_CFG);
    writeFileSync(join(cwd, 'ansible.cfg'), '[defaults]\nforks = 3\n');
    for (const env of [{ ANSIBLE_CONFIG: join(etc, 'ansible.cfg') }, { ANSIBLE_CONFIG: etc }]) {
      const theirs = await ansibleSays(cwd, { HOME: home, ...env });
      const ours = oursSay(cwd, home, env);
      expect(theirs.file).toBe(join(etc, 'ansible.cfg'));
      expect(ours.file).toBe(theirs.file);
      expect(ours.values).toEqual(theirs.values);
    }
    expect(oursSay(cwd, home, { ANSIBLE_CONFIG: etc }).values.inventory).toEqual([join(etc, 'hosts.yml'), join(etc, '..', 'other')]);
  });

  it('then ./ansible.cfg, then ~/.ansible.cfg; a missing ANSIBLE_CONFIG falls through', async () => {
    const { home, cwd } = layout();
    writeFileSync(join(home, '.ansible.cfg'), '[defaults]\nforks = 11\nremote_user = fromhome\n');
    let theirs = await ansibleSays(cwd, { HOME: home, ANSIBLE_CONFIG: join(cwd, 'missing.cfg') });
    let ours = oursSay(cwd, home, { ANSIBLE_CONFIG: join(cwd, 'missing.cfg') });
    expect(theirs.file).toBe(join(home, '.ansible.cfg'));
    expect(ours).toMatchObject({ file: theirs.file, values: theirs.values });
    writeFileSync(join(cwd, 'ansible.cfg'), '[defaults]\nforks = 12\n');
    theirs = await ansibleSays(cwd, { HOME: home });
    ours = oursSay(cwd, home, {});
    expect(theirs.file).toBe(join(cwd, 'ansible.cfg'));
    expect(ours).toMatchObject({ file: theirs.file, values: theirs.values });
    expect(ours.values).toEqual({ forks: 12 }); // first found wins: nothing from ~/.ansible.cfg
  });

  it('a section or a key given twice (in any case) refuses the file, as ansible-config refuses it', async () => {
    for (const cfg of ['[defaults]\nforks = 5\nforks = 7\n', '[defaults]\nforks = 5\nFORKS = 7\n', '[defaults]\nforks = 5\n[defaults]\ntimeout = 7\n']) {
      const { home, cwd, etc } = layout();
      writeFileSync(join(etc, 'ansible.cfg'), cfg);
      const env = { HOME: home, ANSIBLE_CONFIG: join(etc, 'ansible.cfg') };
      await expect(ansibleSays(cwd, env)).rejects.toThrow(/already exists/);
      expect(() => oursSay(cwd, home, env)).toThrow(/ansible\.cfg:3: .*(set twice|already exists).*Ansible refuses the file/);
    }
  });

  it("./ansible.cfg in a world-writable folder is ignored, with Ansible's warning", async () => {
    const { home, cwd } = layout();
    writeFileSync(join(cwd, 'ansible.cfg'), '[defaults]\nforks = 13\n');
    chmodSync(cwd, 0o777);
    const theirs = await ansibleSays(cwd, { HOME: home });
    const ours = oursSay(cwd, home, {});
    expect(theirs.file).toBeUndefined();
    expect(ours.file).toBeUndefined();
    expect(ours.settings.warnings.join()).toMatch(/world writable directory/);
  });

  it('ANSIBLE_* beat the file; environment paths are relative to the current folder; booleans as Ansible reads them', async () => {
    const { home, cwd, etc } = layout();
    writeFileSync(join(etc, 'ansible.cfg'), FULL_CFG);
    const env = {
      ANSIBLE_CONFIG: join(etc, 'ansible.cfg'),
      ANSIBLE_FORKS: '21',
      ANSIBLE_REMOTE_USER: 'envuser',
      ANSIBLE_PRIVATE_KEY_FILE: 'rel/key',
      ANSIBLE_HOST_KEY_CHECKING: 'yes',
      ANSIBLE_TIMEOUT: '44',
      ANSIBLE_BECOME: 'off',
      ANSIBLE_BECOME_USER: 'envbecome',
      ANSIBLE_BECOME_METHOD: 'sudo',
      ANSIBLE_VAULT_PASSWORD_FILE: 'vault/pass',
      ANSIBLE_INVENTORY: 'a.yml,b.yml',
    };
    const theirs = await ansibleSays(cwd, { HOME: home, ...env });
    const ours = oursSay(cwd, home, env);
    expect(ours.values).toEqual(theirs.values);
    expect(ours.values).toMatchObject({ forks: 21, privateKeyFile: join(cwd, 'rel/key'), become: false, hostKeyChecking: true });
    expect(ours.settings.origins.forks).toBe('env: ANSIBLE_FORKS');
  });
});

describeWith(ANSIBLE_PYTHON, "the sudo plugin's settings as ansible-core's sudo plugin reads them", () => {
  /** become_flags, become_exe and become_user as the sudo plugin gets them from ansible.cfg and ANSIBLE_*. */
  async function sudoPluginSays(cwd: string, env: Record<string, string>): Promise<{ flags: string; exe: string; user: string }> {
    const program = [
      'import json',
      'from ansible.plugins.loader import become_loader',
      "b = become_loader.get('sudo'); b.set_options()",
      "print(json.dumps({k: b.get_option('become_' + k) for k in ('flags', 'exe', 'user')}))",
    ].join('\n');
    const { stdout } = await execFileP('/usr/bin/python3', ['-c', program], { cwd, env: { PATH: process.env.PATH, ...env } });
    return JSON.parse(stdout) as { flags: string; exe: string; user: string };
  }

  it('the last of its names set wins ([sudo_become_plugin] over [privilege_escalation], ANSIBLE_SUDO_* over ANSIBLE_BECOME_*, any variable over the file; empty counts)', async () => {
    const cases: { cfg: string; env: Record<string, string> }[] = [
      { cfg: '[privilege_escalation]\nbecome_flags = -i\n[sudo_become_plugin]\nflags = -H -S -n\n', env: {} },
      { cfg: '[defaults]\n', env: { ANSIBLE_BECOME_FLAGS: '-i', ANSIBLE_SUDO_FLAGS: '-H -S -n' } },
      { cfg: '[defaults]\n', env: { ANSIBLE_BECOME_FLAGS: '-i', ANSIBLE_SUDO_FLAGS: '' } },
      { cfg: '[sudo_become_plugin]\nflags = -H -S -n\n', env: { ANSIBLE_BECOME_FLAGS: '-E' } },
      {
        cfg: '[privilege_escalation]\nbecome_exe = /opt/y/sudo\nbecome_user = bob\n[sudo_become_plugin]\nexecutable = /opt/x/sudo\nuser = sapadm\n',
        env: {},
      },
      {
        cfg: '[privilege_escalation]\nbecome_user = bob\nbecome_exe = /opt/y/sudo\n',
        env: { ANSIBLE_SUDO_USER: 'envsudo', ANSIBLE_BECOME_EXE: '/opt/env/sudo' },
      },
    ];
    for (const c of cases) {
      const { home, cwd, etc } = layout();
      writeFileSync(join(etc, 'ansible.cfg'), c.cfg);
      const env = { ANSIBLE_CONFIG: join(etc, 'ansible.cfg'), HOME: home, ...c.env };
      const theirs = await sudoPluginSays(cwd, env);
      const ours = readAnsibleSettings({ env, cwd, home, systemFile: NO_SYSTEM });
      expect({ flags: ours.becomeFlags ?? '-H -S -n', exe: ours.becomeExe ?? 'sudo', user: ours.becomeUser ?? 'root' }, JSON.stringify(c)).toEqual(theirs);
    }
  });
});

describeWith(ANSIBLE_PYTHON, "the connection plugins' own settings as ansible-core's ssh and paramiko plugins read them", () => {
  const PARAMIKO_KEYS = ['host_key_checking', 'look_for_keys', 'host_key_auto_add', 'use_rsa_sha2_algorithms', 'banner_timeout'] as const;
  /** host_key_checking of each plugin, and paramiko's other settings, from ansible.cfg and ANSIBLE_*. */
  async function pluginsSay(cwd: string, env: Record<string, string>) {
    const program = [
      'import json',
      'from ansible import constants as C',
      'from ansible.plugins.loader import connection_loader',
      "get = lambda plugin, key: (connection_loader.get(plugin, class_only=True), C.config.get_config_value(key, plugin_type='connection', plugin_name=plugin))[1]",
      `print(json.dumps({'ssh': get('ssh', 'host_key_checking'), 'paramiko': {k: get('paramiko_ssh', k) for k in ${JSON.stringify(PARAMIKO_KEYS)}}}))`,
    ].join('\n');
    const { stdout } = await execFileP('/usr/bin/python3', ['-c', program], { cwd, env: { PATH: process.env.PATH, ...env } });
    return JSON.parse(stdout) as { ssh: boolean; paramiko: Record<(typeof PARAMIKO_KEYS)[number], unknown> };
  }

  it("each plugin's host_key_checking has its own section and variables after [defaults]'s; the last set wins, any variable over the file", async () => {
    const cases: { cfg: string; env: Record<string, string> }[] = [
      // checking off for all but ssh, which the admin asked to check: on for ssh
      { cfg: '[defaults]\nhost_key_checking = False\n[ssh_connection]\nhost_key_checking = True\n', env: {} },
      { cfg: '[defaults]\nhost_key_checking = False\n[paramiko_connection]\nhost_key_checking = True\n', env: {} },
      { cfg: '[ssh_connection]\nhost_key_checking = False\n', env: {} },
      { cfg: '[defaults]\n', env: { ANSIBLE_HOST_KEY_CHECKING: 'False', ANSIBLE_SSH_HOST_KEY_CHECKING: 'True' } },
      { cfg: '[ssh_connection]\nhost_key_checking = True\n', env: { ANSIBLE_SSH_HOST_KEY_CHECKING: 'no' } },
      { cfg: '[defaults]\n', env: { ANSIBLE_HOST_KEY_CHECKING: 'True', ANSIBLE_PARAMIKO_HOST_KEY_CHECKING: 'False' } },
      { cfg: '[paramiko_connection]\nhost_key_checking = False\n', env: { ANSIBLE_HOST_KEY_CHECKING: 'yes' } },
    ];
    for (const c of cases) {
      const { home, cwd, etc } = layout();
      writeFileSync(join(etc, 'ansible.cfg'), c.cfg);
      const env = { ANSIBLE_CONFIG: join(etc, 'ansible.cfg'), HOME: home, ...c.env };
      const theirs = await pluginsSay(cwd, env);
      const ours = readAnsibleSettings({ env, cwd, home, systemFile: NO_SYSTEM });
      expect({ ssh: ours.hostKeyChecking ?? true, paramiko: ours.paramikoHostKeyChecking ?? true }, JSON.stringify(c)).toEqual({
        ssh: theirs.ssh,
        paramiko: theirs.paramiko.host_key_checking,
      });
      // and as each host's connection gets it (ssh: no StrictHostKeyChecking=no; paramiko: its strictness)
      const cli = parseCli(['-i', cwd], env, join(root, 'no-project'), { cwd });
      const defaults = { timeoutMs: 10_000, hostKeyChecking: cli.hostKeyChecking, paramiko: cli.ssh.paramiko };
      expect(connectionFor('h', {}, defaults).openssh.hostKeyChecking, JSON.stringify(c)).toBe(theirs.ssh);
      expect(connectionFor('h', { ansible_connection: 'paramiko' }, defaults).strictHostKeyChecking, JSON.stringify(c)).toBe(theirs.paramiko.host_key_checking);
    }
  });

  it("the connect timeout: the ssh plugin's reads [ssh_connection] timeout and ANSIBLE_SSH_TIMEOUT after [defaults]'s; paramiko's (the play's) [defaults]'s alone; -T sets both", async () => {
    /** The ssh plugin's timeout option, and the play's (DEFAULT_TIMEOUT), which paramiko connects with. */
    async function timeoutsSay(cwd: string, env: Record<string, string>) {
      const program = [
        'import json',
        'from ansible import constants as C',
        'from ansible.plugins.loader import connection_loader',
        'connection_loader.get("ssh", class_only=True)',
        "print(json.dumps({'ssh': C.config.get_config_value('timeout', plugin_type='connection', plugin_name='ssh'), 'paramiko': C.config.get_config_value('DEFAULT_TIMEOUT')}))",
      ].join('\n');
      const { stdout } = await execFileP('/usr/bin/python3', ['-c', program], { cwd, env: { PATH: process.env.PATH, ...env } });
      return JSON.parse(stdout) as { ssh: number; paramiko: number };
    }
    const cases: { cfg: string; env: Record<string, string> }[] = [
      { cfg: '[defaults]\ntimeout = 20\n', env: {} },
      { cfg: '[defaults]\ntimeout = 20\n[ssh_connection]\ntimeout = 60\n', env: {} },
      { cfg: '[ssh_connection]\ntimeout = 45\n', env: { ANSIBLE_TIMEOUT: '25' } },
      { cfg: '[defaults]\n', env: { ANSIBLE_TIMEOUT: '25', ANSIBLE_SSH_TIMEOUT: '50' } },
    ];
    for (const c of cases) {
      const { home, cwd, etc } = layout();
      writeFileSync(join(etc, 'ansible.cfg'), c.cfg);
      const env = { ANSIBLE_CONFIG: join(etc, 'ansible.cfg'), HOME: home, ...c.env };
      const theirs = await timeoutsSay(cwd, env);
      const cli = parseCli(['-i', cwd], env, join(root, 'no-project'), { cwd });
      const defaults = connectionDefaultsOf(cli, {});
      expect(
        { ssh: connectionFor('h', {}, defaults).timeoutMs / 1000, paramiko: connectionFor('h', { ansible_connection: 'paramiko' }, defaults).timeoutMs / 1000 },
        JSON.stringify(c),
      ).toEqual(theirs);
      const flagged = connectionDefaultsOf(parseCli(['-i', cwd, '-T', '7'], env, join(root, 'no-project'), { cwd }), {});
      expect([connectionFor('h', {}, flagged).timeoutMs, connectionFor('h', { ansible_connection: 'paramiko' }, flagged).timeoutMs]).toEqual([7000, 7000]);
    }
  });

  it("paramiko's look_for_keys, host_key_auto_add, use_rsa_sha2_algorithms and banner_timeout, from [paramiko_connection] and ANSIBLE_PARAMIKO_*", async () => {
    const cases: { cfg: string; env: Record<string, string> }[] = [
      { cfg: '[paramiko_connection]\nlook_for_keys = False\nhost_key_auto_add = True\nuse_rsa_sha2_algorithms = no\nbanner_timeout = 60\n', env: {} },
      // a float, as Ansible types it
      { cfg: '[paramiko_connection]\nbanner_timeout = 45.5\n', env: {} },
      {
        cfg: '[paramiko_connection]\nlook_for_keys = False\nbanner_timeout = 60\n',
        env: { ANSIBLE_PARAMIKO_LOOK_FOR_KEYS: 'yes', ANSIBLE_PARAMIKO_BANNER_TIMEOUT: '45', ANSIBLE_PARAMIKO_HOST_KEY_AUTO_ADD: 'false' },
      },
      { cfg: '[defaults]\n', env: {} },
    ];
    const defaults = { look_for_keys: true, host_key_auto_add: null, use_rsa_sha2_algorithms: true, banner_timeout: 30 };
    for (const c of cases) {
      const { home, cwd, etc } = layout();
      writeFileSync(join(etc, 'ansible.cfg'), c.cfg);
      const env = { ANSIBLE_CONFIG: join(etc, 'ansible.cfg'), HOME: home, ...c.env };
      const { host_key_checking: _, ...theirs } = (await pluginsSay(cwd, env)).paramiko;
      const ours = readAnsibleSettings({ env, cwd, home, systemFile: NO_SYSTEM });
      expect(
        {
          look_for_keys: ours.paramikoLookForKeys ?? defaults.look_for_keys,
          host_key_auto_add: ours.paramikoHostKeyAutoAdd ?? defaults.host_key_auto_add,
          use_rsa_sha2_algorithms: ours.paramikoUseRsaSha2Algorithms ?? defaults.use_rsa_sha2_algorithms,
          banner_timeout: ours.paramikoBannerTimeout ?? defaults.banner_timeout,
        },
        JSON.stringify(c),
      ).toEqual(theirs);
    }
  });
});

describe('ansible.cfg and the command line', () => {
  const projectDir = join(root, 'project-dir');
  mkdirSync(join(projectDir, 'inventories'), { recursive: true });

  it('finds nothing when there is nothing', () => {
    const { home, cwd } = layout();
    expect(findAnsibleConfig({ env: {}, cwd, home, systemFile: NO_SYSTEM })).toEqual({ warnings: [] });
  });

  it('the system file is the last resort', () => {
    const { home, cwd, etc } = layout();
    writeFileSync(join(etc, 'system.cfg'), '[defaults]\nforks = 2\n');
    expect(findAnsibleConfig({ env: {}, cwd, home, systemFile: join(etc, 'system.cfg') }).file).toBe(join(etc, 'system.cfg'));
  });

  it('flag > environment > ansible.cfg > default, for every setting', () => {
    const { home, cwd, etc } = layout();
    writeFileSync(join(etc, 'ansible.cfg'), FULL_CFG);
    mkdirSync(join(etc, 'hosts.yml'));
    mkdirSync(join(etc, '..', 'other'), { recursive: true });
    const settings = (env: Record<string, string>) =>
      readAnsibleSettings({ env: { ANSIBLE_CONFIG: join(etc, 'ansible.cfg'), ...env }, cwd, home, systemFile: NO_SYSTEM });
    const fromCfg = parseCli([], {}, projectDir, { settings: settings({}) });
    expect(fromCfg).toMatchObject({
      inventories: [join(etc, 'hosts.yml'), join(etc, '..', 'other')],
      forks: 7,
      user: 'deploy',
      privateKey: join(etc, 'keys/id_ed25519'),
      hostKeyChecking: false,
      timeoutSeconds: 33,
      become: { enabled: true, user: 'admin', method: 'su', askPass: true },
      vault: { passwordFiles: [join(home, 'vault.txt')], vaultIds: [], askVaultPass: false },
      configFile: join(etc, 'ansible.cfg'),
      // [diff] always: --diff by default; [defaults] verbosity: what each -v adds to
      diff: true,
      diffContext: 1,
      verbosity: 0,
    });
    // (ansible-config itself gets verbose with it: set here, not in FULL_CFG)
    expect(parseCli(['-vv'], {}, projectDir, { settings: settings({ ANSIBLE_VERBOSITY: '2' }) })).toMatchObject({ verbosity: 4, diff: true });
    expect(parseCli([], {}, projectDir, { settings: settings({ ANSIBLE_DIFF_ALWAYS: 'no', ANSIBLE_VERBOSITY: '0' }) })).toMatchObject({
      verbosity: 0,
      diff: false,
    });
    expect(() => parseCli([], {}, projectDir, { settings: settings({ ANSIBLE_VERBOSITY: '-1' }) })).toThrow(
      /verbosity \(env: ANSIBLE_VERBOSITY\) needs a whole number, 0 or more/,
    );
    const env = {
      ANSIBLE_FORKS: '9',
      ANSIBLE_REMOTE_USER: 'envuser',
      ANSIBLE_TIMEOUT: '5',
      ANSIBLE_BECOME: 'no',
      ANSIBLE_BECOME_USER: 'u2',
      ANSIBLE_HOST_KEY_CHECKING: 'True',
    };
    const fromEnv = parseCli([], env, projectDir, { settings: settings(env) });
    expect(fromEnv).toMatchObject({ forks: 9, user: 'envuser', timeoutSeconds: 5, hostKeyChecking: true, become: { enabled: false, user: 'u2' } });
    const fromFlags = parseCli(
      [
        '-i',
        cwd,
        '-f',
        '4',
        '-u',
        'flaguser',
        '-T',
        '6',
        '-b',
        '--become-user',
        'u3',
        '--private-key',
        '/k',
        '--vault-password-file',
        '/p',
        '--vault-id',
        'prod@prompt',
        '-J',
      ],
      env,
      projectDir,
      { settings: settings(env) },
    );
    expect(fromFlags).toMatchObject({
      inventories: [cwd],
      forks: 4,
      user: 'flaguser',
      timeoutSeconds: 6,
      privateKey: '/k',
      become: { enabled: true, user: 'u3' },
      // Files from flags and from the config are all tried, as ansible-playbook does.
      vault: { passwordFiles: ['/p', join(home, 'vault.txt')], vaultIds: ['prod@prompt'], askVaultPass: true },
    });
    const defaults = parseCli(['-i', cwd], {}, projectDir, { settings: { origins: {}, warnings: [] } });
    expect(defaults).toMatchObject({ forks: 50, timeoutSeconds: 10, hostKeyChecking: true, become: { enabled: false, askPass: false } });
    expect(defaults.user).toBeUndefined();
  });

  it('a word that is no boolean in ansible.cfg or ANSIBLE_* is an error naming where (Ansible reads it as false: host_key_checking = Ture would turn the check off)', () => {
    const { home, cwd, etc } = layout();
    const cfg = join(etc, 'ansible.cfg');
    for (const word of ['Ture', 'enabled', 'strict', '']) {
      writeFileSync(cfg, `[defaults]\nhost_key_checking = ${word}\n`);
      expect(() => parseCli(['-i', cwd], { ANSIBLE_CONFIG: cfg, HOME: home }, projectDir, { cwd })).toThrow(
        new RegExp(`ansible\\.cfg \\[defaults\\] host_key_checking: "${word}" is not a boolean: write true or false`),
      );
    }
    writeFileSync(cfg, '[privilege_escalation]\nbecome = maybe\n');
    expect(() => parseCli(['-i', cwd], { ANSIBLE_CONFIG: cfg, HOME: home }, projectDir, { cwd })).toThrow(
      /\[privilege_escalation\] become: "maybe" is not a boolean/,
    );
    writeFileSync(cfg, '[defaults]\nhost_key_checking = False\n');
    expect(() => parseCli(['-i', cwd], { ANSIBLE_CONFIG: cfg, HOME: home, ANSIBLE_HOST_KEY_CHECKING: 'ture' }, projectDir, { cwd })).toThrow(
      /environment ANSIBLE_HOST_KEY_CHECKING: "ture" is not a boolean/,
    );
    for (const [word, on] of [
      ['No', false],
      [' yes ', true],
      ['0', false],
      ['T', true],
      ['off', false],
    ] as const) {
      expect(parseCli(['-i', cwd], { ANSIBLE_CONFIG: cfg, HOME: home, ANSIBLE_HOST_KEY_CHECKING: word }, projectDir, { cwd }).hostKeyChecking, word).toBe(on);
    }
  });

  it('a bad number in ansible.cfg is an error naming the file and the setting', () => {
    const { home, cwd, etc } = layout();
    writeFileSync(join(etc, 'ansible.cfg'), '[defaults]\nforks = many\n');
    expect(() => parseCli(['-i', cwd], { ANSIBLE_CONFIG: join(etc, 'ansible.cfg'), HOME: home }, projectDir, { cwd })).toThrow(CliError);
    expect(() => parseCli(['-i', cwd], { ANSIBLE_CONFIG: join(etc, 'ansible.cfg'), HOME: home }, projectDir, { cwd })).toThrow(
      /ansible\.cfg \[defaults\] forks/,
    );
    writeFileSync(join(etc, 'ansible.cfg'), '[defaults]\nforks = 0\n');
    expect(() => parseCli(['-i', cwd], { ANSIBLE_CONFIG: join(etc, 'ansible.cfg'), HOME: home }, projectDir, { cwd })).toThrow(
      /forks \(.*ansible\.cfg \[defaults\] forks\) needs a whole number above 0/,
    );
  });

  it('a setting that would change what the inventory means is read only at its default: another value is an error naming it', () => {
    const read = cfgReader();
    expect(read('[defaults]\nhash_behaviour = merge\n')).toThrow(
      /ansible\.cfg \[defaults\] hash_behaviour = merge: not supported by trento-provision: .*replace/,
    );
    expect(read('[defaults]\nforce_valid_group_names = always\n')).toThrow(/\[defaults\] force_valid_group_names = always: not supported/);
    expect(read('[defaults]\nforks = 5\n', { ANSIBLE_HASH_BEHAVIOUR: 'merge' })).toThrow(/environment ANSIBLE_HASH_BEHAVIOUR = merge/);
    // Ansible's defaults, written out, are fine; the environment beats the file as for any setting
    for (const cfg of ['[defaults]\nhash_behaviour = replace\nforce_valid_group_names = never\n', '[defaults]\nforce_valid_group_names = ignore\n']) {
      expect(read(cfg)).not.toThrow();
    }
    expect(read('[defaults]\nhash_behaviour = merge\n', { ANSIBLE_HASH_BEHAVIOUR: 'replace' })).not.toThrow();
    // Which files of an inventory folder are read: only Ansible's defaults.
    expect(read('[inventory]\nignore_patterns = ^old_\n')).toThrow(/\[inventory\] ignore_patterns = \^old_: not supported by trento-provision/);
    expect(read('[inventory]\nignore_extensions = .conf\n')).toThrow(/\[inventory\] ignore_extensions = \.conf: not supported/);
    expect(read('[defaults]\nforks = 5\n', { ANSIBLE_INVENTORY_IGNORE_REGEX: 'bak$' })).toThrow(/environment ANSIBLE_INVENTORY_IGNORE_REGEX = bak\$/);
    expect(read('[inventory]\nignore_extensions = .pyc, .pyo, .swp, .bak, ~, .rpm, .md, .txt, .rst, .orig, .ini, .cfg, .retry\n')).not.toThrow();
    // An empty item matches every file name in Ansible (ansible-inventory then reads no file of
    // the folder): `ignore_patterns =`, or a trailing comma.
    expect(read('[inventory]\nignore_patterns =\n')).toThrow(/\[inventory\] ignore_patterns = : not supported.*makes Ansible skip every file/);
    expect(read('[inventory]\nignore_extensions = .pyc, .pyo, .swp, .bak, ~, .rpm, .md, .txt, .rst, .orig, .ini, .cfg, .retry,\n')).toThrow(
      /ignore_extensions = .*retry,: not supported/,
    );
    // The same settings by their [defaults] names, the spelling most ansible.cfg files use.
    expect(read('[defaults]\ninventory_ignore_patterns = ^staging\n')).toThrow(
      /\[defaults\] inventory_ignore_patterns = \^staging: not supported by trento-provision/,
    );
    expect(read('[defaults]\ninventory_ignore_extensions = .json\n')).toThrow(/\[defaults\] inventory_ignore_extensions = \.json: not supported/);
    expect(read('[defaults]\ninventory_ignore_extensions = .pyc, .pyo, .swp, .bak, ~, .rpm, .md, .txt, .rst, .orig, .ini, .cfg, .retry\n')).not.toThrow();
    // Both names set: [inventory]'s wins, as in Ansible (the last key of its list that is set),
    // so only its value is judged; the environment beats both.
    const defaults = '.pyc, .pyo, .swp, .bak, ~, .rpm, .md, .txt, .rst, .orig, .ini, .cfg, .retry';
    expect(read(`[defaults]\ninventory_ignore_extensions = .json\n[inventory]\nignore_extensions = ${defaults}\n`)).not.toThrow();
    expect(read(`[defaults]\ninventory_ignore_extensions = ${defaults}\n[inventory]\nignore_extensions = .json\n`)).toThrow(
      /\[inventory\] ignore_extensions = \.json: not supported/,
    );
    expect(read('[defaults]\ninventory_ignore_extensions = .json\n', { ANSIBLE_INVENTORY_IGNORE: defaults })).not.toThrow();
    expect(read(`[inventory]\nignore_extensions = ${defaults}\n`, { ANSIBLE_INVENTORY_IGNORE: '.json' })).toThrow(
      /environment ANSIBLE_INVENTORY_IGNORE = \.json/,
    );
  });

  it('[inventory] enable_plugins: a list with ini and yaml (their short or full names, other plugins beside them) is fine; one without is an error naming it', () => {
    const read = cfgReader();
    for (const value of ['host_list, script, auto, yaml, ini, toml', 'ansible.builtin.yaml, ansible.builtin.ini, amazon.aws.aws_ec2', "'ini', 'yaml'"]) {
      expect(read(`[inventory]\nenable_plugins = ${value}\n`), value).not.toThrow();
    }
    expect(read('[inventory]\nenable_plugins = yaml, auto\n')).toThrow(
      /\[inventory\] enable_plugins = yaml, auto: not supported by trento-provision: .*keep ini and yaml/,
    );
    expect(read('[defaults]\n', { ANSIBLE_INVENTORY_ENABLED: 'ini' })).toThrow(/^environment ANSIBLE_INVENTORY_ENABLED = ini: not supported/);
  });

  it('settings that change which variable wins or which vars files exist are errors naming them unless at their default (precedence, run_vars_plugins, vars plugin stage, vars_plugins_enabled, yaml_valid_extensions)', () => {
    const read = cfgReader();
    const precedence = 'all_inventory, groups_inventory, all_plugins_inventory, all_plugins_play, groups_plugins_inventory, groups_plugins_play';
    for (const accepted of [
      `[defaults]\nprecedence = ${precedence}\n`,
      '[defaults]\nrun_vars_plugins = demand\n',
      '[vars_host_group_vars]\nstage = all\n',
      '[vars_host_group_vars]\nstage = task\n',
      "[defaults]\nvars_plugins_enabled = ansible.builtin.host_group_vars\nyaml_valid_extensions = '.yml', .yaml, .json\n",
    ]) {
      expect(read(accepted), accepted).not.toThrow();
    }
    const reversed = precedence.split(', ').reverse().join(',');
    expect(read(`[defaults]\nprecedence = ${reversed}\n`)).toThrow(
      /\[defaults\] precedence = .*: not supported by trento-provision: the toolkit orders group variables/,
    );
    expect(read('[defaults]\n', { ANSIBLE_RUN_VARS_PLUGINS: 'start' })).toThrow(/^environment ANSIBLE_RUN_VARS_PLUGINS = start: not supported/);
    expect(read('[vars_host_group_vars]\nstage = inventory\n')).toThrow(/\[vars_host_group_vars\] stage = inventory: not supported/);
    expect(read('[defaults]\nvars_plugins_enabled = host_group_vars, community.sops.sops\n')).toThrow(/vars_plugins_enabled .*ciphertext/);
    expect(read('[defaults]\n', { ANSIBLE_YAML_FILENAME_EXT: '.yaml,.yml' })).toThrow(/ANSIBLE_YAML_FILENAME_EXT = \.yaml,\.yml: not supported/);
  });

  it('duplicate_dict_key and vault_id_match, which would make a file or a vault Ansible refuses one the toolkit reads, are read only at their defaults (warn or ignore; unset)', () => {
    const read = cfgReader();
    for (const accepted of ['[defaults]\nduplicate_dict_key = warn\nvault_id_match =\n', '[defaults]\nduplicate_dict_key = ignore\n'])
      expect(read(accepted), accepted).not.toThrow();
    expect(read('[defaults]\nduplicate_dict_key = error\n')).toThrow(
      /\[defaults\] duplicate_dict_key = error: not supported by trento-provision: the toolkit warns about a duplicate key/,
    );
    // Ansible's choices are case-sensitive
    expect(read('[defaults]\nduplicate_dict_key = WARN\n')).toThrow(/duplicate_dict_key = WARN: not supported/);
    // ansible-core reads vault_id_match = False as on: the setting has no type, any word is a true string
    for (const value of ['True', 'False', 'no'])
      expect(read('[defaults]\n', { ANSIBLE_VAULT_ID_MATCH: value }), value).toThrow(
        /^environment ANSIBLE_VAULT_ID_MATCH = \w+: not supported .*False included, as on/,
      );
  });

  it('password files (become_password_file, connection_password_file) are read as paths: from the file, relative to its folder; from the environment, to the current one', () => {
    const read = cfgReader();
    const settings = read('[defaults]\nbecome_password_file = secrets/sudo\nconnection_password_file = /run/secrets/ssh\n')();
    expect(settings.becomePasswordFile).toMatch(/\/etc\/secrets\/sudo$/);
    expect(settings.connectionPasswordFile).toBe('/run/secrets/ssh');
    expect(settings.origins.becomePasswordFile).toMatch(/ansible\.cfg \[defaults\] become_password_file$/);
    const fromEnv = read('[defaults]\nconnection_password_file = /run/secrets/ssh\n', { ANSIBLE_CONNECTION_PASSWORD_FILE: 'ssh-pass' })();
    expect(fromEnv.connectionPasswordFile).toMatch(/\/project\/ssh-pass$/);
    expect(fromEnv.origins.connectionPasswordFile).toBe('env: ANSIBLE_CONNECTION_PASSWORD_FILE');
  });

  it("the sudo plugin's password settings are errors naming the setting, never printing it; its other names are read", () => {
    const read = cfgReader();
    expect(read('[ssh_connection]\npkcs11_provider = "/usr/lib/opensc-pkcs11.so"\n')()).toMatchObject({
      pkcs11Provider: '/usr/lib/opensc-pkcs11.so',
      origins: { pkcs11Provider: expect.stringMatching(/\[ssh_connection\] pkcs11_provider$/) },
    });
    expect(read('[sudo_become_plugin]\nexecutable = /opt/audit/sudo\n')()).toMatchObject({
      becomeExe: '/opt/audit/sudo',
      origins: { becomeExe: expect.stringMatching(/\[sudo_become_plugin\] executable$/) },
    });
    expect(read('[privilege_escalation]\nbecome_exe = "/opt/audit/sudo"\n')()).toMatchObject({ becomeExe: '/opt/audit/sudo' });
    expect(read('[defaults]\n', { ANSIBLE_SUDO_FLAGS: '-i' })()).toMatchObject({ becomeFlags: '-i', origins: { becomeFlags: 'env: ANSIBLE_SUDO_FLAGS' } });
    // become_flags itself is read, quoted or not, and where it came from kept for its errors
    expect(read('[privilege_escalation]\nbecome_flags = "-H -S -n -i"\n')()).toMatchObject({
      becomeFlags: '-H -S -n -i',
      origins: { becomeFlags: expect.stringMatching(/ansible\.cfg \[privilege_escalation\] become_flags$/) },
    });
    expect(read('[defaults]\n', { ANSIBLE_BECOME_FLAGS: '-E' })()).toMatchObject({ becomeFlags: '-E', origins: { becomeFlags: 'env: ANSIBLE_BECOME_FLAGS' } });
    expect(read('[sudo_become_plugin]\nuser = sapadm\n')()).toMatchObject({ becomeUser: 'sapadm' });
    expect(read('[defaults]\n', { ANSIBLE_BECOME_PASS: 'sudo-pw-123' })).toThrow(/^environment ANSIBLE_BECOME_PASS = \(a password\): not supported .*-K/);
    expect(read('[sudo_become_plugin]\npassword = sudo-pw-123\n')).not.toThrow(/sudo-pw-123/);
    // Ansible's defaults, written out (quoted too: Ansible unquotes string settings)
    expect(read('[ssh_connection]\nretries = 0\npipelining = True\n[privilege_escalation]\nbecome_flags = -H -S -n\nbecome_exe = sudo\n')).not.toThrow();
    expect(read('[privilege_escalation]\nbecome_flags = "-H -S -n"\nbecome_exe = "sudo"\n[ssh_connection]\nsshpass_prompt = ""\n')).not.toThrow();
    // remote_port and retries are read (Ansible has no flag for them); retries also from [connection]
    expect(read('[defaults]\nremote_port = 2222\n')().remotePort).toBe(2222);
    expect(read('[ssh_connection]\nretries = 3\n[connection]\nretries = 1\n')()).toMatchObject({ sshRetries: 3 });
    expect(read('[ssh_connection]\nsshpass_prompt = "Kennwort:"\n')()).toMatchObject({ sshpassPrompt: 'Kennwort:' });
    expect(read('[connection]\nretries = 1\n')()).toMatchObject({ sshRetries: 1, origins: { sshRetries: expect.stringMatching(/\[connection\] retries$/) } });
    expect(read('[connection]\nretries = 1\n', { ANSIBLE_SSH_RETRIES: '4' })()).toMatchObject({ sshRetries: 4 });
  });

  it('inventory variables beat the command line and ansible.cfg for connection settings', () => {
    const defaults = {
      timeoutMs: 10_000,
      hostKeyChecking: false,
      user: 'cfguser',
      privateKeyPath: '/cfg/key',
      become: true,
      becomeUser: 'cfgbecome',
      becomePassword: 'typed',
    };
    const plain = connectionFor('h', { ansible_host: '10.0.0.1' }, defaults);
    expect(plain).toMatchObject({
      user: 'cfguser',
      privateKeyPath: '/cfg/key',
      strictHostKeyChecking: false,
      become: { user: 'cfgbecome', password: 'typed' },
      timeoutMs: 10_000,
    });
    const own = connectionFor(
      'h',
      { ansible_user: 'invuser', ansible_ssh_private_key_file: '/inv/key', ansible_host_key_checking: true, ansible_become: false, ansible_timeout: 3 },
      defaults,
    );
    expect(own).toMatchObject({ user: 'invuser', privateKeyPath: '/inv/key', strictHostKeyChecking: true, become: undefined, timeoutMs: 3000 });
    const becomeVars = connectionFor('h', { ansible_become_user: 'invbecome', ansible_become_password: 'inv-pw' }, defaults);
    expect(becomeVars.become).toEqual({ user: 'invbecome', password: 'inv-pw', flags: ['-H', '-S', '-n'] });
  });
});
