// The command line's connection settings (flags, ANSIBLE_*, ansible.cfg: parseCli) as the run's
// defaults for every host, with the passwords typed at the prompts; the inventory's variables
// still win host by host (src/exec/connection.ts).
import type { ConnectionDefaults } from '../exec/connection.ts';
import type { CliOptions } from './args.ts';

export function connectionDefaultsOf(cli: CliOptions, typed: { sshPassword?: string; becomePassword?: string }): ConnectionDefaults {
  const { become, ssh } = cli;
  return {
    timeoutMs: cli.timeoutSeconds * 1000,
    hostKeyChecking: cli.hostKeyChecking,
    ...(cli.user ? { user: cli.user } : {}),
    ...(cli.port !== undefined ? { port: cli.port } : {}),
    ...(cli.privateKey ? { privateKeyPath: cli.privateKey, ...(cli.privateKeyOrigin ? { privateKeyOrigin: cli.privateKeyOrigin } : {}) } : {}),
    become: become.enabled,
    ...(become.allowSameUser ? { becomeAllowSameUser: true } : {}),
    ...(become.user ? { becomeUser: become.user } : {}),
    ...(become.method ? { becomeMethod: become.method, becomeMethodOrigin: become.methodOrigin } : {}),
    ...(typed.becomePassword ? { becomePassword: typed.becomePassword } : {}),
    ...(become.exe ? { becomeExe: become.exe, becomeExeOrigin: become.exeOrigin } : {}),
    ...(become.flags !== undefined ? { becomeFlags: become.flags, becomeFlagsOrigin: become.flagsOrigin } : {}),
    scriptTimeoutSeconds: cli.remoteTimeoutSeconds,
    ...(ssh.transport ? { transport: ssh.transport, transportOrigin: ssh.transportOrigin } : {}),
    ...(ssh.executable ? { sshExecutable: ssh.executable } : {}),
    ...(ssh.args !== undefined ? { sshArgs: ssh.args } : {}),
    ...(ssh.commonArgs ? { sshCommonArgs: ssh.commonArgs } : {}),
    ...(ssh.extraArgs ? { sshExtraArgs: ssh.extraArgs } : {}),
    ...(ssh.retries !== undefined ? { retries: ssh.retries } : {}),
    ...(ssh.sshpassPrompt ? { sshpassPrompt: ssh.sshpassPrompt } : {}),
    ...(ssh.pkcs11Provider ? { pkcs11Provider: ssh.pkcs11Provider, pkcs11ProviderOrigin: ssh.pkcs11ProviderOrigin } : {}),
    ...(ssh.controlPath ? { controlPath: ssh.controlPath, controlPathOrigin: ssh.controlPathOrigin } : {}),
    paramiko: ssh.paramiko,
    // An empty answer at -k's prompt is no password, as in Ansible (its `password or ...`): no sshpass.
    ...(typed.sshPassword ? { password: typed.sshPassword } : {}),
    verbosity: cli.verbosity,
  };
}
