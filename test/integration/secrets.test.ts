// Secrets and hostile values, on the lab. Sentinel secrets must appear nowhere in any output
// (apply, check+diff, -vvv, uninstall, JSON and JUnit reports, a failing host, a zypper error); values
// full of shell and YAML metacharacters must reach the files intact and never run as code.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LabInfo } from '../lab/inventory.ts';
import { randomUUID } from 'node:crypto';
import { freshLab, hostsBy, iniInventory, type LabHost, mustOnHost, onHost, provision, restartUnit, startOnHost } from './helpers.ts';

let info: LabInfo;
let pull: LabHost[];
let push: LabHost[];
let inv: string;

// Every secret carries SENTINEL; none may ever be printed.
// biome-ignore lint/suspicious/noTemplateCurlyInString: a literal ${...} is the data here, not a template
const API_KEY = 'SENTINEL-api$(touch${IFS}/tmp/canary-api)`touch${IFS}/tmp/canary-bt`;k';
const PASSWORD = `SENTINEL pw "quoted" back\\slash 'single' $(touch /tmp/canary-pw); \`touch /tmp/canary-pw2\` #no-comment`;
const RABBIT = 'SENTINEL-rabbit/@:?#[]';
const USERNAME = 'trento;touch /tmp/canary-user';

const VARS = {
  trento_server_name: 'lab-gateway', // in every lab host's /etc/hosts and the edge's certificate
  agent_web_api_key: API_KEY,
  rabbitmq_password: RABBIT,
  provision_rabbitmq: false, // no rabbitmq_hosts group: RabbitMQ is external (trento_rabbitmq_host, default localhost)
  agent_prometheus_auth: 'basic',
  agent_prometheus_auth_username: USERNAME,
  agent_prometheus_auth_password: PASSWORD,
};

function expectNoSentinel(run: { stdout: string; stderr: string; report?: unknown }) {
  const all = run.stdout + run.stderr + JSON.stringify(run.report ?? {});
  expect(all).not.toMatch(/SENTINEL/);
}

beforeAll(async () => {
  info = await freshLab();
  ({ pull, push } = hostsBy(info));
  inv = await iniInventory(info, [{ host: pull[0]! }, { host: push[0]! }, { host: pull[1]! }], VARS);
});

describe('secrets never appear in any output', () => {
  it('check + diff at -vvv', async () => {
    const run = await provision(['-i', inv, '--check', '--diff', '-vvv']);
    expect(run.code, run.stdout).toBe(0);
    expect(run.stdout).toMatch(/\*{8}/);
    expectNoSentinel(run);
  });

  it('apply at -vvv, with one host failing on a zypper error', async () => {
    await mustOnHost(info, pull[1]!.name, 'zypper -q -n mr -d lab');
    const run = await provision(['-i', inv, '-vvv', '--diff']);
    expect(run.code).toBe(2);
    expect(run.report!.hosts.find((h) => h.host === pull[1]!.name)!.status).toBe('failed');
    expectNoSentinel(run);
    await mustOnHost(info, pull[1]!.name, 'zypper -q -n mr -e lab');
  });

  it('a second run after a secret changed says so without showing either value', async () => {
    const run = await provision(['-i', inv, '--check', '--diff', '-e', 'agent_prometheus_auth_password=SENTINEL-rotated']);
    expect(run.stdout).toMatch(/a secret value changed; not shown/);
    expectNoSentinel(run);
  });

  it('uninstall at -vvv with --diff', async () => {
    const run = await provision(['-i', inv, '--uninstall', '--diff', '-vvv', '--check']);
    expect(run.code).toBe(0);
    expectNoSentinel(run);
  });
});

