// Proof the way Trento sees it (issue 7): after `provision`, the lab's Prometheus answers
// `up{agentID="<id>"}` == 1 for every supported host, with exporter_name node_exporter (pull:
// Prometheus scrapes node_exporter from a Trento-style target list) or grafana_alloy (push: the
// host's Alloy sends its samples through the nginx edge, with each authentication method).
// <id> is computed here independently (python3 uuid5 over the machine-id read from the host).
// Wrong credentials: nginx answers 401, Alloy counts failed pushes, and the toolkit's verify step
// reports the host as not delivering. Uninstall: the push hosts stop sending, Alloy keeps running.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { freshLab, hostsBy, mustOnHost, provision, type LabHost, type Report } from './helpers.ts';
import { agentIdOf, promQuery, upOf, waitForUp, type Expectation } from './prometheus.ts';
import type { LabInfo } from '../lab/inventory.ts';
import type { AuthMethod, ServerInfo } from '../lab/server.ts';

let info: LabInfo;
let server: ServerInfo;
let wanted: Expectation[];
/** Alloy pushes every agent_prometheus_scrape_interval: its default (roles/alloy/defaults/main.yml), which these hosts keep. */
const PUSH_INTERVAL_MS = 15_000;
/** Pushed samples reach Prometheus within a few push intervals. */
const DEADLINE_MS = 60_000; // generous: a loaded 2-core machine is slow, a passing run does not wait for it
const DELIVERS = 'Alloy delivers metrics to the remote-write URL';

/** The Trento variables for one authentication method of the lab's edge (extra vars, JSON). */
function authVars(method: AuthMethod, overrides: Record<string, string> = {}): string[] {
  const vars: Record<string, string> = {
    agent_prometheus_auth: method,
    agent_prometheus_remote_write_url: server.remoteWrite[method],
    agent_prometheus_tls_ca_cert: server.hostCaCert,
  };
  if (method === 'basic')
    Object.assign(vars, { agent_prometheus_auth_username: server.basicAuth.username, agent_prometheus_auth_password: server.basicAuth.password });
  if (method === 'bearer') vars.agent_prometheus_auth_bearer_token = server.bearerToken;
  if (method === 'mtls')
    Object.assign(vars, { agent_prometheus_tls_client_cert: server.hostClientCert, agent_prometheus_tls_client_key: server.hostClientKey });
  return ['--inventory', info.inventoryDir, '-e', JSON.stringify({ ...vars, ...overrides })];
}

interface AlloyState {
  pushing: string[];
  pushUrls: string[];
  pushOk: number;
  pushFailed: number;
  lastPushError: string | null;
  lastPushOkAt: string | null;
}

const alloyState = async (h: LabHost) => JSON.parse(await mustOnHost(info, h.name, 'curl -sf http://127.0.0.1:12345/-/lab/config')) as AlloyState;
const byHost = (r: Report | undefined) => new Map((r?.hosts ?? []).map((h) => [h.host, h]));
const now = () => Date.now() / 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  info = await freshLab();
  if (!info.server) throw new Error('the lab started without its server side (lab.json: server is null)');
  server = info.server;
  const { pull, push } = hostsBy(info);
  wanted = await Promise.all(
    [...pull.map((h) => [h, 'node_exporter'] as const), ...push.map((h) => [h, 'grafana_alloy'] as const)].map(async ([h, exporterName]) => ({
      host: h.name,
      agentId: agentIdOf(await mustOnHost(info, h.name, 'cat /etc/machine-id')),
      exporterName,
    })),
  );
});

