// The --json report: every host's result and changes, machine-readable. Built from the tally,
// written through the redactor like every other output.
import { readdirSync } from 'node:fs';
import type { Redactor } from './redact.ts';
import { writeReportFile } from './report-file.ts';
import { exitCode, type ExitPolicy, type Tally } from './tally.ts';

/** Phase durations from the tally's timeline: each mark lasts until the next one. */
export function timingsOf(t: Tally): { startedAt: number; phases: { phase: string; ms: number }[] } | null {
  const start = t.timeline.find((m) => m.mark === 'run-start');
  if (!start) return null;
  // run-start -> first phase is the settings check (before any connection).
  const phases = t.timeline.slice(0, -1).map((m, i) => ({ phase: m.mark === 'run-start' ? 'settings' : m.mark, ms: t.timeline[i + 1]!.at - m.at }));
  return { startedAt: start.at, phases };
}

/** The orchestrator's own footprint: peak memory, and descriptors still open at the end
 *  (after every session was closed: a number that grows with the fleet would be a leak). */
function processFigures() {
  let openFileDescriptors: number | null = null;
  try {
    openFileDescriptors = readdirSync('/proc/self/fd').length;
  } catch {
    openFileDescriptors = null;
  }
  return { peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024), openFileDescriptors };
}

/** The layout's version (docs/report.schema.json): bump it when a field goes or changes meaning. */
export const REPORT_SCHEMA_VERSION = 1;

export function reportOf(t: Tally, durationMs: number, policy: ExitPolicy = {}) {
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    tool: 'trento-provision',
    mode: t.mode,
    check: t.check,
    exitCode: exitCode(t, policy),
    durationMs,
    interrupted: t.interrupted,
    settingsErrors: t.settingsErrors,
    // --verify-prometheus: where Trento's Prometheus was asked, and its one error if it could not answer.
    trentoView: t.trentoView,
    // Where the time went: settings, facts (connect + facts script), plan, apply (+ verify).
    timings: timingsOf(t),
    // --serial / --max-fail-percentage: the waves, the one that stopped the rollout, the hosts never started.
    rollout: t.rollout,
    hosts: [...t.hosts.values()].map((r) => ({
      host: r.host,
      status: r.status,
      product: r.product ?? null,
      provider: r.provider ?? null,
      prometheusMode: r.mode ?? null,
      agentId: r.agentId || null, // none on an uninstall of a host without a usable machine-id
      changes: r.planned.map((c) => ({
        id: c.id,
        summary: c.summary,
        applied: r.applied.includes(c.id),
        ...(c.details ? { details: c.details } : {}),
        ...(c.diff ? { diff: c.diff } : {}),
      })),
      // restarts and reloads planned; with no change beside them, left pending by an earlier run
      handlers: r.handlers,
      failed: r.failed ?? null,
      checks: r.checks,
      warnings: r.warnings,
      message: r.message ?? null,
      roundTrips: r.roundTrips,
      siteTemplates: r.siteTemplates,
      wave: t.rollout?.waves.find((w) => w.hosts.includes(r.host))?.wave ?? null,
      trento: r.trento ?? null,
    })),
    // The orchestrator's own figures, apart from the hosts' results.
    process: processFigures(),
  };
}

/** The report as the file's text: every string redacted before JSON escapes it (a secret with a
 *  quote or backslash that a host echoed escaped would be escaped again, out of the redactor's
 *  reach). Only strings: the keys are the schema's names, and a pass over the whole text would
 *  mask a vaulted value inside one ("prometheus" in prometheusMode) or inside a number. */
export function jsonReportText(t: Tally, durationMs: number, redact: Redactor, policy: ExitPolicy = {}): string {
  return `${JSON.stringify(reportOf(t, durationMs, policy), (_key, value: unknown) => (typeof value === 'string' ? redact(value) : value), 2)}\n`;
}

/** Replaces PATH with a new 0600 file, never half-written (see report-file.ts). */
export async function writeJsonReport(path: string, t: Tally, durationMs: number, redact: Redactor, policy: ExitPolicy = {}): Promise<void> {
  await writeReportFile(path, jsonReportText(t, durationMs, redact, policy));
}
