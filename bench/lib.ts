// Helpers of the benchmark: run a program and measure it (wall time, peak memory), drive the
// benchmark's own lab, and small statistics. Nothing here is used by the toolkit or the tests.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hostPaths, labPaths } from '../test/lab/paths.ts';
import { runningPid } from '../test/lab/hosts.ts';
import { cpuTicks, descendants, TICKS_PER_SECOND } from '../test/lab/proc.ts';
import { loadState } from '../test/lab/state.ts';
import { compiledEntry } from '../scripts/sources-hash.mjs';

export const repoRoot = fileURLToPath(new URL('..', import.meta.url));
export const TSX = join(repoRoot, 'node_modules', '.bin', 'tsx');

export interface Measured {
  wallMs: number;
  /** The machine's 1-minute load average just before the run started. */
  loadBefore: number;
  code: number | null;
  timedOut: boolean;
  /** ru_maxrss of the process (and the largest of the descendants it waited for), from /usr/bin/time. */
  maxRssKiB: number | null;
  /** Highest sum of VmRSS over the process tree, sampled every 250 ms (counts shared pages once per process). */
  treeRssPeakKiB: number;
  treeProcsPeak: number;
  /**
   * CPU seconds (user + system) of the program and everything it started: from a cgroup v2 of
   * its own when the machine has one (exact, includes daemonised ssh ControlPersist masters),
   * else GNU time's rusage of the program and the children it waited for.
   */
  cpuS: number | null;
  cpuSource: 'cgroup' | 'rusage' | null;
  /** The machine's highest memory in use (memoryInUseMiB) sampled during the run. */
  machinePeakInUseMiB: number;
  /** Set when the run was stopped because the machine's available memory fell below spec.minAvailableMiB. */
  stoppedAtAvailableMiB?: number;
}

export interface RunSpec {
  cmd: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** stdout and stderr go here (a log file); nothing is kept in memory. */
  logFile: string;
  timeoutMs?: number;
  /** Stop the run when the machine's available memory falls below this many MiB, as an admin's
   *  Ctrl-C would (SIGINT to its process group, which GNU time ignores and waits through; again
   *  after 60 s, the second Ctrl-C): a lab at fleet size can exhaust the memory, and the kernel's
   *  OOM killer would then pick any process of the machine. */
  minAvailableMiB?: number;
  /** Sample the process tree's RSS (treeRssPeakKiB; default true). It reads every /proc/PID/stat
   *  every 250 ms: with thousands of lab processes that costs the run CPU a bench should not pay. */
  sampleTree?: boolean;
}

const HAVE_TIME = existsSync('/usr/bin/time');

/** Where cgroup v2 is mounted (/sys/fs/cgroup, or /sys/fs/cgroup/unified on a hybrid machine), if writable. */
function cgroup2Root(): string | null {
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [left, right] = line.split(' - ');
    if (!right?.startsWith('cgroup2 ')) continue;
    const mnt = left!.split(' ')[4]!;
    const probe = join(mnt, `trento-bench-probe-${process.pid}`);
    try {
      mkdirSync(probe);
      rmdirSync(probe);
      return mnt;
    } catch {
      return null;
    }
  }
  return null;
}
const CGROUP_ROOT = cgroup2Root();
let cgroupCount = 0;

/** usage_usec of a cgroup's cpu.stat, in seconds. */
function cgroupCpuS(dir: string): number | null {
  const m = /^usage_usec (\d+)$/m.exec(readFileSync(join(dir, 'cpu.stat'), 'utf8'));
  return m ? Number(m[1]) / 1e6 : null;
}

/** The cgroups this benchmark made; removed once empty (a ControlPersist master may outlive its run a little). */
export function removeBenchCgroups(): void {
  if (!CGROUP_ROOT) return;
  for (const e of readdirSync(CGROUP_ROOT)) {
    if (!e.startsWith(`trento-bench-${process.pid}-`)) continue;
    try {
      rmdirSync(join(CGROUP_ROOT, e));
    } catch {
      // still has processes: the kernel refuses, nothing is lost
    }
  }
}

/**
 * CPU seconds the lab's hosts have used so far: every process of every running host (the tree
 * under its unshare process: the host's PID 1 and all it started), with the children they have
 * reaped. The difference of two readings is what the hosts spent in between, whoever ran on
 * them (processes that ended in between are in their reaper's cutime/cstime). The lab's
 * Prometheus and nginx are not hosts and are not counted.
 */
export function labHostsCpuS(labDir: string): number {
  const paths = labPaths(labDir);
  const state = loadState(paths);
  const roots = state.active.map((n) => runningPid(hostPaths(paths, n))).filter((p): p is number => p !== null);
  return descendants(roots).reduce((sum, pid) => sum + (cpuTicks(pid) ?? 0), 0) / TICKS_PER_SECOND;
}

