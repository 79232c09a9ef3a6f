// How to reach one host, from its Ansible connection variables. One place reads
// ansible_connection/_host/_port/_user/_ssh_*/_password/_become*, so the SSH layer never looks
// at inventory variables itself. Precedence as Ansible's: inventory variable > command line >
// ANSIBLE_* > ansible.cfg > default.
import { homedir, userInfo } from 'node:os';
import { resolve } from 'node:path';
import { ansibleBool } from '../inventory/truthiness.ts';
import { DEFAULT_SUDO_FLAGS, parseSudoFlags } from './sudo-flags.ts';

export interface Become {
  /** The user to become; undefined when set empty (ansible_become_user=''): no -u, sudo's own
   *  default target, as Ansible's sudo does with an empty become_user. */
  user?: string;
  password?: string; // never shown; sent on sudo's stdin, never on a command line
  /** ansible_become_exe / become_exe: the program run as sudo (a wrapper that logs for the audit); default sudo. */
  exe?: string;
  /** ansible_become_flags / become_flags as sudo arguments, one option per word (src/exec/sudo-flags.ts). */
  flags: string[];
  /** become_allow_same_user: sudo runs even where the login user is the user to become. */
  allowSameUser?: boolean;
}

/** A jump host (-o ProxyJump= / -J in ansible_ssh_common_args or _extra_args). */
export interface JumpHost {
  address: string;
  port: number;
  user: string;
}

/** How a host is reached: the system OpenSSH client (default), the in-process client, or no SSH. */
export type Transport = 'ssh' | 'paramiko' | 'local';

/**
 * Ansible's connection plugin names (and their long forms) for the transports the toolkit has;
 * `smart` is Ansible's old default, which means ssh.
 */
const TRANSPORT_NAMES: Record<string, Transport> = {
  ssh: 'ssh',
  smart: 'ssh',
  'ansible.builtin.ssh': 'ssh',
  paramiko: 'paramiko',
  paramiko_ssh: 'paramiko',
  'ansible.builtin.paramiko_ssh': 'paramiko',
  local: 'local',
  'ansible.builtin.local': 'local',
};

export function transportOf(name: string): Transport | undefined {
  return TRANSPORT_NAMES[name.trim().toLowerCase()];
}

/** The prompt sshpass answers for a PKCS#11 token's PIN when no sshpass_prompt is set (Ansible's). */
export const PKCS11_PIN_PROMPT = 'Enter PIN for ';

/** Ansible's default [ssh_connection] ssh_args. */
export const DEFAULT_SSH_ARGS = '-C -o ControlMaster=auto -o ControlPersist=60s';

/** Ansible's variables for the SSH login password, in the order it reads them (the last set wins). */
export const SSH_PASSWORD_VARIABLES = ['ansible_password', 'ansible_ssh_pass', 'ansible_ssh_password'] as const;
/**
 * Ansible's variables for each connection setting, in the ssh plugin's order: the last one set
 * wins (ansible_ssh_host over ansible_host, ansible_ssh_port over ansible_port..., as
 * `ansible -vvv` shows in the ssh command line it runs).
 */
export const CONNECTION_VARIABLES = {
  host: ['ansible_host', 'ansible_ssh_host'],
  port: ['ansible_port', 'ansible_ssh_port'],
  user: ['ansible_user', 'ansible_ssh_user'],
  privateKey: ['ansible_private_key_file', 'ansible_ssh_private_key_file'],
  timeout: ['ansible_timeout', 'ansible_ssh_timeout'],
  hostKeyChecking: ['ansible_host_key_checking', 'ansible_ssh_host_key_checking'],
} as const;

/** The paramiko plugin's own names, last in its lists (so they win there), for the same settings. */
export const PARAMIKO_VARIABLES: Partial<Record<keyof typeof CONNECTION_VARIABLES, readonly string[]>> = {
  host: ['ansible_paramiko_host'],
  port: ['ansible_paramiko_port'],
  user: ['ansible_paramiko_user'],
  privateKey: ['ansible_paramiko_private_key_file'],
  hostKeyChecking: ['ansible_paramiko_host_key_checking'],
};
/** The inventory variables a transport reads for a connection setting, in Ansible's order (the
 *  last set wins): the common names, then paramiko's own where paramiko connects. */
