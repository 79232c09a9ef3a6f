// One formatter per event kind: the plain, greppable per-host lines ("HOST | STATUS | text").
// The live display prints the same lines above its spinner.
import { settingSource } from '../settings/validate.ts';
import type { HostSettingProblem, RunEvent } from './events.ts';
import { type Tally, wouldChange } from './tally.ts';

export interface FormatOptions {
  verbosity: number;
  diff: boolean;
  color: boolean;
}

const COLORS = { red: 31, green: 32, yellow: 33, cyan: 36, gray: 90 } as const;
type Color = keyof typeof COLORS;

function paint(o: FormatOptions, color: Color, text: string): string {
  return o.color ? `\x1b[${COLORS[color]}m${text}\x1b[0m` : text;
}

const indent = (text: string, by = '    ') =>
  text
    .replace(/\s+$/, '')
    .split('\n')
    .map((l) => by + l)
    .join('\n');

/** Verbose detail: TEXT indented in gray, nothing when it is blank. */
const detail = (o: FormatOptions, text: string): string[] => (text.trim() ? [paint(o, 'gray', indent(text))] : []);

/** The hosts that share one error (the same variable, origin and message), in the order met:
 *  one missing group variable on a fleet is one line. */
function sameErrorGroups(errors: readonly HostSettingProblem[]): (Omit<HostSettingProblem, 'host'> & { hosts: string[] })[] {
  const groups = new Map<string, Omit<HostSettingProblem, 'host'> & { hosts: string[] }>();
  for (const { host, ...problem } of errors) {
    const key = JSON.stringify([problem.variable, problem.origin, problem.message]);
    const group = groups.get(key);
    if (group) group.hosts.push(host);
    else groups.set(key, { ...problem, hosts: [host] });
  }
  return [...groups.values()];
}

/** How many hosts of a group an error line names before "and N more". */
const HOSTS_NAMED = 5;

function hostList(hosts: readonly string[]): string {
  if (hosts.length === 1) return hosts[0]!;
  const named = hosts.slice(0, HOSTS_NAMED).join(', ');
  return hosts.length > HOSTS_NAMED ? `${named} and ${hosts.length - HOSTS_NAMED} more (${hosts.length} hosts)` : named;
}

function line(o: FormatOptions, host: string, status: string, color: Color, text: string): string {
  return paint(o, color, `${host} | ${status} | ${text}`);
}

/**
 * Text from hosts (script output, file contents in diffs, messages) may carry terminal escape
 * sequences or bidi overrides that would rewrite what the admin sees: show them escaped.
 * Newlines and tabs stay; the toolkit's own colours are added after this.
 */
export function escapeControls(text: string): string {
  // eslint-disable-next-line no-control-regex
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is this function's job
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, (c) => {
    const code = c.charCodeAt(0);
    return code > 0xff ? `\\u${code.toString(16).padStart(4, '0')}` : `\\x${code.toString(16).padStart(2, '0')}`;
  });
}

function escapedEvent<T>(value: T): T {
  if (typeof value === 'string') return escapeControls(value) as T;
  if (Array.isArray(value)) return value.map(escapedEvent) as T;
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, escapedEvent(v)])) as T;
  return value;
}

