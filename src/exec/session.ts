// One open connection to one host, able to run a shell script as the target user (the
// interface every transport implements), and ansible_connection=local.
// Scripts travel on stdin (never on a command line, where `ps` would show them), and so does
// the sudo password. Every run is one SSH round trip, counted for the report and the benchmark.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';
import { type Become, type ConnectionSpec, runsSudo } from './connection.ts';
import { type Command, join, raw, sh, toShell } from './command.ts';
import { sudoArguments } from './sudo-flags.ts';
import { signalGroup, terminateGroup } from './process-group.ts';

/** sudo's arguments for a become: the admin's flags as sudo gets them, then -u USER when one is set. */
export function sudoCommandArguments(become: Become): string[] {
  return [...sudoArguments(become.flags, become.password !== undefined), ...(become.user !== undefined ? ['-u', become.user] : [])];
}

export interface RunResult {
  code: number | null; // null: the connection dropped before the script ended
  stdout: string;
  stderr: string;
  /** Lost for a reason on this machine (a new connection would meet it again), not the network's. */
  lostHere?: true;
}

export interface Session {
  readonly host: string;
  /** Runs a bash script (as the become user when asked). onOutput sees stdout as it arrives;
   *  onErrorBytes the bytes of stderr so far, as they grow (so a flood can be cut: runBounded).
   *  Rejects with a ConnectError when this run had to log in (OpenSSH's first script) and could not. */
  run(script: Command, onOutput?: (chunk: string) => void, onErrorBytes?: (total: number) => void): Promise<RunResult>;
  roundTrips(): number;
  close(): void;
}

/** Why a login failed; `local`: a cause on this machine, which a new connection would meet again. */
export type ConnectFailure = 'unreachable' | 'auth' | 'host-key' | 'local';

export class ConnectError extends Error {
  constructor(
    readonly failure: ConnectFailure,
    message: string,
  ) {
    super(message);
  }
}

/**
 * bash running the script that comes on stdin, read in blocks. `bash -s` reads a script from a
 * pipe one byte per read(2), so that a command inside could read the rest of stdin: 20,000
 * system calls for the 20 KB facts script, most of the shell's own CPU on the host (~10 ms of
 * its ~20). Sourcing /dev/stdin reads it in blocks (bash reads a file that is not regular to its
 * end first); sshd hands the command a pipe, which /dev/stdin reopens. Where stdin is a socket
 * (a local run: Node's stdio is a socketpair), /dev/stdin cannot be opened, and cat reads it.
 * Commands inside the script read /dev/null either way (wrapScript).
 */
const SOURCE_STDIN = 'if [ -p /dev/stdin ]; then . /dev/stdin; else eval "$(cat)"; fi';
export const SCRIPT_FROM_STDIN = `/bin/bash -c '${SOURCE_STDIN}'`;

/**
 * The same, first reading stdin's lines as data up to the line `marker` (hex: no quoting), then
 * the script after it. `read` takes a pipe or a socket one byte at a time, so nothing after the
 * marker line is consumed. `${l}`, not `$l`: with become_flags -i or -s, sudo hands the command
 * to the target user's shell with every character escaped but letters, digits, _, - and $, so
 * that shell would expand a `$l` (to nothing) before bash runs; `${` reaches bash as written.
 */
function scriptAfterMarker(marker: string): string {
  return `/bin/bash -c 'while IFS= read -r l; do [ "\${l}" = ${marker} ] && break; done; ${SOURCE_STDIN}'`;
}