export function settingVariables(name: keyof typeof CONNECTION_VARIABLES, transport: Transport | undefined): readonly string[] {
  return [...CONNECTION_VARIABLES[name], ...(transport === 'paramiko' ? (PARAMIKO_VARIABLES[name] ?? []) : [])];
}

/** The paramiko plugin's names for the login password, after SSH_PASSWORD_VARIABLES. */
export const PARAMIKO_PASSWORD_VARIABLES = ['ansible_paramiko_pass', 'ansible_paramiko_password'] as const;
/** Ansible's variables for the sudo program (become_exe), in the order it reads them. */
export const BECOME_EXE_VARIABLES = ['ansible_become_exe', 'ansible_sudo_exe'] as const;
/** Ansible's variables for the sudo options (become_flags), in the order it reads them. */
export const BECOME_FLAGS_VARIABLES = ['ansible_become_flags', 'ansible_sudo_flags'] as const;
/** Ansible's variables for the become user (sudo plugin), in the order it reads them. */
export const BECOME_USER_VARIABLES = ['ansible_become_user', 'ansible_sudo_user'] as const;
/** Ansible's variables for the sudo password (become), in the order it reads them. */
export const BECOME_PASSWORD_VARIABLES = ['ansible_become_password', 'ansible_become_pass', 'ansible_sudo_pass'] as const;

/**
 * The one of an option's variables that Ansible uses, and its value: it reads them in the
 * plugin's order and the LAST one set wins (config manager's _loop_entries), so with both
 * ansible_become_user and ansible_sudo_user set, ansible_sudo_user is the become user.
 */
export function winningVariable(vars: Record<string, unknown>, names: readonly string[]): { variable: string; value: unknown } | undefined {
  for (let i = names.length - 1; i >= 0; i--) {
    const variable = names[i]!;
    if (vars[variable] !== undefined && vars[variable] !== null) return { variable, value: vars[variable] };
  }
  return undefined;
}

/**
 * What the system ssh gets for one host. Only values someone set: whatever is unset here is
 * left to OpenSSH's own configuration (ssh_config's User, Port, IdentityFile, ProxyJump...).
 */
export interface OpenSshSpec {
  executable: string; // ansible_ssh_executable
  destination: string; // ansible_host, else the inventory name (an ssh_config Host alias)
  sshArgs: string; // ansible_ssh_args / ssh_args
  commonArgs: string; // ansible_ssh_common_args / --ssh-common-args / ssh_common_args
  extraArgs: string; // ansible_ssh_extra_args / --ssh-extra-args / ssh_extra_args
  user?: string;
  port?: number;
  privateKeyPath?: string;
  /** false: host_key_checking turned off (-o StrictHostKeyChecking=no, as Ansible). */
  hostKeyChecking: boolean;
  password?: string; // ansible_password / -k: through sshpass on a pipe, never argv or environment
  /** ansible_sshpass_prompt / sshpass_prompt: the prompt sshpass answers (sshpass -P), when not its own "assword". */
  sshpassPrompt?: string;
  /** ansible_ssh_pkcs11_provider / pkcs11_provider: the PKCS#11 library of a smart card or token
   *  holding the login key; its PIN is the password (sshpass answers "Enter PIN for "). */
  pkcs11Provider?: string;
  /** ansible_control_path / control_path: where a master's socket goes (Ansible's template, with
   *  %(directory)s), used as Ansible uses it: when ssh_args ask for ControlPersist and set no ControlPath. */
  controlPath?: string;
  verbosity: number; // -vvvv gives ssh -vvv
}

