// Turns the facts script's output into typed facts. Pure: unit-tested without a host.

export interface FileFact {
  path: string;
  exists: boolean;
  owner?: string;
  group?: string;
  mode?: string; // octal digits as stat prints them, e.g. "600"
  type?: string; // "regular file", "directory", ...
  sha256?: string;
  content?: string; // only when asked for (diff) or always needed (sysconfig)
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
  units: Record<string, UnitFact>;
  alloy: { configFile: string; configIsDir: boolean; configDir: string };
  files: Record<string, FileFact>;
}

export class FactsError extends Error {}

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

function parseFile(path: string, value: string, content: string | undefined): FileFact {
  if (value === 'absent') return { path, exists: false };
  // "owner group mode type words... sha256": the type may contain spaces ("regular file").
  const words = value.split(' ');
  const [owner, group, mode] = words;
  const last = words[words.length - 1] ?? '';
  const hasHash = /^[0-9a-f]{64}$/.test(last);
  const type = words.slice(3, hasHash ? -1 : undefined).join(' ');
  return {
    path,
    exists: true,
    owner,
    group,
    mode,
    type,
    ...(hasHash ? { sha256: last } : {}),
    ...(content !== undefined ? { content } : {}),
  };
}

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
  const kv = new Map<string, string>();
  for (const line of output.split('\n')) {
    const tab = line.indexOf('\t');
    if (tab < 0) continue;
    kv.set(line.slice(0, tab), Buffer.from(line.slice(tab + 1), 'base64').toString('utf8'));
  }
  if (kv.get('done') !== 'yes') throw new FactsError('the facts script did not finish (output cut short)');
  const files: Record<string, FileFact> = {};
  const packages: Record<string, string | undefined> = {};
  const units: Record<string, UnitFact> = {};
  for (const [key, value] of kv) {
    if (key.startsWith('file:')) {
      const path = key.slice(5);
      const content = kv.get(`content:${path}`);
      // The script appends "x" so trailing newlines survive $(...); take it off again.
      files[path] = parseFile(path, value, content === undefined ? undefined : content.slice(0, -1));
    } else if (key.startsWith('pkg:')) {
      packages[key.slice(4)] = value || undefined;
    } else if (key === 'units') {
      Object.assign(units, parseUnits(value));
    }
  }
  return {
    osRelease: parseOsRelease(kv.get('os-release') ?? ''),
    baseProduct: kv.get('baseproduct') ?? '',
    machineId: kv.get('machine-id') ?? '',
    hostname: kv.get('hostname') ?? '',
    uid: Number(kv.get('uid') ?? NaN),
    tools: new Set((kv.get('tools') ?? '').split(' ').filter(Boolean)),
    packages,
    ...(kv.get('agent-candidate') ? { agentCandidateVersion: kv.get('agent-candidate') } : {}),
    units,
    alloy: {
      configFile: kv.get('alloy-config-file') ?? '',
      configIsDir: kv.get('alloy-config-is-dir') === 'yes',
      configDir: kv.get('alloy-config-dir') ?? '',
    },
    files,
  };
}
