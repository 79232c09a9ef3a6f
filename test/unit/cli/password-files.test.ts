// The SSH and sudo passwords from files (--connection-password-file, --become-password-file and
// their ansible.cfg / ANSIBLE_* settings), read as ansible-playbook's get_password_from_file reads
// them; the flags as its argument groups take them.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCli } from '../../../src/cli/args.ts';
import { type PasswordFile, PasswordFileError, passwordFromFile } from '../../../src/cli/password-files.ts';
import { packageRoot } from '../../../src/cli/invocation.ts';
import { resolveVaultSecrets } from '../../../src/cli/vault-secrets.ts';
import { cliEntry } from '../../support/compiled-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'tp-pwfile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const flag = (path: string, origin = '--become-password-file'): PasswordFile => ({ path, origin, fromCommandLine: true });
const ctx = { cwd: dir, env: {}, home: join(dir, 'home') };

describe('a password from a file, as ansible-playbook reads it', () => {
  it('a plain file: the password without the whitespace and line breaks around it', async () => {
    writeFileSync(join(dir, 'plain'), '  s3cret pass\t\r\n\n');
    expect(await passwordFromFile(flag('plain'), ctx)).toBe('s3cret pass');
  });

  it('an executable file is run and prints it (only the line breaks around it dropped); ~ and $VARS are expanded as Ansible opens the path', async () => {
    mkdirSync(join(dir, 'home', 'bin'), { recursive: true });
    writeFileSync(join(dir, 'home', 'bin', 'pw.sh'), "#!/bin/sh\nprintf ' from script \\n'\n", { mode: 0o700 });
    expect(await passwordFromFile(flag('~/bin/pw.sh'), ctx)).toBe(' from script ');
    expect(await passwordFromFile(flag('$PWDIR/pw.sh'), { ...ctx, env: { PWDIR: join(dir, 'home', 'bin') } })).toBe(' from script ');
  });

  it('a pipe is read as a file, as Ansible reads one (`<(pass show ...)`, a FIFO): the become and vault password files alike', async () => {
    const fifo = join(dir, 'fifo');
    spawnSync('mkfifo', [fifo]);
    // the writer: another process, as a shell's process substitution is
    const writer = spawn('/bin/sh', ['-c', `printf 'from-a-pipe\\n' > ${fifo}`]);
    expect(await passwordFromFile(flag('fifo'), ctx)).toBe('from-a-pipe');
    await new Promise((r) => writer.on('close', r));
    const vaultWriter = spawn('/bin/sh', ['-c', `printf 'vault-from-a-pipe\\n' > ${fifo}`]);
    const secrets = await resolveVaultSecrets({ vaultIds: [], passwordFiles: [fifo], askVaultPass: false }, async () => '', dir);
    expect(secrets.map((s) => s.password)).toEqual(['vault-from-a-pipe']);
    await new Promise((r) => vaultWriter.on('close', r));
    // a folder is no password source
    await expect(passwordFromFile(flag('.'), ctx)).rejects.toThrow(/was not found/);
  });

  it('- is the whole of stdin (on the command line only)', async () => {
    expect(await passwordFromFile(flag('-'), { ...ctx, readStdin: () => Buffer.from('from-stdin\n') })).toBe('from-stdin');
  });

  it('a setting names an absolute path already: it is not resolved again', async () => {
    writeFileSync(join(dir, 'abs'), 'abs-pass\n');
    const setting: PasswordFile = { path: join(dir, 'abs'), origin: 'env: ANSIBLE_BECOME_PASSWORD_FILE', fromCommandLine: false };
    expect(await passwordFromFile(setting, { ...ctx, cwd: '/nonexistent' })).toBe('abs-pass');
  });

  it('a missing file, a failing script and an empty password are errors naming the file and where it was set', async () => {
    await expect(passwordFromFile(flag('nope', '--connection-password-file'), ctx)).rejects.toThrow(
      new RegExp(`^--connection-password-file: the password file ${dir}/nope was not found`),
    );
    writeFileSync(join(dir, 'fails.sh'), '#!/bin/sh\necho locked out >&2\nexit 5\n', { mode: 0o700 });
    await expect(passwordFromFile(flag('fails.sh'), ctx)).rejects.toThrow(
      /the password script .*fails\.sh returned an error \(rc=5\): locked out; if it is not a script/,
    );
    writeFileSync(join(dir, 'blank'), ' \n\n');
    const blank = passwordFromFile(flag('blank'), ctx);
    await expect(blank).rejects.toBeInstanceOf(PasswordFileError);
    await expect(blank).rejects.toThrow(/^--become-password-file: an empty password was provided from file \(.*blank\)$/);
    await expect(passwordFromFile(flag('-'), { ...ctx, readStdin: () => Buffer.from('\r\n') })).rejects.toThrow(/empty password was provided from stdin/);
  });
});

