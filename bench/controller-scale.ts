// npm run bench:controller [-- --names 10,100,1000] [--lab-hosts 50] [--forks 100] [--repeat 3]
//
// The controller's side of a large fleet, at sizes whose hosts this machine cannot hold: a lab
// host takes ~37 MiB (PSS) provisioned, so 24 GiB holds ~500 of them, not 1,000. Here N
// inventory names are spread round-robin over the bench lab's provisioned hosts (each name is
// one lab host, by ansible_host, with all its variables), and the toolkit runs warm over them:
// N facts round trips, N plans, N recap lines, one ssh client and master per name, exactly as
// for N machines. What it measures is the controller: wall time and CPU per name, peak memory.
// What it cannot measure is N real hosts: each lab host answers N / lab-hosts names, one after
// another, with --forks / lab-hosts at once (kept under sshd's MaxStartups of 10).
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { loadInventory } from '../src/inventory/index.ts';
import { cpuBusy, ensureCompiledToolkit, lab, measure, median, mixFor, mixText, positive, repoRoot } from './lib.ts';

const HELP = `npm run bench:controller -- [options]

Warm toolkit runs (OpenSSH) over N inventory names spread over the bench lab's hosts: the
controller's wall time, CPU per name and peak memory at fleet sizes the lab cannot hold.
  --names N[,N...]   inventory sizes (default 10,100,1000)
  --lab-hosts N      hosts of the bench lab (default 50; brought up and provisioned if needed)
  --forks N          the toolkit's --forks (default 100; at most 10 per lab host at once)
  --repeat R         samples per size (default 3; the median is kept)
  --out DIR          results folder (default bench/results): <date>-controller.json/.md
`;

