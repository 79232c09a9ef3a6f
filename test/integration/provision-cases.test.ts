// Provisioning cases beyond the default run: an inventory written for the official Trento
// playbook (INI, group `agents`, its variable names), become with sudo, an agent without
// `generate alloy`, an Alloy already in directory mode, and Alloy rejecting the new config.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { SUDO_PASSWORD } from '../lab/hosts.ts';
import type { LabInfo } from '../lab/inventory.ts';
import { shellQuote } from '../../src/exec/command.ts';
import { PATHS } from '../../src/facts/paths.ts';
import { freshLab, hostsBy, iniInventory, type LabHost, mustOnHost, onHost, provision, restartAlloy, SNAPSHOT_COMMAND } from './helpers.ts';

/** A CA certificate for agent_server_ca_cert (the official playbook's test fixture). */
const CA_FIXTURE = new URL('../fixtures/official-playbook/server-ca.pem', import.meta.url);

let info: LabInfo;
let push: LabHost[];
let pull: LabHost[];

// The official playbook's variable names (trento-project/ansible, role agent).
const OFFICIAL_VARS = {
  // The lab's name for its gateway, where its Trento-side Prometheus and nginx run (in every
  // host's /etc/hosts and in the edge's certificate; the lab CA is in the hosts' system bundle).
  trento_server_name: 'lab-gateway',
  agent_web_api_key: 'official-api-key-1234',
  rabbitmq_password: 'rabbit-pass',
  // The official switch for an external RabbitMQ (no rabbitmq_hosts group to discover it in).
  provision_rabbitmq: false,
  agent_prometheus_auth: 'none',
};

beforeAll(async () => {
  info = await freshLab();
  ({ push, pull } = hostsBy(info));
});

const statusOf = (run: Awaited<ReturnType<typeof provision>>, host: string) => run.report?.hosts.find((h) => h.host === host);

/** The lab's hosts with sudo accounts (admin: NOPASSWD, admin-pw: with a password): a SLES 15 and a SLES 16 one. */
function sudoHostPair(): [LabHost, LabHost] {
  const sudoHosts = info.hosts.filter((h) => h.sudoUsers.length > 0);
  const [h15, h16] = [sudoHosts.find((h) => h.product.includes('15')), sudoHosts.find((h) => h.product.includes('16'))];
  expect(h15 && h16, 'the lab has a SLES 15 and a SLES 16 host with sudo accounts').toBeTruthy();
  return [h15!, h16!];
}

