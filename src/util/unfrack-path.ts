// Ansible's unfrackpath, the way it opens every path an admin gives it (ansible.cfg's paths,
// vault and password files, `-e @FILE`): $VARS and ~ expanded, then made absolute.
import { isAbsolute, resolve } from 'node:path';

/** $VARs and ~ expanded, then absolute (a relative path from `base`). */
export function unfrackPath(path: string, base: string, env: NodeJS.ProcessEnv, home: string): string {
  const expanded = expandUser(expandVars(path, env), home);
  return isAbsolute(expanded) ? resolve(expanded) : resolve(base, expanded);
}

/**
 * ANSIBLE_INVENTORY as Ansible's `pathlist` reads it: comma-separated, each item trimmed, its
 * $VARS and ~ expanded. Left relative (resolved where it is used, from the admin's folder), so a
 * bare name can still be a folder under the project's inventories/.
 */
export function inventoryPathList(value: string, env: NodeJS.ProcessEnv, home: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '')
    .map((item) => expandUser(expandVars(item, env), home));
}

function expandUser(path: string, home: string): string {
  return path === '~' ? home : path.startsWith('~/') ? home + path.slice(1) : path;
}

/** os.path.expandvars: $NAME and ${NAME} of set variables; unknown ones stay as written. */
function expandVars(path: string, env: NodeJS.ProcessEnv): string {
  return path.replace(/\$(\w+|\{[^}]*\})/g, (m, name: string) => {
    const n = name.startsWith('{') ? name.slice(1, -1) : name;
    return env[n] ?? m;
  });
}
