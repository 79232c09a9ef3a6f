// What is running: per host up/down, sshd answering, memory (RSS and PSS of the host's
// processes), and the lab's total (hosts + keepers).
import { existsSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:net';
import type { LabPaths } from './paths.ts';
import { hostPaths } from './paths.ts';
import { cmdline, descendants, isAlive, memoryOf, processTable, type Memory } from './proc.ts';
import { runningPid } from './hosts.ts';
import { loadState, labNet } from './state.ts';
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
export async function labStatus(paths: LabPaths, opts: { probe?: boolean } = {}): Promise<LabStatus> {
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
  return {
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
    rows.push([h.name, h.product, h.address, h.up ? 'up' : 'down', h.up ? (h.sshd ? 'listening' : 'NOT answering') : '-',
      String(h.memory.processes), mib(h.memory.rssKiB), mib(h.memory.pssKiB)]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
  const up = s.hosts.filter((h) => h.up).length;
  const ssh = s.hosts.filter((h) => h.sshd).length;
  lines.push('');
  lines.push(`lab ${s.labDir}  bridge ${s.bridge ?? '-'}  hosts up ${up}/${s.hosts.length}, sshd listening ${ssh}`);
  const srv = s.server;
  lines.push(
    srv.prometheus.pid && srv.prometheus.url
      ? `Prometheus: ${srv.prometheus.url}  (pid ${srv.prometheus.pid}; remote write through nginx${srv.nginx.pid ? ` pid ${srv.nginx.pid}` : ' NOT running'}: ` +
          `${Object.entries(srv.nginx.ports).map(([m, p]) => `${p} ${m}`).join(', ')})`
      : 'Prometheus: not running',
  );
  lines.push(`memory in use: ${s.total.processes} processes, PSS ${mib(s.total.pssKiB)} (RSS sum ${mib(s.total.rssKiB)}, counts shared pages once per process)`);
  return lines.join('\n');
}

export function readLabJson(paths: LabPaths): unknown {
  return existsSync(paths.labJson) ? JSON.parse(readFileSync(paths.labJson, 'utf8')) : null;
}
