// How a mix becomes host names and addresses (no host needed; here because it is the lab's own code).
import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { DEFAULT_MIX, PRODUCTS, parseMix, planCount, planMix, sudoHosts } from './products.ts';
import { hostAddress, labNet, vethName } from './state.ts';
import { osReleaseFixtures } from './paths.ts';

describe('lab products and mixes', () => {
  it("has an os-release fixture for every product and the default mix in the issue's order", () => {
    const fixtures = new Set(readdirSync(osReleaseFixtures));
    for (const p of PRODUCTS) expect(fixtures.has(p.mix), p.mix).toBe(true);
    expect(DEFAULT_MIX).toEqual([
      'sles-15-sp4',
      'sles-15-sp5',
      'sles-15-sp6',
      'sles-15-sp7',
      'sles-16.0',
      'sles-sap-15-sp6',
      'sles-sap-16.0',
      'opensuse-leap-15.6',
      'sl-micro-6.2',
      'sles-12-sp5',
      'debian-12',
    ]);
  });

  it('names hosts by product prefix and ordinal, cycling through the default mix', () => {
    const plan = planCount(13);
    expect(plan.slice(0, 11).map((h) => h.name)).toEqual([
      'sles15sp4-01',
      'sles15sp5-01',
      'sles15sp6-01',
      'sles15sp7-01',
      'sles16-01',
      'sap15sp6-01',
      'sap16-01',
      'leap156-01',
      'micro62-01',
      'sles12sp5-01',
      'debian12-01',
    ]);
    expect(plan.slice(11).map((h) => h.name)).toEqual(['sles15sp4-02', 'sles15sp5-02']);
    expect(new Set(planCount(200).map((h) => h.name)).size).toBe(200);
  });

  it('reads --mix and refuses what it cannot read', () => {
    expect(planMix(parseMix('sles-16.0=2,sles-15-sp7=1')).map((h) => h.name)).toEqual(['sles16-01', 'sles16-02', 'sles15sp7-01']);
    expect(() => parseMix('sles-99=1')).toThrow(/unknown product "sles-99"/);
    expect(() => parseMix('sles-16.0=x')).toThrow(/NAME=COUNT/);
    expect(() => planMix(parseMix('sles-16.0=0'))).toThrow(/no host/);
  });

  it('gives sudo users to the first SLES 15 and the first SLES 16 host', () => {
    expect([...sudoHosts(planCount(11))]).toEqual(['sles15sp4-01', 'sles16-01']);
    expect([...sudoHosts(planMix(parseMix('debian-12=1,sles-sap-16.0=1,sles-15-sp7=2')))]).toEqual(['sles15sp7-01', 'sap16-01']);
    expect([...sudoHosts(planMix(parseMix('debian-12=2')))]).toEqual([]);
  });

  it("derives addresses, bridge and veth names from the lab's network number", () => {
    const n0 = labNet(0);
    expect(n0).toMatchObject({ bridge: 'tplab0', gateway: '10.77.0.1', subnet: '10.77.0.0/16' });
    expect(hostAddress(n0, 1)).toBe('10.77.0.11');
    expect(hostAddress(n0, 200)).toBe('10.77.0.210');
    expect(hostAddress(n0, 201)).toBe('10.77.1.11');
    const n3 = labNet(3);
    expect(n3.bridge).toBe('tplab3');
    expect(hostAddress(n3, 5)).toBe('10.80.0.15');
    expect(vethName(n3, 12345).length).toBeLessThanOrEqual(15);
  });
});
