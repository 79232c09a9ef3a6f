// The library every apply script starts with: the shared safe-file functions
// (src/shell/safe-files.sh), the providers' probes (src/shell/probes.sh), lib.sh and alloy.sh beside this file, and a generated prelude with
// this run's settings. The rules they carry (staged atomic writes, zypper's exit codes, recorded
// handlers and packages, cleanup on every exit path) are described in lib.sh.
import { dirname } from 'node:path';
import { type Command, join, raw, sh } from '../exec/command.ts';
import { ALLOY_HTTP, NODE_EXPORTER_METRICS, PATHS, UNITS } from '../facts/paths.ts';
import { RPM_VERSIONS_FORMAT } from '../facts/sources/packages.ts';
import { leftovers, prelude, probes, safeFiles, shellFile } from '../shell/index.ts';

export interface ScriptOptions {
  zyppLockTimeoutSeconds: number;
  /** -v: each step sends back the end of its output when it succeeds too (a failed one always does). */
  stepOutput?: boolean;
}

/** Where the apply script holds its lock (a root-only folder in /run): one run at a time per host. */
export const HOST_RUN_DIR = PATHS.runDir;
export const HOST_LOCK = `${HOST_RUN_DIR}/lock`;

export function scriptLibrary(options: ScriptOptions): Command {
  return join([
    prelude({
      TP_ZYPP_LOCK_TIMEOUT: options.zyppLockTimeoutSeconds,
      TP_STEP_OUTPUT: options.stepOutput ? 1 : 0,
      TP_ALLOY_HTTP: ALLOY_HTTP,
      TP_NODE_EXPORTER_METRICS: NODE_EXPORTER_METRICS,
      TP_NODE_EXPORTER_UNIT: UNITS.nodeExporter,
      TP_RUN_DIR: HOST_RUN_DIR,
      TP_GENERATION: PATHS.applyGeneration,
      TP_STATE_DIR: PATHS.stateDir,
      TP_ALLOY_DEFAULT_DIR: PATHS.alloyDefaultDir,
      TP_ALLOY_SYSCONFIG: PATHS.alloySysconfig,
      TP_RPM_VERSIONS_FORMAT: RPM_VERSIONS_FORMAT,
    }),
    safeFiles(),
    leftovers(),
    probes(),
    shellFile('./lib.sh', import.meta.url),
    shellFile('./alloy.sh', import.meta.url),
    // Where this host's Alloy serves HTTP and how it validates (its CUSTOM_ARGS), for the
    // checks of a script that changes nothing too; tp_alloy_apply reads it again (an Alloy
    // installed by this run brings its sysconfig file).
    raw('tp_alloy_args "$TP_ALLOY_SYSCONFIG"'),
  ]);
}

/**
 * The start of an apply script: take the host's lock (two runs must never interleave their
 * writes), then remove what a killed run (SIGKILL, power loss) left in the folders this run
 * writes to and their parents (staging folders live in the nearest root-only folder), and its
 * scratch folder; under the lock nobody else can own them.
 */
export function applyPrelude(managedDirs: string[], basedOn: string): Command {
  const dirs = new Set<string>();
  for (const d of managedDirs) {
    dirs.add(d);
    if (dirname(d) !== '/') dirs.add(dirname(d));
  }
  return join([
    raw('tp_lock'),
    sh`tp_generation_check ${basedOn}`,
    raw('tp_clean_scratch'),
    join([raw('tp_clean_leftovers'), ...[...dirs].sort().map((d) => sh` ${d}`)], ''),
  ]);
}
