// Waves against Ansible's meaning of `serial` and `max_fail_percentage`: fixed cases for the
// edges, then ansible-playbook itself as the judge (one run for the whole table: a play per
// case, whose batches the callback records as separate play starts).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CliError, parseCli } from '../../../src/cli/args.ts';
import { packageRoot } from '../../../src/cli/invocation.ts';
import { parseMaxFailPercentage, parseSerial, type SerialItem, WaveSpecError, wavesOf, waveVerdict } from '../../../src/rollout/waves.ts';
import { ANSIBLE_CORE, describeWith } from '../../support/requires.ts';
import { run as runAnsible } from '../inventory/ansible-judge.ts';

const hosts = (n: number) => Array.from({ length: n }, (_, i) => `h${String(i + 1).padStart(2, '0')}`);
const sizes = (n: number, serial: string) => wavesOf(hosts(n), parseSerial(serial)).map((w) => w.length);

describe('parseSerial', () => {
  it('reads counts, percentages and mixed lists (spaces allowed)', () => {
    expect(parseSerial('2')).toEqual([{ count: 2 }]);
    expect(parseSerial('30%')).toEqual([{ percent: 30 }]);
    expect(parseSerial('1, 10%,50%')).toEqual([{ count: 1 }, { percent: 10 }, { percent: 50 }]);
  });

  it.each(['', '1,,2', '-1', '12.5%', 'two', '%', '1;2'])('refuses %j with an error naming --serial', (text) => {
    expect(() => parseSerial(text)).toThrow(WaveSpecError);
    expect(() => parseSerial(text)).toThrow(/--serial needs a host count, a percentage or a list/);
  });
});

describe('parseMaxFailPercentage', () => {
  it('reads a number with an optional %, fractions too (Ansible: a float)', () => {
    expect(parseMaxFailPercentage('0')).toBe(0);
    expect(parseMaxFailPercentage('25%')).toBe(25);
    expect(parseMaxFailPercentage('12.5')).toBe(12.5);
  });
  it.each(['', '-5', 'ten', '5%%'])('refuses %j', (text) => {
    expect(() => parseMaxFailPercentage(text)).toThrow(/--max-fail-percentage needs a percentage from 0/);
  });
});

describe('the flags', () => {
  const repo = packageRoot(import.meta.url);
  const parse = (...args: string[]) => parseCli(['-i', 'example', ...args], {}, repo, { settings: { origins: {}, warnings: [] } });
  it('--serial and --max-fail-percentage reach the options; absent, neither is set', () => {
    expect(parse('--serial', '1,50%', '--max-fail-percentage', '10%')).toMatchObject({ serial: [{ count: 1 }, { percent: 50 }], maxFailPercentage: 10 });
    const plain = parse();
    expect('serial' in plain || 'maxFailPercentage' in plain).toBe(false);
  });
  it('a bad value is a usage error naming the flag', () => {
    expect(() => parse('--serial', 'half')).toThrow(CliError);
    expect(() => parse('--max-fail-percentage', 'x')).toThrow(/--max-fail-percentage needs/);
  });
});

describe('wavesOf (Ansible serial)', () => {
  it('splits in play order, the last wave taking what is left', () => {
    expect(wavesOf(hosts(5), [{ count: 2 }])).toEqual([['h01', 'h02'], ['h03', 'h04'], ['h05']]);
  });
  it('a serial larger than the hosts is one wave; no serial is one wave; 0 is one wave', () => {
    expect(sizes(3, '10')).toEqual([3]);
    expect(wavesOf(hosts(3), [])).toEqual([hosts(3)]);
    expect(sizes(4, '0')).toEqual([4]);
    expect(sizes(5, '1,0')).toEqual([1, 4]);
  });
  it('percentages are of all selected hosts, rounded down, at least 1 (0% too)', () => {
    expect(sizes(10, '25%')).toEqual([2, 2, 2, 2, 2]);
    expect(sizes(7, '50%')).toEqual([3, 3, 1]);
    expect(sizes(3, '0%')).toEqual([1, 1, 1]);
    expect(sizes(3, '10%')).toEqual([1, 1, 1]);
    expect(sizes(4, '150%')).toEqual([4]);
    // in floating point, as Ansible's int(percent / 100.0 * hosts): 0.29 * 100 is 28.999...
    expect(sizes(100, '29%')).toEqual([28, 28, 28, 16]);
  });
  it('a list: each element once, the last one repeating; mixed counts and percentages', () => {
    expect(sizes(20, '1,10%,50%')).toEqual([1, 2, 10, 7]);
    expect(sizes(10, '1,2,3')).toEqual([1, 2, 3, 3, 1]);
    expect(sizes(2, '1,5,10')).toEqual([1, 1]);
  });
  it('no hosts, no waves', () => {
    expect(wavesOf([], [{ count: 2 }])).toEqual([]);
  });
});