export interface ConnectionSpec {
  host: string; // inventory name, used in every message
  transport: Transport;
  openssh: OpenSshSpec;
  address: string;
  port: number;
  user: string;
  privateKeyPath?: string;
  knownHostsFiles: string[];
  strictHostKeyChecking: boolean;
  become?: Become;
  timeoutMs: number;
  local: boolean; // ansible_connection=local: run on this machine, no SSH
  /** Hosts to go through, first to last (ProxyJump's comma-separated list); same key and known_hosts. */
  jump?: JumpHost[];
  /** --remote-timeout: a script still running after this long is stopped on the host (its whole
   *  process tree) and the host fails; 0 for no limit. */
  scriptTimeoutSeconds: number;
  /** ansible_control_path_dir: the folder the run's private control folder for this host is made
   *  in (absolute); else control_path_dir from ansible.cfg / ANSIBLE_SSH_CONTROL_PATH_DIR, else the temp folder. */
  controlPathDir?: string;
  /** paramiko only: ansible_password, offered when the key is refused. */
  password?: string;
  /** paramiko only: false when look_for_keys = False (no ~/.ssh/id_* key is tried). */
  lookForKeys?: boolean;
  /**
   * ssh only (Ansible's ssh plugin: ansible_ssh_retries, [ssh_connection] retries): connecting
   * again this many times more when the host cannot be reached, after 0, 1, 3, 7... s (at most 30).
   */
  retries: number;
}

/** --max-host-output's default (MiB): far above what the facts or an apply print. */
export const DEFAULT_MAX_HOST_OUTPUT_MIB = 64;

/** Generous: a zypper transaction on a slow mirror takes minutes, a hung script forever. */
export const DEFAULT_SCRIPT_TIMEOUT_SECONDS = 1800;

/** The longest a duration in seconds may be where the run waits on a timer: Node's timers fire
 *  at once past 2^31 - 1 ms (~24.8 days), which would fail every host on the spot. */
export const MAX_TIMER_SECONDS = 2_000_000;

/** Both transports' keepalive: a host gone silent (a paused VM, a partition, a firewall that
 *  dropped the connection's state) while its script prints nothing is given up after
 *  intervalSeconds x countMax, not after TCP's two hours or the --remote-timeout timer. */
export const KEEPALIVE = { intervalSeconds: 15, countMax: 4 } as const;

/** A setting from ansible.cfg or an ANSIBLE_* variable, with where it was set (errors name it). */
export interface Configured<T> {
  value: T;
  origin: string;
}

/** The paramiko plugin's own settings from ansible.cfg ([paramiko_connection]) and
 *  ANSIBLE_PARAMIKO_*, read only where paramiko connects. */
export interface ParamikoDefaults {
  /** Its connect timeout ([defaults] timeout, ANSIBLE_TIMEOUT, -T; not [ssh_connection]'s, which
   *  is the ssh plugin's); default: ConnectionDefaults.timeoutMs. */
  timeoutMs?: number;
  /** Its host_key_checking (its own section and variables after [defaults]'s); default: hostKeyChecking. */
  hostKeyChecking?: boolean;
  /** look_for_keys: false, no ~/.ssh/id_* key is tried (ssh-agent's still are). */
  lookForKeys?: boolean;
  /** host_key_auto_add: refused with host key checking on (the client adds no unknown key). */
  hostKeyAutoAdd?: Configured<boolean>;
  /** use_rsa_sha2_algorithms: refused when false (no way to offer only ssh-rsa signatures). */
  useRsaSha2Algorithms?: Configured<boolean>;
  /** banner_timeout: refused unless Ansible's 30 s (the client's handshake has one timeout). */
  bannerTimeout?: Configured<number>;
  /** proxy_command: refused (the client would connect directly, past the proxy). */
  proxyCommand?: Configured<string>;
}

