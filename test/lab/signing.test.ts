// Signed repositories, as on SLES: the lab signs its RPMs and each channel's repomd.xml with the
// lab key, hosts trust that key (rpm database) and check both (gpgcheck, repo_gpgcheck). A
// channel signed by an unknown key, or whose metadata no longer matches its signature, is
// refused by zypper - and the toolkit reports that host FAILED with zypper's reason, never
// working around it (no --no-gpg-checks, no key import of its own).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { currentLab } from './current.ts';
import { provision } from '../integration/helpers.ts';
import { repoRoot } from './paths.ts';
import { ssh, sshOk } from './ssh.ts';

const lab = currentLab();
const cfg = lab.sshConfig;
const pullHost = lab.hosts.find((h) => h.product.startsWith('sles-15'))!;
const on = (command: string) => sshOk(cfg, pullHost.name, command);
const COPY = '/root/lab-channel-copy';

afterAll(async () => {
  await ssh(
    cfg,
    pullHost.name,
    `sed -i 's|^baseurl=.*|baseurl=file:///srv/repo|' /etc/zypp/repos.d/lab.repo; rm -rf ${COPY}; zypper -n refresh >/dev/null 2>&1; true`,
  );
  // Leave the host as other tests expect it: nothing of the toolkit's installed.
  await provision(['--inventory', lab.inventoryDir, '--limit', pullHost.name, '--uninstall']);
});

/** Every file under dir (the toolkit's sources). */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

/** Points the host's channel at a copy of it whose repomd.xml is changed (so zypper fetches it
 *  again), signed by `sign` (text -> armored signature), or still carrying the lab's signature of
 *  the original (null: a signature that no longer matches). */
async function serveChannelCopy(sign: ((repomd: string) => string) | null): Promise<void> {
  await on(`rm -rf ${COPY} && cp -a /srv/repo ${COPY} && printf '\\n' >> ${COPY}/repodata/repomd.xml`);
  if (sign) {
    const signature = sign(await on(`cat ${COPY}/repodata/repomd.xml`));
    await on(`cat > ${COPY}/repodata/repomd.xml.asc <<'EOF'\n${signature}EOF`);
  }
  await on(`sed -i 's|^baseurl=.*|baseurl=file://${COPY}|' /etc/zypp/repos.d/lab.repo`);
}

/** Provisions the pull host and expects it FAILED with zypper's reason, nothing installed. */
async function expectRefused(): Promise<void> {
  const run = await provision(['--inventory', lab.inventoryDir, '--limit', pullHost.name]);
  expect(run.code, run.stdout).toBe(2);
  expect(run.report?.hosts.find((h) => h.host === pullHost.name)?.status).toBe('failed');
  expect(run.stdout).toContain('Signature verification failed');
  expect(await on('rpm -q --quiet trento-agent || echo absent')).toBe('absent\n');
}

describe('signed lab repositories', () => {
  it('hosts trust the lab key and check signatures; the channel and its RPMs are signed', async () => {
    const out = await on(
      'rpm -q gpg-pubkey | wc -l; grep -E "^(gpgcheck|repo_gpgcheck|pkg_gpgcheck)=" /etc/zypp/repos.d/lab.repo; ls /srv/repo/repodata | grep -c "repomd.xml.asc"; rpm -K /srv/repo/*.rpm | grep -vc "digests signatures OK" || true',
    );
    expect(out).toBe('1\ngpgcheck=1\nrepo_gpgcheck=1\npkg_gpgcheck=1\n1\n0\n');
  });

  it('the toolkit never disables signature checks or imports keys by itself', () => {
    const offenders = filesUnder(join(repoRoot, 'src')).filter((f) =>
      /--no-gpg-checks|--gpg-auto-import-keys|gpgcheck\s*=\s*0|rpm\s+--import|rpmkeys\s+--import|--no-check-signature/.test(readFileSync(f, 'utf8')),
    );
    expect(offenders).toEqual([]);
  });

  it("a channel signed by an unknown key: zypper refuses it and the host is FAILED with zypper's reason", async () => {
    const home = mkdtempSync(join(tmpdir(), 'lab-other-key-'));
    try {
      const gpg = (args: string[], input?: string) => execFileSync('gpg', ['--batch', '--quiet', '--homedir', home, ...args], { input, encoding: 'utf8' });
      gpg(['--pinentry-mode', 'loopback', '--passphrase', '', '--quick-gen-key', 'Not The Lab <other@invalid>', 'rsa2048', 'sign', 'never']);
      await serveChannelCopy((repomd) => gpg(['--armor', '--detach-sign', '--output', '-'], repomd));
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
    await expectRefused();
  });

  it('metadata changed after signing (a bad signature): refused the same way', async () => {
    // The lab's own signature of the channel, over a repomd.xml that no longer matches it.
    await serveChannelCopy(null);
    await expectRefused();
  });

  it('the channel as the lab signed it: the same host provisions', async () => {
    await on(`sed -i 's|^baseurl=.*|baseurl=file:///srv/repo|' /etc/zypp/repos.d/lab.repo`);
    const run = await provision(['--inventory', lab.inventoryDir, '--limit', pullHost.name]);
    expect(run.code, run.stdout).toBe(0);
  });
});
