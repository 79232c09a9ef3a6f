// The products a lab host can pretend to be, and how a mix (`--hosts N` / `--mix a=1,b=2`)
// turns into host names. Names are deterministic (prefix + per-product ordinal), so a host
// keeps its identity (machine-id, host key, address) from one `up` to the next.

export type Channel = 'sle15' | 'sle15sp7' | 'sle16';
export type BaseProduct = 'SLES' | 'SLES_SAP' | 'Leap' | 'SL-Micro';

export interface Product {
  /** Mix name = fixture file name in test/fixtures/os-release/. */
  mix: string;
  /** Host-name prefix: `sles15sp4` -> `sles15sp4-01`. */
  prefix: string;
  /** Inventory group (Ansible-safe). */
  group: string;
  /** Package channel bound at /srv/repo (null: no lab.repo, zypper has nothing to install). */
  channel: Channel | null;
  /** Target of /etc/products.d/baseproduct (null: none, e.g. Debian). */
  baseProduct: BaseProduct | null;
  /** Product version for the .prod file, e.g. 15.4. */
  version: string;
  /** Major SLES line, used to pick the sudo hosts (first SLES 15 and first SLES 16). */
  sles: 15 | 16 | null;
  /** SL Micro: root mounted read-only, only /etc, /var, ... writable. */
  readOnlyRoot: boolean;
  summary: string;
}

function sles(sp: number, sap = false): Product {
  const mix = sap ? `sles-sap-15-sp${sp}` : `sles-15-sp${sp}`;
  return {
    mix,
    prefix: sap ? `sap15sp${sp}` : `sles15sp${sp}`,
    group: mix.replace(/[-.]/g, '_'),
    channel: sp >= 7 ? 'sle15sp7' : 'sle15',
    baseProduct: sap ? 'SLES_SAP' : 'SLES',
    version: `15.${sp}`,
    sles: 15,
    readOnlyRoot: false,
    summary: `SUSE Linux Enterprise Server ${sap ? 'for SAP Applications ' : ''}15 SP${sp}`,
  };
}

export const PRODUCTS: readonly Product[] = [
  sles(4),
  sles(5),
  sles(6),
  sles(7),
  {
    mix: 'sles-16.0',
    prefix: 'sles16',
    group: 'sles_16_0',
    channel: 'sle16',
    baseProduct: 'SLES',
    version: '16.0',
    sles: 16,
    readOnlyRoot: false,
    summary: 'SUSE Linux Enterprise Server 16.0',
  },
  sles(6, true),
  {
    mix: 'sles-sap-16.0',
    prefix: 'sap16',
    group: 'sles_sap_16_0',
    channel: 'sle16',
    baseProduct: 'SLES_SAP',
    version: '16.0',
    sles: 16,
    readOnlyRoot: false,
    summary: 'SUSE Linux Enterprise Server for SAP applications 16.0',
  },
  {
    mix: 'opensuse-leap-15.6',
    prefix: 'leap156',
    group: 'opensuse_leap_15_6',
    channel: 'sle15',
    baseProduct: 'Leap',
    version: '15.6',
    sles: null,
    readOnlyRoot: false,
    summary: 'openSUSE Leap 15.6',
  },
  {
    mix: 'opensuse-leap-16.0',
    prefix: 'leap16',
    group: 'opensuse_leap_16_0',
    channel: 'sle16',
    baseProduct: 'Leap',
    version: '16.0',
    sles: null,
    readOnlyRoot: false,
    summary: 'openSUSE Leap 16.0',
  },
  {
    mix: 'sl-micro-6.2',
    prefix: 'micro62',
    group: 'sl_micro_6_2',
    channel: 'sle16',
    baseProduct: 'SL-Micro',
    version: '6.2',
    sles: null,
    readOnlyRoot: true,
    summary: 'SUSE Linux Micro 6.2',
  },
  {
    mix: 'sles-12-sp5',
    prefix: 'sles12sp5',
    group: 'sles_12_sp5',
    channel: null,
    baseProduct: 'SLES',
    version: '12.5',
    sles: null,
    readOnlyRoot: false,
    summary: 'SUSE Linux Enterprise Server 12 SP5',
  },
  {
    mix: 'debian-12',
    prefix: 'debian12',
    group: 'debian_12',
    channel: null,
    baseProduct: null,
    version: '12',
    sles: null,
    readOnlyRoot: false,
    summary: 'Debian GNU/Linux 12',
  },
];

