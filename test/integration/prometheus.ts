// Asking the lab's Prometheus what Trento Web asks it: is `up{agentID="<id>"}` 1, with which
// exporter_name, and how fresh is the sample. Used by trento-view.test.ts and scripts/demo.ts.
import { execFileSync } from 'node:child_process';
import type { LabInfo } from '../lab/inventory.ts';

/** The agent ID Trento derives from a machine-id, computed apart from the toolkit: python3's
 *  uuid5 in the agent's namespace. */
export const agentIdOf = (machineId: string): string =>
  execFileSync('python3', ['-c', 'import uuid,sys; print(uuid.uuid5(uuid.UUID("fb92284e-aa5e-47f6-a883-bf9469e7a0dc"), sys.argv[1].strip()))', machineId], {
    encoding: 'utf8',
  }).trim();

export interface PromSample {
  metric: Record<string, string>;
  /** Evaluation time and value of an instant query. */
  value: [number, string];
}

export async function promQuery(info: LabInfo, query: string): Promise<PromSample[]> {
  if (!info.server) throw new Error('the lab has no server side (lab.json: server is null); run npm run lab -- up');
  const url = `${info.server.prometheusUrl}/api/v1/query?query=${encodeURIComponent(query)}`;
  const r = await fetch(url, { signal: AbortSignal.timeout(5000) });
  const body = (await r.json()) as { status: string; error?: string; data?: { result: PromSample[] } };
  if (body.status !== 'success') throw new Error(`Prometheus: ${query}: ${body.error ?? r.status}`);
  return body.data?.result ?? [];
}

const q = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

export interface UpAnswer {
  agentId: string;
  /** exporter_name -> value of up */
  up: Map<string, number>;
  /** exporter_name -> timestamp (s) of the newest `up` sample */
  at: Map<string, number>;
}

/** `up` and the timestamp of its newest sample per exporter_name, for one agent ID. */
export async function upOf(info: LabInfo, agentId: string): Promise<UpAnswer> {
  return (await upOfMany(info, [agentId]))[0]!;
}

/** upOf for many agent IDs in two queries (a fleet's hundreds of queries at once would make a
 *  loaded Prometheus answer some too late). */
async function upOfMany(info: LabInfo, agentIds: string[]): Promise<UpAnswer[]> {
  const sel = `up{agentID=~${q(agentIds.map((id) => id.replace(/[^0-9A-Za-z-]/g, '\\$&')).join('|'))}}`;
  const [values, stamps] = await Promise.all([promQuery(info, sel), promQuery(info, `timestamp(${sel})`)]);
  const answers = new Map(agentIds.map((agentId) => [agentId, { agentId, up: new Map<string, number>(), at: new Map<string, number>() }]));
  for (const s of values) answers.get(s.metric.agentID ?? '')?.up.set(s.metric.exporter_name ?? '', Number(s.value[1]));
  for (const s of stamps) answers.get(s.metric.agentID ?? '')?.at.set(s.metric.exporter_name ?? '', Number(s.value[1]));
  return agentIds.map((id) => answers.get(id)!);
}

export interface Expectation {
  host: string;
  agentId: string;
  exporterName: string;
}

/**
 * Polls until every host's `up{agentID, exporter_name}` is 1 with a sample newer than `since`
 * (seconds), or the deadline passes. Returns the hosts still missing, with what was seen.
 */
export async function waitForUp(info: LabInfo, wanted: Expectation[], since: number, timeoutMs: number): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  let missing: string[] = [];
  for (;;) {
    let answers: UpAnswer[];
    try {
      answers = await upOfMany(
        info,
        wanted.map((w) => w.agentId),
      );
    } catch (error) {
      // A query Prometheus answered too late (a busy machine) or refused: not yet, until the deadline.
      missing = [`Prometheus did not answer: ${(error as Error).message}`];
      if (Date.now() > deadline) return missing;
      await new Promise((r) => setTimeout(r, 500));
      continue;
    }
    missing = [];
    wanted.forEach((w, i) => {
      const a = answers[i]!;
      const up = a.up.get(w.exporterName);
      const at = a.at.get(w.exporterName) ?? 0;
      if (up !== 1 || at <= since) {
        const seen = [...a.up].map(([e, v]) => `${e}=${v} at ${a.at.get(e)}`).join(', ') || 'no series';
        missing.push(`${w.host} (agentID ${w.agentId}, exporter_name ${w.exporterName}): ${seen}; wanted up=1 after ${since}`);
      }
    });
    if (missing.length === 0 || Date.now() > deadline) return missing;
    await new Promise((r) => setTimeout(r, 500));
  }
}
