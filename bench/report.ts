// The benchmark's results: their shape, the issue's targets, and the tables (terminal and
// Markdown) written to bench/results/<date>-<N>.md.

export interface ToolRun {
  wallMs: number;
  /** The machine's 1-minute load average before the run (older results: absent). */
  loadBefore?: number;
  /** Share of all cores busy (0..1) in the 2 s right before the run: the load average lags a
   *  minute behind, this says whether the machine was really idle (older results: absent). */
  busyBefore?: number;
  /** The default-kex floor (N x `ssh HOST true`) measured right before this run, on the same lab
   *  (toolkit warm and --check samples with OpenSSH; older results: absent). */
  floorBeforeMs?: number;
  /** The CPU that floor took (older results: absent): what the report's bound starts from. */
  floorBeforeCpuS?: FloorCpu;
  perHostMs: number;
  code: number | null;
  timedOut: boolean;
  maxRssMiB: number | null; // the process itself (largest single process for Ansible)
  treeRssPeakMiB: number; // sum over the process tree (Ansible: its forks and ssh clients)
  treeProcsPeak: number;
  /**
   * CPU seconds of the run (older results: absent). controllerS: the program and all it
   * started on this machine (ssh clients and masters, Ansible's forks), from its own cgroup
   * (or rusage); hostsS: every process of the lab's hosts during the run (sshd, shells,
   * package tools, services), from /proc. Per host they hold on any machine: a host's CPU
   * is what a real host spends, whatever this machine's cores.
   */
  cpu?: { controllerS: number | null; controllerSource: 'cgroup' | 'rusage' | null; hostsS: number };
  // toolkit only
  roundTrips?: { max: number; mean: number };
  statuses?: Record<string, number>;
  hostsWithChanges?: number;
  phases?: Record<string, number>;
  // ansible only
  recap?: { ok: number; changed: number; failed: number; unreachable: number };
}

/** CPU seconds N x `ssh HOST true` took: the controller's (the ssh clients and their spawning)
 *  and the lab's hosts' (their sshd). */
export interface FloorCpu {
  controllerS: number;
  hostsS: number;
}

/** The toolkit's cold, warm and --check --diff runs with one transport. */
export interface ToolkitSide {
  cold?: ToolRun;
  warm?: ToolRun;
  check?: ToolRun;
  /** Every cold sample (--cold-repeat; older results: absent, the one cold run). */
  coldSamples?: ToolRun[];
  warmSamples?: ToolRun[];
  checkSamples?: ToolRun[];
}

export type Transport = 'ssh' | 'paramiko';
export const TRANSPORT_LABEL: Record<Transport, string> = { ssh: 'OpenSSH', paramiko: 'paramiko, in-process' };

interface AnsibleSide {
  skipped?: string;
  cold?: ToolRun;
  warm?: ToolRun;
  coldSamples?: ToolRun[];
  warmSamples?: ToolRun[];
  /** Hosts for which the toolkit's --check planned changes right after this flavour's cold run (0 = same end state). */
  toolkitChangesAfter?: number | null;
}

export interface BenchResult {
  date: string;
  hosts: number;
  /** Round-trip delay on every host's link (lab up --rtt; older results: absent, 0). */
  rttMs?: number;
  mix: Record<string, number>;
  machine: { cores: number; cpu: string; memGiB: number; freeGiBAtStart: number; loadAvgAtStart: number[] };
  versions: Record<string, string | null>;
  forks: number;
  repeat: number;
  /** Samples of each cold run (older results: absent, 1). */
  coldRepeat?: number;
  /** Samples of each warm Ansible run (older results: absent, 1). */
  ansibleRepeat?: number;
  labUpMs?: number;
  floor?: { samplesMs: number[]; ms: number };
  /** --ssh-extra-args of the toolkit's OpenSSH runs (older results: only in the notes). */
  sshExtraArgs?: string;
  /** The same floor with the key exchange the toolkit's ssh2 negotiates (curve25519-sha256). */
  floorCurve25519?: { samplesMs: number[]; ms: number };
  /** The toolkit's own connect floor with the default transport (`toolkit.transport`). */
  connectProbe?: ConnectProbe;
  /** Share of all cores busy (0..1) over 3 s with no measurement running. */
  /** The machine's CPU busy while the lab idles, over windowMs (older results: 3 s). */
  cpuBusy?: { idleLab: number; provisionedLab?: number; windowMs?: number };
  /** The machine's memory in use (MemTotal - MemAvailable, MiB) at the end of each idle window. */
  memoryInUseMiB?: { wiped?: number; provisioned?: number };
  /** CPU the lab's hosts spend on their own (services, timers) with nothing running: ms per host per second. */
  hostsIdleCpu?: { wiped?: number; provisioned?: number };
  hostCost?: { host: string; factsWallMs: number; factsCpuMs: number; systemctlMs: number }[];
  /**
   * The toolkit with its default transport. `transport` absent: a result from before OpenSSH
   * became the default, measured with the in-process client (today's paramiko).
   */
  toolkit: ToolkitSide & { transport?: Transport };
  /** The same runs with -c paramiko (the in-process client), on a wiped lab, side by side. */
  paramiko?: ToolkitSide & { connectProbe?: ConnectProbe; skipped?: string };
  ansible: AnsibleSide;
  mitogen: AnsibleSide;
  inventory?: {
    hosts: number;
    formats: {
      format: string;
      loadMs: number | null;
      /** CPU time of the load (older results: absent). */
      loadCpuMs?: number | null;
      loadSamplesMs?: number[];
      processMs: number | null;
      error: string | null;
      ansibleInventoryMs: number | null;
      ansibleNote: string | null;
    }[];
  };
  targets?: Target[];
  /** --inventory-only: the load average when the inventory was measured. */
  loadAvgAtInventory?: number[];
  notes: string[];
}

