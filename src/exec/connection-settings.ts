// Connection settings checked before any host is touched: a transport the toolkit does not
// have, or an SSH option the chosen transport cannot honour, is a settings error naming the
// option and the host. Dropping such an option would connect some other way than the admin
// required (directly instead of through a proxy, without a certificate...).
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import {
  BECOME_EXE_VARIABLES,
  BECOME_PASSWORD_VARIABLES,
  BECOME_USER_VARIABLES,
  becomeFlagsText,
  becomes,
  connectionFor,
  expandControlPath,
  MAX_TIMER_SECONDS,
  type ConnectionDefaults,
  winningVariable,
  proxyCommandJump,
  retryCount,
  settingVariables,
  SSH_PASSWORD_VARIABLES,
  sshArgStrings,
  splitArgs,
  transportFor,
} from './connection.ts';
import { ansibleBool, BOOLEAN_WORDS } from '../inventory/truthiness.ts';
import { DEFAULT_SUDO_FLAGS, parseSudoFlags } from './sudo-flags.ts';
import type { SettingProblem } from '../inventory/errors.ts';

/** An option of Ansible's sh plugin that the toolkit honours only at its default. */
export interface DefaultOnlyOption {
  /** Its inventory variables, in the plugin's order (the last one set wins, as in Ansible). */
  variables: readonly string[];
  /** Its ansible.cfg keys with the environment variable of each. */
  settings: readonly { section: string; ini: string; env: string }[];
  /** The values that ask for nothing beyond what the toolkit does anyway (Ansible's default). */
  honoured: (value: string) => boolean;
  /** What the toolkit does instead, and what to do. */
  instead: string;
}

/**
 * The options of ansible-core's connection plugins that the toolkit does not implement: another
 * value than the default would be silently dropped, so it is a settings error naming it, before
 * any host is touched. The variables that change nothing here (ansible_python_interpreter: no Python runs on
 * the hosts; ansible_pipelining: scripts always travel on stdin; the scp/sftp ones: no file is
 * copied, files travel inside the script; ansible_remote_tmp: nothing is staged there) are not
 * read at all. One table for the inventory variables (connectionSettingsErrors) and for
 * ansible.cfg and ANSIBLE_* (src/cli/ansible-config.ts).
 */
export const DEFAULT_ONLY_OPTIONS: readonly DefaultOnlyOption[] = [
  {
    variables: ['ansible_shell_type'],
    settings: [],
    honoured: (v) => v.trim() === 'sh',
    instead: "the toolkit's commands are written for a POSIX sh login shell (sh, bash); remove the setting",
  },
];

/** -o options the in-process client reads itself (the rest it cannot do). */
const PARAMIKO_OPTIONS = new Set(['proxyjump', 'userknownhostsfile', 'stricthostkeychecking', 'proxycommand']);
/** The StrictHostKeyChecking values it honours (OpenSSH's spellings of on and off). */
const STRICTNESS_HONOURED = new Set(['yes', 'no', 'true', 'false', 'on', 'off']);

const USE_SSH = 'use ansible_connection=ssh (the default: the system OpenSSH client does it)';

/**
 * ssh_args options that only shape OpenSSH's connection reuse and compression: the in-process
 * client keeps one connection per host for the run anyway. Ansible's default ssh_args are these.
 */
const REUSE_OPTIONS = new Set(['controlmaster', 'controlpersist', 'controlpath']);

/**
 * The ssh arguments of one string that the in-process client cannot honour, as written. The
 * common and extra args may name jump hosts and known_hosts (connectionFor reads them there);
 * ssh_args (ansible.cfg, ANSIBLE_SSH_ARGS) only connection reuse and compression, which it needs
 * no setting for: a jump host there would otherwise be dropped, and the host connected to directly.
 */
