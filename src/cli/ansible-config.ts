// ansible.cfg and the ANSIBLE_* environment, read as ansible-core 2.14 reads them, for the
// settings the toolkit uses. The CLI layers its flags on top (flag > environment > ansible.cfg >
// default); inventory variables (ansible_user, ansible_become...) still beat all of these for
// connection settings, as with Ansible.
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { DEFAULT_ONLY_OPTIONS } from '../exec/connection-settings.ts';
import { DEFAULT_INVENTORY_IGNORE_EXTS } from '../inventory/sources.ts';
import { VARS_EXTENSIONS } from '../inventory/vars-files.ts';
import { ansibleBool, BOOLEAN_WORDS } from '../inventory/truthiness.ts';
import { unfrackPath } from '../util/unfrack-path.ts';

export { unfrackPath };

export class AnsibleConfigError extends Error {}

/** The settings the toolkit takes from ansible.cfg / ANSIBLE_*, typed; undefined = not set. */
export interface AnsibleSettings {
  /** The ansible.cfg that was read (undefined: none found). */
  file?: string;
  inventory?: string[]; // [defaults] inventory / ANSIBLE_INVENTORY (pathlist, comma-separated)
  forks?: number; // [defaults] forks / ANSIBLE_FORKS
  remoteUser?: string; // [defaults] remote_user / ANSIBLE_REMOTE_USER
  privateKeyFile?: string; // [defaults] private_key_file / ANSIBLE_PRIVATE_KEY_FILE
  /** The ssh plugin's host_key_checking: [defaults] host_key_checking, [ssh_connection]
   *  host_key_checking / ANSIBLE_HOST_KEY_CHECKING, ANSIBLE_SSH_HOST_KEY_CHECKING. */
  hostKeyChecking?: boolean;
  vaultPasswordFile?: string; // [defaults] vault_password_file / ANSIBLE_VAULT_PASSWORD_FILE
  vaultIdentityList?: string[]; // [defaults] vault_identity_list / ANSIBLE_VAULT_IDENTITY_LIST
  askVaultPass?: boolean; // [defaults] ask_vault_pass / ANSIBLE_ASK_VAULT_PASS
  timeout?: number; // the ssh plugin's: [defaults] timeout, [ssh_connection] timeout / ANSIBLE_TIMEOUT, ANSIBLE_SSH_TIMEOUT
  paramikoTimeout?: number; // the paramiko plugin's: [defaults] timeout / ANSIBLE_TIMEOUT only
  remotePort?: number; // [defaults] remote_port / ANSIBLE_REMOTE_PORT
  become?: boolean; // [privilege_escalation] become / ANSIBLE_BECOME
  becomeUser?: string; // [privilege_escalation] become_user / ANSIBLE_BECOME_USER
  becomeMethod?: string; // [privilege_escalation] become_method / ANSIBLE_BECOME_METHOD
  becomeExe?: string; // [privilege_escalation] become_exe / ANSIBLE_BECOME_EXE
  becomeFlags?: string; // [privilege_escalation] become_flags / ANSIBLE_BECOME_FLAGS
  becomeAskPass?: boolean; // [privilege_escalation] become_ask_pass / ANSIBLE_BECOME_ASK_PASS
  becomeAllowSameUser?: boolean; // [privilege_escalation] become_allow_same_user / ANSIBLE_BECOME_ALLOW_SAME_USER
  transport?: string; // [defaults] transport / ANSIBLE_TRANSPORT
  askPass?: boolean; // [defaults] ask_pass / ANSIBLE_ASK_PASS
  connectionPasswordFile?: string; // [defaults] connection_password_file / ANSIBLE_CONNECTION_PASSWORD_FILE
  becomePasswordFile?: string; // [defaults] become_password_file / ANSIBLE_BECOME_PASSWORD_FILE
  sshExecutable?: string; // [ssh_connection] ssh_executable / ANSIBLE_SSH_EXECUTABLE
  sshArgs?: string; // [ssh_connection] ssh_args / ANSIBLE_SSH_ARGS
  sshCommonArgs?: string; // [ssh_connection] ssh_common_args / ANSIBLE_SSH_COMMON_ARGS
  sshExtraArgs?: string; // [ssh_connection] ssh_extra_args / ANSIBLE_SSH_EXTRA_ARGS
  controlPathDir?: string; // [ssh_connection] control_path_dir / ANSIBLE_SSH_CONTROL_PATH_DIR
  sshRetries?: number; // [ssh_connection] retries (or [connection] retries) / ANSIBLE_SSH_RETRIES
  sshpassPrompt?: string; // [ssh_connection] sshpass_prompt / ANSIBLE_SSHPASS_PROMPT
  pkcs11Provider?: string; // [ssh_connection] pkcs11_provider / ANSIBLE_PKCS11_PROVIDER
  paramikoProxyCommand?: string; // [paramiko_connection] proxy_command / ANSIBLE_PARAMIKO_PROXY_COMMAND
  /** The paramiko plugin's host_key_checking: [defaults] host_key_checking, [paramiko_connection]
   *  host_key_checking / ANSIBLE_HOST_KEY_CHECKING, ANSIBLE_SSH_HOST_KEY_CHECKING, ANSIBLE_PARAMIKO_HOST_KEY_CHECKING. */
  paramikoHostKeyChecking?: boolean;
  paramikoLookForKeys?: boolean; // [paramiko_connection] look_for_keys / ANSIBLE_PARAMIKO_LOOK_FOR_KEYS
  paramikoHostKeyAutoAdd?: boolean; // [paramiko_connection] host_key_auto_add / ANSIBLE_PARAMIKO_HOST_KEY_AUTO_ADD
  paramikoUseRsaSha2Algorithms?: boolean; // [paramiko_connection] use_rsa_sha2_algorithms / ANSIBLE_PARAMIKO_USE_RSA_SHA2_ALGORITHMS
  paramikoBannerTimeout?: number; // [paramiko_connection] banner_timeout / ANSIBLE_PARAMIKO_BANNER_TIMEOUT
  controlPath?: string; // [ssh_connection] control_path / ANSIBLE_SSH_CONTROL_PATH
  diffAlways?: boolean; // [diff] always / ANSIBLE_DIFF_ALWAYS: --diff by default
  diffContext?: number; // [diff] context / ANSIBLE_DIFF_CONTEXT: a diff's lines of context
  verbosity?: number; // [defaults] verbosity / ANSIBLE_VERBOSITY: the -v count before any -v
  hostPatternMismatch?: string; // [inventory] host_pattern_mismatch / ANSIBLE_HOST_PATTERN_MISMATCH: warning, error, ignore
  logPath?: string; // [defaults] log_path / ANSIBLE_LOG_PATH: the run's output, also appended there
  /** setting -> where its value came from ("env: ANSIBLE_FORKS", "/path/ansible.cfg [defaults] forks"). */
  origins: Partial<Record<Exclude<keyof AnsibleSettings, 'file' | 'origins' | 'warnings'>, string>>;
  /** What Ansible prints as [WARNING] about its configuration. */
  warnings: string[];
}

