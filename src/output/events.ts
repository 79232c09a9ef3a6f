// One stream of events feeds every output: the live display (ora or plain lines), the recap
// and the JSON report. Like zx's log.ts: a union of kinds, one formatter each elsewhere.
import type { SettingProblem } from '../inventory/errors.ts';
import type { Proof } from '../verify/types.ts';

export type RunMode = 'install' | 'uninstall';
export type HostStatus = 'ok' | 'changed' | 'failed' | 'unreachable' | 'skipped';

export interface PlannedChange {
  id: string;
  summary: string;
  details?: string[];
  diff?: string;
}

/** A settings problem and the host it is a problem of ("all": the whole run's). */
export type HostSettingProblem = SettingProblem & { host: string };

export type RunEvent =
  | { type: 'run-start'; mode: RunMode; check: boolean; hosts: string[]; forks: number }
  // Every settings error of one check of the run's hosts, at once: the display groups the hosts
  // that share an error (one missing group variable is one line, not one per host).
  | { type: 'settings-errors'; errors: HostSettingProblem[] }
  | { type: 'phase'; phase: 'facts' | 'plan' | 'apply' | 'verify'; total: number }
  | { type: 'host-unreachable'; host: string; message: string }
  | { type: 'host-refused'; host: string; product: string; reason: string }
  | { type: 'host-facts'; host: string; product: string; provider: string; mode: string; agentId: string }
  | { type: 'host-plan'; host: string; changes: PlannedChange[]; handlers: string[]; siteTemplates?: string[] }
  | { type: 'host-warning'; host: string; message: string }
  | { type: 'change-applied'; host: string; id: string; summary: string }
  | { type: 'change-failed'; host: string; id: string; summary: string; rc: number; output: string }
  | { type: 'step-output'; host: string; id: string; output: string } // -v: what a step printed
  | { type: 'host-verified'; host: string; check: string; ok: boolean; output?: string; byFacts?: true }
  | { type: 'host-done'; host: string; status: HostStatus; changed: number; roundTrips: number; message?: string }
  // Verbose detail (printed from -vv, -vvv, -vvvv; see verbose.ts), already free of secrets. The
  // script and its output are made printable only when shown (functions: every host emits them,
  // and below -vv rendering the 20 KB facts script and decoding its output again was wasted
  // work); what they return is free of secrets too.
  | { type: 'host-connect'; host: string; details: string[] }
  | { type: 'host-exec'; host: string; script: 'facts' | 'apply'; command: string; body: () => string }
  | { type: 'host-exec-result'; host: string; script: 'facts' | 'apply'; code: number | null; output: () => string }
  // --verify-prometheus: what Trento's Prometheus answers per host, or its one error for the run.
  | { type: 'trento-view-start'; url: string; auth: string }
  | { type: 'trento-view-host'; host: string; proof: Proof }
  | { type: 'trento-view-error'; kind: 'unreachable' | 'auth-refused' | 'bad-answer'; message: string }
  | { type: 'interrupted'; message: string }
  // Waves (--serial, --max-fail-percentage; src/rollout/): the plan of waves, then each wave.
  | { type: 'waves'; serial: string | null; maxFailPercentage: number | null; waves: string[][] }
  | { type: 'wave-start'; wave: number; of: number; hosts: string[] }
  | { type: 'wave-end'; wave: number; size: number; failed: number; skipped: number; stopped?: string }
  /** Later waves do not start: `wave` stopped the rollout (null: interrupted between waves). */
  | { type: 'rollout-stopped'; wave: number | null; reason: string; notStarted: string[] }
  | { type: 'run-end'; exitCode: number; durationMs: number };

export type Emit = (event: RunEvent) => void;
