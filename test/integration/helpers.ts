// What integration tests share: finding the lab, running commands on its hosts with the real
// OpenSSH client, and running the real CLI (a subprocess, exactly as an admin runs it).
import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { LabInfo } from '../lab/inventory.ts';
import { currentLab } from '../lab/current.ts';
import { repoRoot } from '../lab/paths.ts';
import { shellQuote } from '../../src/exec/command.ts';
import { compiledCli } from '../support/compiled-cli.ts';
import { assertReportMatchesSchema } from '../support/report-schema.ts';
import { expect, onTestFailed, onTestFinished } from 'vitest';

const execFileP = promisify(execFile);

export type LabHost = LabInfo['hosts'][number];

/** Hosts of the lab by what the toolkit should make of them. */
export function hostsBy(info: LabInfo) {
  const isPull = (h: LabHost) => /^(sles-15|sles-sap-15|opensuse-leap-15)/.test(h.product);
  const isPush = (h: LabHost) => /^(sles-16|sles-sap-16|opensuse-leap-16)/.test(h.product);
  return {
    pull: info.hosts.filter(isPull),
    push: info.hosts.filter(isPush),
    refused: info.hosts.filter((h) => !isPull(h) && !isPush(h)),
  };
}

/**
 * A command prefix under which the lab's host names resolve as in a data center with DNS: the
 * command gets its own mount namespace in which /etc/hosts is the machine's plus the lab's
 * names (the file `up` writes into every host). The machine's /etc/hosts is not touched, and
 * two labs with the same host names never see each other's. Needs root (the lab does).
 */
export function withLabNames(info: LabInfo, dir: string): string[] {
  const hosts = join(dir, 'hosts-with-lab-names');
  writeFileSync(hosts, `${readFileSync('/etc/hosts', 'utf8')}\n${readFileSync(join(info.labDir, 'etc-hosts'), 'utf8')}`);
  return ['unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c', 'mount --bind "$0" /etc/hosts && exec "$@"', hosts];
}

/** Runs a command on a lab host as root (OpenSSH, strict host key checking). */
export async function onHost(info: LabInfo, host: string, command: string): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await execFileP('ssh', ['-F', info.sshConfig, '-o', 'BatchMode=yes', host, command], {
      maxBuffer: 64 * 1024 * 1024,
    });
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; code?: number };
    return { stdout: e.stdout ?? '', stderr: e.stderr ?? '', code: typeof e.code === 'number' ? e.code : 255 };
  }
}

/**
 * Starts `command(ready)` on `host` in the background and returns once it is at work: it creates
 * the file `ready` (a fresh name in /tmp, which any account may write) when it is. A login can
 * take longer than a run's first steps on a loaded machine, and a watcher or a race that joins
 * late proves nothing. `what` names it should it not start within 30 s. (The session in an
 * object: an async function returning its promise would wait for it.)
 */
export async function startOnHost(
  info: LabInfo,
  host: string,
  what: string,
  command: (ready: string) => string,
): Promise<{ session: ReturnType<typeof onHost> }> {
  const ready = `/tmp/tp-ready-${randomUUID()}`;
  const session = onHost(info, host, command(ready));
  await mustOnHost(info, host, `for i in $(seq 300); do [ -e ${ready} ] && exit 0; sleep 0.1; done; echo "${what} did not start" >&2; exit 1`);
  return { session };
}