export interface ConnectionDefaults {
  timeoutMs: number;
  /** The ssh plugin's host_key_checking; false only when the user opted out, as with Ansible's host_key_checking=False. */
  hostKeyChecking: boolean;
  paramiko?: ParamikoDefaults;
  user?: string;
  port?: number; // [defaults] remote_port / ANSIBLE_REMOTE_PORT; ansible_port wins
  privateKeyPath?: string;
  privateKeyOrigin?: string; // --private-key, or the ansible.cfg / ANSIBLE_PRIVATE_KEY_FILE setting that gave it
  /** become / become_user / become password from the command line or ansible.cfg; ansible_become* win. */
  become?: boolean;
  becomeUser?: string;
  /** [privilege_escalation] become_allow_same_user / ANSIBLE_BECOME_ALLOW_SAME_USER (default false). */
  becomeAllowSameUser?: boolean;
  becomePassword?: string;
  becomeExe?: string; // [privilege_escalation] become_exe / ANSIBLE_BECOME_EXE
  becomeExeOrigin?: string;
  becomeFlags?: string; // [privilege_escalation] become_flags / ANSIBLE_BECOME_FLAGS
  becomeFlagsOrigin?: string;
  /** become_method from the command line or ansible.cfg (only sudo works), and where it was set. */
  becomeMethod?: string;
  becomeMethodOrigin?: string;
  /** --remote-timeout (seconds, 0: none). */
  scriptTimeoutSeconds?: number;
  /** -c / ANSIBLE_TRANSPORT / [defaults] transport; ansible_connection wins. */
  transport?: string;
  transportOrigin?: string;
  sshExecutable?: string; // ANSIBLE_SSH_EXECUTABLE / [ssh_connection] ssh_executable
  sshArgs?: string; // ANSIBLE_SSH_ARGS / [ssh_connection] ssh_args
  sshCommonArgs?: string; // --ssh-common-args / ANSIBLE_SSH_COMMON_ARGS / ssh_common_args
  sshExtraArgs?: string; // --ssh-extra-args / ANSIBLE_SSH_EXTRA_ARGS / ssh_extra_args
  sshpassPrompt?: string; // ANSIBLE_SSHPASS_PROMPT / [ssh_connection] sshpass_prompt
  pkcs11Provider?: string; // ANSIBLE_PKCS11_PROVIDER / [ssh_connection] pkcs11_provider
  pkcs11ProviderOrigin?: string;
  controlPath?: string; // ANSIBLE_SSH_CONTROL_PATH / [ssh_connection] control_path
  controlPathOrigin?: string;
  retries?: number; // ANSIBLE_SSH_RETRIES / [ssh_connection] retries
  password?: string; // -k / --ask-pass
  verbosity?: number;
}

/** Ansible truthiness for connection switches (src/inventory/truthiness.ts: Ansible's word lists). */
export function truthy(value: unknown): boolean {
  if (typeof value === 'number') return value !== 0;
  return ansibleBool(value) ?? false;
}

function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? homedir() + path.slice(1) : path;
}

/** A key path as ssh gets it: ~ and ~/ expanded, absolute; `~user/...` left to ssh, which expands
 *  another user's home itself (resolved here it would become a folder named ~user in the cwd). */
function keyPath(path: string): string {
  return /^~[^/]/.test(path) ? path : resolve(expandHome(path));
}

/**
 * Ansible's control_path formatted as its ssh plugin formats it (Python's `%` with `directory`):
 * `%(directory)s` is the folder, `%%` a literal % (so `%%C` reaches ssh as its own %C).
 * Undefined when it holds another `%` conversion, which Ansible would fail on.
 */
export function expandControlPath(template: string, directory: string): string | undefined {
  let out = '';
  for (let i = 0; i < template.length; i++) {
    if (template[i] !== '%') {
      out += template[i];
    } else if (template.startsWith('%%', i)) {
      out += '%';
      i++;
    } else if (template.startsWith('%(directory)s', i)) {
      out += directory;
      i += '%(directory)s'.length - 1;
    } else {
      return undefined;
    }
  }
  return out;
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

/** `-J [user@]host[:port],...` from ssh argument strings: the first, as OpenSSH reads it (it
 *  refuses a second -J; -o options also keep their first value). */
export function sshJumpArgs(argStrings: string[]): string | undefined {
  for (const text of argStrings) {
    const args = splitArgs(text);
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if (a === '-J') return args[i + 1];
      if (/^-J./.test(a)) return a.slice(2);
    }
  }
  return undefined;
}

/**
 * ProxyJump's value: `[user@]host[:port]` or `ssh://[user@]host[:port]`, comma-separated; `none`
 * means no jump. Without user@, the local user name (as OpenSSH without an ssh_config entry).
 */
