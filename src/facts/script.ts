// The facts script (facts.sh beside this file): one bash program, run in one SSH round trip,
// that prints everything the planner needs. It only reads: the same script serves check mode
// and apply mode.
import { type Command, join } from '../exec/command.ts';
import { prelude, safeFiles, shellFile } from '../shell/index.ts';
import { MAX_HOST_FILE_BYTES, PACKAGES, PATHS, UNITS } from './paths.ts';

export interface FactsOptions {
  /** Also return the contents of managed files (for --diff). */
  withContent: boolean;
  /** Also the newer versions the repositories offer for the toolkit's packages (agent_package_state: latest). */
  withUpdates?: boolean;
  zyppLockTimeoutSeconds: number;
  /** The managed files to read; the toolkit's own by default (tests point it elsewhere). */
  managedFiles?: readonly string[];
}

/** The managed files read by every run (the Alloy ones depend on CONFIG_FILE, read on the host). */
const MANAGED_FILES = [PATHS.agentConfig, PATHS.agentDropIn, PATHS.configureAlloyScript, PATHS.serverCaCert];

export function factsScript(options: FactsOptions): Command {
  return join([
    prelude({
      TP_WANT_CONTENT: options.withContent ? 1 : 0,
      TP_WANT_UPDATES: options.withUpdates ? 1 : 0,
      TP_PACKAGES: Object.values(PACKAGES),
      TP_UNITS: Object.values(UNITS),
      TP_MANAGED_FILES: options.managedFiles ?? MANAGED_FILES,
      TP_AGENT_PACKAGE: PACKAGES.agent,
      TP_ALLOY_SYSCONFIG: PATHS.alloySysconfig,
      TP_ALLOY_DEFAULT_DIR: PATHS.alloyDefaultDir,
      TP_TRENTO_ALLOY: PATHS.trentoAlloyName,
      TP_STATE_DIR: PATHS.stateDir,
      TP_ZYPP_LOCK_TIMEOUT: options.zyppLockTimeoutSeconds,
      TP_MAX_FILE_BYTES: MAX_HOST_FILE_BYTES,
    }),
    safeFiles(),
    shellFile('./facts.sh', import.meta.url),
  ]);
}
