// Phase 2: connect and read facts, one round trip per host.
import { setTimeout as delay } from 'node:timers/promises';
import type { Command } from '../exec/command.ts';
import { type ConnectionSpec, connectionFor } from '../exec/connection.ts';
import type { connector } from '../exec/connector.ts';
import { ConnectError, type Session } from '../exec/session.ts';
import { PATHS } from '../facts/paths.ts';
import { FACTS_BASE_WAIT_SECONDS } from '../facts/limits.ts';
import { factsScript } from '../facts/script.ts';
import { parseFacts } from '../facts/parse.ts';
import { clockSkewMs as clockSkewOf } from '../facts/sources/clock.ts';
import { FactsError, type HostFacts } from '../facts/types.ts';
import { connectionForDisplay, execCommandLine, factsOutputForDisplay, scriptForDisplay } from '../output/verbose.ts';
import { platformOf, type SupportedPlatform } from '../platform.ts';
import { agentIdFromMachineId } from '../settings/agent-id.ts';
import { resolvedHostVars } from '../settings/discovery.ts';
import { packageStateFor, upgradesPackages } from '../settings/host-settings.ts';
import { forEachLimit } from '../util/pool.ts';
import { type HostRecord, type Planning, type ReachedHost, type RunContext, unexpectedFailure } from './types.ts';
import { leavesNothingToRun, planHostOf } from './plan.ts';
import { runBounded, type ScriptLimit } from './bounded.ts';
import { sudoFailureHint } from '../exec/sudo-failures.ts';
import { withoutSshLog } from '../exec/openssh.ts';

/**
 * Connects to every host and reads its facts (one round trip each, up to --forks at once).
 * Returns the supported hosts that answered; every other host is finished here (unreachable,
 * failed, or refused with the reason).
 */
