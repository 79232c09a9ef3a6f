// `lab up --rtt MS` on a small dedicated lab (own LAB_DIR, 2 hosts): every round trip to a
// host takes at least MS more, a later up keeps the delay (also for a host it starts, and
// restarts a delay process that died), `--rtt 0` and `down` remove the rule and the process.
// Only lower bounds are asserted: they are a property of the lab's network, not a timing of
// the toolkit, and a busy machine can only make a round trip longer.
import { afterAll, expect, it } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { labDown, labUp } from './lab.ts';
import { labPaths, repoRoot } from './paths.ts';
import { delayProcess, delayQueue } from './delay.ts';
import { labNet, loadState } from './state.ts';
import { sshOk } from './ssh.ts';
import { processTable, cmdline } from './proc.ts';
import { describeWith, LINK_DELAY } from '../support/requires.ts';

const run = promisify(execFile);
const RTT = 30;
const dir = mkdtempSync('/tmp/lab-rtt-test-');
const paths = labPaths(dir);

afterAll(async () => {
  await labDown({ labDir: dir, purge: true });
});

/** ping's shortest round trip (ms) over 3 echoes from this machine to the host. */
async function pingMinMs(address: string): Promise<number> {
  const { stdout } = await run('ping', ['-n', '-q', '-c', '3', '-i', '0.2', '-W', '5', address]);
  // rtt min/avg/max/mdev = 30.1/30.2/30.4/0.1 ms
  const m = /= ([\d.]+)\/([\d.]+)\/([\d.]+)/.exec(stdout);
  if (!m) throw new Error(`ping ${address}: no round-trip summary in:\n${stdout}`);
  return Number(m[1]);
}

interface RttStatus {
  ms: number;
  inEffect: boolean;
  queue: number | null;
  pid: number | null;
}

async function status(): Promise<{ rtt: RttStatus; text: string }> {
  const lab = (args: string[]) =>
    run('npx', ['tsx', join(repoRoot, 'scripts', 'lab.ts'), 'status', ...args], { env: { ...process.env, LAB_DIR: dir }, cwd: repoRoot });
  const json = JSON.parse((await lab(['--json'])).stdout) as { rtt: RttStatus };
  return { rtt: json.rtt, text: (await lab([])).stdout };
}

/** The lab's rules in the mangle table, as iptables lists them. */
async function queueRules(): Promise<string[]> {
  const { stdout } = await run('iptables', ['-w', '-t', 'mangle', '-S', 'OUTPUT']);
  const queue = delayQueue(labNet(loadState(paths).netId!));
  return stdout.split('\n').filter((l) => l.includes(`--queue-num ${queue}`));
}

/** Packets the lab's rule has sent to its delay queue so far (iptables' own counter). */
async function queuedPackets(): Promise<number> {
  const { stdout } = await run('iptables', ['-w', '-t', 'mangle', '-L', 'OUTPUT', '-v', '-n', '-x']);
  const queue = delayQueue(labNet(loadState(paths).netId!));
  const rule = stdout.split('\n').find((l) => l.includes(`NFQUEUE num ${queue}`));
  expect(rule, `no rule for queue ${queue} in:\n${stdout}`).toBeDefined();
  return Number(rule!.trim().split(/\s+/u)[0]);
}

/** Processes running test/lab/link-delay.py for this lab (whatever its pid file says). */
function delayProcesses(): number[] {
  return processTable()
    .filter((p) => p.state !== 'Z')
    .filter((p) => {
      const args = cmdline(p.pid);
      return args.some((a) => a.endsWith('/link-delay.py')) && args.includes(dir);
    })
    .map((p) => p.pid);
}

