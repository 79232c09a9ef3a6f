// The become command with a password (src/exec/session.ts remoteShell): sudo -S reads the
// password line only when it asks for one. Under a NOPASSWD rule (here: root, whom sudo never
// asks) the line stays on stdin, and it must not reach bash as the script's first command, run as
// root: an inventory value is data, never shell code.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { type Command, toShell } from '../../../src/exec/command.ts';
import type { ConnectionSpec } from '../../../src/exec/connection.ts';
import { remoteShell, wrapScript } from '../../../src/exec/session.ts';
import { describeWith } from '../../support/requires.ts';

const SUDO = {
  what: 'sudo, run as root',
  available: spawnSync('sudo', ['-n', 'true']).status === 0 && process.getuid?.() === 0,
  fix: 'bash scripts/setup.sh (installs sudo), run as root',
};

describeWith(SUDO, 'become with a password', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'tp-become-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));
  const ran = join(scratch, 'password-ran');
  const password = `x; touch ${ran}; echo PASSWORD-RAN`;
  const spec = { scriptTimeoutSeconds: 30, user: 'admin', become: { user: 'root', password, flags: ['-H', '-S', '-n'] } } as unknown as ConnectionSpec;
  const script: Command = { parts: [{ kind: 'raw', text: `echo "script as $(id -un)"; read -r line; echo "read:\${line:-nothing}"` }] };

  /** The command as the host's login shell runs it, stdin a pipe (as from sshd) or a socket (a local run). */
  function runOnHost(command: string, input: string, over: 'pipe' | 'socket', env = process.env) {
    const file = join(scratch, 'stdin');
    writeFileSync(file, input);
    return over === 'pipe'
      ? spawnSync('/bin/sh', ['-c', `cat "$1" | ${command}`, 'sh', file], { encoding: 'utf8', env })
      : spawnSync('/bin/sh', ['-c', command], { input, encoding: 'utf8', env });
  }

  for (const over of ['pipe', 'socket'] as const) {
    it(`sudo that asks for no password: the script runs as root, the password line is never run (stdin a ${over})`, () => {
      const { command, stdinPrefix } = remoteShell(spec);
      const r = runOnHost(command, stdinPrefix + wrapScript(toShell(script)), over);
      expect(r.stdout).toBe('script as root\nread:nothing\n');
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(existsSync(ran)).toBe(false);
    });
  }

  // sudo -i and -s run the command through the target user's shell, escaping every character
  // but letters, digits, _, - and $: a `$name` in the command would be expanded by that shell
  // before bash sees it (so the marker loop would never find its marker).
  for (const flag of ['-i', '-s']) {
    it(`with become_flags ${flag} (the command through root's shell): the same, the password line never run`, () => {
      const { command, stdinPrefix } = remoteShell({ ...spec, become: { ...spec.become!, flags: [flag] } });
      expect(command).not.toMatch(/\$[A-Za-z0-9_-]/);
      const r = runOnHost(command, stdinPrefix + wrapScript(toShell(script)), 'pipe', { ...process.env, SHELL: '/bin/bash' });
      expect(r.stdout).toBe('script as root\nread:nothing\n');
      expect(r.status).toBe(0);
      expect(existsSync(ran)).toBe(false);
      const plain = remoteShell({ ...spec, become: { ...spec.become!, password: undefined, flags: [flag] } });
      const noPassword = runOnHost(plain.command, plain.stdinPrefix + wrapScript(toShell(script)), 'pipe', { ...process.env, SHELL: '/bin/bash' });
      expect(noPassword.stdout).toBe('script as root\nread:nothing\n');
    });
  }

  it('sudo that reads the password line (as sudo -S does, byte by byte): the script after it runs', () => {
    // A stand-in for a sudo that asks: it reads one line from stdin, checks it, runs the command.
    const bin = join(scratch, 'bin');
    spawnSync('mkdir', ['-p', bin]);
    writeFileSync(
      join(bin, 'sudo'),
      `#!/bin/sh\nIFS= read -r pw || exit 1\n[ "$pw" = '${password.replaceAll("'", "'\\''")}' ] || { echo 'Sorry, try again.' >&2; exit 1; }\nwhile [ "$1" != -- ]; do shift; done\nshift\nexec "$@"\n`,
    );
    chmodSync(join(bin, 'sudo'), 0o755);
    const { command, stdinPrefix } = remoteShell(spec);
    const r = runOnHost(command, stdinPrefix + wrapScript(toShell(script)), 'pipe', { ...process.env, PATH: `${bin}:${process.env.PATH}` });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('script as root\nread:nothing\n');
    expect(existsSync(ran)).toBe(false);
  });

  it('a wrong password costs sudo one attempt, not the three it reads from stdin: nothing runs, the refusal is on stderr', () => {
    // A stand-in for sudo -S: up to three attempts, each reading one line from stdin, a line it
    // cannot read ending them (as sudo stops at the end of its input); every attempt is noted.
    const bin = join(scratch, 'bin-tries');
    const attempts = join(scratch, 'attempts');
    spawnSync('mkdir', ['-p', bin]);
    writeFileSync(
      join(bin, 'sudo'),
      `#!/bin/sh\nfor try in 1 2 3; do\n  IFS= read -r pw || { echo "sudo: $((try - 1)) incorrect password attempts" >&2; exit 1; }\n  echo attempt >> ${attempts}\n  [ "$pw" = right ] && { while [ "$1" != -- ]; do shift; done; shift; exec "$@"; }\n  echo 'Sorry, try again.' >&2\ndone\necho 'sudo: 3 incorrect password attempts' >&2\nexit 1\n`,
    );
    chmodSync(join(bin, 'sudo'), 0o755);
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
    const wrong = remoteShell({ ...spec, become: { ...spec.become!, password: 'wrong' } });
    const refused = runOnHost(wrong.command, wrong.stdinPrefix + wrapScript(toShell(script)), 'pipe', env);
    // (The stand-in's own words on stderr prove nothing of the toolkit; the count does. Real sudo's
    // count is the lab's case: provision-cases.test.ts, "sudo's refusals".)
    expect(readFileSync(attempts, 'utf8')).toBe('attempt\n');
    expect(refused.stdout).toBe('');
    expect(refused.status).toBe(1);
    rmSync(attempts);
    const right = remoteShell({ ...spec, become: { ...spec.become!, password: 'right' } });
    const accepted = runOnHost(right.command, right.stdinPrefix + wrapScript(toShell(script)), 'pipe', env);
    expect(accepted.stdout).toBe('script as root\nread:nothing\n');
    expect(readFileSync(attempts, 'utf8')).toBe('attempt\nattempt\n');
  });

  it('the password travels on stdin only, never in the command line', () => {
    const { command, stdinPrefix } = remoteShell(spec);
    expect(command).not.toContain('PASSWORD-RAN');
    expect(stdinPrefix.startsWith(`${password}\n`)).toBe(true);
  });
});