export async function gatherFacts(hosts: HostRecord[], sessions: ReturnType<typeof connector>, ctx: RunContext): Promise<ReachedHost[]> {
  const { options, emit, defaults, finish } = ctx;
  const reached: ReachedHost[] = [];
  // One facts script per variant (with or without the repositories' updates), built once for
  // the run: it reads a dozen shell files, and every host of a variant runs the same text.
  const scripts = new Map<boolean, Command>();
  const scriptFor = (withUpdates: boolean) => {
    let script = scripts.get(withUpdates);
    if (!script) {
      script = factsScript({
        withContent: options.diff || options.uninstall,
        withUpdates,
        withProbes: !options.check,
        withCandidate: !options.uninstall,
        forUninstall: options.uninstall,
        zyppLockTimeoutSeconds: options.zyppLockTimeoutSeconds,
      });
      scripts.set(withUpdates, script);
    }
    return script;
  };
  emit({ type: 'phase', phase: 'facts', total: hosts.length });
  const perHost = async (h: HostRecord) => {
    if (options.stop.aborted) return finish(h, 'skipped', 'not started: interrupted');
    const spec = connectionFor(h.name, h.vars, options.connection);
    emit({ type: 'host-connect', host: h.name, details: connectionForDisplay(spec) });
    const unreachable = (error: unknown) => {
      emit({ type: 'host-unreachable', host: h.name, message: (error as Error).message });
      return finish(h, 'unreachable', undefined);
    };
    const upgrades = upgradesPackages(packageStateFor(resolvedHostVars(h.vars, h.origins, defaults, h.play)), options.uninstall);
    const script = scriptFor(upgrades);
    emit({ type: 'host-exec', host: h.name, script: 'facts', command: execCommandLine(spec), body: () => scriptForDisplay(script) });
    const connected = await connectAndRun(h, spec, script, sessions, ctx);
    // This machine's clock as the facts' answer arrived: what the host's clock is measured against.
    const answeredAt = Date.now();
    if ('interrupted' in connected) {
      // Ctrl-C while waiting to connect again: its facts were not read, and it was not found
      // unreachable (retries were left), so it is a host the run did not get to.
      return finish(h, 'skipped', `not tried again: interrupted (${connected.interrupted})`);
    }
    if ('error' in connected) return unreachable(connected.error);
    const { session, ran } = connected;
    const { result, problem } = ran;
    emit({
      type: 'host-exec-result',
      host: h.name,
      script: 'facts',
      code: result.code,
      output: () => [factsOutputForDisplay(result.stdout), result.stderr].filter((t) => t.trim()).join('\n'),
    });
    if (problem) return finish(h, 'failed', `reading facts: ${problem}`);
    let facts: HostFacts;
    try {
      if (result.code !== 0) throw new FactsError(withoutSshLog(result.stderr).trim() || `exit ${result.code}`);
      facts = parseFacts(result.stdout);
    } catch (error) {
      const sudoSaid = sudoFailureHint(result.stderr);
      const becomeHint = sudoSaid ? ` (become failed: ${sudoSaid})` : '';
      // Cut by the run itself (SIGTERM, a second Ctrl-C): the host was there, and the facts
      // script only reads.
      if (result.code === null && options.abort.aborted) return finish(h, 'skipped', 'facts not read: cut by the interrupt');
      if (result.code === null) {
        emit({ type: 'host-unreachable', host: h.name, message: lostWhileReading(result) });
        return finish(h, 'unreachable');
      }
      return finish(h, 'failed', `cannot read facts: ${(error as Error).message}${becomeHint}`);
    }
    const platform = platformOf(facts, options.uninstall ? 'uninstall' : 'install');
    if (!platform.supported) {
      emit({ type: 'host-refused', host: h.name, product: platform.product, reason: platform.refusal });
      return finish(h, 'skipped');
    }
    const admitted = admit(facts, platform, options.uninstall);
    if ('refused' in admitted) return finish(h, 'failed', admitted.refused);
    const { agentId } = admitted;
    emit({ type: 'host-facts', host: h.name, product: platform.product, provider: platform.provider, mode: platform.mode, agentId });
    for (const message of facts.warnings) emit({ type: 'host-warning', host: h.name, message });
    const clockSkewMs = clockSkewOf(facts, answeredAt);
    const host = Object.assign(h, { session, spec, facts, platform, agentId, ...(clockSkewMs !== undefined ? { clockSkewMs } : {}) });
    let planning: Planning;
    try {
      planning = planHostOf(host, ctx);
    } catch (error) {
      // The toolkit's own failure (a role's template): this host fails, the others go on.
      const where = (error as Error).stack?.split('\n').slice(1, 4).join(' / ').replace(/\s+/g, ' ').trim();
      return finish(
        h,
        'failed',
        `cannot plan this host, a fault of the toolkit's (please report it): ${(error as Error).message}${where ? ` (${where})` : ''}`,
      );
    }
    // A unit the plan must start that the admin masked: said before any change, in --check too.
    if (planning.stage === 'planned' && planning.plan.refusals.length) return finish(h, 'failed', planning.plan.refusals.join('; '));
    // A host with nothing left to run (--check, converged and proven by its facts, or a setting
    // wrong) lets its master and its session on the host go now, not once every other host has
    // answered: a fleet's worth of idle masters here, and sessions there, until then (--check
    // makes none of its own, but a ControlPath of the admin's may). Hosts that end above
    // (failed, refused) close theirs in finish().
    if (leavesNothingToRun(planning, options.check)) session.close();
    reached.push(Object.assign(host, { planning }));
  };
  await forEachLimit(hosts, options.forks, perHost, (h, error) => finish(h, 'failed', unexpectedFailure(error)));
  // Play order, whatever order the hosts answered in.
  const inOrder = hosts.filter((h): h is ReachedHost => reached.includes(h as ReachedHost));
  // An uninstall renders no agent ID, and two names of one machine cannot interleave there (the
  // host's lock, then the apply generation): clones that kept one machine-id lose Trento too.
  return options.uninstall ? inOrder : withoutSharedAgentIds(inOrder, ctx);
}

