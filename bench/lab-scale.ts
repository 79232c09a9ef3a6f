// npm run bench:lab-scale [-- --hosts 1000] [--sizes 10,100,1000] [--forks 100] [--repeat 3]
//
// The lab at fleet size, as far as this machine holds it: N wiped hosts (default 1,000) brought
// up, what they cost in memory, and `--check --diff` over 10, 100, ..., N of them, each name a
// host of its own. A check only reads (facts, plan, diff), so the hosts stay wiped and the same
// lab serves every sample. What it cannot do is provision them: a provisioned lab host takes
// ~36 MiB with a run (bench/README.md), so 24 GiB holds ~500, and cold and warm runs at 1,000 are
// not measured here (bench/controller-scale.ts measures the controller's side of a warm run over
// 1,000 names spread over provisioned hosts).
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { loadInventory } from '../src/inventory/index.ts';
import { status } from '../test/lab/lab.ts';
import { cpuBusy, ensureCompiledToolkit, lab, labHostsCpuS, measure, median, memoryInUseMiB, mixFor, mixText, positive, repoRoot } from './lib.ts';

const HELP = `npm run bench:lab-scale -- [options]

Brings up N wiped lab hosts, records their memory and the time to start them, then times
\`--check --diff\` (read-only) over growing subsets of them.
  --hosts N          hosts of the lab (default 1000)
  --sizes N[,N...]   hosts per check run (default 10,100 and N)
  --forks N          the toolkit's --forks (default 100)
  --repeat R         samples per size (default 3; the median is kept)
  --keep             leave the lab up at the end
  --out DIR          results folder (default bench/results): <date>-lab-<N>.json/.md
`;