describe('inventories and connections', () => {
  it('an INI inventory in the official playbook style provisions unchanged, remote-write URL from trento_server_name', async () => {
    const inv = await iniInventory(info, [{ host: pull[0]! }, { host: push[0]! }], OFFICIAL_VARS);
    const run = await provision(['-i', inv]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(statusOf(run, pull[0]!.name)?.status).toBe('changed');
    expect(statusOf(run, push[0]!.name)?.status).toBe('changed');
    const agent = await mustOnHost(info, push[0]!.name, 'cat /etc/trento/agent.yaml');
    expect(agent).toContain('server-url: "http://lab-gateway"');
    expect(agent).toContain('prometheus-url: "https://lab-gateway/prometheus/api/v1/write"');
    expect(agent).toContain('facts-service-url: "amqp://trento:rabbit-pass@localhost/trento"');
  });

  it('one machine under two names, or a clone that kept the same /etc/machine-id: each fails before any change, naming the other; an uninstall, which needs no agent ID, goes on (also without a machine-id)', async () => {
    const [h, clone] = [pull[2]!, pull[3]!];
    const alias = `${h.name}-alias`;
    const before = await mustOnHost(info, h.name, SNAPSHOT_COMMAND);
    const twice = await iniInventory(info, [{ host: h }, { host: { ...h, name: alias } }], OFFICIAL_VARS);
    const run = await provision(['-i', twice]);
    expect(run.code, run.stdout + run.stderr).toBe(2);
    for (const [name, other] of [
      [h.name, alias],
      [alias, h.name],
    ]) {
      expect(statusOf(run, name!)?.status).toBe('failed');
      expect(statusOf(run, name!)?.message).toMatch(
        new RegExp(`^its agent ID [0-9a-f-]{36} \\(from /etc/machine-id\\) is also ${other}'s: the same machine listed twice`),
      );
    }
    expect(await mustOnHost(info, h.name, SNAPSHOT_COMMAND)).toBe(before);
    // A clone: another host with h's machine-id. --check says so too.
    const machineId = (await mustOnHost(info, h.name, 'cat /etc/machine-id')).trim();
    await mustOnHost(info, clone.name, `cp -p /etc/machine-id /root/machine-id.good && echo ${machineId} > /etc/machine-id`);
    try {
      const check = await provision(['-i', await iniInventory(info, [{ host: h }, { host: clone }], OFFICIAL_VARS), '--check']);
      expect(check.code, check.stdout + check.stderr).toBe(2);
      expect(statusOf(check, clone.name)?.message).toContain(`is also ${h.name}'s`);
      expect(statusOf(check, h.name)?.message).toContain(`is also ${clone.name}'s`);
      // Uninstall renders no agent ID: both hosts are planned, the clone also with its
      // machine-id emptied (a template's usual state before its first boot).
      const clones = await iniInventory(info, [{ host: h }, { host: clone }], OFFICIAL_VARS);
      for (const prepare of ['true', ': > /etc/machine-id']) {
        await mustOnHost(info, clone.name, prepare);
        const uninstall = await provision(['-i', clones, '--uninstall', '--check']);
        expect(uninstall.code, uninstall.stdout + uninstall.stderr).toBe(0);
        for (const name of [h.name, clone.name]) expect(statusOf(uninstall, name)?.status, `${name} (${prepare})`).toMatch(/^(changed|ok)$/);
      }
      const install = await provision(['-i', clones, '--check']);
      expect(statusOf(install, clone.name)?.message).toMatch(/^\/etc\/machine-id: .*run systemd-machine-id-setup on the host/);
    } finally {
      await mustOnHost(info, clone.name, 'mv -f /root/machine-id.good /etc/machine-id');
    }
  });

  it('become: a sudo user without a password (NOPASSWD) provisions; with a password given it works; without one it is a clear error', async () => {
    const [h15, h16] = sudoHostPair();
    const inv = await iniInventory(
      info,
      [
        { host: h15, vars: { ansible_user: 'admin', ansible_become: 'true' } },
        // the password through another variable, as inventories point it at a vaulted one
        {
          host: h16,
          vars: {
            ansible_user: 'admin-pw',
            ansible_become: 'yes',
            ansible_become_password: "'{{ lab_sudo_password }}'",
            lab_sudo_password: 'lab-sudo-password',
          },
        },
      ],
      OFFICIAL_VARS,
    );
    const run = await provision(['-i', inv]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    for (const h of [h15, h16]) expect(await mustOnHost(info, h.name, 'stat -c "%U:%G %a" /etc/trento/agent.yaml')).toBe('root:root 600\n');
    expect(run.stdout + run.stderr + JSON.stringify(run.report)).not.toContain('lab-sudo-password');

    // One group_vars password for a mixed fleet: the NOPASSWD account's sudo never reads it, and
    // the line must not reach the host's shell as a command (it would run as root).
    const hostile = 'x; touch /root/tp-password-ran; echo PASSWORD-RAN';
    const unread = await iniInventory(
      info,
      [{ host: h15, vars: { ansible_user: 'admin', ansible_become: 'true', ansible_become_password: `'${hostile}'` } }],
      OFFICIAL_VARS,
    );
    const again = await provision(['-i', unread]);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(await mustOnHost(info, h15.name, 'ls /root/tp-password-ran 2>&1 || true')).toMatch(/No such file/);
    expect(again.stdout + again.stderr + JSON.stringify(again.report)).not.toMatch(/PASSWORD-RAN|tp-password-ran/);

    // ansible_become_exe: a wrapper that notes each call for the audit, then is sudo; it runs
    // instead of sudo, with sudo's arguments.
    await mustOnHost(
      info,
      h15.name,
      `printf '%s\\n' '#!/bin/sh' 'echo "$*" >> /tmp/sudo-audit.log' 'exec sudo "$@"' > /usr/local/bin/sudo-audit && chmod 755 /usr/local/bin/sudo-audit; rm -f /tmp/sudo-audit.log`,
    );
    const audited = await iniInventory(
      info,
      [{ host: h15, vars: { ansible_user: 'admin', ansible_become: 'true', ansible_become_exe: '/usr/local/bin/sudo-audit' } }],
      OFFICIAL_VARS,
    );
    const viaWrapper = await provision(['-i', audited, '--check']);
    expect(viaWrapper.code, viaWrapper.stdout + viaWrapper.stderr).toBe(0);
    expect(await mustOnHost(info, h15.name, 'cat /tmp/sudo-audit.log')).toMatch(/^-H -S -n -u root -- /);

    // No become at all for a sudo account: the facts see they do not run as root, and say so
    // before planning anything (a plan from a non-root view would call agent.yaml absent).
    const notRoot = await iniInventory(info, [{ host: h15, vars: { ansible_user: 'admin' } }], OFFICIAL_VARS);
    const refused = await provision(['-i', notRoot, '--check']);
    expect(refused.code).toBe(2);
    expect(statusOf(refused, h15.name)?.message).toMatch(/run as uid \d+, not root: .*ansible_become=true/);

    // A sudo password with braces, written as Ansible users write one: !unsafe in host_vars. It
    // reaches sudo as written (evaluated, "p{{w}}" would be "p" and then some), and is masked.
    const braces = 'lab-{{sudo}}-%{%pw%}';
    await mustOnHost(info, h16.name, `printf '%s\\n' 'admin-pw:${braces}' | chpasswd`);
    try {
      const unsafe = await iniInventory(info, [{ host: h16, vars: { ansible_user: 'admin-pw', ansible_become: 'true' } }], OFFICIAL_VARS);
      await mkdir(join(unsafe, 'host_vars'));
      await writeFile(join(unsafe, 'host_vars', `${h16.name}.yml`), `ansible_become_password: !unsafe '${braces}'\n`);
      const withBraces = await provision(['-i', unsafe, '-vvv']);
      expect(withBraces.code, withBraces.stdout + withBraces.stderr).toBe(0);
      expect(withBraces.stdout + withBraces.stderr + JSON.stringify(withBraces.report)).not.toContain(braces);
    } finally {
      await mustOnHost(info, h16.name, `printf '%s\\n' 'admin-pw:${SUDO_PASSWORD}' | chpasswd`);
    }

    const noPassword = await iniInventory(info, [{ host: h16, vars: { ansible_user: 'admin-pw', ansible_become: 'true' } }], OFFICIAL_VARS);
    const failed = await provision(['-i', noPassword]);
    expect(failed.code).toBe(2);
    expect(statusOf(failed, h16.name)?.message).toMatch(/become failed: sudo wants a password: give ansible_become_password/);
  });
});

describe('become where ssh_config picks the login user', () => {
  it('no ansible_user, ssh_config says `User admin`: sudo runs (as Ansible always runs it) and the facts are read as root', async () => {
    const [h15] = sudoHostPair();
    const dir = await mkdtemp(join(tmpdir(), 'tp-ssh-config-'));
    const config = join(dir, 'ssh_config');
    await writeFile(config, `Host ${h15.address}\n  User admin\n`);
    // The lab's known_hosts and key as the other inventories give them; the login user only from the file.
    // A sudo that notes who called it (ansible_become_exe), then is sudo.
    await mustOnHost(
      info,
      h15.name,
      `printf '%s\\n' '#!/bin/sh' 'id -un >> /tmp/sudo-caller.log' 'exec sudo "$@"' > /usr/local/bin/sudo-caller && chmod 755 /usr/local/bin/sudo-caller; rm -f /tmp/sudo-caller.log`,
    );
    const vars = { ansible_become: 'true', ansible_become_exe: '/usr/local/bin/sudo-caller', ansible_ssh_extra_args: `'-F ${config}'` };
    const inv = await iniInventory(info, [{ host: h15, vars }], OFFICIAL_VARS);
    const run = await provision(['-i', inv, '--check', '-vv']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout + run.stderr).toMatch(/ \| EXEC \| facts script: ssh \(ssh_config or root\)@\S+ \/usr\/local\/bin\/sudo-caller -H -S -n -u root /);
    // The login was admin's, as the file says, and sudo made it root.
    expect(await mustOnHost(info, h15.name, 'cat /tmp/sudo-caller.log')).toBe('admin\n');
  });
});

describe('sudo options (become_flags), as Ansible passes them', () => {
  it("sudo gets the admin's flags (-i: root's login shell; -s with a password), -n is dropped when a password is given, as Ansible does; a flag sudo cannot run the toolkit with is refused before any host is touched", async () => {
    const [h15, h16] = sudoHostPair();
    // A wrapper that notes sudo's arguments, then is sudo (ansible_become_exe).
    const audit =
      "printf '%s\\n' '#!/bin/sh' 'echo \"$*\" >> /tmp/sudo-flags.log' 'exec sudo \"$@\"' > /usr/local/bin/sudo-audit && chmod 755 /usr/local/bin/sudo-audit";
    for (const h of [h15, h16])
      await mustOnHost(info, h.name, `${audit}; rm -f /tmp/sudo-flags.log /root/tp-login-shell; echo 'touch /root/tp-login-shell' > /root/.bash_profile`);
    const exe = { ansible_become: 'true', ansible_become_exe: '/usr/local/bin/sudo-audit' };
    const inv = await iniInventory(
      info,
      [
        { host: h15, vars: { ansible_user: 'admin', ...exe, ansible_become_flags: "'-i --preserve-env=LANG'" } },
        // With the password the default flags' -n must go, or sudo refuses to ask for it; -s: the
        // command through root's shell, which must not expand what the toolkit's command holds.
        { host: h16, vars: { ansible_user: 'admin-pw', ...exe, ansible_become_password: SUDO_PASSWORD, ansible_sudo_flags: "'-H -S -n -E -s'" } },
      ],
      OFFICIAL_VARS,
    );
    const run = await provision(['-i', inv]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    for (const h of [h15, h16]) expect(await mustOnHost(info, h.name, 'stat -c "%U:%G %a" /etc/trento/agent.yaml')).toBe('root:root 600\n');
    expect(await mustOnHost(info, h15.name, 'head -1 /tmp/sudo-flags.log')).toMatch(/^-i --preserve-env=LANG -n -u root -- /);
    // -i ran root's login shell, which read its profile
    expect(await mustOnHost(info, h15.name, 'ls /root/tp-login-shell')).toBe('/root/tp-login-shell\n');
    expect(await mustOnHost(info, h16.name, 'head -1 /tmp/sudo-flags.log')).toMatch(/^-H -S -E -s -p {2}-u root -- /);
    expect(run.stdout + run.stderr).not.toContain(SUDO_PASSWORD);

    const refused = await iniInventory(info, [{ host: h15, vars: { ansible_user: 'admin', ...exe, ansible_become_flags: "'-H -b'" } }], OFFICIAL_VARS);
    await mustOnHost(info, h15.name, 'rm -f /tmp/sudo-flags.log');
    const settings = await provision(['-i', refused]);
    expect(settings.code).toBe(1);
    expect(settings.stdout + settings.stderr).toMatch(/ansible_become_flags.*"-b" cannot be honoured: the toolkit waits for its script's end/);
    expect(await mustOnHost(info, h15.name, 'ls /tmp/sudo-flags.log 2>&1 || true')).toMatch(/No such file/);
    for (const h of [h15, h16]) await mustOnHost(info, h.name, 'rm -f /root/.bash_profile /root/tp-login-shell /tmp/sudo-flags.log');
  });
});

describe("sudo's refusals, named with what to do", () => {
  it('a wrong sudo password, and sudoers requiring a terminal (requiretty): the host fails saying which, before any change', async () => {
    const [h15, h16] = sudoHostPair();
    const wrong = await iniInventory(
      info,
      [{ host: h16, vars: { ansible_user: 'admin-pw', ansible_become: 'true', ansible_become_password: 'not-the-password' } }],
      OFFICIAL_VARS,
    );
    // sudo's own log counts the attempts: one, not the three sudo -S would read from the
    // script's stdin (with pam_faillock's deny=3, a mistyped -K would lock the account).
    await mustOnHost(
      info,
      h16.name,
      "rm -f /var/log/tp-sudo.log; printf 'Defaults:admin-pw logfile=/var/log/tp-sudo.log\\n' > /etc/sudoers.d/zz-tp-log && chmod 440 /etc/sudoers.d/zz-tp-log && visudo -cq",
    );
    let refused: Awaited<ReturnType<typeof provision>>;
    try {
      refused = await provision(['-i', wrong, '--check']);
      expect(await mustOnHost(info, h16.name, "grep -o '[0-9]* incorrect password attempt' /var/log/tp-sudo.log")).toBe('1 incorrect password attempt\n');
    } finally {
      await mustOnHost(info, h16.name, 'rm -f /etc/sudoers.d/zz-tp-log /var/log/tp-sudo.log');
    }
    expect(refused.code, refused.stdout + refused.stderr).toBe(2);
    expect(statusOf(refused, h16.name)?.message).toMatch(
      /become failed: sudo refused the password: check where it came from \(ansible_become_password, -K, --become-password-file/,
    );
    expect(refused.stdout + refused.stderr + JSON.stringify(refused.report)).not.toContain('not-the-password');

    await mustOnHost(info, h15.name, "printf 'Defaults:admin requiretty\\n' > /etc/sudoers.d/zz-tp-tty && chmod 440 /etc/sudoers.d/zz-tp-tty && visudo -cq");
    try {
      const tty = await iniInventory(info, [{ host: h15, vars: { ansible_user: 'admin', ansible_become: 'true' } }], OFFICIAL_VARS);
      const run = await provision(['-i', tty]);
      expect(run.code, run.stdout + run.stderr).toBe(2);
      expect(statusOf(run, h15.name)?.message).toMatch(/become failed: sudoers requires a terminal for this user \(Defaults requiretty\)/);
    } finally {
      await mustOnHost(info, h15.name, 'rm -f /etc/sudoers.d/zz-tp-tty');
    }
  });
});

describe('hosts in other states', () => {
  it('an agent without generate alloy (3.0.2): no ExecStartPre and no configure-alloy.sh, still converges', async () => {
    const h = push[1] ?? push[0]!;
    await mustOnHost(info, h.name, 'zypper -n -q install trento-agent-3.0.2 >/dev/null');
    const run = await provision(['--inventory', info.inventoryDir, '--limit', h.name]);
    expect(run.code, run.stdout).toBe(0);
    expect(statusOf(run, h.name)?.warnings.join()).toMatch(/no 'generate alloy'/);
    const state = await mustOnHost(
      info,
      h.name,
      'cat /etc/systemd/system/trento-agent.service.d/*.conf; ls /usr/share/trento 2>&1; rpm -q --qf "%{VERSION}\\n" trento-agent',
    );
    expect(state).not.toMatch(/ExecStartPre/);
    expect(state).toMatch(/No such file/);
    expect(state).toMatch(/^3\.0\.2$/m);
  });

  it("a configure-alloy.sh that is not the toolkit's (a trento-agent release's own) is neither replaced, nor run by the drop-in, nor removed by uninstall", async () => {
    const h = push[0]!;
    const onHostOnly = (...args: string[]) => provision(['--inventory', info.inventoryDir, '--limit', h.name, ...args]);
    const theirs = '#!/bin/sh\n# shipped by trento-agent\nexit 0\n';
    const look = `sha256sum ${PATHS.configureAlloyScript}; cat ${PATHS.agentDropIn} 2>/dev/null | grep -c ExecStartPre || true`;
    const theirsSum = createHash('sha256').update(theirs).digest('hex');
    expect((await onHostOnly()).code).toBe(0);
    await mustOnHost(info, h.name, `printf %s ${shellQuote(theirs)} > ${PATHS.configureAlloyScript}`);
    try {
      const run = await onHostOnly();
      expect(run.code, run.stdout).toBe(0);
      expect(statusOf(run, h.name)?.warnings.join()).toMatch(/configure-alloy\.sh is not trento-provision's .* left as it is/);
      expect(await mustOnHost(info, h.name, look)).toBe(`${theirsSum}  ${PATHS.configureAlloyScript}\n0\n`);
      expect((await onHostOnly('--uninstall')).code).toBe(0);
      expect((await mustOnHost(info, h.name, look)).split('\n')[0]).toBe(`${theirsSum}  ${PATHS.configureAlloyScript}`);
    } finally {
      await mustOnHost(info, h.name, `rm -f ${PATHS.configureAlloyScript}`);
    }
    // The toolkit's own goes back in and runs again.
    expect((await onHostOnly()).code).toBe(0);
    expect((await mustOnHost(info, h.name, look)).split('\n')[1]).toBe('1');
  });

  it('a node_exporter the admin stopped is started and proven serving: the check waits for it to listen (one try right after the start failed a host that was fine)', async () => {
    const h = pull[0]!;
    const onHostOnly = () => provision(['--inventory', info.inventoryDir, '--limit', h.name]);
    expect((await onHostOnly()).code).toBe(0);
    await mustOnHost(info, h.name, 'systemctl stop prometheus-node_exporter.service');
    const run = await onHostOnly();
    expect(run.code, run.stdout).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^${h.name} \\| CHANGED \\| start prometheus-node_exporter\\.service$`, 'm'));
    expect(statusOf(run, h.name)?.checks).toContainEqual({ check: 'node_exporter serves /metrics', ok: true });
  });

  it('a unit the run must enable that the admin masked: the host fails before any change, naming it and what to do, in --check too; never unmasked', async () => {
    const h = pull[0]!;
    const onHostOnly = (...args: string[]) => provision(['--inventory', info.inventoryDir, '--limit', h.name, ...args]);
    expect((await onHostOnly()).code).toBe(0);
    // Masked while it runs (a mask stops nothing): the plan would enable it again.
    await mustOnHost(info, h.name, 'systemctl mask prometheus-node_exporter.service');
    const before = await mustOnHost(info, h.name, 'sha256sum /etc/trento/agent.yaml');
    const refused = /prometheus-node_exporter\.service is masked \(systemctl mask\): .*run 'systemctl unmask prometheus-node_exporter\.service' on the host/;
    try {
      for (const args of [['--check'], []]) {
        // with a change to agent.yaml pending, which must not be made either
        const run = await onHostOnly('-e', 'agent_prometheus_node_exporter_target=127.0.0.2:9100', ...args);
        expect(run.code, run.stdout).toBe(2);
        expect(statusOf(run, h.name)?.status).toBe('failed');
        expect(run.stdout).toMatch(refused);
      }
      expect(await mustOnHost(info, h.name, 'sha256sum /etc/trento/agent.yaml; systemctl is-enabled prometheus-node_exporter.service || true')).toBe(
        `${before}masked\n`,
      );
    } finally {
      await mustOnHost(info, h.name, 'systemctl unmask prometheus-node_exporter.service');
    }
    expect((await onHostOnly()).code).toBe(0);
  });

  it("Alloy in single-file mode whose folder Alloy would refuse (a clashing file of the admin's): CONFIG_FILE is not switched, Alloy runs on", async () => {
    const h = push[1] ?? push[0]!;
    // Set up, then uninstalled: CONFIG_FILE is the package's single file again, Alloy keeps running.
    expect((await provision(['--inventory', info.inventoryDir, '--limit', h.name])).code).toBe(0);
    expect((await provision(['--inventory', info.inventoryDir, '--limit', h.name, '--uninstall'])).code).toBe(0);
    const sysconfig = await mustOnHost(info, h.name, 'grep ^CONFIG_FILE /etc/sysconfig/alloy');
    expect(sysconfig).toMatch(/^CONFIG_FILE="?\/etc\/alloy\/config\.alloy"?\n$/);
    // In single-file mode Alloy never reads this file; in directory mode it clashes with trento.alloy.
    await mustOnHost(
      info,
      h.name,
      `printf 'prometheus.remote_write "trento" {\\n}\\n' > /etc/alloy/user.alloy && chown root:alloy /etc/alloy/user.alloy && chmod 640 /etc/alloy/user.alloy`,
    );
    const run = await provision(['--inventory', info.inventoryDir, '--limit', h.name]);
    const state = await mustOnHost(
      info,
      h.name,
      'grep ^CONFIG_FILE /etc/sysconfig/alloy; ls /var/lib/trento-provision/alloy-CONFIG_FILE.orig /etc/alloy/trento.alloy 2>&1; cat /var/lib/trento-provision/pending-handlers; curl -sf 127.0.0.1:12345/-/ready',
    );
    await mustOnHost(info, h.name, 'rm -f /etc/alloy/user.alloy');
    expect(run.code, run.stdout).toBe(2);
    expect(run.stdout).toMatch(/prometheus\.remote_write\.trento/); // Alloy's own words name the clash
    // Nothing that would make Alloy load the refused folder at its next start.
    expect(state).toMatch(new RegExp(`^${sysconfig.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    expect(state).toMatch(/alloy-CONFIG_FILE\.orig'?: No such file/);
    expect(state).toMatch(/trento\.alloy'?: No such file/);
    expect(state).not.toMatch(/restart alloy/);
    expect(state).toMatch(/Alloy is ready\.\n$/);
    const fixed = await provision(['--inventory', info.inventoryDir, '--limit', h.name]);
    expect(fixed.code, fixed.stdout).toBe(0);
    expect(await mustOnHost(info, h.name, 'grep ^CONFIG_FILE /etc/sysconfig/alloy')).toBe('CONFIG_FILE="/etc/alloy/"\n');
  });

  it('Alloy in single-file mode on a file not named *.alloy (a config.river kept from Grafana Agent Flow): the host is refused before any change, naming the file, since directory mode would drop it; renamed, the next run switches', async () => {
    const h = push[1] ?? push[0]!;
    // Alloy installed by a run, then uninstalled: single-file mode again, Alloy running.
    expect((await provision(['--inventory', info.inventoryDir, '--limit', h.name])).code).toBe(0);
    expect((await provision(['--inventory', info.inventoryDir, '--limit', h.name, '--uninstall'])).code).toBe(0);
    // The admin's pipeline in a single file of another name, which Alloy loads as CONFIG_FILE.
    await mustOnHost(
      info,
      h.name,
      `printf 'prometheus.exporter.self "admin" {\\n}\\n' > /etc/alloy/config.river && chown root:alloy /etc/alloy/config.river && chmod 640 /etc/alloy/config.river && sed -i 's|^CONFIG_FILE=.*|CONFIG_FILE="/etc/alloy/config.river"|' /etc/sysconfig/alloy && ${restartAlloy()}`,
    );
    const state = () =>
      mustOnHost(
        info,
        h.name,
        'grep ^CONFIG_FILE /etc/sysconfig/alloy; ls /etc/alloy/trento.alloy 2>&1; curl -sf 127.0.0.1:12345/api/v0/web/components | grep -o "prometheus.exporter.self.admin" | sort -u',
      );
    const loaded = /^CONFIG_FILE="\/etc\/alloy\/config\.river"\n.*trento\.alloy'?: No such file.*\nprometheus\.exporter\.self\.admin\n$/s;
    expect(await state()).toMatch(loaded);
    const refusal = /Alloy's CONFIG_FILE in \/etc\/sysconfig\/alloy is \/etc\/alloy\/config\.river, whose name does not end in \.alloy: .*rename it/;
    for (const args of [['--check', '--diff'], []]) {
      const run = await provision(['--inventory', info.inventoryDir, '--limit', h.name, ...args]);
      expect(run.code, run.stdout).toBe(2);
      expect(run.stdout).toMatch(refusal);
      // Nothing changed: the admin's file is still what Alloy runs.
      expect(await state(), args.join(' ')).toMatch(loaded);
    }
    // Renamed as the message says: the run switches to directory mode, which loads it beside trento.alloy.
    await mustOnHost(
      info,
      h.name,
      `mv /etc/alloy/config.river /etc/alloy/admin.alloy && sed -i 's|^CONFIG_FILE=.*|CONFIG_FILE="/etc/alloy/admin.alloy"|' /etc/sysconfig/alloy && ${restartAlloy()}`,
    );
    try {
      const fixed = await provision(['--inventory', info.inventoryDir, '--limit', h.name]);
      expect(fixed.code, fixed.stdout).toBe(0);
      expect(await state()).toBe('CONFIG_FILE="/etc/alloy/"\n/etc/alloy/trento.alloy\nprometheus.exporter.self.admin\n');
    } finally {
      // The host as the next tests expect it: provisioned from the package's single file (the
      // line uninstall would put back), no file of the admin's.
      await provision(['--inventory', info.inventoryDir, '--limit', h.name, '--uninstall']);
      await mustOnHost(
        info,
        h.name,
        `rm -f /etc/alloy/admin.alloy /etc/alloy/config.river && sed -i 's|^CONFIG_FILE=.*|CONFIG_FILE="/etc/alloy/config.alloy"|' /etc/sysconfig/alloy && ${restartAlloy()}`,
      );
      expect((await provision(['--inventory', info.inventoryDir, '--limit', h.name])).code).toBe(0);
    }
  });

  it('Alloy already in directory mode elsewhere: trento.alloy goes there, CONFIG_FILE is left alone, uninstall keeps it', async () => {
    const h = push[0]!;
    await provision(['--inventory', info.inventoryDir, '--limit', h.name, '--uninstall']);
    const moveTo = (dir: string) =>
      mustOnHost(
        info,
        h.name,
        `mkdir -p ${dir} && cp /etc/alloy/config.alloy ${dir}/ && chown -R root:alloy ${dir} && chmod 0770 ${dir} && sed -i 's|^CONFIG_FILE=.*|CONFIG_FILE="${dir}"|' /etc/sysconfig/alloy && ${restartAlloy()}`,
      );
    // Inside /etc/alloy (0770 root:alloy): the alloy account could swap conf for a link while root
    // writes there (to a folder root sources), so the toolkit refuses it, saying what to do.
    await moveTo('/etc/alloy/conf');
    // Said by the facts, so --check says it too.
    const checked = await provision(['--inventory', info.inventoryDir, '--limit', h.name, '--check']);
    expect(checked.code, checked.stdout).toBe(2);
    expect(statusOf(checked, h.name)?.message).toMatch(
      /^Alloy's configuration folder \(CONFIG_FILE in \/etc\/sysconfig\/alloy\): \/etc\/alloy\/conf is inside \/etc\/alloy/,
    );
    const refused = await provision(['--inventory', info.inventoryDir, '--limit', h.name]);
    expect(refused.code, refused.stdout).toBe(2);
    expect(refused.stdout).toMatch(
      /\/etc\/alloy\/conf is inside \/etc\/alloy, which an account other than root can write to .*make \/etc\/alloy writable by root alone/,
    );
    expect(await mustOnHost(info, h.name, 'ls -A /etc/alloy/conf; ls -A /etc/alloy | grep -c "^\\.tp-" || true')).toBe('config.alloy\n0\n');
    // A folder of its own under /etc (root's alone): fine, though alloy may write in it.
    // With a trento.alloy left in /etc/alloy from when Alloy loaded it (its credentials in it).
    await mustOnHost(
      info,
      h.name,
      'rm -rf /etc/alloy/conf && printf \'prometheus.remote_write "trento" {\\n}\\n\' > /etc/alloy/trento.alloy && chown alloy:alloy /etc/alloy/trento.alloy && chmod 0640 /etc/alloy/trento.alloy',
    );
    await moveTo('/etc/alloy-site');
    const run = await provision(['--inventory', info.inventoryDir, '--limit', h.name]);
    expect(run.code, run.stdout).toBe(0);
    const ids = statusOf(run, h.name)!.changes.map((c) => c.id);
    expect(ids).toContain('file:/etc/alloy-site/trento.alloy');
    expect(ids).toContain('file:/etc/alloy/trento.alloy');
    expect(statusOf(run, h.name)!.warnings.join()).toMatch(
      /\/etc\/alloy\/trento\.alloy is Trento's, left from when Alloy loaded \/etc\/alloy\/ .* it is removed/,
    );
    expect(await mustOnHost(info, h.name, 'ls /etc/alloy')).not.toMatch(/trento\.alloy/);
    expect(ids.join()).not.toMatch(/line:/);
    const state = await mustOnHost(info, h.name, 'grep ^CONFIG_FILE /etc/sysconfig/alloy; ls /etc/alloy-site; curl -s 127.0.0.1:12345/-/lab/config');
    expect(state).toMatch(/^CONFIG_FILE="\/etc\/alloy-site"$/m);
    expect(state).toMatch(/trento\.alloy/);
    const un = await provision(['--inventory', info.inventoryDir, '--limit', h.name, '--uninstall']);
    expect(un.code).toBe(0);
    expect(await mustOnHost(info, h.name, 'grep ^CONFIG_FILE /etc/sysconfig/alloy; ls /etc/alloy-site')).toBe('CONFIG_FILE="/etc/alloy-site"\nconfig.alloy\n');
  });

  it("Alloy rejects the new config (a clashing user file): the old trento.alloy stays, Alloy stays ready, the host fails with Alloy's error", async () => {
    const h = push[0]!;
    const first = await provision(['--inventory', info.inventoryDir, '--limit', h.name]);
    expect(first.code, first.stdout).toBe(0);
    const dir = (await mustOnHost(info, h.name, 'sed -n \'s/^CONFIG_FILE="\\(.*\\)"/\\1/p\' /etc/sysconfig/alloy')).trim().replace(/\/$/, '');
    const before = await mustOnHost(info, h.name, `sha256sum ${dir}/trento.alloy`);
    // A user file that declares Trento's remote_write component too.
    await mustOnHost(
      info,
      h.name,
      `printf 'prometheus.remote_write "trento" {\\n}\\n' > ${dir}/user.alloy && chown root:alloy ${dir}/user.alloy && chmod 640 ${dir}/user.alloy`,
    );
    const run = await provision(['--inventory', info.inventoryDir, '--limit', h.name, '-e', 'agent_prometheus_scrape_interval=30s']);
    expect(run.code).toBe(2);
    const r = statusOf(run, h.name)!;
    expect(r.status).toBe('failed');
    expect(run.stdout).toMatch(/prometheus\.remote_write\.trento/); // Alloy's own words name the clash
    expect(await mustOnHost(info, h.name, `sha256sum ${dir}/trento.alloy`)).toBe(before);
    expect(await mustOnHost(info, h.name, `curl -sf 127.0.0.1:12345/-/ready; ls -a ${dir} | grep -c '^\\.tp-' || true`)).toBe('Alloy is ready.\n0\n');
    await mustOnHost(info, h.name, `rm -f ${dir}/user.alloy`);
  });

  it('Alloy cannot read a file the new config needs: the reload answers 400, the previous file is put back and Alloy runs it', async () => {
    const h = push[0]!;
    const dir = (await mustOnHost(info, h.name, 'sed -n \'s/^CONFIG_FILE="\\(.*\\)"/\\1/p\' /etc/sysconfig/alloy')).trim().replace(/\/$/, '');
    const before = await mustOnHost(info, h.name, `sha256sum ${dir}/trento.alloy`);
    // Readable by root (so validation as root passes) but not by the alloy user.
    // (A block no other file declares: `alloy validate` must pass it, only the reload fails.)
    await mustOnHost(info, h.name, `printf 'prometheus.exporter.self "private" {\\n}\\n' > ${dir}/private.alloy && chmod 600 ${dir}/private.alloy`);
    const run = await provision(['--inventory', info.inventoryDir, '--limit', h.name, '-e', 'agent_prometheus_scrape_interval=45s']);
    expect(run.code).toBe(2);
    expect(run.stdout).toMatch(/Alloy rejected the new configuration \(HTTP 400\).*permission denied/s);
    expect(run.stdout).toMatch(/restored the previous/);
    expect(await mustOnHost(info, h.name, `sha256sum ${dir}/trento.alloy`)).toBe(before);
    expect(await mustOnHost(info, h.name, 'curl -sf 127.0.0.1:12345/-/ready')).toBe('Alloy is ready.\n');
    await mustOnHost(info, h.name, `rm -f ${dir}/private.alloy && curl -sf -X POST 127.0.0.1:12345/-/reload`);
    const again = await provision(['--inventory', info.inventoryDir, '--limit', h.name, '-e', 'agent_prometheus_scrape_interval=45s']);
    expect(again.code, again.stdout).toBe(0);
  });

  /** CONFIG_FILE back as Alloy's package has it (single-file mode). */
  /** Shell printing a pipeline of the admin's that sends through Trento's remote_write. */
  const ADMIN_PIPELINE_VIA_TRENTO = `printf 'prometheus.exporter.self "admin" {\\n}\\n\\nprometheus.scrape "admin" {\\n  targets    = prometheus.exporter.self.admin.targets\\n  forward_to = [prometheus.remote_write.trento.receiver]\\n}\\n'`;
  const SINGLE_FILE_MODE = `sed -i 's|^CONFIG_FILE=.*|CONFIG_FILE="/etc/alloy/config.alloy"|' /etc/sysconfig/alloy`;
  /** A run of the lab's inventory on this host alone. */
  const onHostOnly = (h: LabHost, ...args: string[]) => provision(['--inventory', info.inventoryDir, '--limit', h.name, ...args]);

  /** The host's Alloy as its package has it (single-file mode, nothing of the toolkit's), then
   *  provisioned: the state the uninstall tests below start from, whatever tests before left. */
  async function freshlyProvisioned(h: LabHost) {
    // Installed (Alloy with it), then undone, then set back as the package has it.
    expect((await onHostOnly(h)).code).toBe(0);
    expect((await onHostOnly(h, '--uninstall')).code).toBe(0);
    await mustOnHost(info, h.name, `${SINGLE_FILE_MODE} && rm -f /var/lib/trento-provision/alloy-CONFIG_FILE.* && ${restartAlloy()}`);
    expect((await onHostOnly(h)).code).toBe(0);
  }

  it('uninstall where the admin stopped Alloy, or removed it: the uninstall succeeds, starts nothing, and the next is a no-op', async () => {
    const h = push[0]!;
    await freshlyProvisioned(h);
    const uninstall = () => onHostOnly(h, '--uninstall');
    const statusOn = () =>
      mustOnHost(
        info,
        h.name,
        'systemctl is-active alloy.service || true; grep ^CONFIG_FILE /etc/sysconfig/alloy 2>&1; ls /var/lib/trento-provision/alloy-CONFIG_FILE.orig 2>&1 || true',
      );
    // Stopped: CONFIG_FILE goes back, Alloy is not started (it reads the file when the admin starts it).
    await mustOnHost(info, h.name, 'systemctl stop alloy.service');
    const stopped = await uninstall();
    expect(stopped.code, stopped.stdout).toBe(0);
    expect(await statusOn()).toMatch(/^inactive\nCONFIG_FILE="\/etc\/alloy\/config\.alloy"\n.*No such file/s);
    expect(statusOf(await uninstall(), h.name)?.status).toBe('ok');
    await mustOnHost(info, h.name, 'systemctl start alloy.service');

    // Removed with its sysconfig file (zypper remove): the saved CONFIG_FILE line is forgotten,
    // the rest of the uninstall goes on (the agent is removed).
    expect((await onHostOnly(h)).code).toBe(0);
    await mustOnHost(info, h.name, 'zypper -n -q remove alloy >/dev/null 2>&1; rm -f /etc/sysconfig/alloy /etc/sysconfig/alloy.rpmsave');
    const removed = await uninstall();
    expect(removed.code, removed.stdout).toBe(0);
    expect(removed.stdout).toMatch(/forget the saved CONFIG_FILE line/);
    // The toolkit's Alloy is gone: its record forgets it (an Alloy the admin installs again is theirs).
    expect(removed.stdout).toMatch(/forget alloy in the record of what trento-provision installed \(no longer installed\)/);
    expect(await mustOnHost(info, h.name, 'cat /var/lib/trento-provision/packages 2>/dev/null || true')).not.toMatch(/^alloy$/m);
    expect(
      await mustOnHost(
        info,
        h.name,
        'rpm -q trento-agent >/dev/null && echo kept || echo removed; ls /var/lib/trento-provision/alloy-CONFIG_FILE.orig 2>&1 || true',
      ),
    ).toMatch(/^removed\n.*No such file/s);
    expect(statusOf(await uninstall(), h.name)?.status).toBe('ok');
    // Back as the other tests expect it.
    expect((await onHostOnly(h)).code).toBe(0);
  });

  it('an Alloy serving HTTP elsewhere (--server.http.listen-addr and ui-path-prefix in CUSTOM_ARGS, quoted with a space as systemd splits it): provisioned, proven by the facts and uninstalled through that address', async () => {
    const h = push[1] ?? push[0]!;
    expect((await onHostOnly(h)).code).toBe(0);
    const customArgs = `CUSTOM_ARGS="--server.http.listen-addr=0.0.0.0:12399 --server.http.ui-path-prefix='/my alloy/'"`;
    await mustOnHost(
      info,
      h.name,
      `grep -v '^CUSTOM_ARGS=' /etc/sysconfig/alloy > /root/sysconfig.new && printf '%s\\n' ${shellQuote(customArgs)} >> /root/sysconfig.new && cat /root/sysconfig.new > /etc/sysconfig/alloy && rm /etc/alloy/trento.alloy /root/sysconfig.new && ${restartAlloy('alloy.service', 'http://127.0.0.1:12399')}`,
    );
    try {
      // Something to write: the reload and the checks go to :12399 (nothing answers :12345).
      const run = await onHostOnly(h);
      expect(run.code, run.stdout).toBe(0);
      expect(statusOf(run, h.name)?.status).toBe('changed');
      // The facts' probes found it there too: a converged host is proven in one round trip.
      expect(statusOf(await onHostOnly(h), h.name)).toMatchObject({ status: 'ok', roundTrips: 1 });
      const uninstall = await onHostOnly(h, '--uninstall');
      expect(uninstall.code, uninstall.stdout).toBe(0);
      expect(
        await mustOnHost(info, h.name, 'curl -sf http://127.0.0.1:12399/my%20alloy/api/v0/web/components | grep -c prometheus.remote_write.trento || true'),
      ).toBe('0\n');
    } finally {
      await mustOnHost(info, h.name, `sed -i 's|^CUSTOM_ARGS=.*|CUSTOM_ARGS=""|' /etc/sysconfig/alloy && ${restartAlloy()}`);
    }
    expect((await onHostOnly(h)).code).toBe(0);
  });

  it("uninstall removes the staging folder a killed agent start left (configure-alloy.sh's, holding an earlier trento.alloy with its credentials) once the agent is stopped", async () => {
    const h = push[1] ?? push[0]!;
    expect((await onHostOnly(h)).code).toBe(0);
    // As configure-alloy.sh leaves it when killed: in the nearest root-only folder above Alloy's.
    const left = '/etc/.tp-agent-stage.Kd93xQ';
    await mustOnHost(info, h.name, `mkdir -m 0700 ${left} && ln /etc/alloy/trento.alloy ${left}/previous`);
    try {
      const check = await onHostOnly(h, '--uninstall', '--check');
      expect(check.stdout).toContain('remove what a killed start of configure-alloy.sh left in /etc (its staging folders, holding an earlier trento.alloy)');
      expect(await mustOnHost(info, h.name, `ls ${left}`)).toBe('previous\n'); // --check touches nothing
      const uninstall = await onHostOnly(h, '--uninstall');
      expect(uninstall.code, uninstall.stdout).toBe(0);
      expect(uninstall.stdout).toMatch(new RegExp(`^${h.name} \\| CHANGED \\| remove what a killed start of configure-alloy\\.sh left in /etc `, 'm'));
      expect(await mustOnHost(info, h.name, `test -e ${left} && echo left || echo gone`)).toBe('gone\n');
      expect(statusOf(await onHostOnly(h, '--uninstall'), h.name)?.status).toBe('ok');
    } finally {
      await mustOnHost(info, h.name, `rm -rf ${left}`);
      expect((await onHostOnly(h)).code).toBe(0);
    }
  });

  it("uninstall removes the toolkit's packages without their dependencies, where the host's zypp.conf sets solver.cleandepsOnRemove: the admin's supportutils, installed as a dependency, stays", async () => {
    const h = pull[1] ?? pull[0]!;
    const has = async (pkg: string) => (await onHost(info, h.name, `rpm -q ${pkg}`)).code === 0;
    // supportutils as zypper leaves it when it came as a dependency (AutoInstalled), then unneeded
    // once its dependant goes: the admin's, not in the toolkit's record.
    expect((await onHostOnly(h, '--uninstall', '--purge')).code).toBe(0);
    await mustOnHost(
      info,
      h.name,
      'zypper -n -q install --no-recommends supportutils-plugin-trento >/dev/null && rpm -e --nodeps supportutils-plugin-trento && grep -qx supportutils /var/lib/zypp/AutoInstalled',
    );
    try {
      const install = await onHostOnly(h);
      expect(install.code, install.stdout).toBe(0);
      expect(await mustOnHost(info, h.name, 'cat /var/lib/trento-provision/packages')).not.toMatch(/^supportutils$/m);
      await mustOnHost(info, h.name, "printf '[main]\\nsolver.cleandepsOnRemove = true\\n' >> /etc/zypp/zypp.conf");
      const uninstall = await onHostOnly(h, '--uninstall');
      expect(uninstall.code, uninstall.stdout).toBe(0);
      expect(await has('supportutils-plugin-trento')).toBe(false);
      expect(await has('supportutils'), "the admin's supportutils").toBe(true);
    } finally {
      // Back as the other tests expect it: zypp.conf as shipped, the toolkit's own supportutils.
      await mustOnHost(
        info,
        h.name,
        "sed -i '/^solver.cleandepsOnRemove = true$/d' /etc/zypp/zypp.conf && { ! rpm -q supportutils >/dev/null || zypper -n -q remove supportutils >/dev/null; }",
      );
      expect((await onHostOnly(h)).code).toBe(0);
    }
  });

  it("an admin's node_exporter or Alloy, kept disabled and stopped: the install turns it on, the uninstall puts it back as it was", async () => {
    for (const [h, pkg, unit] of [
      [pull[1] ?? pull[0]!, 'golang-github-prometheus-node_exporter', 'prometheus-node_exporter.service'],
      [push[1] ?? push[0]!, 'alloy', 'alloy.service'],
    ] as const) {
      const unitState = () => mustOnHost(info, h.name, `systemctl is-enabled ${unit} || true; systemctl is-active ${unit} || true`);
      // The toolkit's own package gone (--purge), then the admin's: installed by hand, kept off.
      expect((await onHostOnly(h, '--uninstall', '--purge')).code).toBe(0);
      await mustOnHost(info, h.name, `zypper -n -q install --no-recommends ${pkg} >/dev/null && systemctl disable --now ${unit}`);
      expect(await unitState()).toBe('disabled\ninactive\n');
      const install = await onHostOnly(h);
      expect(install.code, install.stdout).toBe(0);
      expect(install.stdout).toContain(`record how ${unit} was (disabled, inactive), for uninstall`);
      expect(await unitState()).toBe('enabled\nactive\n');
      if (unit === 'alloy.service') {
        // The admin has given the Alloy the toolkit turned on a pipeline since: it is not stopped
        // (their pipeline would stop with it), the record stays, and the run says so; once the
        // pipeline is gone, the next uninstall puts Alloy back as it was.
        await mustOnHost(
          info,
          h.name,
          `printf 'prometheus.exporter.self "admin" {\\n}\\n' > /etc/alloy/admin.alloy && chown root:alloy /etc/alloy/admin.alloy && chmod 0640 /etc/alloy/admin.alloy && curl -sf -X POST 127.0.0.1:12345/-/reload >/dev/null`,
        );
        const kept = await onHostOnly(h, '--uninstall', '--purge');
        await mustOnHost(info, h.name, 'rm -f /etc/alloy/admin.alloy && curl -sf -X POST 127.0.0.1:12345/-/reload >/dev/null');
        expect(kept.code, kept.stdout).toBe(0);
        expect(statusOf(kept, h.name)?.warnings.join('\n')).toMatch(
          /alloy\.service is not stopped or disabled, though it was disabled and inactive before trento-provision turned it on: it loads \/etc\/alloy\/admin\.alloy \(not trento-provision's/,
        );
        expect(await unitState()).toBe('enabled\nactive\n');
        expect(await mustOnHost(info, h.name, 'cat /var/lib/trento-provision/units')).toBe('alloy.service disabled inactive\n');
      }
      const uninstall = await onHostOnly(h, '--uninstall', '--purge');
      expect(uninstall.code, uninstall.stdout).toBe(0);
      expect(uninstall.stdout).toContain(`forget how ${unit} was before trento-provision (recorded)`);
      expect(uninstall.stdout).toMatch(new RegExp(`package ${pkg} was not installed by trento-provision`));
      expect(await unitState(), h.name).toBe('disabled\ninactive\n');
      expect(await mustOnHost(info, h.name, 'cat /var/lib/trento-provision/units 2>/dev/null || true')).toBe('');
      expect(statusOf(await onHostOnly(h, '--uninstall', '--purge'), h.name)?.status).toBe('ok');
      // Back as the other tests expect it: the toolkit's own, provisioned.
      await mustOnHost(info, h.name, `zypper -n -q remove ${pkg} >/dev/null; rm -f /etc/sysconfig/alloy.rpmsave`);
      expect((await onHostOnly(h)).code).toBe(0);
    }
  });

  it('Alloy running a pipeline its files no longer give it: the run reloads it though nothing is written, says why, and the check then holds', async () => {
    const h = push[1] ?? push[0]!;
    expect((await onHostOnly(h)).code).toBe(0);
    const runsTrento = async () =>
      (await onHost(info, h.name, 'curl -sf http://127.0.0.1:12345/api/v0/web/components | grep -qF prometheus.remote_write.trento')).code === 0;
    // Reloaded while trento.alloy was away, then put back: the file is right, Alloy runs without it.
    await mustOnHost(
      info,
      h.name,
      'mv /etc/alloy/trento.alloy /root/ && curl -sf -X POST http://127.0.0.1:12345/-/reload && mv /root/trento.alloy /etc/alloy/',
    );
    expect(await runsTrento()).toBe(false);
    // --check sees it too (it reads what Alloy runs): the reload is drift, as the run will make it.
    const check = await onHostOnly(h, '--check', '--detailed-exitcode');
    expect(check.code, check.stdout).toBe(2);
    expect(check.stdout).toMatch(new RegExp(`${h.name} \\| WOULD RUN \\| reload alloy\\.service`));
    expect(await runsTrento()).toBe(false);
    const install = await onHostOnly(h);
    expect(install.code, install.stdout).toBe(0);
    expect(statusOf(install, h.name)?.warnings.join()).toMatch(/Alloy is running without Trento's pipeline .*: it is reloaded/);
    expect(install.stdout).toMatch(/reload alloy/);
    expect(await runsTrento()).toBe(true);
    expect(statusOf(await onHostOnly(h), h.name)?.status).toBe('ok');
    // trento.alloy removed by hand, Alloy not reloaded, on a host whose directory mode was the
    // admin's (no CONFIG_FILE line to restore, whose restart would drop the pipeline anyway): the
    // uninstall reloads Alloy without it.
    await mustOnHost(info, h.name, 'rm /etc/alloy/trento.alloy /var/lib/trento-provision/alloy-CONFIG_FILE.*');
    const uninstall = await onHostOnly(h, '--uninstall');
    expect(uninstall.code, uninstall.stdout).toBe(0);
    expect(statusOf(uninstall, h.name)?.warnings.join()).toMatch(
      /Alloy still runs Trento's pipeline .*though trento\.alloy is gone: it is reloaded without it/,
    );
    expect(await runsTrento()).toBe(false);
    expect(await mustOnHost(info, h.name, 'systemctl is-active alloy.service')).toBe('active\n');
    expect(statusOf(await onHostOnly(h, '--uninstall'), h.name)?.status).toBe('ok');
    // Back as the package has it, then provisioned, as the other tests expect it.
    await mustOnHost(info, h.name, `${SINGLE_FILE_MODE} && ${restartAlloy()}`);
    expect((await onHostOnly(h)).code).toBe(0);
  });

  it("uninstall where a config of the admin's refers to Trento's pipeline: refused before any change, --check too, with Alloy's words; one Alloy refuses only at the reload: trento.alloy put back, the packages kept", async () => {
    const h = push[0]!;
    await freshlyProvisioned(h);
    // Alloy in directory mode as the admin's own choice (no record of a switch to undo), and a
    // pipeline of theirs that sends through Trento's remote_write.
    await mustOnHost(
      info,
      h.name,
      `rm -f /var/lib/trento-provision/alloy-CONFIG_FILE.* && ${ADMIN_PIPELINE_VIA_TRENTO} > /etc/alloy/admin.alloy && chown root:alloy /etc/alloy/admin.alloy && chmod 0640 /etc/alloy/admin.alloy && curl -sf -X POST 127.0.0.1:12345/-/reload >/dev/null`,
    );
    const state = () =>
      mustOnHost(
        info,
        h.name,
        'sha256sum /etc/alloy/trento.alloy /etc/trento/agent.yaml; systemctl is-active trento-agent; curl -sf 127.0.0.1:12345/-/ready; curl -sf 127.0.0.1:12345/api/v0/web/components | grep -c prometheus.remote_write.trento',
      );
    const before = await state();
    expect(before).toMatch(/\nactive\nAlloy is ready\.\n1\n$/);
    const refused =
      /Alloy would refuse \/etc\/alloy\/ without trento\.alloy: a file of yours there uses Trento's pipeline \(alloy validate: Error: \/etc\/alloy\/admin\.alloy:\d+:\d+: component "prometheus\.remote_write\.trento\.receiver" does not exist/;
    try {
      for (const args of [['--check'], []]) {
        const run = await onHostOnly(h, '--uninstall', ...args);
        expect(run.code, run.stdout).toBe(2);
        expect(statusOf(run, h.name)?.status).toBe('failed');
        expect(run.stdout).toMatch(refused);
        // Nothing changed: the agent runs, its files and trento.alloy are as they were.
        expect(await state()).toBe(before);
      }
      // A file of the admin's that alloy validate passes and Alloy refuses only when it builds
      // it (exclusive auth settings; written without a reload, so Alloy runs on): the reload is
      // refused, trento.alloy comes back, and the packages, which go only once Alloy is proven
      // on what is left, stay (the agent stopped) for the next uninstall.
      await mustOnHost(
        info,
        h.name,
        `printf 'prometheus.remote_write "admin" {\\n  endpoint {\\n    url          = "https://metrics.example.com/api/v1/write"\\n    bearer_token = "x"\\n    basic_auth {\\n      username = "admin"\\n      password = "y"\\n    }\\n  }\\n}\\n' > /etc/alloy/admin.alloy && alloy validate /etc/alloy`,
      );
      const run = await onHostOnly(h, '--uninstall');
      expect(run.code, run.stdout).toBe(2);
      expect(run.stdout).toMatch(/Alloy rejected the new configuration \(HTTP 400\): \/etc\/alloy\/admin\.alloy:/);
      expect((await state()).split('\n')[0]).toBe(before.split('\n')[0]); // trento.alloy back
      expect(run.stdout).not.toMatch(new RegExp(`^${h.name} \\| CHANGED \\| remove .*\\(installed by trento-provision\\)`, 'm'));
      expect(await mustOnHost(info, h.name, 'rpm -q --qf "%{NAME}\\n" trento-agent')).toBe('trento-agent\n');
    } finally {
      await mustOnHost(info, h.name, 'rm -f /etc/alloy/admin.alloy && curl -sf -X POST 127.0.0.1:12345/-/reload >/dev/null');
    }
    // Without the admin's file, the same uninstall goes through.
    const again = await onHostOnly(h, '--uninstall');
    expect(again.code, again.stdout).toBe(0);
    // Back as the package has it (single-file mode), then provisioned as the other tests expect.
    await mustOnHost(info, h.name, `${SINGLE_FILE_MODE} && ${restartAlloy()}`);
    expect((await onHostOnly(h)).code).toBe(0);
  });

  it("uninstall where the admin's config.alloy, which the restored CONFIG_FILE names, uses Trento's component: refused before any change (Alloy never reloaded or restarted into the failure), and the next uninstall after the admin's fix restores the line", async () => {
    const h = push[0]!;
    await freshlyProvisioned(h);
    // The admin's config.alloy (loaded in both modes) sends through Trento's remote_write: Alloy
    // takes it in directory mode, beside trento.alloy, and refuses it alone.
    await mustOnHost(
      info,
      h.name,
      `cp -p /etc/alloy/config.alloy /root/config.alloy.kept && { echo; ${ADMIN_PIPELINE_VIA_TRENTO}; } >> /etc/alloy/config.alloy && curl -sf -X POST 127.0.0.1:12345/-/reload >/dev/null`,
    );
    const state = () =>
      mustOnHost(
        info,
        h.name,
        'grep ^CONFIG_FILE /etc/sysconfig/alloy; ls /var/lib/trento-provision/ | grep CONFIG_FILE; test -f /etc/alloy/trento.alloy && echo trento.alloy; curl -sf 127.0.0.1:12345/-/ready',
      );
    const alloyPid = () => mustOnHost(info, h.name, 'systemctl show -p MainPID --value alloy.service');
    try {
      const pidBefore = await alloyPid();
      // Alloy would refuse its folder without trento.alloy (config.alloy uses Trento's component),
      // and the file alone too: the facts ask alloy validate, so --check says it already, and the
      // real run changes nothing. (Where only the file alone would be refused, the uninstall
      // keeps directory mode with a warning: the plan's unit tests.)
      for (const args of [['--check'], []]) {
        const run = await onHostOnly(h, '--uninstall', ...args);
        expect(run.code, run.stdout).toBe(2);
        expect(statusOf(run, h.name)?.status).toBe('failed');
        expect(run.stdout).toMatch(
          /Alloy would refuse \/etc\/alloy\/ without trento\.alloy: .*\(alloy validate: Error: \/etc\/alloy\/config\.alloy:\d+:\d+: component "prometheus\.remote_write\.trento\.receiver"/,
        );
        expect(run.stdout).not.toMatch(/restart alloy|restore CONFIG_FILE/);
      }
      // Never reloaded or restarted: the admin's pipelines ran throughout.
      expect(await alloyPid()).toBe(pidBefore);
      expect(await state()).toBe('CONFIG_FILE="/etc/alloy/"\nalloy-CONFIG_FILE.orig\nalloy-CONFIG_FILE.ours\ntrento.alloy\nAlloy is ready.\n');
    } finally {
      await mustOnHost(info, h.name, 'mv -f /root/config.alloy.kept /etc/alloy/config.alloy && curl -sf -X POST 127.0.0.1:12345/-/reload >/dev/null');
    }
    // The admin's reference gone, the next uninstall puts their line back.
    const again = await onHostOnly(h, '--uninstall');
    expect(again.code, again.stdout).toBe(0);
    expect(again.stdout).toMatch(/restore CONFIG_FILE in \/etc\/sysconfig\/alloy to CONFIG_FILE="\/etc\/alloy\/config\.alloy"/);
    expect(await state()).toBe('CONFIG_FILE="/etc/alloy/config.alloy"\nAlloy is ready.\n');
    expect((await onHostOnly(h)).code).toBe(0);
  });

  it("uninstall where the admin's agent waits for its Restart= (crashed): it is stopped, not only disabled, and does not come back", async () => {
    const h = pull[0]!;
    const onHost = (command: string) => mustOnHost(info, h.name, command);
    const dropIn = '/etc/systemd/system/trento-agent.service.d/zz-lab-restart.conf';
    expect((await provision(['--inventory', info.inventoryDir, '--limit', h.name])).code).toBe(0);
    // The agent is the admin's (not in the toolkit's record: uninstall keeps its package, so no
    // %preun stops it), and it crashed: systemd starts it again after RestartSec.
    await onHost(
      `sed -i '/^trento-agent$/d' /var/lib/trento-provision/packages && printf '[Service]\nRestartSec=120\n' > ${dropIn} && systemctl daemon-reload && kill -KILL "$(systemctl show -p MainPID --value trento-agent.service)"`,
    );
    try {
      // systemd sees the kill within moments; asked until it does (10 s at most), not after a guess
      expect(
        await onHost(
          `for i in $(seq 100); do s=$(systemctl show -p ActiveState,SubState trento-agent.service); [ "$s" = $'ActiveState=activating\\nSubState=auto-restart' ] && break; sleep 0.1; done; printf '%s\\n' "$s"`,
        ),
      ).toBe('ActiveState=activating\nSubState=auto-restart\n');
      const run = await provision(['--inventory', info.inventoryDir, '--limit', h.name, '--uninstall']);
      expect(run.code, run.stdout).toBe(0);
      expect(run.stdout).toMatch(/stop trento-agent\.service, disable trento-agent\.service/);
      // Stopped: the pending restart is cancelled with it (disabled only, it would start in 120 s).
      expect(await onHost('systemctl show -p ActiveState,SubState trento-agent.service; rpm -q trento-agent >/dev/null && echo kept')).toBe(
        'ActiveState=inactive\nSubState=dead\nkept\n',
      );
    } finally {
      await onHost(`rm -f ${dropIn} && systemctl daemon-reload && zypper -n -q remove trento-agent >/dev/null 2>&1 || true`);
    }
    // Back as the other tests expect it: the toolkit's agent, provisioned.
    expect((await provision(['--inventory', info.inventoryDir, '--limit', h.name])).code).toBe(0);
  });

  it("uninstall keeps directory mode while the folder holds a pipeline of the admin's that single-file mode would drop, says so, and restores the line once it is gone", async () => {
    const h = push[0]!;
    await freshlyProvisioned(h);
    await mustOnHost(
      info,
      h.name,
      `printf 'prometheus.exporter.self "admin" {\\n}\\n' > /etc/alloy/admin.alloy && chown root:alloy /etc/alloy/admin.alloy && chmod 0640 /etc/alloy/admin.alloy && curl -sf -X POST 127.0.0.1:12345/-/reload >/dev/null`,
    );
    const state = () =>
      mustOnHost(
        info,
        h.name,
        'grep ^CONFIG_FILE /etc/sysconfig/alloy; ls /var/lib/trento-provision/ | grep CONFIG_FILE; curl -sf 127.0.0.1:12345/api/v0/web/components | grep -o "prometheus.exporter.self.admin" | sort -u',
      );
    try {
      const check = await onHostOnly(h, '--uninstall', '--check');
      expect(check.stdout).not.toMatch(/restore CONFIG_FILE/);
      const run = await onHostOnly(h, '--uninstall');
      expect(run.code, run.stdout).toBe(0);
      expect(statusOf(run, h.name)?.warnings.join('\n')).toMatch(
        /CONFIG_FILE in \/etc\/sysconfig\/alloy stays CONFIG_FILE="\/etc\/alloy\/" \(directory mode\): Alloy loads \/etc\/alloy\/admin\.alloy there/,
      );
      // Alloy still runs the admin's pipeline, without Trento's; the line is kept for later.
      expect(await state()).toBe('CONFIG_FILE="/etc/alloy/"\nalloy-CONFIG_FILE.orig\nalloy-CONFIG_FILE.ours\nprometheus.exporter.self.admin\n');
      expect(await mustOnHost(info, h.name, 'test -e /etc/alloy/trento.alloy && echo there || echo gone')).toBe('gone\n');
      // Installed again with the server CA (agent_server_ca_cert), which --purge removes: an
      // Alloy that stays running holds the system roots it read at its start, so it is restarted.
      const caVars = join(await mkdtemp(join(tmpdir(), 'tp-ca-')), 'ca.json');
      await writeFile(caVars, JSON.stringify({ agent_server_ca_cert: await readFile(CA_FIXTURE, 'utf8') }));
      expect((await onHostOnly(h, '-e', `@${caVars}`)).code).toBe(0);
      const alloyPid = () => mustOnHost(info, h.name, 'systemctl show -p MainPID --value alloy.service');
      const pidBefore = await alloyPid();
      // --purge would remove the Alloy the toolkit installed, and the admin's pipeline with it:
      // Alloy stays, installed and running it, and the run says why.
      const purge = await onHostOnly(h, '--uninstall', '--purge');
      expect(purge.code, purge.stdout).toBe(0);
      expect(purge.stdout).toMatch(new RegExp(`^${h.name} \\| CHANGED \\| remove /etc/pki/trust/anchors/trento-server-ca\\.pem$`, 'm'));
      expect(purge.stdout).toMatch(new RegExp(`^${h.name} \\| CHANGED \\| restart alloy\\.service and check it runs the new configuration$`, 'm'));
      expect(await alloyPid()).not.toBe(pidBefore);
      expect(statusOf(purge, h.name)?.warnings.join('\n')).toMatch(
        /Alloy stays installed and running \(reloaded without trento\.alloy\), though trento-provision installed it .*: it also loads \/etc\/alloy\/admin\.alloy/,
      );
      expect(await mustOnHost(info, h.name, 'rpm -q alloy >/dev/null && systemctl is-active alloy.service')).toBe('active\n');
      expect(await state()).toBe('CONFIG_FILE="/etc/alloy/"\nalloy-CONFIG_FILE.orig\nalloy-CONFIG_FILE.ours\nprometheus.exporter.self.admin\n');
    } finally {
      await mustOnHost(info, h.name, 'rm -f /etc/alloy/admin.alloy && curl -sf -X POST 127.0.0.1:12345/-/reload >/dev/null');
    }
    const again = await onHostOnly(h, '--uninstall');
    expect(again.code, again.stdout).toBe(0);
    expect(again.stdout).toMatch(/restore CONFIG_FILE in \/etc\/sysconfig\/alloy to CONFIG_FILE="\/etc\/alloy\/config\.alloy"/);
    expect(await state()).toBe('CONFIG_FILE="/etc/alloy/config.alloy"\n');
    expect((await onHostOnly(h)).code).toBe(0);
  });

  it("--purge keeps the Alloy it installed where the admin's pipeline is in config.alloy (the file the package's line names), after an earlier uninstall put that line back too; the package's own config.alloy, unchanged, does not keep it", async () => {
    const h = push[0]!;
    await freshlyProvisioned(h);
    const alloyState = () =>
      mustOnHost(
        info,
        h.name,
        'rpm -q alloy >/dev/null && echo installed || echo removed; grep ^CONFIG_FILE /etc/sysconfig/alloy || true; curl -sf 127.0.0.1:12345/api/v0/web/components | grep -o "prometheus.exporter.self.admin" | sort -u',
      );
    await mustOnHost(
      info,
      h.name,
      `cp -p /etc/alloy/config.alloy /root/config.alloy.pkg && printf 'prometheus.exporter.self "admin" {\\n}\\n' >> /etc/alloy/config.alloy && curl -sf -X POST 127.0.0.1:12345/-/reload >/dev/null`,
    );
    try {
      // --purge in directory mode (the line goes back to config.alloy, Alloy stays on it), a plain
      // uninstall, and --purge again once the saved line is forgotten: Alloy stays each time.
      for (const [i, args] of [['--uninstall', '--purge'], ['--uninstall'], ['--uninstall', '--purge']].entries()) {
        const run = await onHostOnly(h, ...args);
        expect(run.code, run.stdout).toBe(0);
        // The folders the toolkit made for its files go with them (no package owns them on SLES 16).
        if (i === 0) expect(run.stdout).toMatch(new RegExp(`^${h.name} \\| CHANGED \\| remove the folder /etc/trento, empty once its files are gone$`, 'm'));
        expect(statusOf(run, h.name)?.warnings.join('\n'), args.join(' ')).toMatch(
          args.includes('--purge')
            ? /Alloy stays installed and running .*: it also loads \/etc\/alloy\/config\.alloy, not trento-provision's/
            : /^(?![\s\S]*Alloy stays)/,
        );
        expect(await alloyState(), args.join(' ')).toBe('installed\nCONFIG_FILE="/etc/alloy/config.alloy"\nprometheus.exporter.self.admin\n');
      }
    } finally {
      await mustOnHost(info, h.name, 'cp -p /root/config.alloy.pkg /etc/alloy/config.alloy && rm /root/config.alloy.pkg');
    }
    // config.alloy as the package shipped it: --purge removes the Alloy the toolkit installed.
    const purge = await onHostOnly(h, '--uninstall', '--purge');
    expect(purge.code, purge.stdout).toBe(0);
    expect(purge.stdout).toMatch(
      new RegExp(`^${h.name} \\| CHANGED \\| remove .*\\balloy\\b.* \\(installed by trento-provision\\) \\(once the checks pass\\)$`, 'm'),
    );
    expect(await mustOnHost(info, h.name, 'rpm -q alloy >/dev/null && echo installed || echo removed')).toBe('removed\n');
    // Gone since the first --purge above, and not made again by the uninstalls after it.
    expect(await mustOnHost(info, h.name, 'ls -d /etc/trento /usr/share/trento 2>/dev/null || true')).toBe('');
    expect((await onHostOnly(h)).code).toBe(0);
  });

  it("uninstall keeps directory mode where the line it replaced names a file that is not there (SUSE's package ships no config.alloy): Alloy is not restarted into a failure", async () => {
    const h = push[0]!;
    await freshlyProvisioned(h);
    const state = () =>
      mustOnHost(
        info,
        h.name,
        'grep ^CONFIG_FILE /etc/sysconfig/alloy; systemctl is-active alloy.service; ls /var/lib/trento-provision/ | grep CONFIG_FILE || true',
      );
    await mustOnHost(info, h.name, 'mv /etc/alloy/config.alloy /root/config.alloy');
    try {
      const run = await onHostOnly(h, '--uninstall');
      expect(run.code, run.stdout).toBe(0);
      expect(statusOf(run, h.name)?.warnings.join('\n')).toMatch(
        /CONFIG_FILE in \/etc\/sysconfig\/alloy stays CONFIG_FILE="\/etc\/alloy\/" \(directory mode\): .* names \/etc\/alloy\/config\.alloy, which does not exist/,
      );
      expect(await state()).toBe('CONFIG_FILE="/etc/alloy/"\nactive\nalloy-CONFIG_FILE.orig\nalloy-CONFIG_FILE.ours\n');
    } finally {
      await mustOnHost(info, h.name, 'mv /root/config.alloy /etc/alloy/config.alloy');
    }
    // The file back: the next uninstall restores the line.
    const again = await onHostOnly(h, '--uninstall');
    expect(again.code, again.stdout).toBe(0);
    expect(await state()).toBe('CONFIG_FILE="/etc/alloy/config.alloy"\nactive\n');
    expect((await onHostOnly(h)).code).toBe(0);
  });

  it('uninstall leaves a CONFIG_FILE the admin set after the switch to directory mode, and says so', async () => {
    const h = push[0]!;
    await freshlyProvisioned(h);
    // The admin moves Alloy to a folder of their own (with their config, without Trento's).
    await mustOnHost(
      info,
      h.name,
      `mkdir -p -m 0755 /srv/pipelines && cp /etc/alloy/config.alloy /srv/pipelines/ && chmod 0644 /srv/pipelines/config.alloy && sed -i 's|^CONFIG_FILE=.*|CONFIG_FILE="/srv/pipelines/"|' /etc/sysconfig/alloy && ${restartAlloy()}`,
    );
    try {
      const run = await onHostOnly(h, '--uninstall');
      expect(run.code, run.stdout).toBe(0);
      expect(run.stdout).toMatch(
        /forget the saved CONFIG_FILE line .*was changed since trento-provision set it \(CONFIG_FILE="\/srv\/pipelines\/"\), and stays/,
      );
      expect(
        await mustOnHost(
          info,
          h.name,
          'grep ^CONFIG_FILE /etc/sysconfig/alloy; ls /var/lib/trento-provision/alloy-CONFIG_FILE.* 2>&1 || true; curl -sf 127.0.0.1:12345/-/ready',
        ),
      ).toMatch(/^CONFIG_FILE="\/srv\/pipelines\/"\n.*No such file.*\nAlloy is ready\.\n$/s);
    } finally {
      await mustOnHost(info, h.name, `${SINGLE_FILE_MODE} && rm -rf /srv/pipelines && ${restartAlloy()}`);
    }
    expect((await onHostOnly(h)).code).toBe(0);
  });
});