describeWith(LINK_DELAY, "lab up --rtt: a real network's latency on every round trip to a host", () => {
  it(`up --rtt ${RTT}: ping and an ssh round trip take at least ${RTT} ms, status shows the delay`, async () => {
    const r = await labUp({ labDir: dir, hosts: 2, rttMs: RTT, server: false });
    for (const h of r.info.hosts) {
      expect(await pingMinMs(h.address)).toBeGreaterThanOrEqual(RTT);
      // ssh's packets went through the delay: the rule's own counter, not a stopwatch of the test's
      // (TCP's handshake alone sends one packet to the host, ssh's key exchange several more).
      const before = await queuedPackets();
      expect((await sshOk(paths.sshConfig, h.name, 'hostname')).trim()).toBe(h.name);
      expect((await queuedPackets()) - before).toBeGreaterThanOrEqual(3);
    }
    const s = await status();
    expect(s.rtt).toMatchObject({ ms: RTT, inEffect: true, pid: delayProcess(paths)!.pid });
    expect(s.text).toMatch(new RegExp(`round-trip delay: ${RTT} ms on every packet to the hosts`));
    expect(await queueRules()).toHaveLength(1);
    expect(delayProcesses()).toHaveLength(1);
  });

  it('a later up without --rtt keeps the delay, also for a host it starts', async () => {
    const r = await labUp({ labDir: dir, hosts: 3, server: false });
    expect(r.started).toHaveLength(1);
    for (const h of r.info.hosts) expect(await pingMinMs(h.address)).toBeGreaterThanOrEqual(RTT);
    expect(await queueRules()).toHaveLength(1);
    expect(delayProcesses()).toHaveLength(1);
  });

  it("status --cpu-window counts the delay process's CPU in the lab's", async () => {
    const address = loadState(paths).hosts[0]!.address;
    // Echoes, 20 in flight, until the status program (its start, then its 3-second window) is
    // done, whatever that start takes on a busy machine; the delay process handles every one.
    const echoes = spawn('ping', ['-n', '-q', '-f', '-l', '20', '-w', '240', address], { stdio: 'ignore' });
    const window = await run('npx', ['tsx', join(repoRoot, 'scripts', 'lab.ts'), 'status', '--json', '--cpu-window', '3'], {
      env: { ...process.env, LAB_DIR: dir },
      cwd: repoRoot,
    }).finally(() => echoes.kill('SIGINT'));
    const cpu = (JSON.parse(window.stdout) as { cpu: { delayCores: number; percentOfMachine: number } }).cpu;
    expect(cpu.delayCores).toBeGreaterThan(0);
    expect(cpu.percentOfMachine).toBeGreaterThan(0);
  });

  it('a delay process that died shows in status as not in effect, and the next up restarts it', async () => {
    const before = delayProcess(paths)!.pid;
    process.kill(before, 'SIGKILL');
    while (delayProcesses().includes(before)) await new Promise((r) => setTimeout(r, 20));
    const s = await status();
    expect(s.rtt).toMatchObject({ ms: RTT, inEffect: false });
    expect(s.text).toMatch(/NOT in effect/);
    const r = await labUp({ labDir: dir, server: false });
    expect(delayProcess(paths)?.pid).not.toBe(before);
    for (const h of r.info.hosts) expect(await pingMinMs(h.address)).toBeGreaterThanOrEqual(RTT);
    expect((await status()).rtt).toMatchObject({ ms: RTT, inEffect: true });
  });

  it('--rtt 0 removes the rule and the process; the hosts still answer', async () => {
    const r = await labUp({ labDir: dir, rttMs: 0, server: false });
    expect(await queueRules()).toEqual([]);
    expect(delayProcesses()).toEqual([]);
    expect(loadState(paths).rttMs).toBeUndefined();
    expect((await status()).rtt).toMatchObject({ ms: 0, inEffect: false });
    for (const h of r.info.hosts) expect((await sshOk(paths.sshConfig, h.name, 'hostname')).trim()).toBe(h.name);
  });

  it('down removes the rule and the process and keeps the setting for the next up', async () => {
    await labUp({ labDir: dir, rttMs: RTT, server: false });
    expect(delayProcesses()).toHaveLength(1);
    await labDown({ labDir: dir });
    expect(await queueRules()).toEqual([]);
    expect(delayProcesses()).toEqual([]);
    expect(loadState(paths).rttMs).toBe(RTT);
  });
});
