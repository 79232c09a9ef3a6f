import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { formatGoDuration, parseGoDuration, positiveDurationProblem } from '../../../src/settings/go-duration.ts';

const ns = (text: string): bigint => {
  const parsed = parseGoDuration(text);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.nanoseconds;
};

describe('parseGoDuration', () => {
  it.each([
    ['15s', 15_000_000_000n],
    ['1m30s', 90_000_000_000n],
    ['500ms', 500_000_000n],
    ['1h', 3_600_000_000_000n],
    ['1.5s', 1_500_000_000n],
    ['.5s', 500_000_000n],
    ['1.s', 1_000_000_000n],
    ['2h45m', 9_900_000_000_000n],
    ['10us', 10_000n],
    ['10µs', 10_000n],
    ['10μs', 10_000n],
    ['7ns', 7n],
    ['0', 0n],
    ['+5s', 5_000_000_000n],
    ['-1s', -1_000_000_000n],
    ['1h1h', 7_200_000_000_000n],
    ['0.000000001s', 1n],
    ['0.0000000019s', 1n],
  ])('reads %s like Go', (text, expected) => {
    expect(ns(text)).toBe(expected);
  });

  it.each([
    ['', 'invalid duration'],
    ['abc', 'invalid duration'],
    ['15', 'missing unit'],
    ['15 s', 'unknown unit " s"'],
    ['1d', 'unknown unit "d"'],
    ['s', 'invalid duration'],
    ['.s', 'invalid duration'],
    ['1s ', 'unknown unit "s "'],
    ['-', 'invalid duration'],
    ['9999999999h', 'invalid duration'],
  ])('rejects %j', (text, message) => {
    const parsed = parseGoDuration(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toContain(message);
  });
});

describe('formatGoDuration', () => {
  it.each([
    ['15s', '15s'],
    ['30s', '30s'],
    ['1m', '1m0s'],
    ['90s', '1m30s'],
    ['500ms', '500ms'],
    ['1h', '1h0m0s'],
    ['1.5s', '1.5s'],
    ['1h2m3.004s', '1h2m3.004s'],
    ['1500us', '1.5ms'],
    ['1001ns', '1.001µs'],
    ['999ns', '999ns'],
    ['0s', '0s'],
    ['-90s', '-1m30s'],
    ['61m', '1h1m0s'],
  ])('prints %s as %s', (text, printed) => {
    expect(formatGoDuration(ns(text))).toBe(printed);
  });

  it('parses back what it prints (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(1n << 62n), max: 1n << 62n }), (value) => {
        expect(ns(formatGoDuration(value))).toBe(value);
      }),
    );
  });
});

describe('positiveDurationProblem', () => {
  it('accepts positive Go durations', () => {
    for (const ok of ['15s', '1m30s', '500ms', '1h']) expect(positiveDurationProblem(ok)).toBeUndefined();
  });
  it.each(['15 s', '-1s', '0s', '0', 'abc', '15'])('rejects %j', (text) => {
    expect(positiveDurationProblem(text)).toBeTypeOf('string');
  });
});
