// The data the inventory layer hands to the rest of the toolkit.

import { setOwn } from './records.ts';
import type { InventoryError } from './errors.ts';

/**
 * A value Ansible Vault encrypted (`!vault |` in YAML). Kept opaque: nothing here can decrypt
 * it, and it must never be printed as if it were the secret. JSON output matches
 * ansible-inventory's (`{"__ansible_vault": "<ciphertext>"}`).
 */
export class VaultedValue {
  constructor(
    /** The `$ANSIBLE_VAULT;1.1;AES256...` envelope, as written in the file. */
    readonly ciphertext: string,
    /** file:line of the value */
    readonly origin: string,
  ) {}

  toJSON(): { __ansible_vault: string } {
    return { __ansible_vault: this.ciphertext };
  }

  toString(): string {
    return '<vaulted value>';
  }
}

/**
 * A YAML `!unsafe` string: Ansible never templates it, so a `{{` or `{%` inside is literal text
 * (the usual way to write a password with braces). The settings layer reads its text without
 * evaluating it; JSON output matches ansible-inventory's (`{"__ansible_unsafe": "<text>"}`).
 */
export class UnsafeText {
  constructor(readonly text: string) {}

  toJSON(): { __ansible_unsafe: string } {
    return { __ansible_unsafe: this.text };
  }

  toString(): string {
    return this.text;
  }
}

/** `value` with every UnsafeText replaced by its text, nested values included (plain data). */
export function plainValue(value: unknown): unknown {
  if (value instanceof UnsafeText) return value.text;
  if (Array.isArray(value)) return value.some(holdsUnsafe) ? value.map(plainValue) : value;
  if (isPlainObject(value) && Object.values(value).some(holdsUnsafe)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) setOwn(out, k, plainValue(v));
    return out;
  }
  return value;
}

function holdsUnsafe(value: unknown): boolean {
  if (value instanceof UnsafeText) return true;
  if (Array.isArray(value)) return value.some(holdsUnsafe);
  return isPlainObject(value) && Object.values(value).some(holdsUnsafe);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype;
}

export interface HostEntry {
  name: string;
  /**
   * Every group the host is in, ancestors included: 'all' first, then the others in Ansible's
   * variable precedence order (depth, ansible_group_priority, name), so later groups win.
   */
  groups: string[];
  /** Variables merged with Ansible's precedence (no magic variables such as inventory_hostname). */
  vars: Record<string, unknown>;
  /** variable -> "file:line" (or "file") that gave the winning value */
  origins: Record<string, string>;
  /** Vaults among its variables that no secret of the run opens (a load with deferUnreadable):
   *  its variables are incomplete, and a run that needs them fails with these errors. */
  unreadable?: InventoryError[];
}

export interface GroupEntry {
  name: string;
  /** Hosts listed directly in this group, in inventory order (ansible-inventory's `hosts`). */
  hosts: string[];
  /** Direct child groups, in inventory order (ansible-inventory's `children`). */
  children: string[];
  /** Direct parent groups ('all' for top-level groups). */
  parents: string[];
  /** The group's own variables: inventory vars, then group_vars/ files over them. */
  vars: Record<string, unknown>;
  origins: Record<string, string>;
  /** Longest path from 'all' (Ansible's group depth). */
  depth: number;
  /** ansible_group_priority (default 1). */
  priority: number;
}

export interface Inventory {
  /** The inventory sources as given (absolute paths), in order. */
  sources: string[];
  /** Every host, in the order Ansible runs them (the order of the `all` pattern). */
  hosts: Map<string, HostEntry>;
  /**
   * Host names in the order the inventory declared them (Ansible's inventory.hosts order),
   * which wildcard and regex patterns follow.
   */
  hostDeclarationOrder: string[];
  /** Every group, in the order Ansible created them ('all' and 'ungrouped' first). */
  groups: Map<string, GroupEntry>;
  /** What Ansible would print as [WARNING] while loading this inventory. */
  warnings: string[];
  /** Files that are entirely Vault-encrypted (`$ANSIBLE_VAULT;...`); their variables are unknown. */
  encryptedFiles: string[];
}
