// agent_package_state: latest against the real zypper and rpm (Debian's, the lab's), in an RPM root
// of its own: what the facts read from `zypper list-updates`, and the apply's proof that each
// upgrade took. zypper leaves out, and will not install on `zypper update`, a candidate that
// changes the package's vendor ("Nothing to do.", exit 0): counted as done, every run would plan
// the same upgrade and restart the service again.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scriptLibrary } from '../../../src/apply/script-lib.ts';
import { toShell } from '../../../src/exec/command.ts';
import { wrapScript } from '../../../src/exec/session.ts';
import { readRecords } from '../../../src/facts/records.ts';
import { factsScript } from '../../../src/facts/script.ts';
import { updates } from '../../../src/facts/sources/updates.ts';

const scratch = mkdtempSync(join(tmpdir(), 'tp-zypper-upgrade-'));
const root = join(scratch, 'root');
const repo = join(scratch, 'repo');
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Builds NAME-VERSION-1.noarch.rpm from VENDOR (no files; rpmbuild) and returns its path. */
function rpmOf(name: string, version: string, vendor: string): string {
  const spec = join(scratch, `${name}-${version}.spec`);
  writeFileSync(
    spec,
    `Name: ${name}\nVersion: ${version}\nRelease: 1\nSummary: test\nLicense: MIT\nVendor: ${vendor}\nBuildArch: noarch\n%description\ntest\n%files\n`,
  );
  execFileSync('rpmbuild', ['-bb', '--define', `_topdir ${join(scratch, 'build')}`, spec], { stdio: 'ignore' });
  return join(scratch, 'build', 'RPMS', 'noarch', `${name}-${version}-1.noarch.rpm`);
}

/** Puts these packages in the repository (metadata rebuilt, zypper's cache refreshed). */
function publish(...rpms: string[]): void {
  for (const rpm of rpms) copyFileSync(rpm, join(repo, rpm.split('/').pop()!));
  execFileSync('createrepo_c', ['-q', '--update', repo]);
  execFileSync('zypper', ['--root', root, '--non-interactive', '--quiet', 'refresh'], { stdio: 'ignore' });
}

// The host's zypper and rpm, pointed at the test's root: the scripts call them by name.
const inRoot = `zypper() { command zypper --root ${root} "$@"; }\nrpm() { command rpm --root ${root} "$@"; }\n`;

function run(script: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync('/bin/bash', ['-c', wrapScript(`${inRoot}${script}`)], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function factsUpdates() {
  const r = run(toShell(factsScript({ withContent: false, withUpdates: true, zyppLockTimeoutSeconds: 5 })));
  return updates.parse(new Map(readRecords(r.stdout)));
}

const upgrade = (...args: string[]) => run(`${toShell(scriptLibrary({ zyppLockTimeoutSeconds: 5 }))}\ntp_packages_upgrade ${args.join(' ')}`);
const installed = () => execFileSync('rpm', ['--root', root, '-q', '--qf', '%{VERSION}-%{RELEASE}', 'vtest'], { encoding: 'utf8' });

describe('agent_package_state: latest with the real zypper', () => {
  let sameVendor = '';
  beforeAll(() => {
    const first = rpmOf('vtest', '1.0', 'Vendor A');
    const otherVendor = rpmOf('vtest', '2.0', 'Vendor B');
    sameVendor = rpmOf('vtest', '1.5', 'Vendor A');
    mkdirSync(root);
    mkdirSync(repo);
    execFileSync('rpm', ['--root', root, '--initdb']);
    execFileSync('rpm', ['--root', root, '-i', '--nodeps', first], { stdio: 'ignore' });
    execFileSync('createrepo_c', ['-q', repo]);
    execFileSync('zypper', ['--root', root, '--non-interactive', '--quiet', 'addrepo', '--no-gpgcheck', `file://${repo}`, 'test'], { stdio: 'ignore' });
    publish(otherVendor);
  }, 120_000);

  it('a newer version from another vendor is not offered, and an upgrade zypper does not take is a failure naming the package, not a change', () => {
    expect(factsUpdates()).toEqual({ facts: { updates: {} } });
    const r = upgrade('vtest', '1.0-1');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('zypper update left vtest 1.0-1 as it was');
    expect(r.stderr).toContain('zypper install NAME-VERSION, or set agent_package_state: present');
    expect(installed()).toBe('1.0-1');
  });

  it("a newer version from the installed package's vendor is read from the table by the columns' names, and upgraded", () => {
    publish(sameVendor);
    expect(factsUpdates()).toEqual({ facts: { updates: { vtest: '1.5-1' } } });
    const r = upgrade('vtest', '1.0-1');
    expect(r.code, r.stderr).toBe(0);
    expect(installed()).toBe('1.5-1');
  });
});