/**
 * Fails every host whose agent ID (from /etc/machine-id) another reached host has too: the same
 * machine under two inventory names, which two concurrent runs of the scripts would change at
 * once, or a clone that kept its template's /etc/machine-id, which Trento would take for one
 * host (and whose one host's metrics would prove both). Returns the others, in order.
 */
/**
 * Whether a host can be planned from its facts, before any change (in --check too): its agent ID,
 * or why not.
 */
function admit(facts: HostFacts, platform: SupportedPlatform, uninstall: boolean): { agentId: string } | { refused: string } {
  // Not root, the facts cannot read what they must (agent.yaml is 0600 root, the toolkit's
  // records 0700): a plan from them would be wrong (files reported absent), and the apply would
  // fail half way. Ansible would fail task by task; this says why once.
  if (facts.uid !== 0) {
    const who = Number.isInteger(facts.uid) ? `uid ${facts.uid}` : 'a user the facts could not tell';
    return {
      refused: `the scripts run as ${who}, not root: they read root-only files (/etc/trento/agent.yaml) and install packages; log in as root, or set ansible_become=true (-b) with a sudo account`,
    };
  }
  // Whoever can write the sysconfig would choose where root writes trento.alloy (and removes it).
  if (platform.provider === 'alloy' && facts.alloy.sysconfigUnsafe) {
    return { refused: facts.alloy.sysconfigUnsafe };
  }
  // The apply would refuse to write trento.alloy there (and uninstall to remove it).
  if (platform.provider === 'alloy' && facts.alloy.configDirUnsafe) {
    return { refused: `Alloy's configuration folder (CONFIG_FILE in ${PATHS.alloySysconfig}): ${facts.alloy.configDirUnsafe}` };
  }
  try {
    return { agentId: agentIdFromMachineId(facts.machineId) };
  } catch (error) {
    // An uninstall renders nothing with the agent ID: a cloned VM whose machine-id was emptied
    // (the usual step before its first boot) can have Trento removed all the same.
    if (uninstall) return { agentId: '' };
    return { refused: `/etc/machine-id: ${(error as Error).message}; run systemd-machine-id-setup on the host` };
  }
}

function withoutSharedAgentIds(reached: ReachedHost[], { finish }: Pick<RunContext, 'finish'>): ReachedHost[] {
  const byId = new Map<string, ReachedHost[]>();
  for (const h of reached) byId.set(h.agentId, [...(byId.get(h.agentId) ?? []), h]);
  return reached.filter((h) => {
    const others = byId.get(h.agentId)!.filter((o) => o !== h);
    if (others.length === 0) return true;
    finish(
      h,
      'failed',
      `its agent ID ${h.agentId} (from /etc/machine-id) is also ${others.map((o) => o.name).join(', ')}'s: the same machine listed twice in the inventory (list it once), or a clone that kept its template's /etc/machine-id, which Trento would see as one host (on the clone: rm /etc/machine-id; systemd-machine-id-setup; reboot)`,
    );
    return false;
  });
}

function factsLimit(spec: ConnectionSpec, zyppLockTimeoutSeconds: number): ScriptLimit {
  const seconds = FACTS_BASE_WAIT_SECONDS + 2 * zyppLockTimeoutSeconds;
  return {
    remoteSeconds: spec.scriptTimeoutSeconds,
    ...(spec.scriptTimeoutSeconds > 0 && spec.scriptTimeoutSeconds <= seconds
      ? {}
      : {
          wait: {
            seconds,
            problem: `the host did not send its facts within ${seconds} s (${FACTS_BASE_WAIT_SECONDS} s and twice --zypper-lock-timeout): a command of the read-only facts script hangs there (systemctl on a D-Bus that does not answer, a dead NFS mount?); the connection was closed, check the host`,
          },
        }),
  };
}

