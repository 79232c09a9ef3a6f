#!/usr/bin/env tsx
// npm run bench [-- --hosts N]: the toolkit, with each transport (OpenSSH, the default, and the
// in-process paramiko), against the SSH floor and ansible-playbook (plain and with Mitogen) on
// the same lab hosts, in one run; then the inventory loader on a
// generated 10,000-host inventory. Writes bench/results/<date>-<N>.json and .md.
// Never part of the tests: it takes minutes and loads the machine.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { toShell } from '../src/exec/command.ts';
import { SCRIPT_FROM_STDIN, wrapScript } from '../src/exec/session.ts';
import { factsScript } from '../src/facts/script.ts';
import { cpuTicks, TICKS_PER_SECOND } from '../test/lab/proc.ts';
import { configureAlloyScript } from '../roles/trento_agent/tasks/main.ts';
import { generateInventories } from './inventory-scale.ts';
import { ansibleProblem, mitogenProblem } from './preflight.ts';
import {
  commandVersion,
  countBy,
  cpuBusy,
  ensureCompiledToolkit,
  lab,
  labHosts,
  labHostsCpuS,
  measure,
  median,
  memoryInUseMiB,
  mixFor,
  mixText,
  positive,
  removeBenchCgroups,
  repoRoot,
  TSX,
  type Measured,
  type RunSpec,
} from './lib.ts';
import {
  markdownReport,
  printTable,
  targetsOf,
  TRANSPORT_LABEL,
  type BenchResult,
  type ConnectProbe,
  type FloorCpu,
  type ToolkitSide,
  type ToolRun,
  type Transport,
} from './report.ts';

const HELP = `Usage: npm run bench -- [options]

Brings up its own lab (.lab-bench, or BENCH_LAB_DIR) of N SLES 15/16 hosts and measures, on the same hosts:
the SSH floor (N parallel 'ssh HOST true'), the toolkit (cold, warm, --check --diff) with
OpenSSH (the default transport) and again with -c paramiko (the in-process client), ansible-playbook with bench/ansible/site.yml (cold, warm) and the same with Mitogen;
then loads a generated 10,000-host inventory (INI and YAML) with the toolkit and ansible-inventory.

  --hosts N             hosts in the lab (default 50)
  --rtt MS[,MS...]      round-trip delay to every host (lab up --rtt, test/lab/delay.ts): the whole
                        bench once per value, e.g. --rtt 0,30; results <date>-<N>-rtt<MS>.json/.md
                        (default 0: no delay, results <date>-<N>.json/.md)
  --repeat R            samples of the floor and of warm/check runs (default 3; the median is kept)
  --ansible-repeat R    samples of the warm Ansible runs (default 3)
  --cold-repeat R       samples of every cold run, the toolkit's and Ansible's, each on the lab
                        wiped again (default 3; the median is kept)
  --no-paramiko         skip the toolkit's runs with -c paramiko (OpenSSH only)
  --ssh-extra-args=ARGS the toolkit's OpenSSH runs and connect probe with --ssh-extra-args ARGS, e.g.
                        "--ssh-extra-args=-o KexAlgorithms=curve25519-sha256" (the in-process client's kex)
                        to tell the transport's own cost from OpenSSH's default key exchange;
                        results <date>-<N>-sshextra.json/.md
  --no-ansible          skip ansible-playbook (and Mitogen)
  --no-mitogen          skip Mitogen
  --mitogen-warm-only   Mitogen warm only, on the hosts Ansible left provisioned (saves a reset and a cold run)
  --no-inventory        skip the 10,000-host inventory
  --inventory-hosts N   size of the generated inventory (default 10000)
  --inventory-only      only the inventory measurement (no lab): bench/results/<date>-inventory.json/.md
  --timeout S           cap for one ansible-playbook run (default 1800), and for ansible-inventory
                        (at most 300)
  --keep                leave the lab up at the end
  --out DIR             results folder (default bench/results)
`;

