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

describe('a busy sample voids the verdicts its figures are behind, and only those', () => {
  it("paramiko's samples count for issue 11's targets; another target keeps its verdict", () => {
    const samples = () => [run(6000, 4000), run(6600, 5500), run(7200, 4500)];
    const paramikoWarm = [run(3000), { ...run(2400), busyBefore: 0.14 }, run(2600)];
    const r: BenchResult = {
      ...result(samples(), samples()),
      paramiko: { warm: paramikoWarm[2], warmSamples: paramikoWarm, cold: run(40_000), coldSamples: [run(40_000)] },
      toolkit: { ...result(samples(), samples()).toolkit, cold: run(41_000), coldSamples: [run(41_000)] },
    };
    const targets = targetsOf(r);
    const warmVsParamiko = targets.find((t) => t.name === 'OpenSSH warm / paramiko warm')!;
    expect(warmVsParamiko.met).toBeNull();
    expect(warmVsParamiko.value).toContain('(not judged: a sample started with the machine 14 % busy in the 2 s before it, over 10 %)');
    expect(targets.find((t) => t.name === 'OpenSSH cold / paramiko cold')!.met).toBe(false);
    expect(targets.find((t) => t.name === 'warm / floor')!.met).toBe(true);
  });
});

describe('targets out of reach on this machine (the hosts CPU bound)', () => {
  // A sample whose floor's ssh clients took `floorControllerS` of CPU and whose hosts spent
  // `hostsS`: on 2 cores it cannot be shorter than (floorControllerS + hostsS) / 2.
  const bounded = (wallMs: number, floorBeforeMs: number, floorControllerS: number, hostsS: number): ToolRun => ({
    ...run(wallMs, floorBeforeMs),
    floorBeforeCpuS: { controllerS: floorControllerS, hostsS: 3 },
    cpu: { controllerS: 6, controllerSource: 'cgroup', hostsS },
  });

  it('names the bound where even a controller as cheap as bare ssh clients could not meet the target', () => {
    // (4.0 + 6.0) / 2 = 5.0 s against a 4.0 s floor: no run can be under 1.25x, over the 1.2x goal.
    const check = [bounded(5800, 4000, 4, 6), bounded(6000, 4000, 4, 6), bounded(6200, 4000, 4, 6)];
    // (4.0 + 2.0) / 2 = 3.0 s: the warm target is within reach, and not met.
    const warm = [bounded(6400, 4000, 4, 2), bounded(6600, 4000, 4, 2), bounded(6800, 4000, 4, 2)];
    const r = result(warm, check);
    const checkTarget = targetsOf(r).find((t) => t.name === '--check --diff / floor')!;
    expect(checkTarget.met).toBe(false);
    expect(checkTarget.outOfReach).toMatch(/^at least 1\.25x here \(the CPU the lab's hosts spent/);
    const warmTarget = targetsOf(r).find((t) => t.name === 'warm / floor')!;
    expect(warmTarget.met).toBe(false);
    expect(warmTarget.outOfReach).toBeUndefined();
    const md = markdownReport({ ...r, targets: targetsOf(r) });
    expect(md).toContain('| NO (25 % over; out of reach on this machine: at least 1.25x here (');
    expect(md).toContain('| warm / floor | <= 1.5x the default-kex floor (50, 100, 200 hosts) | 1.65x');
    expect(md).not.toMatch(/warm \/ floor .*out of reach/);
  });

  it('caps the warm ratios of Ansible and Mitogen by the fastest warm run the hosts allow', () => {
    // Warm bound (4.0 + 2.0) / 2 = 3.0 s: Mitogen's 54 s is at most 18x; Ansible's 90 s at most 30x.
    const warm = [bounded(3600, 2400, 4, 2), bounded(3700, 2400, 4, 2), bounded(3800, 2400, 4, 2)];
    const r: BenchResult = {
      ...result(warm, warm),
      ansible: { warm: run(70_000) },
      mitogen: { warm: run(54_000) },
    };
    const ansible = targetsOf(r).find((t) => t.name === 'ansible-playbook warm / toolkit warm')!;
    expect(ansible.met).toBe(false); // 70 / 3.7 = 18.9x
    expect(ansible.outOfReach).toBeUndefined(); // 70 / 3.0 = 23.3x: within reach
    const mitogen = targetsOf(r).find((t) => t.name === 'Mitogen warm / toolkit warm')!;
    expect(mitogen.met).toBe(false);
    expect(mitogen.outOfReach).toMatch(/^at most 18\.00x here/);
  });

  it("says when OpenSSH's bare sessions alone take longer than paramiko's whole warm run", () => {
    const warm = [bounded(3600, 2400, 4, 2), bounded(3700, 2300, 4, 2), bounded(3800, 2500, 4, 2)];
    const withParamiko = (paramikoWarmMs: number): BenchResult => ({
      ...result(warm, warm),
      paramiko: { warm: run(paramikoWarmMs), cold: run(40_000) },
      toolkit: { ...result(warm, warm).toolkit, cold: run(40_000) },
    });
    const slower = targetsOf(withParamiko(1800)).find((t) => t.name === 'OpenSSH warm / paramiko warm')!;
    expect(slower.met).toBe(false);
    expect(slower.outOfReach).toMatch(/^at least 1\.33x here: N bare `ssh HOST true` with OpenSSH's default key exchange/);
    // paramiko's warm run longer than the bare sessions: not met, but not out of reach
    const close = targetsOf(withParamiko(3000)).find((t) => t.name === 'OpenSSH warm / paramiko warm')!;
    expect(close.met).toBe(false);
    expect(close.outOfReach).toBeUndefined();
  });

  it('older results without the floor CPU get no bound', () => {
    const r = result([run(6000, 4000), run(6600, 4000), run(7200, 4000)], [run(6000, 4000), run(6000, 4000), run(6000, 4000)]);
    expect(targetsOf(r).some((t) => t.outOfReach !== undefined)).toBe(false);
  });
});
