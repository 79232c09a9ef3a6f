// Turns a host plan into the one script that applies it: the library, one function per step
// (changes, then handlers), then the checks that prove the result. Steps stop at the first
// failure: what follows depends on what came before.
import { type Command, join, raw } from '../exec/command.ts';
import type { HostPlan } from '../plan/types.ts';
import { dirname } from 'node:path';
import { PATHS } from '../facts/paths.ts';
import { ALLOY_LIB, applyPrelude, type ScriptOptions, scriptLib } from './script-lib.ts';

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

function library(options: ScriptOptions): Command {
  return join([raw(scriptLib(options)), raw(ALLOY_LIB)]);
}

export function applyScript(plan: HostPlan, options: ScriptOptions): Command {
  const bodies = [...plan.changes.map((c) => c.script), ...plan.handlers.map((h) => h.script)];
  const steps = bodies.map((body, i) => join([raw(`tp_s${i}() {`), body, raw(`}\ntp_run ${i} tp_s${i} || exit 10`)]));
  const dirs = new Set([dirname(PATHS.alloySysconfig), ...plan.changes.filter((c) => c.id.startsWith('file:')).map((c) => dirname(c.id.slice(5)))]);
  return join([library(options), raw(applyPrelude([...dirs])), ...steps, raw('tp_mark applied'), plan.verify, raw('tp_mark done')]);
}

export function verifyScript(plan: HostPlan, options: ScriptOptions): Command {
  return join([library(options), plan.verify, raw('tp_mark done')]);
}
