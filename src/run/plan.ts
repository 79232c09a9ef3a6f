// Phase 3: agent settings per platform, then one plan per host, all before any change. Each
// host is planned as soon as its facts are in (planHostOf, called by the facts phase, shows
// nothing), so a host with nothing left to run lets its connection go then; planAll shows the
// plans in play order once every host has answered, and decides whether anything is applied.
import { planHost } from '../plan/plan.ts';
import { provenByFacts } from '../plan/checks.ts';
import type { HostPlan } from '../plan/types.ts';
import { ALWAYS_AVAILABLE_HANDLERS, ROLES } from '../../roles/index.ts';
import { TemplateError } from '../render/template.ts';
import { siteTemplatesFor } from '../render/template-search.ts';
import { hostSettingsFor } from '../settings/host-settings.ts';
import type { ReachedHost, PlannedHost, Planning, RunContext } from './types.ts';
import type { HostSettingProblem } from '../output/events.ts';

/**
 * One reached host's settings, then its plan. A site's own template that EJS cannot render (a
 * syntax error, a name it does not have) is the site's setting, wrong: it is returned as such, to
 * be named with the host like any other. A role's own template failing is the toolkit's failure.
 */
export function planHostOf(h: Omit<ReachedHost, 'planning'>, { options, defaults }: Pick<RunContext, 'options' | 'defaults'>): Planning {
  const r = hostSettingsFor(h.vars, h.origins, h.platform.mode, { uninstall: options.uninstall, defaults, play: h.play });
  if (r.errors.length) return { stage: 'settings', errors: r.errors };
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
      settings: r.settings,
      withDiff: options.diff ? { context: options.diffContext } : false,
      uninstall: options.uninstall,
      purge: options.purge,
      ...(options.templates ? { templates: options.templates } : {}),
    });
  } catch (error) {
    if (!(error instanceof TemplateError) || !siteTemplates.includes(error.template)) throw error;
    const message = `cannot be rendered: ${error.message.replace(/\s+/g, ' ').trim()}; fix it (templates/README.md lists what it is rendered with) or remove it to use the role's`;
    return { stage: 'template', errors: [{ variable: 'site template', origin: error.template, message }] };
  }
  return { stage: 'planned', settings: r.settings, plan, siteTemplates };
}

/**
 * Whether the run has nothing more to do on the host's connection: --check (it runs nothing
 * after the facts), nothing to change and every check held when the facts were read (apply.ts
 * then finishes it without a round trip), or a setting wrong, which stops the whole run before
 * any change. The one place that decides when a host's master can go before the run ends.
 */
export const leavesNothingToRun = (p: Planning, check: boolean): boolean => check || p.stage !== 'planned' || provenByFacts(p.plan);

/**
 * Shows every reached host's settings errors, or else every plan, in play order. Null when a
 * setting is wrong anywhere: nothing is applied then.
 */
export function planAll(reached: ReachedHost[], { options, emit }: RunContext): PlannedHost[] | null {
  emit({ type: 'phase', phase: 'plan', total: reached.length });
  const settingsErrors = reached.flatMap((h) => (h.planning.stage === 'settings' ? h.planning.errors.map((e) => ({ host: h.name, ...e })) : []));
  if (settingsErrors.length > 0) {
    emit({ type: 'settings-errors', errors: settingsErrors });
    return null;
  }
  // A site template that cannot be rendered for a host: the other hosts' plans are still shown.
  const templateErrors: HostSettingProblem[] = [];
  const planned: PlannedHost[] = [];
  for (const h of reached) {
    const p = h.planning;
    if (p.stage !== 'planned') {
      templateErrors.push(...p.errors.map((e) => ({ host: h.name, ...e })));
      continue;
    }
    emit({
      type: 'host-plan',
      host: h.name,
      changes: p.plan.changes.map((c) => ({ id: c.id, summary: c.summary, ...(c.details ? { details: c.details } : {}), ...(c.diff ? { diff: c.diff } : {}) })),
      handlers: p.plan.handlers.map((x) => x.summary),
      ...(options.uninstall ? {} : { siteTemplates: p.siteTemplates }),
    });
    for (const w of p.plan.warnings) emit({ type: 'host-warning', host: h.name, message: w });
    planned.push(Object.assign(h, { config: p.settings.agent, plan: p.plan }));
  }
  if (templateErrors.length === 0) return planned;
  emit({ type: 'settings-errors', errors: templateErrors });
  return null;
}
