// Values that came out of a vault: the plaintext put in place of inline `!vault` values, and
// every printable leaf of a decrypted value (each one a secret for the redactor). For the
// inventory's variables (load.ts) and the extra vars (extra-vars.ts) alike.
import { UnsafeText, VaultedValue } from './model.ts';
import { isPyNumber } from './numbers.ts';
import { setOwn } from './records.ts';

/** String and number leaves of a value (what may be printed, so what the redactor must know). */
export function collectLeaves(value: unknown, out: Set<string>): void {
  if (typeof value === 'string' || isPyNumber(value) || value instanceof UnsafeText) out.add(String(value));
  else if (value instanceof VaultedValue) return;
  else if (Array.isArray(value)) for (const v of value) collectLeaves(v, out);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) collectLeaves(v, out);
}

/** A copy with every VaultedValue replaced by its plaintext (nested values included). */
export function decryptInline(value: unknown, decrypt: (v: VaultedValue) => string): unknown {
  if (value instanceof VaultedValue) return decrypt(value);
  if (Array.isArray(value)) return value.map((v) => decryptInline(v, decrypt));
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) setOwn(out, k, decryptInline(v, decrypt));
    return out;
  }
  return value;
}
