// Vault wired in: files and values encrypted by the real ansible-vault in this set-up are
// decrypted with passwords from every source ansible-playbook knows; a wrong password is an
// error naming the file; every decrypted value is reported as a secret.
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { askBecomePassword, PromptInterrupted, readHidden } from '../../../src/cli/prompt.ts';
import { resolveVaultSecrets, VaultSecretError } from '../../../src/cli/vault-secrets.ts';
import { InventoryError, loadInventory, UnsafeText, type VaultSecret } from '../../../src/inventory/index.ts';
import { ANSIBLE_CORE, describeWith } from '../../support/requires.ts';
import { cliEntry } from '../../support/compiled-cli.ts';

const execFileP = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'tp-vault-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PASSWORD = 'correct horse battery';
const PROD_PASSWORD = 'prod-only-password';
const inv = join(dir, 'inv');
const noPrompt = async (): Promise<string> => {
  throw new Error('no prompt expected');
};

async function vault(args: string[]): Promise<string> {
  const { stdout } = await execFileP('ansible-vault', args, { cwd: dir });
  return stdout;
}

beforeAll(async () => {
  if (!ANSIBLE_CORE.available) return;
  mkdirSync(join(inv, 'group_vars'), { recursive: true });
  mkdirSync(join(inv, 'host_vars'), { recursive: true });
  writeFileSync(join(dir, 'pass.txt'), `${PASSWORD}\n`);
  writeFileSync(join(dir, 'prod.txt'), PROD_PASSWORD);
  writeFileSync(join(dir, 'wrong.txt'), 'not the password\n');
  writeFileSync(join(inv, 'hosts'), '[agents]\nweb1 ansible_host=192.0.2.1\nweb2 ansible_host=192.0.2.2\n');
  // Whole file, default id.
  writeFileSync(
    join(inv, 'group_vars', 'agents.yml'),
    'agent_web_api_key: vaulted-api-key-123\nagent_rabbitmq_host: rabbit.internal.example\nnested:\n  list: [one-vaulted, 42]\n',
  );
  await vault(['encrypt', '--vault-password-file', 'pass.txt', join(inv, 'group_vars', 'agents.yml')]);
  // Inline value with the label "prod", in an otherwise plain file.
  const inline = await vault(['encrypt_string', '--vault-id', 'prod@prod.txt', 'inline-rabbit-pass-456', '--name', 'agent_rabbitmq_password']);
  writeFileSync(join(inv, 'host_vars', 'web1.yml'), `${inline}\nplain_value: visible\n`);
});

const secretsFrom = (sources: Parameters<typeof resolveVaultSecrets>[0]) => resolveVaultSecrets(sources, noPrompt, dir);

