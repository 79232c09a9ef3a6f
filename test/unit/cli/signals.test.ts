// The run's signal handlers (src/cli/signals.ts) in this process, with signals emitted to it:
// what each one does to the run's stops and its event stream. The whole CLI under real
// signals is proven by the lab's tests (test/integration/openssh.test.ts).
import { afterEach, describe, expect, it } from 'vitest';
import { answerSignals, earlySignals, HELD_SIGNALS } from '../../../src/cli/signals.ts';
// @ts-expect-error: plain JavaScript of the installed command, without types
import { HELD_SIGNALS as HELD_BY_LAUNCHER, holdSignals } from '../../../bin/early-signals.js';
import type { RunEvent } from '../../../src/output/events.ts';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const before = new Map(SIGNALS.map((s) => [s, process.listeners(s)]));
const STREAMS = [process.stdout, process.stderr];
const streamsBefore = STREAMS.map((s) => s.listeners('error'));
afterEach(() => {
  // Only the handlers a test installed go; the worker's own stay.
  for (const s of SIGNALS) for (const l of process.listeners(s)) if (!before.get(s)!.includes(l)) process.removeListener(s, l);
  STREAMS.forEach((stream, i) => {
    for (const l of stream.listeners('error')) if (!streamsBefore[i]!.includes(l)) stream.removeListener('error', l as () => void);
  });
});

function installed(reporting: boolean) {
  const events: RunEvent[] = [];
  const stops = { stop: new AbortController(), abort: new AbortController() };
  const hangup = { hungUp: false };
  const late = { reporting, signalled: false };
  answerSignals((e) => events.push(e), stops, hangup, late);
  return { events, stops, hangup, late };
}

describe('signals once the run is over and only its reports are left', () => {
  it('a hangup (systemd sends one right after SIGTERM) is noted, and the finished run is not made an interrupted one', () => {
    const run = installed(true);
    process.emit('SIGHUP');
    expect(run.hangup.hungUp).toBe(true);
    expect(run.events).toEqual([]);
    expect([run.stops.stop.signal.aborted, run.stops.abort.signal.aborted]).toEqual([false, false]);
    expect(run.late.signalled).toBe(false);
  });
});

describe('signals while the program loads (bin/early-signals.js)', () => {
  it('are held, not fatal, and taken over by the run once its handlers exist: a SIGTERM then ends the run as interrupted (exit 99, reports saying so), not silently with 143', () => {
    expect(HELD_BY_LAUNCHER).toBe(HELD_SIGNALS);
    holdSignals();
    process.emit('SIGTERM'); // with no listener of the tool's, Node would end the process here
    const early = earlySignals({ hungUp: false });
    try {
      expect(early.interruption()?.message).toBe('User interrupted execution (SIGTERM before any host was reached: nothing was run on any host)');
      // handed over once: the holder's listeners are gone
      expect(HELD_SIGNALS in globalThis).toBe(false);
      for (const s of SIGNALS) expect(process.listeners(s).length, s).toBe(before.get(s)!.length + 1);
    } finally {
      early.release();
    }
    // Two held at once (systemd's SIGTERM then SIGHUP, a closed terminal's two SIGHUPs): the first
    // is the run's; a second replayed would leave at once, without the reports (the worker here).
    holdSignals();
    process.emit('SIGTERM');
    process.emit('SIGHUP');
    const twice = earlySignals({ hungUp: false });
    expect(twice.interruption()?.message).toMatch(/^User interrupted execution \(SIGTERM before any host/);
    twice.release();
    // Without any held, nothing is made up.
    const none = earlySignals({ hungUp: false });
    expect(none.interruption()).toBeUndefined();
    none.release();
  });
});

describe('signals during the run', () => {
  it('a hangup drops every connection, once, and says so', () => {
    const run = installed(false);
    process.emit('SIGHUP');
    process.emit('SIGHUP');
    expect(run.hangup.hungUp).toBe(true);
    expect(run.events.map((e) => e.type)).toEqual(['interrupted']);
    expect([run.stops.stop.signal.aborted, run.stops.abort.signal.aborted]).toEqual([true, true]);
  });

  it('a first Ctrl-C starts no new host and lets the hosts in flight finish', () => {
    const run = installed(false);
    process.emit('SIGINT');
    expect([run.stops.stop.signal.aborted, run.stops.abort.signal.aborted]).toEqual([true, false]);
    expect(run.events).toHaveLength(1);
  });
});
