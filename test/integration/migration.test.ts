// SLES 15 -> 16 on the lab (issue 16 item 2): two SLES 15 hosts provisioned in pull mode, one
// with the toolkit's node_exporter, one with the admin's (installed before the toolkit came);
// then both are turned into SLES 16 hosts the way an upgrade does it (os-release, base product,
// the SLES 16 channel with Alloy in place of the 15 one) and provisioned again. One lab for the
// whole file; the steps depend on each other, so they run in order. Two failed migrations come
// first (Alloy refusing its config, Alloy delivering nothing): node_exporter must outlive both.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LabInfo } from '../lab/inventory.ts';
import { osReleaseFixtures } from '../lab/paths.ts';
import { prodFile, productByMix } from '../lab/products.ts';
import { freshLab, hostsBy, type LabHost, mustOnHost, onHost, provision, SNAPSHOT_COMMAND } from './helpers.ts';
import { agentIdOf, waitForUp } from './prometheus.ts';

const NE = 'golang-github-prometheus-node_exporter';
const NE_UNIT = 'prometheus-node_exporter.service';

let info: LabInfo;
let ours: LabHost; // node_exporter installed by the toolkit
let admins: LabHost; // node_exporter installed by the admin before the first provision
let limit: string;

const hostOf = (run: Awaited<ReturnType<typeof provision>>, name: string) => run.report?.hosts.find((h) => h.host === name);
const unitState = (host: string) =>
  mustOnHost(info, host, `systemctl is-active ${NE_UNIT}; systemctl is-enabled ${NE_UNIT}; true`).then((s) => s.trim().split('\n'));

/**
 * Makes a running lab host report another product, as a distribution upgrade leaves it: both
 * os-release files and the base product from the lab's fixtures, and the product's channel in
 * place of the old one. The channel is copied into the host (its own /srv/repo is the old channel,
 * bound read-only) and lab.repo is pointed at the copy, signature checks on as before.
 */
async function becomeProduct(host: LabHost, mix: string): Promise<void> {
  const p = productByMix(mix);
  const bootRepo = /^LAB_REPO='([^']*)'$/m.exec(readFileSync(join(info.labDir, 'hosts', host.name, 'boot.env'), 'utf8'))?.[1];
  expect(bootRepo, `${host.name}: no channel in its boot.env`).toBeTruthy();
  const channelDir = join(dirname(bootRepo!), p.channel!);
  const dest = `/srv/channel-${p.channel}`;
  execFileSync('bash', [
    '-c',
    'tar -C "$1" -cf - . | ssh -F "$2" -o BatchMode=yes "$3" "rm -rf $4 && mkdir -p $4 && tar -xf - -C $4"',
    'copy',
    channelDir,
    info.sshConfig,
    host.name,
    dest,
  ]);
  const osRelease = readFileSync(join(osReleaseFixtures, p.mix), 'utf8');
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  await mustOnHost(
    info,
    host.name,
    [
      `echo ${b64(osRelease)} | base64 -d > /etc/os-release`,
      'cp /etc/os-release /usr/lib/os-release',
      'rm -f /etc/products.d/*',
      `echo ${b64(prodFile(p))} | base64 -d > /etc/products.d/${p.baseProduct}.prod`,
      `ln -s ${p.baseProduct}.prod /etc/products.d/baseproduct`,
      `sed -i -e 's|^baseurl=.*|baseurl=file://${dest}|' -e 's|^name=.*|name=Lab packages (${p.channel})|' /etc/zypp/repos.d/lab.repo`,
      'zypper -q -n refresh >/dev/null',
    ].join(' && '),
  );
}

beforeAll(async () => {
  info = await freshLab();
  // Two SLES 15 hosts of the sle15 channel (the one without Alloy).
  const pull = hostsBy(info).pull.filter((h) => productByMix(h.product).channel === 'sle15' && h.product.startsWith('sles-15'));
  [ours, admins] = pull as [LabHost, LabHost];
  expect(admins, 'the lab mix has two SLES 15 hosts on the sle15 channel').toBeDefined();
  limit = `${ours.name},${admins.name}`;
});

/** The support packages' lines of the toolkit's package record (sorted among the others). */
const SUPPORT = 'supportutils\nsupportutils-plugin-trento\n';