export function parseJumpHosts(value: string, localUser: string): JumpHost[] {
  if (value.trim().toLowerCase() === 'none') return [];
  return value.split(',').map((raw) => {
    const text = raw.trim().replace(/^ssh:\/\//, '');
    const at = text.lastIndexOf('@');
    const user = at >= 0 ? text.slice(0, at) : localUser;
    const hostPort = at >= 0 ? text.slice(at + 1) : text;
    const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(hostPort) ?? /^([^:]+)(?::(\d+))?$/.exec(hostPort);
    if (!m?.[1] || user === '') throw new Error(`ProxyJump "${value}": expected [user@]host[:port]`);
    return { address: m[1], port: m[2] ? Number(m[2]) : 22, user };
  });
}

/**
 * The ProxyCommand of Ansible's FAQ, `ssh -W %h:%p [-q] [-p PORT] [-l USER] [user@]bastion`, is a
 * jump host by another name: read as one. Anything else is not understood (undefined).
 */
export function proxyCommandJump(command: string, localUser: string): JumpHost | undefined {
  const args = splitArgs(command);
  if (!args[0] || !/(^|\/)ssh$/.test(args[0])) return undefined;
  let forward: string | undefined;
  let port: number | undefined;
  let user: string | undefined;
  let host: string | undefined;
  for (let i = 1; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-W') forward = args[++i];
    else if (a === '-p') port = Number(args[++i]);
    else if (a === '-l') user = args[++i];
    else if (/^-[qTnNvCA46]+$/.test(a)) continue;
    // Any other option, the bastion hop's own -i, -o or -F included (the in-process client cannot
    // apply them): not understood, so refused (paramikoRefusals), never dropped.
    else if (a.startsWith('-')) return undefined;
    else if (host === undefined) host = a;
    else return undefined; // a remote command: not a plain forward
  }
  if (forward !== '%h:%p' || !host || (port !== undefined && !Number.isInteger(port))) return undefined;
  const jump = parseJumpHosts(host, user ?? localUser)[0]!;
  return { ...jump, ...(user && !host.includes('@') ? { user } : {}), ...(port ? { port } : {}) };
}

/** `-o Key=Value` options from ssh argument strings, keys lower-cased as ssh treats them; the
 *  first value of each, the one OpenSSH uses. */
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
      if (m && !options.has(m[1]!.toLowerCase())) options.set(m[1]!.toLowerCase(), m[2]!.trim());
    }
  }
  return options;
}

/** ansible_ssh_retries as a count (0 when unset); undefined when it is not a whole number, 0 or more. */
export function retryCount(value: unknown): number | undefined {
  if (value === undefined || value === null) return 0;
  return /^\s*\d+\s*$/.test(String(value)) ? Number(String(value).trim()) : undefined;
}

const str = (v: unknown): string | undefined => (v === undefined || v === null ? undefined : String(v));
const optional = <K extends string, V>(key: K, value: V | undefined) => (value === undefined ? {} : ({ [key]: value } as Record<K, V>));

/**
 * The user a host's scripts log in as, when the toolkit knows it: for OpenSSH the inventory's or
 * -u's (else ssh_config's User decides, unknown here: undefined), the in-process client's own,
 * and this process's user for ansible_connection=local.
 */
export function loginUser(spec: Pick<ConnectionSpec, 'local' | 'transport' | 'openssh' | 'user'>): string | undefined {
  if (spec.local) return userInfo().username;
  return spec.transport === 'ssh' ? spec.openssh.user : spec.user;
}

/** How messages name a login user OpenSSH picks itself: ssh_config's User, else this machine's user. */
export const openSshChosenUser = () => `(ssh_config or ${userInfo().username})`;

/**
 * Do the host's scripts run through sudo: become is on, unless the login user is known to be the
 * user to become already (root logging in as root needs no sudo, which may not even be
 * installed), as Ansible skips it by default (become_allow_same_user = False; True: sudo all the
 * same, for sudo's own logging). A login user ssh_config picks is not known here: sudo runs, as
 * Ansible runs it when it has no remote user to compare.
 */
export function runsSudo(spec: Pick<ConnectionSpec, 'local' | 'transport' | 'openssh' | 'user' | 'become'>): boolean {
  if (!spec.become) return false;
  const login = loginUser(spec);
  return spec.become.allowSameUser === true || login === undefined || spec.become.user === undefined || login !== spec.become.user;
}

