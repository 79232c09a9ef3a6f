// Host discovery as the official playbook does it (trento-project/ansible: agent.yml and the
// `trento` role's vars): the RabbitMQ host the agent reports facts to is found in the
// inventory rather than typed again.
//
// agent.yml passes the role parameter `trento_rabbitmq_host_group` = "rabbitmq_hosts" when
// `provision_rabbitmq` is true (its group_vars/all.yml sets it true). With a group named:
//   - the agent host is itself in the group      -> "localhost" (no network hairpin),
//   - else the group's first host                 -> its ansible_host, else its inventory name,
//   - the group is missing or empty               -> the official play fails on the undefined
//     group; here a settings error that says what to do.
// With no group: trento_rabbitmq_host (whose default is rabbitmq_host, else localhost).
//
// Only RabbitMQ: the agent's config uses no Postgres host and its remote-write URL comes from
// trento_server_name (agent_prometheus_remote_write_url), not from the Prometheus host.
import type { Inventory } from '../inventory/model.ts';
import { groupHosts } from '../inventory/patterns.ts';
import { type AllRoleDefaults, type Computed, loadRoleDefaults, magicVariables, type ResolvedVars, resolveVars, STATIC_ROLES } from './defaults.ts';
import { ambiguousBoolProblem, ansibleBool } from '../inventory/truthiness.ts';
import { hostVariable } from './connection-vars.ts';

/** What discovery needs from the inventory, for one host of the play. */
export interface PlayView {
  /** inventory_hostname of the host being configured. */
  host: string;
  /** Ansible's groups[name]: every host of the group (child groups' too), inventory order; undefined when no such group. */
  groupHosts(group: string): readonly string[] | undefined;
  /**
   * hostvars[name].ansible_host (inventory variables merged with -e), templated in that host's
   * context as Ansible's hostvars are ("{{ inventory_hostname_short }}.mgmt"); undefined when unset.
   */
  hostAddress(host: string): { value: unknown } | { problem: string } | undefined;
  /** Variables given with -e: they beat the play's role parameters, as in Ansible. */
  extraVarNames: ReadonlySet<string>;
}

/** One discovered service, as data: the names the official play uses for it. */
export interface DiscoveredService {
  /** The play-computed variable (the official role's `trento_<svc>_effective_host`). */
  effective: string;
  /** The switch that turns discovery on (group_vars/all.yml of the official playbook). */
  provision: string;
  /** The role parameter naming the group, and the group the play passes. */
  groupVariable: string;
  /** Its name in older releases of the official playbook: given with -e (the only way it ever
   *  mattered), it is refused, naming today's, rather than ignored. */
  formerGroupVariable?: string;
  group: string;
  /** The user's value when discovery is off. */
  hostVariable: string;
  /** What the agent should set when discovery cannot work (for the error message). */
  agentVariable: string;
  /** What a host in the group uses to reach the service on itself. */
  local: string;
  label: string;
}

export const RABBITMQ_DISCOVERY: DiscoveredService = {
  effective: 'trento_rabbitmq_effective_host',
  provision: 'provision_rabbitmq',
  groupVariable: 'trento_rabbitmq_host_group',
  formerGroupVariable: 'agent_rabbitmq_host_group',
  group: 'rabbitmq_hosts',
  hostVariable: 'trento_rabbitmq_host',
  agentVariable: 'agent_rabbitmq_host',
  local: 'localhost',
  label: 'RabbitMQ',
};

/** The services whose hosts the agent's config needs (see the header for why only one). */
export const DISCOVERED_SERVICES: readonly DiscoveredService[] = [RABBITMQ_DISCOVERY];

