// Phase 4: apply each host's plan (or only verify it) in one round trip, in waves when asked.
import { markerReader } from '../apply/markers.ts';
import { applyScript, planSteps, verifyScript } from '../apply/script.ts';
import { needsApply } from '../plan/types.ts';
import type { Emit, HostStatus } from '../output/events.ts';
import { execCommandLine, scriptForDisplay } from '../output/verbose.ts';
import { rollOut } from '../rollout/rollout.ts';
import { serialText, wavesOf } from '../rollout/waves.ts';
import { provenByFacts } from '../plan/checks.ts';
import { forEachLimit } from '../util/pool.ts';
import type { PrometheusEndpoint } from '../verify/prometheus-api.ts';
import { type RunOptions, type HostRecord, type PlannedHost, type RunContext, unexpectedFailure } from './types.ts';
import { PROOF_CUT, trentoProver } from './proof.ts';
import { runBounded } from './bounded.ts';
import type { Connector } from '../exec/connector.ts';
import { ConnectError } from '../exec/session.ts';
import { withoutSshLog } from '../exec/openssh.ts';

/**
 * Applies every planned host (or only verifies it, when nothing is to change), one round trip
 * each, in waves when asked (each wave applied and verified before the next starts); with
 * --verify-prometheus each host is then proved from Trento's side. --check applies nothing:
 * it finishes every host with what would change and shows the waves.
 */
export async function applyAll(
  hosts: HostRecord[],
  planned: PlannedHost[],
  verifyEndpoint: PrometheusEndpoint | undefined,
  sessions: Connector,
  ctx: RunContext,
): Promise<void> {
  const { options, emit, finish } = ctx;
  // Waves over every selected host in play order, reached or not: Ansible batches the
  // play's hosts before it knows which answer, and a host that failed counts in its batch.
  const inWaves = options.serial !== undefined || options.maxFailPercentage !== undefined;
  const waves = wavesOf(hosts, options.serial ?? []);
  if (inWaves) {
    emit({
      type: 'waves',
      serial: options.serial ? serialText(options.serial) : null,
      maxFailPercentage: options.maxFailPercentage ?? null,
      waves: waves.map((w) => w.map((h) => h.name)),
    });
  }
  const isPlanned = (h: HostRecord): h is PlannedHost => planned.includes(h as PlannedHost);
  // --verify-prometheus's prover, made when the apply starts (--check asks Prometheus nothing).
  let prove: ReturnType<typeof trentoProver> | undefined;
  const rollout = (applyWave: (list: HostRecord[], heldBack: (h: HostRecord) => string | undefined, wave: number) => Promise<void>) =>
    rollOut(
      waves,
      { check: options.check, stop: options.stop, ...(options.maxFailPercentage !== undefined ? { maxFailPercentage: options.maxFailPercentage } : {}) },
      {
        emit,
        applyWave,
        // --check: the hosts a run would apply or verify; a run: those not finished yet.
        pending: (h) => (options.check ? isPlanned(h) && (h.status === 'ok' || h.status === 'changed') : !h.status),
        notStarted: (h, message) => finish(h, 'skipped', message),
        unproven: () => prove?.viewError(),
      },
    );

  if (options.check) {
    for (const h of planned) finish(h, needsApply(h.plan) ? 'changed' : 'ok');
    if (inWaves) await rollout(async () => undefined);
    return;
  }

  emit({ type: 'phase', phase: 'apply', total: planned.length });
  prove = verifyEndpoint ? trentoProver(verifyEndpoint, ctx) : undefined;
  // A second Ctrl-C stops waiting for Prometheus too (the hosts left are reported as stopped).
  const aborted = new Promise<void>((r) => (options.abort.aborted ? r() : options.abort.addEventListener('abort', () => r(), { once: true })));
  const applyList = async (list: HostRecord[], heldBack: (h: HostRecord) => string | undefined = () => undefined, wave = 0) => {
    const proofs: Promise<void>[] = [];
    // Hosts applied whose proof from Trento's side is still awaited.
    const proving = new Set<HostRecord>();
    await forEachLimit(
      list.filter(isPlanned),
      options.forks,
      async (h) => {
        if (options.stop.aborted) return finish(h, 'skipped', 'not started: interrupted');
        const held = heldBack(h);
        if (held) return finish(h, 'skipped', held);
        let proof: Promise<void> | undefined;
        // A later wave may start long after the facts were read (an earlier wave's packages, its
        // proof from Trento's side): its converged hosts are verified on the host, not by them.
        const recheck = wave > 0 ? sessions : undefined;
        await applyHost(h, options, emit, recheck, (host, status, message) => {
          if (!prove || (status !== 'ok' && status !== 'changed')) return finish(host, status, message);
          // The proof waits on Prometheus, outside the fork pool: it holds no SSH slot.
          h.session.close();
          proving.add(h);
          // A fault of the proof's own (not Prometheus', which it reports) fails this host
          // alone, as the pool does for a host's apply: the other hosts and waves go on.
          proof = prove(h, status, message)
            .catch((error: unknown) => finish(h, 'failed', unexpectedFailure(error)))
            .finally(() => proving.delete(h));
          proofs.push(proof);
        });
        // With --max-fail-percentage, a host Trento does not see is a failure the wave's hold-back
        // must know of before the next host starts: the slot waits for its proof (still batched
        // with the other slots' in one query per poll).
        if (proof && options.maxFailPercentage !== undefined) await Promise.race([proof, aborted]);
      },
      (h, error) => finish(h, 'failed', unexpectedFailure(error)),
    );
    if (proofs.length && !inWaves) emit({ type: 'phase', phase: 'verify', total: proofs.length });
    await Promise.race([Promise.all(proofs), aborted]);
    // Cut while Prometheus was being asked: applied, but not proven; said so, not "stopped
    // before this host finished" (the prover says it too, as the view cuts its proofs; whichever
    // comes first, finish keeps the first word).
    for (const h of proving) finish(h, 'failed', PROOF_CUT);
  };
  if (inWaves) await rollout(applyList);
  else await applyList(planned);
}

