// npm run bench:lab-scale [-- --hosts 1000] [--sizes 10,100,1000] [--forks 100] [--repeat 3]
//                        [--apply-forks 50] [--check-only]
//
// The lab at fleet size: N wiped hosts (default 1,000) brought up, what they cost in memory,
// `--check --diff` over 10, 100, ..., N of them (each name a host of its own; a check only reads,
// so the hosts stay wiped and the same lab serves every sample), then the fleet provisioned:
// cold runs over disjoint parts of it (10, 100, then the rest, so every host is provisioned
// once and time per host can be compared across sizes), and warm runs over 10, 100, ..., N of
// the provisioned hosts. The machine's memory in use is sampled through every run, and a run is
// stopped (as a Ctrl-C would) if the machine's available memory runs low.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { loadInventory } from '../src/inventory/index.ts';
import { status } from '../test/lab/lab.ts';
import { countBy, cpuBusy, ensureCompiledToolkit, lab, labHostsCpuS, measure, median, memoryInUseMiB, mixFor, mixText, positive, repoRoot } from './lib.ts';

const HELP = `npm run bench:lab-scale -- [options]

Brings up N wiped lab hosts, records their memory and the time to start them, times
\`--check --diff\` (read-only) over growing subsets of them, then provisions them all (cold
runs over disjoint parts: 10, 100, then the rest) and times warm runs over growing subsets.
  --hosts N          hosts of the lab (default 1000)
  --sizes N[,N...]   hosts per check and warm run (default 10,100 and N); the cold runs
                     take the same sizes but the last, which is the rest of the lab
  --forks N          the toolkit's --forks for the checks (default 100)
  --repeat R         samples per size (default 3; the median is kept)
  --apply-forks N    the toolkit's --forks for the cold and warm runs (default 50, its own
                     default; each host in flight runs zypper and rpm meanwhile)
  --check-only       only the wiped lab and the checks (no cold and warm runs)
  --min-available M  stop a run (as a Ctrl-C does) when the machine has less than M MiB of
                     memory available (default 600), and end the bench with what it measured
  --keep             leave the lab up at the end
  --out DIR          results folder (default bench/results): <date>-lab-<N>.json/.md
  --render FILE      only write FILE's .md again from FILE (a result .json), e.g. after the
                     report's wording changed
`;

