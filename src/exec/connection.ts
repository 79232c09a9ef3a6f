// How to reach one host, from its Ansible connection variables. One place reads
// ansible_host/_port/_user/_ssh_private_key_file/_ssh_common_args/_become*, so the SSH layer
// never looks at inventory variables itself.
import { homedir } from 'node:os';
import { resolve } from 'node:path';

export interface Become {
  user: string;
  password?: string; // never shown; sent on sudo's stdin, never on a command line
}

export interface ConnectionSpec {
  host: string; // inventory name, used in every message
  address: string;
  port: number;
  user: string;
  privateKeyPath?: string;
  knownHostsFiles: string[];
  strictHostKeyChecking: boolean;
  become?: Become;
  timeoutMs: number;
  local: boolean; // ansible_connection=local: run on this machine, no SSH
}

export interface ConnectionDefaults {
  timeoutMs: number;
  hostKeyChecking: boolean; // false only when the user opted out, as with Ansible's host_key_checking=False
  user?: string;
  privateKeyPath?: string;
}

const TRUE_WORDS = new Set(['true', 'yes', 'on', '1', 'y', 't']);

export function truthy(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0;
  return typeof value === 'string' && TRUE_WORDS.has(value.trim().toLowerCase());
}

function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? homedir() + path.slice(1) : path;
}

/** Splits an ssh argument string as a POSIX shell would (quotes and backslashes). */
export function splitArgs(text: string): string[] {
  const out: string[] = [];
  let current = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < text.length) current += text[++i];
      else current += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < text.length) {
      current += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) out.push(current);
      current = '';
      inWord = false;
    } else {
      current += c;
      inWord = true;
    }
  }
  if (inWord) out.push(current);
  return out;
}

/** `-o Key=Value` options from ssh argument strings, keys lower-cased as ssh treats them. */
export function sshOptions(argStrings: string[]): Map<string, string> {
  const options = new Map<string, string>();
  for (const text of argStrings) {
    const args = splitArgs(text);
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      let option: string | undefined;
      if (a === '-o') option = args[++i];
      else if (a.startsWith('-o')) option = a.slice(2);
      if (!option) continue;
      const m = /^\s*([A-Za-z]+)\s*(?:=|\s)\s*(.*)$/.exec(option);
      if (m) options.set(m[1]!.toLowerCase(), m[2]!.trim());
    }
  }
  return options;
}

const str = (v: unknown): string | undefined => (v === undefined || v === null ? undefined : String(v));

export function connectionFor(
  host: string,
  vars: Record<string, unknown>,
  defaults: ConnectionDefaults,
): ConnectionSpec {
  const options = sshOptions([str(vars.ansible_ssh_common_args) ?? '', str(vars.ansible_ssh_extra_args) ?? '']);
  const knownHosts = options.get('userknownhostsfile');
  const strictOption = options.get('stricthostkeychecking')?.toLowerCase();
  const hostKeyCheckingVar = vars.ansible_host_key_checking ?? vars.ansible_ssh_host_key_checking;
  const strict =
    strictOption !== undefined
      ? !['no', 'off', 'false'].includes(strictOption)
      : hostKeyCheckingVar !== undefined
        ? truthy(hostKeyCheckingVar)
        : defaults.hostKeyChecking;
  const key = str(vars.ansible_ssh_private_key_file ?? vars.ansible_private_key_file) ?? defaults.privateKeyPath;
  const becomeOn = truthy(vars.ansible_become);
  const becomePassword = str(vars.ansible_become_password ?? vars.ansible_become_pass ?? vars.ansible_sudo_pass);
  const timeout = Number(vars.ansible_timeout ?? vars.ansible_ssh_timeout);
  return {
    host,
    address: str(vars.ansible_host ?? vars.ansible_ssh_host) ?? host,
    port: Number(vars.ansible_port ?? vars.ansible_ssh_port ?? 22),
    user: str(vars.ansible_user ?? vars.ansible_ssh_user) ?? defaults.user ?? process.env.USER ?? 'root',
    privateKeyPath: key ? resolve(expandHome(key)) : undefined,
    knownHostsFiles: knownHosts
      ? splitArgs(knownHosts).map((p) => resolve(expandHome(p)))
      : [resolve(homedir(), '.ssh/known_hosts'), '/etc/ssh/ssh_known_hosts'],
    strictHostKeyChecking: strict,
    become: becomeOn
      ? { user: str(vars.ansible_become_user) ?? 'root', ...(becomePassword ? { password: becomePassword } : {}) }
      : undefined,
    timeoutMs: Number.isFinite(timeout) && timeout > 0 ? timeout * 1000 : defaults.timeoutMs,
    local: str(vars.ansible_connection) === 'local',
  };
}
