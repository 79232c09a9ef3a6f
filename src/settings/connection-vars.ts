// The connection variables (ansible_*) as Ansible uses them: templated. Inventories point
// passwords and users at other, often vaulted, variables ("ansible_become_password:
// '{{ vault_sudo_password }}'"); the connection layer (src/exec) reads plain values, so they are
// evaluated here, once per host, before any host is contacted and before the run collects its
// secrets (so the evaluated passwords are masked like any other).
import { type AllRoleDefaults, magicVariables, resolveVars, STATIC_ROLES, undefinedRefsProblem } from './defaults.ts';
import { plainValue, UnsafeText } from '../inventory/model.ts';
import { hasTemplate } from './jinja-lite.ts';
import { SECRET_VARIABLES, secretFeeders, withoutSecretText } from './secrets.ts';
import type { SettingProblem } from '../inventory/errors.ts';

/**
 * hostvars[host][name] as another host's play reads it: templated with that host's variables
 * and magic variables, without any role's defaults (Ansible's hostvars have none); undefined
 * when unset.
 */
export function hostVariable(host: string, vars: Readonly<Record<string, unknown>>, name: string): { value: unknown } | { problem: string } | undefined {
  const raw = vars[name];
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'string' || !hasTemplate(raw)) return { value: plainValue(raw) };
  const resolved = resolveVars(vars, {}, [], NO_ROLE_DEFAULTS, magicVariables(host));
  const value = resolved.get(name);
  const problem = resolved.problems().find((p) => p.variable === name) ?? (value === undefined ? undefinedRefsProblem(resolved, name) : undefined);
  if (problem) return { problem: problem.message };
  return value === undefined
    ? { problem: `${JSON.stringify(raw)} is undefined for ${host} (it names a variable that host does not have); define it there or give the address itself` }
    : { value };
}

/** With no roles asked for, resolveVars reads no defaults. */
const NO_ROLE_DEFAULTS = {} as AllRoleDefaults;

/**
 * `vars` of `host` with every ansible_* string that holds Jinja evaluated, and what could not be.
 * A `!unsafe` value (UnsafeText) is not evaluated; the connection layer reads its text.
 */
export function templatedConnectionVars(
  host: string,
  vars: Readonly<Record<string, unknown>>,
  origins: Readonly<Record<string, string>>,
  defaults: AllRoleDefaults,
): { vars: Record<string, unknown>; problems: SettingProblem[] } {
  const names = Object.keys(vars).filter((name) => name.startsWith('ansible_') && typeof vars[name] === 'string' && hasTemplate(vars[name] as string));
  if (names.length === 0) return { vars: { ...vars }, problems: [] };
  const resolved = resolveVars(vars, origins, STATIC_ROLES, defaults, magicVariables(host));
  const out: Record<string, unknown> = { ...vars };
  for (const name of names) {
    const value = resolved.get(name);
    // Evaluated to nothing ("{{ jump | default('') }}"): set empty, as a plain "" is (none, and
    // beating the command line and ansible.cfg); only an undefined result is a problem.
    if (value === undefined) {
      if (resolved.defined(name)) out[name] = '';
      else delete out[name];
    } else {
      // The result is final, as in Ansible: braces it holds came from a !unsafe value and are
      // never evaluated again (by the settings that may refer to this variable).
      const text = typeof value === 'string' ? value : String(value);
      out[name] = hasTemplate(text) ? new UnsafeText(text) : text;
    }
  }
  const secret = secretFeeders(
    names.filter((n) => SECRET_VARIABLES.includes(n)),
    (n) => resolved.sources(n),
  );
  const problems: SettingProblem[] = resolved
    .problems()
    .filter((p) => names.includes(p.variable))
    .map((p) => withoutSecretText(p, secret));
  for (const name of names) {
    if (out[name] === undefined && !problems.some((p) => p.variable === name)) {
      // A variable it names that could not be evaluated: that one's error (its words hidden
      // where it feeds a password); else which variables it names that nobody set. Never the value.
      const inner = resolved.problems().find((p) => p.variable !== name && resolved.sources(name).includes(p.variable));
      const origin = origins[name] ?? 'inventory';
      problems.push(
        inner
          ? { variable: name, origin, message: `is undefined here: ${inner.variable}, which it names, ${withoutSecretText(inner, secret).message}` }
          : (undefinedRefsProblem(resolved, name) ?? {
              variable: name,
              origin,
              message: 'is undefined here: its Jinja names a variable this host does not have; define that variable, or give the value itself',
            }),
      );
    }
  }
  return { vars: out, problems };
}
