// The settings of trento-agent: exactly the keys of /etc/trento/agent.yaml (trento-facts.md).
// A value that is absent is not written, so the agent's own default applies.
import { goDurationMs } from './go-duration.ts';

export type PrometheusMode = 'pull' | 'push';
export const PROMETHEUS_MODES: readonly PrometheusMode[] = ['pull', 'push'];

export type AuthMethod = 'none' | 'basic' | 'bearer' | 'mtls';
/** In the agent's order, which its error message repeats. */
export const AUTH_METHODS: readonly AuthMethod[] = ['none', 'basic', 'bearer', 'mtls'];

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
export const LOG_LEVELS: readonly LogLevel[] = ['error', 'warn', 'info', 'debug'];

export interface AgentConfig {
  'server-url'?: string;
  'api-key'?: string;
  /** amqp(s)://user:password@host/vhost, credentials and vhost percent-encoded. */
  'facts-service-url'?: string;
  'log-level'?: LogLevel;
  // Go durations as typed ("10s"); the agent parses them with time.ParseDuration.
  'cluster-discovery-period'?: string;
  'sapsystem-discovery-period'?: string;
  'cloud-discovery-period'?: string;
  'host-discovery-period'?: string;
  'subscription-discovery-period'?: string;
  'saptune-discovery-period'?: string;
  'heartbeat-interval'?: string;
  'prometheus-mode': PrometheusMode;
  'prometheus-exporter-name'?: string;
  /** Pull mode only. Absent: the agent uses its lowest non-loopback IPv4 + ":9100". */
  'prometheus-node-exporter-target'?: string;
  /** Push mode only: the full remote-write URL, used as given. */
  'prometheus-url'?: string;
  'prometheus-scrape-interval'?: string;
  /** Always written in push mode: the released agent defaults to basic, the RFC says bearer. */
  'prometheus-auth'?: AuthMethod;
  'prometheus-auth-username'?: string;
  'prometheus-auth-password'?: string;
  'prometheus-auth-bearer-token'?: string;
  'prometheus-tls-ca-cert'?: string;
  'prometheus-tls-client-cert'?: string;
  'prometheus-tls-client-key'?: string;
}

export type AgentConfigKey = keyof AgentConfig;

/**
 * The order keys are written in agent.yaml. Fixed, so that rendering the same settings twice
 * gives the same bytes (a second run must report no change).
 */
export const AGENT_YAML_KEYS: readonly AgentConfigKey[] = [
  'server-url',
  'api-key',
  'facts-service-url',
  'log-level',
  'cluster-discovery-period',
  'sapsystem-discovery-period',
  'cloud-discovery-period',
  'host-discovery-period',
  'subscription-discovery-period',
  'saptune-discovery-period',
  'heartbeat-interval',
  'prometheus-mode',
  'prometheus-exporter-name',
  'prometheus-node-exporter-target',
  'prometheus-url',
  'prometheus-scrape-interval',
  'prometheus-auth',
  'prometheus-auth-username',
  'prometheus-auth-password',
  'prometheus-auth-bearer-token',
  'prometheus-tls-ca-cert',
  'prometheus-tls-client-cert',
  'prometheus-tls-client-key',
];

/** The agent's defaults where the toolkit leaves a key out (trento-agent 3.1 LoadConfig). */
export const AGENT_DEFAULTS = {
  pushExporterName: 'grafana_alloy',
  pullExporterName: 'node_exporter',
  scrapeInterval: '15s',
  auth: 'basic' as AuthMethod,
} as const;

/** The exporter name Trento's series carry for this host: the configured one, else the agent's
 *  default for its mode. */
export function exporterNameOf(config: AgentConfig, mode: PrometheusMode): string {
  return config['prometheus-exporter-name'] ?? (mode === 'push' ? AGENT_DEFAULTS.pushExporterName : AGENT_DEFAULTS.pullExporterName);
}

/** The push mode's scrape interval (ms): the configured one, else the agent's default; undefined
 *  when the configured value is no positive duration (the settings checks refuse it). */
export function pushScrapeIntervalMs(config: AgentConfig): number | undefined {
  return goDurationMs(config['prometheus-scrape-interval'] ?? AGENT_DEFAULTS.scrapeInterval);
}

/** The agent's default push scrape interval (ms). */
export const DEFAULT_PUSH_SCRAPE_INTERVAL_MS = goDurationMs(AGENT_DEFAULTS.scrapeInterval)!;
