// The rollout: waves one after another, each applied and verified before the next starts;
// after each, waveVerdict decides whether later waves may start. Facts and plans of every
// host are already known (run.ts reads and plans them all before any change, as before), so
// a wave whose hosts already failed past the threshold (unreachable, facts) changes nothing,
// as Ansible stops a batch after its gather-facts task.
import type { Emit, HostStatus } from '../output/events.ts';
import { waveVerdict } from './waves.ts';

export interface WaveHost {
  name: string;
  /** Set once the host is finished (failed, unreachable, refused...). */
  status?: HostStatus;
}

export interface RolloutOptions {
  maxFailPercentage?: number;
  /** --check: nothing is applied; the waves and where the rollout would stop are shown. */
  check: boolean;
  /** First Ctrl-C: no wave starts after it. */
  stop: AbortSignal;
}

export interface RolloutHooks<H extends WaveHost> {
  emit: Emit;
  /** Applies (and verifies) the wave's hosts that are still to do, up to --forks at once.
   *  `heldBack(h)`, asked just before a host starts: why it must not (the wave's failures
   *  already passed --max-fail-percentage), as the message it is finished with (skipped).
   *  `wave`: the wave's index (0 the first); the facts of a later wave's hosts are older than
   *  the earlier waves. */
  applyWave(hosts: H[], heldBack: (h: H) => string | undefined, wave: number): Promise<void>;
  /** Whether a host still waits for its wave (not finished; in --check: would be applied). */
  pending(h: H): boolean;
  /** Finishes a host whose wave never starts (nothing was changed on it). */
  notStarted(h: H, message: string): void;
  /** Why the wave's hosts could not be proven from Trento's side (--verify-prometheus: its
   *  Prometheus could not be asked), if so: the next wave does not start on an unproven one. */
  unproven?(): string | undefined;
}

const failedIn = (wave: WaveHost[]) => wave.filter((h) => h.status === 'failed' || h.status === 'unreachable').length;
const unreachableIn = (wave: WaveHost[]) => wave.filter((h) => h.status === 'unreachable').length;
/** Hosts of the wave finished without a change or a failure: refused (an unsupported product),
 *  held back or kept from starting. */
const skippedIn = (wave: WaveHost[]) => wave.filter((h) => h.status === 'skipped').length;

export async function rollOut<H extends WaveHost>(waves: H[][], options: RolloutOptions, hooks: RolloutHooks<H>): Promise<void> {
  const { emit } = hooks;
  /** Later waves do not start; `unchanged`: hosts of the stopping wave it never applied. */
  const stopAt = (next: number, stoppedBy: number | null, reason: string, unchanged: H[] = []) => {
    // Every host of a wave that never starts is named as not started; one that failed when its
    // facts were read (unreachable, refused) keeps that status, which the exit code tells too:
    // the run did reach for it, unlike Ansible, which never contacts a later batch.
    const later = waves.slice(next).flat();
    if (!options.check) {
      for (const h of later.filter(hooks.pending)) {
        const wave = waves.findIndex((w) => w.includes(h)) + 1;
        hooks.notStarted(h, `not started: wave ${wave} of ${waves.length} never started (${reason}); nothing was changed on this host`);
      }
    }
    emit({ type: 'rollout-stopped', wave: stoppedBy, reason, notStarted: [...unchanged, ...later].map((h) => h.name) });
  };
  /** Wave i's end as its hosts stand now; `stopped`: why it stopped the rollout. */
  const waveEnd = (i: number, stopped: string | undefined) => {
    const wave = waves[i]!;
    emit({ type: 'wave-end', wave: i + 1, size: wave.length, failed: failedIn(wave), skipped: skippedIn(wave), ...(stopped ? { stopped } : {}) });
  };
  for (let i = 0; i < waves.length; i++) {
    const wave = waves[i]!;
    if (options.stop.aborted && !options.check) return stopAt(i, null, 'interrupted');
    // Failures known before the wave starts (unreachable, facts) count as in Ansible's batch.
    const before = waveVerdict(wave.length, failedIn(wave), options.maxFailPercentage, unreachableIn(wave));
    if (!options.check) emit({ type: 'wave-start', wave: i + 1, of: waves.length, hosts: wave.map((h) => h.name) });
    // The wave's hosts still to start (none was finished since: only a stop below finishes them).
    const unchanged = wave.filter(hooks.pending);
    // The last wave with no host left to start: nothing to stop (its failures are in its hosts'
    // statuses and the exit code), as after a last wave that ran.
    if (before.stop && (i < waves.length - 1 || unchanged.length > 0)) {
      if (!options.check) for (const h of unchanged) hooks.notStarted(h, `not started: wave ${i + 1} stopped before any change (${before.reason})`);
      waveEnd(i, `${before.reason}, before any change in the wave`);
      return stopAt(i + 1, i + 1, `wave ${i + 1}: ${before.reason}`, unchanged);
    }
    // Once the wave's failures pass max_fail_percentage, hosts in flight finish (a script is
    // never cut half way) and no further host of the wave starts: stricter than Ansible, which
    // runs its current task on the whole batch (a host's apply here is one step, not a task).
    const heldBack: H[] = [];
    const holdBack = (h: H) => {
      const now = waveVerdict(wave.length, failedIn(wave), options.maxFailPercentage, unreachableIn(wave));
      if (!now.stop) return undefined;
      heldBack.push(h);
      return `not started: wave ${i + 1} stopped (${now.reason}); nothing was changed on this host`;
    };
    const toApply = options.check ? [] : unchanged;
    if (!options.check) await hooks.applyWave(toApply, holdBack, i);
    // Hosts of the wave a Ctrl-C kept from starting (finished as skipped, never applied) are
    // among those the stop left unchanged, as the held-back ones are.
    const keptFromStarting = toApply.filter((h) => h.status === 'skipped' && !heldBack.includes(h));
    // A Ctrl-C during the wave: its hosts in flight finished, the others did not start.
    const after = options.check
      ? before
      : options.stop.aborted
        ? { stop: true, reason: 'interrupted' }
        : waveVerdict(wave.length, failedIn(wave), options.maxFailPercentage, unreachableIn(wave));
    // A wave is done when Trento sees its hosts too: without an answer from its Prometheus, no
    // host is blamed, but no later wave starts on a wave nobody could prove.
    const unproven = !after.stop && !options.check && i < waves.length - 1 ? hooks.unproven?.() : undefined;
    const verdict = unproven ? { stop: true, reason: `not proven from Trento's side: ${unproven}` } : after;
    // The last wave past the threshold with every host of it run: nothing is left to stop (its
    // failures are in its hosts' statuses and the exit code), so no "rollout stopped".
    const stops = verdict.stop && (i < waves.length - 1 || heldBack.length > 0 || keptFromStarting.length > 0);
    waveEnd(i, stops ? verdict.reason : undefined);
    if (stops) return stopAt(i + 1, i + 1, `wave ${i + 1}: ${verdict.reason}`, [...heldBack, ...keptFromStarting]);
  }
}