/** The connection switches for one host, with the variable (or setting) that chose each. */
export function sshArgStrings(vars: Record<string, unknown>, defaults: ConnectionDefaults) {
  return {
    common: str(vars.ansible_ssh_common_args) ?? defaults.sshCommonArgs ?? '',
    extra: str(vars.ansible_ssh_extra_args) ?? defaults.sshExtraArgs ?? '',
  };
}

/** The transport a host uses, and what chose it; undefined transport = a name we do not have. */
export function transportFor(
  vars: Record<string, unknown>,
  defaults: ConnectionDefaults,
): { name: string; transport?: Transport; origin: 'ansible_connection' | 'default' } {
  const fromVar = str(vars.ansible_connection);
  const name = fromVar ?? defaults.transport ?? 'ssh';
  return { name, transport: transportOf(name), origin: fromVar !== undefined ? 'ansible_connection' : 'default' };
}

/** Does the host become another user: ansible_become, else -b / ansible.cfg's become. */
export function becomes(vars: Record<string, unknown>, defaults: Pick<ConnectionDefaults, 'become'>): boolean {
  return vars.ansible_become !== undefined ? truthy(vars.ansible_become) : (defaults.become ?? false);
}

/**
 * become_flags as written, and the inventory variable that set them: the last of Ansible's names
 * set (set empty means no flags, as in Ansible), else ansible.cfg / ANSIBLE_BECOME_FLAGS, else
 * Ansible's default.
 */
export function becomeFlagsText(vars: Record<string, unknown>, defaults: ConnectionDefaults): { text: string; variable?: string } {
  const given = winningVariable(vars, BECOME_FLAGS_VARIABLES);
  if (given !== undefined) return { text: String(given.value), variable: given.variable };
  return { text: defaults.becomeFlags ?? DEFAULT_SUDO_FLAGS };
}

