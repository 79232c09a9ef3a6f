// Per-host results, folded from the event stream. The recap, the JSON report and the exit code
// all read this, so they cannot disagree.
import type { HostStatus, PlannedChange, RunEvent, RunMode } from './events.ts';
import type { Proof } from '../verify/types.ts';

export interface HostResult {
  host: string;
  status: HostStatus;
  product?: string;
  provider?: string;
  mode?: string;
  agentId?: string;
  planned: PlannedChange[];
  /** Handlers the plan notifies (restarts, reloads): in check mode a pending one alone is drift. */
  handlers: string[];
  applied: string[]; // change ids
  failed?: { id: string; summary: string; rc: number; output: string };
  warnings: string[];
  checks: { check: string; ok: boolean; output?: string; byFacts?: true }[];
  message?: string;
  roundTrips: number;
  ok: number;
  /** Site templates (paths) this host's files were rendered from, instead of the roles' own. */
  siteTemplates: string[];
  /** --verify-prometheus: what Trento's Prometheus answered for this host. */
  trento?: Proof;
}

/** --verify-prometheus for the whole run: where it asked, and Prometheus' own failure if any. */
export interface TrentoViewResult {
  url: string;
  auth: string;
  error: { kind: string; message: string } | null;
}

export type WaveOutcome = 'done' | 'stopped' | 'not-started' | 'checked';

/** The rollout in waves, when --serial or --max-fail-percentage was given. */
export interface Rollout {
  serial: string | null;
  maxFailPercentage: number | null;
  waves: { wave: number; hosts: string[]; status: WaveOutcome; failed: number }[];
  /** The wave that stopped the rollout (null: interrupted between waves) and why. */
  stopped: { wave: number | null; reason: string } | null;
  /** Hosts whose wave never started (in --check: would not start). */
  notStarted: string[];
}

export interface Tally {
  mode: RunMode;
  check: boolean;
  hosts: Map<string, HostResult>;
  settingsErrors: { host: string; variable: string; origin: string; message: string }[];
  interrupted: boolean;
  rollout: Rollout | null;
  trentoView: TrentoViewResult | null;
  /** Wall-clock times (epoch ms) of run-start, each phase start and run-end, when the caller
   *  gives fold() a clock: where a run's time goes (the benchmark reads them from --json). */
  timeline: { mark: string; at: number }[];
}

export function newTally(): Tally {
  return { mode: 'install', check: false, hosts: new Map(), settingsErrors: [], interrupted: false, rollout: null, trentoView: null, timeline: [] };
}

function host(t: Tally, name: string): HostResult {
  let r = t.hosts.get(name);
  if (!r) {
    r = { host: name, status: 'ok', planned: [], handlers: [], applied: [], warnings: [], checks: [], roundTrips: 0, ok: 0, siteTemplates: [] };
    t.hosts.set(name, r);
  }
  return r;
}

