// Ansible habits on real hosts: secrets in Ansible Vault (a group_vars file encrypted whole and
// inline !vault values, both made by the real ansible-vault), ansible.cfg settings, and a
// ProxyJump through one lab host to another.
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LabInfo } from '../lab/inventory.ts';
import { ANSIBLE_CORE, describeWith } from '../support/requires.ts';
import { freshLab, hostsBy, iniInventory, type LabHost, mustOnHost, provision } from './helpers.ts';

const execFileP = promisify(execFile);

let info: LabInfo;
let push: LabHost[];
let pull: LabHost[];

beforeAll(async () => {
  info = await freshLab();
  ({ push, pull } = hostsBy(info));
});

const statusOf = (run: Awaited<ReturnType<typeof provision>>, host: string) => run.report?.hosts.find((h) => h.host === host);
const everything = (run: Awaited<ReturnType<typeof provision>>) => `${run.stdout}\n${run.stderr}\n${JSON.stringify(run.report)}`;

/** Settings every host needs, none of them secret (the secrets come from the vault). */
function plainVars(): Record<string, unknown> {
  const server = info.server!;
  return {
    agent_trento_server_url: `http://${info.gateway}:8080`,
    agent_rabbitmq_host: info.gateway,
    agent_prometheus_remote_write_url: server.remoteWrite.none,
    agent_prometheus_auth: 'none',
    agent_prometheus_tls_ca_cert: server.hostCaCert,
    agent_prometheus_scrape_interval: '10s', // Alloy refuses less (below its 10s scrape_timeout)
  };
}

// ansible-vault makes the vaulted files, as an admin's would be made.
describeWith(ANSIBLE_CORE, 'Ansible Vault', () => {
  const VAULT_PASSWORD = 'lab vault password 2026';
  // Values no output may show; the username is not a secret by its name, only by being vaulted.
  const API_KEY = 'vaulted-api-key-7f3c9a1b';
  const RABBIT_USER = 'vaulteduser42';
  const RABBIT_PASSWORD = 'inline-vault-rabbit-5e8d';
  let inv: string;
  let passFile: string;

  beforeAll(async () => {
    inv = await iniInventory(info, [{ host: pull[0]! }, { host: push[0]! }], plainVars());
    passFile = join(inv, '..', `${inv.split('/').pop()}-vault-pass.txt`);
    await writeFile(passFile, `${VAULT_PASSWORD}\n`);
    // group_vars/vault.yml would not be read (no group "vault"): a folder group_vars/agents/
    // holds the plain file and the encrypted one, as many playbooks keep them.
    const { mkdir, rename } = await import('node:fs/promises');
    await mkdir(join(inv, 'group_vars', 'agents'));
    await rename(join(inv, 'group_vars', 'agents.yml'), join(inv, 'group_vars', 'agents', 'main.yml'));
    const vaulted = join(inv, 'group_vars', 'agents', 'vault.yml');
    await writeFile(vaulted, stringify({ agent_web_api_key: API_KEY, agent_rabbitmq_username: RABBIT_USER }));
    await execFileP('ansible-vault', ['encrypt', '--vault-password-file', passFile, vaulted]);
    // Inline, with the vault id label "lab", per host.
    const { stdout } = await execFileP('ansible-vault', [
      'encrypt_string',
      '--vault-id',
      `lab@${passFile}`,
      RABBIT_PASSWORD,
      '--name',
      'agent_rabbitmq_password',
    ]);
    await mkdir(join(inv, 'host_vars'));
    for (const h of [pull[0]!, push[0]!]) await writeFile(join(inv, 'host_vars', `${h.name}.yml`), stdout);
  });

  it('decrypted values reach agent.yaml on the host and appear nowhere in stdout, stderr or the JSON report (even with --diff -vvv)', async () => {
    const h = pull[0]!;
    await mustOnHost(info, h.name, 'rm -f /etc/trento/agent.yaml'); // whatever ran before, this run writes it
    const run = await provision(['-i', inv, '--limit', h.name, '--diff', '-vvv', '--vault-id', `lab@${passFile}`]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(statusOf(run, h.name)?.status).toBe('changed');
    const agent = await mustOnHost(info, h.name, 'cat /etc/trento/agent.yaml');
    expect(agent).toContain(`api-key: "${API_KEY}"`);
    expect(agent).toContain(`facts-service-url: "amqp://${RABBIT_USER}:${RABBIT_PASSWORD}@${info.gateway}/trento"`);
    const out = everything(run);
    for (const secret of [API_KEY, RABBIT_USER, RABBIT_PASSWORD, VAULT_PASSWORD]) expect(out).not.toContain(secret);
    expect(out).toMatch(/agent\.yaml/); // the diff was shown, masked
    // A SLES 16 host in check mode: agent.yaml and trento.alloy diffs, still nothing shown.
    const check = await provision(['-i', inv, '--limit', push[0]!.name, '--check', '--diff', '-vvv', '--vault-id', `lab@${passFile}`]);
    expect(check.code, check.stdout + check.stderr).toBe(0);
    expect(check.stdout).toMatch(/trento\.alloy/);
    for (const secret of [API_KEY, RABBIT_USER, RABBIT_PASSWORD, VAULT_PASSWORD]) expect(everything(check)).not.toContain(secret);
  });

  it('ANSIBLE_VAULT_PASSWORD_FILE and ansible.cfg vault_password_file (relative to the cfg) work; a second run changes nothing', async () => {
    const h = pull[0]!;
    const again = await provision(['-i', inv, '--limit', h.name, '--check', '--diff'], { ANSIBLE_VAULT_PASSWORD_FILE: passFile });
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(statusOf(again, h.name)?.status).toBe('ok');
    const cfgDir = await mkdtemp(join(tmpdir(), 'tp-cfg-'));
    await writeFile(join(cfgDir, 'pass'), VAULT_PASSWORD);
    await writeFile(join(cfgDir, 'ansible.cfg'), `[defaults]\ninventory = ${inv}\nvault_password_file = pass\n`);
    const viaCfg = await provision(['--check', '--limit', h.name], { ANSIBLE_CONFIG: join(cfgDir, 'ansible.cfg') });
    expect(viaCfg.code, viaCfg.stdout + viaCfg.stderr).toBe(0);
    expect(viaCfg.report?.hosts.map((r) => r.status)).toEqual(['ok']);
    for (const secret of [API_KEY, RABBIT_USER, RABBIT_PASSWORD]) expect(everything(again) + everything(viaCfg)).not.toContain(secret);
  });

  it('a wrong vault password is a clear error naming the file: exit 1, nothing contacted', async () => {
    const wrong = join(inv, '..', `${inv.split('/').pop()}-wrong.txt`);
    await writeFile(wrong, 'not it\n');
    const run = await provision(['-i', inv, '--vault-password-file', wrong]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`ERROR! ${join(inv, 'group_vars', 'agents', 'vault.yml')}: Decryption failed`));
    expect(run.stderr).toContain(wrong);
    // Its report says so (no host, the error), never an earlier run's.
    expect(run.report).toMatchObject({
      exitCode: 1,
      hosts: [],
      settingsErrors: [{ host: 'all', variable: 'inventory', origin: join(inv, 'group_vars', 'agents', 'vault.yml') }],
    });
    const none = await provision(['-i', inv]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/vault\.yml: Attempting to decrypt but no vault secrets found: give --vault-password-file/);
  });
});