const args = parseArgs({
  args: process.argv.slice(2),
  options: {
    hosts: { type: 'string' },
    sizes: { type: 'string' },
    forks: { type: 'string' },
    repeat: { type: 'string' },
    'apply-forks': { type: 'string' },
    'check-only': { type: 'boolean' },
    'min-available': { type: 'string' },
    keep: { type: 'boolean' },
    render: { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
}).values;
if (args.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const HOSTS = positive('hosts', args.hosts, 1000);
const SIZES = (args.sizes ?? `10,100,${HOSTS}`).split(',').map((t) => positive('sizes', t, 0));
const FORKS = positive('forks', args.forks, 100);
const REPEAT = positive('repeat', args.repeat, 3);
const APPLY_FORKS = positive('apply-forks', args['apply-forks'], 50);
/** A run is stopped when the machine has less than this available (MiB): see measure(). */
const MIN_AVAILABLE_MIB = positive('min-available', args['min-available'], 600);
const tooBig = SIZES.find((n) => n > HOSTS);
if (tooBig !== undefined) throw new Error(`--sizes ${tooBig}: more than the lab's ${HOSTS} hosts (--hosts)`);
/** The cold runs' disjoint parts: SIZES but the last, then the rest of the lab. */
const COLD_SIZES = [...SIZES.slice(0, -1), HOSTS - SIZES.slice(0, -1).reduce((a, b) => a + b, 0)];
if (!args['check-only'] && COLD_SIZES.at(-1)! < 1) {
  throw new Error(
    `--sizes ${SIZES.join(',')}: the cold runs take all but the last size from the lab's ${HOSTS} hosts, and leave none (--hosts, or --check-only)`,
  );
}

const labDir = process.env.BENCH_LAB_DIR ?? join(repoRoot, '.lab-bench');
const date = new Date().toISOString().slice(0, 10);
const workDir = join(repoRoot, 'bench', 'results', 'tmp', `${date}-lab-${HOSTS}`);
const outDir = args.out ?? join(repoRoot, 'bench', 'results');
const log = (s: string) => process.stderr.write(`bench:lab-scale: ${s}\n`);

interface Sample {
  wallMs: number;
  loadBefore: number;
  /** Share of the machine's CPU busy over the 2 s before the run. */
  busyBefore: number;
  code: number | null;
  controllerCpuS: number | null;
  hostsCpuS: number;
  maxRssMiB: number | null;
  /** The machine's highest memory in use during the run (MiB). */
  machinePeakMiB: number;
  /** Hosts per outcome, from the run's --json report. */
  statuses: Record<string, number>;
  roundTripsMax: number;
  /** Hosts per number of SSH round trips, e.g. {"1": 971, "2": 29}. */
  roundTrips?: Record<string, number>;
  /** The run was stopped: the machine's available memory fell to this (MiB). */
  stoppedAtAvailableMiB?: number;
}
interface SizeResult {
  hosts: number;
  samples: Sample[];
  wallMs: number;
  msPerHost: number;
  controllerCpuMsPerHost: number | null;
  hostsCpuMsPerHost: number;
  peakRssMiB: number | null;
  memoryInUseAfterMiB: number;
  /** Highest of the samples' machinePeakMiB. */
  machinePeakMiB: number;
}

/** Waits (up to 2 minutes) until the machine is idle (under `below` of its CPU busy over 2 s,
 *  default 10 %): the start or stop of 1,000 hosts keeps it busy for a while after. Returns the
 *  last share seen. */
async function settle(below = 0.1): Promise<number> {
  const end = Date.now() + 120_000;
  for (;;) {
    const busy = await cpuBusy(2000);
    if (busy < below || Date.now() > end) return busy;
  }
}

/** `n` names spread evenly over `names` (so every product is in it, in the lab's proportions). */
function spread(names: string[], n: number): string[] {
  return Array.from({ length: n }, (_, i) => names[Math.floor((i * names.length) / n)]!);
}

type LabInventory = Awaited<ReturnType<typeof loadInventory>>;

/** An inventory of the given lab hosts, each with all its variables. */
function subsetInventory(lab: LabInventory, names: string[], tag: string): string {
  const hosts: Record<string, Record<string, unknown>> = {};
  for (const name of names) hosts[name] = lab.hosts.get(name)!.vars;
  const file = join(workDir, `hosts-${tag}.yml`);
  writeFileSync(file, stringify({ all: { hosts } }));
  return file;
}

/**
 * One toolkit run, measured, once the machine is idle: `npm run provision` as a user runs it
 * (the compiled CLI) with --json for the outcome of each host. `code` is the toolkit's exit:
 * callers decide what a sample with failures is worth.
 */
async function toolkitRun(tag: string, inventory: string, n: number, extra: string[], forks: number, sample: number, settleBelow = 0.1): Promise<Sample> {
  const busyBefore = await settle(settleBelow);
  const hostsCpuBefore = labHostsCpuS(labDir);
  const file = join(workDir, `${tag}-${sample + 1}`);
  const m = await measure({
    cmd: process.execPath,
    args: [join(repoRoot, 'scripts', 'launch.mjs'), 'provision', '-i', inventory, ...extra, '-f', String(Math.min(forks, n)), '--json', `${file}.json`],
    logFile: `${file}.log`,
    env: { ...process.env, NO_COLOR: '1' },
    timeoutMs: 3_600_000,
    minAvailableMiB: MIN_AVAILABLE_MIB,
    sampleTree: false,
  });
  const report = existsSync(`${file}.json`)
    ? (JSON.parse(readFileSync(`${file}.json`, 'utf8')) as { hosts: { status: string; roundTrips: number }[] })
    : { hosts: [] };
  const statuses = countBy(report.hosts, (h) => h.status);
  const roundTrips = countBy(report.hosts, (h) => h.roundTrips);
  const result: Sample = {
    wallMs: m.wallMs,
    loadBefore: m.loadBefore,
    busyBefore,
    code: m.code,
    controllerCpuS: m.cpuS,
    hostsCpuS: labHostsCpuS(labDir) - hostsCpuBefore,
    maxRssMiB: m.maxRssKiB === null ? null : Math.round(m.maxRssKiB / 1024),
    machinePeakMiB: m.machinePeakInUseMiB,
    statuses,
    roundTripsMax: Math.max(0, ...report.hosts.map((h) => h.roundTrips)),
    roundTrips,
    ...(m.stoppedAtAvailableMiB !== undefined ? { stoppedAtAvailableMiB: m.stoppedAtAvailableMiB } : {}),
  };
  log(
    `${tag}, sample ${sample + 1}: ${(m.wallMs / 1000).toFixed(2)} s, exit ${m.code} ${JSON.stringify(statuses)}, CPU per host: controller ${m.cpuS === null ? '?' : Math.round((m.cpuS * 1000) / n)} ms, hosts ${Math.round((result.hostsCpuS * 1000) / n)} ms; peak RSS ${result.maxRssMiB} MiB; machine memory in use at most ${result.machinePeakMiB} MiB (load before ${m.loadBefore.toFixed(2)}, CPU busy ${Math.round(busyBefore * 100)} %)`,
  );
  if (result.stoppedAtAvailableMiB !== undefined) throw new MemoryStop(tag, result);
  return result;
}

/** A run stopped because the machine's memory ran low: the bench ends there, with what it has. */
class MemoryStop extends Error {
  constructor(
    readonly tag: string,
    readonly sample: Sample,
  ) {
    super(`${tag}: stopped, the machine had ${sample.stoppedAtAvailableMiB} MiB available (under ${MIN_AVAILABLE_MIB})`);
  }
}

/** `repeat` samples of one size and their medians, added to `into`: on a MemoryStop, the
 *  samples up to the stopped one (included) are, before the stop goes on to the caller. */
async function sized(n: number, repeat: number, one: (sample: number) => Promise<Sample>, into: SizeResult[]): Promise<SizeResult> {
  const samples: Sample[] = [];
  try {
    for (let i = 0; i < repeat; i++) samples.push(await one(i));
  } catch (error) {
    if (error instanceof MemoryStop) into.push(summary(n, [...samples, error.sample]));
    throw error;
  }
  const result = summary(n, samples);
  into.push(result);
  return result;
}

function summary(n: number, samples: Sample[]): SizeResult {
  const cpu = samples.every((x) => x.controllerCpuS !== null) ? median(samples.map((x) => x.controllerCpuS!)) : null;
  const rss = samples.every((x) => x.maxRssMiB !== null) ? Math.max(...samples.map((x) => x.maxRssMiB!)) : null;
  const wallMs = median(samples.map((x) => x.wallMs));
  return {
    hosts: n,
    samples,
    wallMs,
    msPerHost: wallMs / n,
    controllerCpuMsPerHost: cpu === null ? null : (cpu * 1000) / n,
    hostsCpuMsPerHost: (median(samples.map((x) => x.hostsCpuS)) * 1000) / n,
    peakRssMiB: rss,
    memoryInUseAfterMiB: memoryInUseMiB(),
    machinePeakMiB: Math.max(...samples.map((x) => x.machinePeakMiB)),
  };
}

interface ProvisionResult {
  /** Cold runs over disjoint parts of the lab: each host provisioned once. */
  cold: SizeResult[];
  /** Warm runs (nothing to change) over growing subsets of the provisioned lab. */
  warm: SizeResult[];
  /** The provisioned lab idle, after the runs: memory in use (MiB), the lab's PSS, CPU busy. */
  idle: { memoryInUseMiB: number; labPssMiB: number; labProcesses: number; cpuBusyPct: number } | null;
  /** Why the runs ended early, if they did. */
  stopped?: string;
  /** Warm samples started once the machine was under this share busy (the provisioned lab's own load + 5 points). */
  settleBelowPct?: number;
}

/**
 * Provisions the whole lab: cold runs over disjoint parts of it (SIZES but the last, then the
 * rest), then warm runs over SIZES of the provisioned hosts, REPEAT samples each.
 */
async function provision(labInventory: LabInventory): Promise<ProvisionResult> {
  const all = [...labInventory.hosts.keys()];
  const result: ProvisionResult = { cold: [], warm: [], idle: null };
  let wiped = all;
  try {
    for (const n of COLD_SIZES) {
      const names = spread(wiped, n);
      wiped = wiped.filter((name) => !names.includes(name));
      const inventory = subsetInventory(labInventory, names, `cold-${n}`);
      await sized(n, 1, (i) => toolkitRun(`cold-${n}`, inventory, n, [], APPLY_FORKS, i), result.cold);
    }
    // Provisioned, the lab keeps the machine busy on its own (a third of 2 cores at 1,000 hosts):
    // a warm sample starts once the machine is within 5 points of that, not under 10 %.
    const baseline = await cpuBusy(10_000);
    result.settleBelowPct = Math.round(Math.max(0.1, baseline + 0.05) * 100);
    log(`provisioned lab idle: CPU busy ${Math.round(baseline * 100)} % over 10 s; warm samples start under ${result.settleBelowPct} %`);
    for (const n of SIZES) {
      const inventory = subsetInventory(labInventory, spread(all, n), `warm-${n}`);
      await sized(n, REPEAT, (i) => toolkitRun(`warm-${n}`, inventory, n, [], APPLY_FORKS, i, result.settleBelowPct! / 100), result.warm);
    }
  } catch (error) {
    if (!(error instanceof MemoryStop)) throw error;
    log(error.message);
    result.stopped = error.message;
    return result;
  }
  const busy = await settle(result.settleBelowPct! / 100);
  const labStatus = await status(labDir);
  result.idle = {
    memoryInUseMiB: memoryInUseMiB(),
    labPssMiB: Math.round(labStatus.total.pssKiB / 1024),
    labProcesses: labStatus.total.processes,
    cpuBusyPct: Math.round(busy * 100),
  };
  log(
    `provisioned lab idle: machine memory in use ${result.idle.memoryInUseMiB} MiB, lab PSS ${result.idle.labPssMiB} MiB, CPU busy ${result.idle.cpuBusyPct} %`,
  );
  return result;
}

async function main(): Promise<void> {
  const loadAvgAtStart = loadavg();
  ensureCompiledToolkit(log);
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  const mix = mixFor(HOSTS);
  lab(labDir, ['down', '--wipe']);
  const memoryBeforeMiB = memoryInUseMiB();
  log(`lab ${labDir}: bringing up ${HOSTS} wiped hosts (${mixText(mix)}); machine memory in use ${memoryBeforeMiB} MiB`);
  const upMs = lab(labDir, ['up', '--mix', mixText(mix)]);
  const labStatus = await status(labDir);
  const up = labStatus.hosts.filter((h) => h.up && h.sshd).length;
  if (up !== HOSTS) throw new Error(`${HOSTS - up} of the lab's ${HOSTS} hosts are not up with sshd listening: npm run lab -- status (LAB_DIR=${labDir})`);
  const memoryUpMiB = memoryInUseMiB();
  const busy = Math.round((await settle()) * 100);
  log(
    `up in ${(upMs / 1000).toFixed(1)} s; machine memory in use ${memoryUpMiB} MiB; lab PSS ${Math.round(labStatus.total.pssKiB / 1024)} MiB; CPU busy ${busy} %`,
  );

  const labInventory = await loadInventory(join(labDir, 'inventory'));
  const checks: SizeResult[] = [];
  let provisioned: ProvisionResult | null = null;
  let stopped: string | undefined;
  try {
    try {
      for (const n of SIZES) {
        const inventory = subsetInventory(labInventory, spread([...labInventory.hosts.keys()], n), `check-${n}`);
        const checked = await sized(n, REPEAT, (i) => toolkitRun(`check-${n}`, inventory, n, ['--check', '--diff'], FORKS, i), checks);
        // A check that finds changes to make exits 0 (as ansible-playbook --check does); anything
        // else (a host unreachable or failed) makes the sample worthless: stop and say where.
        const failed = checked.samples.findIndex((x) => x.code !== 0);
        if (failed >= 0)
          throw new Error(`--check over ${n} hosts exited ${checked.samples[failed]!.code}: see ${join(workDir, `check-${n}-${failed + 1}.log`)}`);
      }
      provisioned = args['check-only'] ? null : await provision(labInventory);
    } catch (error) {
      if (!(error instanceof MemoryStop)) throw error;
      log(error.message);
      stopped = error.message;
    }
    // Written while the lab is still up: what was measured is kept even if taking it down fails.
    const result: LabScaleResult = {
      date: new Date().toISOString(),
      machine: { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', memGiB: Math.round(totalmem() / 2 ** 30), loadAvgAtStart },
      hosts: HOSTS,
      mix,
      forks: FORKS,
      repeat: REPEAT,
      upMs,
      memoryBeforeMiB,
      memoryUpMiB,
      labPssMiB: Math.round(labStatus.total.pssKiB / 1024),
      labProcesses: labStatus.total.processes,
      machineCpuBusyIdleLabPct: busy,
      sizes: checks,
      applyForks: APPLY_FORKS,
      provisioned,
      ...(stopped ? { stopped } : {}),
    };
    mkdirSync(outDir, { recursive: true });
    const base = join(outDir, `${date}-lab-${HOSTS}`);
    writeFileSync(`${base}.json`, `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(`${base}.md`, markdown(result));
    log(`wrote ${base}.json and ${base}.md`);
    process.stdout.write(readFileSync(`${base}.md`, 'utf8'));
  } finally {
    if (!args.keep) lab(labDir, ['down']);
  }
}

interface LabScaleResult {
  date: string;
  /** loadAvgAtEnd: results of 2026-12-05, which took the load average at the end, not the start. */
  machine: { cores: number; cpu: string; memGiB: number } & ({ loadAvgAtStart: number[] } | { loadAvgAtEnd: number[] });
  hosts: number;
  mix: Array<[string, number]>;
  forks: number;
  repeat: number;
  upMs: number;
  memoryBeforeMiB: number;
  memoryUpMiB: number;
  labPssMiB: number;
  labProcesses: number;
  machineCpuBusyIdleLabPct: number;
  sizes: SizeResult[];
  applyForks: number;
  /** null with --check-only, or when the checks were stopped. */
  provisioned: ProvisionResult | null;
  /** Why the checks ended early (the machine's memory), if they did. */
  stopped?: string;
}

const loads = (l: number[]) => l.map((v) => v.toFixed(2)).join(' ');

function markdown(r: LabScaleResult): string {
  const s = (ms: number) => (ms / 1000).toFixed(2);
  const perHostMiB = (r.memoryUpMiB - r.memoryBeforeMiB) / r.hosts;
  const rows = r.sizes.map((z) => [
    String(z.hosts),
    s(z.wallMs),
    z.msPerHost.toFixed(0),
    z.controllerCpuMsPerHost === null ? '–' : z.controllerCpuMsPerHost.toFixed(0),
    z.hostsCpuMsPerHost.toFixed(0),
    z.peakRssMiB === null ? '–' : String(z.peakRssMiB),
    String(z.memoryInUseAfterMiB),
    z.samples.map((x) => `${s(x.wallMs)} (load ${x.loadBefore.toFixed(2)}, busy ${Math.round(x.busyBefore * 100)} %)`).join(' / '),
  ]);
  return [
    `# The lab at ${r.hosts} hosts, ${r.date.slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `Machine: ${r.machine.cores} cores (${r.machine.cpu}), ${r.machine.memGiB} GiB, ${'loadAvgAtStart' in r.machine ? `load average at start ${loads(r.machine.loadAvgAtStart)}` : `load average at the end (at the start: not recorded) ${loads(r.machine.loadAvgAtEnd)}`}.`,
    '',
    `Lab: ${r.hosts} wiped hosts (${mixText(r.mix)}), brought up in ${s(r.upMs)} s; the machine's memory in use went from ${r.memoryBeforeMiB} to ${r.memoryUpMiB} MiB (${perHostMiB.toFixed(1)} MiB per host, kernel memory included; the lab's ${r.labProcesses} processes ${r.labPssMiB} MiB by PSS). CPU busy with the lab idle: ${r.machineCpuBusyIdleLabPct} %.`,
    '',
    `\`--check --diff\` (OpenSSH, compiled, --forks ${r.forks} or the size if smaller) over hosts spread evenly over the lab, each a host of its own; ${r.repeat} sample(s) each, median shown. Read-only: the hosts stay wiped, so every host has changes to show (the diff of every file and package), and its facts ask zypper what the repositories offer for trento-agent (not installed), which a converged host skips. Each sample starts once the machine is idle (under 10 % CPU over 2 s, waiting at most 2 minutes).`,
    '',
    '| hosts | wall s | ms per host | controller CPU ms per host | hosts CPU ms per host | peak RSS MiB | memory in use after, MiB | samples (machine before: load, CPU busy over 2 s) |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map((row) => `| ${row.join(' | ')} |`),
    '',
    "Controller CPU: the toolkit and every process it started (a cgroup v2 of its own: ssh clients and masters included). Hosts CPU: every process of the lab's hosts during the run (from /proc, their trees before and after). Peak RSS: ru_maxrss of the toolkit process. Memory in use: MemTotal - MemAvailable after the size's last sample (the hosts' lab systemd managers, started by the facts' `systemctl show`, stay for 10 minutes idle).",
    '',
    ...(r.stopped ? [`Checks stopped early: ${r.stopped}.`, ''] : []),
    ...provisionedMarkdown(r),
  ].join('\n');
}

/** "; round trips 1: 971, 2: 29" when some hosts took more round trips than others. */
const trips = (x: Sample) =>
  x.roundTrips && Object.keys(x.roundTrips).length > 1
    ? `; round trips ${Object.entries(x.roundTrips)
        .map(([k, v]) => `${k}: ${v}`)
        .join(', ')}`
    : '';

const outcome = (statuses: Record<string, number>) =>
  Object.entries(statuses)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');

function provisionedMarkdown(r: LabScaleResult): string[] {
  const p = r.provisioned;
  if (!p) return [`Cold and warm runs: not run (${r.stopped ? 'the checks were stopped' : '--check-only'}).`, ''];
  const s = (ms: number) => (ms / 1000).toFixed(2);
  const row = (kind: string, z: SizeResult) =>
    `| ${kind} | ${z.hosts} | ${s(z.wallMs)} | ${z.msPerHost.toFixed(0)} | ${z.controllerCpuMsPerHost === null ? '–' : z.controllerCpuMsPerHost.toFixed(0)} | ${z.hostsCpuMsPerHost.toFixed(0)} | ${Math.max(...z.samples.map((x) => x.roundTripsMax))} | ${z.peakRssMiB ?? '–'} | ${z.machinePeakMiB} | ${z.samples.map((x) => `${s(x.wallMs)}: exit ${x.code}, ${outcome(x.statuses)}${trips(x)} (load ${x.loadBefore.toFixed(2)}, busy ${Math.round(x.busyBefore * 100)} %)`).join(' / ')} |`;
  const idle = p.idle
    ? `The provisioned lab idle after the runs: the machine's memory in use ${p.idle.memoryInUseMiB} MiB (${((p.idle.memoryInUseMiB - r.memoryBeforeMiB) / r.hosts).toFixed(1)} MiB per host over the machine before the lab, kernel memory and the lab's Prometheus included; the lab's ${p.idle.labProcesses} processes ${p.idle.labPssMiB} MiB by PSS); CPU busy ${p.idle.cpuBusyPct} %.`
    : 'The provisioned lab idle: not measured (the runs ended early).';
  return [
    `Provisioning the lab (\`npm run provision\` as a user runs it, OpenSSH, --forks ${r.applyForks} or the size if smaller). Cold: disjoint parts of the wiped lab, one sample each (a host is cold once), so that every host is provisioned once and time per host compares across sizes. Warm: nothing to change, over hosts spread evenly over the provisioned lab, ${r.repeat} sample(s) each, median shown; ${p.settleBelowPct ? `each sample started once the machine was under ${p.settleBelowPct} % busy (the provisioned lab's own load over 10 s, plus 5 points) or after 2 minutes` : 'each sample started once the machine was under 10 % busy or after 2 minutes (the provisioned lab alone keeps it busier, so every sample waited the 2 minutes)'}. Machine memory peak: the highest MemTotal - MemAvailable sampled every 250 ms during the size's samples; a run is stopped (SIGTERM, as a Ctrl-C) if less than ${MIN_AVAILABLE_MIB} MiB is available.`,
    '',
    "Hosts CPU counts every process of every lab host during the run, the provisioned hosts' own work included (their node_exporters scraped by the lab's Prometheus, their Alloys pushing, their agents): at 10 hosts in a large provisioned lab that background, spread over 10, is most of the figure.",
    '',
    '| run | hosts | wall s | ms per host | controller CPU ms per host | hosts CPU ms per host | SSH round trips per host, max | peak RSS MiB | machine memory in use, peak MiB | samples: exit, outcome (machine before: load, CPU busy over 2 s) |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...p.cold.map((z) => row('cold', z)),
    ...p.warm.map((z) => row('warm', z)),
    '',
    idle,
    '',
    ...(p.stopped ? [`Stopped early: ${p.stopped}.`, ''] : []),
  ];
}

if (args.render) {
  if (!args.render.endsWith('.json')) throw new Error(`--render ${args.render}: expected a result's .json (its .md is written beside it)`);
  const result = JSON.parse(readFileSync(args.render, 'utf8')) as LabScaleResult;
  writeFileSync(args.render.replace(/\.json$/, '.md'), markdown(result));
} else {
  await main();
}
