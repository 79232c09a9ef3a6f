// Ansible Vault 1.1/1.2 (AES256) decryption. loadInventory uses it when given vault secrets
// (LoadOptions.vault): whole group_vars/host_vars files and inline `!vault` values.
//
// Format: "$ANSIBLE_VAULT;1.1;AES256[;vault-id]\n" + hex lines; the hex decodes to
// "hex(salt)\nhex(hmac)\nhex(ciphertext)". Keys: PBKDF2-HMAC-SHA256(password, salt, 10000
// iterations, 80 bytes) = AES key (32) + HMAC key (32) + CTR counter (16). Plaintext is
// PKCS#7 padded.

import { createDecipheriv, createHmac, pbkdf2Sync, timingSafeEqual } from 'node:crypto';

export class VaultError extends Error {}

export interface VaultEnvelope {
  version: string;
  cipher: string;
  vaultId: string | undefined;
  salt: Buffer;
  hmac: Buffer;
  ciphertext: Buffer;
}

export function isVaultText(text: string): boolean {
  return text.trimStart().startsWith('$ANSIBLE_VAULT;');
}

export function parseVaultEnvelope(text: string): VaultEnvelope {
  const lines = text.trim().split(/\r?\n/);
  const header = lines[0]!.trim().split(';');
  if (header[0] !== '$ANSIBLE_VAULT' || header.length < 3) throw new VaultError('not an Ansible Vault text (no $ANSIBLE_VAULT header)');
  const [, version, cipher, vaultId] = header as [string, string, string, string | undefined];
  if (cipher !== 'AES256') throw new VaultError(`unsupported vault cipher ${cipher}; only AES256 exists in Ansible`);
  const hex = lines
    .slice(1)
    .map((l) => l.trim())
    .join('');
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(hex)) throw new VaultError('the vault text is damaged (not hexadecimal)');
  const parts = Buffer.from(hex, 'hex').toString('ascii').split('\n');
  if (parts.length !== 3) throw new VaultError('the vault text is damaged (expected salt, hmac and ciphertext)');
  const [salt, hmac, ciphertext] = parts.map((p) => Buffer.from(p, 'hex')) as [Buffer, Buffer, Buffer];
  return { version, cipher, vaultId, salt, hmac, ciphertext };
}

/** Tries each password; throws VaultError when none fits (HMAC mismatch), like Ansible's "Decryption failed". */
export function decryptVault(text: string, passwords: string[]): string {
  const envelope = parseVaultEnvelope(text);
  for (const password of passwords) {
    const derived = pbkdf2Sync(Buffer.from(password, 'utf8'), envelope.salt, 10000, 80, 'sha256');
    const aesKey = derived.subarray(0, 32);
    const hmacKey = derived.subarray(32, 64);
    const counter = derived.subarray(64, 80);
    const expected = createHmac('sha256', hmacKey).update(envelope.ciphertext).digest();
    if (expected.length !== envelope.hmac.length || !timingSafeEqual(expected, envelope.hmac)) continue;
    const decipher = createDecipheriv('aes-256-ctr', aesKey, counter);
    const padded = Buffer.concat([decipher.update(envelope.ciphertext), decipher.final()]);
    const pad = padded[padded.length - 1] ?? 0;
    if (pad < 1 || pad > 16 || pad > padded.length) throw new VaultError('the vault text is damaged (bad padding)');
    return padded.subarray(0, padded.length - pad).toString('utf8');
  }
  throw new VaultError(
    passwords.length
      ? 'Decryption failed: no vault password given matches (check --vault-password-file / --vault-id)'
      : 'the value is vault-encrypted and no vault password was given',
  );
}

/** One vault password and where it came from (--vault-id label@source, a password file, a prompt). */
export interface VaultSecret {
  /** The vault id label ('default' when none was given, as Ansible). */
  id: string;
  password: string;
  /** What gave the password (a file path, 'prompt'), for messages; never the password. */
  source: string;
}

/**
 * Decrypts with the secrets whose label matches the envelope's vault id first, then every other
 * one, as Ansible does with DEFAULT_VAULT_ID_MATCH off.
 */
export function decryptWithSecrets(text: string, secrets: readonly VaultSecret[]): string {
  const vaultId = isVaultText(text) ? parseVaultEnvelope(text).vaultId : undefined;
  const ordered = vaultId ? [...secrets.filter((s) => s.id === vaultId), ...secrets.filter((s) => s.id !== vaultId)] : [...secrets];
  if (ordered.length === 0) {
    throw new VaultError('Attempting to decrypt but no vault secrets found: give --vault-password-file FILE, --ask-vault-pass or --vault-id [LABEL@]SOURCE');
  }
  try {
    return decryptVault(
      text,
      ordered.map((s) => s.password),
    );
  } catch (error) {
    if (error instanceof VaultError && /^Decryption failed/.test(error.message)) {
      const tried = [...new Set(ordered.map((s) => (s.id === 'default' ? s.source : `${s.id}@${s.source}`)))].join(', ');
      throw new VaultError(
        `Decryption failed (no vault secrets were found that could decrypt${vaultId ? ` vault id "${vaultId}"` : ''}); tried the password(s) from ${tried}: check the vault password`,
      );
    }
    throw error;
  }
}