/**
 * How Ansible reads a setting's text. 'cwdpath': an untyped plugin option used as a path
 * (control_path_dir): unquoted, ~ and $VAR expanded, relative to the current folder, not the file's.
 */
type Kind = 'string' | 'integer' | 'float' | 'boolean' | 'path' | 'cwdpath' | 'pathlist' | 'list';
type Key = keyof AnsibleSettings['origins'];

/**
 * ansible-core's entries for what we read (base.yml, the plugins' documentation): section, ini
 * key, env variable, type; `alsoIn`: an older section Ansible also reads the key from, below the
 * first; `later`: the plugin's own names after the usual ones ([sudo_become_plugin] flags,
 * ANSIBLE_SUDO_FLAGS; [ssh_connection] host_key_checking), each an ini key, an environment
 * variable or both, which win over them as the last of Ansible's names set does.
 */
const DEFINITIONS: {
  key: Key;
  section: string;
  ini: string;
  env: string;
  kind: Kind;
  alsoIn?: string;
  later?: readonly ({ section: string; ini: string; env?: string } | { env: string })[];
}[] = [
  { key: 'inventory', section: 'defaults', ini: 'inventory', env: 'ANSIBLE_INVENTORY', kind: 'pathlist' },
  { key: 'forks', section: 'defaults', ini: 'forks', env: 'ANSIBLE_FORKS', kind: 'integer' },
  { key: 'remoteUser', section: 'defaults', ini: 'remote_user', env: 'ANSIBLE_REMOTE_USER', kind: 'string' },
  { key: 'privateKeyFile', section: 'defaults', ini: 'private_key_file', env: 'ANSIBLE_PRIVATE_KEY_FILE', kind: 'path' },
  // Each connection plugin has its own host_key_checking, with its own section and variables
  // after [defaults]'s (`[defaults] host_key_checking = False` with `[ssh_connection]
  // host_key_checking = True` is checking on, for ssh only).
  {
    key: 'hostKeyChecking',
    section: 'defaults',
    ini: 'host_key_checking',
    env: 'ANSIBLE_HOST_KEY_CHECKING',
    kind: 'boolean',
    later: [{ section: 'ssh_connection', ini: 'host_key_checking', env: 'ANSIBLE_SSH_HOST_KEY_CHECKING' }],
  },
  {
    key: 'paramikoHostKeyChecking',
    section: 'defaults',
    ini: 'host_key_checking',
    env: 'ANSIBLE_HOST_KEY_CHECKING',
    kind: 'boolean',
    later: [{ env: 'ANSIBLE_SSH_HOST_KEY_CHECKING' }, { section: 'paramiko_connection', ini: 'host_key_checking', env: 'ANSIBLE_PARAMIKO_HOST_KEY_CHECKING' }],
  },
  { key: 'vaultPasswordFile', section: 'defaults', ini: 'vault_password_file', env: 'ANSIBLE_VAULT_PASSWORD_FILE', kind: 'path' },
  // The SSH and sudo passwords' files (ansible-core 2.12+; read by password-files.ts).
  { key: 'connectionPasswordFile', section: 'defaults', ini: 'connection_password_file', env: 'ANSIBLE_CONNECTION_PASSWORD_FILE', kind: 'path' },
  { key: 'becomePasswordFile', section: 'defaults', ini: 'become_password_file', env: 'ANSIBLE_BECOME_PASSWORD_FILE', kind: 'path' },
  { key: 'vaultIdentityList', section: 'defaults', ini: 'vault_identity_list', env: 'ANSIBLE_VAULT_IDENTITY_LIST', kind: 'list' },
  { key: 'askVaultPass', section: 'defaults', ini: 'ask_vault_pass', env: 'ANSIBLE_ASK_VAULT_PASS', kind: 'boolean' },
  // The ssh plugin's timeout (ansible-core 2.11+ reads [ssh_connection]'s and ANSIBLE_SSH_TIMEOUT
  // after [defaults]'s); the paramiko plugin's is [defaults]'s alone.
  {
    key: 'timeout',
    section: 'defaults',
    ini: 'timeout',
    env: 'ANSIBLE_TIMEOUT',
    kind: 'integer',
    later: [{ section: 'ssh_connection', ini: 'timeout', env: 'ANSIBLE_SSH_TIMEOUT' }],
  },
  { key: 'paramikoTimeout', section: 'defaults', ini: 'timeout', env: 'ANSIBLE_TIMEOUT', kind: 'integer' },
  { key: 'remotePort', section: 'defaults', ini: 'remote_port', env: 'ANSIBLE_REMOTE_PORT', kind: 'integer' },
  { key: 'become', section: 'privilege_escalation', ini: 'become', env: 'ANSIBLE_BECOME', kind: 'boolean' },
  {
    key: 'becomeUser',
    section: 'privilege_escalation',
    ini: 'become_user',
    env: 'ANSIBLE_BECOME_USER',
    kind: 'string',
    later: [{ section: 'sudo_become_plugin', ini: 'user', env: 'ANSIBLE_SUDO_USER' }],
  },
  { key: 'becomeMethod', section: 'privilege_escalation', ini: 'become_method', env: 'ANSIBLE_BECOME_METHOD', kind: 'string' },
  {
    key: 'becomeExe',
    section: 'privilege_escalation',
    ini: 'become_exe',
    env: 'ANSIBLE_BECOME_EXE',
    kind: 'string',
    later: [{ section: 'sudo_become_plugin', ini: 'executable', env: 'ANSIBLE_SUDO_EXE' }],
  },
  {
    key: 'becomeFlags',
    section: 'privilege_escalation',
    ini: 'become_flags',
    env: 'ANSIBLE_BECOME_FLAGS',
    kind: 'string',
    later: [{ section: 'sudo_become_plugin', ini: 'flags', env: 'ANSIBLE_SUDO_FLAGS' }],
  },
  { key: 'becomeAskPass', section: 'privilege_escalation', ini: 'become_ask_pass', env: 'ANSIBLE_BECOME_ASK_PASS', kind: 'boolean' },
  {
    key: 'becomeAllowSameUser',
    section: 'privilege_escalation',
    ini: 'become_allow_same_user',
    env: 'ANSIBLE_BECOME_ALLOW_SAME_USER',
    kind: 'boolean',
  },
  { key: 'transport', section: 'defaults', ini: 'transport', env: 'ANSIBLE_TRANSPORT', kind: 'string' },
  { key: 'askPass', section: 'defaults', ini: 'ask_pass', env: 'ANSIBLE_ASK_PASS', kind: 'boolean' },
  // The ssh connection plugin's settings (Ansible reads them from [ssh_connection]).
  { key: 'sshExecutable', section: 'ssh_connection', ini: 'ssh_executable', env: 'ANSIBLE_SSH_EXECUTABLE', kind: 'string' },
  { key: 'sshArgs', section: 'ssh_connection', ini: 'ssh_args', env: 'ANSIBLE_SSH_ARGS', kind: 'string' },
  { key: 'sshCommonArgs', section: 'ssh_connection', ini: 'ssh_common_args', env: 'ANSIBLE_SSH_COMMON_ARGS', kind: 'string' },
  { key: 'sshExtraArgs', section: 'ssh_connection', ini: 'ssh_extra_args', env: 'ANSIBLE_SSH_EXTRA_ARGS', kind: 'string' },
  { key: 'controlPathDir', section: 'ssh_connection', ini: 'control_path_dir', env: 'ANSIBLE_SSH_CONTROL_PATH_DIR', kind: 'cwdpath' },
  { key: 'sshRetries', section: 'ssh_connection', ini: 'retries', env: 'ANSIBLE_SSH_RETRIES', kind: 'integer', alsoIn: 'connection' },
  { key: 'sshpassPrompt', section: 'ssh_connection', ini: 'sshpass_prompt', env: 'ANSIBLE_SSHPASS_PROMPT', kind: 'string' },
  { key: 'pkcs11Provider', section: 'ssh_connection', ini: 'pkcs11_provider', env: 'ANSIBLE_PKCS11_PROVIDER', kind: 'string' },
  // The paramiko plugin's proxy: read to be refused where paramiko connects (it would go direct).
  { key: 'paramikoProxyCommand', section: 'paramiko_connection', ini: 'proxy_command', env: 'ANSIBLE_PARAMIKO_PROXY_COMMAND', kind: 'string' },
  // The rest of the paramiko plugin's settings that change how it connects: honoured, or refused
  // where paramiko connects (connectionSettingsErrors). Not read: pty and record_host_keys (the
  // in-process client runs no terminal and adds no host key, so has nothing to record).
  { key: 'paramikoLookForKeys', section: 'paramiko_connection', ini: 'look_for_keys', env: 'ANSIBLE_PARAMIKO_LOOK_FOR_KEYS', kind: 'boolean' },
  { key: 'paramikoHostKeyAutoAdd', section: 'paramiko_connection', ini: 'host_key_auto_add', env: 'ANSIBLE_PARAMIKO_HOST_KEY_AUTO_ADD', kind: 'boolean' },
  {
    key: 'paramikoUseRsaSha2Algorithms',
    section: 'paramiko_connection',
    ini: 'use_rsa_sha2_algorithms',
    env: 'ANSIBLE_PARAMIKO_USE_RSA_SHA2_ALGORITHMS',
    kind: 'boolean',
  },
  { key: 'diffAlways', section: 'diff', ini: 'always', env: 'ANSIBLE_DIFF_ALWAYS', kind: 'boolean' },
  { key: 'diffContext', section: 'diff', ini: 'context', env: 'ANSIBLE_DIFF_CONTEXT', kind: 'integer' },
  { key: 'verbosity', section: 'defaults', ini: 'verbosity', env: 'ANSIBLE_VERBOSITY', kind: 'integer' },
  { key: 'hostPatternMismatch', section: 'inventory', ini: 'host_pattern_mismatch', env: 'ANSIBLE_HOST_PATTERN_MISMATCH', kind: 'string' },
  { key: 'logPath', section: 'defaults', ini: 'log_path', env: 'ANSIBLE_LOG_PATH', kind: 'path' },
  { key: 'paramikoBannerTimeout', section: 'paramiko_connection', ini: 'banner_timeout', env: 'ANSIBLE_PARAMIKO_BANNER_TIMEOUT', kind: 'float' },
  { key: 'controlPath', section: 'ssh_connection', ini: 'control_path', env: 'ANSIBLE_SSH_CONTROL_PATH', kind: 'string' },
];