describe('ansible.cfg on the hosts', () => {
  it("remote_user and [privilege_escalation] become from ansible.cfg: a sudo user provisions; the inventory's ansible_user wins over remote_user", async () => {
    // A SLES 15 host (pull mode: its check needs nothing from the server side).
    const sudoHost = info.hosts.find((h) => h.sudoUsers.includes('admin') && /^sles-15/.test(h.product))!;
    const inv = await iniInventory(info, [{ host: sudoHost }], {
      ...plainVars(),
      agent_web_api_key: 'cfg-test-api-key',
      agent_rabbitmq_password: 'cfg-test-rabbit',
    });
    const cfgDir = await mkdtemp(join(tmpdir(), 'tp-cfg-'));
    await writeFile(join(cfgDir, 'ansible.cfg'), '[defaults]\nremote_user = admin\nforks = 3\n\n[privilege_escalation]\nbecome = True\nbecome_user = root\n');
    const run = await provision(['-i', inv, '-v'], { ANSIBLE_CONFIG: cfgDir });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain(`Using ${join(cfgDir, 'ansible.cfg')} as config file`);
    expect(
      await mustOnHost(info, sudoHost.name, 'stat -c "%U:%G %a" /etc/trento/agent.yaml; grep -c "Accepted publickey for admin" /var/log/sshd.log'),
    ).toMatch(/^root:root 600\n[1-9]/);
    // become_method su in the cfg: a settings error naming the file, before any connection.
    await writeFile(join(cfgDir, 'ansible.cfg'), '[defaults]\nremote_user = admin\n\n[privilege_escalation]\nbecome = True\nbecome_method = su\n');
    const su = await provision(['-i', inv], { ANSIBLE_CONFIG: cfgDir });
    expect(su.code).toBe(1);
    expect(su.stdout).toMatch(/become_method \(from .*ansible\.cfg \[privilege_escalation\] become_method\): only sudo is supported, not su/);
    // The inventory's ansible_user=root beats remote_user=nosuchuser.
    await writeFile(join(cfgDir, 'ansible.cfg'), '[defaults]\nremote_user = nosuchuser\n');
    const own = await iniInventory(info, [{ host: sudoHost, vars: { ansible_user: 'root' } }], {
      ...plainVars(),
      agent_web_api_key: 'cfg-test-api-key',
      agent_rabbitmq_password: 'cfg-test-rabbit',
    });
    const rootRun = await provision(['-i', own, '--check'], { ANSIBLE_CONFIG: cfgDir });
    expect(rootRun.code, rootRun.stdout + rootRun.stderr).toBe(0);
  });
});