export interface ConnectProbe {
  samples: { connectedMs?: number; totalMs: number; failures: number }[];
  /** Older results only: when the last separate connect step ended. */
  connectedMs?: number;
  ms: number;
}

/** The default transport of a result (older results: the in-process client). */
export const defaultTransport = (r: BenchResult): Transport => r.toolkit.transport ?? 'paramiko';

export interface Target {
  name: string;
  goal: string;
  value: string;
  met: boolean | null; // null: not measured in this run
  /** The issue states the target at these sizes; at other sizes it is shown for information. */
  atSizes: number[] | null;
  /** When not met: by how much (e.g. "32 % over", "8 % short"). */
  gap?: string;
  /** Older results: the one size a target was stated for. */
  atSize?: number | null;
  /** Not met, and no run could meet it on this machine's cores: the bound, and from what. */
  outOfReach?: string;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const gib = (mib: number) => (mib / 1024).toFixed(1);
const sec = (ms: number | undefined | null) => (ms === undefined || ms === null ? '–' : (ms / 1000).toFixed(2));
const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined || b === 0 ? undefined : a / b);
const x = (r: number | undefined) => (r === undefined ? '–' : `${r.toFixed(1)}x`);

/**
 * The median over samples of (sample's wall / the floor measured right before it), or undefined
 * when a sample has no floor of its own (older results). Each ratio compares two measurements a
 * few seconds apart on the same lab, so a machine whose speed drifts during the bench (other
 * guests' steal time, the provisioned lab's services) does not move the ratio.
 */
export function pairedFloorRatio(samples: ToolRun[] | undefined): number | undefined {
  if (!samples?.length || samples.some((w) => w.floorBeforeMs === undefined)) return undefined;
  return median(samples.map(ownFloorRatio));
}

/** A sample's wall time over the floor measured right before it (only for samples that have one). */
const ownFloorRatio = (w: ToolRun) => w.wallMs / w.floorBeforeMs!;

/**
 * The shortest a warm or check sample could have been on this machine: the CPU its hosts spent
 * (their sshd, the facts script, their own background) plus the CPU the ssh clients of the floor
 * right before it took, over the machine's cores. No run uses more CPU than cores x its wall
 * time, so a controller costing at least what N bare `ssh HOST true` cost (every transport
 * opens N sessions) cannot be faster with those hosts. undefined for samples without the figures
 * (older results).
 */
export function cpuBoundMs(w: ToolRun, cores: number): number | undefined {
  if (!w.floorBeforeCpuS || !w.cpu) return undefined;
  return ((w.floorBeforeCpuS.controllerS + w.cpu.hostsS) / cores) * 1000;
}

/** The median over samples of cpuBoundMs, or of that over the sample's own floor (`perFloor`). */
function medianBound(samples: ToolRun[] | undefined, cores: number, perFloor: boolean): number | undefined {
  const bounds = (samples ?? []).map((w) => {
    const ms = cpuBoundMs(w, cores);
    return ms === undefined || w.floorBeforeMs === undefined ? undefined : perFloor ? ms / w.floorBeforeMs : ms;
  });
  return bounds.length && bounds.every((b) => b !== undefined) ? median(bounds as number[]) : undefined;
}

