// The benchmark's floor targets (bench/report.ts): each OpenSSH warm/check sample is divided by
// the floor measured right before it, and the target takes the median of those ratios; results
// from before the paired floors keep the ratio to the floor at the start.
import { describe, expect, it } from 'vitest';
import { type BenchResult, markdownReport, pairedFloorRatio, type ToolRun, targetsOf } from '../../../bench/report.ts';

const run = (wallMs: number, floorBeforeMs?: number): ToolRun => ({
  wallMs,
  perHostMs: wallMs / 50,
  code: 0,
  timedOut: false,
  maxRssMiB: 80,
  treeRssPeakMiB: 400,
  treeProcsPeak: 50,
  roundTrips: { max: 1, mean: 1 },
  ...(floorBeforeMs === undefined ? {} : { floorBeforeMs, busyBefore: 0.03 }),
});

function result(warm: ToolRun[], check: ToolRun[]): BenchResult {
  const median = (runs: ToolRun[]) => [...runs].sort((a, b) => a.wallMs - b.wallMs)[1]!;
  return {
    date: '2026-12-03T08:26:00.000Z',
    hosts: 50,
    mix: { 'sles-15-sp7': 30, 'sles-16.0': 20 },
    machine: { cores: 2, cpu: 'test', memGiB: 24, freeGiBAtStart: 20, loadAvgAtStart: [0.5, 0.5, 0.5] },
    versions: {},
    forks: 50,
    repeat: 3,
    floor: { samplesMs: [4000, 4000, 4000], ms: 4000 },
    toolkit: { transport: 'ssh', warm: median(warm), check: median(check), warmSamples: warm, checkSamples: check },
    ansible: { skipped: '--no-ansible' },
    mitogen: { skipped: '--no-ansible' },
    notes: [],
  } as BenchResult;
}

describe('floor targets with a floor per sample', () => {
  it('is the median of each sample over its own floor, not the median wall over the start floor', () => {
    // Walls 6.0 / 6.6 / 7.2 s against their floors 4.0 / 5.5 / 4.5 s: ratios 1.5 / 1.2 / 1.6.
    expect(pairedFloorRatio([run(6000, 4000), run(6600, 5500), run(7200, 4500)])).toBeCloseTo(1.5, 10);
  });

  it('is undefined when any sample has no floor of its own (results from before)', () => {
    expect(pairedFloorRatio([run(6000, 4000), run(6600)])).toBeUndefined();
    expect(pairedFloorRatio(undefined)).toBeUndefined();
  });

  it('decides the warm and check targets, and shows the start floor ratio beside', () => {
    const r = result([run(6000, 4000), run(6600, 5500), run(7200, 4500)], [run(5200, 4000), run(5600, 4000), run(6000, 4000)]);
    const warm = targetsOf(r).find((t) => t.name === 'warm / floor')!;
    // 1.50x meets "<= 1.5x"; against the start floor (4.0 s) the median wall 6.6 s is 1.65x.
    expect(warm.met).toBe(true);
    expect(warm.value).toBe('1.50x (median of each sample over the floor just before it; 1.65x over the floor at the start)');
    const check = targetsOf(r).find((t) => t.name === '--check --diff / floor')!;
    expect(check.met).toBe(false);
    expect(check.value.startsWith('1.40x')).toBe(true);
    const md = markdownReport(r);
    expect(md).toContain('(floor just before: 4.00 / 5.50 / 4.50 s, so 1.50x / 1.20x / 1.60x)');
    expect(md).toContain('(CPU busy in the 2 s before: 3 % / 3 % / 3 %)');
  });

  it('falls back to the start floor for results without paired floors', () => {
    const r = result([run(6000), run(6600), run(7200)], [run(5200), run(5600), run(6000)]);
    const warm = targetsOf(r).find((t) => t.name === 'warm / floor')!;
    expect(warm.value).toBe('1.65x');
    expect(warm.met).toBe(false);
  });
});

describe('verdicts only on an idle machine', () => {
  it('a sample that started with the machine over 10 % busy, or a busy machine before the lab worked: figures kept, no verdict', () => {
    const samples = () => [run(6000, 4000), run(6600, 5500), run(7200, 4500)];
    const busySample = result(samples(), samples());
    busySample.toolkit.warmSamples![1]!.busyBefore = 0.28;
    const warm = targetsOf(busySample).find((t) => t.name === 'warm / floor')!;
    expect(warm.met).toBeNull();
    expect(warm.value).toBe(
      '1.50x (median of each sample over the floor just before it; 1.65x over the floor at the start) (not judged: a sample started with the machine 28 % busy in the 2 s before it, over 10 %)',
    );
    const busyMachine = { ...result(samples(), samples()), cpuBusy: { idleLab: 0.2 } };
    expect(targetsOf(busyMachine).every((t) => t.met === null)).toBe(true);
    expect(targetsOf(busyMachine)[0]!.value).toContain('not judged: the machine was 20 % busy with the wiped lab idle, over 10 %');
    // idle: judged as before
    expect(targetsOf({ ...result(samples(), samples()), cpuBusy: { idleLab: 0.02 } }).find((t) => t.name === 'warm / floor')!.met).toBe(true);
  });
});