/** The command line the host runs: bash reading the script from stdin, via sudo when becoming. */
export function remoteShell(spec: ConnectionSpec): { command: string; stdinPrefix: string } {
  // timeout(1) runs bash in a process group of its own and, past the limit, sends TERM to all of
  // it (the script's trap cleans up), then KILL 10 s later: a script stuck on a FIFO or a hung
  // command never outlives the limit on the host. Exit 124/137 tell the controller why.
  const limited = (bash: string) => (spec.scriptTimeoutSeconds > 0 ? `timeout -k 10 ${Math.ceil(spec.scriptTimeoutSeconds)} ${bash}` : bash);
  if (!spec.become || !runsSudo(spec)) return { command: limited(SCRIPT_FROM_STDIN), stdinPrefix: '' };
  const password = spec.become.password;
  // become_exe: a wrapper run instead of sudo, with sudo's own arguments (quoted as one word).
  const sudo = spec.become.exe ?? 'sudo';
  const options = join(
    sudoCommandArguments(spec.become).map((word) => sh`${word}`),
    ' ',
  );
  if (password !== undefined) {
    // -S reads the password from stdin (byte by byte up to the newline); -p '' keeps the prompt
    // out of the output (sudoArguments adds both). sudo reads it only when it asks for one: under
    // a NOPASSWD rule, or with a ticket still valid, the line stays on stdin. So a random marker
    // line follows it, and bash reads every line up to the marker as data before it reads the
    // script: the password is never run as the script's first command (as root), whatever sudo did.
    const marker = `tp-become-${randomBytes(16).toString('hex')}`;
    // A wrong password must cost one attempt, not three: sudo -S reads its retries from the
    // same stdin (the marker line, then the script's first line), and with pam_faillock's
    // deny=3 one mistyped -K would lock the account on every host. So the login shell reads the
    // first password line itself and gives it to a first sudo, the same command form with
    // nothing after it (`:`), on a pipe that ends there: a refusal meets the end of its input
    // and stops at one attempt, and nothing else runs. Accepted, the real sudo follows (it finds
    // the ticket the first left, or reads the second password line). All of it in /bin/sh, as
    // one word: the login shell may be any (csh, fish), and it only starts sh. `${tp_pw}`:
    // braces, so no `$name` is in the command (see scriptAfterMarker); printf is sh's builtin,
    // so the password is in no process's argv.
    const check = sh`${sudo} ${options} -- /bin/bash -c :`;
    const run = sh`${sudo} ${options} -- ${raw(limited(scriptAfterMarker(marker)))}`;
    return {
      command: toShell(sh`/bin/sh -c ${toShell(sh`IFS= read -r tp_pw && printf '%s\\n' "\${tp_pw}" | ${check} && ${run}`)}`),
      stdinPrefix: `${password}\n${password}\n${marker}\n`,
    };
  }
  return { command: toShell(sh`${sudo} ${options} -- ${raw(limited(SCRIPT_FROM_STDIN))}`), stdinPrefix: '' };
}

/** Wraps a script so bash has parsed all of it before any command runs: commands inside may
 *  then read stdin (they get /dev/null) without eating the rest of the script. */
export function wrapScript(script: string): string {
  return `__tp_main() {\n${script}\n}\n__tp_main </dev/null\n`;
}

/** ansible_connection=local: the same scripts, run by a local bash, in a process group of its
 *  own as the ssh clients are (a Ctrl-C on the terminal reaches the toolkit, not the apply), and
 *  stopped by close() as they are (the second Ctrl-C, --max-host-output, the hard timer). */
export function localSession(spec: ConnectionSpec): Session & { killNow(): void } {
  let trips = 0;
  let closed = false;
  const shell = remoteShell(spec);
  const running = new Set<ChildProcess>();
  // Ended once its output closed: every process of its group that held it is gone (the shell
  // itself may die of SIGTERM while a command it started ignores it).
  const ended = (child: ChildProcess) => !running.has(child);
  return {
    host: spec.host,
    run(script, onOutput, onErrorBytes) {
      trips++;
      if (closed) return Promise.resolve({ code: null, stdout: '', stderr: 'connection closed' });
      return new Promise((resolvePromise) => {
        const child = spawn('/bin/sh', ['-c', shell.command], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
        running.add(child);
        let stdout = '';
        let stderr = '';
        let errorBytes = 0;
        // One decoder per stream: a character split between two reads stays one character.
        const [outText, errText] = [new StringDecoder('utf8'), new StringDecoder('utf8')];
        child.stdout.on('data', (c: Buffer) => {
          const text = outText.write(c);
          stdout += text;
          onOutput?.(text);
        });
        child.stderr.on('data', (c: Buffer) => {
          stderr += errText.write(c);
          errorBytes += c.length;
          onErrorBytes?.(errorBytes);
        });
        child.stdin.on('error', () => undefined);
        child.on('close', (code) => {
          running.delete(child);
          // Stopped by a signal (close()): its end is unknown, as with a dropped connection.
          resolvePromise({ code, stdout, stderr: code === null && closed ? stderr || 'connection closed' : stderr });
        });
        child.stdin.end(shell.stdinPrefix + wrapScript(toShell(script)));
      });
    },
    roundTrips: () => trips,
    close() {
      closed = true;
      for (const child of running) terminateGroup(child.pid, () => ended(child));
    },
    killNow() {
      for (const child of running) if (!ended(child)) signalGroup(child.pid, 'SIGKILL');
    },
  };
}