const args = parseArgs({
  args: process.argv.slice(2),
  options: {
    hosts: { type: 'string' },
    sizes: { type: 'string' },
    forks: { type: 'string' },
    repeat: { type: 'string' },
    keep: { type: 'boolean' },
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
const tooBig = SIZES.find((n) => n > HOSTS);
if (tooBig !== undefined) throw new Error(`--sizes ${tooBig}: more than the lab's ${HOSTS} hosts (--hosts)`);

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
}

/** Waits (up to 2 minutes) until the machine is idle (under 10 % of its CPU busy over 2 s): the
 *  start or stop of 1,000 hosts keeps it busy for a while after. Returns the last share seen. */
async function settle(): Promise<number> {
  const end = Date.now() + 120_000;
  for (;;) {
    const busy = await cpuBusy(2000);
    if (busy < 0.1 || Date.now() > end) return busy;
  }
}

/** An inventory of `n` of the lab's hosts, evenly spread over it (so every product is in it, in
 *  the lab's proportions), each with all its variables. */
async function subsetInventory(n: number): Promise<string> {
  const all = [...(await loadInventory(join(labDir, 'inventory'))).hosts.entries()];
  const hosts: Record<string, Record<string, unknown>> = {};
  for (let i = 0; i < n; i++) {
    const [name, entry] = all[Math.floor((i * all.length) / n)]!;
    hosts[name] = entry.vars;
  }
  const file = join(workDir, `hosts-${n}.yml`);
  writeFileSync(file, stringify({ all: { hosts } }));
  return file;
}

async function main(): Promise<void> {
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

  const results: SizeResult[] = [];
  for (const n of SIZES) {
    const inventory = await subsetInventory(n);
    const samples: Sample[] = [];
    for (let i = 1; i <= REPEAT; i++) {
      const busyBefore = await settle();
      const hostsCpuBefore = labHostsCpuS(labDir);
      const logFile = join(workDir, `check-${n}-${i}.log`);
      const m = await measure({
        cmd: process.execPath,
        args: [join(repoRoot, 'scripts', 'launch.mjs'), 'provision', '-i', inventory, '--check', '--diff', '-f', String(Math.min(FORKS, n))],
        logFile,
        env: { ...process.env, NO_COLOR: '1' },
        timeoutMs: 1_800_000,
      });
      const sample: Sample = {
        wallMs: m.wallMs,
        loadBefore: m.loadBefore,
        busyBefore,
        code: m.code,
        controllerCpuS: m.cpuS,
        hostsCpuS: labHostsCpuS(labDir) - hostsCpuBefore,
        maxRssMiB: m.maxRssKiB === null ? null : Math.round(m.maxRssKiB / 1024),
      };
      samples.push(sample);
      log(
        `${n} hosts, sample ${i}: ${(m.wallMs / 1000).toFixed(2)} s, exit ${m.code}, CPU per host: controller ${m.cpuS === null ? '?' : Math.round((m.cpuS * 1000) / n)} ms, hosts ${Math.round((sample.hostsCpuS * 1000) / n)} ms; peak RSS ${sample.maxRssMiB} MiB (load before ${m.loadBefore.toFixed(2)}, CPU busy ${Math.round(busyBefore * 100)} %)`,
      );
      // A check that finds changes to make exits 0 (as ansible-playbook --check does); anything
      // else (a host unreachable or failed) makes the sample worthless: stop and say where.
      if (m.code !== 0) throw new Error(`--check over ${n} hosts exited ${m.code}: see ${logFile}`);
    }
    const cpu = samples.every((s) => s.controllerCpuS !== null) ? median(samples.map((s) => s.controllerCpuS!)) : null;
    const rss = samples.every((s) => s.maxRssMiB !== null) ? Math.max(...samples.map((s) => s.maxRssMiB!)) : null;
    const wallMs = median(samples.map((s) => s.wallMs));
    results.push({
      hosts: n,
      samples,
      wallMs,
      msPerHost: wallMs / n,
      controllerCpuMsPerHost: cpu === null ? null : (cpu * 1000) / n,
      hostsCpuMsPerHost: (median(samples.map((s) => s.hostsCpuS)) * 1000) / n,
      peakRssMiB: rss,
      memoryInUseAfterMiB: memoryInUseMiB(),
    });
  }
  if (!args.keep) lab(labDir, ['down']);
  const result: LabScaleResult = {
    date: new Date().toISOString(),
    machine: { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', memGiB: Math.round(totalmem() / 2 ** 30), loadAvgAtStart: loadavg() },
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
    sizes: results,
  };
  mkdirSync(outDir, { recursive: true });
  const base = join(outDir, `${date}-lab-${HOSTS}`);
  writeFileSync(`${base}.json`, `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(`${base}.md`, markdown(result));
  log(`wrote ${base}.json and ${base}.md`);
  process.stdout.write(readFileSync(`${base}.md`, 'utf8'));
}

interface LabScaleResult {
  date: string;
  machine: { cores: number; cpu: string; memGiB: number; loadAvgAtStart: number[] };
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
}

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
    `Machine: ${r.machine.cores} cores (${r.machine.cpu}), ${r.machine.memGiB} GiB, load average at start ${r.machine.loadAvgAtStart.map((v) => v.toFixed(2)).join(' ')}.`,
    '',
    `Lab: ${r.hosts} wiped hosts (${mixText(r.mix)}), brought up in ${s(r.upMs)} s; the machine's memory in use went from ${r.memoryBeforeMiB} to ${r.memoryUpMiB} MiB (${perHostMiB.toFixed(1)} MiB per host, kernel memory included; the lab's ${r.labProcesses} processes ${r.labPssMiB} MiB by PSS). CPU busy with the lab idle: ${r.machineCpuBusyIdleLabPct} %.`,
    '',
    `\`--check --diff\` (OpenSSH, compiled, --forks ${r.forks} or the size if smaller) over hosts spread evenly over the lab, each a host of its own; ${r.repeat} samples each, median shown. Read-only: the hosts stay wiped, so every host has changes to show (the diff of every file and package), and its facts ask zypper what the repositories offer for trento-agent (not installed), which a converged host skips. Each sample starts once the machine is idle (under 10 % CPU over 2 s, waiting at most 2 minutes).`,
    '',
    '| hosts | wall s | ms per host | controller CPU ms per host | hosts CPU ms per host | peak RSS MiB | memory in use after, MiB | samples (machine before: load, CPU busy over 2 s) |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map((row) => `| ${row.join(' | ')} |`),
    '',
    "Controller CPU: the toolkit and every process it started (a cgroup v2 of its own: ssh clients and masters included). Hosts CPU: every process of the lab's hosts during the run (from /proc, their trees before and after). Peak RSS: ru_maxrss of the toolkit process. Memory in use: MemTotal - MemAvailable after the size's last sample (the hosts' lab systemd managers, started by the facts' `systemctl show`, stay for 10 minutes idle).",
    '',
    'Not measured here: cold and warm runs at this size (a provisioned lab host takes ~36 MiB with a run, so this machine holds ~500 of them); see bench/controller-scale.ts for the controller over 1,000 names.',
    '',
  ].join('\n');
}

await main();