const lostWhileReading = (result: { stderr: string }) => `connection lost while reading facts: ${result.stderr.trim() || 'no reason given'}`;

/**
 * Opens the host's session and runs the facts script, the first round trip (with OpenSSH the
 * login happens there: a failed one rejects it with a ConnectError). A host that cannot be
 * reached, or whose connection is lost while the facts are read, is tried again as Ansible's ssh
 * plugin does (ansible_ssh_retries, [ssh_connection] retries), after 0, 1, 3, 7... s: the facts
 * script only reads, so running it again is safe (the apply's scripts are not run twice: one lost
 * half way may still be running on the host). A refused key or host key would be refused again,
 * and a wrong password again could lock the account, so those are not. A Ctrl-C while retries
 * are left makes none: the host is then one the run did not get to, not an unreachable one.
 */
async function connectAndRun(
  h: HostRecord,
  spec: ConnectionSpec,
  script: Command,
  sessions: ReturnType<typeof connector>,
  { options, emit }: RunContext,
): Promise<{ session: Session; ran: Awaited<ReturnType<typeof runBounded>> } | { error: unknown } | { interrupted: string }> {
  const stopped = () => options.stop.aborted || options.abort.aborted;
  /** Retries were left, and a Ctrl-C is why none was made. */
  const interruptedAt = (attempt: number) => attempt < spec.retries && stopped();
  /** Whether to try again after `why`: the session closed, warned, paused; false when out of
   *  retries or stopped (before or during the pause: the caller tells which by stopped()). */
  const again = async (attempt: number, session: Session, why: string): Promise<boolean> => {
    if (attempt >= spec.retries || stopped()) return false;
    session.close();
    const pause = Math.min(2 ** attempt - 1, 30);
    emit({
      type: 'host-warning',
      host: h.name,
      message: `${why}; connecting again${pause ? ` in ${pause} s` : ''} (retry ${attempt + 1} of ${spec.retries}: ansible_ssh_retries / retries)`,
    });
    try {
      await delay(pause * 1000, undefined, { signal: AbortSignal.any([options.stop, options.abort]) });
      return true;
    } catch {
      return false;
    }
  };
  for (let attempt = 0; ; attempt++) {
    let session: Session;
    try {
      session = h.session = await sessions.open(spec);
    } catch (error) {
      // Only a connection that failed makes a host unreachable; anything else open() throws is
      // this machine's (the control sockets' folder): the host fails, naming it.
      if (!(error instanceof ConnectError)) throw error;
      return { error };
    }
    // A second Ctrl-C (or SIGTERM) while the host was connecting (paramiko connects in open())
    // closed the sessions there were, not this one: nothing more is run on it.
    if (options.abort.aborted) session.close();
    let ran: Awaited<ReturnType<typeof runBounded>>;
    try {
      ran = await runBounded(session, script, options, factsLimit(spec, options.zyppLockTimeoutSeconds));
    } catch (error) {
      if (!(error instanceof ConnectError)) throw error;
      if (error.failure !== 'unreachable') return { error };
      if (!(await again(attempt, session, error.message))) return interruptedAt(attempt) ? { interrupted: error.message } : { error };
      continue;
    }
    // Lost after the login (no exit status came back), not closed by the run itself (a limit, a
    // stop: again() declines then), and not for a reason a new connection would meet again.
    const lost = ran.result.code === null && !ran.problem && !ran.result.lostHere;
    if (!lost) return { session, ran };
    if (!(await again(attempt, session, lostWhileReading(ran.result)))) {
      // A second Ctrl-C closes every session itself: that read was cut by the run, not lost, and is
      // reported as with no retries left.
      return interruptedAt(attempt) && !options.abort.aborted ? { interrupted: lostWhileReading(ran.result) } : { session, ran };
    }
    // The script reached the host on that session (a refused connection reached nothing).
    h.earlierRoundTrips = (h.earlierRoundTrips ?? 0) + session.roundTrips();
  }
}