describe('waveVerdict (Ansible max_fail_percentage and the all-failed rule)', () => {
  it('stops only when the failed share is strictly greater than the percentage', () => {
    expect(waveVerdict(4, 1, 25).stop).toBe(false);
    expect(waveVerdict(4, 2, 25).stop).toBe(true);
    expect(waveVerdict(3, 1, 33).stop).toBe(true);
    expect(waveVerdict(3, 1, 34).stop).toBe(false);
    expect(waveVerdict(2, 0, 0).stop).toBe(false);
    expect(waveVerdict(2, 1, 0)).toEqual({ stop: true, reason: '1 of 2 host(s) failed, more than --max-fail-percentage 0' });
  });
  it('without a percentage, only a wave where every host failed stops the rollout (even at 100)', () => {
    expect(waveVerdict(2, 1).stop).toBe(false);
    expect(waveVerdict(2, 2)).toEqual({ stop: true, reason: 'every host of the wave failed (2 of 2)' });
    // the unreachable ones among them named so, as the recap and the report name them
    expect(waveVerdict(2, 2, undefined, 2)).toEqual({ stop: true, reason: 'every host of the wave was unreachable (2 of 2)' });
    expect(waveVerdict(2, 2, undefined, 1)).toEqual({ stop: true, reason: 'every host of the wave failed or was unreachable (2 of 2, 1 unreachable)' });
    expect(waveVerdict(4, 2, 25, 1)).toEqual({
      stop: true,
      reason: '2 of 4 host(s) failed or unreachable (1 unreachable), more than --max-fail-percentage 25',
    });
    expect(waveVerdict(2, 2, 100).stop).toBe(true);
    expect(waveVerdict(0, 0).stop).toBe(false);
  });
});

/** The rollout the toolkit would do: waves until one stops it (failed hosts known per wave). */
function toolkitBatches(n: number, serial: SerialItem[], failing: Set<string>, maxFail?: number): string[][] {
  const out: string[][] = [];
  for (const wave of wavesOf(hosts(n), serial)) {
    out.push(wave);
    if (waveVerdict(wave.length, wave.filter((h) => failing.has(h)).length, maxFail).stop) break;
  }
  return out;
}

describeWith(ANSIBLE_CORE, 'against ansible-playbook', () => {
  const dir = mkdtempSync(join(tmpdir(), 'waves-judge-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  interface Case {
    n: number;
    serial: string;
    failing?: string[];
    maxFail?: number;
  }
  const cases: Case[] = [
    { n: 5, serial: '2' },
    { n: 3, serial: '10' },
    { n: 4, serial: '0' },
    { n: 10, serial: '25%' },
    { n: 7, serial: '50%' },
    { n: 3, serial: '0%' },
    { n: 4, serial: '150%' },
    { n: 20, serial: '1,10%,50%' },
    { n: 10, serial: '1,2,3' },
    { n: 5, serial: '1,0' },
    // failures: the percentage (strictly greater) and the all-failed rule
    { n: 6, serial: '2', failing: ['h03'], maxFail: 0 },
    { n: 6, serial: '2', failing: ['h03'], maxFail: 50 },
    { n: 6, serial: '2', failing: ['h03', 'h04'], maxFail: 50 },
    { n: 6, serial: '2', failing: ['h03', 'h04'] },
    { n: 6, serial: '2', failing: ['h03'] },
    { n: 9, serial: '3', failing: ['h04'], maxFail: 33 },
    { n: 9, serial: '3', failing: ['h04'], maxFail: 34 },
    { n: 8, serial: '1,3', failing: ['h02', 'h05'], maxFail: 40 },
  ];

  it('every case gives the batches ansible-playbook runs', async () => {
    const max = Math.max(...cases.map((c) => c.n));
    const inventory = join(dir, 'hosts.ini');
    writeFileSync(
      inventory,
      `${hosts(max)
        .map((h) => `${h} ansible_connection=local`)
        .join('\n')}\n`,
    );
    // `fail` and `debug` run on the controller: no connection, nothing but the batches.
    const playOf = (c: Case, i: number) => ({
      name: `case-${i}`,
      hosts: hosts(c.n).join(','),
      gather_facts: false,
      serial: c.serial.split(',').map((s) => (s.endsWith('%') ? s : Number(s))),
      ...(c.maxFail !== undefined ? { max_fail_percentage: c.maxFail } : {}),
      tasks: [
        { name: 'maybe fail', fail: { msg: 'planned' }, when: `inventory_hostname in ${JSON.stringify(c.failing ?? [])}` },
        { name: 'batch', debug: { var: 'ansible_play_batch' } },
      ],
    });
    // A stopped play ends the whole playbook: each case with failures gets a playbook of its own.
    const groups = [cases.flatMap((c, i) => (c.failing ? [] : [playOf(c, i)])), ...cases.flatMap((c, i) => (c.failing ? [[playOf(c, i)]] : []))];
    const judged = new Map<number, string[][]>();
    await Promise.all(
      groups.map(async (plays, g) => {
        const playbook = join(dir, `waves-${g}.yml`);
        writeFileSync(playbook, JSON.stringify(plays));
        const r = await runAnsible('ansible-playbook', ['-i', inventory, playbook], dir);
        const report = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as {
          plays: { play: { name: string }; tasks: { hosts: Record<string, unknown> }[] }[];
        };
        for (const p of report.plays) {
          const i = Number(p.play.name.replace('case-', ''));
          // The hosts the batch started with are the ones the first task saw.
          judged.set(i, [...(judged.get(i) ?? []), Object.keys(p.tasks[0]?.hosts ?? {}).sort()]);
        }
      }),
    );
    cases.forEach((c, i) => {
      expect(toolkitBatches(c.n, parseSerial(c.serial), new Set(c.failing ?? []), c.maxFail), JSON.stringify(c)).toEqual(judged.get(i));
    });
  }, 120_000);
});
