// The command line: ansible-playbook's flag names and meanings where they overlap.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

export interface CliOptions {
  inventories: string[];
  limit?: string;
  check: boolean;
  diff: boolean;
  forks: number;
  extraVars: string[];
  uninstall: boolean;
  purge: boolean;
  verbosity: number;
  json?: string;
  timeoutSeconds: number;
  zyppLockTimeoutSeconds: number;
  user?: string;
  privateKey?: string;
  help: boolean;
}

export class CliError extends Error {}

export const DEFAULT_FORKS = 50;

/** -vvv -> -v -v -v, so node's parser can count them. */
function expandVerbosity(argv: string[]): string[] {
  return argv.flatMap((a) => (/^-v{2,}$/.test(a) ? a.slice(1).split('').map(() => '-v') : [a]));
}

function positiveInt(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new CliError(`${name} needs a whole number above 0, not "${text}"`);
  return n;
}

/** An inventory argument: a path, or the name of a folder under inventories/. */
export function resolveInventory(arg: string, projectDir: string): string {
  if (existsSync(arg) || arg.includes(',')) return resolve(arg);
  const named = resolve(projectDir, 'inventories', arg);
  if (existsSync(named)) return named;
  const dir = resolve(projectDir, 'inventories');
  const names = existsSync(dir) ? readdirSync(dir).filter((n) => statSync(resolve(dir, n)).isDirectory()) : [];
  const hint = arg === 'lab' ? ' Start the lab first: npm run lab -- up.' : '';
  throw new CliError(`inventory "${arg}" is neither a path nor a folder under inventories/ (there: ${names.join(', ') || 'none'}).${hint}`);
}

export function parseCli(argv: string[], env: NodeJS.ProcessEnv, projectDir: string): CliOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: expandVerbosity(argv),
      allowPositionals: false,
      options: {
        inventory: { type: 'string', short: 'i', multiple: true },
        limit: { type: 'string', short: 'l' },
        check: { type: 'boolean', short: 'C' },
        diff: { type: 'boolean', short: 'D' },
        forks: { type: 'string', short: 'f' },
        'extra-vars': { type: 'string', short: 'e', multiple: true },
        uninstall: { type: 'boolean' },
        purge: { type: 'boolean' },
        verbose: { type: 'boolean', short: 'v', multiple: true },
        json: { type: 'string' },
        timeout: { type: 'string', short: 'T' },
        'zypper-lock-timeout': { type: 'string' },
        user: { type: 'string', short: 'u' },
        'private-key': { type: 'string' },
        'key-file': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new CliError((error as Error).message);
  }
  const v = parsed.values;
  if (v.help) return { help: true } as CliOptions;
  const inventoryArgs = v.inventory ?? (env.ANSIBLE_INVENTORY ? env.ANSIBLE_INVENTORY.split(',') : []);
  if (inventoryArgs.length === 0) throw new CliError('no inventory: give --inventory NAME|PATH (-i), e.g. --inventory lab');
  if (v.purge && !v.uninstall) throw new CliError('--purge goes with --uninstall');
  return {
    inventories: inventoryArgs.map((a) => resolveInventory(a, projectDir)),
    ...(v.limit ? { limit: v.limit } : {}),
    check: v.check ?? false,
    diff: v.diff ?? false,
    forks: positiveInt('--forks', v.forks ?? env.ANSIBLE_FORKS, DEFAULT_FORKS),
    extraVars: v['extra-vars'] ?? [],
    uninstall: v.uninstall ?? false,
    purge: v.purge ?? false,
    verbosity: v.verbose?.length ?? 0,
    ...(v.json ? { json: resolve(v.json) } : {}),
    timeoutSeconds: positiveInt('--timeout', v.timeout ?? env.ANSIBLE_TIMEOUT, 10),
    zyppLockTimeoutSeconds: positiveInt('--zypper-lock-timeout', v['zypper-lock-timeout'], 60),
    ...(v.user ?? env.ANSIBLE_REMOTE_USER ? { user: v.user ?? env.ANSIBLE_REMOTE_USER } : {}),
    ...(v['private-key'] ?? v['key-file'] ?? env.ANSIBLE_PRIVATE_KEY_FILE
      ? { privateKey: v['private-key'] ?? v['key-file'] ?? env.ANSIBLE_PRIVATE_KEY_FILE }
      : {}),
    help: false,
  };
}

export const HELP = `Usage: npm run provision -- --inventory NAME|PATH [options]
       npm run uninstall -- --inventory NAME|PATH [options]

Sets up Trento monitoring on SUSE hosts over SSH (Trento RFC 0003, automatic deployment):
  SLES / SLES for SAP / Leap 15.x  node_exporter, agent in pull mode
  SLES / SLES for SAP / Leap 16.x  Grafana Alloy with trento.alloy, agent in push mode
  both                             trento-agent, /etc/trento/agent.yaml, unit drop-in
Other systems (SL Micro, SLES 12, non-SUSE) are refused and left untouched.

Options (ansible-playbook's names and meanings):
  -i, --inventory NAME|PATH  inventory file or folder, or a folder name under inventories/
                             (repeatable; default: $ANSIBLE_INVENTORY)
  -l, --limit PATTERN        only hosts matching an Ansible pattern (groups, hosts, a:b, a:&b,
                             a:!b, wildcards, ~regex, @file)
  -C, --check                dry run: gather facts and print the plan; change nothing
  -D, --diff                 show file diffs (secrets masked), packages, units and services
  -f, --forks N              hosts handled at once (default ${DEFAULT_FORKS}; $ANSIBLE_FORKS)
  -e, --extra-vars VARS      key=value, JSON, YAML or @file; highest precedence (repeatable)
      --uninstall            remove what the toolkit added (Alloy and node_exporter stay)
      --purge                with --uninstall: also remove Alloy/node_exporter and agent.yaml
  -v, --verbose              more output (-vv, -vvv); secrets stay masked at every level
      --json FILE            write a machine-readable report of every host (mode 0600)
  -T, --timeout SECONDS      SSH connection timeout (default 10; $ANSIBLE_TIMEOUT)
      --zypper-lock-timeout S  how long zypper waits for another package manager (default 60)
  -u, --user USER            SSH user when the inventory sets no ansible_user
      --private-key FILE     SSH key when the inventory sets no ansible_ssh_private_key_file
  -h, --help                 this text

SSH checks host keys strictly against known_hosts (or -o UserKnownHostsFile= in
ansible_ssh_common_args); ANSIBLE_HOST_KEY_CHECKING=False opts out, as with Ansible.

Exit codes (Ansible's): 0 all good, 2 a host failed, 4 a host was unreachable,
1 bad usage or settings (nothing was changed anywhere), 99 interrupted.
`;