/** Issue 12's targets (item 6, idle machine, same run) and issue 11's (item 6), with how far off. */
export function targetsOf(r: BenchResult): Target[] {
  const t = r.toolkit;
  const out: Target[] = [];
  // The samples each target's figure comes from: one that started on a busy machine voids the
  // verdicts it is behind, not the others'.
  const behind = new Map<Target, ToolRun[]>();
  const from = (...samples: ToolRun[][]) => behind.set(out.at(-1)!, samples.flat());
  const pct = (v: number) => `${Math.round(v * 100)} %`;
  /** `value` must stay at most (max) or reach at least (min) `limit`. */
  const add = (
    name: string,
    goal: string,
    value: number | undefined,
    bound: 'max' | 'min',
    limit: number,
    fmt: (v: number) => string,
    atSizes: number[] | null,
  ) => {
    if (value === undefined) return out.push({ name, goal, value: 'not measured', met: null, atSizes });
    const met = bound === 'max' ? value <= limit : value >= limit;
    const gap = met ? undefined : bound === 'max' ? `${pct(value / limit - 1)} over` : `${pct(1 - value / limit)} short`;
    return out.push({ name, goal, value: fmt(value), met, atSizes, ...(gap ? { gap } : {}) });
  };
  const times = (v: number) => `${v.toFixed(2)}x`;
  // Over every warm sample's hosts, not the median sample's alone.
  const warmTrips = samplesOf(t, 'warm').flatMap((r) => (r.roundTrips ? [r.roundTrips.max] : []));
  add(
    'converged host: SSH round trips',
    '1 per host (issue 12, item 1)',
    warmTrips.length ? Math.max(...warmTrips) : undefined,
    'max',
    1,
    (v) => `${v} (max over hosts and samples)`,
    null,
  );
  from(samplesOf(t, 'warm'));
  const floorTargets: [string, string, number | undefined, number, number[] | null, ToolRun[] | undefined][] = [
    ['warm / floor', '<= 1.5x the default-kex floor (50, 100, 200 hosts)', t.warm?.wallMs, 1.5, [50, 100, 200], t.warmSamples],
    ['--check --diff / floor', '<= 1.2x the floor', t.check?.wallMs, 1.2, null, t.checkSamples],
  ];
  for (const [name, goal, wallMs, limit, atSizes, samples] of floorTargets) {
    // The floor's ssh runs with OpenSSH's defaults: a toolkit run with other ssh options (a
    // cheaper key exchange) is not measured against it.
    if (r.sshExtraArgs) {
      out.push({ name, goal, value: `not comparable: the toolkit ran with --ssh-extra-args '${r.sshExtraArgs}'`, met: null, atSizes });
      continue;
    }
    const paired = pairedFloorRatio(samples);
    const atStart = ratio(wallMs, r.floor?.ms);
    if (paired === undefined) add(name, goal, atStart, 'max', limit, times, atSizes);
    else
      add(
        name,
        goal,
        paired,
        'max',
        limit,
        (v) => `${times(v)} (median of each sample over the floor just before it; ${atStart === undefined ? '–' : times(atStart)} over the floor at the start)`,
        atSizes,
      );
    from(samples ?? []);
    const best = medianBound(samples, r.machine.cores, true);
    if (best !== undefined && best > limit && out.at(-1)!.met === false) out.at(-1)!.outOfReach = `at least ${times(best)} here (${HOSTS_CPU_BOUND})`;
  }
  add('ansible-playbook cold / toolkit cold', '>= 5x', ratio(r.ansible.cold?.wallMs, t.cold?.wallMs), 'min', 5, times, null);
  from(samplesOf(r.ansible, 'cold'), samplesOf(t, 'cold'));
  add('Mitogen cold / toolkit cold', '> 1x (faster than Mitogen)', ratio(r.mitogen.cold?.wallMs, t.cold?.wallMs), 'min', 1, times, null);
  from(samplesOf(r.mitogen, 'cold'), samplesOf(t, 'cold'));
  // The warm run's bound caps these ratios too: the other tool's wall over the fastest warm run
  // this machine allows with the hosts doing what the toolkit's warm samples had them do.
  const warmBest = r.sshExtraArgs ? undefined : medianBound(t.warmSamples, r.machine.cores, false);
  for (const [name, side] of [
    ['ansible-playbook warm / toolkit warm', r.ansible],
    ['Mitogen warm / toolkit warm', r.mitogen],
  ] as const) {
    add(name, '>= 20x', ratio(side.warm?.wallMs, t.warm?.wallMs), 'min', 20, times, null);
    from(samplesOf(side, 'warm'), samplesOf(t, 'warm'));
    const most = ratio(side.warm?.wallMs, warmBest);
    if (most !== undefined && most < 20 && out.at(-1)!.met === false) out.at(-1)!.outOfReach = `at most ${times(most)} here (${HOSTS_CPU_BOUND})`;
  }
  const rss = Math.max(t.cold?.maxRssMiB ?? 0, t.warm?.maxRssMiB ?? 0, t.check?.maxRssMiB ?? 0);
  add('toolkit peak RSS', '<= 300 MiB (1,000 hosts)', rss || undefined, 'max', 300, (v) => `${v} MiB`, [1000]);
  from(samplesOf(t, 'cold'), samplesOf(t, 'warm'), samplesOf(t, 'check'));
  // Issue 11: OpenSSH, the default, no slower than the in-process client (at 50 and 100 hosts).
  const p = r.paramiko;
  if (r.toolkit.transport === 'ssh' && p && !p.skipped) {
    add('OpenSSH cold / paramiko cold', '<= 1x (issue 11; 50 and 100 hosts)', ratio(t.cold?.wallMs, p.cold?.wallMs), 'max', 1, times, [50, 100]);
    from(samplesOf(t, 'cold'), samplesOf(p, 'cold'));
    add('OpenSSH warm / paramiko warm', '<= 1x (issue 11; 50 and 100 hosts)', ratio(t.warm?.wallMs, p.warm?.wallMs), 'max', 1, times, [50, 100]);
    from(samplesOf(t, 'warm'), samplesOf(p, 'warm'));
    // Every OpenSSH run opens N sessions with the admin's OpenSSH, its default key exchange
    // included: the floor right before each warm sample is that alone, nothing run.
    const floors = (t.warmSamples ?? []).flatMap((w) => (w.floorBeforeMs === undefined ? [] : [w.floorBeforeMs]));
    const least = r.sshExtraArgs || !floors.length ? undefined : ratio(median(floors), p.warm?.wallMs);
    if (least !== undefined && least > 1 && out.at(-1)!.met === false)
      out.at(-1)!.outOfReach =
        `at least ${times(least)} here: N bare \`ssh HOST true\` with OpenSSH's default key exchange, run right before each OpenSSH warm sample, take that long over paramiko's whole warm run`;
  }
  for (const f of r.inventory?.formats ?? []) {
    add(
      `${r.inventory!.hosts}-host inventory, ${f.format}`,
      '< 1 s to load (issue 12)',
      f.loadMs ?? undefined,
      'max',
      999.999,
      (v) => `${(v / 1000).toFixed(2)} s${f.loadCpuMs ? `, ${sec(f.loadCpuMs)} s CPU` : ''} (process ${sec(f.processMs)} s)`,
      null,
    );
  }
  // The targets are for an idle machine: where it was not, no verdict (the figures stay).
  return out.map((target) => {
    const busy = notIdle(r, behind.get(target) ?? []);
    return busy && target.met !== null ? { ...target, value: `${target.value} (not judged: ${busy})`, met: null } : target;
  });
}

