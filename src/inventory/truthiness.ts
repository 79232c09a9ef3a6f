// Ansible's `| bool`, in one place (connection switches, role switches, provision_* all use it).
import { UnsafeText } from './model.ts';
import { PyFloat } from './numbers.ts';

// Ansible's own boolean() word lists (module_utils/parsing/convert_bool.py).
const TRUE_WORDS = ['true', 'yes', 'on', '1', 'y', 't'];
const FALSE_WORDS = ['false', 'no', 'off', '0', 'n', 'f'];

/** What a boolean setting may be, for the errors that refuse any other value. */
export const BOOLEAN_WORDS = 'write true or false (yes/no, on/off, 1/0, y/n, t/f also do, in any case)';

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

/** ansible-core's `bool` filter (plugins/filter/core.py to_bool) is true only for these, as
 *  written (lowercased, not trimmed); `boolean()` above also takes "y", "t" and padded words. */
const FILTER_TRUE_WORDS = ['yes', 'on', '1', 'true'];

/**
 * A word that `boolean()` reads as true but the `bool` filter as false ("y", "t", " yes"): the
 * official playbook applies the filter to some switches (VariableSpec.boolFilter), its modules
 * read others with boolean(). For those switches such a value means two things; the settings
 * refuse it rather than pick one.
 */
export function ambiguousBoolProblem(value: unknown): string | undefined {
  const text = value instanceof UnsafeText ? value.text : value;
  if (typeof text !== 'string' || ansibleBool(text) !== true || FILTER_TRUE_WORDS.includes(text.toLowerCase())) return undefined;
  return `is ${JSON.stringify(text)}, which Ansible's modules read as true but its bool filter (which the official playbook applies to some switches) as false: write true or false`;
}
