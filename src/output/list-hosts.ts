// --list-hosts: the hosts a run would handle and, per host, what the run does whatever the
// host turns out to be (no connection is made, so the product is not known yet).
import { CONNECTION_VARIABLES, winningVariable } from '../exec/connection.ts';
import type { Inventory } from '../inventory/index.ts';
import type { Redactor } from './redact.ts';

export type ListMode = 'install' | 'uninstall' | 'purge';

/** The plan headline per mode: the part of the plan that does not depend on the platform. */
const HEADLINES: Readonly<Record<ListMode, { play: string; plan: string }>> = {
  install: {
    play: 'provision Trento monitoring',
    plan: 'trento-agent + agent.yaml + unit drop-in; node_exporter (15.x, pull) or Alloy + trento.alloy (16.x, push); supportutils + its Trento plugin (supportutils_enabled); the server CA anchor (agent_server_ca_cert); other systems refused',
  },
  uninstall: {
    play: 'uninstall Trento monitoring',
    plan: 'remove trento-agent, its drop-in, trento.alloy and supportutils-plugin-trento; Alloy, node_exporter, supportutils, agent.yaml (on SLES 15 as agent.yaml.rpmsave) and the CA anchor stay',
  },
  purge: {
    play: 'uninstall Trento monitoring (purge)',
    plan: 'remove trento-agent, its drop-in, trento.alloy, agent.yaml, the CA anchor, supportutils and its plugin, Alloy and node_exporter (the packages and the CA anchor only where the toolkit installed or wrote them)',
  },
};

/** Where the host is reached, from its connection variables as written (not the flags', config's
 *  or ~/.ssh/config's defaults: -vvvv shows the connection as resolved). */
function target(vars: Record<string, unknown>, name: string): string {
  const setting = (names: readonly string[]) => winningVariable(vars, names)?.value;
  const user = setting(CONNECTION_VARIABLES.user);
  if (String(vars.ansible_connection) === 'local') return 'local';
  const host = String(setting(CONNECTION_VARIABLES.host) ?? name);
  const port = setting(CONNECTION_VARIABLES.port);
  return `${user !== undefined ? `${String(user)}@` : ''}${host}${port !== undefined ? `:${String(port)}` : ''}`;
}

/** ansible-playbook --list-hosts' layout, one line per host with its target and plan headline. */
/** `pattern`: the play's hosts pattern (agents, or all), as ansible-playbook --list-hosts names it. */
export function listHostsText(inventory: Inventory, hosts: string[], mode: ListMode, pattern: string, redact: Redactor): string {
  const headline = HEADLINES[mode];
  const width = Math.max(0, ...hosts.map((h) => h.length));
  const lines = [
    `play #1 (${pattern}): ${headline.play}`,
    `  plan: ${headline.plan}`,
    `  hosts (${hosts.length}):`,
    ...hosts.map((h) => {
      const entry = inventory.hosts.get(h);
      // Its variables may be in a vault no password given opens: the target is not known.
      const unknown = entry?.unreadable?.length ? '  (a vault of its variables does not open: a run would stop on it)' : '';
      return `    ${h.padEnd(width)}  ${target(entry?.vars ?? {}, h)}${unknown}`;
    }),
  ];
  return `${redact(lines.join('\n'))}\n`;
}