// The in-process client's own jump hosts (same key and known_hosts for every hop). Through
// OpenSSH, the default, jump hosts are ssh_config's business: see openssh.test.ts.
describe('ProxyJump with ansible_connection=paramiko', () => {
  it("reaches a host through another lab host (-o ProxyJump= in ansible_ssh_extra_args): the target sees the bastion's address", async () => {
    const [bastion, target] = [push[0]!, pull[0]!];
    await mustOnHost(info, target.name, ': > /var/log/sshd.log');
    const inv = await iniInventory(
      info,
      [{ host: target, vars: { ansible_connection: 'paramiko', ansible_ssh_extra_args: `'-o ProxyJump=root@${bastion.address}:22'` } }],
      {
        ...plainVars(),
        agent_web_api_key: 'jump-api-key-changed',
        agent_rabbitmq_password: 'jump-rabbit',
      },
    );
    const run = await provision(['-i', inv]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(statusOf(run, target.name)?.status).toBe('changed');
    expect(await mustOnHost(info, target.name, 'grep "Accepted publickey for root" /var/log/sshd.log')).toMatch(
      new RegExp(`from ${bastion.address.replace(/\./g, '\\.')} port`),
    );
    expect(await mustOnHost(info, target.name, 'grep api-key /etc/trento/agent.yaml')).toContain('jump-api-key-changed');
  });

  it('-J and the FAQ\'s ProxyCommand (ssh -W %h:%p) work too; a bastion that refuses is "unreachable" naming the jump host', async () => {
    const [bastion, target] = [push[0]!, pull[0]!];
    const common = `'-o UserKnownHostsFile=${info.knownHosts} -J root@${bastion.address}'`;
    const inv = await iniInventory(info, [{ host: target, vars: { ansible_connection: 'paramiko', ansible_ssh_common_args: common } }], {
      ...plainVars(),
      agent_web_api_key: 'jump-api-key',
      agent_rabbitmq_password: 'jump-rabbit',
    });
    await mustOnHost(info, target.name, ': > /var/log/sshd.log');
    const ok = await provision(['-i', inv, '--check']);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(await mustOnHost(info, target.name, 'grep "Accepted publickey" /var/log/sshd.log')).toContain(`from ${bastion.address} `);
    // The ProxyCommand of Ansible's FAQ does the same.
    const viaCommand = await iniInventory(
      info,
      [
        {
          host: target,
          vars: {
            ansible_connection: 'paramiko',
            ansible_ssh_common_args: `'-o UserKnownHostsFile=${info.knownHosts} -o ProxyCommand="ssh -W %h:%p -q root@${bastion.address}"'`,
          },
        },
      ],
      { ...plainVars(), agent_web_api_key: 'jump-api-key', agent_rabbitmq_password: 'jump-rabbit' },
    );
    await mustOnHost(info, target.name, ': > /var/log/sshd.log');
    const cmd = await provision(['-i', viaCommand, '--check']);
    expect(cmd.code, cmd.stdout + cmd.stderr).toBe(0);
    expect(await mustOnHost(info, target.name, 'grep "Accepted publickey" /var/log/sshd.log')).toContain(`from ${bastion.address} `);
    const refused = await iniInventory(
      info,
      [
        {
          host: target,
          vars: {
            ansible_connection: 'paramiko',
            ansible_ssh_common_args: `'-o UserKnownHostsFile=${info.knownHosts} -o ProxyJump=root@${bastion.address}:2222'`,
          },
        },
      ],
      { ...plainVars(), agent_web_api_key: 'jump-api-key', agent_rabbitmq_password: 'jump-rabbit' },
    );
    const bad = await provision(['-i', refused, '--check', '-T', '5']);
    expect(bad.code).toBe(4);
    expect(statusOf(bad, target.name)?.status).toBe('unreachable');
    expect(bad.stdout).toMatch(new RegExp(`via jump host root@${bastion.address.replace(/\./g, '\\.')}:2222`));
    // The bastion's host key is checked against the same known_hosts, strictly: a file that
    // knows only the target stops the jump with the fix to apply.
    const { readFile } = await import('node:fs/promises');
    const onlyTarget = join(await mkdtemp(join(tmpdir(), 'tp-kh-')), 'known_hosts');
    await writeFile(
      onlyTarget,
      `${(await readFile(info.knownHosts, 'utf8'))
        .split('\n')
        .filter((l) => l.startsWith(`${target.name},`))
        .join('\n')}\n`,
    );
    const unknownBastion = await iniInventory(
      info,
      [{ host: target, vars: { ansible_connection: 'paramiko', ansible_ssh_common_args: `'-o UserKnownHostsFile=${onlyTarget} -J root@${bastion.address}'` } }],
      { ...plainVars(), agent_web_api_key: 'jump-api-key', agent_rabbitmq_password: 'jump-rabbit' },
    );
    const hk = await provision(['-i', unknownBastion, '--check']);
    expect(hk.code).toBe(4);
    expect(hk.stdout).toMatch(
      new RegExp(`via jump host root@${bastion.address.replace(/\./g, '\\.')}:22: unknown host key for ${bastion.address.replace(/\./g, '\\.')}`),
    );
  });
});
