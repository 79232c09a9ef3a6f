// The --junit report and --detailed-exitcode: the XML is read back with a real XML parser
// (fast-xml-parser, as a CI system would read it), never matched as text, except to prove a
// secret is in no byte of it.
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { CliError, parseCli } from '../../../src/cli/args.ts';
import { completionScript } from '../../../src/cli/completion.ts';
import { packageRoot } from '../../../src/cli/invocation.ts';
import type { RunEvent } from '../../../src/output/events.ts';
import { jsonReportText, reportOf } from '../../../src/output/json-report.ts';
import { writeReportFile } from '../../../src/output/report-file.ts';
import { junitOf, writeJunitReport } from '../../../src/output/junit-report.ts';
import { secretSet } from '../../../src/output/redact.ts';
import { assertReportMatchesSchema } from '../../support/report-schema.ts';
import { exitCode, fold, newTally, type Tally } from '../../../src/output/tally.ts';

// Characters that XML-escaping would change (& < " '), so a redactor run after escaping would miss it.
const SECRET = `SENTINEL&<"'-secret`;
const redact = secretSet([SECRET]).redact;

function tallyOf(events: RunEvent[]): Tally {
  const t = newTally();
  for (const [i, e] of events.entries()) fold(t, e, Date.UTC(2026, 11, 2, 6, 0, 0) + i);
  return t;
}

/** A --check run over every kind of host result. */
function checkRun(): RunEvent[] {
  const hosts = ['in-sync', 'drifted', 'handler-only', 'broken', 'down', 'micro'];
  return [
    { type: 'run-start', mode: 'install', check: true, hosts, forks: 5 },
    { type: 'host-unreachable', host: 'down', message: `ssh: connect to host 10.0.0.9 port 22: Connection refused` },
    { type: 'host-refused', host: 'micro', product: 'sl-micro-6.2', reason: 'transactional system: not supported' },
    { type: 'host-plan', host: 'in-sync', changes: [], handlers: [] },
    {
      type: 'host-plan',
      host: 'drifted',
      changes: [
        {
          id: 'file:/etc/trento/agent.yaml',
          summary: 'update /etc/trento/agent.yaml',
          details: ['mode 0644 -> 0600'],
          diff: `-api-key: ${SECRET}\n+api-key: ********`,
        },
        { id: 'service:trento-agent', summary: 'enable and start trento-agent' },
      ],
      handlers: ['restart trento-agent'],
    },
    { type: 'host-plan', host: 'handler-only', changes: [], handlers: ['restart trento-agent (pending from an earlier run)'] },
    { type: 'host-warning', host: 'drifted', message: `repository refresh failed for key ${SECRET}` },
    { type: 'host-done', host: 'in-sync', status: 'ok', changed: 0, roundTrips: 1 },
    { type: 'host-done', host: 'drifted', status: 'changed', changed: 2, roundTrips: 1 },
    { type: 'host-done', host: 'handler-only', status: 'changed', changed: 1, roundTrips: 1 },
    { type: 'host-done', host: 'broken', status: 'failed', changed: 0, roundTrips: 1, message: `cannot read facts: sudo said ${SECRET}` },
    { type: 'host-done', host: 'down', status: 'unreachable', changed: 0, roundTrips: 0 },
    { type: 'host-done', host: 'micro', status: 'skipped', changed: 0, roundTrips: 1 },
    { type: 'run-end', exitCode: 4, durationMs: 2500 },
  ];
}

// htmlEntities: also decode character references (&#10;), as every conforming XML parser does.
const parser = new XMLParser({
  ignoreAttributes: false,
  htmlEntities: true,
  attributeNamePrefix: '',
  textNodeName: '#text',
  isArray: (name) => name === 'testcase' || name === 'property',
});

interface Case {
  classname: string;
  name: string;
  failure?: { type: string; message: string; '#text'?: string };
  error?: { type: string; message: string; '#text'?: string };
  skipped?: { message: string } | '';
  'system-out'?: string;
}

function parse(xml: string) {
  expect(XMLValidator.validate(xml)).toBe(true);
  const doc = parser.parse(xml) as {
    testsuites: Record<string, string> & {
      testsuite: Record<string, string> & { testcase: Case[]; properties: { property: { name: string; value: string }[] } };
    };
  };
  const suite = doc.testsuites.testsuite;
  return { doc: doc.testsuites, suite, cases: new Map(suite.testcase.map((c) => [c.name, c])) };
}

