// loadInventory: parse every source into one draft (as Ansible's InventoryManager does), apply
// the `all`/`ungrouped` rules, read group_vars/host_vars beside the sources (and the playbook),
// then compute every group's and host's variables with their origins.

import { homedir } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import { stat } from 'node:fs/promises';
import { InventoryError } from './errors.ts';
import { groupDepths, hostGroups, newDraft, reconcile, type InventoryDraft } from './inventory-data.ts';
import { hostVars, overlay, sortGroups, type FileVars, type VarLayer } from './merge.ts';
import type { GroupEntry, HostEntry, Inventory } from './model.ts';
import { groupHosts } from './patterns.ts';
import { setOwn } from './records.ts';
import { parseSource } from './sources.ts';
import { entityVars, newVarsFileCache, type VarsFileCache } from './vars-files.ts';
import type { VaultSecret } from './vault.ts';
import { collectLeaves, decryptedFile, decryptInline, inlineDecrypter } from './vault-values.ts';

export interface LoadOptions {
  /**
   * The playbook's folder: ansible-playbook also reads group_vars/ and host_vars/ there, above
   * the inventory's (ansible-inventory --playbook-dir).
   */
  playbookDir?: string;
  /** Folder relative paths are resolved against (default: process.cwd()). */
  cwd?: string;
  /**
   * Vault passwords (--vault-password-file, --ask-vault-pass, --vault-id). Given (even empty),
   * vault-encrypted group_vars/host_vars files are decrypted, and a file no secret opens is an
   * error naming it, as with Ansible. Absent: such files are skipped with a warning.
   */
  vault?: {
    secrets: readonly VaultSecret[];
    /**
     * Also decrypt inline `!vault` values in the hosts' variables (what a play sees). Off for
     * listings: ansible-inventory --list prints them encrypted ({"__ansible_vault": ...}).
     */
    decryptValues?: boolean;
    /**
     * A vault no secret opens (a whole file, an inline value) fails only the hosts whose
     * variables hold it (HostEntry.unreadable), as ansible-playbook decrypts only what the play
     * reads: the server team's vault need not open for the agents. Off: the load fails, as
     * ansible-inventory --list does.
     */
    deferUnreadable?: boolean;
  };
}

/** An inventory, plus every value that came out of a vault (secrets whatever their variable's name). */
export interface LoadedInventory extends Inventory {
  vaultValues: string[];
}

