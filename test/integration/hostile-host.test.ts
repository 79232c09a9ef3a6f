// Hosts that are hostile or broken (issue 17), on the lab: a service account that races root,
// links at managed paths, a FIFO, floods, a failed restart, a locked zypper, uninstall --purge.
// Every case failed before its fix; each checks the host itself, not the toolkit's report alone.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LabInfo } from '../lab/inventory.ts';
import { freshLab, hostsBy, iniInventory, type LabHost, LEFTOVERS_COMMAND, mustOnHost, onHost, provision, spawnProvision, startOnHost } from './helpers.ts';

let info: LabInfo;
let pull: LabHost[];
let push: LabHost[];
let invPush: string;
let invPull: string;
const VARS = {
  trento_server_name: 'lab-gateway',
  agent_web_api_key: 'hostile-api-key',
  rabbitmq_password: 'rabbit-password',
  agent_prometheus_auth: 'none',
  provision_rabbitmq: false,
};
const statusOf = (run: Awaited<ReturnType<typeof provision>>, host: string) => run.report?.hosts.find((h) => h.host === host);

/** A root-only file the alloy account must never be able to get root to write: a stand-in for /etc/shadow. */
const DECOY = '/etc/decoy-shadow';
const MAKE_DECOY = `printf 'root:DECOY-HASH:19000::::::\\n' > ${DECOY} && chown root:shadow ${DECOY} && chmod 0640 ${DECOY}`;
const DECOY_STATE = `stat -c '%U:%G %a' ${DECOY} && cat ${DECOY}`;
const DECOY_OK = 'root:shadow 640\nroot:DECOY-HASH:19000::::::\n';

beforeAll(async () => {
  info = await freshLab();
  ({ pull, push } = hostsBy(info));
  invPush = await iniInventory(info, [{ host: push[0]! }], VARS);
  invPull = await iniInventory(info, [{ host: pull[0]! }], VARS);
  const first = await provision(['-i', invPush]);
  expect(first.code, first.stdout).toBe(0);
  await mustOnHost(info, push[0]!.name, MAKE_DECOY);
});