describe('--junit report', () => {
  it("one test case per host, in the tally's order, and counts that match the cases", () => {
    const { doc, suite, cases } = parse(junitOf(tallyOf(checkRun()), 2500, redact));
    expect([...cases.keys()]).toEqual(['in-sync', 'drifted', 'handler-only', 'broken', 'down', 'micro']);
    for (const node of [doc, suite]) {
      expect({ tests: node.tests, failures: node.failures, errors: node.errors, skipped: node.skipped, time: node.time }).toEqual({
        tests: '6',
        failures: '3', // drifted, handler-only, broken
        errors: '1', // down
        skipped: '1', // micro
        time: '2.500',
      });
    }
    expect(suite.name).toBe('trento-provision install-check');
    expect(suite.timestamp).toBe('2026-12-02T06:00:00');
    expect([...cases.values()].every((c) => c.classname === 'trento-provision.install-check')).toBe(true);
    expect(suite.properties.property).toContainEqual({ name: 'check', value: 'true' });
  });

  it('drift is a failure whose text says what would change, per change, with details, diff and handlers', () => {
    const { cases } = parse(junitOf(tallyOf(checkRun()), 2500, redact));
    expect(cases.get('in-sync')).toEqual({ classname: 'trento-provision.install-check', name: 'in-sync' });
    const drifted = cases.get('drifted')!;
    expect(drifted.failure).toMatchObject({ type: 'drift', message: '2 changes would be made' });
    expect(drifted.failure!['#text']!.split('\n')).toEqual([
      'would change: update /etc/trento/agent.yaml',
      '    mode 0644 -> 0600',
      '    -api-key: ********',
      '    +api-key: ********',
      'would change: enable and start trento-agent',
      'would run: restart trento-agent',
    ]);
    expect(drifted['system-out']).toBe('warning: repository refresh failed for key ********');
    expect(cases.get('handler-only')!.failure).toMatchObject({
      type: 'drift',
      message: '1 change would be made',
      '#text': 'would run: restart trento-agent (pending from an earlier run)',
    });
  });

  it('a failed host is a failure with its reason, unreachable an error, a refused host skipped', () => {
    const { cases } = parse(junitOf(tallyOf(checkRun()), 2500, redact));
    expect(cases.get('broken')!.failure).toMatchObject({ type: 'failed', message: 'cannot read facts: sudo said ********' });
    expect(cases.get('down')!.error).toMatchObject({ type: 'unreachable', message: 'ssh: connect to host 10.0.0.9 port 22: Connection refused' });
    expect(cases.get('micro')!.skipped).toEqual({ message: 'transactional system: not supported' });
  });

  it('a secret is in no byte of the file, neither raw nor XML-escaped', () => {
    const xml = junitOf(tallyOf(checkRun()), 2500, redact);
    expect(xml).not.toContain('SENTINEL');
    expect(xml).toContain('********');
  });

  it('markup, control characters, bidi overrides and characters XML 1.0 forbids come through escaped, the document stays well-formed', () => {
    const nasty = `<b>&amp;]]></b> "q" 'a'\u0000nul\u0008bs\u001b[31mred\r\u202eevil\u{1f600}\ud800lone\ufffe`;
    const t = tallyOf([
      { type: 'run-start', mode: 'install', check: false, hosts: [`h<"&>`], forks: 1 },
      { type: 'host-plan', host: `h<"&>`, changes: [{ id: 'p', summary: 'install trento-agent' }], handlers: [] },
      { type: 'change-failed', host: `h<"&>`, id: 'p', summary: 'install trento-agent', rc: 104, output: `line 1\n${nasty}\n\tline 3` },
      { type: 'host-done', host: `h<"&>`, status: 'failed', changed: 0, roundTrips: 2, message: `zypper said:\n${nasty}` },
    ]);
    const xml = junitOf(t, 10, redact);
    // eslint-disable-next-line no-control-regex
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the test looks for terminal control characters on purpose
    expect(xml).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ud800\ufffe\u202e]/);
    const { cases } = parse(xml);
    const c = cases.get(`h<"&>`)!;
    const shown = `<b>&amp;]]></b> "q" 'a'\\x00nul\\x08bs\\x1b[31mred\\x0d\\u202eevil\u{1f600}\\u{d800}lone\\u{fffe}`;
    // Newlines survive in the attribute too (as character references).
    expect(c.failure!.message).toBe(`zypper said:\n${shown}`);
    expect(c.failure!['#text']!.split('\n')).toEqual([
      'zypper said:',
      shown,
      'failed: install trento-agent (exit 104)',
      '    line 1',
      `    ${shown}`,
      '    \tline 3',
      'not applied: install trento-agent',
    ]);
  });

  it('a real run: a changed host passes and lists what was changed; settings errors are errors, the other hosts skipped', () => {
    const applied = parse(
      junitOf(
        tallyOf([
          { type: 'run-start', mode: 'uninstall', check: false, hosts: ['a'], forks: 1 },
          { type: 'host-plan', host: 'a', changes: [{ id: 'x', summary: 'remove trento-agent' }], handlers: [] },
          { type: 'change-applied', host: 'a', id: 'x', summary: 'remove trento-agent' },
          { type: 'host-done', host: 'a', status: 'changed', changed: 1, roundTrips: 2 },
        ]),
        1,
        redact,
      ),
    );
    expect(applied.suite.name).toBe('trento-provision uninstall');
    expect(applied.cases.get('a')).toEqual({ classname: 'trento-provision.uninstall', name: 'a', 'system-out': 'changed: remove trento-agent' });
    expect(applied.suite.failures).toBe('0');

    const settings = parse(
      junitOf(
        tallyOf([
          { type: 'run-start', mode: 'install', check: true, hosts: ['a', 'b'], forks: 1 },
          {
            type: 'settings-errors',
            errors: [{ host: 'b', variable: 'agent_web_api_key', origin: 'group_vars/all.yml', message: `must not be empty (was ${SECRET})` }],
          },
        ]),
        1,
        redact,
      ),
    );
    expect(settings.cases.get('a')!.skipped).toEqual({ message: 'not run: settings errors on other hosts (nothing was changed on any host)' });
    expect(settings.cases.get('b')!.error).toMatchObject({
      type: 'settings',
      message: '1 settings error (nothing was changed on any host)',
      '#text': 'agent_web_api_key (from group_vars/all.yml): must not be empty (was ********)',
    });
    expect([settings.suite.errors, settings.suite.skipped]).toEqual(['1', '1']);

    // Settings errors found after the facts (a push host's platform rules): a host already down
    // keeps its error, as in the JSON report and on the terminal; only the others are "not run".
    const afterFacts = parse(
      junitOf(
        tallyOf([
          { type: 'run-start', mode: 'install', check: true, hosts: ['down', 'b', 'c'], forks: 3 },
          { type: 'host-unreachable', host: 'down', message: 'ssh: connect to host down port 22: Connection refused' },
          { type: 'host-done', host: 'down', status: 'unreachable', changed: 0, roundTrips: 1 },
          { type: 'settings-errors', errors: [{ host: 'b', variable: 'prometheus_auth', origin: 'group_vars/all.yml', message: 'push mode needs one' }] },
          { type: 'host-done', host: 'c', status: 'skipped', changed: 0, roundTrips: 1, message: 'not run: settings errors (nothing was changed on any host)' },
        ]),
        1,
        redact,
      ),
    );
    expect(afterFacts.cases.get('down')!.error).toMatchObject({ type: 'unreachable' });
    expect(afterFacts.cases.get('c')!.skipped).toEqual({ message: 'not run: settings errors on other hosts (nothing was changed on any host)' });
  });

  it('--json: a secret with a quote and a backslash, echoed by a host in its escaped form, is in no byte of the report', () => {
    const secret = 'Pa"ss\\word123';
    const echoed = `alloy: error in line 12: password = "${secret.replace(/["\\]/g, '\\$&')}"`;
    const t = tallyOf([
      { type: 'run-start', mode: 'install', check: false, hosts: ['h1'], forks: 5 },
      { type: 'host-done', host: 'h1', status: 'failed', changed: 0, roundTrips: 2, message: echoed },
    ]);
    const json = jsonReportText(t, 10, secretSet([secret]).redact);
    expect(json).not.toContain('word123');
    expect(JSON.parse(json).hosts[0].message).toBe('alloy: error in line 12: password = "********"');
  });

  it('--json: a vaulted value that is part of a key\'s name ("prometheus") masks values only, never the schema\'s keys', () => {
    const t = tallyOf([
      { type: 'run-start', mode: 'install', check: false, hosts: ['h1'], forks: 5 },
      { type: 'host-done', host: 'h1', status: 'failed', changed: 0, roundTrips: 2, message: 'user prometheus refused' },
    ]);
    const report = JSON.parse(jsonReportText(t, 10, secretSet(['prometheus', 'Templates']).redact)) as { hosts: Record<string, unknown>[] };
    expect(Object.keys(report.hosts[0]!)).toEqual(expect.arrayContaining(['prometheusMode', 'siteTemplates']));
    expect(report.hosts[0]!.message).toBe('user ******** refused');
    assertReportMatchesSchema(report, 'the masked report');
  });

  it("a killed run's leftover temp file (the same pid in a container) does not block the next report", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-report-stale-'));
    const path = join(dir, 'report.json');
    writeFileSync(join(dir, `.report.json.${process.pid}.tmp`), 'half of an old report');
    await writeReportFile(path, '{}\n');
    expect(readFileSync(path, 'utf8')).toBe('{}\n');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir).sort()).toEqual([`.report.json.${process.pid}.tmp`, 'report.json']);
  });

  it('is written as a new 0600 file over whatever was there, with no temp file left', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-junit-'));
    const path = join(dir, 'report.xml');
    writeFileSync(path, 'old', { mode: 0o644 });
    await writeJunitReport(path, tallyOf(checkRun()), 2500, redact);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['report.xml']);
    expect(parse(readFileSync(path, 'utf8')).cases.size).toBe(6);
  });
});