describeWith(ANSIBLE_CORE, 'vault in the inventory', () => {
  it('decrypts a whole group_vars file and inline !vault values (labels matched first); every decrypted value is a vault value', async () => {
    const secrets = await secretsFrom({ vaultIds: ['prod@prod.txt'], passwordFiles: ['pass.txt'], askVaultPass: false });
    expect(secrets.map((s) => s.id)).toEqual(['prod', 'default']);
    const loaded = await loadInventory(inv, { vault: { secrets, decryptValues: true } });
    const web1 = loaded.hosts.get('web1')!.vars;
    expect(web1).toMatchObject({
      agent_web_api_key: 'vaulted-api-key-123',
      agent_rabbitmq_host: 'rabbit.internal.example',
      agent_rabbitmq_password: new UnsafeText('inline-rabbit-pass-456'), // never templated, as in Ansible
      nested: { list: ['one-vaulted', 42] },
      plain_value: 'visible',
    });
    expect(loaded.hosts.get('web2')!.vars.agent_web_api_key).toBe('vaulted-api-key-123');
    expect(loaded.encryptedFiles).toEqual([]);
    expect(loaded.hosts.get('web1')!.origins.agent_web_api_key).toBe(`${join(inv, 'group_vars', 'agents.yml')}:1`);
    expect(new Set(loaded.vaultValues)).toEqual(new Set(['vaulted-api-key-123', 'rabbit.internal.example', 'one-vaulted', '42', 'inline-rabbit-pass-456']));
    expect(loaded.vaultValues).not.toContain('visible');
  });

  it('a listing (ansible-inventory) decrypts whole files but keeps inline values encrypted', async () => {
    const secrets = await secretsFrom({ vaultIds: [], passwordFiles: ['pass.txt'], askVaultPass: false });
    const loaded = await loadInventory(inv, { vault: { secrets } });
    expect(loaded.hosts.get('web1')!.vars.agent_web_api_key).toBe('vaulted-api-key-123');
    expect(JSON.stringify(loaded.hosts.get('web1')!.vars.agent_rabbitmq_password)).toMatch(/__ansible_vault/);
  });

  it('npm run inventory -- --vault-password-file prints what ansible-inventory prints', async () => {
    const args = ['-i', inv, '--list', '--vault-password-file', join(dir, 'pass.txt')];
    const [ours, theirs] = await Promise.all([
      execFileP(process.execPath, [cliEntry('inventory'), ...args], { cwd: dir }),
      execFileP('ansible-inventory', args, { cwd: dir }),
    ]);
    const norm = (text: string) => JSON.parse(text.replace(/\\n"/g, '"')) as unknown; // trailing newline of ciphertexts
    expect(norm(ours.stdout)).toEqual(norm(theirs.stdout));
  });

  it('npm run inventory without a vault password fails on an encrypted vars file, naming it, as ansible-inventory does', async () => {
    const args = ['-i', inv, '--list'];
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ANSIBLE_')));
    const [ours, theirs] = await Promise.all([
      execFileP(process.execPath, [cliEntry('inventory'), ...args], { cwd: dir, env: clean }).then(
        () => null,
        (e: { code: number; stderr: string }) => e,
      ),
      execFileP('ansible-inventory', args, { cwd: dir, env: clean }).then(
        () => null,
        (e: { code: number; stderr: string }) => e,
      ),
    ]);
    expect(theirs?.code ?? 0).not.toBe(0);
    expect(ours?.code).toBe(1);
    expect(ours?.stderr).toContain(`${join(inv, 'group_vars', 'agents.yml')}: Attempting to decrypt but no vault secrets found`);
  });

  it('a wrong password is an error naming the file; so is a missing one; so is a wrong one for an inline value (file:line)', async () => {
    const wrong: VaultSecret[] = [{ id: 'default', password: 'nope', source: join(dir, 'wrong.txt') }];
    await expect(loadInventory(inv, { vault: { secrets: wrong } })).rejects.toThrow(InventoryError);
    await expect(loadInventory(inv, { vault: { secrets: wrong } })).rejects.toThrow(
      new RegExp(`^${join(inv, 'group_vars', 'agents.yml')}: Decryption failed .*wrong\\.txt`),
    );
    await expect(loadInventory(inv, { vault: { secrets: [] } })).rejects.toThrow(/agents\.yml: Attempting to decrypt but no vault secrets found/);
    const onlyDefault = await secretsFrom({ vaultIds: [], passwordFiles: ['pass.txt'], askVaultPass: false });
    await expect(loadInventory(inv, { vault: { secrets: onlyDefault, decryptValues: true } })).rejects.toThrow(
      new RegExp(`^${join(inv, 'host_vars', 'web1.yml')}:1: inline !vault value: Decryption failed.*vault id "prod"`),
    );
  });

  it("a run needs only the vaults of its hosts' variables, as ansible-playbook (which decrypts what the play reads): another host's that does not open fails that host alone", async () => {
    const onlyDefault = await secretsFrom({ vaultIds: [], passwordFiles: ['pass.txt'], askVaultPass: false });
    const loaded = await loadInventory(inv, { vault: { secrets: onlyDefault, decryptValues: true, deferUnreadable: true } });
    expect(loaded.hosts.get('web2')!.unreadable).toBeUndefined();
    expect(loaded.hosts.get('web2')!.vars.agent_web_api_key).toBe('vaulted-api-key-123');
    expect(loaded.hosts.get('web1')!.unreadable?.map((e) => e.message)).toEqual([
      expect.stringMatching(new RegExp(`^${join(inv, 'host_vars', 'web1.yml')}:1: inline !vault value: Decryption failed.*vault id "prod"`)),
    ]);
    // A whole file no password opens: every host of its group is marked, the load does not fail.
    const none = await loadInventory(inv, { vault: { secrets: [], decryptValues: true, deferUnreadable: true } });
    expect([...none.hosts.values()].map((h) => h.unreadable?.[0]?.message)).toEqual([
      expect.stringMatching(/agents\.yml: Attempting to decrypt but no vault secrets found/),
      expect.stringMatching(/agents\.yml: Attempting to decrypt but no vault secrets found/),
    ]);
    // The CLI: --limit web2 gets past the vaults (to the settings, which lack a RabbitMQ password
    // there), --limit web1 stops on web1's, naming it.
    const run = (limit: string) =>
      execFileP(process.execPath, [cliEntry('provision'), '-i', inv, '--syntax-check', '--vault-password-file', 'pass.txt', '--limit', limit], {
        cwd: dir,
        env: { ...process.env, NO_COLOR: '1' },
      }).then(
        () => ({ code: 0, out: '' }),
        (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
      );
    const [web2, web1] = await Promise.all([run('web2'), run('web1')]);
    expect(web2.out).not.toMatch(/vault/i);
    expect(web2.out).toMatch(/agent_rabbitmq_password/);
    expect(web1.code).toBe(1);
    expect(web1.out).toMatch(/ERROR! .*web1\.yml:1: inline !vault value: Decryption failed/);
  }, 60_000);

  it('without the vault option the old behaviour stays: encrypted files skipped with a warning', async () => {
    const loaded = await loadInventory(inv);
    expect(loaded.encryptedFiles).toEqual([join(inv, 'group_vars', 'agents.yml')]);
    expect(loaded.warnings.join()).toMatch(/encrypted with Ansible Vault/);
  });
});

describe('vault password sources', () => {
  it('a password file (stripped), an executable script, a *-client script with --vault-id, LABEL@prompt and --ask-vault-pass', async () => {
    writeFileSync(join(dir, 'file.txt'), '  from-file  \n');
    writeFileSync(join(dir, 'script.sh'), '#!/bin/sh\nprintf "from-script\\n"\n');
    chmodSync(join(dir, 'script.sh'), 0o755);
    writeFileSync(join(dir, 'keyring-client.sh'), '#!/bin/sh\nprintf "client-%s-%s" "$1" "$2"\n');
    chmodSync(join(dir, 'keyring-client.sh'), 0o755);
    const asked: string[] = [];
    const prompt = async (q: string) => {
      asked.push(q);
      return `typed-${asked.length}`;
    };
    const secrets = await resolveVaultSecrets(
      { vaultIds: ['dev@prompt', 'ring@keyring-client.sh'], passwordFiles: ['file.txt', join(dir, 'script.sh')], askVaultPass: true },
      prompt,
      dir,
    );
    expect(secrets.map(({ id, password }) => [id, password])).toEqual([
      ['dev', 'typed-1'],
      ['ring', 'client---vault-id-ring'],
      ['default', 'typed-2'],
      ['default', 'from-file'],
      ['default', 'from-script'],
    ]);
    expect(asked).toEqual(['Vault password (dev): ', 'Vault password: ']);
  });

  it('~ and $VARS in a source are expanded as Ansible opens it (unfrackpath): --vault-id prod@~/... has a ~ no shell expanded', async () => {
    const home = join(dir, 'home-of-the-admin');
    mkdirSync(join(home, '.vault'), { recursive: true });
    writeFileSync(join(home, '.vault', 'prod'), 'from-home\n');
    const secrets = await resolveVaultSecrets(
      { vaultIds: ['prod@~/.vault/prod', 'env@$VAULT_DIR/prod'], passwordFiles: ['~/.vault/prod'], askVaultPass: false },
      noPrompt,
      dir,
      { VAULT_DIR: join(home, '.vault') },
      home,
    );
    expect(secrets.map(({ id, password, source }) => [id, password, source])).toEqual([
      ['prod', 'from-home', join(home, '.vault', 'prod')],
      ['env', 'from-home', join(home, '.vault', 'prod')],
      ['default', 'from-home', join(home, '.vault', 'prod')],
    ]);
  });

  it('a missing file, an empty password and a failing script are clear errors', async () => {
    await expect(resolveVaultSecrets({ vaultIds: [], passwordFiles: ['nope.txt'], askVaultPass: false }, noPrompt, dir)).rejects.toThrow(
      /vault password file .*nope\.txt was not found/,
    );
    writeFileSync(join(dir, 'empty.txt'), '\n');
    await expect(resolveVaultSecrets({ vaultIds: [], passwordFiles: ['empty.txt'], askVaultPass: false }, noPrompt, dir)).rejects.toThrow(VaultSecretError);
    writeFileSync(join(dir, 'fail.sh'), '#!/bin/sh\necho locked >&2\nexit 3\n');
    chmodSync(join(dir, 'fail.sh'), 0o755);
    await expect(resolveVaultSecrets({ vaultIds: ['x@fail.sh'], passwordFiles: [], askVaultPass: false }, noPrompt, dir)).rejects.toThrow(
      /returned non-zero \(3\): locked/,
    );
  });

  it('the prompt reads without echo: backspace, Ctrl-U, Enter; no terminal is an error', async () => {
    const input = Object.assign(new PassThrough(), {
      isTTY: true,
      raw: false,
      setRawMode(r: boolean) {
        input.raw = r;
      },
    });
    // Echo must already be off when the question is written: an answer typed the moment it
    // shows would otherwise be echoed in clear.
    let rawWhenAsked: boolean | undefined;
    const output = new PassThrough();
    const write = output.write.bind(output) as (chunk: string) => boolean;
    output.write = ((chunk: string) => {
      rawWhenAsked ??= input.raw;
      return write(chunk);
    }) as typeof output.write;
    let shown = '';
    output.on('data', (c: Buffer) => (shown += c.toString()));
    const answer = readHidden('Vault password: ', input, output);
    expect(rawWhenAsked).toBe(true);
    expect(input.raw).toBe(true);
    input.write('junk\u0015pas');
    input.write('x\u007fs-w\r');
    expect(await answer).toBe('pass-w');
    expect(input.raw).toBe(false);
    expect(shown).toBe('Vault password: \n');
    await expect(readHidden('Vault password: ', new PassThrough(), output)).rejects.toThrow(/no terminal/);
    // Ctrl-C at the prompt is the admin stopping the run (exit 99 in scripts/provision.ts), not a settings error
    const stopped = readHidden('Vault password: ', input, output);
    input.write('half\u0003');
    await expect(stopped).rejects.toBeInstanceOf(PromptInterrupted);
    expect(input.raw).toBe(false);
    expect(readFileSync(join(dir, 'prod.txt'), 'utf8')).toBe(PROD_PASSWORD);
  });

  it('a signal while the prompt waits (SIGTERM, a hangup: not read as keys) ends it as an interruption; a terminal that ends or fails ends it as an error', async () => {
    const tty = () =>
      Object.assign(new PassThrough(), {
        isTTY: true,
        setRawMode(_r: boolean) {},
      });
    const stop = new AbortController();
    const asked = readHidden('Vault password: ', tty(), new PassThrough(), stop.signal);
    stop.abort('SIGTERM');
    await expect(asked).rejects.toThrow(new PromptInterrupted('User interrupted execution (SIGTERM at the password prompt)'));
    await expect(readHidden('Vault password: ', tty(), new PassThrough(), stop.signal)).rejects.toBeInstanceOf(PromptInterrupted);
    const closing = tty();
    const closed = readHidden('Vault password: ', closing, new PassThrough());
    closing.end();
    closing.resume();
    await expect(closed).rejects.toThrow(/the terminal closed before a password was given/);
    const failing = tty();
    const failed = readHidden('Vault password: ', failing, new PassThrough());
    failing.emit('error', new Error('EIO'));
    await expect(failed).rejects.toThrow(/the terminal closed/);
  });
});

describe('-K after -k (askBecomePassword)', () => {
  it("says it defaults to the SSH password, and an empty answer is that password, as ansible-playbook's", async () => {
    const asked: string[] = [];
    const answering = (answer: string) => async (question: string) => {
      asked.push(question);
      return answer;
    };
    expect(await askBecomePassword(answering(''), 'ssh-secret')).toBe('ssh-secret');
    expect(await askBecomePassword(answering('sudo-secret'), 'ssh-secret')).toBe('sudo-secret');
    // without -k: its own password, an empty one included
    expect(await askBecomePassword(answering(''), undefined)).toBe('');
    expect(asked).toEqual(['BECOME password[defaults to SSH password]: ', 'BECOME password[defaults to SSH password]: ', 'BECOME password: ']);
  });
});
