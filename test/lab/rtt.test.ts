// `lab up --rtt MS` on a small dedicated lab (own LAB_DIR, 2 hosts): every round trip to a
// host takes at least MS more, later ups keep the delay, `--rtt 0` removes it. Only lower
// bounds are asserted: they are a property of the lab's links (tc netem), not a timing of
// the toolkit, and a busy machine can only make a round trip longer.
//
// netem is a kernel feature, not a package: a machine whose kernel lacks it (CONFIG_NET_SCH_NETEM
// unset, no sch_netem module; this project's CI machine is one) cannot delay packets, and no
// set-up step can change that. There, what is tested is the refusal: `up --rtt` names the
// missing kernel option and changes nothing. Which of the two ran is in the test's name;
// test/lab/README.md says the delay itself is unverified on such a machine.
import { afterAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { labDown, labUp } from './lab.ts';
import { labPaths, repoRoot } from './paths.ts';
import { linkDelays } from './network.ts';
import { labNet, loadState, vethName } from './state.ts';
import { sshOk } from './ssh.ts';
import { describeWith, KERNEL_HAS_NETEM, NETEM } from '../support/requires.ts';

const run = promisify(execFile);
const RTT = 30;
// Made by the first test: a skipped file (no netem) runs no hook, so it must leave no folder.
let dir = '';
let paths = labPaths('/nonexistent');

afterAll(async () => {
  if (dir) await labDown({ labDir: dir, purge: true });
});

/** ping's shortest round trip (ms) over 3 echoes from this machine to the host. */
async function pingMinMs(address: string): Promise<number> {
  const { stdout } = await run('ping', ['-n', '-q', '-c', '3', '-i', '0.2', '-W', '5', address]);
  // rtt min/avg/max/mdev = 30.1/30.2/30.4/0.1 ms
  const m = /= ([\d.]+)\/([\d.]+)\/([\d.]+)/.exec(stdout);
  if (!m) throw new Error(`ping ${address}: no round-trip summary in:\n${stdout}`);
  return Number(m[1]);
}

async function statusJson(): Promise<{ rtt: { ms: number; links: number } }> {
  const { stdout } = await run('npx', ['tsx', join(repoRoot, 'scripts', 'lab.ts'), 'status', '--json'], {
    env: { ...process.env, LAB_DIR: dir },
    cwd: repoRoot,
  });
  return JSON.parse(stdout) as { rtt: { ms: number; links: number } };
}

const veths = () => {
  const state = loadState(paths);
  return state.hosts.filter((h) => state.active.includes(h.name)).map((h) => vethName(labNet(state.netId!), h.index));
};

if (!KERNEL_HAS_NETEM) {
  describe('lab up --rtt on a kernel without netem', () => {
    it('refuses before changing anything, naming the missing kernel option', async () => {
      dir = mkdtempSync('/tmp/lab-rtt-test-');
      paths = labPaths(dir);
      await expect(labUp({ labDir: dir, hosts: 2, rttMs: RTT, server: false })).rejects.toThrow(/CONFIG_NET_SCH_NETEM/);
      // Nothing started: no state, no host, no bridge of this lab.
      expect(loadState(paths).active).toEqual([]);
      const { stdout } = await run('ip', ['-o', 'link', 'show']);
      expect(stdout).not.toMatch(/tprtt/);
    });
  });
}

if (KERNEL_HAS_NETEM)
  describeWith(NETEM, "lab up --rtt: a real network's latency on every host's link", () => {
    it(`up --rtt ${RTT}: ping and an ssh round trip take at least ${RTT} ms, status shows the delay`, async () => {
      dir = mkdtempSync('/tmp/lab-rtt-test-');
      paths = labPaths(dir);
      const r = await labUp({ labDir: dir, hosts: 2, rttMs: RTT, server: false });
      for (const h of r.info.hosts) {
        expect(await pingMinMs(h.address)).toBeGreaterThanOrEqual(RTT);
        const started = performance.now();
        expect((await sshOk(paths.sshConfig, h.name, 'hostname')).trim()).toBe(h.name);
        // TCP's handshake alone is one round trip; ssh's key exchange several more.
        expect(performance.now() - started).toBeGreaterThanOrEqual(RTT);
      }
      expect(await statusJson()).toMatchObject({ rtt: { ms: RTT, links: 2 } });
    });

    it('a later up without --rtt keeps the delay, also on a host it starts', async () => {
      const r = await labUp({ labDir: dir, hosts: 3, server: false });
      expect(r.started).toHaveLength(1);
      for (const h of r.info.hosts) expect(await pingMinMs(h.address)).toBeGreaterThanOrEqual(RTT);
      expect((await linkDelays(veths())).map((d) => d.ms)).toEqual([RTT, RTT, RTT]);
      expect(await statusJson()).toMatchObject({ rtt: { ms: RTT, links: 3 } });
    });

    it('--rtt 0 removes it from every link', async () => {
      await labUp({ labDir: dir, rttMs: 0, server: false });
      expect((await linkDelays(veths())).map((d) => d.ms)).toEqual([0, 0, 0]);
      expect(loadState(paths).rttMs).toBeUndefined();
      expect(await statusJson()).toMatchObject({ rtt: { ms: 0, links: 0 } });
    });
  });
