// The wave sequencing of src/rollout/rollout.ts on its own: which waves are applied, which
// hosts are never started and with what message, and the events the recap and report read.
// (The lab test, test/integration/waves.test.ts, runs it with real hosts.)
import { describe, expect, it } from 'vitest';
import type { HostStatus, RunEvent } from '../../../src/output/events.ts';
import { formatEvent } from '../../../src/output/format.ts';
import { newTally } from '../../../src/output/tally.ts';
import { rollOut, type WaveHost } from '../../../src/rollout/rollout.ts';

interface H extends WaveHost {
  done: boolean;
}
const host = (name: string, status?: HostStatus): H => ({ name, done: status !== undefined, ...(status ? { status } : {}) });

/** Runs a rollout where applying a host gives it the status in `results` (default changed). */
async function roll(
  waves: H[][],
  results: Record<string, HostStatus>,
  opts: { maxFailPercentage?: number; check?: boolean; interruptAfter?: number; interruptAtHost?: string; unprovenAfter?: number } = {},
) {
  const events: RunEvent[] = [];
  const applied: string[][] = [];
  const stop = new AbortController();
  const messages: Record<string, string> = {};
  await rollOut(
    waves,
    { check: opts.check ?? false, stop: stop.signal, ...(opts.maxFailPercentage !== undefined ? { maxFailPercentage: opts.maxFailPercentage } : {}) },
    {
      emit: (e) => events.push(e),
      // One host at a time (--forks 1), each asked first whether the wave holds it back.
      applyWave: async (list, heldBack) => {
        const started: string[] = [];
        for (const h of list) {
          // as run/apply.ts: after a Ctrl-C no host of the wave starts
          if (stop.signal.aborted) {
            Object.assign(h, { done: true, status: 'skipped' });
            messages[h.name] = 'not started: interrupted';
            continue;
          }
          const held = heldBack(h);
          if (held) {
            Object.assign(h, { done: true, status: 'skipped' });
            messages[h.name] = held;
            continue;
          }
          started.push(h.name);
          Object.assign(h, { done: true, status: results[h.name] ?? 'changed' });
          if (h.name === opts.interruptAtHost) stop.abort();
        }
        applied.push(started);
        if (applied.length === opts.interruptAfter) stop.abort();
      },
      pending: (h) => (opts.check ? h.status === 'changed' || h.status === 'ok' : !h.done),
      notStarted: (h, message) => {
        Object.assign(h, { done: true, status: 'skipped' });
        messages[h.name] = message;
      },
      unproven: () => (opts.unprovenAfter !== undefined && applied.length >= opts.unprovenAfter ? 'HTTP 401 from Prometheus' : undefined),
    },
  );
  return { events, applied, messages };
}