function discoverOne(service: DiscoveredService, play: PlayView | undefined): Computed {
  return (get, isSet) => {
    let group: string;
    let why: string;
    const former = service.formerGroupVariable;
    if (former && play?.extraVarNames.has(former)) {
      return {
        problem: `is the name older releases of the official playbook gave the group ${service.label} is discovered in; it is not read here: give it as ${service.groupVariable} (-e ${service.groupVariable}=GROUP)`,
        variable: former,
      };
    }
    if (play?.extraVarNames.has(service.groupVariable)) {
      // Given as a template that comes out undefined (it names a variable nobody set): Ansible
      // fails on it, and discovery quietly off would point the agent at another host. Given
      // empty, it is off, as the official agent play passes it when provision_rabbitmq is false.
      if (!isSet(service.groupVariable)) {
        return {
          problem: 'is given with -e but is undefined (its Jinja names a variable nobody set): name the group to discover from',
          variable: service.groupVariable,
        };
      }
      group = String(get(service.groupVariable) ?? '');
      why = `${service.groupVariable} given with -e`;
    } else {
      // The official role's `provision_rabbitmq | default(true) | bool`: default() replaces only
      // an undefined value, and an empty or null one is false for `bool`.
      const provision = isSet(service.provision) ? (get(service.provision) ?? false) : true;
      // A word the bool filter and boolean() read apart ("y"): the variable's own check says so.
      const ambiguous = ambiguousBoolProblem(provision);
      if (ambiguous) return { problem: ambiguous, variable: service.provision };
      const on = ansibleBool(provision);
      if (on === undefined) {
        return { problem: `must be a boolean (true/false, yes/no), got ${JSON.stringify(provision)}`, variable: service.provision };
      }
      group = on ? service.group : '';
      why = `${service.provision} is ${on ? 'true' : 'false'}`;
    }
    if (group === '') {
      return { value: get(service.hostVariable), via: [service.hostVariable], origin: `${service.hostVariable} (${why})` };
    }
    const members = play?.groupHosts(group);
    const first = members?.[0];
    if (members === undefined || first === undefined) {
      return {
        variable: service.agentVariable,
        problem:
          `${why}, so the ${service.label} host is discovered from inventory group "${group}" (as the official playbook does), ` +
          `but the inventory has ${members === undefined ? 'no such group' : 'that group empty'}: ` +
          `put the ${service.label} host in group ${group}, or set ${service.provision}: false and ${service.hostVariable}: HOST[:PORT] ` +
          `for an external ${service.label}, or set ${service.agentVariable}`,
      };
    }
    if (play !== undefined && members.includes(play.host)) {
      return { value: service.local, via: [], origin: `discovered: ${play.host} is itself in group ${group} (${why})` };
    }
    const address = play?.hostAddress(first);
    if (address !== undefined && 'problem' in address) {
      return { variable: service.agentVariable, problem: `the ${service.label} host is discovered from ansible_host of ${first} (${why}): ${address.problem}` };
    }
    if (address !== undefined && address.value !== undefined && address.value !== null) {
      return { value: address.value, via: [], origin: `discovered: ansible_host of ${first}, first host of group ${group} (${why})` };
    }
    return { value: first, via: [], origin: `discovered: ${first}, first host of group ${group} (${why})` };
  };
}

/**
 * The play-computed variables for one host. Like the official role's vars they beat inventory
 * values; a value given with -e beats them (so such a name gets no computed entry).
 */
export function discoveredVariables(play: PlayView | undefined): Readonly<Record<string, Computed>> {
  return {
    // The host's magic variables, as the official play's templates see them.
    ...(play ? magicVariables(play.host) : {}),
    ...Object.fromEntries(DISCOVERED_SERVICES.filter((s) => !play?.extraVarNames.has(s.effective)).map((s) => [s.effective, discoverOne(s, play)])),
  };
}

/**
 * A host's variables as every reading before facts takes them (the checks, the role switches,
 * the secrets the run uses, --verify-prometheus' credentials): the defaults of the roles every
 * agent host gets, group_vars, Jinja, the play's discovery, -e.
 */
export function resolvedHostVars(
  vars: Readonly<Record<string, unknown>>,
  origins: Readonly<Record<string, string>>,
  defaults: AllRoleDefaults = loadRoleDefaults(),
  play?: PlayView,
): ResolvedVars {
  return resolveVars(vars, origins, STATIC_ROLES, defaults, discoveredVariables(play));
}

/** The group the official playbook's agent play runs on (agent.yml: `hosts: agents`). */
export const AGENTS_GROUP = 'agents';

/**
 * The play's host pattern: group `agents` when the inventory has it, as the official agent play
 * does (its example inventories also list the server, Postgres, RabbitMQ and Prometheus hosts,
 * which get no agent); an inventory without that group: every host.
 */
export function playPatternOf(inventory: Pick<Inventory, 'groups'>): string {
  return inventory.groups.has(AGENTS_GROUP) ? AGENTS_GROUP : 'all';
}

/** A PlayView of `host` in `inventory`, with -e merged into every host's variables (as hostvars has them). */
export function playViewOf(inventory: Pick<Inventory, 'groups' | 'hosts'>, host: string, extraVars: Readonly<Record<string, unknown>>): PlayView {
  return {
    host,
    groupHosts: (group) => (inventory.groups.has(group) ? groupHosts(inventory, group) : undefined),
    hostAddress: (name) => {
      const entry = inventory.hosts.get(name);
      if (entry?.unreadable?.length) {
        return { problem: `the variables of ${name} hold a vault that no password given opens (${entry.unreadable[0]!.message}); give its password too` };
      }
      return entry === undefined ? undefined : hostVariable(name, { ...entry.vars, ...extraVars }, 'ansible_host');
    },
    extraVarNames: new Set(Object.keys(extraVars)),
  };
}