/** A side's samples of one kind (older results: the one run). */
function samplesOf(side: ToolkitSide | AnsibleSide | undefined, kind: 'cold' | 'warm' | 'check'): ToolRun[] {
  const sampled = kind === 'cold' ? side?.coldSamples : kind === 'warm' ? side?.warmSamples : (side as ToolkitSide | undefined)?.checkSamples;
  const run = kind === 'check' ? (side as ToolkitSide | undefined)?.check : side?.[kind];
  return sampled ?? (run ? [run] : []);
}

const HOSTS_CPU_BOUND =
  "the CPU the lab's hosts spent in the samples plus that of the ssh clients of the floor before each, over the machine's cores: the fastest any controller could go with hosts doing that work";

/** Above this share of the machine's CPU busy before measuring, it was not idle. */
export const IDLE_BUSY_LIMIT = 0.1;

/** Why the machine was not idle for a figure made of `samples`, if it was not: busy before any
 *  lab work (the wiped lab idle), or in the 2 s before one of those samples. */
export function notIdle(r: BenchResult, samples: ToolRun[]): string | undefined {
  const limit = `over ${Math.round(IDLE_BUSY_LIMIT * 100)} %`;
  if (r.cpuBusy && r.cpuBusy.idleLab > IDLE_BUSY_LIMIT)
    return `the machine was ${Math.round(r.cpuBusy.idleLab * 100)} % busy with the wiped lab idle, ${limit}`;
  const worst = Math.max(0, ...samples.map((s) => s.busyBefore ?? 0));
  return worst > IDLE_BUSY_LIMIT ? `a sample started with the machine ${Math.round(worst * 100)} % busy in the 2 s before it, ${limit}` : undefined;
}