describe('the alloy account races root (/etc/alloy is 0770 root:alloy)', () => {
  /**
   * Runs as alloy for SECONDS: every new entry in /etc/alloy that is not a config it knows is
   * renamed away and replaced by a link to the decoy, and trento.alloy itself is swapped for a
   * link whenever it can be. This is what made root write the decoy before the fix. ARMED: it
   * starts only once the apply is under way (its staging folder, root-only in /etc, appears; a
   * minute at most, however slow the run's start), so the facts read a regular trento.alloy and
   * the swaps hit the write, the reload and the checks, for SECONDS from then;
   * each swap is counted in /tmp/attacks (readable after the race).
   */
  const attacker = (seconds: number, armed: boolean, ready: string) =>
    `rm -f /tmp/attacks; setpriv --reuid=alloy --regid=alloy --clear-groups bash -c 'end=$((SECONDS+${seconds})); : > ${ready}
       if [ ${armed ? 1 : 0} = 1 ]; then
         until compgen -G "/etc/.tp-stage.*" >/dev/null || [ $SECONDS -ge $((end + 60)) ]; do :; done
         end=$((SECONDS+${seconds}))
       fi
       while [ $SECONDS -lt $end ]; do
       for f in /etc/alloy/.tp-* /etc/alloy/*; do
         case "$f" in /etc/alloy/config.alloy|/etc/alloy/moved-*|"/etc/alloy/.tp-*"|"/etc/alloy/*") continue;; esac
         [ -L "$f" ] && continue
         mv -f -- "$f" "/etc/alloy/moved-$RANDOM" 2>/dev/null && ln -s ${DECOY} "$f" 2>/dev/null && echo "$f" >> /tmp/attacks
       done
     done' >/dev/null 2>&1; rm -f /etc/alloy/moved-*; true`;

  /** The attacker running on the SLES 16 host: returns once it is at work (its login can take
   *  longer than a run's first steps on a loaded machine, and a race it joins late proves nothing). */
  const startAttacker = async (seconds: number, armed = false) => {
    const { session } = await startOnHost(info, push[0]!.name, 'the attacker', (ready) => attacker(seconds, armed, ready));
    return { race: session };
  };

  it('an attacker at work before the run: the facts find trento.alloy a link and the host fails before any change; the decoy is never written, chowned or chmodded', async () => {
    const { race } = await startAttacker(25);
    // A changed scrape interval would make the run write trento.alloy (and agent.yaml) again.
    const run = await provision(['-i', invPush, '-e', 'agent_prometheus_scrape_interval=21s']);
    await race;
    // What this case is: the swaps came before the facts, which refuse the link (the armed case
    // below is the one whose swaps hit the write).
    expect(await mustOnHost(info, push[0]!.name, 'cat /tmp/attacks 2>/dev/null; true')).toMatch(/\/etc\/alloy\/trento\.alloy/);
    expect(run.code, run.stdout).toBe(2);
    expect(statusOf(run, push[0]!.name)?.status).toBe('failed');
    expect(statusOf(run, push[0]!.name)?.changes.filter((c) => c.applied)).toEqual([]);
    expect(await mustOnHost(info, push[0]!.name, DECOY_STATE)).toBe(DECOY_OK);
    expect(run.stdout + run.stderr).not.toContain('DECOY-HASH');
  });

  it('the same race armed only once the apply runs (the facts read a regular trento.alloy): the swaps hit the write and the reload, never the decoy', async () => {
    await mustOnHost(info, push[0]!.name, 'rm -f /etc/alloy/trento.alloy /etc/alloy/moved-*');
    const converged = await provision(['-i', invPush]);
    expect(converged.code, converged.stdout).toBe(0);
    const { race } = await startAttacker(12, true);
    const run = await provision(['-i', invPush, '-e', 'agent_prometheus_scrape_interval=23s']);
    await race;
    // The attack happened while the apply ran, not before the facts: the plan was made on a
    // regular trento.alloy (a rewrite planned), and the alloy account swapped files meanwhile.
    expect(statusOf(run, push[0]!.name)?.changes.map((c) => c.id)).toContain('file:/etc/alloy/trento.alloy');
    expect(await mustOnHost(info, push[0]!.name, 'cat /tmp/attacks 2>/dev/null; true'), run.stdout + run.stderr).toMatch(/\/etc\/alloy\/trento\.alloy/);
    expect(await mustOnHost(info, push[0]!.name, DECOY_STATE)).toBe(DECOY_OK);
    expect(run.stdout + run.stderr + JSON.stringify(run.report)).not.toContain('DECOY-HASH');
  });

  it("configure-alloy.sh (the agent's ExecStartPre, as root) never writes the decoy either", async () => {
    await mustOnHost(info, push[0]!.name, "rm -f /etc/alloy/trento.alloy; printf 'x' > /etc/alloy/trento.alloy; chown alloy:alloy /etc/alloy/trento.alloy");
    const { race } = await startAttacker(8);
    await onHost(info, push[0]!.name, 'sleep 1; for i in 1 2 3; do /usr/share/trento/configure-alloy.sh >/dev/null 2>&1; done; true');
    await race;
    expect(await mustOnHost(info, push[0]!.name, DECOY_STATE)).toBe(DECOY_OK);
  });

  it('after the races, a plain run converges and leaves nothing behind', async () => {
    await mustOnHost(info, push[0]!.name, 'rm -f /etc/alloy/trento.alloy /etc/alloy/moved-*');
    const run = await provision(['-i', invPush]);
    expect(run.code, run.stdout).toBe(0);
    expect(await mustOnHost(info, push[0]!.name, 'stat -c "%U:%G %a %F" /etc/alloy/trento.alloy')).toBe('alloy:alloy 640 regular file\n');
    expect(await mustOnHost(info, push[0]!.name, LEFTOVERS_COMMAND)).toBe('');
  });
});

