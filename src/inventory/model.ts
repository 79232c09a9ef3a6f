// The data the inventory layer hands to the rest of the toolkit.

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
