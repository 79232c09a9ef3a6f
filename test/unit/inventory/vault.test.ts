// Vault texts produced by the real ansible-vault (fixtures) decrypt with the right password only.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ANSIBLE_CORE, describeWith } from '../../support/requires.ts';
import { loadInventory, parseExtraVars, UnsafeText, type VaultedValue } from '../../../src/inventory/index.ts';
import { decryptVault, isVaultText, VaultError } from '../../../src/inventory/vault.ts';

const FIXTURES = resolve(import.meta.dirname, '../../fixtures/inventories');
const PASSWORD = readFileSync(join(FIXTURES, 'valid/yaml-types/vault-password.txt'), 'utf8').trim();

describe('vault', () => {
  it('decrypts a whole file encrypted by ansible-vault', () => {
    const text = readFileSync(join(FIXTURES, 'unit/vaulted-file/group_vars/agents.yml'), 'utf8');
    expect(isVaultText(text)).toBe(true);
    expect(decryptVault(text, ['wrong', PASSWORD])).toBe('agent_web_api_key: secret\n');
  });

  it('decrypts an inline !vault value', async () => {
    const inv = await loadInventory(join(FIXTURES, 'valid/yaml-types/hosts.yml'));
    const value = inv.hosts.get('vaulted')!.vars.agent_web_api_key as VaultedValue;
    expect(decryptVault(value.ciphertext, [PASSWORD])).toBe('s3cret-api-key');
  });

  it("-e @FILE: inline !vault values and a vault-encrypted file are decrypted with the run's secrets, and every value from them is a secret", () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-extra-vault-'));
    const hosts = readFileSync(join(FIXTURES, 'valid/yaml-types/hosts.yml'), 'utf8');
    const block = hosts.slice(hosts.indexOf('agent_web_api_key: !vault |'), hosts.indexOf('    merged:'));
    writeFileSync(join(dir, 'inline.yml'), `ansible_become_password: ${block.slice('agent_web_api_key: '.length).replace(/^ {16}/gm, '  ')}`);
    const secrets = [{ id: 'default', password: PASSWORD, source: 'test' }];
    const inline = parseExtraVars(['@inline.yml'], dir, secrets);
    // as UnsafeText: an inline vaulted value is never templated (Ansible's AnsibleVaultEncryptedUnicode)
    expect(inline.vars.ansible_become_password).toEqual(new UnsafeText('s3cret-api-key'));
    expect(inline.vaultValues).toEqual(['s3cret-api-key']);
    // Without a vault password: an error naming the file and the line, never the ciphertext used as a value.
    expect(() => parseExtraVars(['@inline.yml'], dir)).toThrow(
      new RegExp(`${join(dir, 'inline.yml')}:1: inline !vault value: Attempting to decrypt but no vault secrets found`),
    );
    // A whole file encrypted by ansible-vault.
    writeFileSync(join(dir, 'whole.yml'), readFileSync(join(FIXTURES, 'unit/vaulted-file/group_vars/agents.yml'), 'utf8'));
    const whole = parseExtraVars(['@whole.yml'], dir, secrets);
    expect(whole.vars.agent_web_api_key).toBe('secret');
    expect(whole.vaultValues).toEqual(['secret']);
    expect(() => parseExtraVars(['@whole.yml'], dir, [{ id: 'default', password: 'wrong', source: 'test' }])).toThrow(/whole\.yml: Decryption failed/);
    rmSync(dir, { recursive: true, force: true });
  });

  describeWith(ANSIBLE_CORE, 'with ansible-vault', () => {
    it('a decrypted value its tag refuses (!!int on a password) is not quoted in the error: it is a secret no mask knows yet', () => {
      const dir = mkdtempSync(join(tmpdir(), 'tp-vault-tag-'));
      writeFileSync(join(dir, 'pass'), `${PASSWORD}\n`);
      writeFileSync(join(dir, 'db.yml'), 'db_password: !!int Sup3rS3cret\n');
      expect(spawnSync('ansible-vault', ['encrypt', '--vault-password-file', join(dir, 'pass'), join(dir, 'db.yml')]).status).toBe(0);
      const secrets = [{ id: 'default', password: PASSWORD, source: 'test' }];
      expect(() => parseExtraVars(['@db.yml'], dir, secrets)).toThrow(/db\.yml:1: the value is not a valid !!int value; fix the value or remove the tag/);
      expect(() => parseExtraVars(['@db.yml'], dir, secrets)).not.toThrow(/Sup3rS3cret/);
      rmSync(dir, { recursive: true, force: true });
    });
  });

  it('refuses a wrong password and damaged text', () => {
    const text = readFileSync(join(FIXTURES, 'unit/vaulted-file/group_vars/agents.yml'), 'utf8');
    expect(() => decryptVault(text, ['wrong'])).toThrow(VaultError);
    expect(() => decryptVault(text, [])).toThrow(/no vault password/);
    expect(() => decryptVault('$ANSIBLE_VAULT;1.1;AES256\nzz', [PASSWORD])).toThrow(/damaged/);
  });
});
