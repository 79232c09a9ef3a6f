// Small process helpers: run a command, read the process table from /proc (this kernel has no
// /proc/PID/task/TID/children, so children are found by parent id), liveness that is not fooled
// by zombies, memory of a set of processes.
import { execFile, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run a program (no shell); never throws on a non-zero exit, the caller decides. */
export function run(cmd: string, args: string[], opts: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return new Promise((resolvePromise) => {
    const child = execFile(
      cmd,
      args,
      { maxBuffer: 64 * 1024 * 1024, timeout: opts.timeoutMs ?? 120_000, env: opts.env ?? process.env },
      (err, stdout, stderr) => {
        // err.code is the exit status, or a string such as ENOENT when the program could not start.
        const c = (err as { code?: unknown; killed?: boolean } | null)?.code;
        const code = !err ? 0 : typeof c === 'number' ? c : (err as { killed?: boolean }).killed ? 124 : 127;
        resolvePromise({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Run and throw a readable error on failure. */
export async function must(
  cmd: string,
  args: string[],
  what: string,
  opts: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    throw new Error(`${what}: \`${cmd} ${args.join(' ')}\` failed (exit ${r.code}): ${(r.stderr || r.stdout).trim().slice(0, 2000)}`);
  }
  return r.stdout;
}

export interface ProcInfo {
  pid: number;
  ppid: number;
  state: string;
  comm: string;
  /** When it started, in clock ticks after boot (field 22): a PID reused by a later process has another. */
  startTime: number;
}

export function readProc(pid: number): ProcInfo | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // comm may contain spaces and parentheses: split at the last ')'.
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  const rest = text.slice(close + 2).split(' ');
  return { pid, comm: text.slice(open + 1, close), state: rest[0] ?? '?', ppid: Number(rest[1]), startTime: Number(rest[19]) };
}

/** CPU time a process used, its own and its reaped children's (utime+stime+cutime+cstime of
 *  /proc/PID/stat), in clock ticks (USER_HZ, 100 a second on Linux); null when it is gone. */
export function cpuTicks(pid: number): number | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields 14-17 of stat (utime stime cutime cstime) are 11-14 after "state"
  return Number(rest[11]) + Number(rest[12]) + Number(rest[13]) + Number(rest[14]);
}

export const TICKS_PER_SECOND = 100;

export function processTable(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const p = readProc(Number(e));
    if (p) out.push(p);
  }
  return out;
}

/** Alive = exists and is not a zombie (`kill -0` alone succeeds on zombies). */
export function isAlive(pid: number): boolean {
  const p = readProc(pid);
  return p !== null && p.state !== 'Z' && p.state !== 'X';
}

/** Whether that very process (not a later one its PID was given to) is alive. */
export function stillAlive(process: ProcInfo): boolean {
  const now = readProc(process.pid);
  return now !== null && now.startTime === process.startTime && now.state !== 'Z' && now.state !== 'X';
}

export function cmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      .split('\0')
      .filter((s) => s !== '');
  } catch {
    return [];
  }
}

/** pid and all its descendants (from one snapshot of the process table). */
export function descendants(roots: number[], table: ProcInfo[] = processTable()): number[] {
  const kids = new Map<number, number[]>();
  for (const p of table) {
    const list = kids.get(p.ppid);
    if (list) list.push(p.pid);
    else kids.set(p.ppid, [p.pid]);
  }
  const out: number[] = [];
  const todo = roots.filter((r) => table.some((p) => p.pid === r));
  while (todo.length) {
    const p = todo.pop()!;
    out.push(p);
    for (const c of kids.get(p) ?? []) todo.push(c);
  }
  return out;
}

export interface Memory {
  processes: number;
  rssKiB: number;
  pssKiB: number;
}

/** RSS counts shared pages once per process (pessimistic); PSS shares them out (what the lab really costs). */
export function memoryOf(pids: number[]): Memory {
  let rss = 0;
  let pss = 0;
  let n = 0;
  for (const pid of pids) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    } catch {
      continue;
    }
    n++;
    rss += Number(/^Rss:\s+(\d+)/m.exec(text)?.[1] ?? 0);
    pss += Number(/^Pss:\s+(\d+)/m.exec(text)?.[1] ?? 0);
  }
  return { processes: n, rssKiB: rss, pssKiB: pss };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Start a detached program whose output goes to a file; returns its pid. */
export function spawnDetached(cmd: string, args: string[], opts: { stdout: number; env?: NodeJS.ProcessEnv; stdin?: 'pipe' | 'ignore' }) {
  const child = spawn(cmd, args, {
    detached: true,
    stdio: [opts.stdin ?? 'ignore', opts.stdout, opts.stdout],
    env: opts.env ?? process.env,
  });
  return child;
}

/** Signal a process and wait until it is gone; SIGKILL after timeoutMs. */
export async function stopPid(pid: number, signal: NodeJS.Signals, timeoutMs: number): Promise<void> {
  try {
    process.kill(pid, signal);
  } catch {
    return;
  }
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
      await sleep(200);
      return;
    }
    await sleep(50);
  }
}

/** The last lines of a log file, for an error message. */
export function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no output)';
  }
}

/** Wait until a program just started is ready; fails with its log's last lines if it exits first or takes too long. */
export async function waitForStart(what: string, ok: () => Promise<boolean>, alive: () => boolean, log: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (!alive()) throw new Error(`${what} exited at start; its log ${log}:\n${tail(log, 10)}`);
    if (Date.now() > deadline) throw new Error(`${what} not ready after ${timeoutMs / 1000} s; its log ${log}:\n${tail(log, 10)}`);
    await sleep(100);
  }
}
