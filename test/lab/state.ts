// The lab's own memory (state.json): which network it uses, the Trento API key it generated,
// and each host it ever created with its stable identity (address, machine-id). It survives
// `down`, so a host comes back with the same identity on the next `up`.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { LabPaths } from './paths.ts';

export interface HostRecord {
  name: string;
  product: string;
  /** Stable number inside the lab: address and veth name derive from it. */
  index: number;
  address: string;
  machineId: string;
  sudoUsers: string[];
}

export interface LabState {
  version: 1;
  /** 0 for the repository's lab (tplab0, 10.77.0.0/16); dedicated labs get 1, 2, ... */
  netId: number | null;
  apiKey: string;
  hosts: HostRecord[];
  /** Host names of the last `up` (the lab's current shape). */
  active: string[];
  /**
   * Round-trip delay added on every host's link (`up --rtt MS`), kept until changed
   * (`--rtt 0` removes it). Absent: none.
   */
  rttMs?: number;
}

export function loadState(paths: LabPaths): LabState {
  if (!existsSync(paths.state)) {
    return { version: 1, netId: null, apiKey: randomBytes(24).toString('hex'), hosts: [], active: [] };
  }
  try {
    return JSON.parse(readFileSync(paths.state, 'utf8')) as LabState;
  } catch (e) {
    throw new Error(`${paths.state}: cannot read the lab state (${(e as Error).message}); run \`npm run lab -- down --purge\` to start over`);
  }
}

export function saveState(paths: LabPaths, state: LabState): void {
  writeAtomic(paths.state, `${JSON.stringify(state, null, 2)}\n`);
}

/** Write via a temporary file + rename: readers never see half a file. */
export function writeAtomic(path: string, text: string, mode = 0o644): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode });
  renameSync(tmp, path);
}

export interface LabNet {
  netId: number;
  bridge: string;
  gateway: string; // machine side of the bridge
  prefix: number;
  subnet: string;
}

export function labNet(netId: number): LabNet {
  const second = 77 + netId;
  if (netId < 0 || second > 254) throw new Error(`lab network id ${netId} is out of range (0..177)`);
  return { netId, bridge: `tplab${netId}`, gateway: `10.${second}.0.1`, prefix: 16, subnet: `10.${second}.0.0/16` };
}

/** Host number i (1-based) -> 10.X.hi.lo with lo in 11..210, 200 hosts per /24 block. */
export function hostAddress(net: LabNet, index: number): string {
  const second = 77 + net.netId;
  const hi = Math.floor((index - 1) / 200);
  const lo = 11 + ((index - 1) % 200);
  if (hi > 255) throw new Error(`host number ${index} does not fit in ${net.subnet}`);
  return `10.${second}.${hi}.${lo}`;
}

/** veth name on the machine side (max 15 chars), unique per lab and host. */
export function vethName(net: LabNet, index: number): string {
  return `tp${net.netId}v${index}`;
}

export function newMachineId(): string {
  return randomBytes(16).toString('hex');
}
