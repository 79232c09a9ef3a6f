// The --junit report: one test case per host, in the JUnit XML that CI systems (GitLab, Jenkins,
// GitHub and Azure test reporters) show natively. One more formatter of the tally that feeds the
// recap and the --json report, so all three agree; every text in it goes through the redactor.
import { settingSource } from '../settings/validate.ts';
import { escapeControls } from './format.ts';
import type { Redactor } from './redact.ts';
import { writeReportFile } from './report-file.ts';
import { type HostResult, type Tally, wouldChange } from './tally.ts';

type Outcome =
  | { kind: 'passed'; out?: string }
  | { kind: 'failure' | 'error'; type: string; message: string; text: string; out?: string }
  | { kind: 'skipped'; message: string };

/** The suite's kind of run, also the test cases' classname: CI groups reports by it. */
function runKind(t: Tally): string {
  return `${t.mode}${t.check ? '-check' : ''}`;
}

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

/** A change with its details and diff (diffs only exist with --diff, already masked by field). */
function changeLines(prefix: string, c: HostResult['planned'][number]): string[] {
  return [
    `${prefix}: ${c.summary}`,
    ...(c.details ?? []).map((d) => `    ${d}`),
    ...(c.diff
      ? c.diff
          .replace(/\s+$/, '')
          .split('\n')
          .map((l) => `    ${l}`)
      : []),
  ];
}

/** What would change on the host (check), or what the run changed and did not (apply). */
function driftLines(t: Tally, r: HostResult): string[] {
  if (t.check) return [...r.planned.flatMap((c) => changeLines('would change', c)), ...r.handlers.map((h) => `would run: ${h}`)];
  return r.planned.flatMap((c) => changeLines(r.applied.includes(c.id) ? 'changed' : 'not applied', c));
}

function failureLines(r: HostResult): string[] {
  const out: string[] = [];
  if (r.failed) out.push(`failed: ${r.failed.summary} (exit ${r.failed.rc})`, ...indented(r.failed.output));
  for (const c of r.checks.filter((x) => !x.ok)) out.push(`check failed: ${c.check}`, ...indented(c.output ?? ''));
  return out;
}

const indented = (text: string) =>
  text.trim()
    ? text
        .replace(/\s+$/, '')
        .split('\n')
        .map((l) => `    ${l}`)
    : [];

const warningLines = (r: HostResult) => r.warnings.map((w) => `warning: ${w}`);

function outcomeOf(t: Tally, r: HostResult): Outcome {
  if (t.settingsErrors.length) {
    const mine = t.settingsErrors.filter((e) => e.host === r.host);
    // A host already down or failed when the plans' settings errors stopped the run (those come
    // after the facts) keeps that outcome, as in the JSON report and on the terminal.
    const endedBefore = r.status === 'unreachable' || r.status === 'failed';
    if (!mine.length && !endedBefore) return { kind: 'skipped', message: 'not run: settings errors on other hosts (nothing was changed on any host)' };
    if (mine.length)
      return {
        kind: 'error',
        type: 'settings',
        message: `${plural(mine.length, 'settings error')} (nothing was changed on any host)`,
        text: mine.map((e) => `${e.variable} (${settingSource(e.origin)}): ${e.message}`).join('\n'),
      };
  }
  const out = warningLines(r).join('\n') || undefined;
  const extra = out ? { out } : {};
  switch (r.status) {
    case 'unreachable':
      return { kind: 'error', type: 'unreachable', message: r.message ?? 'unreachable', text: r.message ?? 'unreachable', ...extra };
    case 'skipped':
      return { kind: 'skipped', message: r.message ?? 'skipped' };
    case 'failed': {
      const failed = r.failed ? `${r.failed.summary} (exit ${r.failed.rc})` : r.checks.find((c) => !c.ok)?.check;
      const drift = driftLines(t, r);
      return {
        kind: 'failure',
        type: 'failed',
        message: r.message ?? (failed ? `failed: ${failed}` : 'failed'),
        text: [...(r.message ? [r.message] : []), ...failureLines(r), ...drift].join('\n') || 'failed',
        ...extra,
      };
    }
    case 'changed': {
      const drift = driftLines(t, r);
      if (!t.check) return { kind: 'passed', out: [...drift, ...warningLines(r)].join('\n') };
      const n = wouldChange(r.planned, r.handlers);
      return { kind: 'failure', type: 'drift', message: `${plural(n, 'change')} would be made`, text: drift.join('\n'), ...extra };
    }
    case 'ok':
      return { kind: 'passed', ...extra };
  }
}