describe('SLES 15 -> 16 migration', () => {
  it('provisioned as SLES 15: node_exporter running on both, the toolkit records only the one it installed', async () => {
    await mustOnHost(info, admins.name, `zypper -q -n in ${NE} >/dev/null`);
    const run = await provision(['--inventory', info.inventoryDir, '--limit', limit]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    // supportutils and its plugin come with the agent (supportutils_enabled, default true).
    expect(await mustOnHost(info, ours.name, 'cat /var/lib/trento-provision/packages')).toBe(`${NE}\n${SUPPORT}trento-agent\n`);
    expect(await mustOnHost(info, admins.name, 'cat /var/lib/trento-provision/packages')).toBe(`${SUPPORT}trento-agent\n`);
    for (const h of [ours, admins]) expect(await unitState(h.name)).toEqual(['active', 'enabled']);
  });

  it('now SLES 16: --check --diff shows the migration as plan changes and changes nothing', async () => {
    for (const h of [ours, admins]) await becomeProduct(h, 'sles-16.0');
    expect(await mustOnHost(info, ours.name, '. /etc/os-release && echo $VERSION_ID; zypper -q -n se -x alloy >/dev/null && echo alloy offered')).toBe(
      '16.0\nalloy offered\n',
    );
    const before = await mustOnHost(info, ours.name, SNAPSHOT_COMMAND);
    const run = await provision(['--inventory', info.inventoryDir, '--limit', limit, '--check', '--diff']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const mine = hostOf(run, ours.name)!;
    expect(mine.provider).toBe('alloy');
    const summaries = mine.changes.map((c) => c.summary);
    expect(summaries[0]).toBe('install alloy');
    expect(summaries).toContain('create /etc/alloy/trento.alloy (0640 alloy:alloy)');
    expect(summaries).toContain('update /etc/trento/agent.yaml (0600 root:root)');
    expect(summaries).toContain('update /etc/systemd/system/trento-agent.service.d/trento-provision.conf (0644 root:root)');
    expect(summaries.at(-1)).toBe(`stop ${NE_UNIT}, disable ${NE_UNIT} (once Alloy and trento-agent pass their checks)`);
    expect(run.stdout).toMatch(/^\s+\+prometheus-mode: "push"$/m);
    expect(run.stdout).toMatch(/^\s+-Wants=prometheus-node_exporter.service$/m);
    expect(run.stdout).toMatch(/^\s+\+Wants=alloy.service$/m);
    expect(run.stdout).toContain(`- stop ${NE_UNIT}`);
    // The admin's node_exporter is not part of its plan (only the drop-in stops naming it).
    const theirs = hostOf(run, admins.name)!.changes;
    expect(theirs.map((c) => c.summary)).toContain('install alloy');
    expect(theirs.map((c) => c.id)).not.toContain(`service:${NE_UNIT}`);
    expect(await mustOnHost(info, ours.name, SNAPSHOT_COMMAND)).toBe(before);
  });

  // The old provider keeps running until the new one is proven: the retire runs after the
  // handlers and the checks, and only if they all passed.
  it('Alloy refuses the configuration: the host fails, node_exporter keeps running and enabled', async () => {
    // An admin's file in /etc/alloy that Alloy's single-file mode never loaded: it passes
    // `alloy validate` (a type check), and Alloy's own evaluation refuses it (exclusive auth
    // settings) once the run moves Alloy to the folder, at its (re)start.
    const admin = [
      'prometheus.remote_write "admin" {',
      '  endpoint {',
      '    url          = "https://metrics.example.com/api/v1/write"',
      '    bearer_token = "admin-token"',
      '    basic_auth {',
      '      username = "admin"',
      '      password = "admin-password"',
      '    }',
      '  }',
      '}',
    ].join('\\n');
    for (const h of [ours, admins]) await mustOnHost(info, h.name, `mkdir -p /etc/alloy && printf '${admin}\\n' > /etc/alloy/admin.alloy`);
    let run: Awaited<ReturnType<typeof provision>>;
    try {
      run = await provision(['--inventory', info.inventoryDir, '--limit', limit]);
    } finally {
      for (const h of [ours, admins]) await mustOnHost(info, h.name, 'rm -f /etc/alloy/admin.alloy');
    }
    // Refused at its start (the reason is in Alloy's journal, which the failure points to).
    expect(run.stdout).toContain('see journalctl -u alloy.service for why Alloy did not start');
    expect(run.code, run.stdout + run.stderr).toBe(2);
    for (const h of [ours, admins]) expect(hostOf(run, h.name)?.status, h.name).toBe('failed');
    // A new Alloy is restarted (CONFIG_FILE changed): refused, it does not come up; the toolkit
    // puts the files back and Alloy runs its previous configuration.
    expect(run.stdout).toMatch(new RegExp(`^${ours.name} \\| FAILED \\| restart alloy.service .*$[\\s\\S]*restored the previous /etc/alloy/trento.alloy`, 'm'));
    const mine = hostOf(run, ours.name)!;
    expect(mine.changes.find((c) => c.id === `service:${NE_UNIT}`)).toMatchObject({ applied: false });
    for (const h of [ours, admins]) expect(await unitState(h.name), h.name).toEqual(['active', 'enabled']);
    expect(await mustOnHost(info, ours.name, `curl -sf -o /dev/null -w '%{http_code}' http://127.0.0.1:9100/metrics`)).toBe('200');
  });

  it('Alloy takes the configuration but delivers nothing: the checks fail, node_exporter keeps running and enabled', async () => {
    // A remote-write URL where nothing listens: the handlers succeed, the delivery check does not.
    const run = await provision([
      '--inventory',
      info.inventoryDir,
      '--limit',
      ours.name,
      '-e',
      'agent_prometheus_remote_write_url=https://127.0.0.1:9/api/v1/write',
    ]);
    expect(run.code, run.stdout + run.stderr).toBe(2);
    const mine = hostOf(run, ours.name)!;
    expect(mine.status).toBe('failed');
    expect(mine.checks).toContainEqual({ check: 'Alloy is ready', ok: true });
    expect(mine.checks.find((c) => c.check === 'Alloy delivers metrics to the remote-write URL')).toMatchObject({ ok: false });
    expect(mine.checks.map((c) => c.check)).not.toContain('node_exporter (installed by trento-provision, now unused) is stopped');
    expect(mine.changes.find((c) => c.id === `service:${NE_UNIT}`)).toMatchObject({ applied: false });
    expect(mine.warnings.join('\n')).toMatch(/not done, as the checks above did not all pass .*: stop prometheus-node_exporter.service, disable/);
    expect(await unitState(ours.name)).toEqual(['active', 'enabled']);
  });

  it("the cause fixed, the next run completes the migration: Alloy runs trento.alloy, the agent pushes, the toolkit's node_exporter is stopped and disabled but installed; the admin's keeps running", async () => {
    const since = Date.now() / 1000;
    const run = await provision(['--inventory', info.inventoryDir, '--limit', limit]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    // "Pushes" judged where Trento looks: its Prometheus has up{agentID} == 1 from Alloy
    // (exporter_name grafana_alloy) for each host, its agent ID computed here from the machine-id.
    const pushing = await Promise.all(
      [ours, admins].map(async (h) => ({
        host: h.name,
        agentId: agentIdOf(await mustOnHost(info, h.name, 'cat /etc/machine-id')),
        exporterName: 'grafana_alloy',
      })),
    );
    const missing = await waitForUp(info, pushing, since, 60_000);
    expect(missing, missing.join('\n')).toEqual([]);
    // Planned again (the record and the unit were unchanged) and done this time.
    expect(hostOf(run, ours.name)?.changes.find((c) => c.id === `service:${NE_UNIT}`)).toMatchObject({ applied: true });
    for (const h of [ours, admins]) {
      expect(
        hostOf(run, h.name)?.checks.filter((c) => !c.ok),
        h.name,
      ).toEqual([]);
      expect(await mustOnHost(info, h.name, 'systemctl is-active alloy.service')).toBe('active\n');
      const components = await mustOnHost(info, h.name, 'curl -sf http://127.0.0.1:12345/api/v0/web/components');
      expect(components).toContain('"prometheus.remote_write.trento"');
      expect(await mustOnHost(info, h.name, 'ls /etc/alloy')).toContain('trento.alloy');
      expect(await mustOnHost(info, h.name, 'grep ^prometheus-mode /etc/trento/agent.yaml')).toBe('prometheus-mode: "push"\n');
      expect(await mustOnHost(info, h.name, 'grep ^Wants= /etc/systemd/system/trento-agent.service.d/trento-provision.conf')).toBe('Wants=alloy.service\n');
      expect(await mustOnHost(info, h.name, 'systemctl is-active trento-agent.service')).toBe('active\n');
    }
    expect(hostOf(run, ours.name)?.checks).toContainEqual({ check: 'node_exporter (installed by trento-provision, now unused) is stopped', ok: true });
    expect(await unitState(ours.name)).toEqual(['inactive', 'disabled']);
    expect((await onHost(info, ours.name, `rpm -q ${NE}`)).code).toBe(0);
    expect(await unitState(admins.name)).toEqual(['active', 'enabled']);
    // It was off before the toolkit turned it on for the pull mode (the lab's zypper enables
    // nothing): the admin is told that it now serves for nobody.
    expect(hostOf(run, admins.name)?.warnings.join('\n')).toMatch(
      new RegExp(
        `^${NE_UNIT} was off before trento-provision turned it on for Trento's pull mode \\(${NE_UNIT} disabled inactive, its record on the host\\)`,
        'm',
      ),
    );
    expect(hostOf(run, ours.name)?.warnings.join('\n')).not.toContain('was off before');
  });

  it("--purge removes the toolkit's node_exporter and nothing of the admin's", async () => {
    const run = await provision(['--inventory', info.inventoryDir, '--limit', limit, '--purge']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(hostOf(run, ours.name)?.changes.map((c) => c.summary)).toEqual([
      `remove ${NE} (installed by trento-provision) (once Alloy and trento-agent pass their checks)`,
    ]);
    expect(hostOf(run, admins.name)?.changes).toEqual([]);
    expect(await mustOnHost(info, ours.name, `rpm -q ${NE} >/dev/null && echo installed || echo removed`)).toBe('removed\n');
    expect(await mustOnHost(info, ours.name, 'cat /var/lib/trento-provision/packages')).toBe(`alloy\n${SUPPORT}trento-agent\n`);
    expect((await onHost(info, admins.name, `rpm -q ${NE}`)).code).toBe(0);
    expect(await unitState(admins.name)).toEqual(['active', 'enabled']);
  });
});
