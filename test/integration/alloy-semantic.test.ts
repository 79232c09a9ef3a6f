// The toolkit's rollback when Alloy refuses a configuration for what it MEANS, not for its
// syntax: `alloy validate` (a type check, like real Alloy's) passes the staged folder, and only
// the reload - where Alloy evaluates the components and runs their Validate() rules - answers
// 400. The toolkit must put its previous trento.alloy back, get Alloy running it again, and
// report the host FAILED with Alloy's own words.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LabInfo } from '../lab/inventory.ts';
import { freshLab, hostsBy, type LabHost, mustOnHost, provision, restartAlloy } from './helpers.ts';

let info: LabInfo;
let h: LabHost;
let dir = '';

const statusOf = (run: Awaited<ReturnType<typeof provision>>) => run.report?.hosts.find((r) => r.host === h.name);

interface RunningConfig {
  components: string[];
  lastError: string | null;
  reloads: number;
}
const running = async (): Promise<RunningConfig> => JSON.parse(await mustOnHost(info, h.name, 'curl -sf 127.0.0.1:12345/-/lab/config')) as RunningConfig;

/** What a failed run must leave: the same trento.alloy, no temp files, Alloy ready and running
 *  Trento's pipeline; lastError: what Alloy says of the last reload (the toolkit's restore). */
async function expectRolledBack(before: string, lastError: string | null): Promise<void> {
  expect(await mustOnHost(info, h.name, `sha256sum ${dir}/trento.alloy`)).toBe(before);
  expect(await mustOnHost(info, h.name, `curl -sf 127.0.0.1:12345/-/ready; ls -a ${dir} | grep -c '^\\.tp-' || true`)).toBe('Alloy is ready.\n0\n');
  const cfg = await running();
  expect(cfg.components).toContain('prometheus.remote_write.trento');
  if (lastError === null) expect(cfg.lastError).toBeNull();
  else expect(cfg.lastError).toContain(lastError);
}

beforeAll(async () => {
  info = await freshLab();
  h = hostsBy(info).push[0]!;
  const run = await provision(['--inventory', info.inventoryDir, '--limit', h.name]);
  expect(run.code, run.stdout).toBe(0);
  dir = (await mustOnHost(info, h.name, 'sed -n \'s/^CONFIG_FILE="\\(.*\\)"/\\1/p\' /etc/sysconfig/alloy')).trim().replace(/\/$/, '');
});

// A failed assertion must not leave the admin file for the next test (LAB_REUSE loops).
afterAll(async () => {
  if (dir) await mustOnHost(info, h.name, `rm -f ${dir}/admin.alloy`);
});

