// docs/report.schema.json against the report the code builds: every kind of event folded into
// a tally, and reports that break the schema in the ways a change to reportOf could.
import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../../src/output/events.ts';
import { REPORT_SCHEMA_VERSION, reportOf } from '../../../src/output/json-report.ts';
import { fold, newTally } from '../../../src/output/tally.ts';
import { assertReportMatchesSchema } from '../../support/report-schema.ts';

/** One run that goes through every event kind and every host status. */
function everyEvent(): RunEvent[] {
  const hosts = ['ok1', 'changed1', 'failed1', 'down1', 'micro1'];
  return [
    { type: 'run-start', mode: 'install', check: false, hosts, forks: 5 },
    { type: 'phase', phase: 'facts', total: 5 },
    { type: 'host-unreachable', host: 'down1', message: 'connection refused' },
    { type: 'host-refused', host: 'micro1', product: 'sl-micro-6.2', reason: 'transactional' },
    { type: 'host-facts', host: 'changed1', product: 'sles-16.0', provider: 'alloy', mode: 'push', agentId: 'a-b' },
    { type: 'host-facts', host: 'ok1', product: 'sles-15-sp7', provider: 'node_exporter', mode: 'pull', agentId: 'c-d' },
    { type: 'phase', phase: 'plan', total: 3 },
    {
      type: 'host-plan',
      host: 'changed1',
      changes: [{ id: 'f1', summary: 'write agent.yaml', details: ['0600 root'], diff: '--- a\n+++ b\n' }],
      handlers: ['restart'],
    },
    { type: 'host-plan', host: 'failed1', changes: [{ id: 'p1', summary: 'install alloy' }], handlers: [] },
    { type: 'phase', phase: 'apply', total: 2 },
    { type: 'change-applied', host: 'changed1', id: 'f1', summary: 'write agent.yaml' },
    { type: 'host-warning', host: 'changed1', message: 'repository 106' },
    { type: 'step-output', host: 'changed1', id: 'f1', output: 'ok' },
    { type: 'change-failed', host: 'failed1', id: 'p1', summary: 'install alloy', rc: 104, output: 'not found' },
    { type: 'phase', phase: 'verify', total: 1 },
    { type: 'host-verified', host: 'changed1', check: 'alloy pushes', ok: true },
    { type: 'host-verified', host: 'failed1', check: 'agent runs', ok: false, output: 'inactive' },
    { type: 'trento-view-start', url: 'https://trento.example.com/prometheus', auth: 'bearer' },
    {
      type: 'trento-view-host',
      host: 'ok1',
      proof: {
        query: 'up{agentID="c-d"}',
        exporterName: 'node_exporter',
        ok: true,
        up: 1,
        sampleAt: '2026-12-02T06:00:00.000Z',
        reason: null,
        message: 'up is 1',
        waitedMs: 1200,
        limitMs: 60000,
        scrapeIntervalMs: 30000,
      },
    },
    {
      type: 'trento-view-host',
      host: 'changed1',
      proof: {
        query: 'up{agentID="a-b"}',
        exporterName: 'grafana_alloy',
        ok: false,
        up: null,
        sampleAt: null,
        reason: 'no-series',
        message: 'no series',
        waitedMs: 30000,
        limitMs: 30000,
        scrapeIntervalMs: 15000,
      },
    },
    { type: 'trento-view-error', kind: 'auth-refused', message: "Trento's Prometheus refused the credentials" },
    { type: 'host-done', host: 'ok1', status: 'ok', changed: 0, roundTrips: 2 },
    { type: 'host-done', host: 'changed1', status: 'changed', changed: 1, roundTrips: 2 },
    { type: 'host-done', host: 'failed1', status: 'failed', changed: 0, roundTrips: 2, message: 'install alloy failed' },
    { type: 'host-done', host: 'down1', status: 'unreachable', changed: 0, roundTrips: 0 },
    { type: 'host-done', host: 'micro1', status: 'skipped', changed: 0, roundTrips: 1 },
    { type: 'interrupted', message: 'SIGINT' },
    { type: 'run-end', exitCode: 4, durationMs: 1234 },
  ];
}

function reportFrom(events: RunEvent[]) {
  const t = newTally();
  for (const [i, e] of events.entries()) fold(t, e, 1_000 + i);
  return JSON.parse(JSON.stringify(reportOf(t, 1234))) as Record<string, unknown> & { hosts: Record<string, unknown>[] };
}

