// Phase 5 (--verify-prometheus): proof from Trento's side, after a host's rollout.
import type { HostStatus } from '../output/events.ts';
import { prometheusApi, type PrometheusEndpoint } from '../verify/prometheus-api.ts';
import { proofRequestFor } from '../verify/run-proof.ts';
import { trentoView } from '../verify/trento-view.ts';
import type { PlannedHost, RunContext } from './types.ts';

/** A host applied whose proof was cut by the run's hard stop (SIGTERM, a second Ctrl-C): its
 *  changes are made (the JSON report lists them applied), so not "stopped before it finished". */
export const PROOF_CUT =
  "applied, but its proof from Trento's side was cut by the interrupt: run the same command again to see whether Trento sees it (a host already converged is not changed again, only proven)";

/**
 * --verify-prometheus: asks Trento's Prometheus for a host's up{agentID}, then finishes the host
 * with the answer. Prometheus itself failing is one error for the run (printed once), not a
 * failure of the host.
 */
export function trentoProver(endpoint: PrometheusEndpoint, { options, emit, finish }: RunContext) {
  const view = trentoView(prometheusApi(endpoint), {
    signal: options.abort,
    ...(options.verifyPrometheus?.waitMs ? { waitMs: options.verifyPrometheus.waitMs } : {}),
  });
  emit({ type: 'trento-view-start', url: endpoint.url, auth: endpoint.auth });
  let viewError: string | undefined;
  const prove = async (h: PlannedHost, status: HostStatus, message?: string): Promise<void> => {
    const answer = await view.prove(proofRequestFor(h.name, h.agentId, h.platform.mode, h.config, h.clockSkewMs));
    // Cut by the run's hard stop: said at once (before the recap), and nothing later.
    if ('cut' in answer) return finish(h, 'failed', PROOF_CUT);
    if ('error' in answer) {
      if (viewError === undefined) emit({ type: 'trento-view-error', kind: answer.error.kind, message: answer.error.message });
      viewError ??= answer.error.message;
      return finish(h, status, message);
    }
    emit({ type: 'trento-view-host', host: h.name, proof: answer.proof });
    if (answer.proof.ok) return finish(h, status, message);
    const limit = `${Math.round(answer.proof.limitMs / 1000)} s`;
    return finish(
      h,
      'failed',
      `Trento does not see this host: ${answer.proof.message} (waited ${limit}, ${options.verifyPrometheus?.waitMs ? '--verify-wait' : 'two scrape intervals'})`,
    );
  };
  /** Prometheus' own failure, once met (the rollout stops on it: no wave is proven without it). */
  return Object.assign(prove, { viewError: () => viewError });
}