export function fold(t: Tally, e: RunEvent, at?: number): void {
  if (at !== undefined && (e.type === 'run-start' || e.type === 'phase' || e.type === 'run-end')) {
    t.timeline.push({ mark: e.type === 'phase' ? e.phase : e.type, at });
  }
  switch (e.type) {
    case 'run-start':
      t.mode = e.mode;
      t.check = e.check;
      for (const h of e.hosts) host(t, h);
      break;
    case 'settings-errors':
      for (const x of e.errors) t.settingsErrors.push({ host: x.host, variable: x.variable, origin: x.origin, message: x.message });
      break;
    case 'host-unreachable':
      Object.assign(host(t, e.host), { status: 'unreachable', message: e.message });
      break;
    case 'host-refused':
      Object.assign(host(t, e.host), { status: 'skipped', product: e.product, message: e.reason });
      break;
    case 'host-facts':
      Object.assign(host(t, e.host), { product: e.product, provider: e.provider, mode: e.mode, agentId: e.agentId });
      break;
    case 'host-plan':
      Object.assign(host(t, e.host), { planned: e.changes, handlers: e.handlers, siteTemplates: e.siteTemplates ?? [] });
      break;
    case 'host-warning':
      host(t, e.host).warnings.push(e.message);
      break;
    case 'change-applied': {
      const r = host(t, e.host);
      r.applied.push(e.id);
      // A summary the step amended (what it found done already) is what the reports say too.
      r.planned = r.planned.map((c) => (c.id === e.id && c.summary !== e.summary ? { ...c, summary: e.summary } : c));
      r.ok++;
      break;
    }
    case 'change-failed':
      host(t, e.host).failed = { id: e.id, summary: e.summary, rc: e.rc, output: e.output };
      break;
    case 'host-verified': {
      const r = host(t, e.host);
      r.checks.push({ check: e.check, ok: e.ok, ...(e.output ? { output: e.output } : {}), ...(e.byFacts ? { byFacts: true as const } : {}) });
      if (e.ok) r.ok++;
      break;
    }
    case 'host-done':
      Object.assign(host(t, e.host), { status: e.status, roundTrips: e.roundTrips, ...(e.message ? { message: e.message } : {}) });
      break;
    case 'trento-view-start':
      t.trentoView = { url: e.url, auth: e.auth, error: null };
      break;
    case 'trento-view-host': {
      const r = host(t, e.host);
      r.trento = e.proof;
      if (e.proof.ok) r.ok++;
      break;
    }
    case 'trento-view-error':
      if (t.trentoView) t.trentoView.error ??= { kind: e.kind, message: e.message };
      break;
    case 'interrupted':
      t.interrupted = true;
      break;
    case 'waves':
      t.rollout = {
        serial: e.serial,
        maxFailPercentage: e.maxFailPercentage,
        waves: e.waves.map((hosts, i) => ({ wave: i + 1, hosts, status: 'not-started', failed: 0 })),
        stopped: null,
        notStarted: [],
      };
      break;
    case 'wave-end': {
      const w = t.rollout?.waves[e.wave - 1];
      if (w) Object.assign(w, { status: e.stopped ? 'stopped' : t.check ? 'checked' : 'done', failed: e.failed });
      break;
    }
    case 'rollout-stopped':
      if (t.rollout) Object.assign(t.rollout, { stopped: { wave: e.wave, reason: e.reason }, notStarted: e.notStarted });
      break;
    default:
      break;
  }
}

export interface ExitPolicy {
  /** --detailed-exitcode (only with --check, see args.ts): drift exits 2, like `terraform plan -detailed-exitcode`. */
  detailed?: boolean;
}

/** Hosts a --check run found would change (a pending handler alone counts, as in the recap). */
export function driftedHosts(t: Tally): string[] {
  return t.check ? [...t.hosts.values()].filter((h) => h.status === 'changed').map((h) => h.host) : [];
}

/**
 * What a --check run counts as a host's changes: its planned changes, or, where there are none,
 * the handlers an earlier run left pending (a restart it was cut before): drift all the same.
 * The host's line, the recap, the reports and run/index.ts all count with this.
 */
export const wouldChange = (changes: readonly unknown[], handlers: readonly unknown[]): number => changes.length || handlers.length;

/**
 * Ansible's exit codes, first match wins: 1 settings errors, 99 interrupted, 4 a host
 * unreachable, 2 a host failed (or Trento's Prometheus could not be asked for the proof
 * --verify-prometheus wanted); then, with --check --detailed-exitcode only, 2 when a host
 * would change; else 0. Drift never hides a failure: an unreachable host still gives 4, and a
 * failed host gives 2 with or without drift (the reports tell the two apart).
 */
export function exitCode(t: Tally, policy: ExitPolicy = {}): number {
  if (t.settingsErrors.length) return 1;
  if (t.interrupted) return 99;
  const statuses = [...t.hosts.values()].map((h) => h.status);
  if (statuses.includes('unreachable')) return 4;
  if (statuses.includes('failed') || t.trentoView?.error) return 2;
  if (policy.detailed && driftedHosts(t).length > 0) return 2;
  return 0;
}