export function connectionFor(host: string, vars: Record<string, unknown>, defaults: ConnectionDefaults): ConnectionSpec {
  const { common, extra } = sshArgStrings(vars, defaults);
  const transport = transportFor(vars, defaults).transport ?? 'ssh';
  const sshArgs = [common, extra];
  const options = sshOptions(sshArgs);
  // -J is ProxyJump's short form (ssh(1)).
  const jumpSpec = sshJumpArgs(sshArgs) ?? options.get('proxyjump');
  const proxyCommand = options.get('proxycommand');
  const commandJump = !jumpSpec && proxyCommand ? proxyCommandJump(proxyCommand, process.env.USER ?? 'root') : undefined;
  const knownHosts = options.get('userknownhostsfile');
  const strictOption = options.get('stricthostkeychecking')?.toLowerCase();
  // The transport's names for each setting; an empty value is no value, as in Ansible (a later
  // `ansible_ssh_pass=` means no password, not the earlier ansible_password).
  const paramiko = transport === 'paramiko';
  const chosen = (names: readonly string[]) => {
    const value = winningVariable(vars, names)?.value;
    return value === '' ? null : value;
  };
  const setting = (name: keyof typeof CONNECTION_VARIABLES) => chosen(settingVariables(name, transport));
  const hostKeyCheckingVar = setting('hostKeyChecking') ?? undefined;
  const hostKeyChecking =
    hostKeyCheckingVar !== undefined
      ? truthy(hostKeyCheckingVar)
      : paramiko
        ? (defaults.paramiko?.hostKeyChecking ?? defaults.hostKeyChecking)
        : defaults.hostKeyChecking;
  const strict = strictOption !== undefined ? !['no', 'off', 'false'].includes(strictOption) : hostKeyChecking;
  // null: set empty in the inventory, which beats the command line and ansible.cfg and means none.
  const orDefault = <T>(value: unknown, fallback: T): string | T | undefined => (value === null ? undefined : (str(value) ?? fallback));
  const key = orDefault(setting('privateKey'), defaults.privateKeyPath);
  const becomeOn = becomes(vars, defaults);
  const becomePassword = orDefault(chosen(BECOME_PASSWORD_VARIABLES), defaults.becomePassword);
  const becomeExe = orDefault(chosen(BECOME_EXE_VARIABLES), defaults.becomeExe);
  const becomeFlags = parseSudoFlags(becomeFlagsText(vars, defaults).text);
  const timeout = Number(setting('timeout'));
  const explicitPort = setting('port') ?? defaults.port;
  const explicitUser = orDefault(setting('user'), defaults.user);
  const address = str(setting('host')) ?? host;
  const password = orDefault(chosen(paramiko ? [...SSH_PASSWORD_VARIABLES, ...PARAMIKO_PASSWORD_VARIABLES] : SSH_PASSWORD_VARIABLES), defaults.password);
  const pkcs11Provider = orDefault(chosen(['ansible_ssh_pkcs11_provider']), defaults.pkcs11Provider);
  const controlPath = orDefault(chosen(['ansible_control_path']), defaults.controlPath);
  const controlPathDir = str(chosen(['ansible_control_path_dir']) ?? undefined);
  // As Ansible's ssh plugin: a token's PIN prompt is sshpass's unless another prompt is set.
  const sshpassPrompt = orDefault(chosen(['ansible_sshpass_prompt']), defaults.sshpassPrompt) || (pkcs11Provider ? PKCS11_PIN_PROMPT : undefined);
  return {
    host,
    transport,
    openssh: {
      executable: str(vars.ansible_ssh_executable) ?? defaults.sshExecutable ?? 'ssh',
      destination: address,
      sshArgs: str(vars.ansible_ssh_args) ?? defaults.sshArgs ?? DEFAULT_SSH_ARGS,
      commonArgs: common,
      extraArgs: extra,
      ...(explicitUser ? { user: explicitUser } : {}),
      ...(explicitPort !== undefined ? { port: Number(explicitPort) } : {}),
      ...(key ? { privateKeyPath: keyPath(key) } : {}),
      hostKeyChecking,
      ...(password !== undefined ? { password } : {}),
      ...(sshpassPrompt ? { sshpassPrompt } : {}),
      ...(pkcs11Provider ? { pkcs11Provider } : {}),
      ...(controlPath ? { controlPath } : {}),
      verbosity: defaults.verbosity ?? 0,
    },
    address,
    port: Number(explicitPort ?? 22),
    user: explicitUser || process.env.USER || 'root',
    privateKeyPath: key ? keyPath(key) : undefined,
    knownHostsFiles: knownHosts
      ? splitArgs(knownHosts).map((p) => resolve(expandHome(p)))
      : [resolve(homedir(), '.ssh/known_hosts'), '/etc/ssh/ssh_known_hosts'],
    strictHostKeyChecking: strict,
    become: becomeOn
      ? {
          ...optional('user', orDefault(chosen(BECOME_USER_VARIABLES), defaults.becomeUser ?? 'root')),
          ...(becomePassword ? { password: becomePassword } : {}),
          ...(becomeExe && becomeExe !== 'sudo' ? { exe: becomeExe } : {}),
          // Flags that cannot be honoured are a settings error before any host is touched.
          flags: 'words' in becomeFlags ? becomeFlags.words : [],
          ...(defaults.becomeAllowSameUser ? { allowSameUser: true } : {}),
        }
      : undefined,
    timeoutMs: Number.isFinite(timeout) && timeout > 0 ? timeout * 1000 : ((paramiko ? defaults.paramiko?.timeoutMs : undefined) ?? defaults.timeoutMs),
    local: transport === 'local',
    scriptTimeoutSeconds: defaults.scriptTimeoutSeconds ?? DEFAULT_SCRIPT_TIMEOUT_SECONDS,
    // As Ansible's ssh plugin reads it (unfrackpath): ~ expanded, relative to the current folder.
    ...(controlPathDir ? { controlPathDir: resolve(expandHome(controlPathDir)) } : {}),
    ...(transport === 'paramiko' && password !== undefined ? { password } : {}),
    ...(transport === 'paramiko' && defaults.paramiko?.lookForKeys === false ? { lookForKeys: false } : {}),
    // Not a count: connectionSettingsErrors reports it before any host is contacted.
    retries: transport === 'ssh' ? (retryCount(vars.ansible_ssh_retries ?? defaults.retries) ?? 0) : 0,
    // Only the in-process client reads jump hosts itself; OpenSSH does its own.
    ...(transport !== 'paramiko' ? {} : jumpSpec ? { jump: parseJumpHosts(jumpSpec, process.env.USER ?? 'root') } : commandJump ? { jump: [commandJump] } : {}),
  };
}