// XML 1.0 allows only these characters (https://www.w3.org/TR/xml/#charsets); lone surrogates
// and U+FFFE/U+FFFF are outside them.
const NOT_XML_CHAR = /[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/gu;

/**
 * Any text for the report: secrets masked first (on the raw text, before escaping could change
 * how a secret is spelled), then control characters and bidi overrides shown escaped as on the
 * terminal (a CI page is a screen too), then whatever XML 1.0 still forbids, then markup.
 */
function xmlText(redact: Redactor, raw: string, attribute = false): string {
  const safe = escapeControls(redact(raw)).replace(NOT_XML_CHAR, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
  const text = safe.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  // In attributes a parser turns raw newlines and tabs into spaces: keep them as references.
  return attribute ? text.replace(/"/g, '&quot;').replace(/\n/g, '&#10;').replace(/\t/g, '&#9;') : text;
}

const seconds = (ms: number) => (ms / 1000).toFixed(3);

/** ISO 8601 without a zone (JUnit's schema), in UTC. */
const timestamp = (epochMs: number) => new Date(epochMs).toISOString().slice(0, 19);

/** The whole document, from the tally at the end of the run. */
export function junitOf(t: Tally, durationMs: number, redact: Redactor): string {
  const attr = (s: string) => xmlText(redact, s, true);
  const text = (s: string) => xmlText(redact, s);
  const kind = runKind(t);
  const suite = `trento-provision ${kind}`;
  const classname = `trento-provision.${kind}`;
  const cases = [...t.hosts.values()].map((r) => ({ host: r.host, outcome: outcomeOf(t, r) }));
  // --verify-prometheus: Trento's Prometheus not answering fails the run (exit 2) without
  // failing a host; its own test case keeps the CI page from showing all green.
  // A run stopped before any host (an inventory or vault error: settings errors of host "all",
  // which is no host of the run): one test case per such error, so the page shows the failure.
  for (const e of t.settingsErrors.filter((x) => !t.hosts.has(x.host))) {
    cases.push({
      host: `${e.host}: ${e.variable}`,
      outcome: {
        kind: 'error',
        type: 'settings',
        message: 'the run stopped before any host (nothing was changed)',
        text: `${e.variable} (${settingSource(e.origin)}): ${e.message}`,
      },
    });
  }
  const view = t.trentoView;
  if (view?.error) {
    cases.push({
      host: `Trento's Prometheus at ${view.url}`,
      outcome: { kind: 'error', type: view.error.kind, message: view.error.message, text: view.error.message },
    });
  }
  const count = (k: Outcome['kind']) => cases.filter((c) => c.outcome.kind === k).length;
  const counts = `tests="${cases.length}" failures="${count('failure')}" errors="${count('error')}" skipped="${count('skipped')}" time="${seconds(durationMs)}"`;
  const started = t.timeline.find((m) => m.mark === 'run-start')?.at;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="trento-provision" ${counts}>`,
    `  <testsuite name="${attr(suite)}" ${counts}${started !== undefined ? ` timestamp="${timestamp(started)}"` : ''}>`,
    '    <properties>',
    `      <property name="mode" value="${t.mode}"/>`,
    `      <property name="check" value="${t.check}"/>`,
    `      <property name="interrupted" value="${t.interrupted}"/>`,
    '    </properties>',
  ];
  for (const { host, outcome: o } of cases) {
    const open = `    <testcase classname="${attr(classname)}" name="${attr(host)}"`;
    const out = 'out' in o && o.out ? [`      <system-out>${text(o.out)}</system-out>`] : [];
    if (o.kind === 'passed' && !out.length) {
      lines.push(`${open}/>`);
      continue;
    }
    lines.push(`${open}>`);
    if (o.kind === 'skipped') lines.push(`      <skipped message="${attr(o.message)}"/>`);
    if (o.kind === 'failure' || o.kind === 'error') {
      lines.push(`      <${o.kind} type="${attr(o.type)}" message="${attr(o.message)}">${text(o.text)}</${o.kind}>`);
    }
    lines.push(...out, '    </testcase>');
  }
  lines.push('  </testsuite>', '</testsuites>');
  return `${lines.join('\n')}\n`;
}

/** Replaces PATH with a new 0600 file, never half-written, as the --json report. */
export async function writeJunitReport(path: string, t: Tally, durationMs: number, redact: Redactor): Promise<void> {
  await writeReportFile(path, junitOf(t, durationMs, redact));
}
