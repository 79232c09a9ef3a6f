// Provisioning the default lab mix end to end, with the real CLI over real SSH:
// check mode changes nothing, apply gives every supported host what RFC 0003's automatic path
// asks, a second run changes and restarts nothing, uninstall leaves Alloy running without
// trento.alloy. Steps depend on each other, so they run in order.
import { execFileSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { freshLab, hostsBy, mustOnHost, provision, SNAPSHOT_COMMAND, type Report } from './helpers.ts';
import type { LabInfo } from '../lab/inventory.ts';
import { agentIdOf } from './prometheus.ts';

let info: LabInfo;
const SECRET = 'bearer-SENTINEL-9f27';
// The lab inventory as written by `npm run lab -- up` (inventories/lab for the default lab,
// $LAB_DIR/inventory for another one), plus a bearer token for push hosts.
let BASE: string[] = [];

async function snapshots(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  await Promise.all(info.hosts.map(async (h) => out.set(h.name, await mustOnHost(info, h.name, SNAPSHOT_COMMAND))));
  return out;
}

const byHost = (r: Report | undefined) => new Map((r?.hosts ?? []).map((h) => [h.host, h]));

beforeAll(async () => {
  info = await freshLab();
  BASE = ['--inventory', info.inventoryDir, '-e', `agent_prometheus_auth=bearer agent_prometheus_auth_bearer_token=${SECRET}`];
});

describe('provisioning the default mix', () => {
  let before: Map<string, string>;

  it('--check --diff shows the plan and changes nothing on any host', async () => {
    before = await snapshots();
    const run = await provision([...BASE, '--check', '--diff']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const hosts = byHost(run.report);
    const { pull, push, refused } = hostsBy(info);
    for (const h of [...pull, ...push]) expect(hosts.get(h.name)?.status, h.name).toMatch(/changed|ok/);
    for (const h of refused) expect(hosts.get(h.name)?.status, h.name).toBe('skipped');
    expect(run.stdout).toMatch(/WOULD CHANGE \| install/);
    expect(run.stdout).toMatch(/^\s+\+prometheus-mode: "push"$/m); // a diff line of a push host's agent.yaml
    expect(run.stdout).toMatch(/^\s+\+api-key: "\*{8}"$/m); // masked
    expect(run.stdout + run.stderr + JSON.stringify(run.report)).not.toContain(SECRET);
    const after = await snapshots();
    for (const h of info.hosts) expect(after.get(h.name), `${h.name} changed in check mode`).toBe(before.get(h.name));
  });

  it('applies: every supported host converges, refused hosts are reported and untouched', async () => {
    const run = await provision(BASE);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/PLAY RECAP/);
    expect(run.stdout + run.stderr + JSON.stringify(run.report)).not.toContain(SECRET);
    const hosts = byHost(run.report);
    const { pull, push, refused } = hostsBy(info);
    for (const h of [...pull, ...push]) {
      const r = hosts.get(h.name)!;
      expect(r.status, `${h.name}: ${r.message}`).toBe('changed');
      expect(r.agentId).toBe(agentIdOf(h.machineId));
      expect(
        r.checks.every((c) => c.ok),
        JSON.stringify(r.checks),
      ).toBe(true);
    }
    // Each service started once on these fresh hosts: the restarts the run makes anyway start the
    // agent and Alloy, after every file is written (the lab's systemd logs each start).
    for (const h of [...pull, ...push]) {
      const units = push.includes(h) ? ['alloy.service', 'trento-agent.service'] : ['trento-agent.service'];
      const starts = await mustOnHost(info, h.name, units.map((u) => `grep -c '^-- lab-systemd .*: Starting ' /var/log/lab-systemd/${u}.log`).join('; '));
      expect(starts, `${h.name}: starts of ${units.join(', ')}`).toBe(units.map(() => '1\n').join(''));
    }
    const after = await snapshots();
    for (const h of refused) {
      expect(hosts.get(h.name)?.status).toBe('skipped');
      expect(hosts.get(h.name)?.message).toBeTruthy();
      expect(after.get(h.name), `${h.name} was touched`).toBe(before.get(h.name));
    }
  });

  it('SLES 15 hosts (SP7 too): node_exporter serves /metrics on the host address, agent in pull mode', async () => {
    for (const h of hostsBy(info).pull) {
      const state = await mustOnHost(
        info,
        h.name,
        'stat -c "%U:%G %a" /etc/trento/agent.yaml; systemctl is-active prometheus-node_exporter trento-agent; rpm -q alloy >/dev/null && echo HAS-ALLOY || echo no-alloy; grep -c "prometheus-mode: \\"pull\\"" /etc/trento/agent.yaml; cat /etc/systemd/system/trento-agent.service.d/*.conf',
      );
      expect(state, h.name).toMatch(/^root:root 600\nactive\nactive\nno-alloy\n1\n/);
      expect(state).toMatch(/Wants=prometheus-node_exporter.service/);
      const metrics = execFileSync('curl', ['-sf', '--max-time', '5', `http://${h.address}:9100/metrics`], { encoding: 'utf8' });
      expect(metrics).toMatch(/^node_cpu_seconds_total/m);
    }
  });

  it('SLES 16 hosts: Alloy in directory mode really loaded trento.alloy (0640 alloy:alloy), agent in push mode', async () => {
    for (const h of hostsBy(info).push) {
      const state = await mustOnHost(
        info,
        h.name,
        'stat -c "%U:%G %a" /etc/trento/agent.yaml /etc/alloy/trento.alloy; grep ^CONFIG_FILE= /etc/sysconfig/alloy; systemctl is-active alloy trento-agent; curl -sf http://127.0.0.1:12345/api/v0/web/components | grep -o "prometheus.remote_write.trento" | head -1; ls /etc/alloy/; cat /etc/systemd/system/trento-agent.service.d/*.conf',
      );
      expect(state, h.name).toMatch(/^root:root 600\nalloy:alloy 640\nCONFIG_FILE="\/etc\/alloy\/"\nactive\nactive\nprometheus.remote_write.trento\n/);
      expect(state).not.toMatch(/\.tp-/); // no temp file or backup left behind
      expect(state).toMatch(/Wants=alloy.service/);
      expect(state).toMatch(/ExecStartPre=-\/usr\/share\/trento\/configure-alloy.sh/);
      const alloyFile = await mustOnHost(info, h.name, 'cat /etc/alloy/trento.alloy');
      expect(alloyFile).toContain(`replacement  = "${agentIdOf(h.machineId)}"`);
      expect(alloyFile).toContain(`bearer_token = "${SECRET}"`);
    }
  });

  it('a second run changes nothing and restarts nothing, proven by one round trip per host', async () => {
    const pids = async () =>
      Promise.all(
        [...hostsBy(info).pull, ...hostsBy(info).push].map((h) =>
          mustOnHost(
            info,
            h.name,
            'systemctl show -p MainPID --value trento-agent; systemctl show -p MainPID --value alloy; curl -s http://127.0.0.1:12345/-/lab/config 2>/dev/null | python3 -c "import json,sys; print(json.load(sys.stdin).get(\\"reloads\\"))" 2>/dev/null || true',
          ),
        ),
      );
    const pidsBefore = await pids();
    const run = await provision(BASE);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const pull = new Set(hostsBy(info).pull.map((h) => h.name));
    let pushInOne = 0;
    expect(run.report!.hosts.map((h) => h.host).sort()).toEqual(info.hosts.map((h) => h.name).sort());
    // Skipped are exactly the hosts the platform rules refuse (SLES 12, Leap, ...): a converged
    // host misread as one of them would pass every check below unchecked.
    const skipped = run.report!.hosts.filter((h) => h.status === 'skipped').map((h) => h.host);
    expect(skipped.sort()).toEqual(
      hostsBy(info)
        .refused.map((h) => h.name)
        .sort(),
    );
    for (const h of run.report!.hosts) {
      expect(h.changes, h.host).toEqual([]);
      if (h.status === 'skipped') continue;
      expect(h.status).toBe('ok');
      expect(h.checks.length, h.host).toBeGreaterThan(0);
      expect(h.checks.every((c) => c.ok)).toBe(true);
      // Proven by the facts (one round trip) or, when one check did not hold yet (Alloy's last
      // delivery older than the verify wait), by the checks on the host (a second one).
      const byFacts = h.checks.every((c) => c.byFacts === true);
      expect(h.roundTrips, h.host).toBe(byFacts ? 1 : 2);
      if (pull.has(h.host)) expect(h.roundTrips, `${h.host}: node_exporter serves, the agent runs`).toBe(1);
      else if (h.roundTrips === 1) pushInOne++;
    }
    expect(pushInOne, 'push hosts delivering every 15 s are proven by their facts').toBeGreaterThan(0);
    expect(run.stdout).toMatch(/changed=0 /);
    expect(run.stdout).not.toMatch(/changed=[1-9]/);
    expect(await pids()).toEqual(pidsBefore);
  });

  it('--check --diff after a manual edit shows the drift with secrets masked', async () => {
    const h = hostsBy(info).push[0]!;
    await mustOnHost(info, h.name, `sed -i 's/^prometheus-auth: .*/prometheus-auth: "none"/' /etc/trento/agent.yaml`);
    const run = await provision([...BASE, '--check', '--diff', '--limit', h.name]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/-prometheus-auth: "none"/);
    expect(run.stdout).toMatch(/\+prometheus-auth: "bearer"/);
    expect(run.stdout).toMatch(/prometheus-auth-bearer-token: "\*{8}"/);
    expect(run.stdout).not.toContain(SECRET);
    const fix = await provision([...BASE, '--limit', h.name]);
    expect(fix.code).toBe(0);
    expect(
      byHost(fix.report)
        .get(h.name)!
        .changes.map((c) => c.id),
    ).toEqual(['file:/etc/trento/agent.yaml']);
  });

  it('uninstall removes what the toolkit added; Alloy keeps running on the user config; twice is a no-op', async () => {
    const run = await provision(['--inventory', info.inventoryDir, '--uninstall']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    for (const h of hostsBy(info).push) {
      const state = await mustOnHost(
        info,
        h.name,
        'ls /etc/alloy/; grep ^CONFIG_FILE= /etc/sysconfig/alloy; systemctl is-active alloy; rpm -q trento-agent >/dev/null && echo HAS-AGENT || echo no-agent; test -e /etc/systemd/system/trento-agent.service.d && echo drop-in-folder-left || echo 0; test -e /usr/share/trento/configure-alloy.sh && echo script-left || echo no-script; test -f /etc/trento/agent.yaml && echo kept-config; curl -sf http://127.0.0.1:12345/-/ready',
      );
      expect(state, h.name).not.toMatch(/trento\.alloy/);
      // configure-alloy.sh too: the facts read the toolkit's mark in the installed script.
      expect(state).toMatch(/CONFIG_FILE="\/etc\/alloy\/config.alloy"\nactive\nno-agent\n0\nno-script\nkept-config\nAlloy is ready/);
    }
    for (const h of hostsBy(info).pull) {
      const state = await mustOnHost(
        info,
        h.name,
        'systemctl is-active prometheus-node_exporter; rpm -q trento-agent >/dev/null && echo HAS-AGENT || echo no-agent; ls /etc/trento/ | grep agent.yaml',
      );
      // SLE 15's package: the agent.yaml it shipped, changed by the toolkit, is kept as .rpmsave
      expect(state, h.name).toBe('active\nno-agent\nagent.yaml.rpmsave\n');
    }
    const again = await provision(['--inventory', info.inventoryDir, '--uninstall']);
    expect(again.code).toBe(0);
    expect(again.report!.hosts.length).toBe(run.report!.hosts.length);
    for (const h of again.report!.hosts) expect(h.changes, h.host).toEqual([]);
  });
});

describe('settings are validated before any host is touched', () => {
  it('push mode with basic auth and no password: exit 1, one error naming the variable and its file, nothing changed', async () => {
    const before = await snapshots();
    const run = await provision(['--inventory', info.inventoryDir, '-e', 'agent_prometheus_auth=basic agent_prometheus_auth_username=trento']);
    expect(run.code).toBe(1);
    const push = hostsBy(info).push.map((h) => h.name);
    const errs = run.report!.settingsErrors;
    expect(errs.map((e) => e.host).sort()).toEqual([...push].sort());
    expect(errs[0]!.variable).toBe('agent_prometheus_auth_password');
    expect(run.stdout).toMatch(/password is required for basic authentication/);
    expect(run.stdout).toMatch(/nothing was changed/);
    expect(await snapshots()).toEqual(before);
  });
});