function childrenOf(): Map<number, number[]> {
  const kids = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = kids.get(ppid) ?? [];
      list.push(Number(name));
      kids.set(ppid, list);
    } catch {
      // the process is gone
    }
  }
  return kids;
}

/** Sum of VmRSS (KiB) over pid and its descendants, and how many processes that is. */
export function treeRss(pid: number): { kib: number; procs: number } {
  const kids = childrenOf();
  let kib = 0;
  let procs = 0;
  const stack = [pid];
  while (stack.length) {
    const p = stack.pop()!;
    try {
      const m = /^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      if (m) kib += Number(m[1]);
      procs++;
    } catch {
      // gone
    }
    stack.push(...(kids.get(p) ?? []));
  }
  return { kib, procs };
}

/** Runs one program to its end, measured. The wall time includes the program's start-up. */
export async function measure(spec: RunSpec): Promise<Measured> {
  const loadBefore = loadavg()[0]!;
  const timeFile = `${spec.logFile}.time`;
  let argv = HAVE_TIME ? ['/usr/bin/time', '-f', '%M %U %S', '-o', timeFile, spec.cmd, ...spec.args] : [spec.cmd, ...spec.args];
  const cgroup = CGROUP_ROOT ? join(CGROUP_ROOT, `trento-bench-${process.pid}-${++cgroupCount}`) : null;
  if (cgroup) {
    mkdirSync(cgroup);
    // The shell moves itself into the cgroup, then becomes the program: all it starts stays in.
    argv = ['sh', '-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', cgroup, ...argv];
  }
  const out = openSync(spec.logFile, 'w');
  const started = performance.now();
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd: spec.cwd ?? repoRoot,
    env: spec.env ?? process.env,
    stdio: ['ignore', out, out],
    detached: true, // own process group: a timeout kills the whole tree
  });
  let peak = { kib: 0, procs: 0 };
  let machinePeakInUseMiB = memoryInUseMiB();
  let stoppedAtAvailableMiB: number | undefined;
  let secondStop: NodeJS.Timeout | undefined;
  const sample = () => {
    if (child.pid === undefined) return;
    if (spec.sampleTree ?? true) {
      const now = treeRss(child.pid);
      if (now.kib > peak.kib) peak = now;
    }
    const memory = machineMemoryMiB();
    machinePeakInUseMiB = Math.max(machinePeakInUseMiB, memory.inUse);
    if (spec.minAvailableMiB !== undefined && memory.available < spec.minAvailableMiB && stoppedAtAvailableMiB === undefined) {
      stoppedAtAvailableMiB = memory.available;
      const pid = child.pid;
      const interrupt = () => {
        try {
          process.kill(-pid, 'SIGINT');
        } catch {
          // the run has ended meanwhile
        }
      };
      interrupt();
      secondStop = setTimeout(interrupt, 60_000);
    }
  };
  const timer = setInterval(sample, 250);
  let timedOut = false;
  const killer = spec.timeoutMs
    ? setTimeout(() => {
        timedOut = true;
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      }, spec.timeoutMs)
    : undefined;
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  const wallMs = performance.now() - started;
  clearInterval(timer);
  if (killer) clearTimeout(killer);
  if (secondStop) clearTimeout(secondStop);
  closeSync(out);
  let maxRssKiB: number | null = null;
  let cpuS: number | null = null;
  let cpuSource: Measured['cpuSource'] = null;
  if (HAVE_TIME && existsSync(timeFile)) {
    const lines = readFileSync(timeFile, 'utf8').trim().split('\n');
    // The last line: a killed program's time file starts with "Command terminated by signal".
    const [rss, user, sys] = (lines[lines.length - 1] ?? '').split(' ').map(Number);
    if (Number.isFinite(rss)) maxRssKiB = rss!;
    if (Number.isFinite(user) && Number.isFinite(sys)) {
      cpuS = user! + sys!;
      cpuSource = 'rusage';
    }
    rmSync(timeFile, { force: true });
  }
  if (cgroup) {
    const used = cgroupCpuS(cgroup);
    if (used !== null) {
      cpuS = used;
      cpuSource = 'cgroup';
    }
    removeBenchCgroups();
  }
  return {
    wallMs,
    loadBefore,
    code,
    timedOut,
    maxRssKiB,
    treeRssPeakKiB: peak.kib,
    treeProcsPeak: peak.procs,
    cpuS,
    cpuSource,
    machinePeakInUseMiB,
    ...(stoppedAtAvailableMiB !== undefined ? { stoppedAtAvailableMiB } : {}),
  };
}

