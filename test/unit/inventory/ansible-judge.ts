// Runs the real ansible-core (Debian's ansible-core package) as the judge of the compatibility
// tests: ansible-inventory --list, and host patterns evaluated by ansible-playbook itself (one
// play per pattern reporting ansible_play_hosts_all, so one process answers a whole table).

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ANSIBLE_CORE } from '../../support/requires.ts';

export { ANSIBLE_CORE };
export const hasAnsible = ANSIBLE_CORE.available;

const scratch = mkdtempSync(join(tmpdir(), 'inventory-judge-'));
const emptyConfig = join(scratch, 'ansible.cfg');
writeFileSync(emptyConfig, '');

/** Call from afterAll: removes the empty ansible.cfg and the generated playbooks. */
export function removeScratch(): void {
  rmSync(scratch, { recursive: true, force: true });
}

/** Quiet, fast, and independent of any ansible.cfg around. */
export const ANSIBLE_ENV: NodeJS.ProcessEnv = {
  ...process.env,
  ANSIBLE_CONFIG: emptyConfig,
  ANSIBLE_NOCOLOR: '1',
  ANSIBLE_FORCE_COLOR: '0',
  ANSIBLE_DEPRECATION_WARNINGS: 'False',
  ANSIBLE_SYSTEM_WARNINGS: 'False',
  ANSIBLE_LOCALHOST_WARNING: 'False',
  ANSIBLE_HOST_PATTERN_MISMATCH: 'ignore',
  ANSIBLE_RETRY_FILES_ENABLED: 'False',
  ANSIBLE_GATHERING: 'explicit',
  // A source Ansible cannot parse must fail the judge too, never compare two empty inventories.
  ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED: 'True',
  ANSIBLE_INVENTORY_UNPARSED_WARNING: 'False',
  ANSIBLE_PYTHON_INTERPRETER: '/usr/bin/python3',
  // ansible-core has no `json` stdout callback (community.general does): bring our own.
  ANSIBLE_CALLBACK_PLUGINS: join(dirname(fileURLToPath(import.meta.url)), 'ansible-callback'),
  ANSIBLE_STDOUT_CALLBACK: 'play_hosts_json',
  ANSIBLE_LOAD_CALLBACK_PLUGINS: 'True',
};

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs commands a few at a time: ansible starts in ~1 s and the machine has 2 cores. */
function makeRunner(concurrency: number): (cmd: string, args: string[], cwd: string) => Promise<RunResult> {
  let running = 0;
  const queue: (() => void)[] = [];
  return async (cmd, args, cwd) => {
    while (running >= concurrency) await new Promise<void>((r) => queue.push(r));
    running++;
    try {
      return await new Promise((resolve) => {
        execFile(cmd, args, { cwd, env: ANSIBLE_ENV, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
          resolve({ code, stdout, stderr });
        });
      });
    } finally {
      running--;
      queue.shift()?.();
    }
  };
}

export const run = makeRunner(Math.max(2, cpus().length + 1));

export interface InventoryArgs {
  sources: string[];
  playbookDir?: string;
  vaultPasswordFile?: string;
}

function inventoryFlags(a: InventoryArgs): string[] {
  const flags = a.sources.flatMap((s) => ['-i', s]);
  if (a.vaultPasswordFile) flags.push('--vault-password-file', a.vaultPasswordFile);
  return flags;
}

export async function ansibleInventoryList(a: InventoryArgs, cwd: string): Promise<RunResult> {
  const flags = inventoryFlags(a);
  if (a.playbookDir) flags.push('--playbook-dir', a.playbookDir);
  return run('ansible-inventory', [...flags, '--list'], cwd);
}

export async function ansibleInventoryGraph(a: InventoryArgs, cwd: string): Promise<RunResult> {
  return run('ansible-inventory', [...inventoryFlags(a), '--graph'], cwd);
}

/** `ansible -i ... PATTERN --list-hosts [-l LIMIT]` -> host names, or the error. */
export async function ansibleListHosts(a: InventoryArgs, pattern: string, cwd: string, limit?: string): Promise<{ hosts: string[] } | { error: string }> {
  const args = [...inventoryFlags(a), pattern, '--list-hosts'];
  if (limit !== undefined) args.push('--limit', limit);
  const r = await run('ansible', args, cwd);
  if (r.code !== 0) return { error: r.stderr || r.stdout };
  const lines = r.stdout.split('\n');
  const start = lines.findIndex((l) => /^\s+hosts \(\d+\):$/.test(l));
  return {
    hosts:
      start === -1
        ? []
        : lines
            .slice(start + 1)
            .map((l) => l.trim())
            .filter(Boolean),
  };
}

/**
 * Evaluates many patterns in one ansible-playbook run: play N has `hosts: PATTERN` and a
 * run_once debug of ansible_play_hosts_all (debug needs no connection). With a limit, the
 * limit applies to every play, like `ansible-playbook --limit`.
 */
export async function ansiblePlayHosts(a: InventoryArgs, patterns: string[], cwd: string, limit?: string): Promise<Map<string, string[]>> {
  const dir = mkdtempSync(join(scratch, 'play-'));
  const playbook = join(dir, 'patterns.yml');
  const plays = patterns.map((p, i) => ({
    name: `pattern-${i}`,
    hosts: p,
    gather_facts: false,
    tasks: [{ debug: { var: 'ansible_play_hosts_all' }, run_once: true }],
  }));
  writeFileSync(playbook, JSON.stringify(plays));
  const args = [...inventoryFlags(a), playbook];
  if (limit !== undefined) args.push('--limit', limit);
  const r = await run('ansible-playbook', args, cwd);
  let report: { plays: { play: { name: string }; tasks: { hosts: Record<string, { ansible_play_hosts_all?: string[] }> }[] }[] };
  try {
    report = JSON.parse(r.stdout.slice(r.stdout.indexOf('{')));
  } catch {
    throw new Error(`ansible-playbook failed (${r.code}): ${r.stderr}${r.stdout}`);
  }
  // Every play is in the report, those that matched no host too: one missing means the run
  // stopped part way, and its pattern would read as "no hosts" by accident.
  const played = new Set(report.plays.map((p) => p.play.name));
  const missing = patterns.filter((_, i) => !played.has(`pattern-${i}`));
  if (missing.length) throw new Error(`ansible-playbook (exit ${r.code}) reported no play for ${missing.join(', ')}: ${r.stderr}`);
  const result = new Map<string, string[]>(patterns.map((p) => [p, []]));
  for (const play of report.plays) {
    const index = Number(play.play.name.replace('pattern-', ''));
    const first = play.tasks[0] ? Object.values(play.tasks[0].hosts)[0] : undefined;
    result.set(patterns[index]!, first?.ansible_play_hosts_all ?? []);
  }
  return result;
}

// A JSON string, or a number token as json.dumps writes it (NaN and Infinity included).
const JSON_TOKEN = /"(?:[^"\\]|\\.)*"|-?Infinity|NaN|-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?/g;

/**
 * JSON parsed with every number kept as the text it was printed as ({ $number: "1000.0" }),
 * so listings compare exactly (12345678901234567890 is not 12345678901234567000, 1.0 is not 1)
 * while key order, which JSON does not define, still does not matter.
 */
export function exactJson(text: string): unknown {
  return JSON.parse(text.replace(JSON_TOKEN, (token) => (token.startsWith('"') ? token : JSON.stringify({ $number: token }))));
}
