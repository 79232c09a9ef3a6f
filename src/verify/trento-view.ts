// Proof from Trento's side: after a host's rollout, ask Trento's Prometheus what Trento Web asks
// it (`up{agentID="<id>"}`, read per exporter_name: "1" is passing; lib/trento/infrastructure/
// prometheus/adapter/prometheus_api.ex, RFC 0003 "Exporter status indication") until the
// host's exporter is up with a sample newer than its rollout, or two scrape intervals pass.
//
// The same selector serves both modes: SLES 15 (pull) hosts get `up` from Prometheus scraping
// node_exporter through Trento Web's target list (exporter_name="node_exporter"); SLES 16
// (push) hosts get it from Alloy's remote write (trento.alloy labels every sample with agentID
// and exporter_name="grafana_alloy"). Hosts waiting at the same time share each poll: one
// query `up{agentID=~"id1|id2|..."}` (the same series as one query per host) and its timestamps.
import { PrometheusError, type PrometheusApi } from './prometheus-api.ts';
import { DEFAULT_PUSH_SCRAPE_INTERVAL_MS } from '../settings/agent-config.ts';
import { goDurationMs } from '../settings/go-duration.ts';
import type { Proof, ProofReason } from './types.ts';

export type { Proof, ProofReason } from './types.ts';

export interface ProofRequest {
  host: string;
  agentId: string;
  /** The exporter_name Trento expects for this host (node_exporter, grafana_alloy, or the inventory's). */
  exporterName: string;
  mode: 'pull' | 'push';
  /** Push: the host's Alloy scrape interval (agent_prometheus_scrape_interval), ms. */
  scrapeIntervalMs?: number;
  /** Push: the host's clock minus the controller's (ms). Alloy stamps the samples it pushes with
   *  the host's clock, so "newer than the rollout" is judged on that clock: a host a minute
   *  ahead would pass on samples from before the rollout, one behind fail on fresh ones. */
  hostClockSkewMs?: number;
}

/** The answer for one host: its proof, Prometheus' own failure (the same for every host), or
 *  none: the run was cut (TrentoViewOptions.signal) before Prometheus answered. */
export type ProofAnswer = { proof: Proof } | { error: PrometheusError } | { cut: true };

const AGENT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/u;

function checkedId(agentId: string): string {
  // A UUID holds nothing PromQL or a regex would read specially; anything else is refused.
  if (!AGENT_ID.test(agentId)) throw new Error(`not an agent ID (UUID): ${JSON.stringify(agentId)}`);
  return agentId;
}

/** Trento Web's query for one host. */
export function upQuery(agentId: string): string {
  return `up{agentID="${checkedId(agentId)}"}`;
}

/** The same series for several hosts in one query. */
export function upSelector(agentIds: readonly string[]): string {
  const ids = [...new Set(agentIds.map(checkedId))];
  return ids.length === 1 ? upQuery(ids[0]!) : `up{agentID=~"${ids.join('|')}"}`;
}

/** One `up` series of one host, as Prometheus has it now. */
export interface SeenSeries {
  exporterName: string;
  up: number;
  /** Sample time, seconds since the epoch (Prometheus' clock); null when the answer gave no
   *  time a Date holds: never counted as fresh. */
  at: number | null;
}

interface VectorSample {
  metric: Record<string, string>;
  value: [number, string];
}

function vectorOf(data: { resultType: string; result: unknown }): VectorSample[] {
  if (data.resultType !== 'vector' || !Array.isArray(data.result))
    throw new PrometheusError('bad-answer', `expected an instant vector, got ${String(data.resultType)}`);
  // Every sample as the API documents it: a label object and a [time, "value"] pair.
  const isSample = (s: unknown): s is VectorSample =>
    typeof s === 'object' &&
    s !== null &&
    typeof (s as VectorSample).metric === 'object' &&
    (s as VectorSample).metric !== null &&
    Array.isArray((s as VectorSample).value) &&
    (s as VectorSample).value.length === 2;
  if (!data.result.every(isSample)) throw new PrometheusError('bad-answer', 'an instant vector sample without its labels or value');
  return data.result;
}

/** Where the value of `up` goes in upWithTimeQuery's answer: above any sample time in seconds
 *  (1e10 s is the year 2286), so time and value part again exactly (float64 keeps 15 digits). */
const UP_SCALE = 1e10;

