// Role defaults (roles/<role>/defaults/main.yml) and how they combine with a host's variables.
//
// Why YAML files and not TypeScript constants: they are the documented, user-visible defaults,
// in the same place and format as the official Ansible role's, read at run time.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { plainValue, UnsafeText } from '../inventory/model.ts';
import { convert, parseAnsibleYaml } from '../inventory/yaml-load.ts';
import type { PrometheusMode } from './agent-config.ts';
import { type RoleName, VARIABLES } from './variables.ts';

/** Variables whose empty or null inventory value gives the role default (VariableSpec.emptyMeansDefault). */
const EMPTY_MEANS_DEFAULT = new Set(VARIABLES.filter((v) => v.emptyMeansDefault).map((v) => v.name));
import { evaluateTemplate, hasTemplate, UNDEFINED } from './jinja-lite.ts';
import type { Value } from './jinja-lite.ts';
import type { SettingProblem } from '../inventory/errors.ts';

export interface RoleDefaults {
  role: RoleName;
  /** Shown in error messages as the origin of a defaulted value. */
  file: string;
  values: Readonly<Record<string, unknown>>;
}

/** All role defaults, in the order they are layered (later wins on the same name). */
export type AllRoleDefaults = Readonly<Record<RoleName, RoleDefaults>>;

/** Ansible applies only the defaults of the roles that run: the agent, the mode's exporter, supportutils. */
export const MODE_ROLES: Readonly<Record<PrometheusMode, readonly RoleName[]>> = {
  pull: ['trento_agent', 'node_exporter', 'supportutils'],
  push: ['trento_agent', 'alloy', 'supportutils'],
};
/** Before facts the mode is unknown: the roles every agent host gets (the agent, SUSE's support
 *  tooling), not the mode's exporter. */
export const STATIC_ROLES: readonly RoleName[] = ['trento_agent', 'supportutils'];

/** Every role (the settings check before facts reads all their defaults). */
export const ROLE_NAMES: readonly RoleName[] = ['trento_agent', 'node_exporter', 'alloy', 'supportutils'];

/** The repository's roles/ folder. */
export const DEFAULT_ROLES_DIR = fileURLToPath(new URL('../../roles/', import.meta.url));

/**
 * Reads every role's defaults/main.yml. Synchronous because it is tiny and needed by the
 * synchronous validators; callers handling many hosts load once and pass the result on.
 */
export function loadRoleDefaults(rolesDir: string = DEFAULT_ROLES_DIR): AllRoleDefaults {
  const entries = ROLE_NAMES.map((role): [RoleName, RoleDefaults] => {
    const path = join(rolesDir, role, 'defaults', 'main.yml');
    const label = rolesDir === DEFAULT_ROLES_DIR ? `roles/${role}/defaults/main.yml` : path;
    let parsed: unknown;
    try {
      // As Ansible reads them (YAML 1.1: `yes` is true), by the inventories' YAML reader.
      const loaded = parseAnsibleYaml(readFileSync(path, 'utf8'), label);
      parsed = convert(loaded, loaded.contents);
    } catch (error) {
      throw new Error(`cannot read the role defaults ${label}: ${(error as Error).message}`);
    }
    if (parsed !== null && parsed !== undefined && (typeof parsed !== 'object' || Array.isArray(parsed))) {
      throw new Error(`${label} must be a YAML mapping of variable names to values`);
    }
    return [role, { role, file: label, values: (parsed ?? {}) as Record<string, unknown> }];
  });
  return Object.fromEntries(entries) as Record<RoleName, RoleDefaults>;
}

/**
 * A variable the play computes (the official role's vars, such as the discovered RabbitMQ
 * host): above inventory values, below -e. `get`: a variable's value, empty and null as unset;
 * `isSet`: whether it has any value, empty or null included; `via` names the variables the value
 * was built from.
 */
export type Computed = (
  get: (name: string) => unknown,
  isSet: (name: string) => boolean,
) => { value: unknown; via: readonly string[]; origin: string } | { problem: string; variable: string };

