// /etc/trento/agent.yaml from an AgentConfig, through roles/trento_agent/templates/agent.yaml.ejs.
import { fileURLToPath } from 'node:url';
import type { AgentConfig } from '../settings/agent-config.ts';
import { AGENT_YAML_KEYS } from '../settings/agent-config.ts';
import { renderTemplateFile } from './template.ts';
import { yamlDoubleQuoted } from './yaml-string.ts';

export const AGENT_YAML_TEMPLATE = fileURLToPath(new URL('../../roles/trento_agent/templates/agent.yaml.ejs', import.meta.url));

/**
 * The file's bytes. Keys in the fixed AGENT_YAML_KEYS order and every value double-quoted, so
 * the same config always gives the same bytes and the file parses back to exactly `config`.
 */
export function renderAgentYaml(config: AgentConfig, template: string = AGENT_YAML_TEMPLATE): string {
  const entries = AGENT_YAML_KEYS.flatMap((key) => {
    const value = config[key];
    return value === undefined ? [] : [[key, String(value)] as const];
  });
  // `template`: the role's file, or a site's own version of it (template-search.ts).
  return renderTemplateFile(template, { entries, yaml: yamlDoubleQuoted });
}
