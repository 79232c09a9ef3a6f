// Turns a host plan into the one script that applies it: the library, one function per step
// (changes, then handlers), then the checks that prove the result, then the changes that retire
// what the result replaces (only if every check passed), then their own checks. Steps stop at
// the first failure: what follows depends on what came before. A change that notifies handlers
// records them on the host before it runs; a handler clears its record once it succeeded, so a
// failed or interrupted restart, or one whose change was cut short, is run by the next run.
import { dirname } from 'node:path';
import { type Command, join, raw, sh } from '../exec/command.ts';
import { PATHS } from '../facts/paths.ts';
import { checksScript } from '../plan/checks.ts';
import { type Change, type HandlerName, type HostPlan, isRetire, SUPERSEDES } from '../plan/types.ts';
import { applyPrelude, type ScriptOptions, scriptLibrary } from './script-lib.ts';

export interface Step {
  id: string; // change id or "handler:NAME"
  summary: string;
}

/** The changes and handlers in the order the apply script runs them (its step numbers). */
function ordered(plan: HostPlan): { converge: Change[]; retire: Change[] } {
  return { converge: plan.changes.filter((c) => !isRetire(c)), retire: plan.changes.filter(isRetire) };
}

export function planSteps(plan: HostPlan): Step[] {
  const { converge, retire } = ordered(plan);
  return [
    ...converge.map((c) => ({ id: c.id, summary: c.summary })),
    ...plan.handlers.map((h) => ({ id: `handler:${h.name}`, summary: h.summary })),
    ...retire.map((c) => ({ id: c.id, summary: c.summary })),
  ];
}

const step = (i: number, body: Command): Command => join([raw(`tp_s${i}() {`), body, raw(`}\ntp_run ${i} tp_s${i} || tp_fail_exit`)]);

export function applyScript(plan: HostPlan, options: ScriptOptions): Command {
  const { converge, retire } = ordered(plan);
  const runnable = new Set(plan.handlers.map((h) => h.name));
  // A notified handler the plan left out for one that supersedes it (reload alloy, when restart
  // alloy runs) is recorded too: a run cut before the later change that notified the restart
  // still leaves Alloy's reload owed, and the restart, once it ran, clears both. (Not the restart
  // itself: it is owed only once its own change ran, a switch of CONFIG_FILE say.)
  const owed = (n: HandlerName) => (runnable.has(n) || plan.handlers.some((h) => SUPERSEDES[h.name] === n) ? n : undefined);
  const changeBodies = converge.map((c) => {
    const pending = [...new Set([...(c.followUp ? [c.followUp] : []), ...(c.notify ?? []).flatMap((n) => owed(n) ?? [])])];
    if (!pending.length) return c.script;
    // Recorded before the change: one cut short after its write (its follow-up failed, the
    // connection dropped, --remote-timeout) has changed the host, and the next run, seeing the
    // file converged, would otherwise never run what the write needs.
    return join([raw('tp_handlers_pending_add'), ...pending.map((n) => sh` ${n}`), raw(' && {\n'), c.script, raw('\n}')], '');
  });
  const handlerBodies = plan.handlers.map((h) => {
    const done = [h.name, ...(SUPERSEDES[h.name] ? [SUPERSEDES[h.name]!] : [])];
    // A start left to this handler is its own from here on, whether it succeeds or not.
    const taken = h.restarts ? [sh`tp_deferred_taken ${h.restarts}`, raw('\n')] : [];
    return join([...taken, raw('{\n'), h.script, raw('\n} && tp_handler_done'), ...done.map((n) => sh` ${n}`)], '');
  });
  const bodies = [...changeBodies, ...handlerBodies];
  const steps = bodies.map((body, i) => step(i, body));
  const retireSteps = retire.map((c, i) => step(bodies.length + i, c.script));
  const dirs = new Set([
    dirname(PATHS.alloySysconfig),
    PATHS.stateDir,
    // The folders of the files the plan writes or removes (not those of records it only edits).
    ...plan.changes.flatMap((c) => (c.kind === 'file' && c.path !== undefined && c.id === `file:${c.path}` ? [dirname(c.path)] : [])),
  ]);
  return join([
    scriptLibrary(options),
    applyPrelude([...dirs], plan.basedOn),
    ...steps,
    raw('tp_mark applied'),
    checksScript(plan.checks),
    retireAfterProof(retire, retireSteps, checksScript(plan.retiredChecks)),
    // Last, after the retire steps that forget records: a folder of empty records goes (this
    // run's staging folders first, one of which is in it; nothing is put back after this point).
    raw('tp_unstage\ntp_state_tidy || tp_warn "could not remove the empty record folder $TP_STATE_DIR"'),
    raw('tp_mark "done"'),
  ]);
}

/**
 * The retire steps, behind the checks that prove the new setup: one failed check and the old
 * setup stays as it is (the host is reported failed by that check, and the next run plans the
 * retire again). Before the checks, a reload or restart that "succeeded" could still leave a
 * host delivering nothing; after them, Alloy is ready, runs Trento's pipeline and has delivered.
 */
function retireAfterProof(retire: Change[], retireSteps: Command[], verifyRetired: Command): Command {
  if (!retire.length) return verifyRetired;
  const kept = retire.map((c) => c.summary).join('; ');
  return join([
    raw('if tp_all_verified; then'),
    ...retireSteps,
    verifyRetired,
    raw('else'),
    sh`tp_warn ${`not done, as the checks above did not all pass (what it would retire stays; the next run does it once they pass): ${kept}`}`,
    raw('fi'),
  ]);
}

export function verifyScript(plan: HostPlan, options: ScriptOptions): Command {
  return join([scriptLibrary(options), checksScript(plan.checks), checksScript(plan.retiredChecks), raw('tp_mark "done"')]);
}