describe('links and odd files at managed paths', () => {
  it('--check --diff with trento.alloy linked to /etc/shadow: host failed, link and target named, nothing of the target shown', async () => {
    await mustOnHost(info, push[0]!.name, `ln -sfn ${DECOY} /etc/alloy/trento.alloy`);
    const run = await provision(['-i', invPush, '--check', '--diff', '-vvv']);
    expect(run.code).toBe(2);
    expect(statusOf(run, push[0]!.name)?.status).toBe('failed');
    expect(statusOf(run, push[0]!.name)?.message).toContain(`/etc/alloy/trento.alloy is a symbolic link to ${DECOY}`);
    expect(run.stdout + run.stderr + JSON.stringify(run.report)).not.toContain('DECOY-HASH');
  });

  it('the same link when only owner and mode would differ: the apply run refuses too, the target keeps its owner and mode', async () => {
    const run = await provision(['-i', invPush]);
    expect(run.code).toBe(2);
    expect(await mustOnHost(info, push[0]!.name, DECOY_STATE)).toBe(DECOY_OK);
    expect(await mustOnHost(info, push[0]!.name, 'readlink /etc/alloy/trento.alloy')).toBe(`${DECOY}\n`);
    await mustOnHost(info, push[0]!.name, 'rm /etc/alloy/trento.alloy');
  });

  it('/etc/sysconfig/alloy as a link: refused, never replaced by a 0777 file', async () => {
    await mustOnHost(info, push[0]!.name, 'cp -p /etc/sysconfig/alloy /root/alloy.sysconfig && ln -sfn /root/alloy.sysconfig /etc/sysconfig/alloy');
    const run = await provision(['-i', invPush]);
    expect(run.code).toBe(2);
    expect(statusOf(run, push[0]!.name)?.message).toContain('/etc/sysconfig/alloy is a symbolic link to /root/alloy.sysconfig');
    expect(await mustOnHost(info, push[0]!.name, 'stat -c "%F" /etc/sysconfig/alloy')).toBe('symbolic link\n');
    await mustOnHost(info, push[0]!.name, 'rm /etc/sysconfig/alloy && mv /root/alloy.sysconfig /etc/sysconfig/alloy');
  });

  it("/etc/sysconfig/alloy that the alloy account can write: refused in --check and in a run, and by configure-alloy.sh (its CONFIG_FILE would choose where root writes alloy's trento.alloy)", async () => {
    const h = push[0]!.name;
    // The account points CONFIG_FILE at a root-only folder whose files root's shell would run.
    await mustOnHost(
      info,
      h,
      'cp -p /etc/sysconfig/alloy /root/alloy.sysconfig.orig && chown alloy /etc/sysconfig/alloy && setpriv --reuid=alloy --regid=alloy --clear-groups sh -c \'printf "CONFIG_FILE=/etc/bash_completion.d/\\n" >> /etc/sysconfig/alloy\' && mkdir -p /etc/bash_completion.d',
    );
    try {
      for (const args of [['--check'], []]) {
        const run = await provision(['-i', invPush, ...args]);
        expect(run.code, run.stdout + run.stderr).toBe(2);
        expect(statusOf(run, h)?.message).toMatch(
          /^\/etc\/sysconfig\/alloy is owned by alloy: whoever can write it chooses, through CONFIG_FILE, the folder where root puts trento\.alloy .*chown root:root \/etc\/sysconfig\/alloy/,
        );
      }
      const started = await onHost(info, h, '/usr/share/trento/configure-alloy.sh');
      expect(started.stderr).toMatch(/configure-alloy: \/etc\/sysconfig\/alloy is owned by alloy: .*trento\.alloy left as it is/);
      expect(started.code).toBe(1);
      expect(await mustOnHost(info, h, 'ls -A /etc/bash_completion.d/ | grep -c trento || true')).toBe('0\n');
    } finally {
      await mustOnHost(info, h, 'mv -f /root/alloy.sysconfig.orig /etc/sysconfig/alloy && chown root:root /etc/sysconfig/alloy');
    }
    // Root's again: the run converges.
    const run = await provision(['-i', invPush]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
  });

  it('a FIFO at /etc/trento/agent.yaml fails the host at once instead of hanging the run', async () => {
    await mustOnHost(info, pull[0]!.name, 'mkdir -p /etc/trento && rm -f /etc/trento/agent.yaml && mkfifo -m 0600 /etc/trento/agent.yaml');
    const run = await provision(['-i', invPull, '--check', '--diff']);
    expect(run.code).toBe(2);
    expect(statusOf(run, pull[0]!.name)?.message).toContain('/etc/trento/agent.yaml is a fifo, not a regular file');
    await mustOnHost(info, pull[0]!.name, 'rm -f /etc/trento/agent.yaml');
  });

  it("a link at the CA anchor's path (an admin's own trust setup) fails the host only when agent_server_ca_cert asks the toolkit to write there", async () => {
    const anchor = '/etc/pki/trust/anchors/trento-server-ca.pem';
    await mustOnHost(
      info,
      pull[0]!.name,
      `mkdir -p /etc/pki/trust/anchors /root/admin-ca && printf 'admin CA\\n' > /root/admin-ca/bundle.pem && ln -sfn /root/admin-ca/bundle.pem ${anchor}`,
    );
    try {
      const unset = await provision(['-i', invPull, '--check', '--diff']);
      expect(unset.code, unset.stdout).toBe(0);
      expect(statusOf(unset, pull[0]!.name)?.status).not.toBe('failed');
      const caPem = readFileSync(new URL('../fixtures/official-playbook/server-ca.pem', import.meta.url), 'utf8');
      const set = await provision(['-i', invPull, '--check', '--diff', '-e', JSON.stringify({ agent_server_ca_cert: caPem })]);
      expect(set.code, set.stdout + set.stderr).toBe(2);
      expect(statusOf(set, pull[0]!.name)?.message).toContain(`${anchor} is a symbolic link to /root/admin-ca/bundle.pem`);
      expect(await mustOnHost(info, pull[0]!.name, `readlink ${anchor}`)).toBe('/root/admin-ca/bundle.pem\n');
    } finally {
      await mustOnHost(info, pull[0]!.name, `rm -f ${anchor}; rm -rf /root/admin-ca`);
    }
  });

  it('a link planted at the lock cannot make root truncate its target', async () => {
    await mustOnHost(info, push[0]!.name, `mkdir -p -m 0700 /run/trento-provision && ln -sfn ${DECOY} /run/trento-provision/lock`);
    const run = await provision(['-i', invPush, '-e', 'agent_prometheus_scrape_interval=22s']);
    expect(run.code).toBe(2);
    expect(JSON.stringify(run.report)).toContain('/run/trento-provision/lock is a symbolic link');
    expect(await mustOnHost(info, push[0]!.name, DECOY_STATE)).toBe(DECOY_OK);
    await mustOnHost(info, push[0]!.name, 'rm /run/trento-provision/lock');
  });
});

describe('time and size limits on what a host does and sends', () => {
  it('a script that hangs is stopped on the host after --remote-timeout, with what it started; the host fails, the run ends', async () => {
    const h = pull[0]!.name;
    // The facts script calls rpm(1) (once, for every package): make it hang.
    await mustOnHost(info, h, "cp -p /usr/bin/rpm /root/rpm.good && printf '#!/bin/sh\\nexec sleep 600\\n' > /usr/bin/rpm");
    const run = await provision(['-i', invPull, '--check', '--remote-timeout', '3']);
    await mustOnHost(info, h, 'cp -p /root/rpm.good /usr/bin/rpm');
    expect(run.code).toBe(2);
    expect(statusOf(run, h)?.message).toMatch(/ran longer than --remote-timeout 3 s and was stopped on the host/);
    expect((await onHost(info, h, 'pgrep -x sleep -a | grep 600; true')).stdout).toBe('');
  });

  it('a host that sends more than --max-host-output fails; with the default, a 50 MB os-release is read only up to 1 MiB', async () => {
    const h = pull[0]!.name;
    await mustOnHost(
      info,
      h,
      'cp -p /etc/os-release /root/os-release.good && { cat /root/os-release.good; head -c 50000000 /dev/zero | tr "\\0" "#"; } > /etc/os-release',
    );
    const flooded = await provision(['-i', invPull, '--check', '--max-host-output', '1']);
    const bounded = await provision(['-i', invPull, '--check']);
    await mustOnHost(info, h, 'cp -p /root/os-release.good /etc/os-release');
    expect(flooded.code).toBe(2);
    expect(statusOf(flooded, h)?.message).toMatch(/sent more than 1 MiB for one script/);
    expect(bounded.code, bounded.stdout).toBe(0);
    expect(statusOf(bounded, h)?.product).toMatch(/SUSE|SLES/);
  });

  it('stderr counts too: a host flooding it (a become wrapper with set -x, a hostile sshd) fails past --max-host-output', async () => {
    const h = pull[0]!.name;
    // ansible_become_exe: a "sudo" of the site's that writes 3 MB to stderr, then runs sudo.
    await mustOnHost(
      info,
      h,
      `printf '#!/bin/sh\nhead -c 3000000 /dev/zero | tr "\\\\0" "+" >&2\nexec sudo "$@"\n' > /root/noisy-sudo && chmod 0755 /root/noisy-sudo`,
    );
    const noisy = ['-e', 'ansible_become=true', '-e', 'ansible_become_exe=/root/noisy-sudo'];
    const flooded = await provision(['-i', invPull, '--check', '--max-host-output', '1', ...noisy]);
    const bounded = await provision(['-i', invPull, '--check', '--max-host-output', '5', ...noisy]);
    await mustOnHost(info, h, 'rm /root/noisy-sudo');
    expect(flooded.code, flooded.stdout).toBe(2);
    expect(statusOf(flooded, h)?.message).toMatch(/sent more than 1 MiB for one script/);
    // Under the bound: the run reads the facts as ever, and keeps only the end of that stderr.
    expect(bounded.code, bounded.stdout).toBe(0);
  });
});

describe('a failed restart is not forgotten', () => {
  // An agent that cannot start: its start fails before the service runs (a drop-in's
  // ExecStartPre), so the restart itself fails, whatever the machine's load. (A binary that exits
  // at once failed only if it was seen dead within the handler's 0.5 s.)
  const dropIn = '/etc/systemd/system/trento-agent.service.d/zz-lab-broken.conf';
  const BREAK_AGENT = `mkdir -p /etc/systemd/system/trento-agent.service.d && printf '[Service]\\nExecStartPre=/bin/false\\n' > ${dropIn} && systemctl daemon-reload`;
  const MEND_AGENT = `rm -f ${dropIn} && systemctl daemon-reload`;
  it('the next run retries the restart that failed, then reports changed, then ok', async () => {
    const h = pull[0]!.name;
    const first = await provision(['-i', invPull]);
    expect(first.code, first.stdout).toBe(0);
    // The restart after the config change fails.
    await mustOnHost(info, h, BREAK_AGENT);
    const failed = await provision(['-i', invPull, '-e', 'agent_prometheus_node_exporter_target=127.0.0.1:9100']);
    expect(failed.code, failed.stdout).toBe(2);
    expect(await mustOnHost(info, h, 'cat /var/lib/trento-provision/pending-handlers')).toBe('restart trento-agent\n');
    await mustOnHost(info, h, MEND_AGENT);
    const retried = await provision(['-i', invPull, '-e', 'agent_prometheus_node_exporter_target=127.0.0.1:9100']);
    expect(retried.code, retried.stdout).toBe(0);
    expect(statusOf(retried, h)?.status).toBe('changed');
    // The agent died with the failed restart: the recorded restart runs again and starts it.
    expect(statusOf(retried, h)?.warnings.join('\n')).toMatch(/'restart trento-agent' did not finish in an earlier run/);
    expect(retried.stdout).toMatch(new RegExp(`${h} \\| CHANGED \\| restart trento-agent.service`));
    expect(await mustOnHost(info, h, 'systemctl is-active trento-agent; cat /var/lib/trento-provision/pending-handlers')).toBe('active\n');
    const again = await provision(['-i', invPull, '-e', 'agent_prometheus_node_exporter_target=127.0.0.1:9100']);
    expect(statusOf(again, h)?.status).toBe('ok');
  });

  it('an uninstall after a failed restart forgets the restart it has nothing to run for, once', async () => {
    const h = pull[0]!.name;
    await mustOnHost(info, h, BREAK_AGENT);
    const failed = await provision(['-i', invPull, '-e', 'agent_prometheus_node_exporter_target=127.0.0.2:9100']);
    const pending = await mustOnHost(info, h, 'cat /var/lib/trento-provision/pending-handlers');
    await mustOnHost(info, h, MEND_AGENT);
    expect(failed.code, failed.stdout).toBe(2);
    expect(pending).toBe('restart trento-agent\n');
    // Uninstall stops the agent: the restart is cleared from the record, not announced as run.
    const uninstall = await provision(['-i', invPull, '--uninstall']);
    expect(uninstall.code, uninstall.stdout).toBe(0);
    expect(uninstall.stdout).toMatch(new RegExp(`${h} \\| CHANGED \\| forget the pending 'restart trento-agent'`));
    expect(statusOf(uninstall, h)?.warnings.join('\n')).not.toMatch(/did not finish in an earlier run/);
    expect(await mustOnHost(info, h, 'cat /var/lib/trento-provision/pending-handlers 2>/dev/null; true')).toBe('');
    const again = await provision(['-i', invPull, '--uninstall']);
    expect(again.code, again.stdout).toBe(0);
    expect(statusOf(again, h)?.status).toBe('ok');
    expect(again.stdout).not.toMatch(/forget the pending/);
  });
});

describe('a follow-up that failed after its write is not forgotten', () => {
  it('daemon-reload failing after the unit drop-in is written: the next run reloads the units, then restarts the agent', async () => {
    const h = pull[0]!.name;
    const first = await provision(['-i', invPull]);
    expect(first.code, first.stdout).toBe(0);
    // The drop-in gone (drift), and systemctl refusing daemon-reload only.
    await mustOnHost(
      info,
      h,
      `rm /etc/systemd/system/trento-agent.service.d/trento-provision.conf && s=$(command -v systemctl) && mv "$s" /root/systemctl.good && printf '#!/bin/sh\n[ "$1" = daemon-reload ] && { echo "daemon-reload broken by the test" >&2; exit 1; }\nexec /root/systemctl.good "$@"\n' > "$s" && chmod 755 "$s"`,
    );
    const failed = await provision(['-i', invPull]);
    const state = await mustOnHost(
      info,
      h,
      'cat /etc/systemd/system/trento-agent.service.d/trento-provision.conf >/dev/null && cat /var/lib/trento-provision/pending-handlers',
    );
    await mustOnHost(info, h, 's=$(command -v systemctl) && mv -f /root/systemctl.good "$s"');
    expect(failed.code, failed.stdout).toBe(2);
    expect(failed.stdout, JSON.stringify(statusOf(failed, h))).toMatch(/daemon-reload broken by the test/);
    // The drop-in is in place, the units not reloaded: both are recorded for the next run.
    expect(state).toBe('reload systemd units\nrestart trento-agent\n');
    const retried = await provision(['-i', invPull]);
    expect(retried.code, retried.stdout).toBe(0);
    expect(statusOf(retried, h)?.status).toBe('changed');
    expect(statusOf(retried, h)?.warnings.join('\n')).toMatch(/'reload systemd units' did not finish in an earlier run/);
    expect(retried.stdout).toMatch(new RegExp(`${h} \\| CHANGED \\| systemctl daemon-reload`));
    expect(retried.stdout).toMatch(new RegExp(`${h} \\| CHANGED \\| restart trento-agent.service`));
    expect(await mustOnHost(info, h, 'systemctl is-active trento-agent; cat /var/lib/trento-provision/pending-handlers')).toBe('active\n');
    expect(statusOf(await provision(['-i', invPull]), h)?.status).toBe('ok');
  });

  it('update-ca-certificates failing after the CA anchor is written: the next run rebuilds the trust store, then restarts the agent', async () => {
    const h = pull[0]!.name;
    const anchor = '/etc/pki/trust/anchors/trento-server-ca.pem';
    const pem = readFileSync(join(import.meta.dirname, '../fixtures/official-playbook/server-ca.pem'), 'utf8');
    const caVars = join(await mkdtemp(join(tmpdir(), 'tp-ca-')), 'ca.yml');
    writeFileSync(caVars, `agent_server_ca_cert: |\n${pem.replace(/^/gm, '  ')}`);
    const first = await provision(['-i', invPull]);
    expect(first.code, first.stdout).toBe(0);
    await mustOnHost(
      info,
      h,
      `mv /usr/sbin/update-ca-certificates /root/update-ca-certificates.good && printf '#!/bin/sh\\necho "trust store broken by the test" >&2\\nexit 1\\n' > /usr/sbin/update-ca-certificates && chmod 755 /usr/sbin/update-ca-certificates`,
    );
    const failed = await provision(['-i', invPull, '-e', `@${caVars}`]);
    const state = await mustOnHost(
      info,
      h,
      `cat ${anchor} >/dev/null && cat /var/lib/trento-provision/pending-handlers; grep -c BEGIN /etc/ssl/ca-bundle.pem || true`,
    );
    await mustOnHost(info, h, 'mv -f /root/update-ca-certificates.good /usr/sbin/update-ca-certificates');
    expect(failed.code, failed.stdout).toBe(2);
    expect(failed.stdout, JSON.stringify(statusOf(failed, h))).toMatch(/trust store broken by the test/);
    // The anchor is in place, the store not rebuilt: both are recorded for the next run.
    expect(state).toMatch(/^rebuild trust store\nrestart trento-agent\n/);
    const retried = await provision(['-i', invPull, '-e', `@${caVars}`]);
    expect(retried.code, retried.stdout).toBe(0);
    expect(statusOf(retried, h)?.status).toBe('changed');
    expect(statusOf(retried, h)?.warnings.join('\n')).toMatch(/'rebuild trust store' did not finish in an earlier run/);
    expect(retried.stdout).toMatch(new RegExp(`${h} \\| CHANGED \\| update-ca-certificates`));
    expect(await mustOnHost(info, h, 'cat /etc/ssl/ca-bundle.pem')).toContain(pem.trim());
    expect(await mustOnHost(info, h, 'systemctl is-active trento-agent; cat /var/lib/trento-provision/pending-handlers')).toBe('active\n');
    expect(statusOf(await provision(['-i', invPull, '-e', `@${caVars}`]), h)?.status).toBe('ok');
    await mustOnHost(info, h, `rm -f ${anchor} && update-ca-certificates`);
  });
});

describe('a failed Alloy restart does not leave the agent stopped', () => {
  it("a new host whose Alloy cannot run: the agent's start, left to its restart, is made by the script, and the next run finishes", async () => {
    const h = push[1]!; // not provisioned yet (push[0] is, by beforeAll)
    // The admin's Alloy, made to fail at `run` only: `alloy validate` still accepts trento.alloy,
    // so the run gets as far as Alloy's restart, which fails (Alloy never becomes ready).
    await mustOnHost(
      info,
      h.name,
      `zypper -q -n in alloy >/dev/null && mv /usr/bin/alloy /usr/bin/alloy.real && printf '#!/bin/sh\n[ "$1" = run ] && { echo "alloy broken by the test" >&2; exit 3; }\nexec /usr/bin/alloy.real "$@"\n' > /usr/bin/alloy && chmod 0755 /usr/bin/alloy`,
    );
    const inv = await iniInventory(info, [{ host: h }], VARS);
    const failed = await provision(['-i', inv]);
    const state = await mustOnHost(info, h.name, 'systemctl is-active trento-agent; cat /var/lib/trento-provision/pending-handlers');
    // Alloy repaired. The failed run's starts (Alloy's crash loop's too) count against its start
    // limit for 10 s: the retry's restart, refused by systemd at first, is made once more after
    // that interval (tp_unit_start), never by resetting the limit.
    await mustOnHost(info, h.name, 'mv -f /usr/bin/alloy.real /usr/bin/alloy');
    expect(failed.code, failed.stdout).toBe(2);
    expect(statusOf(failed, h.name)?.status).toBe('failed');
    expect(failed.stdout).toMatch(new RegExp(`${h.name} \\| FAILED \\| restart alloy.service`));
    expect(statusOf(failed, h.name)?.warnings.join('\n')).toMatch(
      /started trento-agent.service, whose start was left to a restart that this failure kept from running/,
    );
    // The agent runs (as when its change started it); both restarts stay recorded for the next run,
    // and the reload trento.alloy's write owes (the restart, once it ran, clears it with its own).
    expect(state).toBe('active\nreload alloy\nrestart alloy\nrestart trento-agent\n');
    const retried = await provision(['-i', inv]);
    expect(retried.code, retried.stdout).toBe(0);
    expect(statusOf(retried, h.name)?.status).toBe('changed');
    expect(await mustOnHost(info, h.name, 'systemctl is-active alloy trento-agent; cat /var/lib/trento-provision/pending-handlers')).toBe('active\nactive\n');
  });
});

describe('facts never degrade silently', () => {
  it('a zypper lock held during the facts fails the host with the reason, not a plan without configure-alloy.sh', async () => {
    const h = push[1] ?? push[0]!;
    await mustOnHost(info, h.name, 'rpm -q trento-agent >/dev/null && zypper -q -n rm trento-agent >/dev/null; true');
    // zypper's lock: /run/zypp.pid naming a live process.
    // (held for as long as the two runs may take on a busy machine, then let go)
    await mustOnHost(info, h.name, 'nohup sleep 600 >/dev/null 2>&1 & echo $! > /run/zypp.pid');
    const inv = await iniInventory(info, [{ host: h }], VARS);
    let run: Awaited<ReturnType<typeof provision>>;
    let uninstall: Awaited<ReturnType<typeof provision>>;
    try {
      run = await provision(['-i', inv, '--check', '--zypper-lock-timeout', '2']);
      // An uninstall has no use for what the repositories offer: it does not ask zypper, so the
      // lock does not fail it.
      uninstall = await provision(['-i', inv, '--check', '--uninstall', '--zypper-lock-timeout', '2']);
    } finally {
      await mustOnHost(info, h.name, 'kill $(cat /run/zypp.pid); rm -f /run/zypp.pid');
    }
    expect(run.code).toBe(2);
    expect(statusOf(run, h.name)?.message).toMatch(/zypper info trento-agent failed \(exit 7: another process holds the package lock\)/);
    expect(uninstall.code, uninstall.stdout).toBe(0);
  });
});

describe('uninstall removes exactly what the toolkit installed', () => {
  it("--purge keeps the base system and a node_exporter the admin had, running; removes the toolkit's packages only", async () => {
    const h = pull[1]!;
    // The admin installed node_exporter before the toolkit came, and runs it (one they kept off
    // is put back off: provision-cases.test.ts).
    await mustOnHost(info, h.name, 'zypper -q -n in golang-github-prometheus-node_exporter >/dev/null && systemctl enable --now prometheus-node_exporter');
    const inv = await iniInventory(info, [{ host: h }], VARS);
    expect((await provision(['-i', inv])).code).toBe(0);
    // node_exporter was there: not the toolkit's (supportutils and its plugin come with the agent).
    expect(await mustOnHost(info, h.name, 'cat /var/lib/trento-provision/packages')).toBe('supportutils\nsupportutils-plugin-trento\ntrento-agent\n');
    const run = await provision(['-i', inv, '--uninstall', '--purge']);
    expect(run.code, run.stdout).toBe(0);
    expect(statusOf(run, h.name)?.warnings.join('\n')).toMatch(/golang-github-prometheus-node_exporter was not installed by trento-provision/);
    const rpms = await mustOnHost(info, h.name, 'rpm -qa --qf "%{NAME}\\n" | sort');
    expect(rpms).toContain('lab-sles-base');
    expect(rpms).toContain('golang-github-prometheus-node_exporter');
    expect(rpms).not.toContain('trento-agent');
    expect(rpms).not.toContain('supportutils');
    // The admin's node_exporter keeps serving: their package, their service (never stopped).
    expect(await mustOnHost(info, h.name, 'systemctl is-active prometheus-node_exporter; systemctl is-enabled prometheus-node_exporter')).toBe(
      'active\nenabled\n',
    );
    // The host can still install packages (the base package that provides /bin/sh is there).
    expect((await provision(['-i', inv])).code).toBe(0);
  });
});

describe('--purge never takes a package the admin installed with it', () => {
  it("supportutils, which the admin's own plugin needs, is kept with a warning and leaves the record; the rest goes; the next --purge has nothing to do", async () => {
    const h = pull[1]!;
    const inv = await iniInventory(info, [{ host: h }], VARS);
    expect((await provision(['-i', inv])).code).toBe(0);
    // The admin's package that needs supportutils (as SUSE's supportutils-plugin-ha-sap does): zypper
    // would remove it with supportutils.
    const top = await mkdtemp(join(tmpdir(), 'tp-rpm-'));
    const spec = join(top, 'plugin.spec');
    writeFileSync(
      spec,
      'Name: supportutils-plugin-admins\nVersion: 1.0\nRelease: 1\nSummary: an admin plugin\nLicense: MIT\nBuildArch: noarch\nRequires: supportutils\n%description\nneeds supportutils\n%files\n',
    );
    execFileSync('rpmbuild', ['-bb', '--quiet', '--define', `_topdir ${top}`, spec], { stdio: 'pipe' });
    const rpm = readFileSync(join(top, 'RPMS/noarch/supportutils-plugin-admins-1.0-1.noarch.rpm')).toString('base64');
    await mustOnHost(info, h.name, `base64 -d > /root/admins.rpm <<'EOF'\n${rpm}\nEOF\nrpm -i --nosignature /root/admins.rpm`);
    const run = await provision(['-i', inv, '--uninstall', '--purge']);
    expect(run.code, run.stdout).toBe(0);
    expect(statusOf(run, h.name)?.warnings.join('\n')).toMatch(
      /package supportutils kept: supportutils-plugin-admins-1\.0-1\.noarch needs it \(zypper would remove that with it\); it is no longer counted as installed by trento-provision/,
    );
    // Kept, and no longer the toolkit's: the record is empty, and with it the record folder went.
    const rpms = await mustOnHost(
      info,
      h.name,
      'rpm -q --qf "%{NAME}\\n" supportutils supportutils-plugin-admins trento-agent supportutils-plugin-trento; test -d /var/lib/trento-provision || echo no-record-folder',
    );
    expect(rpms).toBe(
      'supportutils\nsupportutils-plugin-admins\npackage trento-agent is not installed\npackage supportutils-plugin-trento is not installed\nno-record-folder\n',
    );
    // So the uninstall converges: nothing left to do the second time.
    const again = await provision(['-i', inv, '--uninstall', '--purge']);
    expect(again.code, again.stdout).toBe(0);
    expect(statusOf(again, h.name)?.status).toBe('ok');
    await mustOnHost(info, h.name, 'rpm -e supportutils-plugin-admins');
  });
});

describe('smaller ones', () => {
  it('--json onto an existing 0644 file leaves it 0600', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tp-json-'));
    const file = join(dir, 'report.json');
    writeFileSync(file, '{}', { mode: 0o644 });
    const run = spawnProvision(['-i', invPull, '--check', '--json', file]);
    expect(await run.exited, run.output()).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8')).exitCode).toBe(0);
  });

  it('ansible_port "22;touch x" is a settings error naming the variable; nothing is contacted', async () => {
    // The port reaches the controller's ssh command line: an injection would run here, or on the host.
    const canary = join(await mkdtemp(join(tmpdir(), 'tp-canary-')), 'port');
    const inv = await iniInventory(info, [{ host: pull[0]!, vars: { ansible_port: `"22;touch ${canary}"` } }], VARS);
    const run = await provision(['-i', inv]);
    expect(run.code).toBe(1);
    expect(run.stdout + run.stderr).toMatch(/ansible_port.*22;touch/);
    expect(existsSync(canary), 'the canary on the controller').toBe(false);
    expect(await mustOnHost(info, pull[0]!.name, `test -e ${canary} && echo present || echo absent`)).toBe('absent\n');
  });
});
