// A small dedicated lab (own LAB_DIR, 2 hosts, its own bridge next to the main lab's):
// `up` is idempotent, a host cannot be started twice, `down` leaves nothing behind.
import { afterAll, describe, expect, it } from 'vitest';
import { currentLab } from './current.ts';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { labDown, labMounts, labProcesses, labUp } from './lab.ts';
import { hostPaths, labPaths, repoRoot } from './paths.ts';
import { runningPid, hostInitPid } from './hosts.ts';
import { descendants, readProc, stillAlive } from './proc.ts';
import { listLinks } from './network.ts';
import { ssh, sshOk } from './ssh.ts';

const run = promisify(execFile);
const mainLab = currentLab();
const dir = mkdtempSync('/tmp/lab-down-test-');
const paths = labPaths(dir);

afterAll(async () => {
  await labDown({ labDir: dir, purge: true });
});

function allMountPoints(): string[] {
  const out: string[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      for (const l of readFileSync(`/proc/${e}/mountinfo`, 'utf8').split('\n')) out.push(l.split(' ')[4] ?? '');
    } catch {
      /* gone */
    }
  }
  return out;
}

function namespacesInUse(): Set<string> {
  const out = new Set<string>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    for (const ns of ['mnt', 'pid', 'net', 'uts']) {
      try {
        out.add(readlinkSync(`/proc/${e}/ns/${ns}`));
      } catch {
        /* gone or kernel thread */
      }
    }
  }
  return out;
}

describe('a dedicated lab: up, up again, down', () => {
  it('comes up next to the main lab with its own bridge and addresses', async () => {
    const r = await labUp({ labDir: dir, hosts: 2 });
    expect(r.started).toHaveLength(2);
    expect(r.info.bridge).not.toBe(mainLab.bridge);
    expect(r.info.subnet).not.toBe(mainLab.subnet);
    for (const h of r.info.hosts) {
      expect((await sshOk(paths.sshConfig, h.name, 'hostname')).trim()).toBe(h.name);
    }
    // The main lab is untouched.
    expect((await sshOk(mainLab.sshConfig, mainLab.hosts[0]!.name, 'hostname')).trim()).toBe(mainLab.hosts[0]!.name);
  });

  it('leaves running hosts alone on a second up', async () => {
    const before = readdirSync(paths.hostsDir).map((n) => runningPid(hostPaths(paths, n)));
    const r = await labUp({ labDir: dir });
    expect(r.started).toEqual([]);
    expect(r.alreadyUp).toHaveLength(2);
    const after = readdirSync(paths.hostsDir).map((n) => runningPid(hostPaths(paths, n)));
    expect(after).toEqual(before);
    expect(before.every((p) => p !== null)).toBe(true);
  });

  it('refuses to start a running host a second time (lock held by its PID 1)', async () => {
    const name = readdirSync(paths.hostsDir)[0]!;
    const hp = hostPaths(paths, name);
    const init = join(paths.baseDir, 'usr', 'lib', 'lab', 'systemd');
    // In throw-away namespaces, so even a broken guard could not touch the machine's mounts.
    const r = await run('unshare', ['--mount', '--uts', '--pid', '--net', '--fork', '--propagation', 'private', init, '--bootstrap', hp.dir]).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
    );
    expect(r.code).toBe(75);
    expect(r.stderr).toMatch(/already running/);
    expect(runningPid(hp)).not.toBeNull();
  });

  it('shows the lab in `npm run lab -- status`', async () => {
    const { stdout } = await run('npx', ['tsx', join(repoRoot, 'scripts', 'lab.ts'), 'status', '--json'], {
      env: { ...process.env, LAB_DIR: dir },
      cwd: repoRoot,
    });
    const s = JSON.parse(stdout) as { hosts: Array<{ up: boolean; sshd: boolean }>; total: { pssKiB: number } };
    expect(s.hosts).toHaveLength(2);
    expect(s.hosts.every((h) => h.up && h.sshd)).toBe(true);
    expect(s.total.pssKiB).toBeGreaterThan(0);
  });

  it("a down of a lab whose network number is another lab's now leaves that lab's links and hosts alone", async () => {
    // A lab that was down when this one took its number: its state.json still names it.
    const bridge = (JSON.parse(readFileSync(paths.labJson, 'utf8')) as { bridge: string }).bridge;
    const netId = Number(bridge.replace('tplab', ''));
    const stale = mkdtempSync('/tmp/lab-stale-test-');
    writeFileSync(join(stale, 'state.json'), JSON.stringify({ version: 1, netId, apiKey: 'stale', hosts: [], active: [] }));
    const veths = async () => (await listLinks()).map((l) => l.ifname).filter((l) => new RegExp(`^tp${netId}v\\d+$`).test(l));
    const before = await veths();
    expect(before).toHaveLength(2);

    await labDown({ labDir: stale, purge: true });

    expect(await veths()).toEqual(before);
    expect((await listLinks()).some((l) => l.ifname === bridge)).toBe(true);
    for (const name of readdirSync(paths.hostsDir)) expect((await sshOk(paths.sshConfig, name, 'hostname')).trim()).toBe(name);
  });

  it('down stops only its own processes and leaves no process, mount, namespace or link behind', async () => {
    const names = readdirSync(paths.hostsDir);
    // A process that tries to outlive its host.
    await sshOk(paths.sshConfig, names[0]!, 'setsid nohup sleep 100000 </dev/null >/dev/null 2>&1 & true');
    const unshares = names.map((n) => runningPid(hostPaths(paths, n))!);
    const pids = descendants(unshares);
    expect(pids.length).toBeGreaterThanOrEqual(3 * names.length + 1);
    // Each with its start time: the machine starts ~200 processes a second, so a PID comes
    // round again within minutes and may name a new process by the time down is over.
    const processes = pids.map((p) => readProc(p)).filter((p) => p !== null);
    const nsLinks = new Set<string>();
    for (const u of unshares) {
      const init = hostInitPid(u)!;
      for (const ns of ['mnt', 'pid', 'net', 'uts']) nsLinks.add(readlinkSync(`/proc/${init}/ns/${ns}`));
    }
    expect(nsLinks.size).toBe(4 * names.length);
    const bridge = (JSON.parse(readFileSync(paths.labJson, 'utf8')) as { bridge: string }).bridge;
    const netId = bridge.replace('tplab', '');
    expect((await listLinks()).some((l) => l.ifname === bridge)).toBe(true);

    await labDown({ labDir: dir });

    expect(processes.filter((p) => stillAlive(p))).toEqual([]);
    expect(labProcesses(paths)).toEqual([]);
    expect(labMounts(paths)).toEqual([]);
    expect(allMountPoints().filter((m) => m.startsWith(dir))).toEqual([]);
    const inUse = namespacesInUse();
    expect([...nsLinks].filter((n) => inUse.has(n))).toEqual([]);
    const links = (await listLinks()).map((l) => l.ifname);
    expect(links.filter((l) => l === bridge || new RegExp(`^tp${netId}v\\d+$`).test(l))).toEqual([]);
    // The main lab still runs.
    const r = await ssh(mainLab.sshConfig, mainLab.hosts[0]!.name, 'true');
    expect(r.code).toBe(0);
  });
});