describe('--detailed-exitcode', () => {
  const run = (check: boolean, statuses: string[]) =>
    tallyOf([
      { type: 'run-start', mode: 'install', check, hosts: statuses.map((_, i) => `h${i}`), forks: 5 },
      ...statuses.map((s, i): RunEvent => ({ type: 'host-done', host: `h${i}`, status: s as never, changed: 0, roundTrips: 1 })),
    ]);

  it.each([
    [['ok', 'skipped'], 0, 0],
    [['ok', 'changed'], 0, 2], // drift
    [['changed', 'failed'], 2, 2], // a failed host: 2 either way
    [['changed', 'unreachable'], 4, 4], // drift never hides an unreachable host
    [['failed', 'unreachable'], 4, 4],
  ])('--check %j: %i without, %i with it', (statuses, plain, detailed) => {
    expect(exitCode(run(true, statuses))).toBe(plain);
    expect(exitCode(run(true, statuses), { detailed: true })).toBe(detailed);
  });

  it('settings errors (1) and an interrupted run (99) win over drift; the --json report carries the same code', () => {
    const t = run(true, ['changed']);
    expect(reportOf(t, 1, { detailed: true }).exitCode).toBe(2);
    fold(t, { type: 'interrupted', message: 'SIGINT' });
    expect(exitCode(t, { detailed: true })).toBe(99);
    fold(t, { type: 'settings-errors', errors: [{ host: 'h0', variable: 'v', origin: 'o', message: 'm' }] });
    expect(exitCode(t, { detailed: true })).toBe(1);
  });

  it('a real run that changed hosts is never read as drift', () => {
    expect(exitCode(run(false, ['changed']), { detailed: true })).toBe(0);
  });
});

