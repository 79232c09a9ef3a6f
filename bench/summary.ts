#!/usr/bin/env tsx
// tsx bench/summary.ts [--rerender]: one table over the latest result of each size in
// bench/results/ (for bench/README.md and the README's performance section): the newest by the
// time each result records, a day's second run (<date>-<N>-runK) included; not the -sshextra
// ones (another key exchange, not comparable).
// --rerender also rewrites each <date>-<N>[-rttMS][-runK].md from its .json with the current bench/report.ts.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './lib.ts';
import { defaultTransport, markdownReport, pairedFloorRatio, TRANSPORT_LABEL, type BenchResult, type ToolRun } from './report.ts';

const dir = join(repoRoot, 'bench', 'results');
// One column per size and added round trip (bench --rtt): 50, 50 @ 30 ms, 100, ...
const columnOf = (r: BenchResult) => (r.rttMs ? `${r.hosts} @ ${r.rttMs} ms` : String(r.hosts));
const latest = new Map<string, { file: string; r: BenchResult }>();
const all = readdirSync(dir)
  .filter((f) => /^\d{4}-\d\d-\d\d-\d+(?:-rtt\d+)?(?:-run\d+)?\.json$/.test(f))
  .map((file) => ({ file, r: JSON.parse(readFileSync(join(dir, file), 'utf8')) as BenchResult }))
  .sort((a, b) => Date.parse(a.r.date) - Date.parse(b.r.date));
for (const { file, r } of all) {
  latest.set(columnOf(r), { file, r });
  if (process.argv.includes('--rerender')) writeFileSync(join(dir, file.replace(/\.json$/, '.md')), markdownReport(r));
}
// The latest --inventory-only result, if any, is measured with no lab running: shown first.
const inventoryOnly = readdirSync(dir)
  .filter((f) => /^\d{4}-\d\d-\d\d-inventory\.json$/.test(f))
  .sort()
  .pop();
if (inventoryOnly && process.argv.includes('--rerender')) {
  const r = JSON.parse(readFileSync(join(dir, inventoryOnly), 'utf8')) as BenchResult;
  writeFileSync(join(dir, inventoryOnly.replace(/\.json$/, '.md')), markdownReport(r));
}
const sizes = [...latest.keys()].sort((a, b) => {
  const [x, y] = [latest.get(a)!.r, latest.get(b)!.r];
  return x.hosts - y.hosts || (x.rttMs ?? 0) - (y.rttMs ?? 0);
});
const results = sizes.map((n) => latest.get(n)!.r);

const sec = (ms?: number | null) => (ms === undefined || ms === null ? '–' : (ms / 1000).toFixed(1));
const per = (run?: ToolRun, n?: number) => (run && n ? `${(run.wallMs / n).toFixed(0)}` : '–');
const ratio = (a?: number, b?: number) => (a === undefined || b === undefined ? '–' : `${(a / b).toFixed(1)}x`);

/** CPU ms per host of the cold and warm runs: 'cold / warm' ('–' where not measured). */
const cpu = (side: { cold?: ToolRun; warm?: ToolRun }, which: 'controllerS' | 'hostsS', n: number) =>
  [side.cold, side.warm]
    .map((run) => (run?.cpu?.[which] === undefined || run.cpu[which] === null ? '–' : ((run.cpu[which]! / n) * 1000).toFixed(0)))
    .join(' / ');

