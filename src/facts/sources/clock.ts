// Fact source "clock" (clock.sh): the host's clock as its facts ended, and the clocks' difference.
import type { FactSource, HostFacts } from '../types.ts';

export const clock: FactSource<'clockAtEnd'> = {
  name: 'clock',
  parse: (r) => {
    const text = r.get('clock:end');
    // Seconds, with a fraction where the host's bash has one (EPOCHREALTIME; LC_ALL=C: a point).
    return text && /^\d+(\.\d+)?$/.test(text) ? { facts: { clockAtEnd: Number(text) } } : { facts: {} };
  },
};

/**
 * The host's clock minus this machine's (ms), from the clock the facts ended with and this
 * machine's when their answer arrived: never smaller than the truth by more than the return
 * trip, so "newer than the rollout" on the host's clock is never judged too early.
 */
export function clockSkewMs(facts: Pick<HostFacts, 'clockAtEnd'>, answeredAtMs: number): number | undefined {
  return facts.clockAtEnd === undefined ? undefined : facts.clockAtEnd * 1000 - answeredAtMs;
}
