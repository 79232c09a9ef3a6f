// The inventory layer's entry point: load Ansible inventories (INI, YAML, folders of them,
// group_vars/ and host_vars/), select hosts with Ansible patterns, parse -e extra vars.
// Numbers: safe ints are numbers, bigger ints bigints, floats PyFloat (numbers.ts).

export { InventoryError } from './errors.ts';
export { loadInventory, type LoadedInventory, type LoadOptions } from './load.ts';
export { decryptWithSecrets, type VaultSecret, VaultError } from './vault.ts';
export { plainValue, UnsafeText, VaultedValue } from './model.ts';
export { PyFloat, isPyNumber, type PyInt } from './numbers.ts';
export type { GroupEntry, HostEntry, Inventory } from './model.ts';
export {
  selectHosts,
  limitHosts,
  matchHosts,
  splitHostPattern,
  groupHosts,
  HOST_PATTERN_MISMATCH,
  type HostPatternMismatch,
  type Selection,
  type SelectOptions,
} from './patterns.ts';
export { parseExtraVars, type ExtraVars } from './extra-vars.ts';
