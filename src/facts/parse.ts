// Turns the facts script's output into typed facts. Pure: unit-tested without a host.
import { PATHS } from './paths.ts';
import { readRecords, RecordsError } from './records.ts';

const STATE_DIR = PATHS.stateDir;

/** A managed path: a regular file (or nothing). Links and other kinds of file never get this far:
 *  parseFacts refuses the host, naming them. */
export interface FileFact {
  path: string;
  exists: boolean;
  owner?: string;
  group?: string;
  mode?: string; // octal digits as stat prints them, e.g. "600"
  sha256?: string;
  content?: string; // only when asked for (diff) or always needed (sysconfig, the toolkit's records)
}

export interface UnitFact {
  active: boolean;
  enabled: string; // enabled | disabled | static | not-found | ...
}

export interface HostFacts {
  osRelease: Record<string, string>;
  baseProduct: string;
  machineId: string;
  hostname: string;
  uid: number;
  tools: Set<string>;
  packages: Record<string, string | undefined>; // name -> version-release when installed
  agentCandidateVersion?: string; // from the repositories when trento-agent is not installed
  /** Installed packages with a newer version in the repositories (asked for agent_package_state: latest). */
  updates?: Record<string, string>;
  units: Record<string, UnitFact>;
  alloy: { configFile: string; configIsDir: boolean; configDir: string };
  files: Record<string, FileFact>;
  /** What the facts script noticed and the admin should know (e.g. zypper's exit 106). */
  warnings: string[];
  /** What the toolkit recorded on the host (PATHS.stateDir). */
  record: {
    /** Packages this toolkit installed (uninstall removes these and no others). */
    packages: string[];
    /** Handlers notified by an earlier run that did not finish them (failed or cut short). */
    pendingHandlers: string[];
  };
}

export class FactsError extends Error {}

/** "NAME VERSION" lines (zypper list-updates' name and available-version columns). */
export function parseUpdates(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const [name, version] = line.trim().split(/\s+/u);
    if (name && version && name !== 'Name') out[name] = version;
  }
  return out;
}

/** Parses os-release (shell-style KEY=value lines, quoted or not, comments ignored). */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) continue;
    let value = m[2]!.trim();
    const q = value[0];
    if ((q === '"' || q === "'") && value.endsWith(q) && value.length >= 2) {
      value = value.slice(1, -1);
      if (q === '"') value = value.replace(/\\([\\"$`])/g, '$1');
    }
    out[m[1]!] = value;
  }
  return out;
}

function parseFile(path: string, value: string, content: string | undefined): FileFact | string {
  if (value === 'absent') return { path, exists: false };
  const [kind, ...rest] = value.split(' ');
  switch (kind) {
    case 'regular': {
      // "regular OWNER GROUP MODE SIZE SHA256"
      const [owner, group, mode, , sha256] = rest;
      return { path, exists: true, owner, group, mode, sha256, ...(content !== undefined ? { content } : {}) };
    }
    case 'symlink':
      return `${path} is a symbolic link to ${rest.join(' ')}; trento-provision neither reads nor writes through links: replace it with a regular file (or remove it) and run again`;
    case 'toobig':
      return `${path} is ${rest[0]} bytes, more than a file trento-provision manages can be; check what wrote it, remove it and run again`;
    case 'other':
      return `${path} is a ${rest.join(' ')}, not a regular file; remove it and run again`;
    default:
      return `${path}: unexpected facts line "${value.slice(0, 100)}"`;
  }
}

/** `rpm -q --qf '%{NAME} %{VERSION}-%{RELEASE}\n' A B`: installed ones as "NAME VERSION", others as
 *  "package NAME is not installed". */
export function parsePackages(text: string): Record<string, string> {
  const installed: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^(\S+) (\S+)$/.exec(line.trim());
    if (m && m[1] !== 'package') installed[m[1]!] = m[2]!;
  }
  return installed;
}

const lines = (text: string | undefined) =>
  (text ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);

/** `systemctl show -p Id,ActiveState,UnitFileState A B C`: one block per unit, blank-line separated
 *  (one call for every unit: each systemctl call costs the host a process start). */
export function parseUnits(text: string): Record<string, UnitFact> {
  const units: Record<string, UnitFact> = {};
  for (const block of text.split(/\n\s*\n/)) {
    const props = new Map(block.split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const));
    const id = props.get('Id');
    if (id) units[id] = { active: props.get('ActiveState') === 'active', enabled: props.get('UnitFileState') || 'not-found' };
  }
  return units;
}

export function parseFacts(output: string): HostFacts {
  let kv: Map<string, string>;
  try {
    kv = new Map(readRecords(output));
  } catch (error) {
    if (error instanceof RecordsError) throw new FactsError(error.message);
    throw error;
  }
  if (kv.get('done') !== 'yes') throw new FactsError('the facts script did not finish (output cut short)');
  const files: Record<string, FileFact> = {};
  const problems: string[] = [];
  const units: Record<string, UnitFact> = {};
  for (const [key, value] of kv) {
    if (key.startsWith('file:')) {
      const path = key.slice(5);
      const fact = parseFile(path, value, kv.get(`content:${path}`));
      if (typeof fact === 'string') problems.push(fact);
      else files[path] = fact;
    } else if (key === 'units') {
      Object.assign(units, parseUnits(value));
    }
  }
  const candidateRc = kv.get('agent-candidate-rc');
  const warnings: string[] = [];
  if (candidateRc === '106')
    warnings.push('zypper: some repositories could not be refreshed and were skipped (exit 106) while reading which trento-agent they offer');
  if (candidateRc !== undefined && !['0', '104', '106'].includes(candidateRc)) {
    const why = (kv.get('agent-candidate-error') ?? '').trim().split('\n').slice(-3).join(' ');
    problems.push(
      `zypper info trento-agent failed (exit ${candidateRc}${candidateRc === '7' ? ': another process holds the package lock' : ''})${why ? `: ${why}` : ''}; ` +
        'without it the plan cannot know which trento-agent the repositories offer; run again when zypper works',
    );
  }
  if (problems.length) throw new FactsError(problems.join('; '));
  const record = (name: string) => lines(files[`${STATE_DIR}/${name}`]?.content);
  return {
    osRelease: parseOsRelease(kv.get('os-release') ?? ''),
    baseProduct: kv.get('baseproduct') ?? '',
    machineId: kv.get('machine-id') ?? '',
    hostname: kv.get('hostname') ?? '',
    uid: Number(kv.get('uid') ?? NaN),
    tools: new Set((kv.get('tools') ?? '').split(' ').filter(Boolean)),
    packages: parsePackages(kv.get('packages') ?? ''),
    ...(kv.get('agent-candidate') ? { agentCandidateVersion: kv.get('agent-candidate') } : {}),
    ...(kv.has('updates') ? { updates: parseUpdates(kv.get('updates') ?? '') } : {}),
    units,
    alloy: {
      configFile: kv.get('alloy-config-file') ?? '',
      configIsDir: kv.get('alloy-config-is-dir') === 'yes',
      configDir: kv.get('alloy-config-dir') ?? '',
    },
    files,
    record: { packages: record('packages'), pendingHandlers: record('pending-handlers') },
    warnings,
  };
}