describe('the flags', () => {
  const repo = packageRoot(import.meta.url);
  const noSettings = { settings: { origins: {}, warnings: [] } };

  it("--junit is a path from the admin's folder; --detailed-exitcode goes with --check", () => {
    const cli = parseCli(['-i', 'example', '--check', '--detailed-exitcode', '--junit', 'out/junit.xml'], {}, repo, { ...noSettings, cwd: '/site' });
    expect([cli.junit, cli.detailedExitcode]).toEqual(['/site/out/junit.xml', true]);
    expect(parseCli(['-i', 'example', '--junit', 'j.xml'], {}, repo, { ...noSettings, cwd: '/site' }).junit).toBe('/site/j.xml');
  });

  it('bash completion offers both, and file names after --junit', () => {
    const script = completionScript('bash', 'trento-provision', repo);
    expect(script).toMatch(/compgen -W '[^']*--detailed-exitcode/);
    expect(script).toMatch(/^ *--json\|--junit\|.*\)$/m);
  });

  it('--detailed-exitcode without --check, and it, --junit or --json with --list-hosts or --syntax-check, is an error naming the flag', () => {
    const call = (args: string[]) => () => parseCli(['-i', 'example', ...args], {}, repo, noSettings);
    expect(call(['--detailed-exitcode'])).toThrow(CliError);
    expect(call(['--detailed-exitcode'])).toThrow(/--detailed-exitcode goes with --check/);
    expect(call(['--check', '--detailed-exitcode', '--syntax-check'])).toThrow(/--detailed-exitcode reports on a run; --syntax-check contacts no host/);
    expect(call(['--junit', 'j.xml', '--list-hosts'])).toThrow(/--junit reports on a run; --list-hosts contacts no host/);
    expect(call(['--json', 'r.json', '--list-hosts'])).toThrow(/--json reports on a run; --list-hosts contacts no host/);
    expect(call(['--json', 'r.json', '--syntax-check'])).toThrow(/--json reports on a run; --syntax-check contacts no host/);
  });
});
