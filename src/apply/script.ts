// Turns a host plan into the one script that applies it: the library, one function per step
// (changes, then handlers), then the checks that prove the result. Steps stop at the first
// failure: what follows depends on what came before. A change that notifies handlers records
// them on the host as soon as it succeeded; a handler clears its record once it succeeded, so a
// failed or interrupted restart is retried by the next run.
import { dirname } from 'node:path';
import { type Command, join, raw, sh } from '../exec/command.ts';
import { PATHS } from '../facts/paths.ts';
import { type HostPlan, SUPERSEDES } from '../plan/types.ts';
import { applyPrelude, type ScriptOptions, scriptLibrary } from './script-lib.ts';

export interface Step {
  id: string; // change id or "handler:NAME"
  summary: string;
}

export function planSteps(plan: HostPlan): Step[] {
  return [
    ...plan.changes.map((c) => ({ id: c.id, summary: c.summary })),
    ...plan.handlers.map((h) => ({ id: `handler:${h.name}`, summary: h.summary })),
  ];
}

/** Does the host need the apply script (changes, or handlers left over from an earlier run)? */
export const needsApply = (plan: HostPlan): boolean => plan.changes.length > 0 || plan.handlers.length > 0;

export function applyScript(plan: HostPlan, options: ScriptOptions): Command {
  const runnable = new Set(plan.handlers.map((h) => h.name));
  const changeBodies = plan.changes.map((c) => {
    const notify = (c.notify ?? []).filter((n) => runnable.has(n));
    if (!notify.length) return c.script;
    return join([raw('{\n'), c.script, raw('\n} && tp_handlers_pending_add'), ...notify.map((n) => sh` ${n}`)], '');
  });
  const handlerBodies = plan.handlers.map((h) => {
    const done = [h.name, ...(SUPERSEDES[h.name] ? [SUPERSEDES[h.name]!] : [])];
    return join([raw('{\n'), h.script, raw('\n} && tp_handler_done'), ...done.map((n) => sh` ${n}`)], '');
  });
  const steps = [...changeBodies, ...handlerBodies].map((body, i) => join([raw(`tp_s${i}() {`), body, raw(`}\ntp_run ${i} tp_s${i} || exit 10`)]));
  const dirs = new Set([dirname(PATHS.alloySysconfig), PATHS.stateDir, ...plan.changes.filter((c) => c.id.startsWith('file:')).map((c) => dirname(c.id.slice(5)))]);
  return join([scriptLibrary(options), applyPrelude([...dirs]), ...steps, raw('tp_mark applied'), plan.verify, raw('tp_mark "done"')]);
}

export function verifyScript(plan: HostPlan, options: ScriptOptions): Command {
  return join([scriptLibrary(options), plan.verify, raw('tp_mark "done"')]);
}
