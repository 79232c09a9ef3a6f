// The run: gather facts, plan, show, apply, verify (pyinfra's order). Every host's plan is
// computed, and every host's settings validated, before any host is changed. One host's
// failure never stops the others; the tally decides the exit code. Each phase is a file of
// this folder: settings.ts (no host needed), facts.ts, plan.ts, apply.ts (with proof.ts).
import { planSteps } from '../apply/script.ts';
import { connector } from '../exec/connector.ts';
import type { Inventory } from '../inventory/index.ts';
import type { HostStatus } from '../output/events.ts';
import { wouldChange } from '../output/tally.ts';
import { loadRoleDefaults } from '../settings/defaults.ts';
import { templatedConnectionVars } from '../settings/connection-vars.ts';
import { playViewOf } from '../settings/discovery.ts';
import { usedSecrets } from '../settings/used-secrets.ts';
import type { RunOptions, RunSinkHooks, HostRecord, RunContext } from './types.ts';
import { checkHostlessSettings } from './settings.ts';
import { gatherFacts } from './facts.ts';
import { planAll } from './plan.ts';
import { applyAll } from './apply.ts';
import { basicCredentials } from '../verify/prometheus-api.ts';

export class UsageError extends Error {}

export async function run(inventory: Inventory, options: RunOptions, sink: RunSinkHooks): Promise<void> {
  const started = Date.now();
  const hosts = selectHosts(inventory, options);
  const defaults = loadRoleDefaults(); // read once, not per host
  // Only the secrets the toolkit uses (vault values and typed passwords are in the set already):
  // a server-side password it never reads must not mask its letters in every message. Every
  // secret of agent.yaml and trento.alloy is one of these values (or its URL-encoded spelling,
  // which the set covers), so the set is complete before the first event.
  // Connection variables pointing at others ("{{ vault_sudo_password }}") evaluated first: the
  // connection reads plain values, and the secrets below are then the values it will use.
  const connectionProblems = new Map(
    hosts.map((h) => {
      const templated = templatedConnectionVars(h.name, h.vars, h.origins, defaults);
      h.vars = templated.vars;
      return [h, templated.problems];
    }),
  );
  const used = new Map(hosts.map((h) => [h, usedSecrets(h.vars, h.origins, defaults, h.play)]));
  sink.secrets.add([...used.values()].flat().map((s) => s.value));
  const emit = sink.emit;
  const end = (exitCodeHint?: number) => emit({ type: 'run-end', exitCode: exitCodeHint ?? 0, durationMs: Date.now() - started });
  const finish = (h: HostRecord, status: HostStatus, message?: string) => {
    if (h.status) return;
    h.status = status;
    // check: what would change (a pending handler alone counts); apply: every step that ran
    const changed = h.plan ? (options.check ? wouldChange(h.plan.changes, h.plan.handlers) : planSteps(h.plan).length) : 0;
    emit({
      type: 'host-done',
      host: h.name,
      status,
      changed,
      roundTrips: (h.earlierRoundTrips ?? 0) + (h.session?.roundTrips() ?? 0),
      ...(message ? { message } : {}),
    });
    h.session?.close();
  };
  const ctx: RunContext = { options, emit, defaults, finish };

  emit({ type: 'run-start', mode: options.uninstall ? 'uninstall' : 'install', check: options.check, hosts: hosts.map((h) => h.name), forks: options.forks });

  // 1. Settings that need no host: all of them, before any connection.
  // A settings error stops the run before any change: every host is "not run", in the reports too.
  const stoppedBySettings = () => {
    for (const h of hosts) finish(h, 'skipped', 'not run: settings errors (nothing was changed on any host)');
    return end(1);
  };
  const settings = checkHostlessSettings(hosts, used, connectionProblems, ctx);
  if (!settings.ok) return stoppedBySettings();
  const basic = settings.verifyEndpoint && basicCredentials(settings.verifyEndpoint);
  if (basic) sink.secrets.add([basic]);
  if (options.settingsOnly) return end(0);

  const onAbort = () => {
    for (const h of hosts) h.session?.close();
  };
  options.abort.addEventListener('abort', onAbort, { once: true });
  // --check reads facts only: one round trip per host, so no master is worth forking.
  const sessions = connector({ ...(options.controlPathDir ? { controlPathDir: options.controlPathDir } : {}), oneRoundTrip: options.check });
  try {
    // 2. Facts: one round trip per host.
    const reached = await gatherFacts(hosts, sessions, ctx);
    // 3. Settings that depend on the platform, then plans (made as each host answered, shown
    //    now): all before any change.
    const planned = planAll(reached, ctx);
    if (!planned) return stoppedBySettings();
    // 4. Apply (or only verify), in waves when asked; 5. proof from Trento's side.
    await applyAll(hosts, planned, settings.verifyEndpoint, sessions, ctx);
  } finally {
    options.abort.removeEventListener('abort', onAbort);
    for (const h of hosts) if (!h.status) finish(h, 'failed', 'stopped before this host finished');
    // No ssh process and no control socket outlives the run.
    await sessions.close();
  }
  return end();
}

/** The hosts of the run (options.hosts: --limit keeps the play's order, as ansible-playbook does). */
function selectHosts(inventory: Inventory, options: RunOptions): HostRecord[] {
  const names = options.hosts;
  if (names.length === 0) {
    throw new UsageError(`no hosts matched ${options.limit ? `--limit ${options.limit}` : 'the inventory'} in ${inventory.sources.join(', ')}`);
  }
  return names.map((name) => {
    const entry = inventory.hosts.get(name)!;
    // A vault of this host's variables that no password given opens: its settings cannot be
    // known (those of hosts outside the play need not open, as with ansible-playbook).
    const closed = entry.unreadable?.[0];
    if (closed) throw closed;
    return {
      name,
      vars: { ...entry.vars, ...options.extraVars.vars },
      origins: { ...entry.origins, ...options.extraVars.origins },
      play: playViewOf(inventory, name, options.extraVars.vars),
    };
  });
}