/** `npm run lab -- ARGS` for the benchmark's lab folder; throws with the lab's own message. */
export function lab(labDir: string, args: string[]): number {
  const started = performance.now();
  const r = spawnSync(TSX, [join(repoRoot, 'scripts', 'lab.ts'), ...args], {
    cwd: repoRoot,
    env: { ...process.env, LAB_DIR: labDir },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`lab ${args.join(' ')} failed (exit ${r.status}):\n${r.stderr}${r.stdout}`);
  return performance.now() - started;
}

export interface LabHost {
  name: string;
  product: string;
  address: string;
}

export function labHosts(labDir: string): LabHost[] {
  return JSON.parse(readFileSync(join(labDir, 'lab.json'), 'utf8')).hosts as LabHost[];
}

/**
 * A realistic SLES 15 / 16 fleet of n hosts: per-product shares, rounded so the counts add up
 * to n (largest remainder). The default: 60 % SLES 15 (SP5-SP7, for SAP SP6), 40 % SLES 16.
 */
export const DEFAULT_SHARES: Array<[string, number]> = [
  ['sles-15-sp5', 10],
  ['sles-15-sp6', 20],
  ['sles-15-sp7', 15],
  ['sles-sap-15-sp6', 15],
  ['sles-16.0', 25],
  ['sles-sap-16.0', 15],
];

export function mixFor(n: number, shares = DEFAULT_SHARES): Array<[string, number]> {
  const total = shares.reduce((a, [, s]) => a + s, 0);
  const exact = shares.map(([name, s]) => ({ name, x: (n * s) / total }));
  const counts = exact.map((e) => ({ name: e.name, n: Math.floor(e.x), rest: e.x - Math.floor(e.x) }));
  let missing = n - counts.reduce((a, c) => a + c.n, 0);
  for (const c of [...counts].sort((a, b) => b.rest - a.rest)) {
    if (missing-- <= 0) break;
    c.n++;
  }
  return counts.filter((c) => c.n > 0).map((c) => [c.name, c.n]);
}

export const mixText = (mix: Array<[string, number]>) => mix.map(([name, count]) => `${name}=${count}`).join(',');

/** The machine's memory in use, MiB: MemTotal - MemAvailable (/proc/meminfo), i.e. what `free`
 *  counts as not available, page cache that can be dropped excluded, kernel memory included. */
export function memoryInUseMiB(): number {
  return machineMemoryMiB().inUse;
}

/** The machine's memory in use (as memoryInUseMiB) and available (MemAvailable), MiB. */
function machineMemoryMiB(): { inUse: number; available: number } {
  const meminfo = readFileSync('/proc/meminfo', 'utf8');
  const kib = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(meminfo)?.[1] ?? Number.NaN);
  return { inUse: Math.round((kib('MemTotal') - kib('MemAvailable')) / 1024), available: Math.round(kib('MemAvailable') / 1024) };
}

/** Share of the machine's CPU time in use (0..1) over `ms`, from /proc/stat: how busy the machine
 *  is before a measurement (the lab's own services, other users). */
export async function cpuBusy(ms = 3000): Promise<number> {
  const read = () => {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const idle = f[3]! + (f[4] ?? 0);
    return { idle, total: f.reduce((a, b) => a + b, 0) };
  };
  const a = read();
  await new Promise((r) => setTimeout(r, ms));
  const b = read();
  return b.total === a.total ? 0 : 1 - (b.idle - a.idle) / (b.total - a.total);
}

/** How many items have each key, e.g. hosts per status: {"ok": 48, "failed": 2}. */
export function countBy<T>(items: readonly T[], key: (item: T) => string | number): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) {
    const k = String(key(item));
    counts[k] = (counts[k] ?? 0) + 1;
  }
  return counts;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function commandVersion(cmd: string, args: string[]): string | null {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error || r.status !== 0) return null;
  return (r.stdout || r.stderr).trim().split('\n')[0] ?? null;
}

/** A --NAME option's positive whole number, or `fallback` when it was not given. */
export function positive(name: string, text: string | undefined, fallback: number): number {
  const n = text === undefined ? fallback : Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name}: expected a positive integer, not ${text}`);
  return n;
}

/**
 * The toolkit as `npm run provision` starts it after scripts/setup.sh: the compiled dist/, which
 * must be the build of the current sources (else scripts/launch.mjs would run tsx). Built here
 * when it is not.
 */
export function ensureCompiledToolkit(log: (line: string) => void): void {
  if (compiledEntry(repoRoot, 'provision')) return;
  log('building dist/ (npm run build): the toolkit runs compiled, as npm run provision does after setup');
  const built = spawnSync('npm', ['run', '-s', 'build'], { cwd: repoRoot, stdio: 'inherit' });
  if (built.status !== 0 || !compiledEntry(repoRoot, 'provision')) throw new Error('npm run build failed: the bench measures the compiled toolkit');
}