describe('hostile values', () => {
  it('reach agent.yaml and trento.alloy intact, Alloy loads them, and nothing ran as code', async () => {
    const run = await provision(['-i', inv]);
    // The remote-write URL from trento_server_name is the lab edge's port 443, which asks for no
    // credentials: Alloy's pushes (hostile basic-auth header and all) are accepted, so every
    // host converges and passes every check, pull[1] included (its repository is back).
    expect(run.code, run.stdout).toBe(0);
    for (const p of [push[0]!, pull[0]!, pull[1]!]) {
      const r = run.report!.hosts.find((h) => h.host === p.name)!;
      expect(['ok', 'changed'], `${p.name}: ${r.message}`).toContain(r.status);
      expect(r.checks.length).toBeGreaterThan(0);
      expect(
        r.checks.every((c) => c.ok),
        JSON.stringify(r.checks),
      ).toBe(true);
    }
    const parsed = JSON.parse(
      await mustOnHost(info, push[0]!.name, `python3 -c 'import yaml,json; print(json.dumps(yaml.safe_load(open("/etc/trento/agent.yaml"))))'`),
    ) as Record<string, string>;
    expect(parsed['api-key']).toBe(API_KEY);
    expect(parsed['prometheus-auth-password']).toBe(PASSWORD);
    expect(parsed['prometheus-auth-username']).toBe(USERNAME);
    expect(parsed['facts-service-url']).toBe(`amqp://trento:${encodeURIComponent(RABBIT)}@localhost/trento`);
    // Alloy's own validation and its running config agree the file is valid.
    expect(await mustOnHost(info, push[0]!.name, 'alloy validate /etc/alloy/ && echo valid')).toMatch(/valid/);
    expect(await mustOnHost(info, push[0]!.name, 'curl -sf 127.0.0.1:12345/api/v0/web/components')).toContain('prometheus.remote_write.trento');
    // The password needs escapes that `trento-agent generate alloy` (raw values) does not write:
    // the toolkit alone writes trento.alloy and says so, the agent unit gets no ExecStartPre,
    // and the agent's restart leaves the file as it is, so the next run finds nothing to change.
    const pushRun = run.report!.hosts.find((h) => h.host === push[0]!.name)!;
    expect(pushRun.warnings.join('\n')).toMatch(/trento\.alloy is rendered by the toolkit alone and the agent unit gets no ExecStartPre/);
    expect(await mustOnHost(info, push[0]!.name, 'cat /etc/systemd/system/trento-agent.service.d/*.conf')).not.toMatch(/ExecStartPre/);
    const written = await mustOnHost(info, push[0]!.name, 'sha256sum /etc/alloy/trento.alloy');
    await mustOnHost(info, push[0]!.name, `${restartUnit('trento-agent.service')} && systemctl is-active trento-agent.service`);
    expect(await mustOnHost(info, push[0]!.name, 'sha256sum /etc/alloy/trento.alloy')).toBe(written);
    const again = await provision(['-i', inv, '--check', '--limit', push[0]!.name]);
    expect(again.report!.hosts.find((h) => h.host === push[0]!.name)?.status, again.stdout).toBe('ok');
    expectNoSentinel(again);
    for (const h of info.hosts) {
      const r = await onHost(info, h.name, 'ls /tmp/canary-* 2>/dev/null; true');
      expect(r.stdout, `${h.name} ran inventory data as code`).toBe('');
    }
    for (const f of ['api', 'bt', 'pw', 'pw2', 'user']) expect(existsSync(`/tmp/canary-${f}`)).toBe(false);
  });

  it('files holding secrets are never readable by others, not even the temp file', async () => {
    // New files are made in root-only (0700) staging folders, under umask 077 before a byte is
    // written: watch for them during a run and check every folder and file that appears.
    // It watches from before the run starts until the run has ended (a stop file; 300 s at most),
    // however long a loaded machine makes the run.
    const h = push[0]!;
    const stop = `/run/tp-watch-stop-${randomUUID()}`;
    const { session: watcher } = await startOnHost(
      info,
      h.name,
      'the watcher',
      (ready) =>
        `touch ${ready}; end=$((SECONDS + 300)); until [ -e ${stop} ] || [ $SECONDS -ge $end ]; do ` +
        'for f in /etc/trento/.tp-stage.* /etc/.tp-stage.* /etc/trento/.tp-stage.*/* /etc/.tp-stage.*/*; do [ -e "$f" ] && stat -c "%a %n" "$f"; done; sleep 0.01; done 2>/dev/null; true',
    );
    const run = await provision(['-i', inv, '--limit', h.name, '-e', 'agent_prometheus_auth_password=SENTINEL-new-password']).finally(() =>
      mustOnHost(info, h.name, `touch ${stop}`),
    );
    expect(run.code, run.stdout).toBe(0);
    const seen = [...new Set((await watcher).stdout.trim().split('\n').filter(Boolean))];
    // trento.alloy's new file (new.N: the N-th write of the run) waits in /etc/.tp-stage.*/ while
    // Alloy validates it: always seen.
    expect(
      seen.some((l) => /^(600|640) \/etc\/\.tp-stage\.[^/]+\/new\.\d+$/.test(l)),
      seen.join('\n'),
    ).toBe(true);
    for (const line of seen) expect(line, line).toMatch(/^(700 \S+\/\.tp-stage\.[^/]+|(600|640) \S+\/\.tp-stage\.[^/]+\/\S+)$/);
    expect(await mustOnHost(info, h.name, 'stat -c "%a %U:%G" /etc/trento/agent.yaml /etc/alloy/trento.alloy')).toBe('600 root:root\n640 alloy:alloy\n');
  });
});

