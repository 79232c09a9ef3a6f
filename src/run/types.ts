// The run's shared types: its options, and one record per host that each phase narrows
// (HostRecord -> ReachedHost -> PlannedHost), so no phase needs a non-null assertion.
import type { SecretSet } from '../output/redact.ts';
import type { ConnectionDefaults, ConnectionSpec } from '../exec/connection.ts';
import type { Session } from '../exec/session.ts';
import type { HostFacts } from '../facts/types.ts';
import type { Emit, HostStatus } from '../output/events.ts';
import type { SupportedPlatform } from '../platform.ts';
import type { TemplateSet } from '../render/template-search.ts';
import type { HostPlan } from '../plan/types.ts';
import type { AgentConfig } from '../settings/agent-config.ts';
import type { HostSettings } from '../settings/host-settings.ts';
import type { SettingProblem } from '../inventory/errors.ts';
import type { loadRoleDefaults } from '../settings/defaults.ts';
import type { PlayView } from '../settings/discovery.ts';
import type { SerialItem } from '../rollout/waves.ts';
import type { VerifyPrometheusOptions } from '../verify/run-proof.ts';

export interface RunOptions {
  /** The play's hosts after --limit, in the play's order (limitHosts, in the CLI). */
  hosts: string[];
  /** --limit as given, for messages. */
  limit?: string;
  check: boolean;
  diff: boolean;
  diffContext: number; // lines of context around a diff's changes
  forks: number;
  extraVars: { vars: Record<string, unknown>; origins: Record<string, string> };
  uninstall: boolean;
  purge: boolean;
  connection: ConnectionDefaults;
  /** Ansible's control_path_dir: where the run's private folder of OpenSSH control sockets goes. */
  controlPathDir?: string;
  zyppLockTimeoutSeconds: number;
  /** -v: each step's output is sent back and shown, not only a failed one's. */
  stepOutput?: boolean;
  /** Most a host may send for one script (stdout); past it the host fails. */
  maxHostOutputBytes?: number;
  /** First Ctrl-C: start nothing new, let hosts in flight finish their script. */
  stop: AbortSignal;
  /** Second Ctrl-C: drop every connection now (remote scripts still finish atomically). */
  abort: AbortSignal;
  /** --syntax-check: stop after the settings every host can be checked for without a connection. */
  settingsOnly?: boolean;
  /** Where each role template is loaded from (a site's own first; see template-search.ts). */
  templates?: TemplateSet;
  /** --serial: hosts in waves, each applied and verified before the next (Ansible's serial). */
  serial?: SerialItem[];
  /** --max-fail-percentage: later waves do not start past it (Ansible's max_fail_percentage). */
  maxFailPercentage?: number;
  /** --verify-prometheus: after each host's rollout, ask Trento's Prometheus for its up{agentID}. */
  verifyPrometheus?: VerifyPrometheusOptions;
}

export interface RunSinkHooks {
  emit: Emit;
  /** The sink's one secret list; the run adds each host's credentials before its first event. */
  secrets: Pick<SecretSet, 'add'>;
}

/**
 * One selected host through the run: its inventory view, then what each phase adds. The
 * phases hand on narrower types (ReachedHost, PlannedHost) built on the same object, so the
 * rollout, the tally and the clean-up all see one record per host.
 */
export interface HostRecord {
  name: string;
  vars: Record<string, unknown>;
  origins: Record<string, string>;
  /** The inventory as the play sees it from this host (groups, other hosts' variables). */
  play: PlayView;
  session?: Session;
  /** Round trips of the sessions before `session` (a facts read tried again, ansible_ssh_retries). */
  earlierRoundTrips?: number;
  plan?: HostPlan;
  /** Set once, by finish(): the host's outcome. */
  status?: HostStatus;
}

/** A supported host whose facts were read, and what planning made of them (not shown yet). */
export type ReachedHost = HostRecord & {
  session: Session;
  /** What the session was opened with: the one reading of the host's connection variables that
   *  the later round trips (their time limit, the command line -vv shows) use too. */
  spec: ConnectionSpec;
  facts: HostFacts;
  platform: SupportedPlatform;
  agentId: string;
  planning: Planning;
  /** The host's clock minus this machine's (ms), from the clock the facts ended with
   *  (src/facts/sources/clock.ts; never too small by more than the return trip): what a push
   *  host stamps its samples with. */
  clockSkewMs?: number;
};
/** One host's settings and plan, or why it has none: its settings, or a site template, wrong. */
export type Planning =
  | { stage: 'settings' | 'template'; errors: SettingProblem[] }
  | { stage: 'planned'; settings: HostSettings; plan: HostPlan; siteTemplates: string[] };
/** A host with its validated agent settings and its plan: what apply needs. */
export type PlannedHost = ReachedHost & { config: AgentConfig; plan: HostPlan };

/** What every phase shares: the options, the event stream, and the one way a host ends. */
export interface RunContext {
  options: RunOptions;
  emit: Emit;
  defaults: ReturnType<typeof loadRoleDefaults>;
  finish(h: HostRecord, status: HostStatus, message?: string): void;
}

/** Why a host failed on an error nothing expected (a full disk or a file limit on this machine,
 *  a fault of the toolkit's): that host alone fails, with the error, and the others go on. */
export function unexpectedFailure(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return `stopped by an unexpected error on this machine: ${message} (the other hosts went on; unless this machine caused it, a full disk say, please report it)`;
}
