// How a run answers signals, and how the process ends after its terminal hung up.
// Ctrl-C (the admin at the terminal): the first lets the hosts in flight finish their script,
// the second drops every connection. SIGTERM (a supervisor: systemd, a CI job cancelled,
// timeout(1), docker stop, which all kill for good after a grace period) and SIGHUP (the
// terminal is gone) drop them at once: the ssh clients run in process groups of their own, so
// a kill of the toolkit alone would leave them and their masters behind. A signal after that,
// while the connections close, leaves at once (the connector's exit handler kills the ssh
// clients and removes the control folder). The hosts' scripts ignore a dropped connection.
// Once the run is over only its reports are left to write: a signal then changes neither the
// exit code nor what the reports say; a second one leaves without them.
import { constants as osConstants } from 'node:os';
import type { RunEvent } from '../output/events.ts';

/** Where bin/early-signals.js leaves the signals that came while the program loaded (its
 *  HELD_SIGNALS: the same key of the process-wide symbol registry; a unit test holds them equal).
 *  Not imported from there: the compiled code runs without bin/ beside it in the tests' build. */
export const HELD_SIGNALS = Symbol.for('trento-provision.held-signals');

/** Whether the terminal hung up (SIGHUP) during the run: see leave(). */
export interface Hangup {
  hungUp: boolean;
}

/**
 * Ends the process with `code`; after a hangup, by that signal itself once the exit handlers
 * (the connector's cleanup) ran: Node 20's own exit restores the terminal's settings and, the
 * terminal being gone, aborts (SIGABRT and a core file instead of the code; nodejs/node#51519,
 * fixed in Node 22.16).
 */
export function leave(code: number, hangup: Hangup): never {
  if (hangup.hungUp) {
    process.emit('exit', code);
    process.removeAllListeners('SIGHUP');
    process.kill(process.pid, 'SIGHUP');
  }
  process.exit(code);
}

/** A signal before the run reached any host (while vault scripts run, the inventory loads). */
export class RunInterrupted extends Error {}

/** Signals before the run's own handlers (answerSignals) are installed. */
export interface EarlySignals {
  /** Aborted (its reason the signal's name) by that signal: ends a password prompt waiting. */
  readonly stop: AbortSignal;
  /** The interruption once a signal came (undefined before). */
  interruption(): RunInterrupted | undefined;
  /** Throws the interruption once a signal came: called between the steps before any host. */
  check(): void;
  /**
   * The interruption behind a failure, waiting up to `ms` for a signal still on its way: a
   * vault script killed by the Ctrl-C sent to the whole process group can be seen to die before
   * the toolkit's own handler for that Ctrl-C ran (a busy machine). Undefined when none comes.
   */
  interruptionBehind(killedBy: NodeJS.Signals | undefined, ms?: number): Promise<RunInterrupted | undefined>;
  /** Removes these handlers (answerSignals takes over). */
  release(): void;
}

/**
 * Ctrl-C, SIGTERM or a hangup while the run reads its vault passwords (a script may run) and its
 * inventory: the run stops at the next step, before any host, and ends as interrupted (exit 99,
 * reports saying so), not killed by the signal with the previous run's report left in place. A
 * second signal leaves at once (a vault script that ignores it must not hold the run).
 */
export function earlySignals(hangup: Hangup): EarlySignals {
  // (the first signal is the abort's reason)
  const stop = new AbortController();
  const interruption = () =>
    stop.signal.aborted
      ? new RunInterrupted(`User interrupted execution (${String(stop.signal.reason)} before any host was reached: nothing was run on any host)`)
      : undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stop.signal.aborted) leave(128 + osConstants.signals[signal], hangup);
    stop.abort(signal);
    if (signal === 'SIGHUP') {
      // the terminal is gone: its writes fail, and the process ends by the hangup (leave())
      for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
      hangup.hungUp = true;
    }
  };
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const s of signals) process.on(s, onSignal);
  // The first that came while the program loaded (bin/early-signals.js), as if now: the run ends
  // before any host, with its reports. Only the first: a second would leave without them, and
  // two come at once often (a terminal closed: two SIGHUPs; systemd: SIGTERM then SIGHUP).
  const held = (globalThis as Record<symbol, (() => NodeJS.Signals[]) | undefined>)[HELD_SIGNALS];
  if (held) {
    delete (globalThis as Record<symbol, unknown>)[HELD_SIGNALS];
    const [first] = held();
    if (first) onSignal(first);
  }
  return {
    stop: stop.signal,
    interruption,
    check: () => {
      const interrupted = interruption();
      if (interrupted) throw interrupted;
    },
    async interruptionBehind(killedBy, ms = 5000) {
      if (stop.signal.aborted || !killedBy || !(signals as readonly string[]).includes(killedBy)) return interruption();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        stop.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
      });
      return interruption();
    },
    release() {
      for (const s of signals) process.off(s, onSignal);
    },
  };
}

