// The lab's trento-agent stand-in (test/lab/host/trento-agent) against the fixtures of the
// real agent: agent IDs and `generate alloy` goldens.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';

const here = dirname(fileURLToPath(import.meta.url));
const AGENT = resolve(here, '../../lab/host/trento-agent');
const FIXTURES = resolve(here, '../../fixtures/trento-agent');

let dir = '';

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lab-agent-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function agent(args: string[], opts: { machineId?: string; env?: Record<string, string>; prog?: string } = {}) {
  const midPath = join(dir, 'machine-id');
  if (opts.machineId !== undefined) writeFileSync(midPath, opts.machineId);
  const env: Record<string, string | undefined> = { ...process.env, LAB_MACHINE_ID_PATH: midPath, ...opts.env };
  for (const k of Object.keys(env)) if (k.startsWith('TRENTO_')) delete env[k];
  Object.assign(env, opts.env);
  const r = spawnSync(opts.prog ?? AGENT, args, { env, encoding: 'utf8', timeout: 15_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function writeConfig(values: Record<string, unknown>): string {
  const path = join(dir, 'agent.yaml');
  writeFileSync(path, stringify(values));
  return path;
}

/** A copy of the program with its version baked in, as the RPM spec does. */
function packaged(version: string): string {
  const path = join(dir, `trento-agent-${version}`);
  writeFileSync(path, readFileSync(AGENT, 'utf8').replace('"@VERSION@"', `"${version}"`));
  chmodSync(path, 0o755);
  return path;
}

describe('trento-agent stand-in: id', () => {
  const rows = readFileSync(join(FIXTURES, 'agent-ids.tsv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split('\t') as [string, string]);

  it.each(rows)('machine-id %s -> %s (trimmed, no newline printed)', (machineId, agentId) => {
    expect(agent(['id'], { machineId: `${machineId}\n` })).toMatchObject({ code: 0, stdout: agentId });
    expect(agent(['id'], { machineId: `  ${machineId}  \n\n` }).stdout).toBe(agentId);
  });

  it('fails without /etc/machine-id', () => {
    const r = agent(['id'], { env: { LAB_MACHINE_ID_PATH: join(dir, 'none') } });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`Error: open ${join(dir, 'none')}: no such file or directory\n`);
  });
});

describe('trento-agent stand-in: generate alloy', () => {
  const names = readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.inputs.yaml'))
    .map((f) => f.replace('.inputs.yaml', ''));

  it('has goldens to compare with', () => {
    expect(names.length).toBeGreaterThanOrEqual(13);
  });

  it.each(names)('reproduces %s.golden byte for byte from agent.yaml and /etc/machine-id', (name) => {
    const inputs = parse(readFileSync(join(FIXTURES, `${name}.inputs.yaml`), 'utf8')) as Record<string, unknown>;
    const golden = readFileSync(join(FIXTURES, `${name}.golden`), 'utf8');
    const { 'agent-id': agentId, 'machine-id': machineId, ...keys } = inputs;
    const config = writeConfig(keys);
    const r = agent(['generate', 'alloy', '--config', config], { machineId: `${String(machineId ?? 'dummy-machine-id')}\n` });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(golden);
    expect(r.stdout).toContain(`// Agent ID: ${String(agentId)}\n`);
  });

  it.each(names)('reproduces %s.golden with --force-agent-id and with force-agent-id in agent.yaml', (name) => {
    const inputs = parse(readFileSync(join(FIXTURES, `${name}.inputs.yaml`), 'utf8')) as Record<string, unknown>;
    const golden = readFileSync(join(FIXTURES, `${name}.golden`), 'utf8');
    const { 'agent-id': agentId, 'machine-id': _m, ...keys } = inputs;
    const config = writeConfig(keys);
    expect(agent(['generate', 'alloy', '--config', config, `--force-agent-id=${String(agentId)}`], { machineId: 'other\n' }).stdout).toBe(golden);
    const forced = writeConfig({ ...keys, 'force-agent-id': agentId });
    expect(agent(['generate', 'alloy', '--config', forced], { machineId: 'other\n' }).stdout).toBe(golden);
  });

  it('prints the scrape interval as a Go duration and does not escape values', () => {
    const base = { 'prometheus-mode': 'push', 'prometheus-url': 'https://t/x', 'prometheus-auth': 'basic', 'prometheus-auth-username': 'u' };
    const cases: Array<[unknown, string]> = [
      ['1h', '1h0m0s'],
      ['2m30s', '2m30s'],
      ['1.5s', '1.5s'],
      ['0', '15s'],
      ['bogus', '15s'],
      [30, '30ns'],
    ];
    for (const [input, shown] of cases) {
      const config = writeConfig({ ...base, 'prometheus-auth-password': 'p"w\\', 'prometheus-scrape-interval': input });
      const r = agent(['generate', 'alloy', '--config', config], { machineId: 'dummy-machine-id' });
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`    scrape_interval = "${shown}"\n`);
      expect(r.stdout).toContain('            password = "p"w\\"\n');
    }
  });

  it('takes flags over TRENTO_* environment over agent.yaml', () => {
    const config = writeConfig({ 'prometheus-mode': 'push', 'prometheus-url': 'https://file', 'prometheus-auth': 'none' });
    const env = { TRENTO_PROMETHEUS_URL: 'https://env' };
    expect(agent(['generate', 'alloy', '--config', config], { machineId: 'm', env }).stdout).toContain('url = "https://env"');
    expect(agent(['generate', 'alloy', '--config', config, '--prometheus-url', 'https://flag'], { machineId: 'm', env }).stdout).toContain(
      'url = "https://flag"',
    );
  });

  it.each([
    [{ 'prometheus-mode': 'pull' }, "Error: prometheus-mode must be 'push' for alloy configuration, got 'pull'"],
    [{}, "Error: prometheus-mode must be 'push' for alloy configuration, got ''"],
    [{ 'prometheus-mode': 'push' }, 'Error: invalid alloy configuration: prometheus URL is required'],
    [{ 'prometheus-mode': 'push', 'prometheus-url': 'u' }, 'Error: invalid alloy configuration: username is required for basic authentication'],
    [
      { 'prometheus-mode': 'push', 'prometheus-url': 'u', 'prometheus-auth-username': 'x' },
      'Error: invalid alloy configuration: password is required for basic authentication',
    ],
    [
      { 'prometheus-mode': 'push', 'prometheus-url': 'u', 'prometheus-auth': 'bearer' },
      'Error: invalid alloy configuration: bearer token is required for bearer authentication',
    ],
    [
      { 'prometheus-mode': 'push', 'prometheus-url': 'u', 'prometheus-auth': 'mtls' },
      'Error: invalid alloy configuration: client certificate is required for mTLS authentication',
    ],
    [
      { 'prometheus-mode': 'push', 'prometheus-url': 'u', 'prometheus-auth': 'mtls', 'prometheus-tls-client-cert': 'c' },
      'Error: invalid alloy configuration: client key is required for mTLS authentication',
    ],
    [
      { 'prometheus-mode': 'push', 'prometheus-url': 'u', 'prometheus-auth': 'token' },
      'Error: invalid alloy configuration: invalid auth method: token (valid values: none, basic, bearer, mtls)',
    ],
  ])('refuses %j', (values, error) => {
    const r = agent(['generate', 'alloy', '--config', writeConfig(values)], { machineId: 'dummy-machine-id' });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n').at(-1)).toBe(error);
  });

  it('fails on a --config that does not exist', () => {
    const r = agent(['generate', 'alloy', '--config', join(dir, 'nope.yaml')], { machineId: 'm' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cannot load configuration file: ${join(dir, 'nope.yaml')}`);
  });

  it('exists only from 3.1.0 on (version baked in at build time)', () => {
    const old = packaged('3.0.2');
    const config = writeConfig({ 'prometheus-mode': 'push', 'prometheus-url': 'u', 'prometheus-auth': 'none' });
    const r = agent(['generate', 'alloy', '--config', config], { prog: old, machineId: 'm' });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('Error: unknown command "generate" for "trento-agent"\nRun \'trento-agent --help\' for usage.\n');
    expect(agent(['version'], { prog: old }).stdout).toContain('version 3.0.2\n');
    expect(agent(['id'], { prog: old, machineId: 'dummy-machine-id' }).stdout).toBe('779cdd70-e9e2-58ca-b18a-bf3eb3f71244');

    const current = packaged('3.1.0');
    expect(agent(['generate', 'alloy', '--config', config], { prog: current, machineId: 'm' }).code).toBe(0);
    expect(agent(['version'], { prog: current }).stdout).toContain('version 3.1.0\n');
  });
});

describe('trento-agent stand-in: start', () => {
  it.each([
    [{ 'prometheus-mode': 'push', 'prometheus-url': 'https://x' }, 'api-key is required, cannot start agent'],
    [{ 'api-key': 'k', 'prometheus-mode': 'push' }, "prometheus-url is required when prometheus-mode is 'push'"],
    // upstream's minimum periods (LoadConfig's validatePeriod; HeartbeatMinInterval 3s)
    [{ 'api-key': 'k', 'heartbeat-interval': '2s' }, 'heartbeat-interval: invalid interval 2s, should be at least 3s'],
    [{ 'api-key': 'k', 'subscription-discovery-period': '19s' }, 'subscription-discovery-period: invalid interval 19s, should be at least 20s'],
    [{ 'api-key': 'k', 'host-discovery-period': '500ms' }, 'host-discovery-period: invalid interval 500ms, should be at least 1s'],
  ])('refuses %j', (values, error) => {
    const r = agent(['start', '--config', writeConfig(values)], { machineId: 'dummy-machine-id' });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('level=ERROR msg="Failed to create the agent configuration"');
    expect(r.stdout).toContain(`error="${error.replace(/"/g, '\\"')}"`);
  });

  /** `trento-agent start` with a config of these values (its output, stdout and stderr, as it
   *  comes), started directly or through `sh -c` (prefix: the shell's commands before the exec). */
  function startAgent(values: Record<string, string>, prefix = '') {
    writeFileSync(join(dir, 'machine-id'), 'dummy-machine-id\n');
    const config = writeConfig(values);
    const child = spawn('sh', ['-c', `${prefix}exec "$0" start --config "$1"`, AGENT, config], {
      env: { ...process.env, LAB_MACHINE_ID_PATH: join(dir, 'machine-id') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    for (const stream of [child.stdout, child.stderr]) {
      stream.on('data', (d: Buffer) => {
        out += d.toString();
      });
    }
    const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
    const heartbeats = async (count: number) => {
      const end = Date.now() + 8000;
      while ((out.match(/msg=heartbeat/g) ?? []).length < count) {
        if (Date.now() > end) throw new Error(`no heartbeat: ${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    return { child, output: () => out, exited, heartbeats };
  }

  it('runs with a heartbeat until SIGTERM, then exits 0', async () => {
    const agent = startAgent({ 'api-key': 'k', 'prometheus-mode': 'push', 'prometheus-url': 'https://t/api/v1/write', 'heartbeat-interval': '3s' });
    await agent.heartbeats(2);
    const out = agent.output();
    expect(out).toContain('agentID=779cdd70-e9e2-58ca-b18a-bf3eb3f71244');
    expect(out).toContain('prometheusMode=push');
    expect(out).toContain('exporterName=grafana_alloy');
    expect(out).toMatch(
      /^time=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z level=INFO msg=heartbeat agentID=779cdd70-e9e2-58ca-b18a-bf3eb3f71244 server=http:\/\/localhost$/m,
    );
    // As light as the Go agent it stands for: the heartbeat loop is bash under the agent's name,
    // not a Python interpreter (~8 MiB on each lab host).
    const pid = agent.child.pid;
    expect(readFileSync(`/proc/${pid}/comm`, 'utf8')).toBe('trento-agent\n');
    const pssKiB = Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1]);
    expect(pssKiB).toBeLessThan(2048);
    agent.child.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
    expect(agent.output()).toMatch(/msg="Caught signal!" signal=terminated\n.*msg="Stopping the agent\.\.\."\n$/);
  });

  it('a heartbeat interval of hundreds of hours sleeps between beats (read -t takes no 1e+06), and stops on SIGTERM', async () => {
    const agent = startAgent({ 'api-key': 'k', 'heartbeat-interval': '300h' });
    await agent.heartbeats(1);
    await new Promise((r) => setTimeout(r, 1000));
    // one beat, then a sleep: not a loop spinning on a refused timeout
    expect(agent.output().match(/msg=heartbeat/g)).toHaveLength(1);
    expect(agent.output()).not.toMatch(/invalid timeout|heartbeat wait failed/);
    agent.child.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
  });

  it('stops cleanly on SIGINT too, even when started with SIGINT ignored (as a background job is)', async () => {
    const agent = startAgent({ 'api-key': 'k', 'heartbeat-interval': '3s' }, 'trap "" INT; ');
    await agent.heartbeats(1);
    agent.child.kill('SIGINT');
    expect(await agent.exited).toBe(0);
    expect(agent.output()).toMatch(/msg="Caught signal!" signal=interrupt\n.*msg="Stopping the agent\.\.\."\n$/);
  });
});
