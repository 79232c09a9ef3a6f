// Signals that come while the program loads (its modules take a few hundred ms): held here, not
// fatal, and handed to the run's own handlers (earlySignals, src/cli/signals.ts) once they exist.
// Without this, a Ctrl-C or a SIGTERM then (a CI job cancelled at once) ended the process
// silently with 130 or 143 and left the previous run's reports in place, where the run promises
// exit 99 and reports that say it was interrupted. Only for the provision command, whose run
// takes them over: another command would ignore them.

/** Where the held signals wait for the run (one process-wide hand-over, read once). */
export const HELD_SIGNALS = Symbol.for('trento-provision.held-signals');

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export function holdSignals() {
  const held = [];
  const holders = SIGNALS.map((signal) => [signal, () => held.push(signal)]);
  for (const [signal, hold] of holders) process.on(signal, hold);
  globalThis[HELD_SIGNALS] = () => {
    for (const [signal, hold] of holders) process.off(signal, hold);
    return held;
  };
}