const args = parseArgs({
  args: process.argv.slice(2),
  options: {
    names: { type: 'string' },
    'lab-hosts': { type: 'string' },
    forks: { type: 'string' },
    repeat: { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
}).values;
if (args.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const SIZES = (args.names ?? '10,100,1000').split(',').map((t) => positive('names', t, 0));
const LAB_HOSTS = positive('lab-hosts', args['lab-hosts'], 50);
const FORKS = positive('forks', args.forks, 100);
const REPEAT = positive('repeat', args.repeat, 3);
if (Math.ceil(FORKS / LAB_HOSTS) > 10) throw new Error(`--forks ${FORKS} over ${LAB_HOSTS} lab hosts: more than sshd's MaxStartups (10) per host at once`);

const labDir = process.env.BENCH_LAB_DIR ?? join(repoRoot, '.lab-bench');
const date = new Date().toISOString().slice(0, 10);
const workDir = join(repoRoot, 'bench', 'results', 'tmp', `${date}-controller`);
const outDir = args.out ?? join(repoRoot, 'bench', 'results');
const log = (s: string) => process.stderr.write(`bench:controller: ${s}\n`);

interface Sample {
  wallMs: number;
  loadBefore: number;
  cpuS: number | null;
  maxRssMiB: number | null;
  code: number | null;
}
interface SizeResult {
  names: number;
  samples: Sample[];
  wallMs: number;
  msPerName: number;
  controllerCpuMsPerName: number | null;
  peakRssMiB: number | null;
}

/** An inventory of `n` names, name i being lab host i mod the lab's size with all its variables. */
async function aliasInventory(n: number): Promise<string> {
  const source = await loadInventory(join(labDir, 'inventory'));
  const hosts = [...source.hosts.entries()];
  const names: Record<string, Record<string, unknown>> = {};
  for (let i = 0; i < n; i++) {
    const [name, entry] = hosts[i % hosts.length]!;
    names[`n${String(i).padStart(4, '0')}-${name}`] = entry.vars;
  }
  const file = join(workDir, `names-${n}.yml`);
  writeFileSync(file, stringify({ all: { hosts: names } }));
  return file;
}

async function main(): Promise<void> {
  ensureCompiledToolkit(log);
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  const mix = mixFor(LAB_HOSTS);
  log(`lab ${labDir}: ${LAB_HOSTS} hosts (${mixText(mix)}), up and provisioned`);
  lab(labDir, ['up', '--mix', mixText(mix)]);
  const provisioned = await measure({
    cmd: process.execPath,
    args: [join(repoRoot, 'scripts', 'launch.mjs'), 'provision', '-i', join(labDir, 'inventory'), '-f', String(LAB_HOSTS)],
    logFile: join(workDir, 'provision.log'),
    env: { ...process.env, NO_COLOR: '1' },
  });
  if (provisioned.code !== 0) throw new Error(`provisioning the lab failed (exit ${provisioned.code}); see ${join(workDir, 'provision.log')}`);
  const busy = Math.round((await cpuBusy()) * 100);
  log(`machine CPU busy with the provisioned lab idle: ${busy} %`);
  const results: SizeResult[] = [];
  for (const n of SIZES) {
    const inventory = await aliasInventory(n);
    const samples: Sample[] = [];
    for (let i = 1; i <= REPEAT; i++) {
      const m = await measure({
        cmd: process.execPath,
        args: [join(repoRoot, 'scripts', 'launch.mjs'), 'provision', '-i', inventory, '-f', String(Math.min(FORKS, n))],
        logFile: join(workDir, `warm-${n}-${i}.log`),
        env: { ...process.env, NO_COLOR: '1' },
        timeoutMs: 1_800_000,
      });
      const sample = {
        wallMs: m.wallMs,
        loadBefore: m.loadBefore,
        cpuS: m.cpuS,
        maxRssMiB: m.maxRssKiB === null ? null : Math.round(m.maxRssKiB / 1024),
        code: m.code,
      };
      samples.push(sample);
      log(
        `${n} names, sample ${i}: ${(m.wallMs / 1000).toFixed(2)} s, exit ${m.code}, controller CPU ${m.cpuS === null ? '?' : `${Math.round((m.cpuS * 1000) / n)} ms`}/name, peak RSS ${sample.maxRssMiB} MiB (load before ${m.loadBefore.toFixed(2)})`,
      );
      if (m.code !== 0) throw new Error(`the warm run over ${n} names exited ${m.code}: see ${join(workDir, `warm-${n}-${i}.log`)}`);
    }
    const wallMs = median(samples.map((s) => s.wallMs));
    const cpu = samples.every((s) => s.cpuS !== null) ? median(samples.map((s) => s.cpuS!)) : null;
    const rss = samples.every((s) => s.maxRssMiB !== null) ? Math.max(...samples.map((s) => s.maxRssMiB!)) : null;
    results.push({ names: n, samples, wallMs, msPerName: wallMs / n, controllerCpuMsPerName: cpu === null ? null : (cpu * 1000) / n, peakRssMiB: rss });
  }
  const result = {
    date: new Date().toISOString(),
    machine: { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', memGiB: Math.round(totalmem() / 2 ** 30), loadAvgAtStart: loadavg() },
    labHosts: LAB_HOSTS,
    forks: FORKS,
    repeat: REPEAT,
    machineCpuBusyIdleLabPct: busy,
    sizes: results,
  };
  mkdirSync(outDir, { recursive: true });
  const base = join(outDir, `${date}-controller`);
  writeFileSync(`${base}.json`, `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(`${base}.md`, markdown(result));
  log(`wrote ${base}.json and ${base}.md`);
  process.stdout.write(readFileSync(`${base}.md`, 'utf8'));
}

function markdown(r: {
  date: string;
  machine: { cores: number; cpu: string; memGiB: number };
  labHosts: number;
  forks: number;
  repeat: number;
  machineCpuBusyIdleLabPct: number;
  sizes: SizeResult[];
}): string {
  const s = (ms: number) => (ms / 1000).toFixed(2);
  const rows = r.sizes.map((z) => [
    String(z.names),
    s(z.wallMs),
    z.msPerName.toFixed(0),
    z.controllerCpuMsPerName === null ? '–' : z.controllerCpuMsPerName.toFixed(0),
    z.peakRssMiB === null ? '–' : String(z.peakRssMiB),
    z.samples.map((x) => `${s(x.wallMs)} (load ${x.loadBefore.toFixed(2)})`).join(' / '),
  ]);
  const table = [
    '| names | warm wall s | ms per name | controller CPU ms per name | peak RSS MiB | samples (load before) |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ];
  return [
    `# Controller at scale: ${r.sizes.map((z) => z.names).join(', ')} inventory names, ${r.date.slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `Machine: ${r.machine.cores} cores (${r.machine.cpu}), ${r.machine.memGiB} GiB; CPU busy with the provisioned lab idle: ${r.machineCpuBusyIdleLabPct} %.`,
    `Warm toolkit runs (OpenSSH, compiled, --forks ${r.forks} or the size if smaller), ${r.repeat} samples each, median shown. The names are spread round-robin over the bench lab's ${r.labHosts} provisioned hosts (bench/controller-scale.ts): the controller does the work of N hosts (N ssh clients and masters, N facts, plans and recap lines); the hosts' side is ${r.labHosts} hosts answering N / ${r.labHosts} times each, so the wall time is this machine's, CPU-bound on its 2 cores shared with the lab, not a fleet's.`,
    '',
    ...table,
    '',
    'Peak RSS: ru_maxrss of the toolkit process. Controller CPU: the toolkit and every process it started (a cgroup v2 of its own: ssh clients and masters included).',
    '',
  ].join('\n');
}

await main();