/**
 * Settings that change what an inventory means, which the toolkit reads only as Ansible does by
 * default: another value would give a silently different inventory (merged dictionaries, renamed
 * groups whose group_vars then apply), so it is an error naming the setting. Also the sudo
 * plugin's password settings: a sudo password comes from -K or the (vaulted) inventory only.
 * (The connection options read only at their defaults are in
 * DEFAULT_ONLY_OPTIONS, shared with the inventory variables.)
 */
interface DefaultOnlySetting {
  section: string;
  ini: string;
  env: string;
  honoured: (value: string) => boolean;
  instead: string;
  /** A password: named in the error, never printed. */
  secret?: boolean;
  /** Another key of the same setting, before this one in Ansible's list: set beside it, it loses
   *  (Ansible takes the last key of its list that is set), so only one of the two is judged. */
  losing?: { section: string; ini: string };
}

/** An ansible.cfg list (comma-separated, as Ansible's `list` type) equal, as a set, to `expected`. */
function sameList(value: string, expected: readonly string[]): boolean {
  const items = new Set(listItems(value));
  return items.size === new Set(expected).size && expected.every((e) => items.has(e));
}

/** Ansible's list setting as its items in order, each unquoted (a list whose order matters). */
function listItems(value: string): string[] {
  return value
    .split(',')
    .map((v) => v.trim().replace(/^(['"])(.*)\1$/, '$2'))
    .filter((v) => v !== '');
}

/** ansible-core's default order of group variables (VARIABLE_PRECEDENCE), which merge.ts follows. */
const DEFAULT_VARIABLE_PRECEDENCE = [
  'all_inventory',
  'groups_inventory',
  'all_plugins_inventory',
  'all_plugins_play',
  'groups_plugins_inventory',
  'groups_plugins_play',
];

const BECOME_PASSWORD_INSTEAD =
  'a sudo password is read from -K/--ask-become-pass, --become-password-file (become_password_file) or ansible_become_password (vault it), not from ansible.cfg or the environment itself';

/** An empty item in a list (`ignore_patterns =`, a trailing comma): Ansible keeps it, and as an
 *  inventory file filter it matches every name (checked against ansible-inventory). */
const hasEmptyItem = (value: string) => value.split(',').some((v) => unquote(v.trim()) === '');
const EMPTY_ITEM_NOTE =
  ' (an empty item, as in `ignore_patterns =` or after a trailing comma, makes Ansible skip every file of an inventory folder: remove it, or the setting)';

/** The two settings that filter an inventory folder's files, by their [inventory] names. */
const INVENTORY_FILE_FILTERS: readonly Omit<DefaultOnlySetting, 'section'>[] = [
  {
    ini: 'ignore_extensions',
    env: 'ANSIBLE_INVENTORY_IGNORE',
    honoured: (v) => !hasEmptyItem(v) && sameList(v, DEFAULT_INVENTORY_IGNORE_EXTS),
    instead: `the toolkit skips the files of an inventory folder Ansible skips by default (${DEFAULT_INVENTORY_IGNORE_EXTS.join(', ')}); move other files out of the folder, or name the inventory files with -i${EMPTY_ITEM_NOTE}`,
  },
  {
    ini: 'ignore_patterns',
    env: 'ANSIBLE_INVENTORY_IGNORE_REGEX',
    // Ansible's default is no pattern at all, which no value written can say (see hasEmptyItem).
    honoured: () => false,
    instead: `the toolkit reads every file of an inventory folder but those Ansible skips by default; move other files out of the folder, or name the inventory files with -i${EMPTY_ITEM_NOTE}`,
  },
];

const READ_AS_DEFAULT_ONLY: readonly DefaultOnlySetting[] = [
  // What a duplicate key in a YAML variables file is (Ansible: warn, error or ignore): the
  // toolkit warns and takes the last value, as Ansible's default does.
  {
    section: 'defaults',
    ini: 'duplicate_dict_key',
    env: 'ANSIBLE_DUPLICATE_YAML_DICT_KEY',
    // (ignore: the same values, Ansible only says nothing, where the toolkit still warns; the
    // choices are case-sensitive, as ansible-core checks them)
    honoured: (v) => ['warn', 'ignore'].includes(unquote(v.trim())),
    instead:
      'the toolkit warns about a duplicate key in a YAML file and takes its last value (Ansible\'s default, "warn"); remove the duplicate keys, or the setting',
  },
  // Whether a vault is opened only by a password of its own id: the toolkit tries every password
  // given, those of the vault's id first, as Ansible's default does. ansible-core gives the
  // setting no type, so any word written, False included, is a true string: id matching on.
  {
    section: 'defaults',
    ini: 'vault_id_match',
    env: 'ANSIBLE_VAULT_ID_MATCH',
    honoured: (v) => unquote(v.trim()) === '',
    instead:
      'ansible-core reads any value of vault_id_match, False included, as on (the setting has no type), and then opens a vault only with a password of its own id, where the toolkit tries every password given; remove the setting, or give only the passwords each vault needs',
  },
  {
    section: 'defaults',
    ini: 'hash_behaviour',
    env: 'ANSIBLE_HASH_BEHAVIOUR',
    honoured: (v) => v.trim().toLowerCase() === 'replace',
    instead:
      'the toolkit replaces a dictionary variable by the one of higher precedence (Ansible\'s default, "replace"); merge the dictionaries in the inventory itself',
  },
  {
    section: 'defaults',
    ini: 'force_valid_group_names',
    env: 'ANSIBLE_TRANSFORM_INVALID_GROUP_CHARS',
    honoured: (v) => ['never', 'ignore', 'false', 'no', 'off', 'n', '0'].includes(v.trim().toLowerCase()),
    instead: 'the toolkit keeps group names as written (Ansible\'s default, "never"); rename the groups in the inventory (and their group_vars files) instead',
  },
  // Which files of an inventory folder are read (src/inventory/sources.ts has Ansible's
  // defaults), by both of Ansible's names for each setting: [defaults] inventory_ignore_*, the
  // spelling most ansible.cfg files use, and [inventory] ignore_*, which wins where both are set.
  ...INVENTORY_FILE_FILTERS.map((f) => ({ ...f, section: 'inventory', losing: { section: 'defaults', ini: `inventory_${f.ini}` } })),
  // The inventory plugins: the toolkit reads INI and YAML files (and host lists) as Ansible's
  // default plugins do; a list without ini or yaml would make Ansible skip such files.
  {
    section: 'inventory',
    ini: 'enable_plugins',
    env: 'ANSIBLE_INVENTORY_ENABLED',
    honoured: (v) => {
      const names = v.split(',').map((n) =>
        n
          .trim()
          // each name unquoted, as Ansible's list settings are (a whole value in quotes too)
          .replace(/^['"]|['"]$/g, '')
          .replace(/^ansible\.(builtin|legacy)\./, ''),
      );
      return names.includes('ini') && names.includes('yaml');
    },
    instead:
      'the toolkit reads INI and YAML inventory files as the ini and yaml plugins do, which this list leaves out; keep ini and yaml in it, or name the inventory files Ansible reads with -i',
  },
  // Which variables win, and which group_vars / host_vars files exist: the toolkit reads them
  // as ansible-core does by default (merge.ts, vars-files.ts); another setting would give a value
  // other than Ansible's for the same inventory, a password or the server's URL included.
  {
    section: 'defaults',
    ini: 'precedence',
    env: 'ANSIBLE_PRECEDENCE',
    honoured: (v) => listItems(v).join(',') === DEFAULT_VARIABLE_PRECEDENCE.join(','),
    instead: `the toolkit orders group variables as Ansible does by default (${DEFAULT_VARIABLE_PRECEDENCE.join(', ')}); remove the setting, or move the variables where they win by default`,
  },
  {
    section: 'defaults',
    ini: 'run_vars_plugins',
    env: 'ANSIBLE_RUN_VARS_PLUGINS',
    honoured: (v) => v.trim().toLowerCase() === 'demand',
    instead:
      'the toolkit reads group_vars and host_vars as Ansible does by default ("demand": after the inventory\'s own group variables); with "start" group_vars/all would lose to an inventory\'s [group:vars]: remove the setting',
  },
  {
    section: 'vars_host_group_vars',
    ini: 'stage',
    env: 'ANSIBLE_VARS_PLUGIN_STAGE',
    // unset (Ansible's None: run_vars_plugins decides), task or all give the default's values
    honoured: (v) => ['', 'all', 'task'].includes(v.trim().toLowerCase()),
    instead: 'the toolkit reads group_vars and host_vars at the task stage, as Ansible does by default; remove the setting',
  },
  {
    section: 'defaults',
    ini: 'vars_plugins_enabled',
    env: 'ANSIBLE_VARS_ENABLED',
    // host_group_vars alone (under any of its names), as the default list is
    honoured: (v) => {
      const names = listItems(v).map((n) => n.replace(/^ansible\.(builtin|legacy)\./, ''));
      return names.length > 0 && names.every((n) => n === 'host_group_vars');
    },
    instead:
      'the toolkit reads group_vars and host_vars as the host_group_vars plugin does, and no other vars plugin (a sops-encrypted file would be read as its ciphertext); keep only host_group_vars, or decrypt the values into the inventory (ansible-vault)',
  },
  {
    section: 'defaults',
    ini: 'yaml_valid_extensions',
    env: 'ANSIBLE_YAML_FILENAME_EXT',
    honoured: (v) => listItems(v).join(',') === VARS_EXTENSIONS.join(','),
    instead: `the toolkit reads group_vars and host_vars files named as Ansible does by default (no extension, ${VARS_EXTENSIONS.join(', ')}); rename the files, and remove the setting`,
  },
  // A sudo password in ansible.cfg or the environment: refused, named, never printed.
  { section: 'sudo_become_plugin', ini: 'password', env: 'ANSIBLE_SUDO_PASS', honoured: () => false, instead: BECOME_PASSWORD_INSTEAD, secret: true },
  { section: 'sudo_become_plugin', ini: 'password', env: 'ANSIBLE_BECOME_PASS', honoured: () => false, instead: BECOME_PASSWORD_INSTEAD, secret: true },
];

export interface FindOptions {
  env: NodeJS.ProcessEnv;
  cwd: string;
  home?: string;
  /** Only for tests: the system-wide file (default /etc/ansible/ansible.cfg). */
  systemFile?: string;
}

function readable(path: string): boolean {
  try {
    accessSync(path, constants.R_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * The ansible.cfg Ansible would read: $ANSIBLE_CONFIG (a file, or a folder holding ansible.cfg),
 * ./ansible.cfg (not in a world-writable folder), ~/.ansible.cfg, /etc/ansible/ansible.cfg;
 * the first that exists and is readable wins.
 */
export function findAnsibleConfig(options: FindOptions): { file?: string; warnings: string[] } {
  const home = options.home ?? homedir();
  const warnings: string[] = [];
  const candidates: string[] = [];
  const fromEnv = options.env.ANSIBLE_CONFIG;
  if (fromEnv !== undefined && fromEnv !== '') {
    let p = unfrackPath(fromEnv, options.cwd, options.env, home);
    try {
      if (statSync(p).isDirectory()) p = join(p, 'ansible.cfg');
    } catch {
      // missing: Ansible goes on to the next place
    }
    candidates.push(p);
  }
  const local = join(options.cwd, 'ansible.cfg');
  let worldWritable = false;
  try {
    worldWritable = (statSync(options.cwd).mode & 0o002) !== 0;
  } catch {
    // cwd gone: nothing to read there
  }
  if (worldWritable) {
    if (existsSync(local)) {
      warnings.push(`Ansible is being run in a world writable directory (${options.cwd}), ignoring it as an ansible.cfg source.`);
    }
  } else {
    candidates.push(local);
  }
  candidates.push(join(home, '.ansible.cfg'), options.systemFile ?? '/etc/ansible/ansible.cfg');
  const file = candidates.find(readable);
  return { ...(file ? { file } : {}), warnings };
}

/**
 * Python's configparser as Ansible sets it up: `[section]`, `key = value` or `key: value`, keys
 * lower-cased, `#`/`;` comment lines, ` ;` inline comments, indented continuation lines; a
 * section or a key (in any case) given twice refuses the file, as configparser's strict mode does.
 */
export function parseIni(text: string, file: string): Map<string, Map<string, string>> {
  const sections = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  let lastKey: string | undefined;
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const where = `${file}:${index + 1}`;
    if (/^\s*[#;]/.test(raw)) return;
    const line = raw.replace(/\s;.*$/, ''); // inline_comment_prefixes=(';',)
    if (line.trim() === '') {
      lastKey = undefined;
      return;
    }
    if (/^\s/.test(line) && current && lastKey !== undefined) {
      current.set(lastKey, `${current.get(lastKey)}\n${line.trim()}`);
      return;
    }
    const section = /^\[([^\]]+)\]\s*$/.exec(line.trim());
    if (section) {
      const name = section[1]!;
      // configparser's strict mode, which Ansible keeps: it refuses the whole file
      if (sections.has(name)) throw new AnsibleConfigError(`${where}: section [${name}] already exists; Ansible refuses the file (merge the two sections)`);
      current = new Map();
      sections.set(name, current);
      lastKey = undefined;
      return;
    }
    const option = /^([^=:]+?)\s*[=:]\s*(.*)$/.exec(line.trim());
    if (!option) throw new AnsibleConfigError(`${where}: not an ansible.cfg line (expected [section] or key = value): ${line.trim()}`);
    if (!current) throw new AnsibleConfigError(`${where}: a setting before any [section]; put it under [defaults]`);
    lastKey = option[1]!.toLowerCase();
    if (current.has(lastKey)) throw new AnsibleConfigError(`${where}: ${lastKey} is set twice in this section; Ansible refuses the file (keep one)`);
    current.set(lastKey, option[2]!.trim());
  });
  return sections;
}

/** Ansible's ensure_type for the kinds we read. `base` = the cfg file's folder for paths from it, else cwd. */
function convert(value: string, kind: Kind, base: string, where: string, home: string, env: NodeJS.ProcessEnv): unknown {
  const path = (p: string) => unfrackPath(p.trim(), base, env, home);
  switch (kind) {
    case 'string':
      return unquote(value);
    case 'boolean': {
      // Ansible reads any other word as false: a typo in host_key_checking = Ture would turn the
      // check off, the opposite of what it was written for.
      const bool = ansibleBool(value);
      if (bool === undefined) throw new AnsibleConfigError(`${where}: ${JSON.stringify(value)} is not a boolean: ${BOOLEAN_WORDS}`);
      return bool;
    }
    case 'integer': {
      const n = Number(value.trim());
      if (value.trim() === '' || !Number.isInteger(n)) throw new AnsibleConfigError(`${where}: needs a whole number, not "${value}"`);
      return n;
    }
    case 'float': {
      const n = Number(value.trim());
      if (value.trim() === '' || !Number.isFinite(n)) throw new AnsibleConfigError(`${where}: needs a number, not "${value}"`);
      return n;
    }
    case 'path':
      return path(value);
    case 'cwdpath':
      return path(unquote(value.trim()));
    case 'pathlist':
      return value
        .split(',')
        .map((p) => p.trim())
        .filter((p) => p !== '')
        .map(path);
    case 'list':
      return value
        .split(',')
        .map((p) => unquote(p.trim()))
        .filter((p) => p !== '');
  }
}

/** ansible.parsing.quoting.unquote, which Ansible applies to string and list settings (not paths). */
function unquote(value: string): string {
  const quoted = value.length > 1 && value[0] === value.at(-1) && (value[0] === '"' || value[0] === "'") && value.at(-2) !== '\\';
  return quoted ? value.slice(1, -1) : value;
}

/** Reads ansible.cfg (found as Ansible finds it) and the ANSIBLE_* variables: environment beats the file. */
export function readAnsibleSettings(options: FindOptions): AnsibleSettings {
  const home = options.home ?? homedir();
  const found = findAnsibleConfig(options);
  const settings: AnsibleSettings = { origins: {}, warnings: [...found.warnings] };
  let ini = new Map<string, Map<string, string>>();
  if (found.file) {
    settings.file = found.file;
    ini = parseIni(readFileSync(found.file, 'utf8'), found.file);
  }
  // The connection options read only at their defaults: the same table as the inventory variables.
  const connectionOptions: DefaultOnlySetting[] = DEFAULT_ONLY_OPTIONS.flatMap((o) =>
    o.settings.map((s) => ({ ...s, honoured: o.honoured, instead: o.instead })),
  );
  for (const d of [...READ_AS_DEFAULT_ONLY, ...connectionOptions]) {
    const fromEnv = options.env[d.env];
    // The key Ansible reads: this one, else the one it beats.
    const key = [{ section: d.section, ini: d.ini }, ...(d.losing ? [d.losing] : [])].find((k) => ini.get(k.section)?.has(k.ini));
    const written = fromEnv ?? (key && ini.get(key.section)?.get(key.ini));
    // String settings, which Ansible unquotes ("sudo" is sudo).
    const value = written === undefined ? undefined : unquote(written);
    if (value === undefined || d.honoured(value)) continue;
    const where = fromEnv !== undefined ? `environment ${d.env}` : `${found.file} [${key!.section}] ${key!.ini}`;
    // A password is named, never printed.
    const shown = d.secret ? '(a password)' : value;
    throw new AnsibleConfigError(`${where} = ${shown}: not supported by trento-provision: ${d.instead}`);
  }
  const out = settings as unknown as Record<string, unknown>;
  for (const d of DEFINITIONS) {
    // Ansible's names in its order; the last one set wins, an environment variable over any key.
    const later = d.later ?? [];
    const envName = [d.env, ...later.flatMap((l) => (l.env !== undefined ? [l.env] : []))].filter((name) => options.env[name] !== undefined).at(-1);
    const keys = [
      ...(d.alsoIn !== undefined ? [{ section: d.alsoIn, ini: d.ini }] : []),
      { section: d.section, ini: d.ini },
      ...later.flatMap((l) => ('section' in l ? [{ section: l.section, ini: l.ini }] : [])),
    ];
    const key = keys.filter((k) => ini.get(k.section)?.has(k.ini)).at(-1);
    if (envName !== undefined) {
      out[d.key] = convert(options.env[envName]!, d.kind, options.cwd, `environment ${envName}`, home, options.env);
      settings.origins[d.key] = `env: ${envName}`;
    } else if (key !== undefined) {
      const where = `${found.file} [${key.section}] ${key.ini}`;
      out[d.key] = convert(ini.get(key.section)!.get(key.ini)!, d.kind, d.kind === 'cwdpath' ? options.cwd : dirname(found.file!), where, home, options.env);
      settings.origins[d.key] = where;
    }
  }
  return settings;
}
