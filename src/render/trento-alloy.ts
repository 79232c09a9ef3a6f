// trento.alloy from an AgentConfig, through roles/alloy/templates/trento.alloy.ejs.
//
// The same output as `trento-agent generate alloy` for the same agent.yaml (the goldens in
// test/fixtures/trento-agent/ are compared byte for byte), so a host whose agent later
// regenerates the file (ExecStartPre) gets the same content, except that values here are
// escaped as Alloy strings where the upstream template inserts them raw.
import { fileURLToPath } from 'node:url';
import type { AgentConfig } from '../settings/agent-config.ts';
import { AGENT_DEFAULTS } from '../settings/agent-config.ts';
import { formatGoDuration, parseGoDuration } from '../settings/go-duration.ts';
import { alloyString, escapeAlloyString } from './alloy-string.ts';
import { renderTemplateFile } from './template.ts';

export const TRENTO_ALLOY_TEMPLATE = fileURLToPath(new URL('../../roles/alloy/templates/trento.alloy.ejs', import.meta.url));

/**
 * The file's bytes for one host. The agent's defaults apply to keys the config leaves out
 * (exporter grafana_alloy, interval 15s, auth basic), as they do for `generate alloy`.
 * Throws on a config the agent would refuse to generate from (validate with agentConfigFor).
 */
export function renderTrentoAlloy(config: AgentConfig, agentId: string, template: string = TRENTO_ALLOY_TEMPLATE): string {
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
  const data = {
    agentId,
    exporterName: config['prometheus-exporter-name'] ?? AGENT_DEFAULTS.pushExporterName,
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
    str: alloyString,
    // In a // comment a line break would end the comment: escape like a string body.
    comment: escapeAlloyString,
  };
  // `template`: the role's file, or a site's own version of it (template-search.ts).
  return renderTemplateFile(template, data);
}