describe('rollOut', () => {
  it("a wave Trento's Prometheus could not prove (--verify-prometheus failing): no later wave starts, no host is blamed", async () => {
    const waves = [[host('canary')], [host('b'), host('c')], [host('d')]];
    const { applied, events, messages } = await roll(waves, {}, { unprovenAfter: 1 });
    expect(applied).toEqual([['canary']]);
    expect(events.filter((e) => e.type === 'wave-end')).toEqual([
      { type: 'wave-end', wave: 1, size: 1, failed: 0, skipped: 0, stopped: "not proven from Trento's side: HTTP 401 from Prometheus" },
    ]);
    expect(waves[0]![0]!.status).toBe('changed');
    expect(messages.b).toBe(
      "not started: wave 2 of 3 never started (wave 1: not proven from Trento's side: HTTP 401 from Prometheus); nothing was changed on this host",
    );
    // The last wave has none after it: nothing to stop.
    const last = await roll([[host('x')], [host('y')]], {}, { unprovenAfter: 2 });
    expect(last.applied).toEqual([['x'], ['y']]);
    expect(last.events.filter((e) => e.type === 'rollout-stopped')).toEqual([]);
  });

  it('past the threshold inside a wave, its hosts not yet started are held back (as Ansible stops the rest of the batch); the hosts in flight finish', async () => {
    // One wave of six (--max-fail-percentage without --serial), one host at a time: b fails.
    const wave = ['a', 'b', 'c', 'd', 'e', 'f'].map((n) => host(n));
    const { applied, events, messages } = await roll([wave], { b: 'failed' }, { maxFailPercentage: 10 });
    expect(applied).toEqual([['a', 'b']]);
    expect(wave.map((h) => h.status)).toEqual(['changed', 'failed', 'skipped', 'skipped', 'skipped', 'skipped']);
    expect(messages.c).toBe('not started: wave 1 stopped (1 of 6 host(s) failed, more than --max-fail-percentage 10); nothing was changed on this host');
    expect(events.at(-1)).toEqual({
      type: 'rollout-stopped',
      wave: 1,
      reason: 'wave 1: 1 of 6 host(s) failed, more than --max-fail-percentage 10',
      notStarted: ['c', 'd', 'e', 'f'],
    });
    // Within the threshold the wave goes on: 1 of 6 is 16.7 %, not more than 20.
    const within = ['a', 'b', 'c', 'd', 'e', 'f'].map((n) => host(n));
    expect((await roll([within], { b: 'failed' }, { maxFailPercentage: 20 })).applied).toEqual([['a', 'b', 'c', 'd', 'e', 'f']]);
    // Without --max-fail-percentage nothing is held back.
    const none = ['a', 'b', 'c'].map((n) => host(n));
    expect((await roll([none], { a: 'failed' })).applied).toEqual([['a', 'b', 'c']]);
  });

  it('a failure past the threshold in wave 2: wave 3 is never applied and its hosts are named', async () => {
    const waves = [[host('a'), host('b')], [host('c'), host('d')], [host('e')]];
    const { applied, events, messages } = await roll(waves, { d: 'failed' }, { maxFailPercentage: 0 });
    expect(applied).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
    expect(events.filter((e) => e.type === 'wave-end')).toEqual([
      { type: 'wave-end', wave: 1, size: 2, failed: 0, skipped: 0 },
      { type: 'wave-end', wave: 2, size: 2, failed: 1, skipped: 0, stopped: '1 of 2 host(s) failed, more than --max-fail-percentage 0' },
    ]);
    expect(events.at(-1)).toEqual({
      type: 'rollout-stopped',
      wave: 2,
      reason: 'wave 2: 1 of 2 host(s) failed, more than --max-fail-percentage 0',
      notStarted: ['e'],
    });
    expect(messages.e).toBe(
      'not started: wave 3 of 3 never started (wave 2: 1 of 2 host(s) failed, more than --max-fail-percentage 0); nothing was changed on this host',
    );
  });

  it('a host refused before its wave (an unsupported product: skipped) is counted as skipped, not as converged', async () => {
    const { events } = await roll([[host('a'), host('sles12', 'skipped'), host('b')]], {});
    const end = events.find((e) => e.type === 'wave-end')!;
    expect(end).toEqual({ type: 'wave-end', wave: 1, size: 3, failed: 0, skipped: 1 });
    expect(formatEvent(end, { verbosity: 0, diff: false, color: false }, newTally())).toEqual([
      'WAVE 1 done: 2 of 3 host(s) converged and verified, 1 skipped, 0 failed',
    ]);
  });

  it('the last wave past the threshold with all its hosts run stops nothing: no "rollout stopped", its failure in its hosts', async () => {
    const { events } = await roll([[host('a'), host('b')]], { b: 'failed' }, { maxFailPercentage: 0 });
    expect(events.filter((e) => e.type === 'rollout-stopped')).toEqual([]);
    expect(events.find((e) => e.type === 'wave-end')).toEqual({ type: 'wave-end', wave: 1, size: 2, failed: 1, skipped: 0 });
  });

  it('within the threshold the rollout goes on; without a percentage only an all-failed wave stops it', async () => {
    expect((await roll([[host('a'), host('b')], [host('c')]], { a: 'failed' }, { maxFailPercentage: 50 })).applied).toEqual([['a', 'b'], ['c']]);
    expect((await roll([[host('a'), host('b')], [host('c')]], { a: 'failed' })).applied).toEqual([['a', 'b'], ['c']]);
    const all = await roll([[host('a'), host('b')], [host('c')]], { a: 'unreachable', b: 'failed' });
    expect(all.applied).toEqual([['a', 'b']]);
    expect(all.events.at(-1)).toMatchObject({
      type: 'rollout-stopped',
      wave: 1,
      reason: 'wave 1: every host of the wave failed or was unreachable (2 of 2, 1 unreachable)',
      notStarted: ['c'],
    });
  });

  it('a wave whose hosts already failed past the threshold (unreachable at facts) changes nothing', async () => {
    const waves = [[host('a')], [host('b', 'unreachable'), host('c')], [host('d')]];
    const { applied, messages, events } = await roll(waves, {}, { maxFailPercentage: 0 });
    expect(applied).toEqual([['a']]);
    // an unreachable host is named so, as the recap and the report name it
    expect(messages.c).toBe('not started: wave 2 stopped before any change (1 of 2 host(s) unreachable, more than --max-fail-percentage 0)');
    expect(messages.d).toMatch(/^not started: wave 3 of 3 never started/);
    expect(events.at(-1)).toMatchObject({ type: 'rollout-stopped', wave: 2, notStarted: ['c', 'd'] });
    expect(events.find((e) => e.type === 'wave-end' && e.wave === 2)).toMatchObject({
      stopped: '1 of 2 host(s) unreachable, more than --max-fail-percentage 0, before any change in the wave',
    });
  });

  it('a later wave that never starts: all its hosts are named as not started, one unreachable when its facts were read keeps that status (the exit code says it), none is started', async () => {
    const waves = [[host('a')], [host('b'), host('c', 'unreachable')]];
    const { applied, messages, events } = await roll(waves, { a: 'failed' }, { maxFailPercentage: 0 });
    expect(applied).toEqual([['a']]);
    expect(events.at(-1)).toMatchObject({ type: 'rollout-stopped', wave: 1, notStarted: ['b', 'c'] });
    expect(Object.keys(messages)).toEqual(['b']);
    expect(waves[1]!.map((h) => h.status)).toEqual(['skipped', 'unreachable']);
  });

  it('the last wave past the threshold before it starts, with no host left to start: nothing to stop, no "rollout stopped"', async () => {
    const waves = [[host('a', 'unreachable'), host('b', 'failed')]];
    const { applied, events } = await roll(waves, {}, { maxFailPercentage: 0 });
    expect(applied.flat()).toEqual([]);
    expect(events.filter((e) => e.type === 'rollout-stopped')).toEqual([]);
    expect(events.find((e) => e.type === 'wave-end')).toEqual({ type: 'wave-end', wave: 1, size: 2, failed: 2, skipped: 0 });
    // with a host still to start, that host is held back: the rollout stops
    const held = await roll([[host('a', 'unreachable'), host('b')]], {}, { maxFailPercentage: 0 });
    expect(held.events.at(-1)).toMatchObject({ type: 'rollout-stopped', wave: 1, notStarted: ['b'] });
  });

  it("Ctrl-C in the middle of a wave: the wave's hosts it kept from starting are listed as not started with the later waves'", async () => {
    const waves = [[host('a'), host('b'), host('c')], [host('d')]];
    const { applied, events } = await roll(waves, {}, { interruptAtHost: 'a' });
    expect(applied).toEqual([['a']]);
    expect(events.at(-1)).toEqual({ type: 'rollout-stopped', wave: 1, reason: 'wave 1: interrupted', notStarted: ['b', 'c', 'd'] });
  });

  it('Ctrl-C during a wave: no later wave starts', async () => {
    const { applied, events, messages } = await roll([[host('a')], [host('b')], [host('c')]], {}, { interruptAfter: 1 });
    expect(applied).toEqual([['a']]);
    expect(events.at(-1)).toEqual({ type: 'rollout-stopped', wave: 1, reason: 'wave 1: interrupted', notStarted: ['b', 'c'] });
    expect(Object.keys(messages)).toEqual(['b', 'c']);
  });

  it('--check applies nothing and says where the rollout would stop from what is known', async () => {
    const waves = [[host('a', 'changed')], [host('b', 'unreachable'), host('c', 'changed')], [host('d', 'ok')]];
    const { applied, events, messages } = await roll(waves, {}, { check: true, maxFailPercentage: 0 });
    expect(applied).toEqual([]);
    expect(messages).toEqual({});
    expect(events.filter((e) => e.type === 'wave-start')).toEqual([]);
    expect(events.at(-1)).toMatchObject({ type: 'rollout-stopped', wave: 2, notStarted: ['c', 'd'] });
  });
});
