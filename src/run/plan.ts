// Phase 3: agent settings per platform, then one plan per host, all before any change.
import { planHost } from '../plan/plan.ts';
import { ALWAYS_AVAILABLE_HANDLERS, ROLES } from '../../roles/index.ts';
import { siteTemplatesFor } from '../render/template-search.ts';
import { type HostSettings, hostSettingsFor } from '../settings/host-settings.ts';
import type { ReachedHost, PlannedHost, RunContext } from './types.ts';

/**
 * Validates every reached host's agent settings, then plans each (all before any change).
 * Null when a setting is wrong anywhere: nothing is applied then.
 */
export function planAll(reached: ReachedHost[], { options, emit, defaults }: RunContext): PlannedHost[] | null {
  emit({ type: 'phase', phase: 'plan', total: reached.length });
  const settings = new Map<ReachedHost, HostSettings>();
  let ok = true;
  for (const h of reached) {
    const r = hostSettingsFor(h.vars, h.origins, h.platform.mode, { uninstall: options.uninstall, defaults, play: h.play });
    for (const e of r.errors) emit({ type: 'settings-error', host: h.name, ...e });
    if (r.errors.length) ok = false;
    settings.set(h, r.settings);
  }
  if (!ok) return null;
  return reached.map((h) => {
    const hostSettings = settings.get(h)!;
    const plan = planHost({
      roles: ROLES[h.platform.provider],
      alwaysAvailableHandlers: ALWAYS_AVAILABLE_HANDLERS,
      host: h.name,
      facts: h.facts,
      platform: h.platform,
      agentId: h.agentId,
      settings: hostSettings,
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
    return Object.assign(h, { config: hostSettings.agent, plan });
  });
}
