// Every path, package and unit the toolkit reads or manages on a host: one table, used by the
// facts script, the roles and the uninstall plan alike.
import { dirname } from 'node:path';
import type { MetricsProvider } from '../platform.ts';

export const PATHS = {
  agentConfig: '/etc/trento/agent.yaml',
  /** Where rpm keeps agent.yaml (the toolkit's, with the API key) when trento-agent is removed:
   *  SLE 15's package ships it as a %config(noreplace) file, and a changed one is saved so. */
  agentConfigSavedByRpm: '/etc/trento/agent.yaml.rpmsave',
  /** Where rpm puts the package's new default when an upgrade finds agent.yaml changed (the
   *  toolkit's): no secret in it, but the toolkit's upgrade made it. */
  agentConfigNewFromRpm: '/etc/trento/agent.yaml.rpmnew',
  agentDropIn: '/etc/systemd/system/trento-agent.service.d/trento-provision.conf',
  configureAlloyScript: '/usr/share/trento/configure-alloy.sh',
  alloySysconfig: '/etc/sysconfig/alloy',
  /** 0 where the kernel lets an account hard-link files it does not own (the reads in Alloy's folder rely on 1). */
  protectedHardlinks: '/proc/sys/fs/protected_hardlinks',
  alloyDefaultDir: '/etc/alloy',
  /** The file Alloy loads where /etc/sysconfig/alloy sets no CONFIG_FILE (the package's default;
   *  SUSE's package does not ship it). */
  alloyPackageConfigFile: '/etc/alloy/config.alloy',
  trentoAlloyName: 'trento.alloy',
  /** Where the toolkit remembers what it changed, so uninstall can put it back. */
  stateDir: '/var/lib/trento-provision',
  savedAlloyConfigFile: '/var/lib/trento-provision/alloy-CONFIG_FILE.orig',
  /** The CONFIG_FILE line the toolkit wrote: uninstall restores the saved one only over this. */
  ownAlloyConfigLine: '/var/lib/trento-provision/alloy-CONFIG_FILE.ours',
  /** The apply scripts' root-only folder in /run: the host's lock, one run at a time. */
  runDir: '/run/trento-provision',
  /** Which apply last ran on the host (a new word at each one's start and end): an apply whose
   *  facts saw another refuses its plan, made from what the host was before (src/apply/lib.sh). */
  applyGeneration: '/run/trento-provision/generation',
  /** agent_server_ca_cert, where the official role puts it (SUSE's trust anchors). */
  serverCaCert: '/etc/pki/trust/anchors/trento-server-ca.pem',
} as const;

/** Managed files the toolkit touches only under some settings (the CA anchor: only with
 *  agent_server_ca_cert, or to remove its own on --purge). One the facts cannot use (a link, a
 *  FIFO, ...) fails the host only when the plan touches it: an admin's own anchor at the official
 *  path, a link to their CA bundle, is not the toolkit's business otherwise. Every other managed
 *  file that cannot be used fails the host at the facts. */
/** The words near the top of every program the toolkit installs on a host (configure-alloy.sh's
 *  second line, since its first release): a file at such a path without them is another's (a
 *  trento-agent release that ships its own), which the toolkit neither replaces nor removes. */
export const TOOLKIT_MARK = 'installed by trento-provision';

/** The installed programs whose mark the facts read (within their first MARK_WITHIN bytes). */
export const MARKED_FILES: readonly string[] = [PATHS.configureAlloyScript];
export const MARK_WITHIN = 512;

export const FILES_TOUCHED_BY_SETTING: readonly string[] = [PATHS.serverCaCert];

/** Folders the toolkit may have made for its files where no package does (/etc/trento on SLES 16,
 *  whose agent keeps its defaults in /usr/etc/trento): --purge removes one that holds nothing
 *  but files the uninstall removes, and that no package owns. */
export const PURGED_FOLDERS: readonly string[] = [PATHS.agentConfig, PATHS.configureAlloyScript].map((p) => dirname(p));

/** Owner, group and mode of every file the toolkit writes: the roles' file changes and the
 *  agent's configure-alloy.sh (which writes trento.alloy itself) take them from here. */
export const FILE_ACCESS = {
  /** Holds the API key and the other credentials: root only. */
  agentConfig: { owner: 'root', group: 'root', mode: '0600' },
  /** Holds the remote-write credentials; Alloy (its own account) reads it. */
  trentoAlloy: { owner: 'alloy', group: 'alloy', mode: '0640' },
  configureAlloyScript: { owner: 'root', group: 'root', mode: '0755' },
  agentDropIn: { owner: 'root', group: 'root', mode: '0644' },
  serverCaCert: { owner: 'root', group: 'root', mode: '0644' },
} as const;

export const PACKAGES = {
  agent: 'trento-agent',
  alloy: 'alloy',
  nodeExporter: 'golang-github-prometheus-node_exporter',
  /** SUSE's support tooling (supportconfig) and Trento's plugin for it (supportutils_enabled). */
  supportutils: 'supportutils',
  supportutilsPlugin: 'supportutils-plugin-trento',
} as const;

export const UNITS = {
  agent: 'trento-agent.service',
  alloy: 'alloy.service',
  nodeExporter: 'prometheus-node_exporter.service',
} as const;

/** Each metrics provider's package and the unit it ships (the agent's unit is wired to that unit). */
export const PROVIDERS: Readonly<Record<MetricsProvider, { package: string; unit: string }>> = {
  node_exporter: { package: PACKAGES.nodeExporter, unit: UNITS.nodeExporter },
  alloy: { package: PACKAGES.alloy, unit: UNITS.alloy },
};

/** The metrics providers' units and the packages that ship them (an admin's service the toolkit
 *  turned on is recorded by unit; the record's line goes with the package). */
export const PROVIDER_UNIT_PACKAGES: Readonly<Record<string, string>> = Object.fromEntries(Object.values(PROVIDERS).map((p) => [p.unit, p.package]));

/** The largest file the facts script reads (os-release, a managed file): a host cannot make the
 *  controller hold more than this per file, and a managed file larger than this is refused. */
export const MAX_HOST_FILE_BYTES = 1024 * 1024;

/** Alloy's HTTP server as the alloy package configures it. */
export const ALLOY_HTTP = 'http://127.0.0.1:12345';
export const NODE_EXPORTER_METRICS = 'http://127.0.0.1:9100/metrics';

/** The first trento-agent release with `trento-agent generate alloy`. */
export const AGENT_GENERATE_ALLOY_SINCE = '3.1.0';
/** The first release whose `generate alloy` output was not checked against the toolkit's template
 *  (test/fixtures/trento-agent: 3.1's, byte for byte). With a newer agent the toolkit renders
 *  trento.alloy alone: an agent writing it otherwise at each start, and the toolkit writing its
 *  own back at each run, would take turns for ever. */
export const AGENT_GENERATE_ALLOY_CHECKED_BELOW = '3.2.0';
