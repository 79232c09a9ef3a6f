// trento.alloy from an AgentConfig, through roles/alloy/templates/trento.alloy.ejs.
//
// The same output as `trento-agent generate alloy` for the same agent.yaml (the goldens in
// test/fixtures/trento-agent/ are compared byte for byte), so a host whose agent later
// regenerates the file (ExecStartPre) gets the same content, except that values here are
// escaped as Alloy strings where the upstream template inserts them raw (and a relabel
// replacement's `$` doubled, which Alloy would expand).
import { fileURLToPath } from 'node:url';
import { AGENT_DEFAULTS, type AgentConfig, exporterNameOf } from '../settings/agent-config.ts';
import { formatGoDuration, parseGoDuration } from '../settings/go-duration.ts';
import { alloyString, escapeAlloyString, relabelReplacement } from './alloy-string.ts';
import { renderTemplateFile } from './template.ts';

export const TRENTO_ALLOY_TEMPLATE = fileURLToPath(new URL('../../roles/alloy/templates/trento.alloy.ejs', import.meta.url));

/**
 * The file's bytes for one host. The agent's defaults apply to keys the config leaves out
 * (exporter grafana_alloy, interval 15s, auth basic), as they do for `generate alloy`.
 * Throws on a config the agent would refuse to generate from (validate with agentConfigFor).
 */
export function renderTrentoAlloy(config: AgentConfig, agentId: string, template: string = TRENTO_ALLOY_TEMPLATE): string {
  // `template`: the role's file, or a site's own version of it (template-search.ts).
  // In a // comment a line break would end the comment: escaped like a string body there.
  return renderTemplateFile(template, {
    ...templateValues(config, agentId),
    str: alloyString,
    replacement: relabelReplacement,
    comment: escapeAlloyString,
  });
}

/**
 * Whether `trento-agent generate alloy`, which inserts the same values raw, writes what the role's
 * template writes: only when no value needs an escape (a quote, a backslash, a control
 * character, a `$` in a relabel replacement). Otherwise the agent's regenerated file would differ (a different password, or a
 * broken or injected config) and flip back and forth with the toolkit's at every agent start.
 */
export function agentWritesTheSame(config: AgentConfig, agentId: string): boolean {
  const v = templateValues(config, agentId);
  // The values the template prints for this auth (roles/alloy/templates/trento.alloy.ejs).
  const printed = [v.agentId, v.exporterName, v.scrapeInterval, v.url, v.caCert];
  if (v.auth === 'basic') printed.push(v.username, v.password);
  if (v.auth === 'bearer') printed.push(v.bearerToken);
  if (v.auth === 'mtls') printed.push(v.clientCert, v.clientKey);
  // A `$` in a relabel replacement is doubled here (relabelReplacement): the agent's would expand.
  return printed.every((value) => escapeAlloyString(value) === value) && ![v.agentId, v.exporterName].some((value) => value.includes('$'));
}

/** The text values the template prints, with the agent's defaults. */
function templateValues(config: AgentConfig, agentId: string) {
  if (config['prometheus-mode'] !== 'push') {
    throw new Error(`trento.alloy is only for push mode (prometheus-mode is '${config['prometheus-mode']}')`);
  }
  if (agentId.trim() === '') throw new Error('the agent ID is empty: compute it from /etc/machine-id (agentIdFromMachineId)');
  const url = config['prometheus-url'];
  if (url === undefined || url === '') throw new Error("prometheus-url is required when prometheus-mode is 'push'");
  const interval = parseGoDuration(config['prometheus-scrape-interval'] ?? AGENT_DEFAULTS.scrapeInterval);
  if (!interval.ok) throw new Error(`prometheus-scrape-interval: ${interval.error}`);
  const auth = config['prometheus-auth'] ?? AGENT_DEFAULTS.auth;
  if (auth === 'mtls' && (!config['prometheus-tls-client-cert'] || !config['prometheus-tls-client-key'])) {
    throw new Error('client certificate and key are required for mTLS authentication');
  }
  return {
    agentId,
    exporterName: exporterNameOf(config, 'push'),
    // Printed by Go's Duration.String(): "1m" becomes "1m0s", as the agent prints it.
    scrapeInterval: formatGoDuration(interval.nanoseconds),
    url,
    auth,
    username: config['prometheus-auth-username'] ?? '',
    password: config['prometheus-auth-password'] ?? '',
    bearerToken: config['prometheus-auth-bearer-token'] ?? '',
    caCert: config['prometheus-tls-ca-cert'] ?? '',
    clientCert: config['prometheus-tls-client-cert'] ?? '',
    clientKey: config['prometheus-tls-client-key'] ?? '',
  };
}