describe('Alloy refuses a configuration semantically: the toolkit rolls back', () => {
  it("an inventory scrape interval below Alloy's 10 s scrape timeout is a settings error before the host is touched (Alloy would refuse trento.alloy)", async () => {
    const before = await mustOnHost(info, h.name, `sha256sum ${dir}/trento.alloy`);
    const reloads = (await running()).reloads;
    const run = await provision(['--inventory', info.inventoryDir, '--limit', h.name, '-e', 'agent_prometheus_scrape_interval=5s']);
    expect(run.code, run.stdout).toBe(1);
    expect(run.stdout).toMatch(/agent_prometheus_scrape_interval \(from -e argument 1\): 5s is less than 10s, Alloy would refuse trento\.alloy/);
    expect(run.stdout).toContain('scrape_timeout (10s) greater than scrape_interval');
    await expectRolledBack(before, null);
    expect((await running()).reloads).toBe(reloads);
  });

  it('an admin file Alloy never loaded (exclusive auth settings) fails the reload: the host fails naming it, trento.alloy is put back', async () => {
    const before = await mustOnHost(info, h.name, `sha256sum ${dir}/trento.alloy`);
    // Written while Alloy runs, without a reload: Alloy keeps running its last good config, and
    // `alloy validate` (type check only) accepts the file.
    const admin = [
      'prometheus.remote_write "admin" {',
      '  endpoint {',
      '    url          = "https://metrics.example.com/api/v1/write"',
      '    bearer_token = "admin-token-not-for-output"',
      '    basic_auth {',
      '      username = "admin"',
      '      password = "admin-password-not-for-output"',
      '    }',
      '  }',
      '}',
    ].join('\\n');
    await mustOnHost(
      info,
      h.name,
      `printf '${admin}\\n' > ${dir}/admin.alloy && chown root:alloy ${dir}/admin.alloy && chmod 640 ${dir}/admin.alloy && alloy validate ${dir}`,
    );
    const run = await provision(['--inventory', info.inventoryDir, '--limit', h.name, '-e', 'agent_prometheus_scrape_interval=30s']);
    expect(run.code, run.stdout).toBe(2);
    expect(statusOf(run)?.status).toBe('failed');
    expect(run.stdout).toContain(`${dir}/admin.alloy:`);
    expect(run.stdout).toContain('at most one of basic_auth, authorization, oauth2, bearer_token & bearer_token_file must be configured');
    expect(`${run.stdout}\n${run.stderr}`).not.toMatch(/not-for-output/);
    // The restore's reload fails too while the admin file is there. The stand-in keeps running
    // the config it loaded last, Trento's previous one; real Alloy would have installed each
    // reload's graph with the refused component on its old arguments, which ends the same.
    await expectRolledBack(before, `${dir}/admin.alloy:2:3: at most one of basic_auth`);

    // The admin fixes the file: the same run converges.
    await mustOnHost(info, h.name, `rm -f ${dir}/admin.alloy`);
    const again = await provision(['--inventory', info.inventoryDir, '--limit', h.name, '-e', 'agent_prometheus_scrape_interval=30s']);
    expect(again.code, again.stdout).toBe(0);
    expect(await mustOnHost(info, h.name, `grep scrape_interval ${dir}/trento.alloy`)).toMatch(/scrape_interval = "30s"/);
  });

  it('an Alloy the admin had stopped, whose start on the new trento.alloy fails (a CA file missing on the host): the file put back and Alloy stopped again, as it was', async () => {
    const before = await mustOnHost(info, h.name, `sha256sum ${dir}/trento.alloy`);
    await mustOnHost(info, h.name, 'systemctl stop alloy');
    try {
      const run = await provision(['--inventory', info.inventoryDir, '--limit', h.name, '-e', 'agent_prometheus_tls_ca_cert=/etc/pki/trento/missing.pem']);
      expect(run.code, run.stdout).toBe(2);
      expect(run.stdout).toContain('Alloy is stopped again, as it was before this run');
      expect(await mustOnHost(info, h.name, `systemctl is-active alloy || true; sha256sum ${dir}/trento.alloy`)).toBe(`inactive\n${before}`);
    } finally {
      await mustOnHost(info, h.name, 'systemctl start alloy');
      const again = await provision(['--inventory', info.inventoryDir, '--limit', h.name]);
      expect(again.code, again.stdout).toBe(0);
    }
  });

  it('CONFIG_FILE switched to the folder without a restart: a reload keeps Alloy on the path it was started with, so the toolkit restarts it and the host converges', async () => {
    // Alloy started on the single file, then the sysconfig put back as it was (the folder) with no
    // restart: what an admin who edited /etc/sysconfig/alloy by hand leaves.
    await mustOnHost(
      info,
      h.name,
      `cp -p /etc/sysconfig/alloy /root/sysconfig-alloy && sed -i 's|^CONFIG_FILE=.*|CONFIG_FILE="${dir}/config.alloy"|' /etc/sysconfig/alloy && ${restartAlloy()} && cp -p /root/sysconfig-alloy /etc/sysconfig/alloy`,
    );
    expect((await running()).components).not.toContain('prometheus.remote_write.trento');
    const run = await provision(['--inventory', info.inventoryDir, '--limit', h.name, '-e', 'agent_prometheus_scrape_interval=30s']);
    expect(run.code, run.stdout).toBe(0);
    expect(run.stdout).toMatch(/WARNING \| Alloy reloaded, but the configuration it was started with, not CONFIG_FILE's .*restarted it/);
    expect((await running()).components).toContain('prometheus.remote_write.trento');
    const again = await provision(['--inventory', info.inventoryDir, '--limit', h.name, '-e', 'agent_prometheus_scrape_interval=30s']);
    expect(again.stdout).toMatch(new RegExp(`${h.name} +: ok=\\d+ +changed=0 `));
  });
  it("CONFIG_FILE pointed at another folder and Alloy not restarted: the run ends with Alloy on that folder's trento.alloy (the one left in the old folder, which a reload would have kept running with its old settings, is removed)", async () => {
    const site = '/etc/alloy-moved';
    const only = () => provision(['--inventory', info.inventoryDir, '--limit', h.name]);
    const loaded = async () =>
      (JSON.parse(await mustOnHost(info, h.name, 'curl -sf 127.0.0.1:12345/-/lab/config')) as { path: string }).path.replace(/\/$/, '');
    expect(dir).toBe('/etc/alloy'); // the toolkit's trento.alloy in Alloy's default folder, which it runs
    expect(await loaded()).toBe(dir);
    try {
      // The admin's move, without a restart: Alloy still runs /etc/alloy.
      await mustOnHost(
        info,
        h.name,
        `mkdir -p ${site} && chown root:alloy ${site} && chmod 0770 ${site} && sed -i 's|^CONFIG_FILE=.*|CONFIG_FILE="${site}"|' /etc/sysconfig/alloy`,
      );
      const run = await only();
      expect(run.code, run.stdout).toBe(0);
      expect(statusOf(run)!.changes.map((c) => c.id)).toEqual(expect.arrayContaining([`file:${site}/trento.alloy`, `file:${dir}/trento.alloy`]));
      expect(await loaded()).toBe(site);
      expect((await running()).components).toContain('prometheus.remote_write.trento');
      expect(await mustOnHost(info, h.name, `ls ${dir} | grep -c '^trento\\.alloy$' || true; ls ${site}`)).toBe('0\ntrento.alloy\n');
      expect(statusOf(await only())!.changes).toEqual([]);
    } finally {
      // Back as it was: Alloy on its default folder, the toolkit's file there.
      await mustOnHost(info, h.name, `rm -rf ${site} && sed -i 's|^CONFIG_FILE=.*|CONFIG_FILE="${dir}/"|' /etc/sysconfig/alloy && ${restartAlloy()}`);
      expect((await only()).code).toBe(0);
    }
  });
});