function runRows(r: BenchResult): string[][] {
  const t = r.toolkit;
  const rows: string[][] = [];
  const floorMs = r.floor?.ms;
  const row = (name: string, run: ToolRun | undefined, vsToolkit: ToolRun | undefined, note = '') => {
    if (!run) return;
    rows.push([
      name,
      sec(run.wallMs),
      run.perHostMs.toFixed(0),
      x(ratio(run.wallMs, floorMs)),
      vsToolkit ? x(ratio(run.wallMs, vsToolkit.wallMs)) : '',
      run.roundTrips ? `${run.roundTrips.max}` : '',
      perHostCpu(run.cpu?.controllerS, r.hosts),
      perHostCpu(run.cpu?.hostsS, r.hosts),
      run.maxRssMiB === null ? '–' : `${run.maxRssMiB}`,
      `${run.treeRssPeakMiB} (${run.treeProcsPeak} procs)`,
      (run.timedOut ? 'TIMED OUT ' : run.code ? `exit ${run.code} ` : '') + note,
    ]);
  };
  if (r.floor)
    rows.push([
      'floor: N x `ssh HOST true` (OpenSSH)',
      sec(r.floor.ms),
      (r.floor.ms / r.hosts).toFixed(0),
      '1.0x',
      '',
      '1',
      '',
      '',
      '',
      '',
      `samples ${r.floor.samplesMs.map((m) => sec(m)).join(' / ')}`,
    ]);
  if (r.floorCurve25519) {
    const f = r.floorCurve25519;
    rows.push([
      "floor, `-o KexAlgorithms=curve25519-sha256` (the in-process client's kex)",
      sec(f.ms),
      (f.ms / r.hosts).toFixed(0),
      x(ratio(f.ms, floorMs)),
      '',
      '1',
      '',
      '',
      '',
      '',
      `samples ${f.samplesMs.map((m) => sec(m)).join(' / ')}`,
    ]);
  }
  const probeRow = (label: string, probe: ConnectProbe | undefined) => {
    if (probe)
      rows.push([
        `toolkit connect + \`true\` only (${label})`,
        sec(probe.ms),
        (probe.ms / r.hosts).toFixed(0),
        x(ratio(probe.ms, floorMs)),
        '',
        '1',
        '',
        '',
        '',
        '',
        probe.connectedMs !== undefined ? `all connected at ${sec(probe.connectedMs)} s` : '',
      ]);
  };
  // The machine's load before each run (older results have none).
  const loads = (runs: ToolRun[]) =>
    (runs.every((w) => w.loadBefore !== undefined) ? ` (load before: ${runs.map((w) => w.loadBefore!.toFixed(2)).join(' / ')})` : '') +
    (runs.every((w) => w.busyBefore !== undefined)
      ? ` (CPU busy in the 2 s before: ${runs.map((w) => `${Math.round(w.busyBefore! * 100)} %`).join(' / ')})`
      : '') +
    (runs.every((w) => w.floorBeforeMs !== undefined)
      ? ` (floor just before: ${runs.map((w) => sec(w.floorBeforeMs!)).join(' / ')} s, so ${runs.map((w) => `${ownFloorRatio(w).toFixed(2)}x`).join(' / ')})`
      : '');
  const loadNote = (run: ToolRun | undefined) => (run ? loads([run]) : '');
  const samples = (runs?: ToolRun[]) => (runs ? `samples ${runs.map((w) => sec(w.wallMs)).join(' / ')}${loads(runs)}` : '');
  // A run sampled more than once (--cold-repeat, --ansible-repeat) shows every sample; one, its load.
  const sampledNote = (run: ToolRun | undefined, runs?: ToolRun[]) => (runs && runs.length > 1 ? `; ${samples(runs)}` : loadNote(run));
  // Each transport's runs, the default first; "x toolkit" of the other compares it with the default's run of the same kind.
  const sideRows = (label: string, side: ToolkitSide, vs: ToolkitSide | undefined) => {
    row(
      `toolkit cold (${label})`,
      side.cold,
      vs?.cold,
      `${side.cold?.statuses ? JSON.stringify(side.cold.statuses) : ''}${sampledNote(side.cold, side.coldSamples)}`,
    );
    row(`toolkit warm (${label})`, side.warm, vs?.warm, samples(side.warmSamples));
    row(`toolkit --check --diff (${label})`, side.check, vs?.check, samples(side.checkSamples));
  };
  const main = TRANSPORT_LABEL[defaultTransport(r)];
  probeRow(main, r.connectProbe);
  if (r.paramiko && !r.paramiko.skipped) probeRow(TRANSPORT_LABEL.paramiko, r.paramiko.connectProbe);
  sideRows(main, t, undefined);
  if (r.paramiko?.skipped) rows.push([`toolkit (${TRANSPORT_LABEL.paramiko})`, '', '', '', '', '', '', '', '', '', `skipped: ${r.paramiko.skipped}`]);
  else if (r.paramiko) sideRows(TRANSPORT_LABEL.paramiko, r.paramiko, t);
  for (const [label, side] of [
    ['ansible-playbook', r.ansible],
    ['ansible-playbook + Mitogen', r.mitogen],
  ] as const) {
    if (side.skipped) {
      rows.push([label, '', '', '', '', '', '', '', '', '', `skipped: ${side.skipped}`]);
      continue;
    }
    const eq =
      side.toolkitChangesAfter === undefined || side.toolkitChangesAfter === null
        ? ''
        : `toolkit --check after it: ${side.toolkitChangesAfter} host(s) to change`;
    const recap = (run?: ToolRun) => (run?.recap ? `failed=${run.recap.failed} unreachable=${run.recap.unreachable}` : '');
    row(`${label} cold`, side.cold, t.cold, `${recap(side.cold)}; ${eq}${sampledNote(side.cold, side.coldSamples)}`);
    row(`${label} warm`, side.warm, t.warm, `${recap(side.warm)}${sampledNote(side.warm, side.warmSamples)}`);
  }
  return rows;
}

