// Vault texts produced by the real ansible-vault (fixtures) decrypt with the right password only.

import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadInventory, type VaultedValue } from '../../../src/inventory/index.ts';
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

  it('refuses a wrong password and damaged text', () => {
    const text = readFileSync(join(FIXTURES, 'unit/vaulted-file/group_vars/agents.yml'), 'utf8');
    expect(() => decryptVault(text, ['wrong'])).toThrow(VaultError);
    expect(() => decryptVault(text, [])).toThrow(/no vault password/);
    expect(() => decryptVault('$ANSIBLE_VAULT;1.1;AES256\nzz', [PASSWORD])).toThrow(/damaged/);
  });
});