/**
 * The poll's one query: each series of the selector, as Trento Web's instant `up{agentID}` sees
 * it (stale series gone), with the value and the time of its newest sample from one evaluation:
 * `up * 1e10 + timestamp(up)`. An `up` and a `timestamp(up)` asked apart could pair an old value
 * with a newer sample's time (two moments, or two replicas behind a balancer).
 */
export const upWithTimeQuery = (selector: string) => `${selector} * ${UP_SCALE} + timestamp(${selector})`;

/** upWithTimeQuery's answer, per agent ID: each series' value of `up` and its sample's time. */
export function readUp(data: { resultType: string; result: unknown }): Map<string, SeenSeries[]> {
  const out = new Map<string, SeenSeries[]>();
  for (const s of vectorOf(data)) {
    const id = s.metric.agentID;
    if (id === undefined) continue;
    const both = Number(s.value[1]);
    const up = Math.floor(both / UP_SCALE);
    const seconds = both - up * UP_SCALE;
    // A value that does not part into `up` (0 or 1) and a time ("NaN", "1e300", "-1": a proxy's
    // answer, not Prometheus') is no time at all: never fresh.
    const at = Number.isFinite(both) && (up === 0 || up === 1) && seconds >= 0 ? seconds : null;
    const list = out.get(id) ?? [];
    list.push({ exporterName: s.metric.exporter_name ?? '', up: Number.isFinite(both) ? up : Number.NaN, at });
    out.set(id, list);
  }
  return out;
}

const iso = (seconds: number) => new Date(Math.round(seconds * 1000)).toISOString();

export interface Verdict {
  ok: boolean;
  up: number | null;
  sampleAt: string | null;
  reason: ProofReason | null;
  message: string;
}

/** What Trento would show for this host, given the series seen and the rollout's time (s). */
export function judge(req: ProofRequest, series: readonly SeenSeries[], since: number): Verdict {
  const query = upQuery(req.agentId);
  if (series.length === 0) return { ok: false, up: null, sampleAt: null, reason: 'no-series', message: `Prometheus has no series ${query}` };
  const time = (s: SeenSeries) => s.at ?? Number.NEGATIVE_INFINITY;
  const mine = series.filter((s) => s.exporterName === req.exporterName).sort((a, b) => time(b) - time(a));
  const newest = mine[0];
  if (!newest) {
    const others = [...new Set(series.map((s) => s.exporterName || '(none)'))].join(', ');
    return { ok: false, up: null, sampleAt: null, reason: 'other-exporter', message: `${query} has exporter_name ${others}, not ${req.exporterName}` };
  }
  const shown = (s: SeenSeries) => ({ up: s.up, sampleAt: s.at === null ? null : iso(s.at) });
  const base = shown(newest);
  // Every fresh series of the exporter passing is what Trento shows as passing. Two that
  // disagree (two targets, or another machine with this agent ID) may show either: Trento keeps
  // one series per exporter_name. The verdict reports the series that decided it.
  const fresh = mine.filter((s) => time(s) > since);
  const passing = fresh.find((s) => s.up === 1);
  const failing = fresh.find((s) => s.up !== 1);
  if (passing && !failing) {
    const p = shown(passing);
    return { ...p, ok: true, reason: null, message: `${query} exporter_name="${req.exporterName}" is 1 (sample at ${p.sampleAt})` };
  }
  if (passing && failing) {
    const f = shown(failing);
    return {
      ...f,
      ok: false,
      reason: 'up-0',
      message: `${query} exporter_name="${req.exporterName}" has two series since the rollout, one 1 and one ${failing.up} (sample at ${f.sampleAt}): two targets for the host, or another machine with this agent ID (a clone that kept /etc/machine-id); Trento shows one of them`,
    };
  }
  if (time(newest) <= since) {
    return {
      ...base,
      ok: false,
      reason: 'no-fresh-sample',
      message: `no sample of ${query} exporter_name="${req.exporterName}" since the rollout (the newest, up == ${newest.up}, is from ${base.sampleAt ?? 'a time Prometheus did not give'})`,
    };
  }
  const why =
    req.mode === 'pull'
      ? 'Prometheus lists the host but cannot scrape its node_exporter (is it running, is port 9100 reachable from Prometheus?)'
      : "the host's Alloy pushes, but reports its scrape of the host failing";
  return { ...base, ok: false, reason: 'up-0', message: `${query} exporter_name="${req.exporterName}" is ${newest.up} (sample at ${base.sampleAt}): ${why}` };
}

