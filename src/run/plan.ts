// Phase 3: agent settings per platform, then one plan per host, all before any change.
import { planHost } from '../plan/plan.ts';
import { ALWAYS_AVAILABLE_HANDLERS, ROLES } from '../../roles/index.ts';
import { siteTemplatesFor } from '../render/template-search.ts';
import type { AgentConfig } from '../settings/agent-config.ts';
import { agentConfigFor, installMonitoringDep, packageStateFor, serverCaPemFor, supportutilsFor } from '../settings/validate.ts';
import type { ReachedHost, PlannedHost, RunContext } from './types.ts';

/**
 * Validates every reached host's agent settings, then plans each (all before any change).
 * Null when a setting is wrong anywhere: nothing is applied then.
 */
export function planAll(reached: ReachedHost[], { options, emit, defaults }: RunContext): PlannedHost[] | null {
  emit({ type: 'phase', phase: 'plan', total: reached.length });
  const configs = new Map<ReachedHost, AgentConfig>();
  let ok = true;
  for (const h of reached) {
    // Uninstall needs no agent settings: only the mode, for what the roles remove.
    if (options.uninstall) {
      configs.set(h, { 'prometheus-mode': h.platform.mode });
      continue;
    }
    const { config, errors } = agentConfigFor(h.vars, h.origins, h.platform.mode, defaults, h.play);
    for (const e of errors) emit({ type: 'settings-error', host: h.name, ...e });
    if (errors.length) ok = false;
    configs.set(h, config);
  }
  if (!ok) return null;
  return reached.map((h) => {
    const config = configs.get(h)!;
    const plan = planHost({
      roles: ROLES[h.platform.provider],
      alwaysAvailableHandlers: ALWAYS_AVAILABLE_HANDLERS,
      host: h.name,
      facts: h.facts,
      platform: h.platform,
      agentId: h.agentId,
      config,
      installMonitoringDep: installMonitoringDep(h.vars, h.origins, defaults),
      supportutils: supportutilsFor(h.vars, h.origins, defaults, h.play),
      serverCaPem: serverCaPemFor(h.vars, h.origins, defaults, h.play),
      packageState: packageStateFor(h.vars, h.origins, defaults, h.play),
      withDiff: options.diff,
      uninstall: options.uninstall,
      purge: options.purge,
      ...(options.templates ? { templates: options.templates } : {}),
    });
    emit({
      type: 'host-plan',
      host: h.name,
      changes: plan.changes.map((c) => ({ id: c.id, summary: c.summary, ...(c.details ? { details: c.details } : {}), ...(c.diff ? { diff: c.diff } : {}) })),
      handlers: plan.handlers.map((x) => x.summary),
      ...(options.uninstall ? {} : { siteTemplates: siteTemplatesFor(options.templates, h.platform.provider) }),
    });
    for (const w of plan.warnings) emit({ type: 'host-warning', host: h.name, message: w });
    return Object.assign(h, { config, plan });
  });
}