const HEAD = [
  'run',
  'wall s',
  'ms/host',
  'x floor',
  'x toolkit',
  'SSH round trips/host',
  'controller CPU ms/host',
  'hosts CPU ms/host',
  'peak RSS MiB',
  'tree RSS MiB',
  'notes',
];

/** CPU seconds of a run as milliseconds per host ('–' when not measured). */
const perHostCpu = (s: number | null | undefined, hosts: number) => (s === null || s === undefined ? '–' : ((s / hosts) * 1000).toFixed(0));

function mdTable(head: string[], rows: string[][]): string {
  const esc = (c: string) => c.replace(/\|/g, '\\|');
  return [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n');
}

function phaseRows(r: BenchResult): string[][] {
  const order = ['startup', 'settings', 'facts', 'plan', 'apply', 'exit'];
  const sides: Array<[string, ToolkitSide | undefined]> = [
    [TRANSPORT_LABEL[defaultTransport(r)], r.toolkit],
    [TRANSPORT_LABEL.paramiko, r.paramiko],
  ];
  const runs = sides.flatMap(([label, side]) =>
    side
      ? ([
          [`cold (${label})`, side.cold],
          [`warm (${label})`, side.warm],
          [`--check --diff (${label})`, side.check],
        ] as Array<[string, ToolRun | undefined]>)
      : [],
  );
  return runs.filter(([, run]) => run?.phases).map(([name, run]) => [name, ...order.map((p) => sec(run!.phases![p]))]);
}

function cpuSourceText(r: BenchResult): string {
  const runs = [r.toolkit.cold, r.toolkit.warm, r.ansible.cold, r.ansible.warm];
  const source = runs.find((x) => x?.cpu?.controllerSource)?.cpu?.controllerSource;
  return source === 'cgroup'
    ? 'a cgroup v2 of its own: ssh clients, ControlPersist masters and forks included'
    : source === 'rusage'
      ? "GNU time's rusage: the program and the children it waited for; daemonised ssh masters are not counted"
      : 'not measured';
}

/** "yes", "NO (32 % over)", or for a target stated at other sizes "no (stated for ...)". */
function targetVerdict(t: Target, hosts: number): string {
  if (t.met === null) return '–';
  if (t.goal.startsWith('(information')) return t.met ? 'yes' : 'no (information only)';
  const sizes = t.atSizes ?? (t.atSize != null ? [t.atSize] : null);
  const elsewhere = sizes && !sizes.includes(hosts) ? `stated for ${sizes.join(', ')} hosts` : undefined;
  if (t.met) return elsewhere ? `yes at ${hosts} (${elsewhere})` : 'yes';
  const gap = t.gap ? `, ${t.gap}` : '';
  const reach = t.outOfReach ? `; out of reach on this machine: ${t.outOfReach}` : '';
  return elsewhere ? `no (${elsewhere}${gap}${reach})` : `NO${t.gap || reach ? ` (${t.gap ?? ''}${reach})` : ''}`;
}

function versionsLine(r: BenchResult): string {
  return `Versions: ${Object.entries(r.versions)
    .map(([k, v]) => `${k} ${v ?? 'not installed'}`)
    .join('; ')}.`;
}

/** "cold runs once each" / "cold runs 3 times each" (older results recorded no count: once). */
function sampleCount(count: number | undefined, what: string): string {
  return count && count > 1 ? `${what}s ${count} times each` : `${what}s once each`;
}

/** The lab's description, the run table and how to read it. */
function labSections(r: BenchResult, lines: string[]): void {
  lines.push(
    `Machine: ${r.machine.cores} cores (${r.machine.cpu}), ${r.machine.memGiB} GiB, load average at start ${r.machine.loadAvgAtStart.join(' ')}. ` +
      `Forks: ${r.forks} (toolkit and Ansible). Samples: floor and toolkit warm/check ${r.repeat} each, ${sampleCount(r.coldRepeat, 'cold run')}, ${sampleCount(r.ansibleRepeat, 'warm Ansible run')} (median shown).`,
    '',
    ...(r.cpuBusy
      ? [
          `CPU already busy before measuring (${(r.cpuBusy.windowMs ?? 3000) / 1000} s, all cores): ${(r.cpuBusy.idleLab * 100).toFixed(0)} % with the wiped lab idle` +
            (r.cpuBusy.provisionedLab !== undefined
              ? `, ${(r.cpuBusy.provisionedLab * 100).toFixed(0)} % with the provisioned lab idle (its node_exporters, Alloys pushing, agents; plus other users of the machine).`
              : '.'),
          '',
        ]
      : []),
    ...(r.memoryInUseMiB?.wiped !== undefined
      ? [
          `Memory in use on the machine (MemTotal - MemAvailable, kernel included): ${gib(r.memoryInUseMiB.wiped)} GiB with the wiped lab idle` +
            (r.memoryInUseMiB.provisioned !== undefined
              ? `, ${gib(r.memoryInUseMiB.provisioned)} GiB with the provisioned lab idle: ${((r.memoryInUseMiB.provisioned - r.memoryInUseMiB.wiped) / r.hosts).toFixed(1)} MiB per host for what provisioning starts (node_exporter or Alloy, the agent).`
              : '.'),
          '',
        ]
      : []),
    `Lab: ${Object.entries(r.mix)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')}; wiped before each cold run.`,
    '',
    versionsLine(r),
    '',
  );
  lines.push(mdTable(HEAD, runRows(r)), '');
  lines.push(
    `Network: ${r.rttMs ? `${r.rttMs} ms added to every round trip to a host (\`lab up --rtt ${r.rttMs}\`: every packet to the hosts held that long); the floor is measured with it too` : "the lab's links as they are (no added delay; `--rtt MS` adds one)"}.`,
    '',
    'CPU per host (ms, from the run\'s total / hosts): "controller" is the program and all it started on this machine ' +
      `(${cpuSourceText(r)}); "hosts" every process of the lab's hosts during the run (sshd, shells, rpm/zypper, the services; ` +
      "from /proc, utime+stime+cutime+cstime summed over each host's process tree before and after the run). " +
      (r.hostsIdleCpu
        ? `They include what the hosts do on their own meanwhile: ${r.hostsIdleCpu.wiped?.toFixed(1) ?? '–'} ms per host per second with the wiped lab idle, ` +
          `${r.hostsIdleCpu.provisioned?.toFixed(1) ?? '–'} ms provisioned (its services), so a run of W seconds carries about W x that. `
        : '') +
      "Unlike wall times, these hold on any machine: a real host spends its share on its own CPU, and the controller's share is what a fleet of that size costs the admin's machine.",
    '',
  );
  lines.push(
    '"x toolkit": this run\'s wall time divided by the toolkit\'s run of the same kind (cold by cold, warm by warm) with its default transport. ' +
      'Peak RSS: the toolkit process (ru_maxrss); for Ansible the largest single process, and "tree RSS" the sampled peak of the sum over all its processes (forks, ssh), which counts shared pages more than once.',
    '',
  );
}

export function markdownReport(r: BenchResult): string {
  const lines: string[] = [];
  if (r.hosts === 0) {
    // An inventory-only run has no lab: no run table, no lab or network lines.
    lines.push(`# Benchmark: inventory loading only, ${r.date.slice(0, 16).replace('T', ' ')} UTC`, '');
    lines.push(
      `Machine: ${r.machine.cores} cores (${r.machine.cpu}), load average when measured ${(r.loadAvgAtInventory ?? r.machine.loadAvgAtStart).join(' ')}.`,
      '',
      versionsLine(r),
      '',
    );
  } else {
    lines.push(
      `# Benchmark: ${r.hosts} hosts, ${r.rttMs ? `${r.rttMs} ms round trip on every host's link, ` : ''}${r.date.slice(0, 16).replace('T', ' ')} UTC`,
      '',
    );
    labSections(r, lines);
  }
  const phases = phaseRows(r);
  if (phases.length) {
    lines.push("Toolkit, where the time goes (seconds; from the `--json` report's timings; facts includes connecting):", '');
    lines.push(mdTable(['run', 'startup (node, modules, inventory)', 'settings', 'connect + facts', 'plan', 'apply + verify', 'exit'], phases), '');
  }
  if (r.hostCost?.length) {
    const cpu = median(r.hostCost.map((c) => c.factsCpuMs));
    lines.push(
      `Host side (one idle host, alone): the facts script takes ${r.hostCost.map((c) => `${sec(c.factsWallMs)} s wall / ${sec(c.factsCpuMs)} s CPU on ${c.host}`).join(', ')}; ` +
        `one call of the lab's systemctl stand-in (its C client) ${r.hostCost.map((c) => `${(c.systemctlMs).toFixed(0)} ms`).join(' / ')}. ` +
        `The hosts share this machine's ${r.machine.cores} cores with the orchestrator, so ${r.hosts} hosts x ${sec(cpu)} s CPU / ${r.machine.cores} cores = ` +
        `${sec((r.hosts * cpu) / r.machine.cores)} s is a floor for the facts phase here, whatever the client does.`,
      '',
    );
  }
  if (r.inventory) {
    lines.push(
      `Inventory loading, ${r.inventory.hosts} generated hosts (SAP systems of 200 hosts, product and datacenter groups, group_vars, host_vars for 1 % of hosts):`,
      '',
    );
    lines.push(
      mdTable(
        ['format', 'toolkit loadInventory s (median)', 'its CPU s', 'samples s', 'toolkit process s', 'ansible-inventory --list s'],
        r.inventory.formats.map((f) => [
          f.format,
          f.error ? `error: ${f.error}` : sec(f.loadMs),
          sec(f.loadCpuMs),
          (f.loadSamplesMs ?? []).map((m) => sec(m)).join(' / '),
          sec(f.processMs),
          f.ansibleInventoryMs !== null ? sec(f.ansibleInventoryMs) : (f.ansibleNote ?? '–'),
        ]),
      ),
      '',
    );
  }
  if (r.targets) {
    lines.push(r.targets.some((t) => t.atSizes !== undefined) ? 'Targets (issue 12 item 6, issue 11 item 6):' : 'Targets (issue 6):', '');
    lines.push(
      mdTable(
        ['target', 'goal', 'measured', 'met'],
        r.targets.map((t) => [t.name, t.goal, t.value, targetVerdict(t, r.hosts)]),
      ),
      '',
    );
  }
  if (r.notes.length) lines.push('Notes:', '', ...r.notes.map((n) => `- ${n}`), '');
  return lines.join('\n');
}

export function printTable(r: BenchResult): void {
  const rows = [HEAD, ...runRows(r)];
  const widths = HEAD.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length)));
  const out = rows.map((row) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!))).join('  '));
  process.stdout.write(`\n${r.hosts} hosts, ${r.machine.cores} cores, ${r.rttMs ?? 0} ms added round trip\n${out.join('\n')}\n\n`);
  for (const p of phaseRows(r))
    process.stdout.write(`toolkit ${p[0]}: startup ${p[1]} s, settings ${p[2]}, facts ${p[3]}, plan ${p[4]}, apply ${p[5]}, exit ${p[6]}\n`);
  for (const f of r.inventory?.formats ?? []) {
    process.stdout.write(
      `inventory ${r.inventory!.hosts} hosts ${f.format}: toolkit ${f.error ?? `${sec(f.loadMs)} s`} (process ${sec(f.processMs)} s), ansible-inventory --list ${f.ansibleInventoryMs !== null ? `${sec(f.ansibleInventoryMs)} s` : f.ansibleNote}\n`,
    );
  }
  for (const t of r.targets ?? [])
    process.stdout.write(
      `target ${t.name} (${t.goal}): ${t.value} -> ${t.met === null ? 'not measured' : t.met ? 'met' : 'NOT met'}${t.outOfReach ? `, out of reach on this machine: ${t.outOfReach}` : ''}\n`,
    );
}