/** A host's variables after defaults and Jinja evaluation, read lazily. */
export interface ResolvedVars {
  /** The value, or undefined when not set (undefined, null or empty string). */
  get(name: string): unknown;
  /** Where the value came from: the inventory file, or the defaults file (and what it used). */
  origin(name: string): string;
  /** The inventory variables the value was built from (itself if set directly). */
  sources(name: string): string[];
  /** Evaluation problems met so far (a Jinja expression outside the supported subset...). */
  problems(): SettingProblem[];
  /** Whether it has a value at all, empty or null included (get() calls those unset). */
  defined(name: string): boolean;
  /**
   * Why it is undefined, when a template of the inventory's on its way names variables nobody
   * set (Ansible fails the play where it renders them): those variables, followed through the
   * templates that use them; [] when it is simply unset, or a role default's optional input is.
   */
  undefinedRefs(name: string): string[];
}

/** Ansible's magic variables of a host that a variable may use ("{{ inventory_hostname }}:9100",
 *  "{{ inventory_hostname_short }}.mgmt.example"). */
export function magicVariables(host: string): Record<string, Computed> {
  const magic =
    (value: string): Computed =>
    () => ({ value, via: [], origin: 'the inventory name' });
  return { inventory_hostname: magic(host), inventory_hostname_short: magic(host.split('.')[0]!) };
}

/**
 * Layers role defaults under the host's variables and evaluates Jinja strings on demand,
 * following references (a default may use another variable). Each call builds its own cache,
 * so nothing is shared between hosts.
 */