/** The run's two stops, as the signals pull them: `stop` starts no new host, `abort` drops every connection. */
export interface RunStops {
  stop: AbortController;
  abort: AbortController;
}

/** Set once the run is over and only its reports are left to write. */
export interface LateSignals {
  reporting: boolean;
  signalled: boolean;
}

/** Installs the run's SIGINT, SIGTERM and SIGHUP handlers; `late` is flipped by the caller once
 *  the run is over. Each signal is said through `emit` (the run's event stream). */
export function answerSignals(emit: (event: RunEvent) => void, { stop, abort }: RunStops, hangup: Hangup, late: LateSignals): void {
  /** The terminal is gone: writes to it fail, and the process ends by the hangup (leave()). */
  const noteHangup = () => {
    // Writes to a terminal that is gone fail: the run still closes its connections and writes its reports.
    if (!hangup.hungUp) for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
    hangup.hungUp = true;
  };
  const onSignal = (signal: 'SIGINT' | 'SIGTERM' | 'SIGHUP') => {
    if (late.reporting) {
      // A hangup now (systemd sends one right after SIGTERM) neither stops the reports nor makes
      // the finished run an interrupted one in them.
      if (signal === 'SIGHUP') return noteHangup();
      if (late.signalled) leave(128 + osConstants.signals[signal], hangup);
      late.signalled = true;
      process.stderr.write(`${signal}: the run is over; writing its reports (again to leave without them)\n`);
      return;
    }
    if (signal === 'SIGHUP') {
      const again = hangup.hungUp || abort.signal.aborted;
      noteHangup();
      // A closed terminal can send two (the kernel's, the shell's), and systemd sends one after
      // SIGTERM: a hangup is never a reason to leave without the reports.
      if (again) return;
    }
    if (abort.signal.aborted) {
      emit({ type: 'interrupted', message: `${signal} while closing the connections: leaving now, the ssh clients killed` });
      leave(128 + osConstants.signals[signal], hangup);
    }
    if (signal === 'SIGINT' && !stop.signal.aborted) {
      emit({ type: 'interrupted', message: `${signal}: no new host is started; hosts in flight finish their current script (again to abort at once)` });
      stop.abort();
      return;
    }
    emit({
      type: 'interrupted',
      message: `${signal}${signal === 'SIGINT' ? ' again' : ''}: dropping every connection; the hosts in flight go on with their script on their own, and files on hosts are still never half-written`,
    });
    stop.abort();
    abort.abort();
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGHUP', () => onSignal('SIGHUP'));
  // The reader of the run's output went away (`| less` quit, `| head`, a log shipper gone) or it
  // can take no more (a full disk): as after a first Ctrl-C, no new host starts and the hosts in
  // flight finish, in silence on that stream; the reports are still written, and the exit code
  // says interrupted. Unhandled, the write error (EPIPE: Node ignores SIGPIPE) ended the process
  // at once: hosts cut off with nobody recording them, no report, and exit 1 ("nothing changed").
  const onOutputError = (stream: string) => (error: NodeJS.ErrnoException) => {
    if (late.reporting || stop.signal.aborted) return;
    emit({
      type: 'interrupted',
      message: `${stream} failed (${error.code ?? error.message}): no new host is started; hosts in flight finish their current script`,
    });
    stop.abort();
  };
  process.stdout.on('error', onOutputError('standard output'));
  process.stderr.on('error', onOutputError('standard error'));
}
