// The lab's hosts as the toolkit sees them: reachable over SSH with strict host key checking,
// each with its own product, identity, namespaces and files.
import { describe, expect, it } from 'vitest';
import { currentLab } from './current.ts';
import { readFileSync, writeFileSync, mkdtempSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { osReleaseFixtures } from './paths.ts';
import { productByMix } from './products.ts';
import { ssh, sshOk } from './ssh.ts';
import { need } from '../support/requires.ts';

const lab = currentLab();
const cfg = lab.sshConfig;
const byProduct = (mix: string) => lab.hosts.find((h) => h.product === mix);

describe('lab hosts', () => {
  it('has the default mix, each host with its own address and machine-id', () => {
    expect(lab.hosts.length).toBeGreaterThanOrEqual(11);
    expect(new Set(lab.hosts.map((h) => h.address)).size).toBe(lab.hosts.length);
    expect(new Set(lab.hosts.map((h) => h.machineId)).size).toBe(lab.hosts.length);
    for (const h of lab.hosts) expect(h.machineId).toMatch(/^[0-9a-f]{32}$/);
  });

  it("keeps every lab host in the machine's ARP table (its limits cover the labs' hosts)", () => {
    // Linux's gc_thresh3 (1024 by default) refuses new entries beyond it: a lab of ~1,000 hosts
    // then answers "No route to host" on half of them (test/lab/network.ts raises the limits).
    const limit = (name: string) => Number(readFileSync(`/proc/sys/net/ipv4/neigh/default/${name}`, 'utf8'));
    expect(limit('gc_thresh1')).toBeGreaterThanOrEqual(lab.hosts.length + 64);
    expect(limit('gc_thresh3')).toBeGreaterThanOrEqual(8 * (lab.hosts.length + 64));
  });

  it('answers on every host over SSH with strict host key checking, with the right os-release', async () => {
    const sep = '=====lab-sep=====';
    const results = await Promise.all(
      lab.hosts.map(async (h) => {
        const out = await sshOk(
          cfg,
          h.name,
          `hostname; echo ${sep}; cat /etc/os-release; echo ${sep}; cat /usr/lib/os-release; echo ${sep}; ` +
            `stat -c %F /etc/os-release /usr/lib/os-release; cat /etc/machine-id; cat /proc/1/comm; ` +
            `readlink /etc/products.d/baseproduct || echo none; ip -4 -o addr show dev eth0; grep -w "$(hostname)" /etc/hosts`,
        );
        return { h, parts: out.split(`${sep}\n`) };
      }),
    );
    for (const { h, parts } of results) {
      const fixture = readFileSync(join(osReleaseFixtures, h.product), 'utf8');
      expect(parts[0]!.trim(), h.name).toBe(h.name);
      expect(parts[1], `${h.name} /etc/os-release`).toBe(fixture);
      expect(parts[2], `${h.name} /usr/lib/os-release`).toBe(fixture);
      const rest = parts[3]!.trim().split('\n');
      expect(rest.slice(0, 2), `${h.name}: os-release files are real files`).toEqual(['regular file', 'regular file']);
      expect(rest[2], `${h.name} machine-id`).toBe(h.machineId);
      expect(rest[3], `${h.name} /proc/1/comm`).toBe('systemd');
      const base = productByMix(h.product).baseProduct;
      expect(rest[4], `${h.name} baseproduct`).toBe(base ? `${base}.prod` : 'none');
      expect(rest[5], `${h.name} eth0`).toContain(`inet ${h.address}/16`);
      expect(rest[6], `${h.name} /etc/hosts`).toMatch(new RegExp(`^${h.address.replace(/\./g, '\\.')}\\s+${h.name}$`));
    }
  });

  it('refuses a host whose key does not match known_hosts (the checking is really strict)', async () => {
    const h = lab.hosts[0]!;
    const other = lab.hosts[1]!;
    const known = readFileSync(lab.knownHosts, 'utf8').split('\n');
    const otherKey = known
      .find((l) => l.startsWith(`${other.name},`))!
      .split(' ')
      .slice(1)
      .join(' ');
    const dir = mkdtempSync(join(tmpdir(), 'lab-kh-'));
    const bad = join(dir, 'known_hosts');
    writeFileSync(bad, `${h.name},${h.address} ${otherKey}\n`);
    const r = await ssh(cfg, h.name, 'true', { sshArgs: ['-o', `UserKnownHostsFile=${bad}`] });
    expect(r.code).toBe(255);
    expect(r.stderr).toMatch(/HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
    const empty = join(dir, 'empty');
    writeFileSync(empty, '');
    const r2 = await ssh(cfg, h.name, 'true', { sshArgs: ['-o', `UserKnownHostsFile=${empty}`] });
    rmSync(dir, { recursive: true, force: true });
    expect(r2.code).toBe(255);
    expect(r2.stderr).toMatch(/Host key verification failed|No .* host key is known/);
  });

  it('allows key logins only', async () => {
    const h = lab.hosts[0]!;
    const r = await ssh(cfg, h.name, 'true', {
      sshArgs: ['-o', 'PubkeyAuthentication=no', '-o', 'PasswordAuthentication=yes', '-o', 'KbdInteractiveAuthentication=yes'],
    });
    expect(r.code).toBe(255);
    expect(r.stderr).toMatch(/Permission denied \(publickey\)/);
  });

  it("keeps each host apart: files, processes, the machine's private folders", async () => {
    const [a, b] = [lab.hosts[0]!, lab.hosts[1]!];
    const mark = `lab-test-${process.pid}-${Date.now()}`;
    await sshOk(cfg, a.name, `touch /tmp/${mark} /root/${mark} /etc/${mark}`);
    try {
      const onB = await sshOk(cfg, b.name, `ls /tmp/${mark} /root/${mark} /etc/${mark} 2>/dev/null | wc -l`);
      expect(onB.trim()).toBe('0');
      expect(existsSync(`/tmp/${mark}`) || existsSync(`/root/${mark}`) || existsSync(`/etc/${mark}`)).toBe(false);
      // The machine's /root, /work (checkouts), the lab folder, its enabled units: not visible.
      const hidden = await sshOk(
        cfg,
        a.name,
        `ls -A /work | wc -l; ls /root/.pyenv ${lab.labDir} 2>&1 | grep -c 'No such file'; ` +
          'ls /etc/systemd/system/multi-user.target.wants/ssh.service /etc/systemd/system/sshd.service ' +
          '/usr/lib/systemd/system/ssh.service /usr/lib/systemd/system/postgresql.service 2>/dev/null | wc -l',
      );
      expect(hidden.trim().split('\n')).toEqual(['0', '2', '0']);
      // Own pid namespace: PID 1 is the host's init, sshd runs inside, no machine processes.
      const ps = await sshOk(cfg, a.name, 'ps -e -o pid=,comm=');
      expect(ps).toMatch(/^\s*1 systemd$/m);
      expect(ps).toMatch(/ sshd$/m);
      expect(ps).not.toMatch(/process_api|node|vitest/);
    } finally {
      await ssh(cfg, a.name, `rm -f /tmp/${mark} /root/${mark} /etc/${mark}`);
    }
  });

  it('has the rpm database at /usr/lib/sysimage/rpm, seeded, and the lab repository on SLES hosts', async () => {
    for (const mix of ['sles-15-sp4', 'sles-16.0']) {
      const h = byProduct(mix);
      if (!h) continue;
      const out = await sshOk(cfg, h.name, 'rpm --eval %_dbpath; rpm -q lab-sles-base >/dev/null && echo seeded; cat /etc/zypp/repos.d/lab.repo');
      expect(out).toMatch(/^\/usr\/lib\/sysimage\/rpm$/m);
      expect(out).toContain('seeded');
      expect(out).toContain('baseurl=file:///srv/repo');
      expect(out).toContain('gpgcheck=1');
    }
  });

  it('gives the sudo users to the first SLES 15 and the first SLES 16 host only', async () => {
    const sudoHosts = lab.hosts.filter((h) => h.sudoUsers.length > 0);
    expect(sudoHosts.map((h) => productByMix(h.product).sles).sort()).toEqual([15, 16]);
    for (const h of sudoHosts) {
      expect((await sshOk(cfg, h.name, 'sudo -n id -u', { user: 'admin' })).trim()).toBe('0');
      const noPw = await ssh(cfg, h.name, 'sudo -n -k true', { user: 'admin-pw' });
      expect(noPw.code).not.toBe(0);
      expect(noPw.stderr).toMatch(/password is required/);
      const withPw = await sshOk(cfg, h.name, "sudo -S -k -p '' id -u", { user: 'admin-pw', input: 'lab-sudo-password\n' });
      expect(withPw.trim()).toBe('0');
      const wrong = await ssh(cfg, h.name, "sudo -S -k -p '' id -u", { user: 'admin-pw', input: 'wrong\n' });
      expect(wrong.code).not.toBe(0);
    }
    const plain = lab.hosts.find((h) => h.sudoUsers.length === 0)!;
    const r = await ssh(cfg, plain.name, 'id admin');
    expect(r.code).not.toBe(0);
  });

  it('mounts the root of SL Micro read-only, with /etc and /var writable', async (ctx) => {
    const h = byProduct('sl-micro-6.2');
    need(ctx, { what: 'an sl-micro-6.2 host in the lab mix', available: h !== undefined, fix: 'the default mix (unset LAB_MIX)' });
    if (!h) return;
    const r = await ssh(cfg, h.name, 'touch /usr/lab-test');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Read-only file system/);
    await sshOk(cfg, h.name, 'touch /etc/lab-test /var/lab-test && rm /etc/lab-test /var/lab-test');
  });
});