/** Lines for one event (may be none). `t` is the tally before this event was folded in. */
export function formatEvent(event: RunEvent, o: FormatOptions, t: Tally): string[] {
  const e = escapedEvent(event);
  switch (e.type) {
    case 'run-start': {
      const what = e.mode === 'uninstall' ? 'uninstall Trento monitoring' : 'provision Trento monitoring';
      return [`PLAY [${what}]${e.check ? ' (check mode: nothing is changed)' : ''}: ${e.hosts.length} host(s), forks ${e.forks}`];
    }
    case 'settings-errors':
      return sameErrorGroups(e.errors).map((g) => paint(o, 'red', `ERROR ${hostList(g.hosts)}: ${g.variable} (${settingSource(g.origin)}): ${g.message}`));
    case 'phase':
      return o.verbosity >= 1 ? [paint(o, 'gray', `--- ${e.phase} (${e.total} host(s))`)] : [];
    case 'host-unreachable':
      return [line(o, e.host, 'UNREACHABLE', 'red', e.message)];
    case 'host-refused':
      return [line(o, e.host, 'SKIPPED', 'cyan', `refused (${e.product}): ${e.reason}`)];
    case 'host-facts':
      return o.verbosity >= 1
        ? [
            line(
              o,
              e.host,
              'FACTS',
              'gray',
              `${e.product} -> ${e.provider} (${e.mode} mode), agent ID ${e.agentId || 'none (no usable /etc/machine-id; an uninstall needs none)'}`,
            ),
          ]
        : [];
    case 'host-plan': {
      if (!t.check) return [];
      if (wouldChange(e.changes, e.handlers) === 0) return [line(o, e.host, 'OK', 'green', 'nothing to change')];
      const out: string[] = [];
      for (const c of e.changes) {
        out.push(line(o, e.host, 'WOULD CHANGE', 'yellow', c.summary));
        if (o.diff) {
          for (const d of c.details ?? []) out.push(`    ${d}`);
          if (c.diff) out.push(indent(c.diff));
        }
      }
      for (const h of e.handlers) out.push(line(o, e.host, 'WOULD RUN', 'yellow', h));
      return out;
    }
    case 'host-warning':
      return [line(o, e.host, 'WARNING', 'yellow', e.message)];
    case 'change-applied': {
      const out = [line(o, e.host, 'CHANGED', 'yellow', e.summary)];
      // The plan as the tally keeps it, host text (a diff of the host's old file) unescaped: escaped
      // here as the host-plan event was (an account that can write trento.alloy writes that text).
      const found = t.hosts.get(e.host)?.planned.find((c) => c.id === e.id);
      const planned = found && escapedEvent(found);
      if (o.diff && planned) {
        for (const d of planned.details ?? []) out.push(`    ${d}`);
        if (planned.diff) out.push(indent(planned.diff));
      }
      return out;
    }
    case 'change-failed':
      return [line(o, e.host, 'FAILED', 'red', `${e.summary} (exit ${e.rc})`), ...(e.output.trim() ? [indent(e.output)] : [])];
    case 'step-output':
      return o.verbosity >= 1 && e.output.trim() ? [paint(o, 'gray', indent(e.output))] : [];
    case 'host-verified':
      if (e.ok) return o.verbosity >= 1 ? [line(o, e.host, 'VERIFIED', 'green', e.byFacts ? `${e.check} (read with the facts)` : e.check)] : [];
      return [line(o, e.host, 'FAILED', 'red', `check failed: ${e.check}`), ...(e.output?.trim() ? [indent(e.output)] : [])];
    case 'host-done':
      if (e.status === 'ok') return [line(o, e.host, 'OK', 'green', t.check ? 'checked' : 'up to date')];
      if (e.status === 'changed') {
        return [line(o, e.host, 'DONE', 'yellow', t.check ? `${e.changed} change(s) would be made` : `${e.changed} change(s) applied and verified`)];
      }
      if (e.status === 'failed' && e.message) return [line(o, e.host, 'FAILED', 'red', e.message)];
      // Stopped by settings errors: the errors and the line under them say it once, not per host.
      if (e.status === 'skipped' && e.message && t.settingsErrors.length === 0) return [line(o, e.host, 'SKIPPED', 'cyan', e.message)];
      return [];
    case 'host-connect':
      return o.verbosity >= 4 ? [line(o, e.host, 'CONNECT', 'gray', 'connection as resolved'), paint(o, 'gray', indent(e.details.join('\n')))] : [];
    case 'host-exec':
      // The body and output are functions (built only at this verbosity), which escapedEvent
      // passes through: what they return is a host's text and is escaped here.
      return o.verbosity >= 2 ? [line(o, e.host, 'EXEC', 'gray', `${e.script} script: ${e.command}`), ...detail(o, escapeControls(e.body()))] : [];
    case 'host-exec-result':
      return o.verbosity >= 3
        ? [line(o, e.host, 'OUTPUT', 'gray', `${e.script} script exited ${e.code ?? '(connection lost)'}`), ...detail(o, escapeControls(e.output()))]
        : [];
    case 'trento-view-start':
      return o.verbosity >= 1 ? [paint(o, 'gray', `--- asking Trento's Prometheus at ${e.url} (auth ${e.auth}) for up{agentID} of each host`)] : [];
    case 'trento-view-host':
      // A failed proof is the host's FAILED line (host-done); a passing one is shown here.
      return e.proof.ok ? [line(o, e.host, 'VERIFIED', 'green', `Trento's Prometheus: ${e.proof.message}`)] : [];
    case 'trento-view-error':
      return [paint(o, 'red', `ERROR ${e.message}`)];
    case 'interrupted':
      return [paint(o, 'red', `INTERRUPTED: ${e.message}`)];
    case 'waves': {
      const by = [e.serial !== null ? `--serial ${e.serial}` : '', e.maxFailPercentage !== null ? `--max-fail-percentage ${e.maxFailPercentage}` : ''].filter(
        Boolean,
      );
      return [
        `ROLLOUT: ${e.waves.length} wave(s) (${by.join(', ')})${e.waves.length > 1 ? '; each is applied and verified before the next starts' : ''}`,
        ...e.waves.map((w, i) => `  wave ${i + 1}/${e.waves.length}: ${w.join(', ')}`),
      ];
    }
    case 'wave-start':
      return [paint(o, 'cyan', `WAVE [${e.wave}/${e.of}]: ${e.hosts.join(', ')}`)];
    case 'wave-end':
      if (e.stopped) return [paint(o, 'red', `WAVE ${e.wave} ${t.check ? 'would stop' : 'stopped'} the rollout: ${e.stopped}`)];
      return t.check
        ? []
        : [
            paint(
              o,
              e.failed ? 'yellow' : 'green',
              `WAVE ${e.wave} done: ${e.size - e.failed - e.skipped} of ${e.size} host(s) converged and verified, ${e.skipped} skipped, ${e.failed} failed`,
            ),
          ];
    case 'rollout-stopped':
      return [
        paint(
          o,
          'red',
          `ROLLOUT ${t.check ? 'WOULD STOP' : 'STOPPED'}: ${e.reason}; later waves ${t.check ? 'would not start' : 'do not start'}` +
            (e.notStarted.length ? `; not started: ${e.notStarted.join(', ')}` : ''),
        ),
      ];
    case 'run-end':
      return [];
  }
}