export function paramikoRefusals(text: string, source: 'common or extra args' | 'ssh_args' = 'common or extra args'): string[] {
  const inArgs = source === 'common or extra args';
  const accepted = inArgs ? PARAMIKO_OPTIONS : REUSE_OPTIONS;
  const refused: string[] = [];
  const args = splitArgs(text);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-J') {
      const value = args[++i];
      if (!inArgs) refused.push(`-J ${value ?? ''}`.trim());
    } else if (/^-J./.test(a)) {
      if (!inArgs) refused.push(a);
    } else if (a === '-C' && !inArgs) {
    } else if (a === '-o' || a.startsWith('-o')) {
      const option = a === '-o' ? (args[++i] ?? '') : a.slice(2);
      const m = /^\s*([A-Za-z]+)\s*(?:=|\s)\s*(.*)$/.exec(option);
      const key = m?.[1]?.toLowerCase();
      if (!m || !key || !accepted.has(key)) refused.push(`-o ${option}`);
      else if (key === 'proxycommand' && !proxyCommandJump(m[2]!.trim(), 'root') && m[2]!.trim().toLowerCase() !== 'none') {
        refused.push(`-o ${option} (only the "ssh -W %h:%p [user@]bastion" form is understood, without options of the bastion hop such as -i, -o or -F)`);
      } else if (key === 'stricthostkeychecking' && !STRICTNESS_HONOURED.has(m[2]!.trim().toLowerCase())) {
        // accept-new records an unknown key, ask asks on a terminal: the in-process client does
        // neither, and read as "yes" it would refuse the host for a reason the admin never set
        refused.push(`-o ${option} (only yes or no: the in-process client neither records a new host key nor asks)`);
      }
    } else {
      // -F, -i, -A, -c, -m, -L, ... and anything else: options of the OpenSSH client.
      const takesValue = /^-[BbcDEeFIiLlmOoPpQRSWw]$/.test(a);
      refused.push(takesValue && args[i + 1] !== undefined ? `${a} ${args[++i]}` : a);
    }
  }
  return refused;
}

/** ssh's options that take a value (ssh.c's getopt string), and those that break the protocol. */
const VALUE_FLAGS = 'BbcDEeFIiJLlmOoPpQRSWw';
const STDIN_BREAKING_FLAGS = 'tnNsfGV';

/**
 * The ssh arguments of one string that would break how scripts reach the host: on ssh's stdin,
 * to a command of the toolkit's, without a terminal. A terminal (-t, RequestTTY) echoes the
 * sudo password back into the output and leaves the remote shell waiting; -n and StdinNull give
 * the script nothing to read; -N, -s, RemoteCommand and SessionType run something else or
 * nothing; -f and ForkAfterAuthentication put ssh in the background; -G and -V print and exit
 * without connecting. As written.
 */
export function stdinProtocolRefusals(text: string): string[] {
  const refused: string[] = [];
  const args = splitArgs(text);
  const breaking =
    /^(requesttty\s*[= ]\s*(yes|true|force)|remotecommand\s*[= ]\s*(?!none\b)\S|sessiontype\s*[= ]\s*(none|subsystem)|stdinnull\s*[= ]\s*(yes|true)|forkafterauthentication\s*[= ]\s*(yes|true))/i;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!/^-[A-Za-z0-9]/.test(a)) continue;
    // As ssh's getopt reads a word: flags one by one until one that takes a value, whose value
    // is the rest of the word or, when nothing is left, the next word.
    for (let k = 1; k < a.length; k++) {
      const letter = a[k]!;
      if (VALUE_FLAGS.includes(letter)) {
        const value = k + 1 < a.length ? a.slice(k + 1) : (args[++i] ?? '');
        if (letter === 'o' && breaking.test(value.trim())) refused.push(`-o ${value}`);
        break;
      }
      if (STDIN_BREAKING_FLAGS.includes(letter)) {
        refused.push(a);
        break;
      }
    }
  }
  return refused;
}

function onPath(program: string, env: NodeJS.ProcessEnv): boolean {
  if (program.includes('/')) return isExecutable(program);
  return (env.PATH ?? '').split(delimiter).some((dir) => dir !== '' && isExecutable(join(dir, program)));
}

/**
 * The host's private key file when it is not there or cannot be read: who set it and what to do.
 * Not for a local host (no key), nor a path ssh expands itself (~user/, %d, ${VAR}).
 */