export async function mustOnHost(info: LabInfo, host: string, command: string): Promise<string> {
  const r = await onHost(info, host, command);
  if (r.code !== 0) throw new Error(`${host}: ${command} exited ${r.code}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  report: Report | undefined;
}

export interface Report {
  exitCode: number;
  check: boolean;
  mode: string;
  settingsErrors: { host: string; variable: string; origin: string; message: string }[];
  hosts: {
    host: string;
    status: string;
    product: string | null;
    provider: string | null;
    agentId: string | null;
    changes: { id: string; summary: string; applied: boolean; diff?: string; details?: string[] }[];
    checks: { check: string; ok: boolean; byFacts?: true }[];
    warnings: string[];
    message: string | null;
    roundTrips: number;
  }[];
}

/** The CLI as `npm run provision` starts it: the compiled build of the current sources
 *  (test/support/compiled-cli.ts), node itself with no wrapper between it and a test's signals. */
const cli = () => compiledCli('provision');

/** Of a run's output, the end a failing test prints: where the recap and the errors are. */
const TAIL_CHARS = 6000;

/**
 * Keeps `run` for the test running now and, the first time, has that test print its runs
 * should it fail: most expects on a run (`code`, statuses, changes) carry no message, and a
 * failure on a loaded CI machine must say what the toolkit said. Outside a test (beforeAll),
 * nothing: a failure there shows its own error.
 */
function keepForFailure(args: string[], run: CliRun, runsByTest: Map<string, string[]>): void {
  const test = expect.getState().currentTestName;
  if (test === undefined) return;
  let runs = runsByTest.get(test);
  if (runs === undefined) {
    const mine: string[] = [];
    try {
      onTestFailed(() => {
        console.error(`${mine.length} provision run(s) of this test, the last first:\n${[...mine].reverse().join('\n')}`);
      });
      onTestFinished(() => {
        runsByTest.delete(test);
      });
    } catch {
      return; // not inside a test after all
    }
    runs = mine;
    runsByTest.set(test, runs);
  }
  const tail = (text: string) => (text.length > TAIL_CHARS ? `...${text.slice(-TAIL_CHARS)}` : text);
  runs.push(`--- provision ${args.join(' ')} -> exit ${run.code}\n${tail(run.stdout)}${run.stderr ? `\n[stderr]\n${tail(run.stderr)}` : ''}`);
}

/** The runs of each test in this worker, by test name (keepForFailure). */
const RUNS_BY_TEST = new Map<string, string[]>();

/**
 * Runs `npm run provision -- ARGS` with a JSON report. `wrap`: a command the CLI runs under
 * (e.g. withLabNames()), exec'ing it with the rest of its arguments. Should the test fail, it
 * prints its runs' output (keepForFailure).
 */
export async function provision(args: string[], env: NodeJS.ProcessEnv = {}, wrap: string[] = []): Promise<CliRun> {
  const dir = await mkdtemp(join(tmpdir(), 'tp-report-'));
  const jsonPath = join(dir, 'report.json');
  const argv = [...wrap, ...cli(), ...args, '--json', jsonPath];
  return new Promise((resolvePromise, rejectPromise) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: repoRoot,
      env: { ...process.env, NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', async (code) => {
      let report: Report | undefined;
      try {
        report = JSON.parse(await readFile(jsonPath, 'utf8')) as Report;
      } catch {
        report = undefined;
      }
      await rm(dir, { recursive: true, force: true });
      // Every report the suite produces must match the published schema.
      try {
        if (report !== undefined) assertReportMatchesSchema(report, `of provision ${args.join(' ')}`);
      } catch (error) {
        rejectPromise(error);
        return;
      }
      const run = { code: code ?? -1, stdout, stderr, report };
      keepForFailure(args, run, RUNS_BY_TEST);
      resolvePromise(run);
    });
  });
}

/**
 * A test's own `systemctl restart UNIT` (a set-up or clean-up step) that, as the toolkit's
 * tp_unit_start, waits out systemd's start limit once when that is why systemd refused it
 * (`Result=start-limit-hit`; 5 starts in 10 s on the lab, systemd's defaults): a case's restarts
 * and the toolkit's before them must not fail the step by chance. Any other failure fails at once.
 */
export const restartUnit = (unit: string): string => {
  const u = shellQuote(unit);
  return `{ systemctl restart ${u} || { [ "$(systemctl show -p Result --value ${u})" = start-limit-hit ] && sleep 11 && systemctl restart ${u}; }; }`;
};

/**
 * A test's own restart of Alloy (restartUnit), then Alloy answering /-/ready at `http` (60 s at
 * most, else the step fails): systemctl returns once the process is started (Type=simple), and
 * the lab's Alloy takes seconds to serve on a busy machine, where the test's next step (a query,
 * a run that reloads it over HTTP) would find nothing listening.
 */
export const restartAlloy = (unit = 'alloy.service', http = 'http://127.0.0.1:12345'): string => {
  const ready = `curl -sf ${shellQuote(`${http}/-/ready`)} >/dev/null`;
  return `${restartUnit(unit)} && { for i in $(seq 600); do ${ready} && break; sleep 0.1; done; ${ready} || { echo "Alloy not ready at ${http} 60 s after its restart" >&2; false; }; }`;
};

/** Everything the toolkit could touch on a host, as one comparable text. */
export const SNAPSHOT_COMMAND = [
  'rpm -qa --qf "%{NAME}-%{VERSION}-%{RELEASE}\\n" 2>/dev/null | sort',
  'for d in /etc/trento /etc/alloy /etc/sysconfig /etc/systemd/system /usr/share/trento /var/lib/trento-provision /usr/lib/systemd/system; do [ -d $d ] && find $d -xdev \\( -type f -o -type l \\) -printf "%p %u:%g %m " -exec sh -c "sha256sum < \\"\\$1\\" | cut -c1-16" _ {} \\; ; done 2>/dev/null | sort',
  'getent passwd alloy prometheus || true',
].join('; echo ---; ');

/**
 * Gives the test file clean hosts: the lab's disks wiped and the default mix started again
 * (about 3 s; identities and known_hosts are kept). Skipped with LAB_REUSE=1, for quick loops.
 * The only way a test file gets the lab: a file before it on the same worker may have changed
 * its hosts (migration.test.ts turns SLES 15 hosts into SLES 16 ones).
 */
export async function freshLab(): Promise<LabInfo> {
  if (process.env.LAB_REUSE !== '1') {
    const { labDown, labUp } = await import('../lab/lab.ts');
    const { DEFAULT_MIX } = await import('../lab/products.ts');
    await labDown({ wipe: true });
    await labUp({ hosts: DEFAULT_MIX.length });
  }
  return currentLab();
}

/**
 * Writes an inventory for some lab hosts into a temp folder, in INI (the official playbook's
 * usual format) with group_vars/agents.yml, and returns its path.
 */
export async function iniInventory(
  info: LabInfo,
  hosts: { host: LabHost; vars?: Record<string, string> }[],
  groupVars: Record<string, unknown>,
): Promise<string> {
  const { mkdir, writeFile } = await import('node:fs/promises');
  const { stringify } = await import('yaml');
  const dir = await mkdtemp(join(tmpdir(), 'tp-inv-'));
  const lines = ['[agents]'];
  for (const { host, vars } of hosts) {
    const extra = Object.entries(vars ?? {})
      .map(([k, v]) => ` ${k}=${v}`)
      .join('');
    lines.push(`${host.name} ansible_host=${host.address}${extra}`);
  }
  lines.push('', '[agents:vars]', `ansible_ssh_private_key_file=${info.keyFile}`, `ansible_ssh_common_args='-o UserKnownHostsFile=${info.knownHosts}'`);
  await writeFile(join(dir, 'hosts'), `${lines.join('\n')}\n`);
  await mkdir(join(dir, 'group_vars'));
  await writeFile(join(dir, 'group_vars', 'agents.yml'), stringify(groupVars));
  return dir;
}

/** Temp files and backups the toolkit could leave on a host (there must be none). */
export const LEFTOVERS_COMMAND =
  "find /etc /usr/share/trento /var/lib/trento-provision -xdev -name '.tp-*' 2>/dev/null; find /tmp /var/tmp -maxdepth 1 \\( -name 'tmp.*' -o -name 'tp-scratch.*' \\) -newer /etc/hostname 2>/dev/null; true";

/**
 * Starts the CLI for tests that act while it runs (signals, faults). `exited` is set up at
 * once, so an early exit is never missed; `onOutput` sees stdout as it arrives.
 */
export function spawnProvision(args: string[], onOutput: (soFar: string, child: ReturnType<typeof spawn>) => void = () => undefined) {
  const [node, entry] = cli();
  const child = spawn(node, [entry, ...args], {
    cwd: repoRoot,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
    onOutput(out, child);
  });
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number>((res) => child.on('close', (code) => res(code ?? -1)));
  return { child, exited, output: () => out };
}
