// --verify-prometheus on the lab (issue 16 item 4): the toolkit itself asks the lab's real
// Prometheus, through the nginx edge and each of its authentication methods, for
// `up{agentID="<id>"}` of every host it rolled out, as Trento Web does. The agent ID it asks
// for is checked against what the installed `trento-agent id` prints on each host.
// Failures are real: a pull host Prometheus cannot scrape (its target moved to a closed port)
// gives up == 0; a push host whose Alloy delivers to another receiver (so the toolkit's own
// "Alloy delivers" check passes) never reaches Trento's Prometheus; in waves, a host Trento
// does not see stops the next wave; wrong credentials and a
// Prometheus that is not there are one error for the run. Credentials travel in an
// `-e @file`, never on a command line. One cold run, then small --limit runs on the same lab.
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { freshLab, hostsBy, mustOnHost, provision, spawnProvision, type CliRun, type LabHost } from './helpers.ts';
import { promQuery } from './prometheus.ts';
import type { LabInfo } from '../lab/inventory.ts';
import type { ServerInfo } from '../lab/server.ts';

interface Proof {
  query: string;
  exporterName: string;
  ok: boolean;
  up: number | null;
  reason: string | null;
  message: string;
}
type Host = NonNullable<CliRun['report']>['hosts'][number] & { trento: Proof | null };
interface View {
  url: string;
  auth: string;
  error: { kind: string; message: string } | null;
}

let info: LabInfo;
let server: ServerInfo;
let dir: string;
let pull: LabHost;
let push: LabHost;
const agentIds = new Map<string, string>();

const BEARER_WRONG = 'wrong-token-SENTINEL-9f2';
/** The edge's credentials as an admin keeps them: in a file given with -e @file (0600). */
function varsFile(name: string, vars: Record<string, string>): string {
  const path = join(dir, name);
  writeFileSync(path, stringify(vars), { mode: 0o600 });
  chmodSync(path, 0o600);
  return path;
}

const hostsOf = (run: CliRun) => new Map(((run.report?.hosts ?? []) as Host[]).map((h) => [h.host, h]));
const viewOf = (run: CliRun) => (run.report as unknown as { trentoView: View | null }).trentoView;
const verify = (method: keyof ServerInfo['edgePrometheus'], ...more: string[]) => [
  '--inventory',
  info.inventoryDir,
  '--verify-prometheus',
  server.edgePrometheus[method],
  '--verify-auth',
  method,
  '--verify-ca',
  server.caCert,
  ...more,
];

