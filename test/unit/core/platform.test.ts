import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseOsRelease } from '../../../src/facts/sources/host.ts';
import { platformOf } from '../../../src/platform.ts';

const fixture = (name: string) => parseOsRelease(readFileSync(new URL(`../../fixtures/os-release/${name}`, import.meta.url), 'utf8'));

describe('platform table', () => {
  it.each([
    ['sles-15-sp4', 'SLES 15 SP4', 'node_exporter', 'pull', 'SLES.prod'],
    ['sles-15-sp5', 'SLES 15 SP5', 'node_exporter', 'pull', 'SLES.prod'],
    ['sles-15-sp6', 'SLES 15 SP6', 'node_exporter', 'pull', 'SLES.prod'],
    ['sles-15-sp7', 'SLES 15 SP7', 'node_exporter', 'pull', 'SLES.prod'],
    ['sles-sap-15-sp6', 'SLES for SAP 15 SP6', 'node_exporter', 'pull', 'SLES_SAP.prod'],
    ['opensuse-leap-15.6', 'openSUSE Leap 15.6', 'node_exporter', 'pull', 'Leap.prod'],
    ['sles-16.0', 'SLES 16.0', 'alloy', 'push', 'SLES.prod'],
    ['sles-sap-16.0', 'SLES for SAP 16.0', 'alloy', 'push', 'SLES_SAP.prod'],
    ['opensuse-leap-16.0', 'openSUSE Leap 16.0', 'alloy', 'push', 'Leap.prod'],
  ])('%s is %s with %s in %s mode', (name, product, provider, mode, base) => {
    const p = platformOf({ osRelease: fixture(name), baseProduct: base });
    expect(p).toMatchObject({ supported: true, product, provider, mode });
  });

  it("refuses SUSE's desktop (SLED), naming it", () => {
    const os = {
      ...fixture('sles-15-sp6'),
      ID: 'sled',
      NAME: 'SLED',
      PRETTY_NAME: 'SUSE Linux Enterprise Desktop 15 SP6',
      CPE_NAME: 'cpe:/o:suse:sled:15:sp6',
    };
    const p = platformOf({ osRelease: os, baseProduct: 'SLED.prod' });
    expect(p).toMatchObject({
      supported: false,
      product: 'SLED 15 SP6',
      refusal: expect.stringMatching(/^SLED 15 SP6 is SUSE Linux Enterprise Desktop: .* only$/),
    });
    // one an earlier version set up as SLES can still be undone
    expect(platformOf({ osRelease: os, baseProduct: 'SLED.prod' }, 'uninstall')).toMatchObject({ supported: true, provider: 'node_exporter', mode: 'pull' });
    expect(platformOf({ osRelease: fixture('debian-12'), baseProduct: '' }, 'uninstall').supported).toBe(false);
  });

  it('recognises SLES for SAP 15 from baseproduct alone', () => {
    const os = fixture('sles-15-sp6');
    expect(platformOf({ osRelease: os, baseProduct: 'SLES_SAP.prod' }).product).toBe('SLES for SAP 15 SP6');
  });

  it.each([
    ['sl-micro-6.2', /transactional/],
    ['sles-12-sp5', /too old/],
    ['debian-12', /not a SUSE system \(os-release ID=debian\)/],
  ])('refuses %s and says why', (name, why) => {
    const p = platformOf({ osRelease: fixture(name), baseProduct: '' });
    expect(p.supported).toBe(false);
    expect(p).not.toHaveProperty('provider');
    expect(p.supported ? '' : p.refusal).toMatch(why);
  });
});