export function resolveVars(
  vars: Readonly<Record<string, unknown>>,
  origins: Readonly<Record<string, string>>,
  roles: readonly RoleName[],
  defaults: AllRoleDefaults,
  computed: Readonly<Record<string, Computed>> = {},
): ResolvedVars {
  type Entry = { value: Value; origin: string; sources: string[] };
  const cache = new Map<string, Entry>();
  const problems: SettingProblem[] = [];
  /** Undefined results of templates: the refs that were undefined, and whether a role default's. */
  const undefinedBy = new Map<string, { refs: string[]; fromDefaults: boolean }>();
  const layers = roles.map((role) => defaults[role]);

  // A `!unsafe` value (UnsafeText) is its text and never evaluated, as in Ansible: `literal`.
  const raw = (name: string): { value: Value; origin: string; fromDefaults: boolean; literal: boolean } => {
    const empty = vars[name] === '' || vars[name] === null;
    if (Object.hasOwn(vars, name) && vars[name] !== undefined && !(empty && EMPTY_MEANS_DEFAULT.has(name))) {
      const value = vars[name];
      return { value: plainValue(value), origin: origins[name] ?? 'inventory', fromDefaults: false, literal: value instanceof UnsafeText };
    }
    for (const layer of [...layers].reverse()) {
      if (Object.hasOwn(layer.values, name)) {
        const value = layer.values[name];
        return { value: plainValue(value), origin: layer.file, fromDefaults: true, literal: value instanceof UnsafeText };
      }
    }
    return { value: UNDEFINED, origin: 'not set', fromDefaults: false, literal: false };
  };

  const lookup = (name: string, stack: readonly string[]): Entry => {
    const cached = cache.get(name);
    if (cached) return cached;
    if (Object.hasOwn(computed, name)) {
      if (stack.includes(name)) {
        problems.push({ variable: name, origin: 'computed', message: `refers to itself (${[...stack, name].join(' -> ')})` });
        return { value: UNDEFINED, origin: 'computed', sources: [] };
      }
      const get = (ref: string): unknown => {
        const value = lookup(ref, [...stack, name]).value;
        return value === UNDEFINED || value === null || value === '' ? undefined : value;
      };
      const out = computed[name]!(get, (ref) => lookup(ref, [...stack, name]).value !== UNDEFINED);
      const entry: Entry =
        'problem' in out
          ? { value: UNDEFINED, origin: 'not set', sources: [] }
          : {
              value: out.value === undefined ? UNDEFINED : plainValue(out.value),
              origin: out.origin,
              sources: [...new Set(out.via.flatMap((ref) => lookup(ref, [...stack, name]).sources))],
            };
      if ('problem' in out) problems.push({ variable: out.variable, origin: raw(out.variable).origin, message: out.problem });
      // Undefined through the inputs it read (a discovered host from an undefined template): the
      // walk of undefinedRefs() follows them as it follows a role default's.
      else if (entry.value === UNDEFINED)
        undefinedBy.set(name, { refs: out.via.filter((ref) => lookup(ref, [...stack, name]).value === UNDEFINED), fromDefaults: true });
      cache.set(name, entry);
      return entry;
    }
    const source = raw(name);
    const own = source.fromDefaults || source.value === UNDEFINED ? [] : [name];
    let result: Entry = { value: source.value, origin: source.origin, sources: own };
    if (typeof source.value === 'string' && !source.literal && hasTemplate(source.value)) {
      if (stack.includes(name)) {
        problems.push({ variable: name, origin: source.origin, message: `refers to itself (${[...stack, name].join(' -> ')})` });
        return { value: UNDEFINED, origin: source.origin, sources: own };
      }
      const evaluated = evaluateTemplate(source.value, (ref) => lookup(ref, [...stack, name]).value);
      if (!evaluated.ok) {
        problems.push({
          variable: name,
          origin: source.origin,
          // Never the value itself: it may be a password, or hold one ("{% raw %}p{{w{% endraw %}...").
          message: `cannot evaluate its Jinja: ${evaluated.error}. Put the plain value instead.`,
        });
        result = { value: UNDEFINED, origin: source.origin, sources: own };
      } else {
        // For a defaulted value, say which inventory variables it was built from.
        const used = evaluated.refs.filter((ref) => Object.hasOwn(vars, ref) && vars[ref] !== undefined);
        const via = [
          ...used.map((ref) => `${ref} from ${origins[ref] ?? 'inventory'}`),
          ...evaluated.refs.filter((ref) => Object.hasOwn(computed, ref) && !used.includes(ref)).map((ref) => lookup(ref, [...stack, name]).origin),
        ].join(', ');
        const origin = source.fromDefaults && via !== '' ? `${source.origin} (using ${via})` : source.origin;
        const sources = [...new Set([...own, ...evaluated.refs.flatMap((ref) => lookup(ref, [...stack, name]).sources)])];
        result = { value: evaluated.value, origin, sources };
        // A template that uses `omit` (Ansible's "leave it out", default(omit)) is undefined on purpose.
        if (evaluated.value === UNDEFINED && !evaluated.refs.includes('omit')) {
          const refs = evaluated.refs.filter((ref) => lookup(ref, [...stack, name]).value === UNDEFINED);
          undefinedBy.set(name, { refs: [...new Set(refs)], fromDefaults: source.fromDefaults });
        }
      }
    }
    cache.set(name, result);
    return result;
  };

  return {
    get: (name) => {
      const { value } = lookup(name, []);
      return value === UNDEFINED || value === null || value === '' ? undefined : value;
    },
    origin: (name) => lookup(name, []).origin,
    sources: (name) => [...lookup(name, []).sources],
    problems: () => [...problems],
    defined: (name) => lookup(name, []).value !== UNDEFINED,
    undefinedRefs: (name) => {
      if (lookup(name, []).value !== UNDEFINED) return [];
      const seen = new Set<string>();
      const walk = (n: string): string[] => {
        const entry = undefinedBy.get(n);
        if (seen.has(n) || !entry) return [];
        seen.add(n);
        return entry.refs.flatMap((ref) => {
          const unset = raw(ref).value === UNDEFINED && !Object.hasOwn(computed, ref);
          // A role default's optional input may be unset; the inventory's own template may not.
          if (unset) return entry.fromDefaults ? [] : [ref];
          return walk(ref);
        });
      };
      return [...new Set(walk(name))];
    },
  };
}

/** The settings error for a variable undefinedRefs() explains, or undefined. */
export function undefinedRefsProblem(resolved: ResolvedVars, name: string): SettingProblem | undefined {
  const missing = resolved.undefinedRefs(name);
  if (missing.length === 0) return undefined;
  const facts = missing.some((ref) => ref.startsWith('ansible_')) ? ' (Ansible facts are not gathered by trento-provision)' : '';
  return {
    variable: name,
    origin: resolved.origin(name),
    message: `is undefined here: its Jinja names ${missing.join(', ')}, which this host does not have${facts}; define it, add a default() filter, or give the value itself`,
  };
}