beforeAll(async () => {
  info = await freshLab();
  if (!info.server) throw new Error('the lab started without its server side (lab.json: server is null)');
  server = info.server;
  dir = await mkdtemp(join(tmpdir(), 'tp-verify-'));
  const by = hostsBy(info);
  pull = by.pull[0]!;
  push = by.push[0]!;
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("--verify-prometheus: Trento's Prometheus sees every host the toolkit rolled out", () => {
  it('cold rollout of the lab, asked with basic auth: every supported host is up == 1 under its own agent ID', async () => {
    const creds = varsFile('basic.yml', {
      trento_prometheus_auth_username: server.basicAuth.username,
      trento_prometheus_auth_password: server.basicAuth.password,
    });
    const run = await provision([...verify('basic'), '-e', `@${creds}`]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(viewOf(run)).toEqual({ url: server.edgePrometheus.basic, auth: 'basic', error: null });
    const hosts = hostsOf(run);
    const { pull: pulls, push: pushes, refused } = hostsBy(info);
    for (const [list, exporterName] of [
      [pulls, 'node_exporter'],
      [pushes, 'grafana_alloy'],
    ] as const) {
      for (const h of list) {
        // The ID asked for is the one the installed agent reports on the host.
        const id = await mustOnHost(info, h.name, 'trento-agent id');
        agentIds.set(h.name, id);
        expect(hosts.get(h.name)?.trento, h.name).toMatchObject({ ok: true, up: 1, exporterName, query: `up{agentID="${id}"}`, reason: null });
        expect(run.stdout).toMatch(new RegExp(`^${h.name} +: ${exporterName} up=1 \\(sample `, 'm'));
      }
    }
    for (const h of refused) expect(hosts.get(h.name)?.trento, h.name).toBeNull();
    expect(run.stdout).toContain(`TRENTO VIEW (up{agentID} at ${server.edgePrometheus.basic}, auth basic)`);
    // nginx checked the password: the query API answered on the basic port.
    const log = readFileSync(join(info.labDir, 'server', 'nginx', 'access.log'), 'utf8');
    expect(log).toMatch(/ 8443 "POST \/prometheus\/api\/v1\/query HTTP\/1\.1" 200 /);
    expect(run.stdout + run.stderr + JSON.stringify(run.report)).not.toContain(server.basicAuth.password);
  });

  it("bearer and mTLS (this machine's client certificate) prove the same hosts", async () => {
    const creds = varsFile('bearer.yml', { agent_prometheus_auth_bearer_token: server.bearerToken });
    const limit = ['--limit', `${pull.name},${push.name}`];
    for (const args of [
      verify('bearer', '-e', `@${creds}`),
      verify('mtls', '--verify-client-cert', server.clientCert, '--verify-client-key', server.clientKey),
    ]) {
      const run = await provision([...args, ...limit]);
      expect(run.code, run.stdout + run.stderr).toBe(0);
      const hosts = hostsOf(run);
      for (const h of [pull, push]) expect(hosts.get(h.name)?.trento, `${args.join(' ')}: ${h.name}`).toMatchObject({ ok: true, up: 1 });
      expect(run.stdout + JSON.stringify(run.report)).not.toContain(server.bearerToken);
    }
  });

  it('wrong credentials, or no Prometheus there: one error for the run, no host blamed', async () => {
    const creds = varsFile('wrong.yml', { agent_prometheus_auth_bearer_token: BEARER_WRONG });
    const gone = `https://${info.gateway}:7443/prometheus`; // nothing listens there
    const [refused, unreachable] = await Promise.all([
      provision([...verify('bearer', '-e', `@${creds}`), '--limit', pull.name]),
      provision(['--inventory', info.inventoryDir, '--verify-prometheus', gone, '--limit', push.name]),
    ]);
    for (const [run, host, kind, text] of [
      [
        refused,
        pull,
        'auth-refused',
        /^ERROR Trento's Prometheus at \S+ refused the credentials of --verify-auth bearer \(HTTP 401; check agent_prometheus_auth_bearer_token\)$/m,
      ],
      [unreachable, push, 'unreachable', /^ERROR Trento's Prometheus at \S+:7443\/prometheus is unreachable: ECONNREFUSED/m],
    ] as const) {
      expect(run.code, run.stdout + run.stderr).toBe(2);
      expect(viewOf(run)?.error?.kind).toBe(kind);
      // Printed once as it happens (and once more under TRENTO VIEW in the recap).
      expect(run.stdout.match(new RegExp(text.source, 'gm'))).toHaveLength(2);
      const h = hostsOf(run).get(host.name)!;
      expect(h.status, host.name).toBe('ok');
      expect(h.trento, host.name).toBeNull();
      expect(run.stdout).not.toMatch(/\| FAILED \|/);
    }
    expect(refused.stdout + refused.stderr + JSON.stringify(refused.report)).not.toContain(BEARER_WRONG);

    // In waves, such an error blames no host, but the wave is not proven: the rollout stops
    // after it, and the next wave's host is never touched.
    const waves = await provision([...verify('bearer', '-e', `@${creds}`), '--limit', `${pull.name},${push.name}`, '--serial', '1']);
    expect(waves.code, waves.stdout + waves.stderr).toBe(2);
    expect(viewOf(waves)?.error?.kind).toBe('auth-refused');
    const inWaves = hostsOf(waves);
    expect(inWaves.get(pull.name)).toMatchObject({ status: 'ok', trento: null });
    expect(inWaves.get(push.name)).toMatchObject({ status: 'skipped', message: expect.stringMatching(/^not started: wave 2 of 2 never started/) });
    const rollout = (waves.report as unknown as { rollout: { stopped: { wave: number | null; reason: string } | null; notStarted: string[] } }).rollout;
    expect(rollout.stopped).toMatchObject({ wave: 1, reason: expect.stringMatching(/not proven from Trento's side: .*HTTP 401/) });
    expect(rollout.notStarted).toEqual([push.name]);
    expect(waves.stdout + waves.stderr + JSON.stringify(waves.report)).not.toContain(BEARER_WRONG);
  });

  it('a host whose metrics never arrive fails with the reason: up == 0 (pull), no fresh sample (push)', async () => {
    // Pull: Trento's target list now points Prometheus at a closed port of the host.
    const original = readFileSync(server.targetsFile, 'utf8');
    writeFileSync(server.targetsFile, original.replace(`"${pull.address}:9100"`, `"${pull.address}:9109"`));
    // Push: Alloy delivers to another receiver, which accepts every push.
    let received = 0;
    const other: Server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        received++;
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => other.listen(0, info.gateway, r));
    const otherUrl = `http://${info.gateway}:${(other.address() as AddressInfo).port}/api/v1/write`;
    try {
      const pullId = agentIds.get(pull.name)!;
      // Wait until Prometheus scrapes the moved target (file_sd is re-read every 5 s, then a
      // scrape comes within its interval): 60 s at most, on a loaded machine.
      let up: string | undefined;
      for (let i = 0; i < 120 && up !== '0'; i++) {
        if (i > 0) await new Promise((r) => setTimeout(r, 500));
        up = (await promQuery(info, `up{agentID="${pullId}"}`))[0]?.value[1];
      }
      expect(up, 'Prometheus never scraped the moved target: the case cannot start').toBe('0');
      const elsewhere = varsFile('elsewhere.yml', { agent_prometheus_remote_write_url: otherUrl });
      const run = await provision([...verify('none'), '-e', `@${elsewhere}`, '--limit', `${pull.name},${push.name}`]);
      expect(run.code, run.stdout + run.stderr).toBe(2);
      const hosts = hostsOf(run);
      // The toolkit's own check on the host passed: Alloy does deliver, just not to Trento.
      expect(hosts.get(push.name)?.checks).toContainEqual(expect.objectContaining({ check: 'Alloy delivers metrics to the remote-write URL', ok: true }));
      expect(received).toBeGreaterThan(0);
      expect(hosts.get(pull.name)).toMatchObject({ status: 'failed', trento: { ok: false, reason: 'up-0', up: 0, exporterName: 'node_exporter' } });
      expect(hosts.get(push.name)).toMatchObject({ status: 'failed', trento: { ok: false, reason: 'no-fresh-sample', exporterName: 'grafana_alloy' } });
      expect(run.stdout).toMatch(
        new RegExp(
          `^${pull.name} \\| FAILED \\| Trento does not see this host: up\\{agentID="${pullId}"\\} exporter_name="node_exporter" is 0 .*cannot scrape its node_exporter`,
          'm',
        ),
      );
      expect(run.stdout).toMatch(
        new RegExp(
          `^${push.name} \\| FAILED \\| Trento does not see this host: no sample of up\\{agentID="${agentIds.get(push.name)}"\\} exporter_name="grafana_alloy" since the rollout`,
          'm',
        ),
      );
      expect(run.stdout).toMatch(new RegExp(`^${pull.name} +: node_exporter FAILED up-0: `, 'm'));

      // In waves, a wave is done when Trento has answered for its hosts: the pull host's wave
      // fails on Trento's side, and the next wave (a healthy push host) never starts.
      const next = hostsBy(info).push[1]!;
      const waves = await provision([...verify('none'), '--limit', `${pull.name},${next.name}`, '--serial', '1', '--max-fail-percentage', '0']);
      expect(waves.code, waves.stdout + waves.stderr).toBe(2);
      const inWaves = hostsOf(waves);
      expect(inWaves.get(pull.name)).toMatchObject({ status: 'failed', trento: { reason: 'up-0' } });
      expect(inWaves.get(next.name)).toMatchObject({
        status: 'skipped',
        trento: null,
        message: expect.stringMatching(/^not started: wave 2 of 2 never started/),
      });

      // One wave (no --serial), --forks 1, --max-fail-percentage 0: the pull host's failure on
      // Trento's side holds the next host back, as a failure on the host itself would. (Its
      // reason is up 0 once a scrape of the moved target is seen within the 20 s, else no fresh
      // sample: a busy machine can delay that scrape; either fails the host.)
      const held = await provision([
        ...verify('none'),
        '--limit',
        `${pull.name},${next.name}`,
        '--forks',
        '1',
        '--max-fail-percentage',
        '0',
        '--verify-wait',
        '20',
      ]);
      expect(held.code, held.stdout + held.stderr).toBe(2);
      expect(hostsOf(held).get(pull.name)).toMatchObject({ status: 'failed', trento: { reason: expect.stringMatching(/^(up-0|no-fresh-sample)$/) } });
      expect(hostsOf(held).get(next.name)).toMatchObject({ status: 'skipped', trento: null, message: expect.stringMatching(/^not started: wave 1 stopped/) });

      // SIGTERM while Trento is asked about the pull host (up == 0 keeps it waiting): the host is
      // applied (converged, nothing to change) but not proven, and says so.
      const cut = spawnProvision([...verify('none'), '--limit', pull.name, '-v', '--verify-wait', '300'], (out, child) => {
        if (out.includes('--- verify (1 host(s))') && !child.killed) child.kill('SIGTERM');
      });
      expect(await cut.exited, cut.output()).toBe(99);
      expect(cut.output()).toMatch(
        new RegExp(`^${pull.name} \\| FAILED \\| applied, but its proof from Trento's side was cut by the interrupt: run the same command again`, 'm'),
      );
      expect(cut.output()).not.toContain('stopped before this host finished');
    } finally {
      writeFileSync(server.targetsFile, original);
      await new Promise((r) => other.close(r));
    }
  });
});
