// The lab's operations: up, down, status. Used by scripts/lab.ts (CLI) and by the vitest
// global set-up; tests may call them with their own labDir for small dedicated labs.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { labPaths, hostPaths, type LabPaths } from './paths.ts';
import { DEFAULT_MIX, parseMix, planCount, planMix, productByMix, sudoHosts, type PlannedHost } from './products.ts';
import { alloyPushProblem } from './host-python.ts';
import { hostAddress, labNet, loadState, newMachineId, saveState, vethName, writeAtomic, type HostRecord, type LabState } from './state.ts';
import { acquireLock } from './lock.ts';
import { ensureNeighbourRoom, ensureNetwork, labLinks, listLinks, releaseNetwork, removeBridge, removeLinks } from './network.ts';
import { checkDelayTools, removeRule, setDelay, stopDelayProcess } from './delay.ts';
import { ensurePackages, prunePackages, packagesStamp } from './packages.ts';
import { ensureBase } from './base.ts';
import { prepareHosts, runningPid, startHosts, stopHosts } from './hosts.ts';
import { tail } from './proc.ts';
import { etcHosts, writeClientFiles, type LabInfo } from './inventory.ts';
import { labStatus, liveKeepers, sshdAnswers, sshdListening, type LabStatus } from './status.ts';
import { cmdline, isAlive, must, processTable, sleep } from './proc.ts';
import { ensurePki, ensureServer, stopServer, wipeServerData, type ServerInfo } from './server.ts';

export type Log = (line: string) => void;

export interface UpOptions {
  labDir?: string;
  /** `--hosts N`: N hosts cycling through the default mix. */
  hosts?: number;
  /** `--mix NAME=COUNT,...` */
  mix?: Array<[string, number]>;
  log?: Log;
  /** Max time to wait for every sshd (default 60 s). */
  sshTimeoutMs?: number;
  /** Start the server side (Prometheus + nginx, test/lab/server.ts); default true. */
  server?: boolean;
  /**
   * `--rtt MS`: round-trip delay on every packet to the hosts (test/lab/delay.ts). Absent:
   * the lab keeps the delay it has; 0 removes it.
   */
  rttMs?: number;
}

export interface UpResult {
  info: LabInfo;
  started: string[];
  alreadyUp: string[];
  stopped: string[];
  ms: number;
}

async function ensureKey(paths: LabPaths): Promise<void> {
  if (existsSync(paths.keyFile) && existsSync(`${paths.keyFile}.pub`)) return;
  mkdirSync(paths.keysDir, { recursive: true, mode: 0o700 });
  rmSync(paths.keyFile, { force: true });
  rmSync(`${paths.keyFile}.pub`, { force: true });
  await must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'trento-lab', '-f', paths.keyFile], 'generating the lab ssh key');
}

function planFor(opts: UpOptions, state: LabState): PlannedHost[] {
  if (opts.mix) return planMix(opts.mix);
  if (opts.hosts !== undefined) return planCount(opts.hosts);
  if (state.active.length) {
    // No shape given: keep the lab's current one (so `up` on a running lab changes nothing).
    return state.active.map((name) => {
      const rec = state.hosts.find((h) => h.name === name);
      if (!rec) throw new Error(`${name}: listed as active but unknown in the lab state; run \`npm run lab -- down --purge\``);
      return { name, product: rec.product };
    });
  }
  return planCount(DEFAULT_MIX.length);
}

/** Host records for the plan, created on first sight (identity kept across ups). */
function records(state: LabState, plan: PlannedHost[], netId: number): HostRecord[] {
  const net = labNet(netId);
  const sudo = sudoHosts(plan);
  const used = new Set(state.hosts.map((h) => h.index));
  let next = 1;
  return plan.map((p) => {
    let rec = state.hosts.find((h) => h.name === p.name);
    if (!rec) {
      while (used.has(next)) next++;
      used.add(next);
      rec = {
        name: p.name,
        product: p.product,
        index: next,
        address: '',
        machineId: newMachineId(),
        sudoUsers: sudo.has(p.name) ? ['admin', 'admin-pw'] : [],
      };
      state.hosts.push(rec);
    }
    rec.address = hostAddress(net, rec.index);
    return rec;
  });
}

/**
 * Wait until sshd listens on every host (seen in the host's netns via /proc/PID/net/tcp), then
 * check the network path once per host: TCP connect to ADDR:22 and sshd's banner.
 */
