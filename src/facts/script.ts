// The facts script: one bash program, run in one SSH round trip, that prints everything the
// planner needs: the shared functions, a prelude of settings, the frame (framing.sh), then every
// fact source's shell in the registry's order. It only reads: the same script serves check mode
// and apply mode.
import { type Command, join, raw } from '../exec/command.ts';
import { ALLOY_FROM_MAJOR } from '../platform.ts';
import { leftovers, prelude, probes, safeFiles, shellFile } from '../shell/index.ts';
import { FACT_SOURCES } from './registry.ts';
import { RPM_VERSIONS_FORMAT } from './sources/packages.ts';
import { ALLOY_HTTP, MARK_WITHIN, MARKED_FILES, NODE_EXPORTER_METRICS, PACKAGES, PATHS, PURGED_FOLDERS, TOOLKIT_MARK, UNITS } from './paths.ts';

export interface FactsOptions {
  /** Also return the contents of managed files (for --diff). */
  withContent: boolean;
  /** Also the newer versions the repositories offer for the toolkit's packages (agent_package_state: latest). */
  withUpdates?: boolean;
  /** Also probe the installed metrics providers (what the checks read; --check runs no checks). Default true. */
  withProbes?: boolean;
  /** Also ask the repositories which trento-agent they offer when it is missing (its version
   *  decides what an install writes; an uninstall has no use for it). Default true. */
  withCandidate?: boolean;
  /** Also what only an uninstall needs (src/facts/sources/alloy-config.sh): the files Alloy loads
   *  that are the admin's, and whether Alloy would load the single file a restored CONFIG_FILE
   *  line names. Default false. */
  forUninstall?: boolean;
  zyppLockTimeoutSeconds: number;
  /** The managed files to read; the toolkit's own by default (tests point it elsewhere). */
  managedFiles?: readonly string[];
  /** Those of them whose mark is read (MARKED_FILES by default). */
  markedFiles?: readonly string[];
  /** The folders an uninstall reads for --purge (PURGED_FOLDERS by default). */
  purgedFolders?: readonly string[];
}

/** The managed files read by every run (the Alloy ones depend on CONFIG_FILE, read on the host). */
const MANAGED_FILES = [
  PATHS.agentConfig,
  PATHS.agentConfigSavedByRpm,
  PATHS.agentConfigNewFromRpm,
  PATHS.agentDropIn,
  PATHS.configureAlloyScript,
  PATHS.serverCaCert,
];

export function factsScript(options: FactsOptions): Command {
  return join([
    prelude({
      TP_WANT_CONTENT: options.withContent ? 1 : 0,
      TP_WANT_UPDATES: options.withUpdates ? 1 : 0,
      TP_WANT_PROBES: options.withProbes === false ? 0 : 1,
      TP_WANT_CANDIDATE: options.withCandidate === false ? 0 : 1,
      TP_FOR_UNINSTALL: options.forUninstall ? 1 : 0,
      TP_ALLOY_FROM_MAJOR: ALLOY_FROM_MAJOR,
      TP_PACKAGES: Object.values(PACKAGES),
      TP_RPM_VERSIONS_FORMAT: RPM_VERSIONS_FORMAT,
      TP_UNITS: Object.values(UNITS),
      TP_MANAGED_FILES: options.managedFiles ?? MANAGED_FILES,
      TP_MARKED_FILES: options.markedFiles ?? MARKED_FILES,
      TP_PURGED_FOLDERS: options.purgedFolders ?? PURGED_FOLDERS,
      TP_OWN_MARK: TOOLKIT_MARK,
      TP_MARK_WITHIN: MARK_WITHIN,
      TP_AGENT_PACKAGE: PACKAGES.agent,
      TP_ALLOY_PACKAGE: PACKAGES.alloy,
      TP_NODE_EXPORTER_PACKAGE: PACKAGES.nodeExporter,
      TP_ALLOY_HTTP: ALLOY_HTTP,
      TP_NODE_EXPORTER_METRICS: NODE_EXPORTER_METRICS,
      TP_ALLOY_SYSCONFIG: PATHS.alloySysconfig,
      TP_PROTECTED_HARDLINKS: PATHS.protectedHardlinks,
      TP_ALLOY_DEFAULT_DIR: PATHS.alloyDefaultDir,
      TP_ALLOY_PACKAGE_CONFIG: PATHS.alloyPackageConfigFile,
      TP_TRENTO_ALLOY: PATHS.trentoAlloyName,
      TP_STATE_DIR: PATHS.stateDir,
      TP_GENERATION: PATHS.applyGeneration,
      TP_ZYPP_LOCK_TIMEOUT: options.zyppLockTimeoutSeconds,
    }),
    safeFiles(),
    leftovers(),
    probes(),
    shellFile('./framing.sh', import.meta.url),
    ...FACT_SOURCES.map((source) => shellFile(`./sources/${source.name}.sh`, import.meta.url)),
    raw('record "done" yes'),
  ]);
}
