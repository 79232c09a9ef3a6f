// Phase 3: agent settings per platform, then one plan per host, all before any change.
import { planHost } from '../plan/plan.ts';
import type { HostPlan } from '../plan/types.ts';
import { ALWAYS_AVAILABLE_HANDLERS, ROLES } from '../../roles/index.ts';
import { TemplateError } from '../render/template.ts';
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
  const planned: PlannedHost[] = [];
  for (const h of reached) {
    const hostSettings = settings.get(h)!;
    const siteTemplates = options.uninstall ? [] : siteTemplatesFor(options.templates, h.platform.provider);
    let plan: HostPlan;
    try {
      plan = planHost({
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
    } catch (error) {
      // A site's own template that EJS cannot render (a syntax error, a name it does not have)
      // is the site's setting, wrong: named with the host, like any other, and nothing applied.
      // A role's own template failing is the toolkit's failure.
      if (!(error instanceof TemplateError) || !siteTemplates.includes(error.template)) throw error;
      emit({
        type: 'settings-error',
        host: h.name,
        variable: 'site template',
        origin: error.template,
        message: `cannot be rendered: ${error.message.replace(/\s+/g, ' ').trim()}; fix it (templates/README.md lists what it is rendered with) or remove it to use the role's`,
      });
      ok = false;
      continue;
    }
    emit({
      type: 'host-plan',
      host: h.name,
      changes: plan.changes.map((c) => ({ id: c.id, summary: c.summary, ...(c.details ? { details: c.details } : {}), ...(c.diff ? { diff: c.diff } : {}) })),
      handlers: plan.handlers.map((x) => x.summary),
      ...(options.uninstall ? {} : { siteTemplates }),
    });
    for (const w of plan.warnings) emit({ type: 'host-warning', host: h.name, message: w });
    planned.push(Object.assign(h, { config: hostSettings.agent, plan }));
  }
  return ok ? planned : null;
}
