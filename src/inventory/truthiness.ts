// Ansible's `| bool`, in one place (connection switches, role switches, provision_* all use it).
import { UnsafeText } from './model.ts';
import { PyFloat } from './numbers.ts';

// Ansible's own boolean() word lists (module_utils/parsing/convert_bool.py).
const TRUE_WORDS = ['true', 'yes', 'on', '1', 'y', 't'];
const FALSE_WORDS = ['false', 'no', 'off', '0', 'n', 'f'];

/** Ansible's `| bool`: YAML booleans, 1/0, and the usual words in any case. */
export function ansibleBool(value: unknown): boolean | undefined {
  if (value instanceof UnsafeText) return ansibleBool(value.text);
  if (typeof value === 'boolean') return value;
  const number = value instanceof PyFloat ? value.value : value; // Python: 1.0 == 1
  if (number === 1 || number === 0) return number === 1;
  if (typeof value !== 'string') return undefined;
  const word = value.trim().toLowerCase();
  if (TRUE_WORDS.includes(word)) return true;
  if (FALSE_WORDS.includes(word)) return false;
  return undefined;
}
