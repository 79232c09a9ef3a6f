// The data a plan is made of. A plan is computed for every host from facts and settings
// before anything runs; check mode prints it, apply mode turns it into one script.
import type { Command } from '../exec/command.ts';
import type { Check } from './checks.ts';
import type { HostFacts } from '../facts/types.ts';
import type { SupportedPlatform } from '../platform.ts';
import type { HostSettings } from '../settings/host-settings.ts';
import type { TemplateSet } from '../render/template-search.ts';

/** Handlers run once, after every change, in this order (like Ansible's handlers). systemd and
 *  the trust store first: a restart after them reads the new unit and the new CA. */
export const HANDLER_ORDER = [
  'reload systemd units',
  'rebuild trust store',
  'restart node_exporter',
  'restart alloy',
  'reload alloy',
  'restart trento-agent',
] as const;
export type HandlerName = (typeof HANDLER_ORDER)[number];

/** A restart of a service makes its reload pointless (and clears a pending reload). */
export const SUPERSEDES: Partial<Record<HandlerName, HandlerName>> = { 'restart alloy': 'reload alloy' };

export const isRetire = (c: Change): boolean => c.phase === 'retire';

/** Does the host need the apply script (changes, or handlers left over from an earlier run)? */
export const needsApply = (plan: HostPlan): boolean => plan.changes.length > 0 || plan.handlers.length > 0;

export const isHandlerName = (name: string): name is HandlerName => (HANDLER_ORDER as readonly string[]).includes(name);

export type ChangeKind = 'packages' | 'file' | 'line' | 'service' | 'handler';

/**
 * When a change runs. 'converge' (the default): with the others, before the handlers. 'retire':
 * it takes away what the new setup replaces (the node_exporter a SLES 15 -> 16 host no longer
 * needs), so it runs only once the new setup is proven: after every handler and after the plan's
 * checks, and only if all of them succeeded. A host whose new setup fails keeps its old one, and
 * the next run plans the retire again (nothing it reads from the host has changed).
 */
export type ChangePhase = 'converge' | 'retire';

export interface Change {
  id: string; // stable: "file:/etc/trento/agent.yaml", "packages:install", "service:alloy.service"
  kind: ChangeKind;
  /** The file a 'file' change writes, removes or records (a file the facts found unusable fails
   *  the host only when a change touches it). */
  path?: string;
  summary: string; // one line for people, never holding a secret
  details?: string[]; // for --diff: packages to install, units to enable, ...
  diff?: string; // unified diff with secrets masked
  script: Command; // the shell that makes the change (a step of the apply script)
  notify?: HandlerName[];
  /** A handler this change runs itself, at once (daemon-reload right after a unit drop-in
   *  changed: the later steps start the unit). Like the notified ones it is recorded on the host
   *  before the change, and its record cleared once it ran: a change cut short after its write
   *  leaves it to the next run, which runs it as a handler. */
  followUp?: HandlerName;
  phase?: ChangePhase; // 'converge' when absent
  /** A 'service' change's steps (ops.ts service()), for the planner to leave a start to a handler. */
  service?: ServiceSteps;
}

/** What a 'service' change does to its unit. */
export interface ServiceSteps {
  unit: string;
  enable: boolean;
  disable: boolean;
  start: boolean;
  stop: boolean;
  /** The handler that starts the unit instead of `start` (see Handler.restarts). */
  startedBy?: HandlerName;
  /** An admin's unit first changed by the toolkit: its state before ("UNIT ENABLED ACTIVE"),
   *  recorded on the host first, for uninstall to put back (unitPrior, ops.ts). */
  recordState?: string;
  /** That record's line, forgotten once the unit is back as it was (uninstall). */
  forgetState?: string;
}

export interface Handler {
  name: HandlerName;
  summary: string;
  script: Command;
  /** The unit this handler restarts, checking it runs afterwards: a restart starts a stopped unit,
   *  so a plan that starts the unit and also restarts it leaves the start to this handler. */
  restarts?: string;
}

/** Whether a change shows its diff (--diff, [diff] always), and with how many lines of context
 *  ([diff] context, 3 as in Ansible). */
export type DiffRequest = false | { context: number };

/** A role's context: everything a task may look at. */
export interface TaskContext {
  host: string;
  facts: HostFacts;
  platform: SupportedPlatform;
  agentId: string;
  /** The host's agent.yaml keys and role switches, resolved and validated by the settings
   *  layer (defaults, Jinja, -e): roles never read inventory variables themselves. */
  settings: HostSettings;
  agentHasGenerateAlloy: boolean; // installed (or about to be installed) trento-agent 3.1.x: generate alloy, output checked
  withDiff: DiffRequest;
  purge: boolean;
  /** Which file each role template is loaded from (a site's own first); the roles' when absent. */
  templates?: TemplateSet;
}

export interface HostPlan {
  host: string;
  changes: Change[];
  handlers: Handler[]; // only the notified ones, in HANDLER_ORDER
  /** Checks run after apply, or alone when nothing changed: prove the result on the host. */
  checks: Check[];
  /** Checks of what the 'retire' changes did: run after them (alone, like checks, when nothing changed). */
  retiredChecks: Check[];
  warnings: string[];
  /** Why the plan cannot be applied on this host (a unit it must enable or start that the admin
   *  masked): the host fails with these before any change, in --check too. */
  refusals: string[];
  /** The host's apply generation its facts saw ('' none): its apply script runs only while it is
   *  still that one, so a plan made before another run changed the host is never applied. */
  basedOn: string;
}

/** A role (roles/<name>/tasks/main.ts): what it wants on a host, to install or to uninstall. */
export interface Role {
  install(ctx: TaskContext): RoleTasks;
  uninstall(ctx: TaskContext): RoleTasks;
}

/** What a role wants on a host. Packages of all roles become one zypper call, run first. */
export interface RoleTasks {
  installPackages?: string[];
  /** For installPackages: what the admin can do when no enabled repository has one (named in the failure). */
  whenMissing?: Readonly<Record<string, string>>;
  /** zypper refresh before installing (only when one of this role's packages is missing). */
  refreshBeforeInstall?: boolean;
  removePackages?: string[];
  changes: (Change | null)[];
  handlers?: Handler[]; // what the role's changes may notify
  /** Handlers due though no change of this run notifies them: what the host runs is not what its
   *  files say (read by the facts' probes; a --check reads Alloy's part of them, so its plan
   *  shows such a reload too). */
  dueHandlers?: HandlerName[];
  /** Checks that prove the role's result on the host, run with the plan's own (see HostPlan.checks). */
  checks?: Check[];
  /** Checks of the role's 'retire' changes: they can only pass once those ran (see ChangePhase). */
  retiredChecks?: Check[];
  /** What the admin should know about this host's plan (never holding a secret). */
  warnings?: string[];
  /** Why the host cannot be given this plan: it fails before any change (HostPlan.refusals). */
  refusals?: string[];
}