const rows: Array<[string, (r: BenchResult) => string]> = [
  ["added round trip on the hosts' links (ms)", (r) => String(r.rttMs ?? 0)],
  ['floor: N parallel `ssh HOST true` (s)', (r) => sec(r.floor?.ms)],
  ['floor with curve25519-sha256 kex, like the in-process client (s)', (r) => sec(r.floorCurve25519?.ms)],
  // Results before OpenSSH became the default measured the in-process client (today's paramiko).
  ['toolkit transport (default)', (r) => TRANSPORT_LABEL[defaultTransport(r)]],
  ['toolkit connect + `true` only (s)', (r) => sec(r.connectProbe?.ms)],
  ['toolkit cold (s)', (r) => sec(r.toolkit.cold?.wallMs)],
  ['toolkit warm (s)', (r) => sec(r.toolkit.warm?.wallMs)],
  ['toolkit `--check --diff` (s)', (r) => sec(r.toolkit.check?.wallMs)],
  ['toolkit warm, ms per host', (r) => per(r.toolkit.warm, r.hosts)],
  ['toolkit warm / floor', (r) => ratio(r.toolkit.warm?.wallMs, r.floor?.ms)],
  [
    'toolkit warm / floor just before it (median of the samples; older results: –)',
    (r) => {
      const v = pairedFloorRatio(r.toolkit.warmSamples);
      return v === undefined ? '–' : `${v.toFixed(1)}x`;
    },
  ],
  ['toolkit warm / floor with the same kex', (r) => ratio(r.toolkit.warm?.wallMs, r.floorCurve25519?.ms)],
  ['toolkit `--check --diff` / warm', (r) => ratio(r.toolkit.check?.wallMs, r.toolkit.warm?.wallMs)],
  [
    'toolkit with -c paramiko: connect only / cold / warm (s)',
    (r) =>
      r.paramiko && !r.paramiko.skipped ? `${sec(r.paramiko.connectProbe?.ms)} / ${sec(r.paramiko.cold?.wallMs)} / ${sec(r.paramiko.warm?.wallMs)}` : '–',
  ],
  [
    'OpenSSH / paramiko, cold / warm',
    (r) =>
      r.paramiko && !r.paramiko.skipped
        ? `${ratio(r.toolkit.cold?.wallMs, r.paramiko.cold?.wallMs)} / ${ratio(r.toolkit.warm?.wallMs, r.paramiko.warm?.wallMs)}`
        : '–',
  ],
  [
    'SSH round trips per host (cold / warm / check)',
    (r) => `${r.toolkit.cold?.roundTrips?.max ?? '–'} / ${r.toolkit.warm?.roundTrips?.max ?? '–'} / ${r.toolkit.check?.roundTrips?.max ?? '–'}`,
  ],
  ['toolkit CPU ms per host, controller (cold / warm)', (r) => cpu(r.toolkit, 'controllerS', r.hosts)],
  ['toolkit CPU ms per host, hosts (cold / warm)', (r) => cpu(r.toolkit, 'hostsS', r.hosts)],
  ['ansible-playbook CPU ms per host, controller (cold / warm)', (r) => cpu(r.ansible, 'controllerS', r.hosts)],
  ['ansible-playbook CPU ms per host, hosts (cold / warm)', (r) => cpu(r.ansible, 'hostsS', r.hosts)],
  [
    'Mitogen CPU ms per host, controller / hosts (warm)',
    (r) => `${cpu({ warm: r.mitogen.warm }, 'controllerS', r.hosts).split(' / ')[1]} / ${cpu({ warm: r.mitogen.warm }, 'hostsS', r.hosts).split(' / ')[1]}`,
  ],
  ['toolkit peak RSS (MiB)', (r) => `${Math.max(r.toolkit.cold?.maxRssMiB ?? 0, r.toolkit.warm?.maxRssMiB ?? 0, r.toolkit.check?.maxRssMiB ?? 0) || '–'}`],
  ['ansible-playbook cold (s)', (r) => sec(r.ansible.cold?.wallMs)],
  ['ansible-playbook warm (s)', (r) => sec(r.ansible.warm?.wallMs)],
  ['ansible / toolkit, cold', (r) => ratio(r.ansible.cold?.wallMs, r.toolkit.cold?.wallMs)],
  ['ansible / toolkit, warm', (r) => ratio(r.ansible.warm?.wallMs, r.toolkit.warm?.wallMs)],
  ['Ansible + Mitogen cold (s)', (r) => sec(r.mitogen.cold?.wallMs)],
  ['Ansible + Mitogen warm (s)', (r) => sec(r.mitogen.warm?.wallMs)],
  ['Mitogen / toolkit, cold', (r) => ratio(r.mitogen.cold?.wallMs, r.toolkit.cold?.wallMs)],
  ['Mitogen / toolkit, warm', (r) => ratio(r.mitogen.warm?.wallMs, r.toolkit.warm?.wallMs)],
  ['ansible-playbook sum of process RSS, peak (MiB)', (r) => `${Math.max(r.ansible.cold?.treeRssPeakMiB ?? 0, r.ansible.warm?.treeRssPeakMiB ?? 0) || '–'}`],
  ['toolkit warm: connect + facts / apply + verify (s)', (r) => `${sec(r.toolkit.warm?.phases?.facts)} / ${sec(r.toolkit.warm?.phases?.apply)}`],
  ['facts script on one idle host: CPU (s)', (r) => (r.hostCost?.length ? r.hostCost.map((c) => sec(c.factsCpuMs)).join(' / ') : '–')],
];

const head = ['hosts', ...sizes.map(String)];
const lines = [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`];
for (const [label, f] of rows) lines.push(`| ${label} | ${results.map(f).join(' | ')} |`);
const inv = [
  ...(inventoryOnly ? [(JSON.parse(readFileSync(join(dir, inventoryOnly), 'utf8')) as BenchResult).inventory] : []),
  ...results.map((r) => r.inventory),
].filter((x) => x !== undefined);
process.stdout.write(`${lines.join('\n')}\n`);
if (inv.length) {
  process.stdout.write(`\n| ${inv[0]!.hosts}-host inventory | toolkit loadInventory (s) | ansible-inventory --list (s) |\n| --- | --- | --- |\n`);
  for (const format of ['ini', 'yaml']) {
    const fs = inv.flatMap((i) => i.formats.filter((f) => f.format === format));
    const loads = fs.map((f) => sec(f.loadMs)).join(' / ');
    const ans = fs.map((f) => (f.ansibleInventoryMs !== null ? sec(f.ansibleInventoryMs) : 'n/a')).join(' / ');
    process.stdout.write(`| ${format} | ${loads} | ${ans} |\n`);
  }
}
process.stdout.write(`\nMachine: ${results[0]?.machine.cores ?? '?'} cores; files: ${sizes.map((n) => latest.get(n)!.file).join(', ')}\n`);
