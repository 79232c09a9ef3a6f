// Run commands on lab hosts with the real OpenSSH client, the lab's ssh_config and strict
// host key checking (what the toolkit's users do).
import { spawn } from 'node:child_process';

export interface SshResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface SshOptions {
  user?: string;
  input?: string;
  timeoutMs?: number;
  /** Extra ssh options, e.g. ['-o', 'UserKnownHostsFile=/x']. */
  sshArgs?: string[];
}

export function ssh(sshConfig: string, host: string, command: string, opts: SshOptions = {}): Promise<SshResult> {
  const args = ['-F', sshConfig, '-o', 'BatchMode=yes', ...(opts.sshArgs ?? [])];
  if (opts.user) args.push('-l', opts.user);
  args.push(host, command);
  return new Promise((resolve) => {
    const child = spawn('ssh', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 255, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** Like ssh() but throws (with the host and the output) on a non-zero exit. */
export async function sshOk(sshConfig: string, host: string, command: string, opts: SshOptions = {}): Promise<string> {
  const r = await ssh(sshConfig, host, command, opts);
  if (r.code !== 0) throw new Error(`${host}: \`${command}\` exited ${r.code}:\n${r.stderr}${r.stdout}`);
  return r.stdout;
}
