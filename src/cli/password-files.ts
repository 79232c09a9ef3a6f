// Passwords kept outside the command line, read as ansible-playbook reads them: the SSH and sudo
// passwords of --connection-password-file / --become-password-file (and ansible.cfg's
// connection_password_file / become_password_file), and the shared part of the vault password
// sources (vault-secrets.ts): an executable file is a script whose output is the password.
import { execFile } from 'node:child_process';
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { promisify } from 'node:util';
import { unfrackPath } from './ansible-config.ts';

const execFileP = promisify(execFile);

/** A password file that cannot give a password; the message names the file and what to do. */
export class PasswordFileError extends Error {
  /** The signal that killed a password script (a Ctrl-C at the terminal reaches it too). */
  killedBy?: NodeJS.Signals;
}

/** Whether the path is a regular file (following a link). */
function isRegularFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Whether a password can be read from the path, as Ansible reads one (it checks only that the
 *  path exists): a regular file, or a pipe (`--vault-password-file <(pass show vault)`,
 *  /dev/stdin, a FIFO); not a folder. */
export function isPasswordSource(path: string): boolean {
  try {
    return !statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Whether Ansible runs this file rather than read it (an executable regular file). */
export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
  } catch {
    return false;
  }
  return isRegularFile(path);
}

/**
 * Runs a password script and returns what it printed, without the line breaks around it (a
 * script ends its output with one). `failure` makes the error of a script that exits non-zero
 * or cannot run, from its exit code and stderr.
 */
export async function runPasswordScript(path: string, args: readonly string[], failure: (code: string, stderr: string) => PasswordFileError): Promise<string> {
  try {
    const { stdout } = await execFileP(path, [...args], { encoding: 'buffer', maxBuffer: 1024 * 1024 });
    return (stdout as Buffer).toString('utf8').replace(/^[\r\n]+|[\r\n]+$/g, '');
  } catch (error) {
    const e = error as { code?: number | string | null; signal?: NodeJS.Signals | null; stderr?: Buffer };
    const failed = failure(e.signal ? `killed by ${e.signal}` : String(e.code ?? 'error'), e.stderr?.toString('utf8').trim() || (error as Error).message);
    if (e.signal) failed.killedBy = e.signal;
    throw failed;
  }
}

/** Where a password file's value came from: its flag, or the ansible.cfg / ANSIBLE_* setting. */
export interface PasswordFile {
  path: string;
  origin: string;
  /** A command-line value (relative to the working folder, `-` = stdin); a setting's path is
   *  absolute already (ansible-config.ts resolves it from the file that set it). */
  fromCommandLine: boolean;
}

export interface PasswordFileContext {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  home?: string;
  /** The whole of stdin (for `-`); process.stdin by default. */
  readStdin?: () => Buffer;
}

/**
 * The password in a file, as Ansible's get_password_from_file: `-` reads all of stdin, an
 * executable file is run (no arguments) and prints it, any other file holds it (surrounding
 * whitespace dropped); then line breaks around it are dropped. Missing file, failing script or
 * empty password: an error naming the file and the setting it came from.
 */
export async function passwordFromFile(file: PasswordFile, ctx: PasswordFileContext): Promise<string> {
  const { origin } = file;
  let secret: string;
  let shown: string;
  if (file.fromCommandLine && file.path === '-') {
    shown = 'stdin';
    try {
      secret = (ctx.readStdin ?? (() => readFileSync(0)))().toString('utf8');
    } catch (error) {
      throw new PasswordFileError(`${origin}: could not read the password from stdin: ${(error as Error).message}`);
    }
  } else {
    const path = file.fromCommandLine ? unfrackPath(file.path, ctx.cwd, ctx.env ?? process.env, ctx.home ?? homedir()) : file.path;
    shown = path;
    if (!isPasswordSource(path))
      throw new PasswordFileError(`${origin}: the password file ${path} was not found; give the path of a file holding the password`);
    if (isExecutable(path)) {
      secret = await runPasswordScript(
        path,
        [],
        (code, stderr) =>
          new PasswordFileError(
            `${origin}: the password script ${path} returned an error (rc=${code}): ${stderr}; if it is not a script, remove the executable bit from the file`,
          ),
      );
    } else {
      try {
        secret = readFileSync(path, 'utf8').trim();
      } catch (error) {
        throw new PasswordFileError(`${origin}: could not read the password file ${path}: ${(error as Error).message}`);
      }
    }
  }
  secret = secret.replace(/^[\r\n]+|[\r\n]+$/g, '');
  const from = shown === 'stdin' ? 'stdin' : `file (${shown})`;
  if (secret === '') throw new PasswordFileError(`${origin}: an empty password was provided from ${from}`);
  // sudo and sshpass read one line: a file of several would log in with its first line alone.
  if (/[\r\n]/.test(secret)) throw new PasswordFileError(`${origin}: the password from ${from} holds a line break; put the password alone on one line`);
  return secret;
}
