// The checks that prove a host's result: each is the shell the verify step runs (after an
// apply, or alone) and whether the facts already show that it holds. A host with nothing to
// change whose every check holds in its facts is proven by its one facts round trip; any other
// host runs the checks on the host, where they wait (a service still starting) and explain.
import { type Command, join, sh } from '../exec/command.ts';
import type { HostFacts } from '../facts/types.ts';
import { UNITS } from '../facts/paths.ts';
import { unitRunning, unitStopped } from '../facts/sources/units.ts';
import { type AgentConfig, DEFAULT_PUSH_SCRAPE_INTERVAL_MS, pushScrapeIntervalMs } from '../settings/agent-config.ts';
import type { SupportedPlatform } from '../platform.ts';
import { type HostPlan, needsApply } from './types.ts';

export interface Check {
  /** What it proves, as the recap shows it. */
  name: string;
  /** `tp_verify NAME COMMAND...` (src/apply/lib.sh). */
  script: Command;
  /** The facts show it holds already (src/shell/probes.sh read the same thing, without waiting). */
  heldByFacts: boolean;
}

/** A check of NAME by the shell COMMAND (a program and its arguments, quoted). */
export const check = (name: string, heldByFacts: boolean, command: Command): Check => ({
  name,
  script: join([sh`tp_verify ${name} `, command], ''),
  heldByFacts,
});

/** The checks' shell, in order. */
export const checksScript = (checks: readonly Check[]): Command => join(checks.map((c) => c.script));

/** A unit's state in the facts (absent: not loaded, not running). */
const running = (facts: HostFacts, unit: string): boolean => unitRunning(facts.units[unit]);

/** A check that UNIT runs (`want` true) or is stopped (not waiting to restart either). */
export const unitCheck = (name: string, facts: HostFacts, unit: string, want: boolean): Check =>
  want ? check(name, running(facts, unit), sh`systemctl is-active --quiet ${unit}`) : check(name, unitStopped(facts.units[unit]), sh`tp_unit_stopped ${unit}`);

/**
 * How long the verify step waits for Alloy's first delivery: one scrape interval, plus Alloy's
 * 5 s batch send deadline, plus a margin for the request itself. A delivery this recent in the
 * facts proves a converged host.
 */
export function deliveryWaitSeconds(config: AgentConfig): number {
  const intervalMs = pushScrapeIntervalMs(config) ?? DEFAULT_PUSH_SCRAPE_INTERVAL_MS;
  return Math.ceil(intervalMs / 1000) + 10;
}

/** A delivery the facts prove: a batch sent within SECONDS, and none refused since Alloy started
 *  (the sent timestamp moves after a refused batch too: tp_alloy_queue). Else the check runs on
 *  the host, where tp_alloy_delivers waits for a batch delivered. */
function deliveredWithin(facts: HostFacts, seconds: number): boolean {
  const { alloyLastSent: sent, hostNow: now, alloyFailed: failed } = facts.probes;
  return sent !== undefined && now !== undefined && sent > 0 && now - sent <= seconds && failed === 0;
}

export interface ProviderChecksInput {
  facts: HostFacts;
  platform: SupportedPlatform;
  agent: AgentConfig;
  uninstall: boolean;
  /** Alloy stays on the host after the run (uninstall without --purge keeps it running). */
  alloyKept: boolean;
}

/** The checks of the metrics provider and the agent, install or uninstall. */
export function providerChecks({ facts, platform, agent, uninstall, alloyKept }: ProviderChecksInput): Check[] {
  const p = facts.probes;
  if (uninstall) {
    return [
      unitCheck('trento-agent is stopped', facts, UNITS.agent, false),
      // Only where Alloy ran: one the admin stopped stays stopped.
      ...(platform.provider === 'alloy' && alloyKept && running(facts, UNITS.alloy)
        ? [
            // Its unit too, once ready (as on install): anything listening on Alloy's port
            // answers the probes.
            check(
              'Alloy keeps running',
              p.alloyReady === true && running(facts, UNITS.alloy),
              sh`eval ${`tp_alloy_ready && systemctl is-active --quiet ${UNITS.alloy}`}`,
            ),
            check('Alloy no longer runs trento.alloy', p.alloyRunsTrento === false, sh`tp_alloy_lacks prometheus.remote_write.trento`),
          ]
        : []),
    ];
  }
  const wait = deliveryWaitSeconds(agent);
  const provider =
    platform.provider === 'node_exporter'
      ? [
          unitCheck('node_exporter is running', facts, UNITS.nodeExporter, true),
          check('node_exporter serves /metrics', p.nodeExporterServes === true, sh`tp_node_exporter_up`),
        ]
      : [
          check('Alloy is ready', p.alloyReady === true, sh`tp_alloy_ready`),
          // The probes ask whatever listens on Alloy's port: a stopped alloy.service whose port
          // another process took would pass them all.
          unitCheck('Alloy is running', facts, UNITS.alloy, true),
          check('Alloy runs trento.alloy', p.alloyRunsTrento === true, sh`tp_alloy_has prometheus.remote_write.trento`),
          check('Alloy delivers metrics to the remote-write URL', deliveredWithin(facts, wait), sh`tp_alloy_delivers ${String(wait)}`),
        ];
  return [...provider, unitCheck('trento-agent is running', facts, UNITS.agent, true)];
}

/** Nothing to change, nothing left over, and every check holds in the facts: the host is proven
 *  without a second round trip (changed=0 still means verified). */
export const provenByFacts = (plan: HostPlan): boolean => !needsApply(plan) && [...plan.checks, ...plan.retiredChecks].every((c) => c.heldByFacts);
