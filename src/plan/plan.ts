// The planner: from one host's facts and settings to its full plan, before anything runs.
// Roles give desired state; packages of all roles become one zypper call at the front; handlers
// run once at the end, a restart standing in for a reload of the same service. What proves the
// result (the checks) is in checks.ts.
import { join, raw, sh } from '../exec/command.ts';
import { AGENT_GENERATE_ALLOY_CHECKED_BELOW, AGENT_GENERATE_ALLOY_SINCE, PACKAGES, PATHS, UNITS } from '../facts/paths.ts';
import type { HostFacts } from '../facts/types.ts';
import type { SupportedPlatform } from '../platform.ts';
import { providerChecks } from './checks.ts';
import {
  installedByToolkit,
  leftoversRemoved,
  maskedUnitsInTheWay,
  packagesInstalled,
  packagesKept,
  packagesRecordPruned,
  packagesRemoved,
  packagesUpgraded,
  serviceChange,
  unitsRecordPruned,
} from './ops.ts';
import {
  type Change,
  type DiffRequest,
  HANDLER_ORDER,
  isRetire,
  type Handler,
  type HandlerName,
  type HostPlan,
  isHandlerName,
  type Role,
  type RoleTasks,
  SUPERSEDES,
  type TaskContext,
} from './types.ts';
import type { TemplateSet } from '../render/template-search.ts';
import { type HostSettings, upgradesPackages } from '../settings/host-settings.ts';

export interface PlanInput {
  /** The host's roles in order (roles/index.ts decides them by metrics provider). */
  roles: readonly Role[];
  /** Handlers a pending record of an earlier run may name even if nothing notifies them now. */
  alwaysAvailableHandlers: readonly Handler[];
  host: string;
  facts: HostFacts;
  platform: SupportedPlatform;
  agentId: string;
  /** The host's validated settings (src/settings/host-settings.ts); packageState 'latest' also
   *  upgrades the roles' installed packages (facts.updates). */
  settings: HostSettings;
  withDiff: DiffRequest;
  uninstall: boolean;
  purge: boolean;
  templates?: TemplateSet;
}

/** Compares dotted versions numerically ("3.10.0" > "3.9.1"); the release part is ignored, and
 *  so is an epoch ("1:3.1.0", as zypper prints a candidate's; rpm's %{VERSION} has none). */
export function versionAtLeast(version: string, minimum: string): boolean {
  const parts = (v: string) =>
    v
      .replace(/^\d+:/, '')
      .split('-')[0]!
      .split('.')
      .map((n) => parseInt(n, 10) || 0);
  const a = parts(version);
  const b = parts(minimum);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d > 0;
  }
  return true;
}

/** The trento-agent the host runs after this run: the installed one, its update (--upgrade), or the one the install takes. */
function agentVersionAfter(facts: HostFacts, upgrading: boolean): string | undefined {
  const installed = facts.packages[PACKAGES.agent];
  return (upgrading && installed ? facts.updates?.[PACKAGES.agent] : undefined) ?? installed ?? facts.agentCandidateVersion;
}

/** That agent has `generate alloy` and its output is the toolkit's template (checked releases only). */
export function agentHasGenerateAlloy(facts: HostFacts, upgrading = false): boolean {
  const version = agentVersionAfter(facts, upgrading);
  return version !== undefined && versionAtLeast(version, AGENT_GENERATE_ALLOY_SINCE) && !versionAtLeast(version, AGENT_GENERATE_ALLOY_CHECKED_BELOW);
}

/**
 * A restart handler that will run starts its unit when it is stopped, and checks it runs (and, for
 * Alloy, that it runs Trento's pipeline, or puts the files back). A change that also starts the
 * unit would start it twice, the second time only to read what the first had read: a cold host
 * started Alloy and the agent twice each. The handler alone starts such a unit, after the other
 * changes; the change says which handler starts it. Should a failing step keep that handler from
 * running, the apply script starts the unit itself (tp_fail_exit, lib.sh).
 */
function startsLeftToRestarts(changes: Change[], handlers: Handler[]): Change[] {
  const restartedBy = new Map(handlers.flatMap((h) => (h.restarts ? [[h.restarts, h.name] as const] : [])));
  return changes.flatMap((change) => {
    const steps = change.service;
    const handler = steps?.start ? restartedBy.get(steps.unit) : undefined;
    if (!steps || !handler) return [change];
    const deferred = serviceChange({ ...steps, startedBy: handler });
    return deferred ? [{ ...change, ...deferred }] : [];
  });
}

/** A change that writes, removes or adopts a file the facts could not use (FileFact.unusable):
 *  the host is refused with why, before any change. */