function missingKeyFile(vars: Record<string, unknown>, origins: Record<string, string>, defaults: ConnectionDefaults): SettingProblem | undefined {
  const spec = connectionFor('', vars, defaults);
  const path = spec.privateKeyPath;
  if (spec.local || path === undefined || /^~|%|\$\{/.test(path) || isReadable(path)) return undefined;
  const given = winningVariable(vars, settingVariables('privateKey', spec.transport));
  return {
    ...(given !== undefined
      ? { variable: given.variable, origin: origins[given.variable] ?? 'inventory' }
      : { variable: 'private_key_file', origin: defaults.privateKeyOrigin ?? '--private-key' }),
    message: `${path} does not exist or cannot be read; give the path of the private key`,
  };
}

/** What the admin should know about a host's connection settings that does not stop it. */
export function connectionSettingsWarnings(vars: Record<string, unknown>, origins: Record<string, string>, defaults: ConnectionDefaults): string[] {
  if (transportFor(vars, defaults).transport !== 'ssh') return [];
  const missing = missingKeyFile(vars, origins, defaults);
  // ssh only notes it at -v and tries the agent's and the default keys, as with Ansible: a
  // login that then fails says "Permission denied (publickey)", naming no file.
  return missing ? [`${missing.variable} (${missing.origin}): ${missing.message}; ssh goes on with ssh-agent's and its default keys`] : [];
}

/** Whether this process may read (R_OK) or run (X_OK) the file at `path`. */
function mayAccess(path: string, mode: number): boolean {
  try {
    accessSync(path, mode);
    return true;
  } catch {
    return false;
  }
}

const isReadable = (path: string) => mayAccess(path, constants.R_OK);
const isExecutable = (path: string) => mayAccess(path, constants.X_OK);

/** Ansible's paramiko plugin's default banner_timeout (seconds). */
const PARAMIKO_BANNER_TIMEOUT = 30;

/**
 * The paramiko plugin's own settings the in-process client cannot honour at the value given
 * ([paramiko_connection], ANSIBLE_PARAMIKO_*, and its one inventory variable among them).
 * look_for_keys it honours (ConnectionSpec.lookForKeys); pty and record_host_keys change nothing.
 */
function paramikoPluginErrors(vars: Record<string, unknown>, origins: Record<string, string>, defaults: ConnectionDefaults): SettingProblem[] {
  const errors: SettingProblem[] = [];
  const settings = defaults.paramiko ?? {};
  const spec = connectionFor('', vars, defaults);
  const autoAdd = settings.hostKeyAutoAdd;
  // Only with host key checking on: off, every key is taken anyway, as the client does too.
  if (autoAdd?.value === true && spec.strictHostKeyChecking) {
    errors.push({
      variable: 'host_key_auto_add',
      origin: autoAdd.origin,
      message:
        "is True, which accepts and records a host key never seen before; ansible_connection=paramiko adds no host key: put the hosts' keys in known_hosts first (ssh-keyscan, their fingerprints checked), or use ansible_connection=ssh with -o StrictHostKeyChecking=accept-new in ansible_ssh_common_args",
    });
  }
  const rsaVariable = 'ansible_paramiko_use_rsa_sha2_algorithms';
  const rsaGiven = vars[rsaVariable] !== undefined && vars[rsaVariable] !== null && vars[rsaVariable] !== '';
  const rsa = rsaGiven
    ? { variable: rsaVariable, origin: origins[rsaVariable] ?? 'inventory', value: ansibleBool(vars[rsaVariable]) }
    : settings.useRsaSha2Algorithms && {
        variable: 'use_rsa_sha2_algorithms',
        origin: settings.useRsaSha2Algorithms.origin,
        value: settings.useRsaSha2Algorithms.value,
      };
  if (rsa && rsa.value !== true) {
    errors.push({
      variable: rsa.variable,
      origin: rsa.origin,
      message:
        rsa.value === undefined
          ? `${JSON.stringify(String(vars[rsaVariable]))} is not a boolean: ${BOOLEAN_WORDS}`
          : 'is False, which only servers older than rsa-sha2 signatures need (OpenSSH before 7.2; SLES 15 and 16 have them); ansible_connection=paramiko cannot turn them off: remove the setting',
    });
  }
  const banner = settings.bannerTimeout;
  if (banner !== undefined && banner.value !== PARAMIKO_BANNER_TIMEOUT) {
    errors.push({
      variable: 'banner_timeout',
      origin: banner.origin,
      message: `is ${banner.value} s; ansible_connection=paramiko has no timeout of the server's banner's own: the connect timeout (--timeout, [defaults] timeout, ansible_timeout; ${spec.timeoutMs / 1000} s here) covers the whole handshake, the banner included. Raise that one instead and remove this setting`,
    });
  }
  return errors;
}

/** Everything wrong with one host's connection settings (empty: fine). */
export function connectionSettingsErrors(
  vars: Record<string, unknown>,
  origins: Record<string, string>,
  defaults: ConnectionDefaults,
  env: NodeJS.ProcessEnv = process.env,
): SettingProblem[] {
  const errors: SettingProblem[] = [];
  const chosen = transportFor(vars, defaults);
  const where = (variable: string, fallback: string) => origins[variable] ?? fallback;
  /** Who set a connection setting: its inventory variable (named with its file), else the
   *  ansible.cfg / ANSIBLE_* setting it came from. */
  const setBy = (variable: string | undefined, setting: string, settingOrigin: string | undefined) =>
    variable !== undefined ? { variable, origin: where(variable, 'inventory') } : { variable: setting, origin: settingOrigin ?? 'ansible.cfg' };
  const becoming = becomes(vars, defaults);
  if (!chosen.transport) {
    const fromVar = chosen.origin === 'ansible_connection';
    errors.push({
      variable: fromVar ? 'ansible_connection' : 'connection',
      origin: fromVar ? where('ansible_connection', 'inventory') : (defaults.transportOrigin ?? '-c'),
      message: `"${chosen.name}" is not a connection this toolkit has: ssh (the default, the system OpenSSH client), paramiko (the in-process client) or local`,
    });
    return errors;
  }
  for (const option of DEFAULT_ONLY_OPTIONS) {
    const given = winningVariable(vars, option.variables);
    if (given !== undefined && !option.honoured(String(given.value))) {
      errors.push({
        variable: given.variable,
        origin: where(given.variable, 'inventory'),
        message: `${JSON.stringify(String(given.value))} is not supported: ${option.instead}`,
      });
    }
  }
  // The connect timeout (seconds): a whole number above 0, as Ansible's, and one Node's timers
  // can wait (past ~24.8 days they fire at once). Another value was dropped for the default.
  const timeout = winningVariable(vars, ['ansible_timeout', 'ansible_ssh_timeout']);
  if (timeout !== undefined && timeout.value !== '' && timeout.value !== null) {
    const seconds = Number(timeout.value);
    if (!Number.isInteger(seconds) || seconds <= 0 || seconds > MAX_TIMER_SECONDS) {
      errors.push({
        variable: timeout.variable,
        origin: where(timeout.variable, 'inventory'),
        message: `needs a whole number of seconds from 1 to ${MAX_TIMER_SECONDS} (~23 days), not ${JSON.stringify(String(timeout.value))}`,
      });
    }
  }
  // Switches Ansible reads with boolean(): any other word is false there, which for host key
  // checking turns the check off on a typo; a value that is no boolean is refused instead.
  for (const names of [settingVariables('hostKeyChecking', chosen.transport), ['ansible_become']]) {
    const given = winningVariable(vars, names);
    if (given !== undefined && given.value !== '' && given.value !== null && ansibleBool(given.value) === undefined) {
      errors.push({
        variable: given.variable,
        origin: where(given.variable, 'inventory'),
        message: `${JSON.stringify(String(given.value))} is not a boolean: ${BOOLEAN_WORDS}`,
      });
    }
  }
  // A key file paramiko cannot read fails its connection: said now. (ssh goes on with its other
  // keys: a warning there, connectionSettingsWarnings.)
  const missingKey = missingKeyFile(vars, origins, defaults);
  if (missingKey && chosen.transport === 'paramiko') errors.push(missingKey);
  const retries = vars.ansible_ssh_retries;
  if (retryCount(retries) === undefined) {
    errors.push({
      variable: 'ansible_ssh_retries',
      origin: where('ansible_ssh_retries', 'inventory'),
      message: `needs a whole number, 0 or more (connection attempts after the first), not ${JSON.stringify(String(retries))}`,
    });
  }
  // The scripts install packages and write /etc: as another user than root they could only fail
  // half way (sudo -u alloy bash could not even read its script). Said before any host is touched.
  const userVariable = winningVariable(vars, BECOME_USER_VARIABLES);
  const becomeUser = userVariable !== undefined ? String(userVariable.value) : defaults.becomeUser;
  if (becoming && becomeUser !== undefined && !['', 'root', '0', '#0'].includes(becomeUser)) {
    errors.push({
      ...setBy(userVariable?.variable, 'become_user', '--become-user or ansible.cfg'),
      message: `is ${JSON.stringify(becomeUser)}, but trento-provision's scripts must run as root (they install packages and write under /etc): leave it unset, or set it to root`,
    });
  }
  // Read only where sudo runs, as Ansible reads them only when becoming.
  const flags = becomeFlagsText(vars, defaults);
  const parsedFlags = parseSudoFlags(flags.text);
  if (becoming && 'problem' in parsedFlags) {
    errors.push({
      ...setBy(flags.variable, 'become_flags', defaults.becomeFlagsOrigin),
      message: `${parsedFlags.problem}; these are sudo's options (Ansible's default: ${DEFAULT_SUDO_FLAGS})`,
    });
  }
  // The sudo program, from the inventory or else ansible.cfg / ANSIBLE_BECOME_EXE; empty is sudo.
  const exeVariable = winningVariable(vars, BECOME_EXE_VARIABLES);
  const exe = exeVariable !== undefined ? String(exeVariable.value) : defaults.becomeExe;
  if (exe !== undefined && exe !== '' && becoming && !/^[^\s'"\\]+$/.test(exe)) {
    errors.push({
      ...setBy(exeVariable?.variable, 'become_exe', defaults.becomeExeOrigin),
      message: "must name one program (a path, or a name on the login PATH) without arguments or quotes; it is run instead of sudo with sudo's own arguments",
    });
  }
  const args = sshArgStrings(vars, defaults);
  // The common and extra args, each with the variable that set it (or the flag / setting).
  const commonAndExtra = [
    { variable: 'ansible_ssh_common_args', text: args.common, fallback: '--ssh-common-args / ssh_common_args' },
    { variable: 'ansible_ssh_extra_args', text: args.extra, fallback: '--ssh-extra-args / ssh_extra_args' },
  ];
  if (chosen.transport === 'paramiko') {
    for (const s of commonAndExtra) {
      for (const option of paramikoRefusals(s.text)) {
        errors.push({
          variable: s.variable,
          origin: where(s.variable, s.fallback),
          message: `${option} cannot be honoured by ansible_connection=paramiko; ${USE_SSH}`,
        });
      }
    }
    // ssh_args from ansible.cfg or ANSIBLE_SSH_ARGS (the inventory's ansible_ssh_args is refused
    // whole below): what it asks beyond connection reuse is an error too.
    for (const option of vars.ansible_ssh_args === undefined ? paramikoRefusals(defaults.sshArgs ?? '', 'ssh_args') : []) {
      errors.push({
        variable: 'ssh_args',
        origin: 'ansible.cfg [ssh_connection] ssh_args / ANSIBLE_SSH_ARGS',
        message: `${option} cannot be honoured by ansible_connection=paramiko (it reads jump hosts and known_hosts options only from ssh_common_args and ssh_extra_args, and nothing else of ssh_args but connection reuse); ${USE_SSH}`,
      });
    }
    const opensshOnly = `is an option of the OpenSSH client, which ansible_connection=paramiko does not run; ${USE_SSH}`;
    for (const variable of ['ansible_ssh_executable', 'ansible_ssh_args', 'ansible_ssh_pkcs11_provider']) {
      if (vars[variable] !== undefined && vars[variable] !== '') errors.push({ variable, origin: where(variable, 'inventory'), message: opensshOnly });
    }
    // paramiko's own proxy setting (Ansible's paramiko plugin runs it): not run here, so the host
    // would be connected to directly, past the proxy the admin requires.
    const proxy =
      vars.ansible_paramiko_proxy_command !== undefined && vars.ansible_paramiko_proxy_command !== ''
        ? { variable: 'ansible_paramiko_proxy_command', origin: where('ansible_paramiko_proxy_command', 'inventory') }
        : defaults.paramiko?.proxyCommand
          ? { variable: 'proxy_command', origin: defaults.paramiko.proxyCommand.origin }
          : undefined;
    if (proxy) {
      errors.push({
        ...proxy,
        message: `cannot be honoured by ansible_connection=paramiko (the host would be connected to directly, past the proxy); ${USE_SSH}, with the proxy as -o ProxyCommand=... in ansible_ssh_common_args`,
      });
    }
    // A smart card from ansible.cfg: the in-process client cannot use it either.
    if (defaults.pkcs11Provider && vars.ansible_ssh_pkcs11_provider === undefined) {
      errors.push({ variable: 'pkcs11_provider', origin: defaults.pkcs11ProviderOrigin ?? 'ansible.cfg', message: opensshOnly });
    }
    errors.push(...paramikoPluginErrors(vars, origins, defaults));
  }
  if (chosen.transport === 'ssh') {
    const stdinSources = [
      ...commonAndExtra,
      vars.ansible_ssh_args !== undefined
        ? { variable: 'ansible_ssh_args', text: String(vars.ansible_ssh_args), fallback: 'inventory' }
        : { variable: 'ssh_args', text: defaults.sshArgs ?? '', fallback: 'ansible.cfg [ssh_connection] ssh_args / ANSIBLE_SSH_ARGS' },
    ];
    for (const s of stdinSources) {
      for (const option of stdinProtocolRefusals(s.text)) {
        errors.push({
          variable: s.variable,
          origin: s.variable === 'ssh_args' ? s.fallback : where(s.variable, s.fallback),
          message: `${option} cannot be honoured: the toolkit sends its scripts (and the sudo password) on ssh's stdin to a command of its own, without a terminal; leave it out`,
        });
      }
    }
    const executable = vars.ansible_ssh_executable !== undefined ? String(vars.ansible_ssh_executable) : (defaults.sshExecutable ?? 'ssh');
    if (!onPath(executable, env)) {
      errors.push({
        variable: vars.ansible_ssh_executable !== undefined ? 'ansible_ssh_executable' : 'ssh_executable',
        origin: where('ansible_ssh_executable', 'default'),
        message: executable.includes('/')
          ? `the OpenSSH client ${executable} does not exist or is not executable; install openssh-client or point ansible_ssh_executable at it`
          : `the OpenSSH client "${executable}" is not an executable on PATH; install openssh-client or point ansible_ssh_executable at it`,
      });
    }
    // The password and the token as the host's ssh gets them (one place decides: an empty
    // variable is none, and beats -k and ansible.cfg).
    const resolved = connectionFor('', vars, defaults).openssh;
    const given = winningVariable(vars, SSH_PASSWORD_VARIABLES);
    const passwordVariable = given !== undefined && given.value !== '' ? given.variable : undefined;
    if (resolved.pkcs11Provider !== undefined && resolved.password === undefined) {
      errors.push({
        ...setBy(vars.ansible_ssh_pkcs11_provider !== undefined ? 'ansible_ssh_pkcs11_provider' : undefined, 'pkcs11_provider', defaults.pkcs11ProviderOrigin),
        message:
          'needs the token\'s PIN as the SSH password (ansible_password, vaulted, or -k), as with Ansible: sshpass answers the token\'s "Enter PIN for" prompt',
      });
    }
    if (resolved.controlPath !== undefined && expandControlPath(resolved.controlPath, '/') === undefined) {
      errors.push({
        ...setBy(vars.ansible_control_path !== undefined ? 'ansible_control_path' : undefined, 'control_path', defaults.controlPathOrigin),
        message: "is formatted with Python's % as Ansible does: only %(directory)s and %% (a literal %, e.g. %%h or %%C for ssh's own tokens) may be in it",
      });
    }
    if (resolved.password !== undefined && !onPath('sshpass', env)) {
      errors.push({
        variable: passwordVariable ?? '--ask-pass',
        origin: passwordVariable ? where(passwordVariable, 'inventory') : 'command line',
        message: 'a password login through OpenSSH needs sshpass (apt-get install sshpass), as with Ansible',
      });
    }
  }
  // sudo -S and sshpass read a password up to the first line break: what follows one would be
  // lost. Line breaks at the end (a vaulted file's last newline) are harmless, as with Ansible.
  for (const names of [SSH_PASSWORD_VARIABLES, BECOME_PASSWORD_VARIABLES]) {
    const given = winningVariable(vars, names);
    if (given !== undefined && /[\r\n]/.test(String(given.value).replace(/[\r\n]+$/, ''))) {
      errors.push({
        variable: given.variable,
        origin: where(given.variable, 'inventory'),
        message: 'has a line break inside it, and sudo and sshpass read a password only up to the first one; give the password on one line',
      });
    }
  }
  return errors;
}
