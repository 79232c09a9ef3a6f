// Ansible's template search path for the role templates: a site's own version of a template
// (`templates/NAME` next to an inventory, or in the repository's top-level templates/) is used
// before the role's. Looked up once per run, before any host is planned; the file found is
// what the renderer loads, and Alloy still validates the result on the host before use.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { MetricsProvider } from '../platform.ts';
import { AGENT_YAML_TEMPLATE } from './agent-yaml.ts';
import { TRENTO_ALLOY_TEMPLATE } from './trento-alloy.ts';

export type TemplateName = 'agent.yaml.ejs' | 'trento.alloy.ejs';

export interface TemplateChoice {
  path: string;
  /** A site template (not the role's own). */
  site: boolean;
}

export type TemplateSet = Readonly<Record<TemplateName, TemplateChoice>>;

const ROLE_TEMPLATES: Readonly<Record<TemplateName, string>> = {
  'agent.yaml.ejs': AGENT_YAML_TEMPLATE,
  'trento.alloy.ejs': TRENTO_ALLOY_TEMPLATE,
};

/** The templates each kind of host renders when installing (the roles' files, by provider). */
export const TEMPLATES_RENDERED: Readonly<Record<MetricsProvider, readonly TemplateName[]>> = {
  node_exporter: ['agent.yaml.ejs'],
  alloy: ['agent.yaml.ejs', 'trento.alloy.ejs'],
};

/**
 * Folders searched, first wins: templates/ beside each inventory source in -i order (a file's
 * folder; for an inventory folder, beside the folder, not in it: Ansible reads every file in an
 * inventory folder as inventory), then the repository's top-level templates/.
 */
export function templateSearchDirs(inventorySources: readonly string[], projectDir: string): string[] {
  const beside = inventorySources.filter((s) => existsSync(s)).map((s) => join(dirname(s), 'templates'));
  return [...new Set([...beside, join(projectDir, 'templates')])];
}

export function findTemplates(searchDirs: readonly string[]): TemplateSet {
  const choose = (name: TemplateName): TemplateChoice => {
    const found = searchDirs.map((d) => join(d, name)).find((p) => existsSync(p));
    return found ? { path: found, site: true } : { path: ROLE_TEMPLATES[name], site: false };
  };
  return { 'agent.yaml.ejs': choose('agent.yaml.ejs'), 'trento.alloy.ejs': choose('trento.alloy.ejs') };
}

/** The site templates a host of this provider renders (paths), for the recap and the report. */
export function siteTemplatesFor(templates: TemplateSet | undefined, provider: MetricsProvider): string[] {
  if (!templates) return [];
  return TEMPLATES_RENDERED[provider].filter((n) => templates[n].site).map((n) => templates[n].path);
}