function unusableFilesTouched(changes: Change[], facts: HostFacts): string[] {
  const touched = new Set(changes.map((c) => c.path));
  return Object.values(facts.files).flatMap((f) => (f.unusable !== undefined && touched.has(f.path) ? [f.unusable] : []));
}

/**
 * The facts script asks the repositories for trento-agent only on hosts whose os-release major can
 * get Alloy (agent-candidate.sh reads it as src/platform.ts does). Should the two readings ever
 * differ, an Alloy host would be planned without knowing which agent it gets: refused, not guessed.
 */
function candidateNotAsked(input: PlanInput): string[] {
  const major = input.facts.agentCandidateSkippedForMajor;
  if (major === undefined || input.uninstall || input.platform.provider !== 'alloy' || input.facts.packages[PACKAGES.agent]) return [];
  return [
    `the facts script read os-release's major version as ${major} and did not ask the repositories for trento-agent, but this host is ${input.platform.product} and gets Alloy: the plan cannot know which trento-agent it installs; check VERSION_ID in /etc/os-release (and report it as a bug of trento-provision)`,
  ];
}

export function planHost(input: PlanInput): HostPlan {
  const upgrading = upgradesPackages(input.settings.packageState, input.uninstall);
  const ctx: TaskContext = {
    host: input.host,
    facts: input.facts,
    platform: input.platform,
    agentId: input.agentId,
    settings: input.settings,
    agentHasGenerateAlloy: agentHasGenerateAlloy(input.facts, upgrading),
    withDiff: input.withDiff,
    purge: input.purge,
    ...(input.templates ? { templates: input.templates } : {}),
  };
  const roles = input.roles;
  const results = input.uninstall ? [...roles].reverse().map((r) => r.uninstall(ctx)) : roles.map((r) => r.install(ctx));
  const missing = (r: RoleTasks) => (r.installPackages ?? []).some((n) => !input.facts.packages[n]);
  const wanted = results.flatMap((r) => r.installPackages ?? []);
  const install = packagesInstalled(wanted, input.facts, {
    whenMissing: Object.assign({}, ...results.map((r) => r.whenMissing ?? {})),
    refresh: results.some((r) => r.refreshBeforeInstall && missing(r)),
  });
  const toRemove = results.flatMap((r) => r.removePackages ?? []);
  // An uninstall removes packages last, once what it changed is proven (Alloy took the
  // configuration left without trento.alloy): a refused reload puts trento.alloy back, and the
  // agent it feeds must still be installed (stopped, the next uninstall takes it).
  const removed = packagesRemoved(toRemove, input.facts);
  const remove = removed && input.uninstall ? { ...removed, phase: 'retire' as const, summary: `${removed.summary} (once the checks pass)` } : removed;
  // Every run, not only uninstall: a package the admin removed and one they install again later
  // (after agent_install_monitoring_dep: false, say) is theirs. One this run installs again stays.
  const pruned = packagesRecordPruned(input.facts, wanted);
  const unitsPruned = unitsRecordPruned(input.facts);
  const upgrade = upgrading ? packagesUpgraded(wanted, input.facts) : null;
  const all = [leftoversRemoved(input.facts), install, upgrade, ...results.flatMap((r) => r.changes), remove, pruned, unitsPruned].filter(
    (c): c is Change => c !== null,
  );
  // Shown (and run) last: what retires the old setup waits for the new one to be proven.
  const ordered = [...all.filter((c) => !isRetire(c)), ...all.filter(isRetire)];

  const available = new Map<HandlerName, Handler>(input.alwaysAvailableHandlers.map((h) => [h.name, h]));
  for (const r of results) for (const h of r.handlers ?? []) available.set(h.name, h);
  // Handlers an earlier run recorded but did not finish (a failed restart, a cut connection)
  // run again, with whatever this run notifies.
  const pending = input.facts.record.pendingHandlers.filter(isHandlerName).filter((n) => available.has(n));
  const notified = new Set([...ordered.flatMap((c) => c.notify ?? []), ...pending, ...results.flatMap((r) => r.dueHandlers ?? [])]);
  // A unit this plan starts has nothing to reload: its reload, notified, becomes its restart,
  // which takes the start (startsLeftToRestarts) and waits for it, once every file is written (a
  // reload right after `systemctl start` asked a service not yet listening, and failed).
  for (const [restart, reload] of Object.entries(SUPERSEDES) as [HandlerName, HandlerName][]) {
    const unit = available.get(restart)?.restarts;
    if (notified.has(reload) && unit !== undefined && ordered.some((c) => c.service?.unit === unit && c.service.start)) notified.add(restart);
  }
  for (const [restart, reload] of Object.entries(SUPERSEDES)) if (notified.has(restart as HandlerName)) notified.delete(reload!);
  // No agent restart on uninstall: the agent is stopped.
  if (input.uninstall) notified.delete('restart trento-agent');
  const handlers = HANDLER_ORDER.filter((n) => notified.has(n))
    .map((n) => available.get(n))
    .filter((h): h is Handler => !!h);
  // A handler an earlier run left pending that this one does not run is forgotten, its record
  // cleared: on uninstall (the agent's restart; Alloy's, once --purge stops it), and on install
  // one no role of this host has now (node_exporter's restart on a host that moved to SLES 16
  // and Alloy), which would otherwise stay in the record for good.
  const recorded = input.facts.record.pendingHandlers.filter(isHandlerName);
  const forgotten = input.uninstall ? recorded.filter((n) => !handlers.some((h) => h.name === n)) : recorded.filter((n) => !available.has(n));
  const why = input.uninstall ? 'nothing to run it for after the uninstall' : 'no role of this host has it now';
  const changes = [
    ...startsLeftToRestarts(ordered, handlers),
    ...(forgotten.length
      ? [
          {
            id: 'record:pending-handlers',
            kind: 'handler' as const,
            summary: `forget the pending ${forgotten.map((n) => `'${n}'`).join(', ')} (recorded by an earlier run that did not finish; ${why})`,
            script: join([raw('tp_handler_done'), ...forgotten.map((n) => sh` ${n}`)], ''),
          },
        ]
      : []),
  ];

  const warnings: string[] = results.flatMap((r) => r.warnings ?? []);
  for (const n of pending.filter((n) => !forgotten.includes(n))) {
    // Said for --check too, and where another run may still be at work on the host (its record is
    // written before its handlers run; this run's apply then fails on the host's lock): "this plan
    // runs it", not "it runs now".
    warnings.push(
      `'${n}' did not finish in an earlier run (it, or the change that notified it, failed or was cut short, or that run is still at work on this host); this plan runs it`,
    );
  }
  if (input.facts.leftoversLive && input.facts.leftovers?.length) {
    warnings.push(
      `another trento-provision run is applying on this host now (it holds the host's lock): the staging folders in ${input.facts.leftovers.join(', ')} are its own, and this plan may be stale when it ends; an apply now stops at that lock (exit 11): run again once it has finished`,
    );
  }
  for (const p of packagesKept(toRemove, input.facts)) {
    warnings.push(`package ${p} was not installed by trento-provision (not in ${PATHS.stateDir}/packages); it stays installed`);
  }
  if (input.platform.provider === 'alloy' && !input.uninstall && !ctx.agentHasGenerateAlloy) {
    const version = agentVersionAfter(input.facts, upgrading);
    warnings.push(
      version !== undefined && versionAtLeast(version, AGENT_GENERATE_ALLOY_CHECKED_BELOW)
        ? `trento-agent ${version} is newer than the releases whose 'generate alloy' output trento-provision was checked against (below ${AGENT_GENERATE_ALLOY_CHECKED_BELOW}); trento.alloy is rendered by the toolkit alone and the agent unit gets no ExecStartPre, so the two never write it in turn`
        : `trento-agent ${version ?? '(version unknown)'} has no 'generate alloy' (needs ${AGENT_GENERATE_ALLOY_SINCE}); trento.alloy is rendered by the toolkit and the agent unit gets no ExecStartPre`,
    );
  }
  // Not where the uninstall stops it (the admin's Alloy back to how it was before the toolkit).
  const alloyStopped = ordered.some((c) => c.service?.unit === UNITS.alloy && c.service.stop === true);
  // Nor where this plan removes it (--purge of the toolkit's own; one it keeps for the admin's
  // pipelines, or the admin's own, runs on and is checked).
  const alloyRemoved = toRemove.includes(PACKAGES.alloy) && installedByToolkit(PACKAGES.alloy, input.facts);
  const alloyKept = !alloyRemoved && !alloyStopped && (Boolean(input.facts.packages[PACKAGES.alloy]) || !input.uninstall);
  const checks = [
    ...providerChecks({ facts: input.facts, platform: input.platform, agent: input.settings.agent, uninstall: input.uninstall, alloyKept }),
    ...results.flatMap((r) => r.checks ?? []),
  ];
  const retiredChecks = results.flatMap((r) => r.retiredChecks ?? []);
  return {
    host: input.host,
    changes,
    handlers,
    checks,
    retiredChecks,
    warnings,
    refusals: [
      ...results.flatMap((r) => r.refusals ?? []),
      ...maskedUnitsInTheWay(changes, input.facts),
      ...candidateNotAsked(input),
      ...unusableFilesTouched(changes, input.facts),
    ],
    basedOn: input.facts.applyGeneration ?? '',
  };
}