export interface TrentoViewOptions {
  /** --verify-wait: wait this long for every host instead of two scrape intervals. */
  waitMs?: number;
  /** Between polls (default 1 s). */
  pollMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** The run's hard stop (SIGTERM, a second Ctrl-C): Prometheus is asked nothing more, and every
   *  proof still waiting, or asked for later, answers { cut: true } at once. */
  signal?: AbortSignal;
}

/** Prometheus' default global scrape_interval, when its config does not say. */
const PROMETHEUS_DEFAULT_INTERVAL_MS = 60_000;

export interface TrentoView {
  prove(req: ProofRequest): Promise<ProofAnswer>;
}

/**
 * Per run: the first proof asks Prometheus' clock (so "newer than the rollout" is judged on
 * Prometheus' time, whatever the controller's clock says) and, for pull hosts, how often it
 * scrapes each target. A passing trouble is asked again while a host could still be waiting;
 * any other PrometheusError, or one that outlasts that, ends every pending and later proof with
 * that one error.
 */
export function trentoView(api: PrometheusApi, options: TrentoViewOptions = {}): TrentoView {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const pollMs = options.pollMs ?? 1000;
  let fatal: PrometheusError | undefined;

  /** A first question of the run (Prometheus' clock, its scrape intervals): a passing trouble
   *  (a 503 while it restarts, a reset) is asked again, as the polls are, until `until`. */
  const askUntil = async <T>(ask: () => Promise<T>, until: number): Promise<T> => {
    for (;;) {
      try {
        return await ask();
      } catch (error) {
        if (!(error instanceof PrometheusError && error.transient && now() < until && !options.signal?.aborted)) throw error;
        await sleep(pollMs);
        // The run's hard stop while waiting to ask again: nothing more is asked (prove says cut).
        if (options.signal?.aborted) throw error;
      }
    }
  };

  // Prometheus' clock minus ours (ms), measured once.
  let offset: Promise<number> | undefined;
  const clockOffset = (until: number) =>
    (offset ??= askUntil(async () => {
      const before = now();
      const data = await api.query('time()');
      const after = now();
      const value = Array.isArray(data.result) ? Number((data.result as [number, string])[1]) : NaN;
      if (data.resultType !== 'scalar' || !Number.isFinite(value))
        throw new PrometheusError('bad-answer', `time() answered ${JSON.stringify(data).slice(0, 200)}`);
      return value * 1000 - (before + after) / 2;
    }, until));

  // Pull: the scrape interval Prometheus uses for the host's target, else its global one.
  let pullIntervals: Promise<{ byAgent: Map<string, number>; global: number }> | undefined;
  const pullInterval = async (agentId: string, until: number): Promise<number> => {
    pullIntervals ??= (async () => {
      const byAgent = new Map<string, number>();
      type Targets = { activeTargets?: { labels?: Record<string, string>; scrapeInterval?: string }[] };
      let targets: Targets = {};
      try {
        // A passing trouble is asked again while the host could wait (askUntil).
        targets = (await askUntil(() => api.get('/api/v1/targets?state=active'), until)) as Targets;
      } catch (error) {
        // A proxy that lets the queries through may forbid the targets page (as the config page
        // below), or keep failing it: the global interval is then the guess, not the run's error.
        if (!(error instanceof PrometheusError) || error.kind === 'unreachable') throw error;
      }
      for (const t of targets.activeTargets ?? []) {
        const id = t.labels?.agentID;
        const ms = goDurationMs(t.scrapeInterval);
        if (id && ms) byAgent.set(id, Math.max(ms, byAgent.get(id) ?? 0));
      }
      let global = PROMETHEUS_DEFAULT_INTERVAL_MS;
      try {
        const config = (await askUntil(() => api.get('/api/v1/status/config'), until)) as { yaml?: string };
        const { parse } = await import('yaml');
        global = goDurationMs((parse(config.yaml ?? '') as { global?: { scrape_interval?: string } } | null)?.global?.scrape_interval) ?? global;
      } catch (error) {
        // A proxy may forbid the config page, or keep failing it: the default is then the honest guess.
        if (!(error instanceof PrometheusError) || error.kind === 'unreachable') throw error;
      }
      return { byAgent, global };
    })();
    const { byAgent, global } = await pullIntervals;
    return byAgent.get(agentId) ?? global;
  };

  interface Pending {
    req: ProofRequest;
    since: number; // Prometheus time (s) at the start of this host's proof
    started: number;
    deadline: number;
    limitMs: number;
    intervalMs: number;
    resolve: (a: ProofAnswer) => void;
  }
  const pending = new Set<Pending>();
  // biome-ignore lint/correctness/noUnusedVariables: read by `loop ??=` below: at most one poll loop at a time
  let loop: Promise<void> | undefined;

  // Whatever went wrong reading Prometheus (a bug included) ends the proofs with a run error,
  // never an unhandled rejection (Node would end the run with no recap and no report).
  const asPrometheusError = (error: unknown) =>
    error instanceof PrometheusError
      ? error
      : new PrometheusError('bad-answer', `reading its answer failed: ${error instanceof Error ? error.message : String(error)}`);
  const fail = (error: unknown) => {
    fatal ??= asPrometheusError(error);
    for (const p of pending) p.resolve({ error: fatal });
    pending.clear();
  };
  const cut = () => {
    for (const p of pending) p.resolve({ cut: true });
    pending.clear();
  };
  options.signal?.addEventListener('abort', cut, { once: true });

  const poll = async () => {
    while (pending.size > 0 && !options.signal?.aborted) {
      const batch = [...pending];
      const selector = upSelector(batch.map((p) => p.req.agentId));
      let seen: Map<string, SeenSeries[]>;
      try {
        seen = readUp(await api.query(upWithTimeQuery(selector)));
      } catch (error) {
        // A passing trouble is asked again while a host still has time; past every deadline, or
        // for good, it ends the proofs.
        if (error instanceof PrometheusError && error.transient && batch.some((p) => now() < p.deadline)) {
          await sleep(pollMs);
          continue;
        }
        return fail(error);
      }
      const t = now();
      for (const p of batch) {
        const v = judge(p.req, seen.get(p.req.agentId) ?? [], p.since);
        if (v.ok || t >= p.deadline) {
          pending.delete(p);
          p.resolve({
            proof: {
              query: upQuery(p.req.agentId),
              exporterName: p.req.exporterName,
              ...v,
              waitedMs: t - p.started,
              limitMs: p.limitMs,
              scrapeIntervalMs: p.intervalMs,
            },
          });
        }
      }
      if (pending.size > 0) await sleep(pollMs);
    }
  };
  const ensurePolling = () => {
    // From the next turn of the event loop: hosts whose proofs start together share the first poll.
    loop ??= new Promise((r) => setImmediate(r))
      .then(poll)
      .catch(fail)
      .finally(() => {
        loop = undefined;
        if (pending.size > 0) ensurePolling();
      });
  };

  return {
    async prove(req) {
      if (options.signal?.aborted) return { cut: true };
      if (fatal) return { error: fatal };
      const started = now();
      let since: number;
      let intervalMs: number;
      try {
        // Asked again while this host could still be waiting (its interval is not known yet
        // for a pull host: Prometheus' default then).
        const until =
          started + (options.waitMs ?? 2 * (req.mode === 'push' ? (req.scrapeIntervalMs ?? DEFAULT_PUSH_SCRAPE_INTERVAL_MS) : PROMETHEUS_DEFAULT_INTERVAL_MS));
        // The rollout's end on the clock that stamped the samples: Prometheus' for a pull
        // host (it scrapes), the host's own for a push host (Alloy stamps, remote write keeps it).
        const offset = await clockOffset(until);
        since = (started + (req.mode === 'push' && req.hostClockSkewMs !== undefined ? req.hostClockSkewMs : offset)) / 1000;
        intervalMs = req.mode === 'push' ? (req.scrapeIntervalMs ?? DEFAULT_PUSH_SCRAPE_INTERVAL_MS) : await pullInterval(req.agentId, until);
      } catch (error) {
        // Cut by the run's hard stop while Prometheus was being asked: no verdict, no run error.
        if (options.signal?.aborted) return { cut: true };
        fatal ??= asPrometheusError(error);
        return { error: fatal };
      }
      const limitMs = options.waitMs ?? 2 * intervalMs;
      if (options.signal?.aborted) return { cut: true };
      return new Promise<ProofAnswer>((resolve) => {
        pending.add({ req, since, started, deadline: started + limitMs, limitMs, intervalMs, resolve });
        ensurePolling();
      });
    },
  };
}