/** Ansible's unfrackpath without following symlinks: ~ expanded, absolute, normalised. */
function absolutePath(path: string, cwd: string): string {
  const expanded = path === '~' ? homedir() : path.startsWith('~/') ? homedir() + path.slice(1) : path;
  return isAbsolute(expanded) ? resolve(expanded) : resolve(cwd, expanded);
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Loads one or several inventory sources (-i may be given several times) like ansible-core
 * 2.14. Throws InventoryError (file, line, what to do) where Ansible would fail or where it
 * would only warn that a source could not be parsed: provisioning with half an inventory
 * is worse than stopping.
 */
export async function loadInventory(path: string | string[], options: LoadOptions = {}): Promise<LoadedInventory> {
  const cwd = options.cwd ?? process.cwd();
  const given = Array.isArray(path) ? path : [path];
  if (given.length === 0) throw new InventoryError('no inventory given; pass -i PATH');
  const sources: string[] = [];
  for (const p of given) {
    // "web1,web2," is a list of hosts, not a path (when no such file exists)
    sources.push(p.includes(',') && !(await pathExists(absolutePath(p, cwd))) ? p : absolutePath(p, cwd));
  }

  const draft = newDraft();
  let parsed = false;
  for (const source of sources) {
    if (await parseSource(draft, source)) parsed = true;
    // Ansible warns too ("Unable to parse ... as an inventory source"); with none read, it is an error below.
    else if (sources.length > 1) draft.warnings.push(`${source}: no inventory was found there (no file Ansible would read); it adds no host`);
  }
  if (!parsed) {
    throw new InventoryError('no inventory was found in this folder; add a hosts.yml or an INI hosts file', { file: sources.join(', ') });
  }
  reconcile(draft);

  // group_vars/ and host_vars/ beside each source (a file's folder, or the folder itself)
  const sourceDirs: string[] = [];
  for (const s of sources) {
    if (s.includes(',') && !(await pathExists(s))) continue;
    sourceDirs.push((await isDirectory(s)) ? s : dirname(s));
  }
  const vault = options.vault;
  const deferred = vault?.deferUnreadable === true;
  const cache = newVarsFileCache(vault ? (text, file) => decryptedFile(text, vault.secrets, file) : undefined, deferred);
  const inventoryFiles = await loadFileVars(draft, sourceDirs, cache);
  const playbookFiles = options.playbookDir ? await loadFileVars(draft, [absolutePath(options.playbookDir, cwd)], cache) : undefined;

  const depths = groupDepths(draft);
  const groups = new Map<string, GroupEntry>();
  for (const g of draft.groups.values()) {
    const layer: VarLayer = new Map();
    overlay(layer, g.vars);
    for (const l of inventoryFiles.group(g.name)) overlay(layer, l);
    groups.set(g.name, {
      name: g.name,
      hosts: [...g.hosts],
      children: [...g.children],
      parents: [...g.parents],
      vars: valuesOf(layer),
      origins: originsOf(layer),
      depth: depths.get(g.name) ?? 0,
      priority: g.priority,
    });
  }

  const vaultValues = new Set<string>();
  for (const pending of cache.files.values()) {
    const file = await pending;
    if (file.decrypted) for (const slot of file.vars.values()) collectLeaves(slot.value, vaultValues);
  }
  const decryptValue = inlineDecrypter(vault?.secrets ?? [], vaultValues);

  const hosts = new Map<string, HostEntry>();
  const ancestors = new Map<string, Set<string>>();
  for (const name of groupHosts({ groups }, 'all')) {
    const memberOf = [...hostGroups(draft, name, ancestors)].filter((g) => g !== 'all').map((g) => draft.groups.get(g)!);
    const layer = hostVars({ draft, depths, host: name, groups: memberOf, inventoryFiles, playbookFiles });
    // The vaults no secret opens, among the files this host's variables come from (deferred).
    const closed = (kind: 'group' | 'host', entity: string) => [
      ...inventoryFiles.unreadableOf(kind, entity),
      ...(playbookFiles?.unreadableOf(kind, entity) ?? []),
    ];
    const unreadable = [...new Set([...['all', ...memberOf.map((g) => g.name)].flatMap((g) => closed('group', g)), ...closed('host', name)])];
    let vars = valuesOf(layer);
    if (vault?.decryptValues) {
      try {
        vars = decryptInline(vars, decryptValue) as Record<string, unknown>;
      } catch (error) {
        if (!deferred || !(error instanceof InventoryError)) throw error;
        unreadable.push(error);
      }
    }
    hosts.set(name, {
      name,
      groups: ['all', ...sortGroups(memberOf, depths).map((g) => g.name)],
      vars,
      origins: originsOf(layer),
      ...(unreadable.length ? { unreadable } : {}),
    });
  }

  return {
    vaultValues: [...vaultValues].filter((v) => v !== ''),
    sources,
    hosts,
    hostDeclarationOrder: [...draft.hosts.keys()],
    groups,
    warnings: draft.warnings,
    encryptedFiles: [...draft.encryptedFiles].sort(),
  };
}

async function loadFileVars(draft: InventoryDraft, dirs: string[], cache: VarsFileCache): Promise<FileVars> {
  const unreadable = new Map<string, InventoryError[]>();
  // Files are merged in a fixed order below; reading them concurrently changes nothing.
  const load = (subdir: 'group_vars' | 'host_vars', names: string[]): Promise<Map<string, VarLayer[]>> =>
    Promise.all(
      names.map(async (name) => {
        const closed: InventoryError[] = [];
        const layers = await Promise.all(dirs.map((dir) => entityVars(dir, subdir, name, cache, draft.warnings, draft.encryptedFiles, closed)));
        if (closed.length) unreadable.set(`${subdir}/${name}`, closed);
        return [name, layers] as const;
      }),
    ).then((entries) => new Map(entries));
  const groupVars = await load('group_vars', [...draft.groups.keys()]);
  const hostVarsByName = await load('host_vars', [...draft.hosts.keys()]);
  return {
    group: (name) => groupVars.get(name) ?? [],
    host: (name) => hostVarsByName.get(name) ?? [],
    unreadableOf: (kind, name) => unreadable.get(`${kind}_vars/${name}`) ?? [],
  };
}

function valuesOf(layer: VarLayer): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, slot] of layer) setOwn(out, k, slot.value);
  return out;
}

function originsOf(layer: VarLayer): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, slot] of layer) setOwn(out, k, slot.origin);
  return out;
}
