// An ansible_* variable that is one or two letters off one the toolkit reads (ansible_usr,
// ansible_become_pasword): Ansible ignores it as any other variable, so the connection silently
// goes without it (root instead of the user meant, sudo without its password). Only warned
// about: other ansible_* names are the inventory's own business.
import { distance as levenshtein } from 'fastest-levenshtein';
import {
  BECOME_EXE_VARIABLES,
  BECOME_FLAGS_VARIABLES,
  BECOME_PASSWORD_VARIABLES,
  BECOME_USER_VARIABLES,
  CONNECTION_VARIABLES,
  PARAMIKO_PASSWORD_VARIABLES,
  PARAMIKO_VARIABLES,
  SSH_PASSWORD_VARIABLES,
} from '../exec/connection.ts';

/** The ansible_* variables trento-provision reads (README, "Connection variables"). */
const READ: readonly string[] = [
  ...Object.values(CONNECTION_VARIABLES).flat(),
  ...Object.values(PARAMIKO_VARIABLES).flat(),
  ...SSH_PASSWORD_VARIABLES,
  ...PARAMIKO_PASSWORD_VARIABLES,
  ...BECOME_EXE_VARIABLES,
  ...BECOME_FLAGS_VARIABLES,
  ...BECOME_USER_VARIABLES,
  ...BECOME_PASSWORD_VARIABLES,
  'ansible_connection',
  'ansible_become',
  'ansible_become_method',
  'ansible_ssh_executable',
  'ansible_ssh_args',
  'ansible_ssh_common_args',
  'ansible_ssh_extra_args',
  'ansible_sshpass_prompt',
  'ansible_ssh_pkcs11_provider',
  'ansible_control_path',
  'ansible_control_path_dir',
  'ansible_ssh_retries',
  'ansible_shell_type',
  'ansible_paramiko_use_rsa_sha2_algorithms',
];

/** Ansible's own variables that trento-provision does not read, close to one it does: never a typo. */
const ANSIBLE_OTHERS = new Set([
  'ansible_python_interpreter',
  'ansible_pipelining',
  'ansible_ssh_pipelining',
  'ansible_remote_tmp',
  'ansible_scp_if_ssh',
  'ansible_scp_extra_args',
  'ansible_sftp_extra_args',
  'ansible_sftp_batch_mode',
  'ansible_ssh_transfer_method',
  'ansible_become_exe',
  'ansible_shell_executable',
  'ansible_user_id',
  'ansible_user_dir',
  'ansible_user_shell',
  'ansible_user_uid',
  'ansible_user_gid',
  'ansible_host_key_checking',
  'ansible_sudo',
  'ansible_su_user',
  'ansible_su_pass',
  'ansible_su_exe',
  'ansible_su_flags',
  'ansible_port_forwarding',
  'ansible_paramiko_look_for_keys',
  'ansible_paramiko_proxy_command',
  'ansible_paramiko_record_host_keys',
]);

/** The variables of Ansible's other become plugins (ansible_dzdo_user, ansible_ksu_pass...), one
 *  or two letters off sudo's: theirs, not typos. */
const OTHER_BECOME = /^ansible_(su|pbrun|pfexec|doas|dzdo|ksu|runas|machinectl|sesu|enable)_(user|pass|password|exe|flags|prompt_l10n)$/;

/** "did you mean" warnings for the host's ansible_* variables (variable, origin, message). */
export function connectionVariableTypos(vars: Readonly<Record<string, unknown>>, origins: Readonly<Record<string, string>>): string[] {
  const read = new Set(READ);
  return Object.keys(vars).flatMap((name) => {
    if (!name.startsWith('ansible_') || read.has(name) || ANSIBLE_OTHERS.has(name) || OTHER_BECOME.test(name)) return [];
    let best: { name: string; distance: number } | undefined;
    for (const known of read) {
      const distance = levenshtein(name, known);
      if (distance <= 2 && (best === undefined || distance < best.distance)) best = { name: known, distance };
    }
    if (!best) return [];
    return [`${name} (${origins[name] ?? 'inventory'}) is no variable Ansible or trento-provision reads, so it changes nothing: did you mean ${best.name}?`];
  });
}