describe('drift reports for pipelines (--check --detailed-exitcode --junit), secrets still masked', () => {
  interface JunitCase {
    name: string;
    failure?: { type: string; message: string; '#text': string };
    error?: { type: string; message: string };
    'system-out'?: string;
  }
  const junitPath = join(mkdtempSync(join(tmpdir(), 'tp-junit-')), 'drift.xml');
  /** The report as a CI system reads it: a real XML parser, one case per host by name. Removed
   *  once read, so the next run's report is never confused with this one. */
  function junit(): Map<string, JunitCase> {
    const xml = readFileSync(junitPath, 'utf8');
    const mode = statSync(junitPath).mode & 0o777;
    rmSync(junitPath);
    expect(xml).not.toMatch(/SENTINEL/);
    expect(mode).toBe(0o600);
    expect(XMLValidator.validate(xml)).toBe(true);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', textNodeName: '#text', isArray: (n) => n === 'testcase' }).parse(xml) as {
      testsuites: { testsuite: { testcase: JunitCase[] } };
    };
    return new Map(doc.testsuites.testsuite.testcase.map((c) => [c.name, c]));
  }
  const drift = (inventory = inv) => ['-i', inventory, '--check', '--diff', '--detailed-exitcode', '--junit', junitPath];

  it('a real run with --junit: the host it changed passes, listing what changed; then in sync: exit 0, every host passes', async () => {
    // The test above rotated a password on one host: converge to the inventory first.
    const converge = await provision(['-i', inv, '--junit', junitPath]);
    expect(converge.code, converge.stdout).toBe(0);
    const applied = junit();
    expect(applied.get(push[0]!.name)!['system-out']).toMatch(/^changed: .*(agent\.yaml|trento\.alloy)/m);
    for (const c of applied.values()) expect(c.failure ?? c.error, c.name).toBeUndefined();
    const run = await provision(drift());
    expect(run.code, run.stdout).toBe(0);
    expect(run.report!.exitCode).toBe(0);
    const cases = junit();
    expect([...cases.keys()]).toEqual([pull[0]!.name, push[0]!.name, pull[1]!.name]);
    for (const c of cases.values()) expect(c.failure ?? c.error, c.name).toBeUndefined();
  });

  it('after a manual change on one host: exit 2, that host fails with what would change, the others pass', async () => {
    const h = pull[0]!;
    // An admin edits agent.yaml by hand (a file holding the API key and the passwords).
    await mustOnHost(info, h.name, `sed -i 's|^server-url: .*|server-url: "http://hand-edited.example"|' /etc/trento/agent.yaml`);
    const run = await provision(drift());
    expect(run.code, run.stdout).toBe(2);
    expect(run.report!.exitCode).toBe(2);
    expectNoSentinel(run);
    const cases = junit();
    const failure = cases.get(h.name)!.failure!;
    expect(failure).toMatchObject({ type: 'drift', message: '1 change would be made' });
    expect(failure['#text']).toMatch(/^would change: .*\/etc\/trento\/agent\.yaml/);
    expect(failure['#text']).toMatch(/^ +-server-url: "http:\/\/hand-edited\.example"$/m);
    expect(failure['#text']).toMatch(/^ + api-key: "\*{8}"$/m); // the diff's context: the key's line is there, masked
    expect(failure['#text']).toMatch(/^would run: restart trento-agent/m);
    for (const other of [push[0]!, pull[1]!]) expect(cases.get(other.name)!.failure ?? cases.get(other.name)!.error, other.name).toBeUndefined();
  });

  it('with one host unreachable too: exit 4 (drift never hides it), an error for that host, the drift still reported', async () => {
    const closed = { ...pull[1]!, name: 'closed-port' }; // a real lab address, a port nothing listens on
    const withClosed = await iniInventory(info, [{ host: pull[0]! }, { host: push[0]! }, { host: closed, vars: { ansible_port: '2222' } }], VARS);
    const run = await provision(drift(withClosed));
    expect(run.code, run.stdout).toBe(4);
    expectNoSentinel(run);
    const cases = junit();
    expect(cases.get('closed-port')!.error).toMatchObject({ type: 'unreachable' });
    expect(cases.get('closed-port')!.error!.message).toMatch(/:2222.*(ECONNREFUSED|refused)/);
    expect(cases.get(pull[0]!.name)!.failure!.type).toBe('drift');
    expect(cases.get(push[0]!.name)!.failure).toBeUndefined();
  });
});