async function waitForSshd(paths: LabPaths, recs: HostRecord[], probe: HostRecord[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const fail = (what: string, left: HostRecord[]) =>
    new Error(
      `${what} after ${timeoutMs / 1000} s on: ${left.map((r) => `${r.name} (${r.address})`).join(', ')}; see ${join(paths.hostsDir, 'NAME', 'console.log')} and ${join(paths.hostsDir, 'NAME', 'upper', 'var', 'log', 'sshd.log')}`,
    );
  let left = recs;
  while (left.length) {
    left = left.filter((r) => {
      const pid = runningPid(hostPaths(paths, r.name));
      if (!pid)
        throw new Error(`${r.name}: the host stopped while starting; see ${hostPaths(paths, r.name).console}:\n${tail(hostPaths(paths, r.name).console)}`);
      return !sshdListening(pid);
    });
    if (left.length === 0) break;
    if (Date.now() > deadline) throw fail('sshd not listening', left);
    await sleep(50);
  }
  left = probe;
  while (left.length) {
    const ok: boolean[] = [];
    // A few at a time: every connection makes sshd fork and re-exec a child.
    for (let i = 0; i < left.length; i += 50) ok.push(...(await Promise.all(left.slice(i, i + 50).map((r) => sshdAnswers(r.address, 5000)))));
    left = left.filter((_, i) => !ok[i]);
    if (left.length === 0) return;
    if (Date.now() > deadline) throw fail('sshd not answering on the lab network', left);
    await sleep(200);
  }
}

export async function labUp(opts: UpOptions = {}): Promise<UpResult> {
  const t0 = Date.now();
  const log = opts.log ?? (() => {});
  const paths = labPaths(opts.labDir);
  mkdirSync(paths.labDir, { recursive: true });
  const lock = await acquireLock(paths.lock, `lab ${paths.labDir}`);
  try {
    const state = loadState(paths);
    const plan = planFor(opts, state);
    if (opts.rttMs) await checkDelayTools();
    const pushProblem = plan.some((p) => productByMix(p.product).sles === 16) ? alloyPushProblem() : null;
    if (pushProblem) throw new Error(pushProblem);
    await ensureKey(paths);
    const net = await ensureNetwork(paths.labDir, paths.isDefault, state.netId);
    state.netId = net.netId;
    const neighbours = await ensureNeighbourRoom(net, plan.length);
    if (neighbours) log(neighbours);
    const recs = records(state, plan, net.netId);
    const wanted = new Set(plan.map((p) => p.name));
    const stopped = state.active.filter((n) => !wanted.has(n));
    if (stopped.length) {
      log(`stopping ${stopped.length} host(s) not in the requested mix`);
      await stopHosts(paths, stopped);
    }
    state.active = plan.map((p) => p.name);
    saveState(paths, state);

    // The lab CA exists before any host starts: each host gets it (and the client cert) at start.
    await ensurePki(paths, net);
    const pkgDir = await ensurePackages(paths, log);
    const stamp = await ensureBase(paths, pkgDir, log);
    writeAtomic(paths.etcHosts, etcHosts(net, recs));
    // A host left without its veth (e.g. an `up` interrupted between start and wiring) is
    // running but unreachable: restart it.
    const links = new Set((await listLinks()).map((l) => l.ifname));
    const unwired = recs.filter((r) => runningPid(hostPaths(paths, r.name)) && !links.has(vethName(net, r.index)));
    if (unwired.length) {
      log(`restarting ${unwired.length} host(s) that have no network link: ${unwired.map((r) => r.name).join(', ')}`);
      await stopHosts(
        paths,
        unwired.map((r) => r.name),
      );
    }
    const down = recs.filter((r) => !runningPid(hostPaths(paths, r.name)));
    const alreadyUp = recs.filter((r) => !down.includes(r)).map((r) => r.name);
    if (down.length) {
      log(`starting ${down.length} host(s)${alreadyUp.length ? ` (${alreadyUp.length} already up)` : ''}`);
      let t = Date.now();
      const prepared = await prepareHosts(paths, down, stamp, net, pkgDir, log);
      log(`disks and identities ready in ${((Date.now() - t) / 1000).toFixed(1)} s`);
      t = Date.now();
      await startHosts(paths, prepared, net);
      log(`namespaces started and wired in ${((Date.now() - t) / 1000).toFixed(1)} s; waiting for sshd`);
    }
    // Hosts started now are also reached over the lab network once (banner on ADDR:22).
    await waitForSshd(paths, recs, down, opts.sshTimeoutMs ?? 60_000);
    // After the sshd probe: with a delay, the probe of hundreds of hosts would wait it out too.
    // Every up puts it in place again (a delay process that died is restarted); it covers the
    // whole bridge, so hosts started later have it too. Kept in the state until changed.
    const rttMs = opts.rttMs ?? state.rttMs ?? 0;
    await setDelay(paths, net, rttMs);
    if (rttMs !== (state.rttMs ?? 0)) {
      log(rttMs ? `${rttMs} ms round-trip delay on every packet to the hosts` : 'round-trip delay removed');
      if (rttMs > 0) state.rttMs = rttMs;
      else delete state.rttMs;
      saveState(paths, state);
    }
    let server: ServerInfo | null = null;
    if (opts.server ?? true) server = await ensureServer(paths, net, recs, log);
    else await stopServer(paths, log);
    const info = writeClientFiles(paths, net, state, recs, server);
    return { info, started: down.map((r) => r.name), alreadyUp, stopped, ms: Date.now() - t0 };
  } finally {
    lock.release();
  }
}

export interface DownOptions {
  labDir?: string;
  /** Also delete the hosts' disks (upper layers); identities are kept. */
  wipe?: boolean;
  /** Delete everything: the lab folder and its inventory. */
  purge?: boolean;
  log?: Log;
}

/** Processes that mention the lab folder on their command line (bootstraps, unshare, keepers). */
export function labProcesses(paths: LabPaths): number[] {
  return processTable()
    .filter((p) => p.state !== 'Z' && p.pid !== process.pid && cmdline(p.pid).some((a) => a.startsWith(`${paths.labDir}/`) || a === paths.labDir))
    .map((p) => p.pid);
}

/** Mount points under the lab folder in the machine's mount table (there should be none: hosts mount in their own namespace). */
export function labMounts(paths: LabPaths): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m === paths.labDir || m.startsWith(`${paths.labDir}/`));
}

