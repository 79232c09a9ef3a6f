// The shell programs that run on hosts live in real files (src/**/*.sh, checked by shellcheck
// in the tests); this module reads them and writes the small generated prelude that hands them
// their settings, every value quoted by the command type.
import { readFileSync } from 'node:fs';
import { type Command, join, raw, sh } from '../exec/command.ts';
import { MAX_HOST_FILE_BYTES } from '../facts/paths.ts';

/** Reads a shell file that sits next to the calling module (pass `import.meta.url`). */
export function shellFile(name: string, base: string): Command {
  return { parts: [raw(readFileSync(new URL(name, base), 'utf8'))] };
}

/** The name prefix of configure-alloy.sh's staging folders (tp_stage's TP_STAGE_PREFIX; the
 *  toolkit's runs use ".tp-stage."): a provision run removes leftovers of its own prefix only, so
 *  never the folder an agent start is using at that moment; an uninstall removes this prefix's
 *  too, once the agent is stopped. */
export const CONFIGURE_ALLOY_STAGE_PREFIX = '.tp-agent-stage.';

/** The functions every host-side program shares (safe writes, CONFIG_FILE reading), with the
 *  most a file they read may hold (TP_MAX_FILE_BYTES), so no program can leave it unset. */
export const safeFiles = (): Command => join([prelude({ TP_MAX_FILE_BYTES: MAX_HOST_FILE_BYTES }), shellFile('./safe-files.sh', import.meta.url)]);

/** The names of a killed run's leftovers, for the facts script (reported) and the apply (removed),
 *  and of a killed agent start's (configure-alloy.sh's prefix), for the uninstall. */
export const leftovers = (): Command => join([prelude({ TP_AGENT_STAGE_PREFIX: CONFIGURE_ALLOY_STAGE_PREFIX }), shellFile('./leftovers.sh', import.meta.url)]);

/** The read-only probes of the metrics providers, for the facts script and the apply checks. */
export const probes = (): Command => shellFile('./probes.sh', import.meta.url);

export type PreludeValue = string | number | readonly string[];

/** `NAME=value` lines (arrays as `NAME=(a b)`), every value quoted. */
export function prelude(vars: Record<string, PreludeValue>): Command {
  return join(
    Object.entries(vars).map(([name, value]) => {
      if (!/^[A-Z_][A-Z0-9_]*$/.test(name)) throw new Error(`prelude: ${name} is not a shell variable name`);
      if (typeof value === 'string' || typeof value === 'number') return sh`${raw(name)}=${value}`;
      return join([raw(`${name}=(`), ...value.map((v) => sh` ${v}`), raw(' )')], '');
    }),
  );
}
