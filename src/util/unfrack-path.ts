// Ansible's unfrackpath, the way it opens every path an admin gives it (ansible.cfg's paths,
// vault and password files, `-e @FILE`): $VARS and ~ expanded, then made absolute.
import { isAbsolute, resolve } from 'node:path';

/** $VARs and ~ expanded, then absolute (a relative path from `base`). */
export function unfrackPath(path: string, base: string, env: NodeJS.ProcessEnv, home: string): string {
  const expanded = expandUser(expandVars(path, env), home);
  return isAbsolute(expanded) ? resolve(expanded) : resolve(base, expanded);
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