const args = parseArgs({
  args: process.argv.slice(2),
  options: {
    hosts: { type: 'string' },
    rtt: { type: 'string' },
    repeat: { type: 'string' },
    'ansible-repeat': { type: 'string' },
    'cold-repeat': { type: 'string' },
    'no-paramiko': { type: 'boolean' },
    'ssh-extra-args': { type: 'string' },
    'no-ansible': { type: 'boolean' },
    'no-mitogen': { type: 'boolean' },
    'mitogen-warm-only': { type: 'boolean' },
    'no-inventory': { type: 'boolean' },
    'inventory-hosts': { type: 'string' },
    'inventory-only': { type: 'boolean' },
    timeout: { type: 'string' },
    keep: { type: 'boolean' },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
}).values;
if (args.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const N = positive('hosts', args.hosts, 50);
const REPEAT = positive('repeat', args.repeat, 3);
// Issue 12: each run 3 times, medians with every sample; fewer only when asked (a quicker look).
const ANSIBLE_REPEAT = positive('ansible-repeat', args['ansible-repeat'], 3);
const COLD_REPEAT = positive('cold-repeat', args['cold-repeat'], 3);
const INVENTORY_HOSTS = positive('inventory-hosts', args['inventory-hosts'], 10_000);
const ANSIBLE_TIMEOUT_MS = positive('timeout', args.timeout, 1800) * 1000;
const RTTS = (args.rtt ?? '0').split(',').map((t) => {
  const n = Number(t);
  if (t.trim() === '' || !Number.isInteger(n) || n < 0) throw new Error(`--rtt: expected whole milliseconds (e.g. 30 or 0,30), not ${args.rtt}`);
  return n;
});
let rttMs = 0; // the RTT of the pass being measured
const SSH_EXTRA_ARGS = args['ssh-extra-args'];
const resultSuffix = SSH_EXTRA_ARGS ? '-sshextra' : '';

const labDir = process.env.BENCH_LAB_DIR ?? join(repoRoot, '.lab-bench');
const outDir = args.out ?? join(repoRoot, 'bench', 'results');
const date = new Date().toISOString().slice(0, 10);
// Logs and JSON reports (git-ignored), one folder per pass.
const workBase = join(repoRoot, 'bench', 'results', 'tmp', `${date}-${args['inventory-only'] ? 'inventory' : N}${resultSuffix}`);
let workDir = workBase;
function newWorkDir(): void {
  workDir = rttMs ? `${workBase}-rtt${rttMs}` : workBase;
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
}
const inventory = join(labDir, 'inventory');
const mix = mixFor(N);
const log = (s: string) => process.stderr.write(`bench: ${s}\n`);
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

function resetLab(): number {
  // Wiped disks: every host as freshly installed (identities and host keys are kept).
  lab(labDir, ['down', '--wipe']);
  return lab(labDir, ['up', '--mix', mixText(mix), '--rtt', String(rttMs)]);
}

/**
 * N parallel `ssh -F ssh_config HOST true` with the lab's key and known_hosts (OpenSSH), and the
 * CPU it took: the controller's (this process spawning, and the ssh clients it reaped: its own
 * utime+stime+cutime+cstime) and the lab's hosts' (their sshd). The report bounds what any run
 * on this machine's cores can reach from them (report.ts cpuBoundMs).
 */
async function floor(hosts: string[], extra: string[] = []): Promise<{ ms: number; failures: number; cpuS: FloorCpu }> {
  const hostsBefore = labHostsCpuS(labDir);
  const controllerBefore = cpuTicks(process.pid)!;
  const started = performance.now();
  const codes = await Promise.all(
    hosts.map(
      (h) =>
        new Promise<number | null>((resolve) => {
          const c = spawn(
            'ssh',
            ['-F', join(labDir, 'ssh_config'), '-o', 'BatchMode=yes', '-o', 'ControlMaster=no', '-o', 'ConnectTimeout=60', ...extra, h, 'true'],
            {
              stdio: 'ignore',
            },
          );
          c.on('close', resolve);
        }),
    ),
  );
  const ms = performance.now() - started;
  const controllerS = (cpuTicks(process.pid)! - controllerBefore) / TICKS_PER_SECOND;
  return { ms, failures: codes.filter((c) => c !== 0).length, cpuS: { controllerS, hostsS: labHostsCpuS(labDir) - hostsBefore } };
}

/**
 * What the hosts themselves spend: the toolkit's facts script on one idle host (wall and CPU
 * seconds, from bash's `time` inside the host, run by the toolkit's own remote command), and one
 * call of the lab's systemctl stand-in (a C client of the lab's Python service manager; the real
 * systemctl answers in a few milliseconds). With N hosts on this
 * machine's cores, N x CPU / cores is a lower bound for the facts phase that no client can beat.
 */
function hostCost(host: string): { host: string; factsWallMs: number; factsCpuMs: number; systemctlMs: number } {
  const timed = (remote: string, input: string) => {
    const r = spawnSync('ssh', ['-F', join(labDir, 'ssh_config'), '-o', 'BatchMode=yes', host, remote], { input, encoding: 'utf8' });
    const m = /(\d+\.\d+) (\d+\.\d+) (\d+\.\d+)\s*$/.exec(r.stdout);
    if (!m) throw new Error(`host cost probe on ${host}: ${r.stderr || r.stdout}`);
    return { wall: Number(m[1]) * 1000, cpu: (Number(m[2]) + Number(m[3])) * 1000 };
  };
  const facts = [0, 1, 2].map(() =>
    timed(
      `TIMEFORMAT='%R %U %S'; { time ${SCRIPT_FROM_STDIN} >/dev/null; } 2>&1`,
      wrapScript(toShell(factsScript({ withContent: false, zyppLockTimeoutSeconds: 60 }))),
    ),
  );
  const sysctl = [0, 1, 2].map(() => timed(`TIMEFORMAT='%R %U %S'; { time systemctl is-active --quiet trento-agent.service; } 2>&1`, ''));
  return {
    host,
    factsWallMs: median(facts.map((f) => f.wall)),
    factsCpuMs: median(facts.map((f) => f.cpu)),
    systemctlMs: median(sysctl.map((f) => f.wall)),
  };
}

function connectProbe(transport: Transport): { totalMs: number; failures: number } {
  const probeArgs = [
    join(repoRoot, 'bench', 'connect-probe.ts'),
    inventory,
    String(N),
    transport,
    ...(transport === 'ssh' && SSH_EXTRA_ARGS ? [SSH_EXTRA_ARGS] : []),
  ];
  const r = spawnSync(TSX, probeArgs, { cwd: repoRoot, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`connect probe failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

interface ToolkitReport {
  exitCode: number;
  timings: { startedAt: number; phases: { phase: string; ms: number }[] } | null;
  hosts: { host: string; status: string; roundTrips: number; changes: unknown[] }[];
}

/**
 * One toolkit run as a user runs it (`npm run provision`: node scripts/launch.mjs, the compiled CLI), with --json for the per-host facts;
 * `-c TRANSPORT` (the lab's inventory sets no ansible_connection, so it applies to every host).
 */
async function toolkit(name: string, extra: string[], transport: Transport = 'ssh', withFloor = false): Promise<ToolRun> {
  const file = transport === 'ssh' ? `toolkit-${name}` : `toolkit-${transport}-${name}`;
  const json = join(workDir, `${file}.json`);
  // The floor again, right before this sample and on the same lab: the ratio then compares two
  // measurements seconds apart, not one taken minutes earlier on the wiped lab.
  // It gets the same 2 s to settle as the run does: a floor taken while the previous run's last
  // work drains would be slower, and flatter the ratio.
  const floorBefore = withFloor ? (await settle(), await floor(labHosts(labDir).map((h) => h.name))) : undefined;
  if (floorBefore?.failures) current!.notes.push(`floor before toolkit ${name}: ${floorBefore.failures} ssh failures`);
  const before = await settle();
  const spawnedAt = Date.now();
  const m = await measureOnLab({
    cmd: process.execPath,
    args: [
      join(repoRoot, 'scripts', 'launch.mjs'),
      'provision',
      '-i',
      inventory,
      '-f',
      String(N),
      '-c',
      transport,
      '--json',
      json,
      ...(transport === 'ssh' && SSH_EXTRA_ARGS ? [`--ssh-extra-args=${SSH_EXTRA_ARGS}`] : []),
      ...extra,
    ],
    logFile: join(workDir, `${file}.log`),
    env: { ...process.env, NO_COLOR: '1' },
  });
  const report = JSON.parse(readFileSync(json, 'utf8')) as ToolkitReport;
  const trips = report.hosts.map((h) => h.roundTrips);
  const statuses = countBy(report.hosts, (h) => h.status);
  const phases: Record<string, number> = {};
  let inRun = 0;
  for (const p of report.timings?.phases ?? []) {
    phases[p.phase] = p.ms;
    inRun += p.ms;
  }
  if (report.timings) {
    phases.startup = report.timings.startedAt - spawnedAt; // node, tsx, modules, inventory
    phases.exit = m.wallMs - phases.startup - inRun; // recap, JSON report, closing sockets
  }
  const run: ToolRun = {
    ...summary(m),
    busyBefore: before,
    ...(floorBefore ? { floorBeforeMs: floorBefore.ms, floorBeforeCpuS: floorBefore.cpuS } : {}),
    roundTrips: { max: Math.max(...trips), mean: trips.reduce((a, b) => a + b, 0) / trips.length },
    statuses,
    hostsWithChanges: report.hosts.filter((h) => h.changes.length > 0).length,
    phases,
  };
  noteFailures(`toolkit ${name} (${TRANSPORT_LABEL[transport]})`, statuses.failed ?? 0, statuses.unreachable ?? 0, m.code, join(workDir, `${file}.log`));
  log(
    `toolkit ${name} (${TRANSPORT_LABEL[transport]}): ${s(m.wallMs)}, exit ${m.code}, ${JSON.stringify(statuses)}, round trips max ${run.roundTrips!.max}, peak RSS ${run.maxRssMiB} MiB, ${cpuText(run)}`,
  );
  return run;
}

/** The table shows each run's median sample: a sample with failed or unreachable hosts is a note,
 *  naming its log. */
function noteFailures(run: string, failed: number, unreachable: number, code: number | null, logFile: string): void {
  if (failed || unreachable) current?.notes.push(`${run}: failed=${failed} unreachable=${unreachable} (exit ${code}; its log: ${logFile})`);
}

/**
 * 3 s with nothing measured: how busy the machine is, and what the lab's hosts spend on their
 * own (services, timers) per host and second -- the background included in a run's hosts CPU.
 */
async function idleWindow(kind: 'wiped' | 'provisioned'): Promise<number> {
  const before = labHostsCpuS(labDir);
  const started = performance.now();
  const busy = await cpuBusy(IDLE_WINDOW_MS);
  const perHostMsPerS = ((labHostsCpuS(labDir) - before) / N / ((performance.now() - started) / 1000)) * 1000;
  current!.hostsIdleCpu ??= {};
  current!.hostsIdleCpu[kind] = perHostMsPerS;
  log(`hosts' own CPU with the ${kind} lab idle: ${perHostMsPerS.toFixed(1)} ms per host per second`);
  current!.memoryInUseMiB ??= {};
  current!.memoryInUseMiB[kind] = memoryInUseMiB();
  log(`machine memory in use with the ${kind} lab idle: ${current!.memoryInUseMiB[kind]} MiB`);
  return busy;
}

/**
 * The 2 s before a measured run, with nothing started: lets the previous run's last work (masters
 * closing, sshd sessions ending) drain, and returns how busy the machine was meanwhile (0..1),
 * which the report shows beside the load average (that one lags a minute behind).
 */
const settle = () => cpuBusy(2000);

/** How long the idle lab is watched: two of Trento's 15 s scrape intervals, so that the agents'
 *  and Alloys' periodic work is in the figure as often as it really comes (3 s caught it unevenly). */
const IDLE_WINDOW_MS = 30_000;

/** One measured run, with the CPU the lab's hosts spent during it. */
async function measureOnLab(spec: RunSpec, after?: () => void): Promise<Measured & { hostsCpuS: number }> {
  const before = labHostsCpuS(labDir);
  const m = await measure(spec);
  after?.(); // e.g. closing ControlPersist masters: their last work is the run's
  return { ...m, hostsCpuS: labHostsCpuS(labDir) - before };
}

function summary(m: Measured & { hostsCpuS: number }): ToolRun {
  return {
    cpu: { controllerS: m.cpuS, controllerSource: m.cpuSource, hostsS: m.hostsCpuS },
    wallMs: m.wallMs,
    loadBefore: m.loadBefore,
    perHostMs: m.wallMs / N,
    code: m.code,
    timedOut: m.timedOut,
    maxRssMiB: m.maxRssKiB === null ? null : Math.round(m.maxRssKiB / 1024),
    treeRssPeakMiB: Math.round(m.treeRssPeakKiB / 1024),
    treeProcsPeak: m.treeProcsPeak,
  };
}

const cpuText = (run: ToolRun) =>
  `CPU per host: controller ${run.cpu?.controllerS === null || run.cpu === undefined ? '?' : ((run.cpu.controllerS! / N) * 1000).toFixed(0)} ms (${run.cpu?.controllerSource ?? '-'}), hosts ${run.cpu ? ((run.cpu.hostsS / N) * 1000).toFixed(0) : '?'} ms`;

/** Ends the ControlPersist masters a run left (processes this benchmark started, by their socket). */
function closeControlMasters(dir: string): void {
  if (!existsSync(dir)) return;
  for (const sock of readdirSync(dir)) {
    spawnSync('ssh', ['-o', `ControlPath=${join(dir, sock)}`, '-O', 'exit', 'bench'], { stdio: 'ignore' });
  }
  rmSync(dir, { recursive: true, force: true });
}

async function ansible(name: string, mitogen: boolean): Promise<ToolRun> {
  const controlDir = `/tmp/tp-bench-cp-${process.pid}-${name}`;
  mkdirSync(controlDir, { recursive: true });
  const logFile = join(workDir, `${name}.log`);
  // configure-alloy.sh as the toolkit installs it: the role's file with the shared safe-file
  // functions put in (one CONFIG_FILE reader for every host program), not the bare role file.
  const configureAlloy = join(workDir, 'configure-alloy.sh');
  writeFileSync(configureAlloy, configureAlloyScript());
  const before = await settle();
  const m = await measureOnLab(
    {
      cmd: 'ansible-playbook',
      args: ['-i', inventory, '-f', String(N), '-e', `tp_configure_alloy_src=${configureAlloy}`, join(repoRoot, 'bench', 'ansible', 'site.yml')],
      cwd: join(repoRoot, 'bench', 'ansible'),
      logFile,
      timeoutMs: ANSIBLE_TIMEOUT_MS,
      env: {
        ...process.env,
        ANSIBLE_CONFIG: join(repoRoot, 'bench', 'ansible', 'ansible.cfg'),
        ANSIBLE_SSH_CONTROL_PATH_DIR: controlDir,
        ANSIBLE_NOCOLOR: '1',
        ANSIBLE_FORCE_COLOR: '0',
        ...(mitogen ? { ANSIBLE_STRATEGY: 'mitogen_linear' } : {}),
      },
    },
    () => closeControlMasters(controlDir),
  );
  removeBenchCgroups();
  const recap = { ok: 0, changed: 0, failed: 0, unreachable: 0 };
  const text = readFileSync(logFile, 'utf8');
  for (const line of text.split('\n')) {
    const r = /^\S+\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)/.exec(line);
    if (!r) continue;
    recap.ok += Number(r[1]);
    recap.changed += Number(r[2]);
    recap.unreachable += Number(r[3]);
    recap.failed += Number(r[4]);
  }
  const run: ToolRun = { ...summary(m), busyBefore: before, recap };
  noteFailures(name, recap.failed, recap.unreachable, m.code, logFile);
  log(
    `${name}: ${s(m.wallMs)}, exit ${m.code}${m.timedOut ? ' (TIMED OUT)' : ''}, recap ${JSON.stringify(recap)}, tree RSS peak ${run.treeRssPeakMiB} MiB, ${cpuText(run)}`,
  );
  return run;
}

async function inventoryScale(): Promise<BenchResult['inventory']> {
  const dirs = generateInventories(join(repoRoot, 'bench', 'results', 'tmp', 'inventory-10k'), INVENTORY_HOSTS);
  const out: NonNullable<BenchResult['inventory']> = { hosts: INVENTORY_HOSTS, formats: [] };
  for (const [format, dir] of Object.entries(dirs)) {
    const loads: number[] = [];
    const cpus: number[] = [];
    const walls: number[] = [];
    let error: string | null = null;
    for (let i = 0; i < REPEAT; i++) {
      const started = performance.now();
      const r = spawnSync(TSX, [join(repoRoot, 'bench', 'inventory-load.ts'), dir], { cwd: repoRoot, encoding: 'utf8' });
      walls.push(performance.now() - started);
      if (r.status !== 0) {
        error = r.stderr.trim().split('\n').slice(0, 3).join(' ');
        break;
      }
      const j = JSON.parse(r.stdout.trim().split('\n').pop()!) as { ms: number; cpuMs: number; hosts: number };
      if (j.hosts !== INVENTORY_HOSTS) error = `loaded ${j.hosts} hosts, expected ${INVENTORY_HOSTS}`;
      loads.push(j.ms);
      cpus.push(j.cpuMs);
    }
    let ansibleMs: number | null = null;
    let ansibleNote: string | null = null;
    const started = performance.now();
    const a = spawnSync('ansible-inventory', ['-i', dir, '--list'], {
      encoding: 'utf8',
      maxBuffer: 1 << 30,
      timeout: Math.min(ANSIBLE_TIMEOUT_MS, 300_000),
      env: { ...process.env, ANSIBLE_INVENTORY_ENABLED: format.startsWith('ini') ? 'ini' : 'yaml' },
    });
    const ansibleWall = performance.now() - started;
    if (a.error || a.status !== 0)
      ansibleNote = a.error ? `stopped after ${s(ansibleWall)}: ${a.error.message}` : `exit ${a.status}: ${a.stderr.slice(0, 300)}`;
    else {
      // ansible-inventory exits 0 even when it could parse nothing: count what it listed.
      const listed = Object.keys((JSON.parse(a.stdout) as { _meta?: { hostvars?: object } })._meta?.hostvars ?? {}).length;
      if (listed === INVENTORY_HOSTS) ansibleMs = ansibleWall;
      else ansibleNote = `listed ${listed} hosts, expected ${INVENTORY_HOSTS}: ${a.stderr.trim().split('\n').slice(0, 2).join(' ')}`;
    }
    out.formats.push({
      format,
      loadMs: loads.length ? median(loads) : null,
      loadCpuMs: cpus.length ? median(cpus) : null,
      loadSamplesMs: loads,
      processMs: walls.length ? median(walls) : null,
      error,
      ansibleInventoryMs: ansibleMs,
      ansibleNote,
    });
    log(
      `inventory ${format}: toolkit load ${loads.length ? s(median(loads)) : error}, process ${s(median(walls))}; ansible-inventory --list ${ansibleMs !== null ? s(ansibleMs) : ansibleNote}`,
    );
  }
  return out;
}

async function main(): Promise<void> {
  if (args['inventory-only']) return pass();
  ensureCompiledToolkit(log);
  for (const rtt of RTTS) {
    rttMs = rtt;
    if (RTTS.length > 1) log(`--- pass with ${rtt} ms round-trip delay on the hosts' links ---`);
    await pass();
  }
}

/** The result the current pass fills in. */
let current: BenchResult | null = null;

async function pass(): Promise<void> {
  newWorkDir();
  const result: BenchResult = {
    date: new Date().toISOString(),
    hosts: N,
    rttMs,
    mix: Object.fromEntries(mix),
    machine: {
      cores: cpus().length,
      cpu: cpus()[0]?.model ?? 'unknown',
      memGiB: Math.round(totalmem() / 2 ** 30),
      freeGiBAtStart: Math.round(freemem() / 2 ** 30),
      loadAvgAtStart: loadavg().map((x) => Number(x.toFixed(2))),
    },
    versions: {
      node: process.version,
      openssh: commandVersion('ssh', ['-V']),
      ansible: commandVersion('ansible-playbook', ['--version']),
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal ${...} is the data here, not a template
      mitogen: commandVersion('dpkg-query', ['-W', '-f', '${Version}', 'ansible-mitogen']),
    },
    forks: N,
    repeat: REPEAT,
    coldRepeat: COLD_REPEAT,
    ansibleRepeat: ANSIBLE_REPEAT,
    toolkit: { transport: 'ssh' },
    ...(SSH_EXTRA_ARGS ? { sshExtraArgs: SSH_EXTRA_ARGS } : {}),
    ansible: {},
    mitogen: {},
    notes: [
      'The toolkit started as `npm run provision` starts it after scripts/setup.sh: the compiled dist/ of the current sources (scripts/launch.mjs).',
      ...(SSH_EXTRA_ARGS ? [`The toolkit's OpenSSH runs and connect probe ran with --ssh-extra-args '${SSH_EXTRA_ARGS}'.`] : []),
    ],
  };
  current = result;
  if (args['inventory-only']) {
    result.hosts = 0;
    result.loadAvgAtInventory = loadavg().map((v) => Number(v.toFixed(2)));
    result.inventory = await inventoryScale();
    result.targets = targetsOf(result).filter((t) => t.name.includes('inventory'));
    writeResults(result, 'inventory');
    return;
  }
  log(`lab ${labDir}: ${N} hosts (${mixText(mix)})`);
  result.labUpMs = resetLab();
  const hosts = labHosts(labDir).map((h) => h.name);
  if (hosts.length !== N) throw new Error(`the lab has ${hosts.length} hosts, expected ${N}`);

  result.cpuBusy = { idleLab: await idleWindow('wiped'), windowMs: IDLE_WINDOW_MS };
  log(`machine CPU busy with the wiped lab idle: ${(result.cpuBusy.idleLab * 100).toFixed(0)} %`);

  // 1. The floor, and the toolkit's own connect floor (ssh2 in Node).
  const floors: number[] = [];
  for (let i = 0; i < REPEAT; i++) {
    await settle();
    const f = await floor(hosts);
    if (f.failures) result.notes.push(`floor sample ${i + 1}: ${f.failures} ssh failures`);
    floors.push(f.ms);
    log(`floor ${i + 1}: ${s(f.ms)} (${f.failures} failures)`);
  }
  result.floor = { samplesMs: floors, ms: median(floors) };
  // OpenSSH 9.x negotiates the post-quantum sntrup761x25519 key exchange, far costlier (mostly for
  // sshd) than the curve25519-sha256 that ssh2, the toolkit's client, negotiates: the same floor
  // with the toolkit's key exchange shows how much of the gap is the key exchange alone.
  const kexFloors: number[] = [];
  for (let i = 0; i < REPEAT; i++) kexFloors.push((await floor(hosts, ['-o', 'KexAlgorithms=curve25519-sha256'])).ms);
  result.floorCurve25519 = { samplesMs: kexFloors, ms: median(kexFloors) };
  log(`floor with KexAlgorithms=curve25519-sha256: ${s(result.floorCurve25519.ms)}`);
  const probe = (transport: Transport): ConnectProbe => {
    const probes = Array.from({ length: REPEAT }, () => connectProbe(transport));
    const p = { samples: probes, ms: median(probes.map((x) => x.totalMs)) };
    log(`toolkit connect probe (${TRANSPORT_LABEL[transport]}): ${s(p.ms)}`);
    return p;
  };
  result.connectProbe = probe('ssh');
  if (!args['no-paramiko']) result.paramiko = { connectProbe: probe('paramiko') };

  // 2. The toolkit: cold (wiped hosts), warm, --check --diff; with OpenSSH, then with paramiko
  // on the lab wiped again, so both transports' cold runs start from the same hosts.
  const pick = (runs: ToolRun[]) => [...runs].sort((a, b) => a.wallMs - b.wallMs)[Math.floor(runs.length / 2)]!;
  // Cold samples after the first start from the lab wiped again (the caller wiped it for the first).
  const coldSamples = async (sample: (name: string) => Promise<ToolRun>, name: string): Promise<ToolRun[]> => {
    const runs: ToolRun[] = [];
    for (let i = 0; i < COLD_REPEAT; i++) {
      if (i > 0) resetLab();
      runs.push(await sample(COLD_REPEAT === 1 ? name : `${name}-${i + 1}`));
    }
    return runs;
  };
  const toolkitRuns = async (side: ToolkitSide, transport: Transport) => {
    side.coldSamples = await coldSamples((name) => toolkit(name, [], transport), 'cold');
    side.cold = pick(side.coldSamples);
    if (transport === 'ssh') {
      // Provisioned hosts run node_exporter / Alloy (pushing every scrape interval) and the agent.
      result.cpuBusy!.provisionedLab = await idleWindow('provisioned');
      log(`machine CPU busy with the provisioned lab idle: ${(result.cpuBusy!.provisionedLab * 100).toFixed(0)} %`);
    }
    const warm: ToolRun[] = [];
    // The floor targets are the default transport's: its samples each get a floor of their own.
    const paired = transport === 'ssh';
    for (let i = 0; i < REPEAT; i++) warm.push(await toolkit(`warm-${i + 1}`, [], transport, paired));
    const check: ToolRun[] = [];
    for (let i = 0; i < REPEAT; i++) check.push(await toolkit(`check-${i + 1}`, ['--check', '--diff'], transport, paired));
    side.warmSamples = warm;
    side.checkSamples = check;
    side.warm = pick(warm);
    side.check = pick(check);
  };
  await toolkitRuns(result.toolkit, 'ssh');
  const labInfo = labHosts(labDir);
  const probeHosts = [labInfo.find((h) => /15/.test(h.product)), labInfo.find((h) => /16/.test(h.product))].filter((h) => h !== undefined);
  result.hostCost = probeHosts.map((h) => hostCost(h.name));
  for (const c of result.hostCost)
    log(`host cost ${c.host}: facts script ${s(c.factsWallMs)} wall, ${s(c.factsCpuMs)} CPU; one systemctl call ${s(c.systemctlMs)}`);
  if (result.paramiko) {
    resetLab();
    await toolkitRuns(result.paramiko, 'paramiko');
  } else result.paramiko = { skipped: '--no-paramiko' };

  // 3./4. ansible-playbook, plain and with Mitogen: cold on wiped hosts, then warm.
  const flavours: Array<['ansible' | 'mitogen', boolean]> = [];
  const ansibleWhy = args['no-ansible'] ? '--no-ansible' : ansibleProblem();
  if (ansibleWhy) {
    result.ansible.skipped = ansibleWhy;
    log(`ansible-playbook skipped: ${ansibleWhy}`);
  } else flavours.push(['ansible', false]);
  const mitogenWhy = args['no-ansible'] || args['no-mitogen'] ? '--no-ansible/--no-mitogen' : (ansibleWhy ?? mitogenProblem());
  if (mitogenWhy) result.mitogen.skipped = mitogenWhy;
  else flavours.push(['mitogen', true]);
  for (const [name, withMitogen] of flavours) {
    const side = result[name];
    if (name === 'mitogen' && args['mitogen-warm-only'] && flavours.length === 2) {
      result.notes.push('Mitogen: warm run only (--mitogen-warm-only), on the hosts ansible-playbook had provisioned');
    } else {
      resetLab();
      const colds = await coldSamples((run) => ansible(run, withMitogen), `${name}-cold`);
      // A playbook that reached no host (a missing module, a broken inventory) is no timing.
      const missed = colds.find((run) => run.recap && run.recap.ok + run.recap.changed === 0);
      if (missed) {
        side.skipped = `${name}-cold reached no host (exit ${missed.code}; see its log in ${workDir}): not timed`;
        log(side.skipped);
        continue;
      }
      side.coldSamples = colds;
      side.cold = pick(colds);
      // Same end state? The toolkit's dry run on the hosts Ansible just provisioned should plan nothing.
      const eq = await toolkit(`check-after-${name}`, ['--check']);
      side.toolkitChangesAfter = eq.hostsWithChanges ?? null;
    }
    const runs: ToolRun[] = [];
    for (let i = 0; i < ANSIBLE_REPEAT; i++) runs.push(await ansible(`${name}-warm-${i + 1}`, withMitogen));
    side.warmSamples = runs;
    side.warm = pick(runs);
  }

  // 5. Inventory loading at fleet scale, with the lab down (its idle services take CPU).
  if (!args.keep) lab(labDir, ['down']);
  // Once per bench (it has no network): with several RTTs, in the last pass.
  if (!args['no-inventory'] && rttMs === RTTS[RTTS.length - 1]) result.inventory = await inventoryScale();

  result.targets = targetsOf(result);
  writeResults(result, `${rttMs ? `${N}-rtt${rttMs}` : String(N)}${resultSuffix}`);
}

function writeResults(result: BenchResult, suffix: string): void {
  mkdirSync(outDir, { recursive: true });
  const base = join(outDir, `${date}-${suffix}`);
  writeFileSync(`${base}.json`, `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(`${base}.md`, markdownReport(result));
  printTable(result);
  log(`wrote ${base}.json and ${base}.md (logs and per-run JSON in ${workDir})`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
