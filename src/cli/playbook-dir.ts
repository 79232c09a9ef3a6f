// --playbook-dir: ansible-playbook reads group_vars/ and host_vars/ beside its playbook as well as
// beside the inventory, the playbook's above the inventory's. trento-provision is the playbook and
// has no folder of the admin's; an admin who keeps those folders beside their playbook names it.
// The option itself is parsed with the others (args.ts).
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * Where the admin runs the toolkit from a folder holding group_vars/ or host_vars/ that is no
 * inventory's (a playbook's folder, as an official playbook checkout is) and names no
 * --playbook-dir: ansible-playbook would read them there, the toolkit does not; said, never
 * ignored without a word (an agent_* value there would silently not apply).
 */
export function unreadPlaybookVars(cwd: string, inventorySources: readonly string[], playbookDir: string | undefined): string | undefined {
  if (playbookDir !== undefined) return undefined;
  const found = ['group_vars', 'host_vars'].filter((name) => existsSync(join(cwd, name)) && statSync(join(cwd, name)).isDirectory());
  if (found.length === 0) return undefined;
  const inventoryDirs = inventorySources.map((s) => (existsSync(s) && statSync(s).isDirectory() ? s : dirname(s)));
  if (inventoryDirs.some((d) => resolve(d) === resolve(cwd))) return undefined; // the inventory's own
  return `${found.map((n) => join(cwd, n)).join(' and ')} ${found.length > 1 ? 'are' : 'is'} not read: this folder holds no inventory of this run, and ansible-playbook would read it beside its playbook; pass --playbook-dir ${cwd} to read it as Ansible does (above the inventory's group_vars and host_vars), or move it beside the inventory`;
}
