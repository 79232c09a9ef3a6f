// Values that came out of a vault: the plaintext put in place of inline `!vault` values, and
// every printable leaf of a decrypted value (each one a secret for the redactor). For the
// inventory's variables (load.ts) and the extra vars (extra-vars.ts) alike.
import { InventoryError } from './errors.ts';
import { UnsafeText, VaultedValue } from './model.ts';
import { isPyNumber } from './numbers.ts';
import { setOwn } from './records.ts';
import { decryptWithSecrets, type VaultSecret, VaultError } from './vault.ts';

/** A vault-encrypted file's text, decrypted; named with the file when no secret opens it. */
export function decryptedFile(text: string, secrets: readonly VaultSecret[], file: string): string {
  try {
    return decryptWithSecrets(text, secrets);
  } catch (error) {
    if (error instanceof VaultError) throw new InventoryError(error.message, { file });
    throw error;
  }
}

/**
 * Decrypts inline `!vault` values, once per ciphertext (a PBKDF2 each, not one per host), adding
 * every plaintext to `found`; a value no secret opens is an error naming its file and line.
 */
export function inlineDecrypter(secrets: readonly VaultSecret[], found: Set<string>): (value: VaultedValue) => string {
  const plain = new Map<string, string>();
  return (value) => {
    let text = plain.get(value.ciphertext);
    if (text === undefined) {
      try {
        text = decryptWithSecrets(value.ciphertext, secrets);
      } catch (error) {
        if (!(error instanceof VaultError)) throw error;
        const m = /^(.*):(\d+)$/.exec(value.origin);
        throw new InventoryError(`inline !vault value: ${error.message}`, m ? { file: m[1]!, line: Number(m[2]) } : { file: value.origin });
      }
      plain.set(value.ciphertext, text);
      found.add(text);
    }
    return text;
  };
}

/** String and number leaves of a value (what may be printed, so what the redactor must know). */
export function collectLeaves(value: unknown, out: Set<string>): void {
  if (typeof value === 'string' || isPyNumber(value) || value instanceof UnsafeText) out.add(String(value));
  else if (value instanceof VaultedValue) return;
  else if (Array.isArray(value)) for (const v of value) collectLeaves(v, out);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) collectLeaves(v, out);
}

/**
 * A copy with every VaultedValue replaced by its plaintext (nested values included), as
 * UnsafeText: Ansible never templates an inline `!vault` value (AnsibleVaultEncryptedUnicode is
 * unsafe), so a password holding `{#`, `{%` or `{{` is used as written. A whole vault-encrypted
 * file is ordinary YAML once decrypted, and its strings are templated (decryptedFile).
 */
export function decryptInline(value: unknown, decrypt: (v: VaultedValue) => string): unknown {
  if (value instanceof VaultedValue) return new UnsafeText(decrypt(value));
  if (Array.isArray(value)) return value.map((v) => decryptInline(v, decrypt));
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) setOwn(out, k, decryptInline(v, decrypt));
    return out;
  }
  return value;
}