describe('a password file that cannot give one password', () => {
  it('a password of several lines is an error (sudo and sshpass would read its first line); stdin that cannot be read too', async () => {
    writeFileSync(join(dir, 'two-lines'), 'first\nsecond\n');
    await expect(passwordFromFile(flag('two-lines'), ctx)).rejects.toThrow(
      /^--become-password-file: the password from file \(.*two-lines\) holds a line break; put the password alone on one line$/,
    );
    const closed = () => {
      throw Object.assign(new Error('EAGAIN: resource temporarily unavailable, read'), { code: 'EAGAIN' });
    };
    const error = await passwordFromFile(flag('-'), { ...ctx, readStdin: closed }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PasswordFileError);
    expect((error as Error).message).toBe('--become-password-file: could not read the password from stdin: EAGAIN: resource temporarily unavailable, read');
  });

  it('--list-hosts reads none (it connects nowhere, as ansible-playbook asks nothing there)', () => {
    writeFileSync(join(dir, 'list-inv'), '[agents]\nh1 ansible_host=192.0.2.9\n');
    const run = spawnSync(
      process.execPath,
      [cliEntry('provision'), '-i', join(dir, 'list-inv'), '--list-hosts', '--become-password-file', join(dir, 'missing')],
      {
        encoding: 'utf8',
      },
    );
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('h1');
  });
});

describe('the flags and the settings', () => {
  const repo = packageRoot(import.meta.url);
  const noSettings = { settings: { origins: {}, warnings: [] }, cwd: dir };
  writeFileSync(join(dir, 'hosts'), 'h1\n');

  it("both of Ansible's names for each flag; relative to the admin's folder when read", () => {
    const cli = parseCli(['-i', 'hosts', '--conn-pass-file', 'ssh', '--become-password-file', 'sudo'], {}, repo, noSettings);
    expect(cli.ssh.passwordFile).toEqual({ path: 'ssh', origin: '--conn-pass-file', fromCommandLine: true });
    expect(cli.become.passwordFile).toEqual({ path: 'sudo', origin: '--become-password-file', fromCommandLine: true });
    expect(parseCli(['-i', 'hosts', '--connection-password-file', 'a', '--become-pass-file', 'b'], {}, repo, noSettings)).toMatchObject({
      ssh: { passwordFile: { origin: '--connection-password-file' } },
      become: { passwordFile: { origin: '--become-pass-file' } },
    });
  });

  it('a flag beside the prompt it stands in for is refused, as by ansible-playbook; an empty one too', () => {
    expect(() => parseCli(['-i', 'hosts', '-k', '--connection-password-file', 'ssh'], {}, repo, noSettings)).toThrow(
      /--connection-password-file does not go with -k\/--ask-pass/,
    );
    expect(() => parseCli(['-i', 'hosts', '-K', '--become-pass-file', 'x'], {}, repo, noSettings)).toThrow(
      /--become-pass-file does not go with -K\/--ask-become-pass/,
    );
    expect(() => parseCli(['-i', 'hosts', '--become-password-file', ''], {}, repo, noSettings)).toThrow(/needs a FILE/);
  });

  it("ansible.cfg's and ANSIBLE_*'s: the flag wins; ask_pass beside the setting is no conflict (the prompt wins, as in Ansible)", () => {
    const settings = {
      origins: { connectionPasswordFile: '/site/ansible.cfg [defaults] connection_password_file', becomePasswordFile: 'env: ANSIBLE_BECOME_PASSWORD_FILE' },
      warnings: [],
      connectionPasswordFile: '/site/ssh-pass',
      becomePasswordFile: '/run/sudo-pass',
      askPass: true,
    };
    const cli = parseCli(['-i', 'hosts'], {}, repo, { settings, cwd: dir });
    expect(cli.ssh).toMatchObject({
      askPass: true,
      passwordFile: { path: '/site/ssh-pass', origin: '/site/ansible.cfg [defaults] connection_password_file', fromCommandLine: false },
    });
    expect(cli.become.passwordFile).toEqual({ path: '/run/sudo-pass', origin: 'env: ANSIBLE_BECOME_PASSWORD_FILE', fromCommandLine: false });
    expect(parseCli(['-i', 'hosts', '--become-pass-file', 'mine'], {}, repo, { settings, cwd: dir }).become.passwordFile?.origin).toBe('--become-pass-file');
  });
});
