// What is running: per host up/down, sshd answering, memory (RSS and PSS of the host's
// processes), and the lab's total (hosts + keepers).
import { existsSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:net';
import type { LabPaths } from './paths.ts';
import { hostPaths } from './paths.ts';
import { availableParallelism } from 'node:os';
import { cmdline, cpuTicks, descendants, isAlive, memoryOf, processTable, sleep, TICKS_PER_SECOND, type Memory } from './proc.ts';
import { runningPid } from './hosts.ts';
import { loadState, labNet } from './state.ts';
import { delayInEffect } from './delay.ts';
import { serverStatus, type ServerStatus } from './server.ts';

export interface HostStatus {
  name: string;
  product: string;
  address: string;
  up: boolean;
  sshd: boolean;
  pid: number | null;
  memory: Memory;
}

export interface LabStatus {
  labDir: string;
  bridge: string | null;
  hosts: HostStatus[];
  keepers: number[];
  total: Memory;
  /** Prometheus and the nginx edge (test/lab/server.ts). */
  server: ServerStatus;
  /** CPU the lab used over a short window (when asked for): see labCpu. */
  cpu?: LabCpu;
  /**
   * Round-trip delay of `up --rtt` (0: none) and whether it is in effect: the netfilter rule and
   * the process holding its queue's packets (test/lab/delay.ts) both present, with that delay.
   */
  rtt: { ms: number; inEffect: boolean; queue: number | null; pid: number | null };
}

export interface LabCpu {
  windowSeconds: number;
  cores: number;
  /**
   * CPU seconds per second of the hosts' processes (and the keepers), of Prometheus + nginx, and
   * of the `--rtt` delay process (0 without one).
   */
  hostsCores: number;
  serverCores: number;
  delayCores: number;
  /** All three, as a share of the machine (all its cores), in percent. */
  percentOfMachine: number;
}

/**
 * The lab's CPU use over WINDOW_MS: the CPU time (own + reaped children's, /proc/PID/stat
 * utime+stime+cutime+cstime) of every process of the hosts, the keepers, Prometheus and nginx,
 * read before and after the window; a process started meanwhile counts from zero. Short-lived
 * processes (a systemctl call, an SSH login) are counted through the parent that reaps them.
 */
export async function labCpu(groups: { hosts: number[]; server: number[]; delay: number[] }, windowMs: number): Promise<LabCpu> {
  const sample = () => {
    const table = processTable();
    const read = (roots: number[]) => {
      const m = new Map<number, number>();
      for (const p of descendants(roots, table)) {
        const t = cpuTicks(p);
        if (t !== null) m.set(p, t);
      }
      return m;
    };
    return { hosts: read(groups.hosts), server: read(groups.server), delay: read(groups.delay) };
  };
  const used = (before: Map<number, number>, after: Map<number, number>) => {
    let ticks = 0;
    for (const [pid, t] of after) ticks += Math.max(0, t - (before.get(pid) ?? 0));
    return ticks / TICKS_PER_SECOND;
  };
  const t0 = sample();
  const start = Date.now();
  await sleep(windowMs);
  const t1 = sample();
  const seconds = (Date.now() - start) / 1000;
  const cores = availableParallelism();
  const hostsCores = used(t0.hosts, t1.hosts) / seconds;
  const serverCores = used(t0.server, t1.server) / seconds;
  const delayCores = used(t0.delay, t1.delay) / seconds;
  return { windowSeconds: seconds, cores, hostsCores, serverCores, delayCores, percentOfMachine: ((hostsCores + serverCores + delayCores) / cores) * 100 };
}

/** Keeper processes of this lab that are still alive (stale pid files are removed). */
export function liveKeepers(paths: LabPaths): number[] {
  if (!existsSync(paths.keepersDir)) return [];
  const out: number[] = [];
  for (const e of readdirSync(paths.keepersDir)) {
    if (!/^\d+$/.test(e)) continue;
    const pid = Number(e);
    const args = cmdline(pid);
    if (isAlive(pid) && args.includes('--keeper') && args.some((a) => a.startsWith(paths.baseDir))) out.push(pid);
    else {
      try {
        unlinkSync(join(paths.keepersDir, e));
      } catch {
        /* gone */
      }
    }
  }
  return out;
}

/**
 * Something listens on port 22 in the host's network namespace: read from the machine via
 * /proc/PID/net/tcp of any process in that netns (no connection, so no sshd child is forked).
 */
export function sshdListening(nsPid: number): boolean {
  for (const f of ['tcp', 'tcp6']) {
    let text: string;
    try {
      text = readFileSync(`/proc/${nsPid}/net/${f}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[1]?.endsWith(':0016') && cols[3] === '0A') return true;
    }
  }
  return false;
}

/** sshd answers with its banner on ADDR:22. */
export function sshdAnswers(address: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: address, port: 22 });
    let done = false;
    const finish = (ok: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    s.once('data', (d: Buffer) => finish(d.toString('latin1').startsWith('SSH-')));
    s.once('error', () => finish(false));
    s.once('close', () => finish(false));
  });
}

/** probe: also connect to ADDR:22 and read sshd's banner (slower; proves the network path). */
/** cpuWindowMs: also measure the lab's CPU use over that long (see labCpu). */
export async function labStatus(paths: LabPaths, opts: { probe?: boolean; cpuWindowMs?: number } = {}): Promise<LabStatus> {
  const state = loadState(paths);
  const table = processTable();
  const names = state.active.length ? state.active : state.hosts.map((h) => h.name);
  const hosts: HostStatus[] = await Promise.all(
    names.map(async (name) => {
      const rec = state.hosts.find((h) => h.name === name);
      const pid = runningPid(hostPaths(paths, name));
      const pids = pid ? descendants([pid], table) : [];
      return {
        name,
        product: rec?.product ?? '?',
        address: rec?.address ?? '?',
        up: pid !== null,
        sshd: pid !== null && (opts.probe ? rec !== undefined && (await sshdAnswers(rec.address, 5000)) : sshdListening(pid)),
        pid,
        memory: memoryOf(pids),
      };
    }),
  );
  const keepers = liveKeepers(paths);
  const all = new Set<number>(descendants(keepers, table));
  for (const h of hosts) if (h.pid) for (const p of descendants([h.pid], table)) all.add(p);
  const server = serverStatus(paths, state.netId === null ? null : labNet(state.netId));
  const rttMs = state.rttMs ?? 0;
  const delay = state.netId === null ? null : await delayInEffect(paths, labNet(state.netId));
  const hostRoots = [...keepers, ...hosts.flatMap((h) => (h.pid ? [h.pid] : []))];
  const serverRoots = [server.prometheus.pid, server.nginx.pid].filter((p): p is number => typeof p === 'number');
  return {
    ...(opts.cpuWindowMs ? { cpu: await labCpu({ hosts: hostRoots, server: serverRoots, delay: delay ? [delay.pid] : [] }, opts.cpuWindowMs) } : {}),
    rtt: { ms: rttMs, inEffect: delay !== null && delay.ms === rttMs, queue: delay?.queue ?? null, pid: delay?.pid ?? null },
    server,
    labDir: paths.labDir,
    bridge: state.netId === null ? null : labNet(state.netId).bridge,
    hosts,
    keepers,
    total: memoryOf([...all]),
  };
}

export function formatStatus(s: LabStatus): string {
  const mib = (k: number) => `${(k / 1024).toFixed(1)} MiB`;
  const rows = [['HOST', 'PRODUCT', 'ADDRESS', 'STATE', 'SSHD', 'PROCS', 'RSS', 'PSS']];
  for (const h of s.hosts) {
    rows.push([
      h.name,
      h.product,
      h.address,
      h.up ? 'up' : 'down',
      h.up ? (h.sshd ? 'listening' : 'NOT answering') : '-',
      String(h.memory.processes),
      mib(h.memory.rssKiB),
      mib(h.memory.pssKiB),
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd(),
  );
  const up = s.hosts.filter((h) => h.up).length;
  const ssh = s.hosts.filter((h) => h.sshd).length;
  lines.push('');
  lines.push(`lab ${s.labDir}  bridge ${s.bridge ?? '-'}  hosts up ${up}/${s.hosts.length}, sshd listening ${ssh}`);
  lines.push(
    !s.rtt.ms
      ? 'round-trip delay: none (up --rtt MS adds one)'
      : s.rtt.inEffect
        ? `round-trip delay: ${s.rtt.ms} ms on every packet to the hosts (netfilter queue ${s.rtt.queue}, held by test/lab/link-delay.py pid ${s.rtt.pid})`
        : `round-trip delay: ${s.rtt.ms} ms set but NOT in effect (its rule or process is missing: the hosts may be unreachable); \`npm run lab -- up\` restores it`,
  );
  const srv = s.server;
  lines.push(
    srv.prometheus.pid && srv.prometheus.url
      ? `Prometheus: ${srv.prometheus.url}  (pid ${srv.prometheus.pid}; remote write through nginx${srv.nginx.pid ? ` pid ${srv.nginx.pid}` : ' NOT running'}: ` +
          `${Object.entries(srv.nginx.ports)
            .map(([m, p]) => `${p} ${m}`)
            .join(', ')})`
      : 'Prometheus: not running',
  );
  if (s.cpu) {
    const c = s.cpu;
    lines.push(
      `CPU over ${c.windowSeconds.toFixed(1)} s: ${c.percentOfMachine.toFixed(1)} % of the machine (${c.cores} cores): ` +
        `hosts ${(c.hostsCores * 100).toFixed(1)} % of a core, Prometheus + nginx ${(c.serverCores * 100).toFixed(1)} % of a core` +
        (s.rtt.pid ? `, the --rtt delay process ${(c.delayCores * 100).toFixed(1)} % of a core` : ''),
    );
  }
  lines.push(
    `memory in use: ${s.total.processes} processes, PSS ${mib(s.total.pssKiB)} (RSS sum ${mib(s.total.rssKiB)}, counts shared pages once per process)`,
  );
  return lines.join('\n');
}

export function readLabJson(paths: LabPaths): unknown {
  return existsSync(paths.labJson) ? JSON.parse(readFileSync(paths.labJson, 'utf8')) : null;
}
