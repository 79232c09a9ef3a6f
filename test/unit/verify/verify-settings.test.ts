// --verify-prometheus settings: the flags (no secret ever on the command line, nothing the run
// cannot honour), the run's one set of credentials from the agent's variables, what each host
// is expected to show (exporter_name, scrape interval) from the settings the toolkit wrote, and
// how Prometheus' own failure shows in --junit.
import { fileURLToPath } from 'node:url';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { CliError, HELP, OPTIONS, parseCli } from '../../../src/cli/args.ts';
import type { RunEvent } from '../../../src/output/events.ts';
import { junitOf } from '../../../src/output/junit-report.ts';
import { secretSet } from '../../../src/output/redact.ts';
import { exitCode, fold, newTally } from '../../../src/output/tally.ts';
import { loadRoleDefaults } from '../../../src/settings/defaults.ts';
import { proofRequestFor, verifyEndpointFor } from '../../../src/verify/run-proof.ts';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const noSettings = { settings: { origins: {}, warnings: [] }, cwd: '/site' };
const cli = (...flags: string[]) => parseCli(['-i', 'example', ...flags], {}, repo, noSettings);

describe('--verify-prometheus flags', () => {
  it('are in the flag table and --help', () => {
    for (const f of ['verify-prometheus', 'verify-auth', 'verify-ca', 'verify-client-cert', 'verify-client-key', 'verify-wait']) {
      expect(OPTIONS).toHaveProperty(f);
      expect(HELP).toContain(`--${f}`);
    }
  });

  it('take a base URL, a method, files from the admin folder and a wait', () => {
    const v = cli(
      '--verify-prometheus',
      'https://trento.example.com/prometheus/',
      '--verify-auth',
      'mtls',
      '--verify-ca',
      'ca.pem',
      '--verify-client-cert',
      'c.pem',
      '--verify-client-key',
      'k.pem',
      '--verify-wait',
      '90',
    ).verify;
    expect(v).toEqual({
      url: 'https://trento.example.com/prometheus',
      auth: 'mtls',
      caFile: '/site/ca.pem',
      clientCertFile: '/site/c.pem',
      clientKeyFile: '/site/k.pem',
      waitSeconds: 90,
    });
    expect(cli().verify).toBeUndefined();
  });

  it.each([
    [['--verify-prometheus', 'https://u:secret@trento/prometheus'], /no credentials in the URL/],
    [['--verify-prometheus', 'ftp://trento/prometheus'], /http:\/\/ or https:\/\//],
    [['--verify-prometheus', 'trento'], /needs the URL of Trento's Prometheus/],
    [['--verify-prometheus', 'https://trento/prometheus/api/v1/query?query=up'], /base URL/],
    // a bare ? or # (an empty query or fragment) too: it would end up inside the API's URL
    [['--verify-prometheus', 'https://trento/prometheus?'], /without \? or #/],
    [['--verify-prometheus', 'https://trento/prometheus/#'], /without \? or #/],
    [['--verify-auth', 'basic'], /--verify-auth goes with --verify-prometheus/],
    [['--verify-prometheus', 'https://t/p', '--verify-auth', 'token'], /takes none, basic, bearer, mtls/],
    [['--verify-prometheus', 'https://t/p', '--verify-client-cert', 'c.pem'], /go together/],
    [['--verify-prometheus', 'https://t/p', '--verify-auth', 'basic', '--verify-client-cert', 'c', '--verify-client-key', 'k'], /is for --verify-auth mtls/],
    [['--verify-prometheus', 'http://t/p', '--verify-ca', 'ca.pem'], /https/],
    [['--verify-prometheus', 'https://t/p', '--check'], /does not go with --check/],
    [['--verify-prometheus', 'https://t/p', '--uninstall'], /does not go with --uninstall/],
    [['--verify-prometheus', 'https://t/p', '--verify-wait', '0'], /--verify-wait needs a whole number/],
  ])('refuses %j', (flags, message) => {
    expect(() => cli(...flags)).toThrow(CliError);
    expect(() => cli(...flags)).toThrow(message);
  });
});

describe("the run's credentials: the agent's variables", () => {
  const defaults = loadRoleDefaults();
  const host = (name: string, vars: Record<string, unknown>) => ({
    name,
    vars,
    origins: Object.fromEntries(Object.keys(vars).map((k) => [k, 'group_vars/all.yml'])),
    play: undefined as never,
  });
  const url = 'https://trento/prometheus';

  it('basic from trento_prometheus_auth* (the official names), through the agent_* defaults', () => {
    const vars = { trento_prometheus_auth: 'basic', trento_prometheus_auth_username: 'prometheus', trento_prometheus_auth_password: 'pw-123456' };
    const r = verifyEndpointFor([host('a', vars), host('b', vars)], { url }, defaults);
    expect(r).toEqual({ errors: [], endpoint: { url, auth: 'basic', username: 'prometheus', password: 'pw-123456' } });
  });

  it('--verify-auth bearer takes agent_prometheus_auth_bearer_token; hosts without it have no say', () => {
    const r = verifyEndpointFor([host('pull', {}), host('push', { agent_prometheus_auth_bearer_token: 'tok-abcdef' })], { url, auth: 'bearer' }, defaults);
    expect(r.endpoint).toEqual({ url, auth: 'bearer', bearerToken: 'tok-abcdef' });
  });

  it('no method anywhere is none; a method without its credentials is a settings error naming the variable', () => {
    expect(verifyEndpointFor([host('a', {})], { url }, defaults).endpoint).toEqual({ url, auth: 'none' });
    const r = verifyEndpointFor([host('a', { agent_prometheus_auth: 'basic', agent_prometheus_auth_username: 'u' })], { url }, defaults);
    expect(r.endpoint).toBeUndefined();
    expect(r.errors).toEqual([
      expect.objectContaining({ host: 'a', variable: 'agent_prometheus_auth_password', message: expect.stringMatching(/never on a command line/) }),
    ]);
  });

  it('hosts that disagree are one settings error (no credential shown)', () => {
    const r = verifyEndpointFor(
      [
        host('a', { agent_prometheus_auth: 'bearer', agent_prometheus_auth_bearer_token: 'tok-one-111' }),
        host('b', { agent_prometheus_auth: 'bearer', agent_prometheus_auth_bearer_token: 'tok-two-222' }),
      ],
      { url },
      defaults,
    );
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatchObject({ host: 'b', variable: 'agent_prometheus_auth', message: expect.stringMatching(/differs from a's; give --verify-auth/) });
    expect(JSON.stringify(r.errors)).not.toMatch(/tok-/);
  });

  it("mtls needs this machine's certificate and key (the agent's are paths on the hosts)", () => {
    const r = verifyEndpointFor([host('a', { agent_prometheus_auth: 'mtls' })], { url }, defaults);
    expect(r.errors[0]?.message).toMatch(/needs --verify-client-cert FILE and --verify-client-key FILE/);
    const ok = verifyEndpointFor([host('a', { agent_prometheus_auth: 'mtls' })], { url, clientCert: 'CERT', clientKey: 'KEY', ca: 'CA' }, defaults);
    expect(ok.endpoint).toEqual({ url, auth: 'mtls', ca: 'CA', clientCert: 'CERT', clientKey: 'KEY' });
  });

  it('a long numeric password (a bigint from YAML) is the password, as agent.yaml writes it', () => {
    const vars = { trento_prometheus_auth: 'basic', trento_prometheus_auth_username: 'prometheus', trento_prometheus_auth_password: 12345678901234567890n };
    expect(verifyEndpointFor([host('a', vars)], { url }, defaults)).toEqual({
      errors: [],
      endpoint: { url, auth: 'basic', username: 'prometheus', password: '12345678901234567890' },
    });
  });

  it('a client certificate for a method that sends none is a settings error, never dropped', () => {
    const r = verifyEndpointFor(
      [host('a', { agent_prometheus_auth: 'bearer', agent_prometheus_auth_bearer_token: 'tok-abcdef' })],
      { url, clientCert: 'CERT', clientKey: 'KEY' },
      defaults,
    );
    expect(r.endpoint).toBeUndefined();
    expect(r.errors[0]).toMatchObject({
      variable: 'agent_prometheus_auth',
      origin: 'inventory',
      message: expect.stringMatching(/^is bearer: --verify-client-cert and --verify-client-key go with mtls only/),
    });
    // no method anywhere (none) likewise
    expect(verifyEndpointFor([host('a', {})], { url, clientCert: 'CERT', clientKey: 'KEY' }, defaults).errors[0]?.message).toMatch(/^is none: /);
  });
});

describe('what Trento expects of each host', () => {
  const id = '779cdd70-e9e2-58ca-b18a-bf3eb3f71244';
  it("the agent's exporter_name and scrape interval, with the agent's defaults", () => {
    expect(proofRequestFor('h', id, 'pull', { 'prometheus-mode': 'pull' })).toEqual({ host: 'h', agentId: id, exporterName: 'node_exporter', mode: 'pull' });
    expect(proofRequestFor('h', id, 'push', { 'prometheus-mode': 'push' })).toEqual({
      host: 'h',
      agentId: id,
      exporterName: 'grafana_alloy',
      mode: 'push',
      scrapeIntervalMs: 15_000,
    });
    expect(
      proofRequestFor('h', id, 'push', { 'prometheus-mode': 'push', 'prometheus-exporter-name': 'alloy_sap', 'prometheus-scrape-interval': '1m30s' }),
    ).toMatchObject({ exporterName: 'alloy_sap', scrapeIntervalMs: 90_000 });
  });
});

describe('--junit with --verify-prometheus', () => {
  const run = (events: RunEvent[]) => {
    const t = newTally();
    for (const [i, e] of events.entries()) fold(t, e, 1_000 + i);
    const xml = junitOf(t, 10, secretSet(['s3cret-token-xyz']).redact);
    expect(XMLValidator.validate(xml)).toBe(true);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(xml) as {
      testsuites: { errors: string; testsuite: { testcase: { name: string; error?: { type: string; message: string } }[] | { name: string } } };
    };
    return { t, doc, cases: [doc.testsuites.testsuite.testcase].flat() };
  };
  const start: RunEvent[] = [
    { type: 'run-start', mode: 'install', check: false, hosts: ['h1'], forks: 1 },
    { type: 'trento-view-start', url: 'https://trento/prometheus', auth: 'bearer' },
  ];

  it('Prometheus not answering is a test case of its own (an error), so the page is not all green while the run exits 2', () => {
    const { t, doc, cases } = run([
      ...start,
      {
        type: 'trento-view-error',
        kind: 'auth-refused',
        message: "Trento's Prometheus at https://trento/prometheus refused the credentials of --verify-auth bearer (HTTP 401)",
      },
      { type: 'host-done', host: 'h1', status: 'ok', changed: 0, roundTrips: 2 },
    ]);
    expect(exitCode(t)).toBe(2);
    expect(doc.testsuites.errors).toBe('1');
    expect(cases.map((c) => c.name)).toEqual(['h1', "Trento's Prometheus at https://trento/prometheus"]);
    expect((cases[1] as { error?: { type: string; message: string } }).error).toMatchObject({
      type: 'auth-refused',
      message: expect.stringMatching(/refused the credentials/),
    });
  });

  it("a host Trento does not see is that host's failure; no extra case when Prometheus answered", () => {
    const { cases } = run([
      ...start,
      { type: 'host-done', host: 'h1', status: 'failed', changed: 0, roundTrips: 2, message: 'Trento does not see this host: no series' },
    ]);
    expect(cases.map((c) => c.name)).toEqual(['h1']);
  });
});
