// A real network's latency on the lab (`up --rtt MS`): every packet the machine sends onto the
// lab's bridge -- to a host, from the controller or from the lab's server -- is held MS ms
// before it leaves, so every round trip between the machine and a host is at least MS longer
// (the replies come back undelayed; the whole RTT sits on the way out, as one link's delay).
//
// How: one iptables rule (mangle OUTPUT, out through the bridge) sends those packets to a
// netfilter queue of the lab's own, and test/lab/link-delay.py holds each one for MS before
// accepting it. Not tc netem: kernels without sch_netem (this project's CI machine runs one)
// cannot delay packets in the kernel, and one mechanism everywhere keeps the bench's figures
// comparable. The rule has no bypass: if the delay process dies, the hosts become unreachable
// (loudly) rather than silently fast; `status` says so and the next `up` restarts it.
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type LabPaths, repoRoot } from './paths.ts';
import type { LabNet } from './state.ts';
import { cmdline, isAlive, must, run, spawnDetached, stopPid, waitForStart } from './proc.ts';

const SCRIPT = join(repoRoot, 'test', 'lab', 'link-delay.py');

/** The lab's netfilter queue number: one per lab network, so labs side by side never share one. */
export function delayQueue(net: LabNet): number {
  return 7700 + net.netId;
}

/** The rule's match and target, after the chain (iptables -C / -I / -D take the same). */
function ruleSpec(net: LabNet): string[] {
  return ['-o', net.bridge, '-m', 'comment', '--comment', `trento-lab ${net.bridge} rtt`, '-j', 'NFQUEUE', '--queue-num', String(delayQueue(net))];
}

const iptables = (op: string[], net: LabNet) => run('iptables', ['-w', '-t', 'mangle', ...op, 'OUTPUT', ...ruleSpec(net)]);

async function ruleExists(net: LabNet): Promise<boolean> {
  return (await iptables(['-C'], net)).code === 0;
}

export async function removeRule(net: LabNet): Promise<void> {
  // Every copy (an interrupted `up` may have added one twice); -D fails once none is left.
  for (let i = 0; i < 100 && (await iptables(['-D'], net)).code === 0; i++);
}

/** The running delay process of this lab and the delay it holds packets for, or null. */
export function delayProcess(paths: LabPaths): { pid: number; ms: number } | null {
  if (!existsSync(paths.delayPid)) return null;
  const pid = Number(readFileSync(paths.delayPid, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return null;
  // Only ours: its command line is `python3 .../link-delay.py QUEUE MS LABDIR`.
  const args = cmdline(pid);
  const at = args.findIndex((a) => a.endsWith('/link-delay.py'));
  if (at < 0 || args[at + 3] !== paths.labDir) return null;
  return { pid, ms: Number(args[at + 2]) };
}

/** Fails, naming what is missing, before `up --rtt` changes anything. */
export async function checkDelayTools(): Promise<void> {
  await must(
    'iptables',
    ['-w', '-t', 'mangle', '-S', 'OUTPUT'],
    "--rtt needs iptables (Debian: apt-get install iptables) and root; reading the mangle table's OUTPUT chain",
  );
  await must('python3', ['-c', 'import socket; socket.AF_NETLINK'], '--rtt needs python3 (test/lab/link-delay.py holds the packets)');
}

async function startDelayProcess(paths: LabPaths, net: LabNet, rttMs: number): Promise<void> {
  rmSync(paths.delayLog, { force: true });
  const fd = openSync(paths.delayLog, 'a');
  const child = spawnDetached('python3', [SCRIPT, String(delayQueue(net)), String(rttMs), paths.labDir], { stdout: fd });
  child.on('error', () => {}); // reported below (no pid)
  closeSync(fd);
  if (!child.pid) throw new Error('--rtt: could not start python3 for test/lab/link-delay.py');
  child.unref();
  writeFileSync(paths.delayPid, `${child.pid}\n`);
  const pid = child.pid;
  await waitForStart(
    `--rtt: ${SCRIPT} (binding netfilter queue ${delayQueue(net)})`,
    async () => /^ready$/m.test(readFileSync(paths.delayLog, 'utf8')),
    () => isAlive(pid),
    paths.delayLog,
    10_000,
  );
}

/**
 * Hold every packet to the lab's hosts `rttMs` ms (0: no delay). Idempotent: a delay already in
 * place with the same value is left as it is; a dead delay process or a missing rule is restored.
 */
export async function setDelay(paths: LabPaths, net: LabNet, rttMs: number): Promise<void> {
  const current = delayProcess(paths);
  if (rttMs > 0 && current?.ms === rttMs && (await ruleExists(net))) return;
  await removeDelay(paths, net);
  if (rttMs === 0) return;
  // The process first: a rule whose queue nobody holds drops every packet.
  await startDelayProcess(paths, net, rttMs);
  await must('iptables', ['-w', '-t', 'mangle', '-I', 'OUTPUT', ...ruleSpec(net)], `--rtt ${rttMs}: adding the rule that queues packets to ${net.bridge}`);
}

/** Remove the rule, then stop the process (it accepts what it still holds as it exits). */
export async function removeDelay(paths: LabPaths, net: LabNet): Promise<void> {
  await removeRule(net);
  await stopDelayProcess(paths);
}

/** Stop this lab's delay process, if it runs. */
export async function stopDelayProcess(paths: LabPaths): Promise<void> {
  const current = delayProcess(paths);
  if (current) await stopPid(current.pid, 'SIGTERM', 5_000);
  rmSync(paths.delayPid, { force: true });
}

/** What is in effect: the delay's process and rule both present, or not. */
export async function delayInEffect(paths: LabPaths, net: LabNet): Promise<{ ms: number; pid: number; queue: number } | null> {
  const current = delayProcess(paths);
  if (!current || !(await ruleExists(net))) return null;
  return { ms: current.ms, pid: current.pid, queue: delayQueue(net) };
}
