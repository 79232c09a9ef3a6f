// Real zypper and rpm in the hosts, against the lab's channel repositories.
import { afterAll, describe, expect, it } from 'vitest';
import { currentLab } from './current.ts';
import { spawnSync } from 'node:child_process';
import { realpathSync, statSync } from 'node:fs';
import { ssh, sshOk } from './ssh.ts';

const lab = currentLab();
const cfg = lab.sshConfig;
const first = (mix: string) => {
  const h = lab.hosts.find((x) => x.product === mix);
  if (!h) throw new Error(`the lab has no ${mix} host (the default mix has one)`);
  return h;
};
const zypperIn = (pkg: string) => `zypper --non-interactive install --auto-agree-with-licenses ${pkg}`;
const cleanups: Array<() => Promise<unknown>> = [];

afterAll(async () => {
  // Leave the hosts as the integration tests expect them: without the test's packages.
  for (const c of cleanups.reverse()) await c();
});

describe('lab packages', () => {
  it('zypper install alloy on a SLES 16 host creates user alloy there and nowhere else', async () => {
    const h = first('sles-16.0');
    const before = await ssh(cfg, h.name, 'rpm -q --quiet alloy || getent passwd alloy');
    expect(before.code, `${h.name} must start without alloy (fresh lab, or LAB_REUSE after a clean run)`).not.toBe(0);
    cleanups.push(() =>
      ssh(
        cfg,
        h.name,
        'systemctl stop alloy >/dev/null 2>&1; zypper -n rm alloy >/dev/null 2>&1; userdel -f alloy >/dev/null 2>&1; groupdel alloy >/dev/null 2>&1; rm -rf /etc/alloy /var/lib/alloy; true',
      ),
    );
    await sshOk(cfg, h.name, zypperIn('alloy'));
    const out = await sshOk(cfg, h.name, 'rpm -q alloy; getent passwd alloy; stat -c %U:%G:%a /etc/alloy; cat /etc/sysconfig/alloy');
    expect(out).toMatch(/^alloy-\d/m);
    expect(out).toMatch(/^alloy:x:\d+:\d+:/m);
    expect(out).toMatch(/^root:alloy:770$/m);
    expect(out).toContain('CONFIG_FILE="/etc/alloy/config.alloy"');
    // Not on the machine, not on any other host.
    // getent's 2: no such entry (not 0, and not a getent that could not run)
    expect(spawnSync('getent', ['passwd', 'alloy'], { stdio: 'ignore' }).status).toBe(2);
    const others = await Promise.all(
      lab.hosts.filter((x) => x.name !== h.name).map(async (x) => ({ name: x.name, r: await ssh(cfg, x.name, 'getent passwd alloy') })),
    );
    expect(others.filter((o) => o.r.code !== 2).map((o) => `${o.name}: ${o.r.code} ${o.r.stdout}${o.r.stderr}`)).toEqual([]);
  });

  it("node_exporter, once started on a SLES 15 host, serves /metrics on the host's own address", async () => {
    const h = first('sles-15-sp5');
    cleanups.push(() =>
      ssh(
        cfg,
        h.name,
        'systemctl stop prometheus-node_exporter >/dev/null 2>&1; zypper -n rm golang-github-prometheus-node_exporter >/dev/null 2>&1; userdel prometheus >/dev/null 2>&1; groupdel prometheus >/dev/null 2>&1; true',
      ),
    );
    await sshOk(cfg, h.name, `${zypperIn('golang-github-prometheus-node_exporter')} && systemctl start prometheus-node_exporter`);
    let text = '';
    const deadline = Date.now() + 15_000;
    for (;;) {
      try {
        const res = await fetch(`http://${h.address}:9100/metrics`);
        text = await res.text();
        if (res.status === 200) break;
      } catch {
        /* not listening yet */
      }
      if (Date.now() > deadline) throw new Error(`${h.name}: nothing on http://${h.address}:9100/metrics after 15 s`);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(text).toMatch(/^node_cpu_seconds_total\{/m);
    // Its own uts namespace: node_exporter reports the host's name.
    expect(text).toMatch(new RegExp(`^node_uname_info\\{.*nodename="${h.name}"`, 'm'));
    // Its own network namespace: the same port on another host is closed.
    const other = first('sles-15-sp6');
    await expect(fetch(`http://${other.address}:9100/metrics`)).rejects.toThrow();
    expect((await sshOk(cfg, h.name, 'systemctl is-active prometheus-node_exporter')).trim()).toBe('active');
    // The program it runs is the machine's binary itself, mapped from its one inode (the
    // package links to it): 1,000 hosts share its pages instead of each holding a copy.
    const mapped = await sshOk(
      cfg,
      h.name,
      'awk \'$6 ~ /node/ { print $5, $6; exit }\' "/proc/$(systemctl show -p MainPID --value prometheus-node_exporter)/maps"',
    );
    const machine = realpathSync('/usr/bin/prometheus-node-exporter');
    expect(mapped.trim()).toMatch(new RegExp(`^${statSync(machine).ino} \\S*${machine.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`));
  });

  it("offers each channel's packages: alloy on SLES 15 SP7 and 16, node_exporter not on 16, supportutils and its plugin everywhere", async () => {
    const has = async (host: string, pkg: string) => (await ssh(cfg, host, `zypper --non-interactive info ${pkg} | grep -q '^Name *: ${pkg}$'`)).code === 0;
    expect(await has(first('sles-15-sp7').name, 'alloy')).toBe(true);
    expect(await has(first('sles-15-sp4').name, 'alloy')).toBe(false);
    expect(await has(first('sles-16.0').name, 'golang-github-prometheus-node_exporter')).toBe(false);
    expect(await has(first('sles-16.0').name, 'trento-agent')).toBe(true);
    for (const product of ['sles-15-sp4', 'sles-15-sp7', 'sles-16.0']) {
      expect(await has(first(product).name, 'supportutils')).toBe(true);
      expect(await has(first(product).name, 'supportutils-plugin-trento')).toBe(true);
    }
    // zypper picks the newest trento-agent (3.1.0, the one with `generate alloy`).
    const info = await sshOk(cfg, first('sles-15-sp4').name, 'zypper --non-interactive info trento-agent');
    expect(info).toMatch(/^Version *: 3\.1\.0/m);
  });
});