/** The default mix (issue 2), in this order; `--hosts N` cycles through it. */
export const DEFAULT_MIX: readonly string[] = [
  'sles-15-sp4',
  'sles-15-sp5',
  'sles-15-sp6',
  'sles-15-sp7',
  'sles-16.0',
  'sles-sap-15-sp6',
  'sles-sap-16.0',
  'opensuse-leap-15.6',
  'sl-micro-6.2',
  'sles-12-sp5',
  'debian-12',
];

export function productByMix(mix: string): Product {
  const p = PRODUCTS.find((x) => x.mix === mix);
  if (!p) {
    throw new Error(`unknown product "${mix}" in the mix; known: ${PRODUCTS.map((x) => x.mix).join(', ')}`);
  }
  return p;
}

/** `--mix sles-16.0=3,sles-15-sp7=2` -> ordered [name, count] pairs. */
export function parseMix(text: string): Array<[string, number]> {
  const out: Array<[string, number]> = [];
  for (const part of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^([a-z0-9.-]+)(?:=(\d+))?$/.exec(part);
    if (!m?.[1]) throw new Error(`--mix: cannot read "${part}" (expected NAME=COUNT, e.g. sles-16.0=2)`);
    productByMix(m[1]);
    out.push([m[1], m[2] === undefined ? 1 : Number(m[2])]);
  }
  if (out.length === 0) throw new Error('--mix: empty (expected NAME=COUNT,...)');
  return out;
}

export interface PlannedHost {
  name: string;
  product: string;
}

function hostName(p: Product, ordinal: number): string {
  return `${p.prefix}-${String(ordinal).padStart(2, '0')}`;
}

/** `--hosts N`: N hosts cycling through the default mix order. */
export function planCount(count: number): PlannedHost[] {
  if (!Number.isInteger(count) || count < 1) throw new Error(`--hosts: expected a positive integer, got ${count}`);
  const seen = new Map<string, number>();
  const out: PlannedHost[] = [];
  for (let i = 0; i < count; i++) {
    const mix = DEFAULT_MIX[i % DEFAULT_MIX.length]!;
    const n = (seen.get(mix) ?? 0) + 1;
    seen.set(mix, n);
    out.push({ name: hostName(productByMix(mix), n), product: mix });
  }
  return out;
}

/** `--mix`: explicit counts, in the order given. */
export function planMix(mix: Array<[string, number]>): PlannedHost[] {
  const out: PlannedHost[] = [];
  const seen = new Map<string, number>();
  for (const [name, count] of mix) {
    const p = productByMix(name);
    for (let i = 0; i < count; i++) {
      const n = (seen.get(name) ?? 0) + 1;
      seen.set(name, n);
      out.push({ name: hostName(p, n), product: name });
    }
  }
  if (out.length === 0) throw new Error('--mix: no host requested (all counts are 0)');
  return out;
}

/** Who gets the sudo users `admin` and `admin-pw`: the first SLES 15 and the first SLES 16 host. */
export function sudoHosts(hosts: PlannedHost[]): Set<string> {
  const out = new Set<string>();
  for (const major of [15, 16] as const) {
    const h = hosts.find((x) => productByMix(x.product).sles === major);
    if (h) out.add(h.name);
  }
  return out;
}

/** The /etc/products.d/<name>.prod file zypper reads for the base product. */
export function prodFile(p: Product): string {
  const [base, patch] = p.version.split('.');
  const name = p.baseProduct ?? 'SLES';
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<product schemeversion="0">',
    `  <vendor>${p.baseProduct === 'Leap' ? 'openSUSE' : 'SUSE'}</vendor>`,
    `  <name>${name}</name>`,
    `  <version>${p.version}</version>`,
    `  <baseversion>${base}</baseversion>`,
    `  <patchlevel>${patch ?? 0}</patchlevel>`,
    '  <release>0</release>',
    '  <arch>x86_64</arch>',
    `  <summary>${p.summary} (lab)</summary>`,
    `  <productline>${name.toLowerCase()}</productline>`,
    '</product>',
    '',
  ].join('\n');
}