describe("Prometheus sees every provisioned host with its agent ID (Trento Web's health query)", () => {
  it('before provisioning, no host is up in Prometheus', async () => {
    for (const w of wanted) {
      const a = await upOf(info, w.agentId);
      expect(a.up.get(w.exporterName) ?? 0, w.host).not.toBe(1);
    }
  });

  for (const method of ['none', 'basic', 'bearer', 'mtls'] as const) {
    it(`auth ${method}: up{agentID} == 1 for every supported host, with the right exporter_name`, async () => {
      const run = await provision(authVars(method));
      expect(run.code, run.stdout + run.stderr).toBe(0);
      const since = now();
      const hosts = byHost(run.report);
      for (const w of wanted) {
        expect(hosts.get(w.host)?.agentId, w.host).toBe(w.agentId);
        if (w.exporterName === 'grafana_alloy') expect(hosts.get(w.host)?.checks).toContainEqual(expect.objectContaining({ check: DELIVERS, ok: true }));
      }
      const missing = await waitForUp(info, wanted, since, DEADLINE_MS);
      expect(missing, missing.join('\n')).toEqual([]);
      // The push hosts' Alloy sends to this method's port of the edge, and nothing fails.
      for (const h of hostsBy(info).push) {
        const s = await alloyState(h);
        expect(s.pushUrls, h.name).toEqual([server.remoteWrite[method]]);
        expect(s.pushOk, h.name).toBeGreaterThan(0);
      }
      // Trento's CPU and memory charts need these series too.
      for (const w of wanted) {
        const series = await promQuery(
          info,
          `count by (__name__) ({agentID="${w.agentId}", __name__=~"node_cpu_seconds_total|node_memory_MemAvailable_bytes|node_memory_MemTotal_bytes"})`,
        );
        expect(series.map((s) => s.metric.__name__).sort(), w.host).toEqual([
          'node_cpu_seconds_total',
          'node_memory_MemAvailable_bytes',
          'node_memory_MemTotal_bytes',
        ]);
      }
    });
  }

  it('pull hosts are listed like Trento Web lists them: agentID, exporter_name, hostname', async () => {
    for (const w of wanted.filter((x) => x.exporterName === 'node_exporter')) {
      const [s] = await promQuery(info, `up{agentID="${w.agentId}"}`);
      const host = info.hosts.find((h) => h.name === w.host)!;
      expect(s?.metric, w.host).toMatchObject({ exporter_name: 'node_exporter', hostname: w.host, instance: `${host.address}:9100` });
    }
  });

  const rejected = async (method: AuthMethod, overrides: Record<string, string>, limit: string[]) => {
    const push = hostsBy(info).push.filter((h) => limit.includes(h.name));
    const before = new Map(await Promise.all(push.map(async (h) => [h.name, (await alloyState(h)).pushFailed] as const)));
    const run = await provision([...authVars(method, overrides), '--limit', limit.join(',')]);
    // The push hosts fail their verify step: the toolkit says they are not delivering.
    expect(run.code, run.stdout + run.stderr).toBe(2);
    const hosts = byHost(run.report);
    for (const h of push) {
      const r = hosts.get(h.name)!;
      expect(r.status, h.name).toBe('failed');
      expect(r.checks, h.name).toContainEqual(expect.objectContaining({ check: DELIVERS, ok: false }));
      const s = await alloyState(h);
      expect(s.pushFailed, h.name).toBeGreaterThan(before.get(h.name)!);
      expect(s.lastPushError, h.name).toMatch(/HTTP status 401/);
    }
    expect(run.stdout).toMatch(/check failed: Alloy delivers metrics to the remote-write URL/);
    expect(run.stdout).toMatch(/Alloy has delivered no metrics to the remote-write URL/);
    for (const secret of Object.values(overrides)) expect(run.stdout + run.stderr + JSON.stringify(run.report)).not.toContain(secret);
    // nginx said no: 401 for these hosts on that method's port.
    const log = readFileSync(join(info.labDir, 'server', 'nginx', 'access.log'), 'utf8');
    const port = new URL(server.remoteWrite[method]).port || '443';
    for (const h of push)
      expect(log, h.name).toMatch(new RegExp(`^${h.address.replace(/\./g, '\\.')} ${port} "POST /prometheus/api/v1/write HTTP/1.1" 401 `, 'm'));
  };

  it('a wrong bearer token or password: nginx rejects the pushes (401), Alloy counts them, verify says the hosts do not deliver', async () => {
    // Two runs at once on disjoint hosts (each waits for the verify step's deadline).
    const [first, ...others] = hostsBy(info).push.map((h) => h.name);
    await Promise.all([
      rejected('basic', { agent_prometheus_auth_password: 'wrong-password-SENTINEL-77c' }, [first!]),
      rejected('bearer', { agent_prometheus_auth_bearer_token: 'wrong-token-SENTINEL-5d1' }, others),
    ]);
  });

  it('an exporter name with a $ reaches Prometheus as written (Alloy expands $name in a relabel replacement: written $$)', async () => {
    const push = hostsBy(info).push;
    const run = await provision([...authVars('none', { agent_prometheus_exporter_name: 'node$exp' }), '--limit', push.map((h) => h.name).join(',')]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    for (const h of push) expect(await mustOnHost(info, h.name, 'grep -c \'replacement  = "node\\$\\$exp"\' /etc/alloy/trento.alloy'), h.name).toBe('1\n');
    const dollar = wanted.filter((w) => w.exporterName === 'grafana_alloy').map((w) => ({ ...w, exporterName: 'node$exp' }));
    const missing = await waitForUp(info, dollar, now(), DEADLINE_MS);
    expect(missing, missing.join('\n')).toEqual([]);
  });

  it('the right credentials again: every host is back in Prometheus', async () => {
    const run = await provision(authVars('bearer'));
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const missing = await waitForUp(info, wanted, now(), DEADLINE_MS);
    expect(missing, missing.join('\n')).toEqual([]);
  });

  it("uninstall: the SLES 16 hosts stop pushing Trento's series, Alloy keeps running", async () => {
    const run = await provision(['--inventory', info.inventoryDir, '--uninstall']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const done = now();
    const push = wanted.filter((w) => w.exporterName === 'grafana_alloy');
    for (const h of hostsBy(info).push) {
      expect(await mustOnHost(info, h.name, 'systemctl is-active alloy'), h.name).toBe('active\n');
      expect((await alloyState(h)).pushing, h.name).toEqual([]);
    }
    // Two push intervals (and a margin) later, Trento's Prometheus, the independent judge, has no
    // sample newer than the uninstall: an Alloy still pushing would have delivered one by then.
    await sleep(2 * PUSH_INTERVAL_MS + 5_000);
    for (const w of push) {
      const a = await upOf(info, w.agentId);
      expect(a.at.get('grafana_alloy') ?? 0, w.host).toBeLessThanOrEqual(done);
    }
  });
});