/**
 * The test suite's lab start: stop it, wipe the hosts' disks (identities and known_hosts are
 * kept), and bring up the default mix, or LAB_MIX=NAME=COUNT,... when set.
 */
export async function labUpClean(opts: { labDir?: string; log?: (line: string) => void } = {}): Promise<UpResult> {
  await labDown({ ...opts, wipe: true });
  const mix = process.env.LAB_MIX ? parseMix(process.env.LAB_MIX) : undefined;
  return labUp({ ...opts, mix, hosts: mix ? undefined : DEFAULT_MIX.length });
}

export async function labDown(opts: DownOptions = {}): Promise<{ stopped: number; ms: number }> {
  const t0 = Date.now();
  const log = opts.log ?? (() => {});
  const paths = labPaths(opts.labDir);
  if (!existsSync(paths.labDir)) return { stopped: 0, ms: 0 };
  const lock = await acquireLock(paths.lock, `lab ${paths.labDir}`);
  try {
    const state = loadState(paths);
    const names = existsSync(paths.hostsDir) ? readdirSync(paths.hostsDir) : [];
    const running = names.filter((n) => runningPid(hostPaths(paths, n)));
    if (running.length) log(`stopping ${running.length} host(s)`);
    await stopHosts(paths, running);
    await stopServer(paths, log);
    // Keepers exit by themselves once their hosts are gone.
    const deadline = Date.now() + 10_000;
    while (liveKeepers(paths).length && Date.now() < deadline) await sleep(50);
    for (const k of liveKeepers(paths)) {
      try {
        process.kill(k, 'SIGTERM');
      } catch {
        /* gone */
      }
    }
    if (state.netId !== null) {
      const net = labNet(state.netId);
      // The lab's own delay process first, outside the network lock (its hosts are gone: nothing
      // is left to delay); its rule and links only where the number is still the lab's.
      await stopDelayProcess(paths);
      await releaseNetwork(net, paths.labDir, async () => {
        await removeRule(net);
        const links = await labLinks(net);
        await removeLinks(links.filter((l) => l !== net.bridge));
        await removeBridge(net, paths.labDir);
      });
    }
    // Keep the current package set (no rebuild on the next up); drop older ones.
    const current = join(paths.packagesDir, packagesStamp());
    prunePackages(paths, existsSync(current) ? current : null);
    rmSync(paths.labJson, { force: true });
    const leftovers = labProcesses(paths);
    if (leftovers.length) throw new Error(`lab processes still running after down: ${leftovers.join(', ')}`);
    const mounts = labMounts(paths);
    if (mounts.length) throw new Error(`mounts left under ${paths.labDir}: ${mounts.join(', ')}`);
    if (opts.wipe || opts.purge) {
      // Fresh hosts, fresh metrics: no series of an earlier run can answer a test's query.
      wipeServerData(paths);
      for (const n of names) {
        const hp = hostPaths(paths, n);
        rmSync(hp.upper, { recursive: true, force: true });
        rmSync(hp.work, { recursive: true, force: true });
      }
    }
    if (opts.purge) {
      state.active = [];
      rmSync(paths.inventoryDir, { recursive: true, force: true });
      lock.release();
      rmSync(paths.labDir, { recursive: true, force: true });
    }
    return { stopped: running.length, ms: Date.now() - t0 };
  } finally {
    lock.release();
  }
}

export async function status(labDir?: string): Promise<LabStatus> {
  return labStatus(labPaths(labDir));
}

/** True when the lab has its hosts up (used by LAB_REUSE=1). */
export function isLabUp(labDir?: string): boolean {
  const paths = labPaths(labDir);
  if (!existsSync(paths.state) || !existsSync(paths.labJson)) return false;
  const state = loadState(paths);
  return state.active.length > 0 && state.active.every((n) => runningPid(hostPaths(paths, n)) !== null);
}

export { labPaths, isAlive };
