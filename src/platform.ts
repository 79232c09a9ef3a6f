// One table decides what a host is and what it gets. The first matching row wins.
// Rule (trento-facts.md): major 15 (every SP, SP7 included although Alloy exists there)
// -> node_exporter, pull; major 16+ -> Alloy, push; everything else is refused with a reason.
import type { HostFacts } from './facts/types.ts';
import type { PrometheusMode } from './settings/agent-config.ts';

export type MetricsProvider = 'node_exporter' | 'alloy';

interface PlatformBase {
  product: string; // "SLES for SAP 15 SP6", for people
  family: 'sles' | 'sles_sap' | 'leap' | 'other';
  major: number;
}

/** A host the toolkit provisions: which metrics provider it gets, and so the agent's mode. */
export interface SupportedPlatform extends PlatformBase {
  supported: true;
  provider: MetricsProvider;
  mode: PrometheusMode;
  /** SUSE's trento-agent package ships /etc/trento/agent.yaml itself (a %config file on SLE 15;
   *  from SLE 16 its default lives in /usr/etc/trento). */
  agentPackageShipsConfig: boolean;
}

/** A host the toolkit leaves alone, and why. */
export interface RefusedPlatform extends PlatformBase {
  supported: false;
  refusal: string;
}

export type Platform = SupportedPlatform | RefusedPlatform;

interface Identity {
  id: string;
  variant: string;
  major: number;
  minor: number;
  family: Platform['family'];
  product: string;
}

interface Rule {
  when: (h: Identity) => boolean;
  provider?: MetricsProvider;
  refusal?: (h: Identity) => string;
  /** A refused host an earlier version of the toolkit provisioned: uninstall may still undo it. */
  uninstallWith?: (h: Identity) => MetricsProvider;
}

const SUSE_IDS = new Set(['sles', 'sles_sap', 'opensuse-leap']);

/** The first major version that gets Alloy (push mode). The facts script reads it too: it asks
 *  the repositories for trento-agent's version only where the answer can matter (an Alloy host). */
export const ALLOY_FROM_MAJOR = 16;

const RULES: Rule[] = [
  {
    when: (h) => h.variant === 'transactional',
    refusal: (h) =>
      `${h.product} is a transactional system (read-only root): packages need transactional-update and a reboot, which this toolkit does not do; provision it with transactional-update or combustion instead`,
  },
  {
    // SUSE's desktop: a system Trento does not monitor (no SAP workloads, no HA cluster).
    when: (h) => h.id === 'sled',
    refusal: (h) => `${h.product} is SUSE Linux Enterprise Desktop: Trento's agent is supported on SLES, SLES for SAP and openSUSE Leap 15 and 16 only`,
    // versions before the refusal set it up as SLES: --uninstall (and --purge) still undo that
    uninstallWith: (h) => (h.major >= ALLOY_FROM_MAJOR ? 'alloy' : 'node_exporter'),
  },
  {
    when: (h) => !SUSE_IDS.has(h.id),
    refusal: (h) =>
      `not a SUSE system (os-release ID=${h.id || 'unknown'}): Trento's agent is supported on SLES, SLES for SAP and openSUSE Leap 15 and 16 only`,
  },
  {
    when: (h) => h.major < 15,
    refusal: (h) => `${h.product} is too old: Trento needs SLES 15 or later (SLES 12 has neither the agent packages nor node_exporter from SUSE)`,
  },
  { when: (h) => h.major >= 15 && h.major < ALLOY_FROM_MAJOR, provider: 'node_exporter' },
  { when: (h) => h.major >= ALLOY_FROM_MAJOR, provider: 'alloy' },
];

export const MODE: Record<MetricsProvider, PrometheusMode> = { node_exporter: 'pull', alloy: 'push' };

function identify(facts: Pick<HostFacts, 'osRelease' | 'baseProduct'>): Identity {
  const os = facts.osRelease;
  const id = (os.ID ?? '').toLowerCase();
  const variant = (os.VARIANT_ID ?? '').toLowerCase();
  const [major = NaN, minor = 0] = (os.VERSION_ID ?? '').split('.').map(Number);
  const sap = id === 'sles_sap' || variant === 'server-sap' || variant === 'sles-sap' || /SLES_SAP\.prod$/.test(facts.baseProduct);
  const family: Platform['family'] = id === 'opensuse-leap' ? 'leap' : sap ? 'sles_sap' : SUSE_IDS.has(id) ? 'sles' : 'other';
  const version = major >= 16 || family === 'leap' ? `${major}.${minor}` : minor ? `${major} SP${minor}` : `${major}`;
  const names: Record<Platform['family'], string> = {
    sles: 'SLES',
    sles_sap: 'SLES for SAP',
    leap: 'openSUSE Leap',
    other: id === 'sled' ? 'SLED' : (os.NAME ?? (id || 'unknown system')),
  };
  const product = variant === 'transactional' ? (os.PRETTY_NAME ?? 'SL Micro') : `${names[family]} ${version}`;
  return { id, variant, major, minor, family, product };
}

export function platformOf(facts: Pick<HostFacts, 'osRelease' | 'baseProduct'>, run: 'install' | 'uninstall' = 'install'): Platform {
  const h = identify(facts);
  const rule = RULES.find((r) => r.when(h));
  const base = { product: h.product, family: h.family, major: h.major };
  // The package's spec: `%if 0%{?suse_version} <= 1500` puts agent.yaml in /etc/trento.
  const agentPackageShipsConfig = h.major <= 15;
  if (run === 'uninstall' && rule?.uninstallWith) {
    const provider = rule.uninstallWith(h);
    return { ...base, supported: true, provider, mode: MODE[provider], agentPackageShipsConfig };
  }
  if (!rule || rule.refusal || !rule.provider) {
    return { ...base, supported: false, refusal: rule?.refusal?.(h) ?? `unsupported system ${h.product}` };
  }
  return { ...base, supported: true, provider: rule.provider, mode: MODE[rule.provider], agentPackageShipsConfig };
}