/** The PLAY RECAP, in Ansible's layout. */
export function formatRecap(t: Tally, o: FormatOptions): string[] {
  const out = ['', `PLAY RECAP ${'*'.repeat(69)}`];
  for (const r of t.hosts.values()) {
    const n = (k: string, v: number) => `${k}=${String(v).padEnd(4)}`;
    const changed = t.check ? wouldChange(r.planned, r.handlers) : r.applied.length;
    const text =
      `${r.host.padEnd(26)} : ${n('ok', r.ok + (r.status === 'ok' || r.status === 'changed' ? 1 : 0))} ${n('changed', changed)} ` +
      `${n('unreachable', r.status === 'unreachable' ? 1 : 0)} ${n('failed', r.status === 'failed' ? 1 : 0)} ` +
      `${n('skipped', r.status === 'skipped' ? 1 : 0)} rescued=0    ignored=0`;
    const color = r.status === 'failed' || r.status === 'unreachable' ? 'red' : changed ? 'yellow' : r.status === 'skipped' ? 'cyan' : 'green';
    out.push(paint(o, color, text));
  }
  out.push(...formatRolloutRecap(t, o));
  // Ansible's template search path made visible: which hosts got a site's own template.
  const bySite = new Map<string, string[]>();
  for (const r of t.hosts.values()) for (const p of r.siteTemplates) bySite.set(p, [...(bySite.get(p) ?? []), r.host]);
  for (const [path, hosts] of bySite) out.push(`site template ${path}: ${hosts.join(', ')}`);
  out.push(...formatTrentoView(t, o));
  return out;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;

/** --verify-prometheus: what Trento sees, one line per host it was asked about, or its one error. */
function formatTrentoView(t: Tally, o: FormatOptions): string[] {
  const view = t.trentoView;
  if (!view) return [];
  const head = `TRENTO VIEW (up{agentID} at ${view.url}, auth ${view.auth}) `;
  const out = ['', escapeControls(head.padEnd(80, '*'))];
  if (view.error) out.push(paint(o, 'red', `ERROR ${escapeControls(view.error.message)}`));
  for (const r of t.hosts.values()) {
    const p = r.trento;
    if (!p) continue;
    const text = p.ok
      ? `${r.host.padEnd(26)} : ${p.exporterName} up=1 (sample ${p.sampleAt}, after ${seconds(p.waitedMs)})`
      : `${r.host.padEnd(26)} : ${p.exporterName} FAILED ${p.reason}: ${p.message} (waited ${seconds(p.waitedMs)}; limit ${seconds(p.limitMs)})`;
    out.push(paint(o, p.ok ? 'green' : 'red', escapeControls(text)));
  }
  // Trento is asked only about hosts that passed their own checks: the others are named, or a
  // run whose every host failed would end on an empty section.
  const notAsked = view.error ? [] : [...t.hosts.values()].filter((r) => !r.trento).map((r) => `${r.host} (${r.status ?? 'not run'})`);
  if (notAsked.length) out.push(paint(o, 'cyan', escapeControls(`not asked (only hosts that passed their own checks are): ${notAsked.join(', ')}`)));
  return out;
}

/** The waves under the recap: what each wave came to, and the hosts never started. */
function formatRolloutRecap(t: Tally, o: FormatOptions): string[] {
  const r = t.rollout;
  if (!r) return [];
  const label = {
    done: 'done',
    stopped: t.check ? 'would stop' : 'stopped',
    'not-started': t.check ? 'would not start' : 'not started',
    checked: 'checked',
  } as const;
  // The reason may quote a server (Prometheus' answer, when Trento's side could not be asked).
  const out = [
    `waves: ${r.waves.length}${r.stopped ? `; ${t.check ? 'the rollout would stop' : 'the rollout stopped'}: ${escapeControls(r.stopped.reason)}` : ''}`,
  ];
  for (const w of r.waves) {
    // As the recap names its hosts, a wave that never started included (its hosts' facts).
    const withStatus = (status: string) => w.hosts.filter((h) => t.hosts.get(h)?.status === status).length;
    const unreachable = withStatus('unreachable');
    const failedOnly = withStatus('failed');
    const counts = [failedOnly > 0 ? `${failedOnly} failed` : '', unreachable > 0 ? `${unreachable} unreachable` : ''].filter(Boolean).join(', ');
    const text = `  wave ${w.wave}: ${label[w.status].padEnd(15)} ${w.hosts.join(', ')}${counts ? ` (${counts})` : ''}`;
    out.push(paint(o, w.status === 'stopped' ? 'red' : w.status === 'not-started' ? 'cyan' : 'green', text));
  }
  if (r.notStarted.length) {
    out.push(paint(o, 'cyan', `${t.check ? 'would not be started' : 'not started (nothing changed on them)'}: ${r.notStarted.join(', ')}`));
  }
  return out;
}
