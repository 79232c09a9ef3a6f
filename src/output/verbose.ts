// What -vv, -vvv and -vvvv add, made printable without ever carrying a secret:
//   -vv    each script a host runs (the command line and the script, file contents shown by
//          their label; no credential is ever part of a script, see src/exec/command.ts)
//   -vvv   each script's output (the facts decoded; file contents only by size, since an old
//          file may hold a secret this run does not know)
//   -vvvv  the connection as resolved (address, port, user, key, known_hosts, strictness,
//          jump hosts, become user; never the become password)
import { type Command, shellQuote, toDisplay } from '../exec/command.ts';
import { type ConnectionSpec, loginUser, openSshChosenUser, runsSudo, type Transport } from '../exec/connection.ts';
import { sudoCommandArguments } from '../exec/session.ts';
import { readRecords } from '../facts/records.ts';

/** The login user, or who OpenSSH will pick where none is set: ssh_config's User, else ours. */
const shownUser = (spec: ConnectionSpec) => loginUser(spec) ?? openSshChosenUser();

/** What each transport is, for -vvvv: a paramiko connection runs no ssh command. */
const TRANSPORT_SHOWN: Record<Transport, (spec: ConnectionSpec) => string> = {
  ssh: (spec) => `the system OpenSSH client, ${spec.openssh.executable}`,
  paramiko: () => 'the in-process SSH client',
  local: () => 'no SSH',
};

/** The shell the host runs the script with, as a person reads it (the transport named first). */
export function execCommandLine(spec: ConnectionSpec): string {
  const where = spec.local ? 'local' : `${spec.transport} ${shownUser(spec)}@${spec.address}:${spec.port}`;
  const become = spec.become && runsSudo(spec) ? ` ${[spec.become.exe ?? 'sudo', ...sudoCommandArguments(spec.become)].map(shellQuote).join(' ')}` : '';
  return `${where}${become} /bin/bash < script`;
}

export function scriptForDisplay(script: Command): string {
  return toDisplay(script);
}

/** The facts script's records, decoded; file contents replaced by their size. */
export function factsOutputForDisplay(stdout: string): string {
  let records: [string, string][];
  try {
    records = readRecords(stdout);
  } catch (error) {
    return `(facts output not readable: ${(error as Error).message})`;
  }
  return records
    .map(([key, text]) => {
      if (key.startsWith('content:')) return `${key}: <${Buffer.byteLength(text)} bytes, not shown>`;
      return `${key}: ${text.includes('\n') ? `\n${text.replace(/^/gm, '  ')}` : text}`;
    })
    .join('\n');
}

export function connectionForDisplay(spec: ConnectionSpec): string[] {
  return [
    `connection ${spec.transport} (${TRANSPORT_SHOWN[spec.transport](spec)})`,
    `address ${spec.address}, port ${spec.port}, user ${shownUser(spec)}${spec.local ? ' (ansible_connection=local: no SSH)' : ''}`,
    `private key ${spec.privateKeyPath ?? '(ssh-agent or ~/.ssh/id_*)'}`,
    // Whether a password login is tried (never the password): sshpass for ssh, the client itself for paramiko.
    ...((spec.transport === 'ssh' ? spec.openssh.password : spec.password) !== undefined
      ? [`password login: given (${spec.transport === 'ssh' ? 'through sshpass' : 'offered when the key is refused'})`]
      : []),
    `known_hosts ${spec.knownHostsFiles.join(', ')}; strict host key checking ${spec.strictHostKeyChecking ? 'on' : 'off'}`,
    `timeout ${spec.timeoutMs / 1000} s`,
    ...(spec.jump?.length ? [`via ${spec.jump.map((j) => `${j.user}@${j.address}:${j.port}`).join(' -> ')}`] : []),
    ...(spec.become
      ? [
          `become ${spec.become.user ?? "sudo's default user (ansible_become_user set empty)"} with ${spec.become.exe ?? 'sudo'} (${spec.become.password !== undefined ? 'password given' : 'no password'})${runsSudo(spec) ? '' : ': the login user already, no sudo'}`,
        ]
      : []),
  ];
}