/**
 * `recheck` (a host of a later wave; the run's connector): a host its facts proved converged is
 * verified on the host all the same, over a new session (its master went once its facts were
 * in), as the facts were read before the first wave.
 */
async function applyHost(
  h: PlannedHost,
  options: RunOptions,
  emit: Emit,
  recheck: Connector | undefined,
  finish: (h: PlannedHost, status: HostStatus, message?: string) => void,
): Promise<void> {
  const plan = h.plan;
  if (provenByFacts(plan) && !recheck) {
    // Nothing to change and every check held when the facts were read: no second round trip.
    for (const c of [...plan.checks, ...plan.retiredChecks]) emit({ type: 'host-verified', host: h.name, check: c.name, ok: true, byFacts: true });
    return finish(h, 'ok');
  }
  const steps = planSteps(plan);
  const scriptOptions = { zyppLockTimeoutSeconds: options.zyppLockTimeoutSeconds, stepOutput: options.stepOutput ?? false };
  const script = needsApply(plan) ? applyScript(plan, scriptOptions) : verifyScript(plan, scriptOptions);
  let failed = false;
  let sawDone = false;
  // A step's notes on what it found done already: its CHANGED line and the reports say them.
  const notes = new Map<number, string[]>();
  const read = markerReader((m) => {
    switch (m.kind) {
      case 'note':
        notes.set(m.step, [...(notes.get(m.step) ?? []), m.note]);
        break;
      case 'ok': {
        const s = steps[m.step];
        const noted = notes.get(m.step);
        if (s) emit({ type: 'change-applied', host: h.name, id: s.id, summary: noted ? `${s.summary}; ${noted.join('; ')}` : s.summary });
        if (s && m.output) emit({ type: 'step-output', host: h.name, id: s.id, output: m.output });
        break;
      }
      case 'failed': {
        const s = steps[m.step];
        failed = true;
        emit({ type: 'change-failed', host: h.name, id: s?.id ?? `step ${m.step}`, summary: s?.summary ?? '', rc: m.rc, output: m.output });
        break;
      }
      case 'warn':
        emit({ type: 'host-warning', host: h.name, message: m.message });
        break;
      case 'verified':
        emit({ type: 'host-verified', host: h.name, check: m.check, ok: true });
        break;
      case 'unverified':
        failed = true;
        emit({ type: 'host-verified', host: h.name, check: m.check, ok: false, output: m.output });
        break;
      case 'done':
        sawDone = true;
        break;
      default:
        break;
    }
  });
  emit({ type: 'host-exec', host: h.name, script: 'apply', command: execCommandLine(h.spec), body: () => scriptForDisplay(script) });
  let ran: Awaited<ReturnType<typeof runBounded>>;
  try {
    if (recheck && provenByFacts(plan)) {
      h.earlierRoundTrips = (h.earlierRoundTrips ?? 0) + h.session.roundTrips();
      // One script on it: no master forked only to be closed again.
      h.session = await recheck.open(h.spec, { oneRoundTrip: true });
      // A second Ctrl-C while it connected (paramiko connects in open()) closed the sessions
      // there were, not this one: nothing is run on it.
      if (options.abort.aborted) h.session.close();
    }
    ran = await runBounded(h.session, script, options, { remoteSeconds: h.spec.scriptTimeoutSeconds }, read);
  } catch (error) {
    // A login here (a later wave's recheck, on a new session; paramiko's in open(); or OpenSSH's
    // own, its master gone since the facts) may find the host gone or refusing: nothing ran on it.
    if (!(error instanceof ConnectError)) throw error;
    emit({
      type: 'host-unreachable',
      host: h.name,
      message: `logging in again for the ${needsApply(plan) ? 'apply' : 'checks'}: ${error.message}; nothing was run on the host`,
    });
    // Unreachable, whatever refused the login, as with the facts (and Ansible).
    return finish(h, 'unreachable');
  }
  const { result, problem } = ran;
  // stdout is the markers, already shown as CHANGED/FAILED and step output; stderr is the rest.
  emit({ type: 'host-exec-result', host: h.name, script: 'apply', code: result.code, output: () => result.stderr });
  if (problem) return finish(h, 'failed', `${problem}; the next run converges from what the host has`);
  if (result.code === null && !sawDone && options.abort.aborted) {
    // Cut by the run itself (SIGTERM, a second Ctrl-C), not lost: the host was there.
    return finish(
      h,
      'failed',
      'the apply was cut by the interrupt; the host goes on with its script on its own (it ignores a dropped connection); run again to see where it ended and to converge',
    );
  }
  if (result.code === null && !sawDone) {
    emit({
      type: 'host-unreachable',
      host: h.name,
      message: `connection lost during apply (${result.stderr.trim() || 'the client gave no reason'}); the host goes on with the rest of its script on its own (it ignores a dropped connection); run again to see where it ended and to converge`,
    });
    return finish(h, 'unreachable');
  }
  if (failed) return finish(h, 'failed');
  if (!sawDone) {
    // (ssh's -vvv lines at -vvvv left out: its closing lines would push the reason out of the last five)
    const why = withoutSshLog(result.stderr).trim().split('\n').slice(-5).join('\n');
    return finish(h, 'failed', `the apply script stopped early (exit ${result.code})${why ? `: ${why}` : ''}`);
  }
  finish(h, needsApply(plan) ? 'changed' : 'ok');
}