describe('--json report schema (docs/report.schema.json)', () => {
  it('a report with every event kind and host status matches it, with its version and the process figures apart', () => {
    const report = reportFrom(everyEvent());
    expect(() => assertReportMatchesSchema(report, 'of the full run')).not.toThrow();
    expect(report.schemaVersion).toBe(REPORT_SCHEMA_VERSION);
    expect(Object.keys(report.process as object).sort()).toEqual(['openFileDescriptors', 'peakRssMiB']);
    expect(report.hosts.map((h) => h.status)).toEqual(['ok', 'changed', 'failed', 'unreachable', 'skipped']);
    // --verify-prometheus: the run's view (with Prometheus' one error) and each asked host's proof.
    expect(report.trentoView).toEqual({
      url: 'https://trento.example.com/prometheus',
      auth: 'bearer',
      error: { kind: 'auth-refused', message: "Trento's Prometheus refused the credentials" },
    });
    expect(report.hosts.map((h) => (h.trento as { ok: boolean } | null)?.ok ?? null)).toEqual([true, false, null, null, null]);
  });

  it('a settings-error run (no host reached, no timings past settings) matches it', () => {
    const report = reportFrom([
      { type: 'run-start', mode: 'uninstall', check: true, hosts: ['h'], forks: 1 },
      { type: 'settings-errors', errors: [{ host: 'h', variable: 'agent_web_api_key', origin: 'group_vars/all.yml:3', message: 'required' }] },
      { type: 'run-end', exitCode: 1, durationMs: 3 },
    ]);
    expect(() => assertReportMatchesSchema(report, 'of a settings error')).not.toThrow();
    expect(() => assertReportMatchesSchema(reportFrom([]), 'of an empty tally')).not.toThrow();
  });

  it('a rollout in waves that a failure stopped matches it, each host with its wave', () => {
    const report = reportFrom([
      { type: 'run-start', mode: 'install', check: false, hosts: ['a', 'b', 'c', 'd', 'e'], forks: 5 },
      { type: 'waves', serial: '2', maxFailPercentage: 0, waves: [['a', 'b'], ['c', 'd'], ['e']] },
      { type: 'wave-start', wave: 1, of: 3, hosts: ['a', 'b'] },
      { type: 'host-done', host: 'a', status: 'changed', changed: 3, roundTrips: 2 },
      { type: 'host-done', host: 'b', status: 'changed', changed: 3, roundTrips: 2 },
      { type: 'wave-end', wave: 1, size: 2, failed: 0, skipped: 0 },
      { type: 'wave-start', wave: 2, of: 3, hosts: ['c', 'd'] },
      { type: 'host-done', host: 'c', status: 'changed', changed: 3, roundTrips: 2 },
      { type: 'host-done', host: 'd', status: 'failed', changed: 0, roundTrips: 2 },
      { type: 'wave-end', wave: 2, size: 2, failed: 1, skipped: 0, stopped: '1 of 2 host(s) failed, more than --max-fail-percentage 0' },
      { type: 'host-done', host: 'e', status: 'skipped', changed: 0, roundTrips: 1, message: 'not started: wave 3 of 3 never started' },
      { type: 'rollout-stopped', wave: 2, reason: 'wave 2: 1 of 2 host(s) failed', notStarted: ['e'] },
      { type: 'run-end', exitCode: 2, durationMs: 9 },
    ]);
    expect(() => assertReportMatchesSchema(report, 'of a rollout')).not.toThrow();
    expect(report.rollout).toMatchObject({
      serial: '2',
      stopped: { wave: 2 },
      notStarted: ['e'],
      waves: [{ status: 'done' }, { status: 'stopped', failed: 1 }, { status: 'not-started' }],
    });
    expect(report.hosts.map((h) => h.wave)).toEqual([1, 1, 2, 2, 3]);
    expect(reportFrom(everyEvent()).rollout).toBeNull();
  });

  it.each([
    ['no schemaVersion', (r: ReturnType<typeof reportFrom>) => delete r.schemaVersion],
    ['another schemaVersion', (r: ReturnType<typeof reportFrom>) => (r.schemaVersion = 2)],
    ['a field the schema does not know', (r: ReturnType<typeof reportFrom>) => (r.peakRssMiB = 5)],
    ['a host status Ansible has not', (r: ReturnType<typeof reportFrom>) => (r.hosts[0]!.status = 'done')],
    ['a host without roundTrips', (r: ReturnType<typeof reportFrom>) => delete r.hosts[0]!.roundTrips],
    ['a proof reason the schema does not list', (r: ReturnType<typeof reportFrom>) => ((r.hosts[1]!.trento as { reason: string }).reason = 'slow')],
    ['a Trento view without its error field', (r: ReturnType<typeof reportFrom>) => delete (r.trentoView as { error?: unknown }).error],
  ])('a report with %s does not', (_what, breakIt) => {
    const report = reportFrom(everyEvent());
    breakIt(report);
    expect(() => assertReportMatchesSchema(report, 'broken')).toThrow(/does not match docs\/report\.schema\.json/);
  });
});
