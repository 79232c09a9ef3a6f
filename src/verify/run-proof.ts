// --verify-prometheus inside a run: the run's credentials (one set, agreed by its hosts) and
// each host's proof request (agent ID, the exporter_name and scrape interval its own settings
// give). run.ts calls these; the asking itself is trento-view.ts.
import { type AgentConfig, type AuthMethod, exporterNameOf, pushScrapeIntervalMs } from '../settings/agent-config.ts';
import type { AllRoleDefaults } from '../settings/defaults.ts';
import type { PlayView } from '../settings/discovery.ts';
import { sameCredentials, type VerifyCredentials, verifyCredentialsFor } from '../settings/verify-auth.ts';
import type { PrometheusEndpoint } from './prometheus-api.ts';
import type { ProofRequest } from './trento-view.ts';
import type { SettingProblem } from '../inventory/errors.ts';

/** What the command line says (no secrets: those come from the inventory). */
export interface VerifyPrometheusOptions {
  url: string;
  /** --verify-auth; else the hosts' agent_prometheus_auth. */
  auth?: AuthMethod;
  /** PEM contents of --verify-ca, --verify-client-cert, --verify-client-key. */
  ca?: string;
  clientCert?: string;
  clientKey?: string;
  /** --verify-wait: instead of two scrape intervals. */
  waitMs?: number;
}

interface HostView {
  name: string;
  vars: Record<string, unknown>;
  origins: Record<string, string>;
  play: PlayView;
}

/** A settings problem of one host (the --verify-prometheus credentials it gives). */
export type RunSettingError = SettingProblem & { host: string };

/**
 * The one set of credentials for the run. Hosts that leave agent_prometheus_auth unset (and no
 * --verify-auth) have no say; the others must agree, else a settings error names two that differ.
 */
export function verifyEndpointFor(
  hosts: readonly HostView[],
  options: VerifyPrometheusOptions,
  defaults: AllRoleDefaults,
): { endpoint?: PrometheusEndpoint; errors: RunSettingError[] } {
  const votes: { host: string; credentials: VerifyCredentials }[] = [];
  let firstProblem: RunSettingError | undefined;
  for (const h of hosts) {
    const { credentials, problems } = verifyCredentialsFor(h.vars, h.origins, options.auth, defaults, h.play);
    if (credentials) votes.push({ host: h.name, credentials });
    else if (problems[0]) firstProblem ??= { host: h.name, ...problems[0] };
  }
  const chosen = votes[0]?.credentials ?? (firstProblem ? undefined : { auth: 'none' as const });
  if (!chosen) return { errors: [firstProblem!] };
  const other = votes.find((v) => !sameCredentials(v.credentials, chosen));
  if (other) {
    return {
      errors: [
        {
          host: other.host,
          variable: 'agent_prometheus_auth',
          origin: 'inventory',
          message: `--verify-prometheus asks with one set of credentials, but this host's agent_prometheus_auth (or its credentials) differs from ${votes[0]!.host}'s; give --verify-auth, or make them agree`,
        },
      ],
    };
  }
  if (chosen.auth === 'mtls' && (!options.clientCert || !options.clientKey)) {
    return {
      errors: [
        {
          host: votes[0]?.host ?? hosts[0]?.name ?? 'all',
          variable: 'agent_prometheus_auth',
          origin: options.auth ? '--verify-auth' : 'inventory',
          message:
            'is mtls: --verify-prometheus needs --verify-client-cert FILE and --verify-client-key FILE on this machine (agent_prometheus_tls_client_cert/_key are paths on the hosts)',
        },
      ],
    };
  }
  // A client certificate given for a method that sends none would be dropped without a word.
  if (chosen.auth !== 'mtls' && (options.clientCert || options.clientKey)) {
    return {
      errors: [
        {
          host: votes[0]?.host ?? hosts[0]?.name ?? 'all',
          variable: 'agent_prometheus_auth',
          origin: options.auth ? '--verify-auth' : 'inventory',
          message: `is ${chosen.auth}: --verify-client-cert and --verify-client-key go with mtls only; drop them, or give --verify-auth mtls`,
        },
      ],
    };
  }
  return {
    endpoint: {
      url: options.url,
      ...chosen,
      ...(options.ca ? { ca: options.ca } : {}),
      ...(chosen.auth === 'mtls' ? { clientCert: options.clientCert!, clientKey: options.clientKey! } : {}),
    },
    errors: [],
  };
}

/** What Trento expects of this host, from the settings the toolkit wrote for it. */
export function proofRequestFor(host: string, agentId: string, mode: 'pull' | 'push', config: AgentConfig, clockSkewMs?: number): ProofRequest {
  const exporterName = exporterNameOf(config, mode);
  const scrape = mode === 'push' ? pushScrapeIntervalMs(config) : undefined;
  return {
    host,
    agentId,
    exporterName,
    mode,
    ...(scrape !== undefined ? { scrapeIntervalMs: scrape } : {}),
    ...(mode === 'push' && clockSkewMs !== undefined ? { hostClockSkewMs: clockSkewMs } : {}),
  };
}
