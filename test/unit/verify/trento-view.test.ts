// --verify-prometheus without a lab: the query Trento Web runs, reading Prometheus' answers,
// the verdict per host, and the waiting, against a real HTTP server on 127.0.0.1 that answers
// like Prometheus' API (/api/v1/query with time(), up{...} and timestamp(up{...}), /targets,
// /status/config). The lab test (test/integration/verify-prometheus.test.ts) asks the real one.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { basicCredentials, PrometheusError, prometheusApi, type PrometheusEndpoint } from '../../../src/verify/prometheus-api.ts';
import { judge, readUp, trentoView, upQuery, upSelector, upWithTimeQuery, type ProofRequest } from '../../../src/verify/trento-view.ts';

const A = '779cdd70-e9e2-58ca-b18a-bf3eb3f71244';
const B = '33336f20-1843-55c0-9f43-e80ef9079075';
const C = '0b7e1c52-3f5e-5a31-9d0a-2c1e4f6a8b90';
const D = 'a1b2c3d4-e5f6-5789-8abc-def012345678';

describe("Trento Web's query", () => {
  it('is up{agentID="<id>"} per host; several hosts share one selector with the same series', () => {
    expect(upQuery(A)).toBe(`up{agentID="${A}"}`);
    expect(upSelector([A])).toBe(`up{agentID="${A}"}`);
    expect(upSelector([A, B, A])).toBe(`up{agentID=~"${A}|${B}"}`);
  });

  it('refuses anything that is not an agent ID (no PromQL or regex gets in)', () => {
    expect(() => upQuery('x"} or vector(1) or up{a="')).toThrow(/not an agent ID/);
    expect(() => upSelector([A, '.*'])).toThrow(/not an agent ID/);
  });
});

/** upWithTimeQuery's answer: each series' `up * 1e10 + timestamp(up)`, evaluated at 1000. */
const answer = (rows: { labels: Record<string, string>; up?: number; at?: number; raw?: string }[]) => ({
  resultType: 'vector',
  result: rows.map((r) => ({ metric: r.labels, value: [1000, r.raw ?? String((r.up ?? 0) * 1e10 + (r.at ?? 0))] })),
});

describe("reading Prometheus' answer and judging a host", () => {
  const pull: ProofRequest = { host: 'sles15', agentId: A, exporterName: 'node_exporter', mode: 'pull' };
  const push: ProofRequest = { host: 'sles16', agentId: B, exporterName: 'grafana_alloy', mode: 'push' };

  it("reads each series' value and its sample's time from one evaluation (up * 1e10 + timestamp(up)), per agent ID", () => {
    const labelsA = { agentID: A, exporter_name: 'node_exporter', instance: '10.0.0.1:9100' };
    const labelsB = { agentID: B, exporter_name: 'grafana_alloy' };
    const seen = readUp(
      answer([
        { labels: labelsA, up: 1, at: 1796609833.785 },
        { labels: labelsB, up: 0, at: 990.5 },
      ]),
    );
    expect(seen.get(A)).toEqual([{ exporterName: 'node_exporter', up: 1, at: expect.closeTo(1796609833.785, 6) }]);
    expect(seen.get(B)).toEqual([{ exporterName: 'grafana_alloy', up: 0, at: 990.5 }]);
    // the poll asks Prometheus for Trento Web's selector, value and time in one expression
    expect(upWithTimeQuery(upSelector([A, B]))).toBe(`up{agentID=~"${A}|${B}"} * 10000000000 + timestamp(up{agentID=~"${A}|${B}"})`);
    expect(() => readUp({ resultType: 'matrix', result: [] })).toThrow(/expected an instant vector, got matrix/);
  });

  it('a value that parts into no time a Date holds ("NaN", "-1", "1e300", from a proxy) is read as no time, never a crash of the run', () => {
    const labels = { agentID: A, exporter_name: 'node_exporter' };
    for (const raw of ['NaN', '-1', '1e300', '-Inf', '+Inf']) {
      const seen = readUp(answer([{ labels, raw }]));
      expect(seen.get(A)?.[0]?.at, raw).toBeNull();
      const verdict = judge(pull, seen.get(A)!, 100);
      expect(verdict.ok, raw).toBe(false);
    }
    const verdict = judge(pull, readUp(answer([{ labels, raw: 'NaN' }])).get(A)!, 100);
    expect(verdict).toMatchObject({ ok: false, reason: 'no-fresh-sample', sampleAt: null });
    expect(verdict.message).toContain('is from a time Prometheus did not give');
    // A timed series beside it still decides.
    expect(
      judge(
        pull,
        [
          { exporterName: 'node_exporter', up: 1, at: null },
          { exporterName: 'node_exporter', up: 1, at: 101 },
        ],
        100,
      ),
    ).toMatchObject({ ok: true });
  });

  it('a fresh up == 1 with the expected exporter_name passes; every other case names its reason', () => {
    expect(judge(pull, [{ exporterName: 'node_exporter', up: 1, at: 101 }], 100)).toMatchObject({ ok: true, up: 1, reason: null });
    expect(judge(pull, [], 100)).toMatchObject({ ok: false, reason: 'no-series', message: `Prometheus has no series up{agentID="${A}"}` });
    expect(judge(push, [{ exporterName: 'node_exporter', up: 1, at: 101 }], 100)).toMatchObject({ ok: false, reason: 'other-exporter' });
    expect(judge(push, [{ exporterName: 'grafana_alloy', up: 1, at: 99 }], 100)).toMatchObject({ ok: false, reason: 'no-fresh-sample', up: 1 });
    const down = judge(pull, [{ exporterName: 'node_exporter', up: 0, at: 101 }], 100);
    expect(down).toMatchObject({ ok: false, reason: 'up-0', up: 0 });
    expect(down.message).toMatch(/cannot scrape its node_exporter/);
    expect(down.sampleAt).toBe(new Date(101_000).toISOString());
  });

  it('two fresh series of the exporter that disagree (two targets, a clone with the same machine-id) are no proof; the verdict reports the series that decided it', () => {
    const twice = judge(
      push,
      [
        { exporterName: 'grafana_alloy', up: 1, at: 101 },
        { exporterName: 'grafana_alloy', up: 0, at: 102 },
      ],
      100,
    );
    expect(twice).toMatchObject({ ok: false, reason: 'up-0', up: 0, sampleAt: new Date(102_000).toISOString() });
    expect(twice.message).toMatch(/has two series since the rollout, one 1 and one 0 .*another machine with this agent ID/);
    // A stale 0 beside a fresh 1 is no disagreement: the fresh 1 decides, and is what is reported.
    expect(
      judge(
        push,
        [
          { exporterName: 'grafana_alloy', up: 0, at: 99 },
          { exporterName: 'grafana_alloy', up: 1, at: 101 },
        ],
        100,
      ),
    ).toMatchObject({
      ok: true,
      up: 1,
      sampleAt: new Date(101_000).toISOString(),
    });
    expect(
      judge(
        push,
        [
          { exporterName: 'grafana_alloy', up: 1, at: 101 },
          { exporterName: 'grafana_alloy', up: 0, at: 99.5 },
        ],
        100,
      ).up,
    ).toBe(1);
  });
});

/**
 * A small Prometheus API: `series` is what it holds now (the test changes it while a proof
 * waits); time() answers `clock`; credentials are checked when `auth` is set.
 */
interface FakeSeries {
  agentId: string;
  exporterName: string;
  up: number;
  at: number;
}

class FakePrometheus {
  series: FakeSeries[] = [];
  clock = 1_000;
  scrapeIntervals = new Map<string, string>();
  globalInterval = '30s';
  auth?: string;
  queries: string[] = [];
  private server?: Server;
  url = '';

  async start(handler?: (req: IncomingMessage, body: string) => { status: number; body: string } | undefined): Promise<this> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const special = handler?.(req, body);
        const answer = special ?? this.answer(req, body);
        res.writeHead(answer.status, { 'Content-Type': 'application/json' });
        res.end(answer.body);
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/prometheus`;
    return this;
  }

  private answer(req: IncomingMessage, body: string): { status: number; body: string } {
    if (this.auth !== undefined && req.headers.authorization !== this.auth) return { status: 401, body: 'Unauthorized' };
    const ok = (data: unknown) => ({ status: 200, body: JSON.stringify({ status: 'success', data }) });
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/prometheus/api/v1/targets') {
      return ok({
        activeTargets: [...this.scrapeIntervals].map(([id, scrapeInterval]) => ({ labels: { agentID: id, exporter_name: 'node_exporter' }, scrapeInterval })),
      });
    }
    if (url.pathname === '/prometheus/api/v1/status/config') return ok({ yaml: `global:\n  scrape_interval: ${this.globalInterval}\n` });
    if (url.pathname !== '/prometheus/api/v1/query' || req.method !== 'POST') return { status: 404, body: '{"status":"error","error":"not found"}' };
    const query = new URLSearchParams(body).get('query') ?? '';
    this.queries.push(query);
    if (query === 'time()') return ok({ resultType: 'scalar', result: [this.clock, String(this.clock)] });
    // The poll's one query: up{...} * 1e10 + timestamp(up{...}), each series' value and time.
    const m = /^(up\{agentID=~?"[^"]+"\}) \* 10000000000 \+ timestamp\((up\{agentID=~?"[^"]+"\})\)$/.exec(query);
    if (!m || m[1] !== m[2]) return { status: 400, body: JSON.stringify({ status: 'error', error: `unexpected query ${query}` }) };
    const ids = /agentID=~?"([^"]+)"/.exec(query)?.[1]?.split('|') ?? [];
    const rows = this.series.filter((s) => ids.includes(s.agentId));
    return ok({
      resultType: 'vector',
      result: rows.map((s) => ({ metric: { agentID: s.agentId, exporter_name: s.exporterName }, value: [this.clock, String(s.up * 1e10 + s.at)] })),
    });
  }

  async stop() {
    await new Promise((r) => this.server?.close(r));
  }
}

const servers: FakePrometheus[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});
const fake = async (handler?: Parameters<FakePrometheus['start']>[0]) => {
  const f = await new FakePrometheus().start(handler);
  servers.push(f);
  return f;
};
const endpoint = (f: FakePrometheus, extra: Partial<PrometheusEndpoint> = {}): PrometheusEndpoint => ({ url: f.url, auth: 'none', ...extra });

/** A controller clock in step with the fake's (both in ms), advanced by each poll's sleep. */
function steppedClock(f: FakePrometheus, onTick: (t: number) => void = () => undefined) {
  let t = f.clock * 1000;
  return {
    now: () => t,
    sleep: async (ms: number) => {
      t += ms;
      f.clock = t / 1000;
      onTick(t);
    },
  };
}

describe('waiting for every host, against an HTTP server answering like Prometheus', () => {
  it('hosts share each poll; one is up at once, one comes up later, one never has a series, one stays at 0', async () => {
    const f = await fake();
    let late = false;
    const clock = steppedClock(f, (t) => {
      // Prometheus keeps scraping: every poll sees new samples of the hosts it has.
      for (const s of f.series) s.at = t / 1000;
      if (!late && t >= 1_001_500) {
        late = true;
        f.series.push({ agentId: B, exporterName: 'grafana_alloy', up: 1, at: t / 1000 });
      }
    });
    f.series.push({ agentId: A, exporterName: 'node_exporter', up: 1, at: 999 }, { agentId: D, exporterName: 'node_exporter', up: 0, at: 999 });
    f.scrapeIntervals.set(A, '2s').set(D, '2s');
    const view = trentoView(prometheusApi(endpoint(f)), { pollMs: 500, ...clock });
    // The run's first proof reads Prometheus' clock and scrape intervals; the others then start together.
    expect(await view.prove({ host: 'a0', agentId: A, exporterName: 'node_exporter', mode: 'pull' })).toMatchObject({ proof: { ok: true } });
    f.queries = [];
    const [a, b, c, d] = await Promise.all([
      view.prove({ host: 'a', agentId: A, exporterName: 'node_exporter', mode: 'pull' }),
      view.prove({ host: 'b', agentId: B, exporterName: 'grafana_alloy', mode: 'push', scrapeIntervalMs: 10_000 }),
      view.prove({ host: 'c', agentId: C, exporterName: 'grafana_alloy', mode: 'push', scrapeIntervalMs: 1_000 }),
      view.prove({ host: 'd', agentId: D, exporterName: 'node_exporter', mode: 'pull' }),
    ]);
    const proof = (x: typeof a) => ('proof' in x ? x.proof : expect.fail('error' in x ? `Prometheus error: ${x.error.message}` : 'cut'));
    // a: its sample at 999 is older than its rollout; the next scrape is fresh.
    expect(proof(a)).toMatchObject({ ok: true, up: 1, exporterName: 'node_exporter', query: `up{agentID="${A}"}`, scrapeIntervalMs: 2_000, limitMs: 4_000 });
    expect(proof(b)).toMatchObject({ ok: true, up: 1, exporterName: 'grafana_alloy', limitMs: 20_000 });
    expect(proof(c)).toMatchObject({ ok: false, reason: 'no-series', up: null, limitMs: 2_000 });
    expect(proof(c).waitedMs).toBeGreaterThanOrEqual(2_000);
    expect(proof(d)).toMatchObject({ ok: false, reason: 'up-0', up: 0, limitMs: 4_000 });
    // One clock reading for the run (before); each poll asks for every host still waiting.
    expect(f.queries).not.toContain('time()');
    const polls = f.queries.filter((q) => q.startsWith('up{'));
    expect(/^up\{agentID=~"([^"]+)"\} \* /.exec(polls[0]!)?.[1]?.split('|').sort()).toEqual([A, B, C, D].sort());
    // A host that is proved leaves the poll: the last ones ask only for d (the longest limit).
    expect(polls.at(-1)).toBe(upWithTimeQuery(`up{agentID="${D}"}`));
  });

  it("the run's hard stop ends every waiting proof at once with no answer, and Prometheus is asked nothing more", async () => {
    const f = await fake();
    const stop = new AbortController();
    // Real time: a host that never shows up would be waited for 20 s; the next poll a second later.
    const view = trentoView(prometheusApi(endpoint(f)), { pollMs: 1000, signal: stop.signal });
    const waiting = view.prove({ host: 'b', agentId: B, exporterName: 'grafana_alloy', mode: 'push', scrapeIntervalMs: 10_000 });
    // polled once (the poll's query in), then cut before the next poll
    while (!f.queries.some((q) => q.startsWith('up{'))) await new Promise((r) => setTimeout(r, 10));
    stop.abort();
    expect(await waiting).toEqual({ cut: true });
    const asked = f.queries.length;
    await new Promise((r) => setTimeout(r, 1500));
    expect(f.queries).toHaveLength(asked);
    // a proof asked for after the stop is cut too, with no request
    expect(await view.prove({ host: 'a', agentId: A, exporterName: 'node_exporter', mode: 'pull' })).toEqual({ cut: true });
    expect(f.queries).toHaveLength(asked);
  });

  it('a pull host Prometheus lists nowhere waits two of its global scrape intervals (from its config)', async () => {
    const f = await fake();
    f.globalInterval = '1s';
    const view = trentoView(prometheusApi(endpoint(f)), { pollMs: 250, ...steppedClock(f) });
    const answer = await view.prove({ host: 'x', agentId: C, exporterName: 'node_exporter', mode: 'pull' });
    expect(answer).toMatchObject({ proof: { ok: false, reason: 'no-series', scrapeIntervalMs: 1_000, limitMs: 2_000 } });
  });

  it('--verify-wait replaces two scrape intervals', async () => {
    const f = await fake();
    const view = trentoView(prometheusApi(endpoint(f)), { pollMs: 100, waitMs: 300, ...steppedClock(f) });
    expect(await view.prove({ host: 'x', agentId: C, exporterName: 'grafana_alloy', mode: 'push', scrapeIntervalMs: 60_000 })).toMatchObject({
      proof: { limitMs: 300, reason: 'no-series' },
    });
  });

  it('a passing trouble (a 503 while Prometheus restarts, a 502 of its proxy) is asked again at the next poll; a proxy that forbids the targets page leaves the global interval', async () => {
    let failing = 2;
    const f = await fake((req, body) => {
      if (req.url?.endsWith('/api/v1/targets?state=active')) return { status: 403, body: 'Forbidden' };
      if (req.url?.endsWith('/api/v1/query') && body.startsWith('query=up') && failing > 0) {
        failing--;
        return {
          status: failing ? 503 : 502,
          body: failing ? '{"status":"error","errorType":"unavailable","error":"restarting"}' : '<html>Bad Gateway</html>',
        };
      }
      return undefined;
    });
    f.globalInterval = '1s';
    const clock = steppedClock(f, (t) => {
      for (const s of f.series) s.at = t / 1000;
    });
    f.series.push({ agentId: A, exporterName: 'node_exporter', up: 1, at: 999 });
    const view = trentoView(prometheusApi(endpoint(f)), { pollMs: 100, ...clock });
    expect(await view.prove({ host: 'a', agentId: A, exporterName: 'node_exporter', mode: 'pull' })).toMatchObject({
      proof: { ok: true, scrapeIntervalMs: 1_000 },
    });
    expect(failing).toBe(0);
    // For good (past the host's deadline), it ends the proofs as before.
    const down = await fake((req) => (req.url?.endsWith('/api/v1/query') ? { status: 503, body: 'down' } : undefined));
    const answer = await trentoView(prometheusApi(endpoint(down)), { pollMs: 100, ...steppedClock(down) }).prove({
      host: 'b',
      agentId: B,
      exporterName: 'grafana_alloy',
      mode: 'push',
      scrapeIntervalMs: 200,
    });
    expect(answer).toMatchObject({ error: { kind: 'bad-answer', transient: true } });
  });

  it("a passing trouble on the run's first questions (Prometheus' clock, the targets page) is asked again too, not the end of every proof", async () => {
    let clockFails = 2;
    let targetsFail = 1;
    const f = await fake((req, body) => {
      if (req.url?.endsWith('/api/v1/query') && body === 'query=time%28%29' && clockFails > 0) {
        clockFails--;
        return { status: 503, body: '{"status":"error","errorType":"unavailable","error":"restarting"}' };
      }
      if (req.url?.endsWith('/api/v1/targets?state=active') && targetsFail > 0) {
        targetsFail--;
        return { status: 502, body: '<html>Bad Gateway</html>' };
      }
      return undefined;
    });
    f.scrapeIntervals.set(A, '1s');
    const clock = steppedClock(f, (t) => {
      for (const s of f.series) s.at = t / 1000;
    });
    f.series.push({ agentId: A, exporterName: 'node_exporter', up: 1, at: 999 });
    const view = trentoView(prometheusApi(endpoint(f)), { pollMs: 100, ...clock });
    expect(await view.prove({ host: 'a', agentId: A, exporterName: 'node_exporter', mode: 'pull' })).toMatchObject({
      proof: { ok: true, scrapeIntervalMs: 1_000 },
    });
    expect([clockFails, targetsFail]).toEqual([0, 0]);
  });

  it('a targets page that keeps failing leaves the global interval once the host could wait no more; a hard stop while the clock is asked again cuts the proof, asking nothing more', async () => {
    const f = await fake((req) => (req.url?.endsWith('/api/v1/targets?state=active') ? { status: 503, body: 'down' } : undefined));
    f.globalInterval = '1s';
    const clock = steppedClock(f, (t) => {
      for (const s of f.series) s.at = t / 1000;
    });
    f.series.push({ agentId: A, exporterName: 'node_exporter', up: 1, at: 999 });
    const view = trentoView(prometheusApi(endpoint(f)), { pollMs: 100, waitMs: 2_000, ...clock });
    expect(await view.prove({ host: 'a', agentId: A, exporterName: 'node_exporter', mode: 'pull' })).toMatchObject({
      proof: { ok: true, scrapeIntervalMs: 1_000 },
    });
    // Prometheus restarting (time() answers 503) when the run is stopped: cut, not a run error.
    const stop = new AbortController();
    let calls = 0;
    const down = await fake((req) => {
      if (req.url?.endsWith('/api/v1/query')) {
        calls++;
        stop.abort();
        return { status: 503, body: '{"status":"error","errorType":"unavailable","error":"restarting"}' };
      }
      return undefined;
    });
    const stopped = trentoView(prometheusApi(endpoint(down)), { pollMs: 100, signal: stop.signal, ...steppedClock(down) });
    expect(await stopped.prove({ host: 'b', agentId: B, exporterName: 'grafana_alloy', mode: 'push' })).toEqual({ cut: true });
    expect(calls).toBe(1);
  });

  it("a push host's samples are judged on its own clock (Alloy stamps them): a minute ahead with nothing since the rollout is no proof; 30 s behind and delivering is", async () => {
    const f = await fake();
    let behind = false;
    const clock = steppedClock(f, (t) => {
      // B (30 s behind) keeps pushing, stamped with its clock; A pushed last before the proof.
      if (behind) for (const s of f.series.filter((x) => x.agentId === B)) s.at = t / 1000 - 30;
    });
    const start = clock.now() / 1000;
    f.series.push({ agentId: A, exporterName: 'grafana_alloy', up: 1, at: start + 60 - 5 });
    const view = trentoView(prometheusApi(endpoint(f)), { pollMs: 100, ...clock });
    const req = (agentId: string, hostClockSkewMs?: number): ProofRequest => ({
      host: agentId,
      agentId,
      exporterName: 'grafana_alloy',
      mode: 'push',
      scrapeIntervalMs: 500,
      ...(hostClockSkewMs !== undefined ? { hostClockSkewMs } : {}),
    });
    expect(await view.prove(req(A, 60_000))).toMatchObject({ proof: { ok: false, reason: 'no-fresh-sample' } });
    f.series.push({ agentId: B, exporterName: 'grafana_alloy', up: 1, at: clock.now() / 1000 - 30 - 5 });
    behind = true;
    expect(await view.prove(req(B, -30_000))).toMatchObject({ proof: { ok: true } });
  });

  it('a series that stopped before the rollout is no proof: no fresh sample', async () => {
    const f = await fake();
    f.series.push({ agentId: B, exporterName: 'grafana_alloy', up: 1, at: 990 });
    const view = trentoView(prometheusApi(endpoint(f)), { pollMs: 100, ...steppedClock(f) });
    const answer = await view.prove({ host: 'b', agentId: B, exporterName: 'grafana_alloy', mode: 'push', scrapeIntervalMs: 200 });
    expect(answer).toMatchObject({ proof: { ok: false, reason: 'no-fresh-sample', up: 1, sampleAt: new Date(990_000).toISOString() } });
  });
});

describe("Prometheus' own failures: one error for every host, never a per-host absence", () => {
  const push = (agentId: string): ProofRequest => ({ host: agentId, agentId, exporterName: 'grafana_alloy', mode: 'push', scrapeIntervalMs: 200 });

  it('basic and bearer credentials are sent; wrong ones are refused as one auth error', async () => {
    const f = await fake();
    f.auth = `Basic ${Buffer.from('trento:s3cret-basic').toString('base64')}`;
    f.series.push({ agentId: A, exporterName: 'grafana_alloy', up: 1, at: 5_000 });
    const good = trentoView(prometheusApi(endpoint(f, { auth: 'basic', username: 'trento', password: 's3cret-basic' })), { pollMs: 50 });
    expect(await good.prove(push(A))).toMatchObject({ proof: { ok: true } });

    const bad = trentoView(prometheusApi(endpoint(f, { auth: 'basic', username: 'trento', password: 'wrong-one' })), { pollMs: 50 });
    const answers = await Promise.all([bad.prove(push(A)), bad.prove(push(B))]);
    const errors = answers.map((a) => ('error' in a ? a.error : undefined));
    expect(errors[0]).toBeInstanceOf(PrometheusError);
    expect(errors[0]).toBe(errors[1]);
    expect(errors[0]).toMatchObject({ kind: 'auth-refused' });
    expect(errors[0]!.message).toMatch(/refused the credentials of --verify-auth basic \(HTTP 401; check agent_prometheus_auth_username/);
    expect(errors[0]!.message).not.toContain('wrong-one');

    f.auth = 'Bearer tok-123';
    const bearer = trentoView(prometheusApi(endpoint(f, { auth: 'bearer', bearerToken: 'tok-123' })), { pollMs: 50 });
    expect(await bearer.prove(push(A))).toMatchObject({ proof: { ok: true } });
  });

  it('nothing listening: unreachable, said once for the run', async () => {
    const f = await fake();
    const url = f.url;
    await f.stop();
    servers.splice(0);
    const view = trentoView(prometheusApi({ url, auth: 'none' }), { pollMs: 50 });
    const [a, b] = await Promise.all([view.prove(push(A)), view.prove(push(B))]);
    expect(a).toMatchObject({ error: { kind: 'unreachable' } });
    expect('error' in a && a.error.message).toMatch(/^Trento's Prometheus at http:\/\/127\.0\.0\.1:\d+\/prometheus is unreachable: ECONNREFUSED/);
    expect('error' in b && 'error' in a && b.error === a.error).toBe(true);
  });

  it('an answer that is JSON but no API answer ("success" without data, null, samples without labels): a run error, never a crash', async () => {
    for (const bad of ['{"status":"success"}', 'null', '{"status":"success","data":{"resultType":"vector","result":[{"value":[1,"1"]}]}}']) {
      const f = await fake((req, body) => (req.url?.endsWith('/api/v1/query') && !body.includes('time%28%29') ? { status: 200, body: bad } : undefined));
      const view = trentoView(prometheusApi(endpoint(f)), { pollMs: 50 });
      const answer = await view.prove(push(A));
      expect(answer, bad).toMatchObject({ error: { kind: 'bad-answer' } });
    }
  });

  it("an error text is quoted at most 300 characters long; a proxy's echo of the Basic credentials is a secret of the run", async () => {
    const f = await fake(() => ({ status: 502, body: JSON.stringify({ status: 'error', error: `bad gateway ${'x'.repeat(1000)}` }) }));
    const answer = await trentoView(prometheusApi(endpoint(f)), { pollMs: 50 }).prove(push(A));
    expect('error' in answer && answer.error.message).toMatch(/: bad gateway x{288}\.\.\.$/);
    expect(basicCredentials({ url: f.url, auth: 'basic', username: 'trento', password: 's3cretPassw0rd!' })).toBe(
      Buffer.from('trento:s3cretPassw0rd!').toString('base64'),
    );
    expect(basicCredentials({ url: f.url, auth: 'bearer', bearerToken: 't' })).toBeUndefined();
  });

  it("a proxy's page echoing the request's Authorization header: the credential is masked before the quote is cut, no part of it shown", async () => {
    const token = 'eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXRva2VuLXZhbHVl.Zm9vYmFy';
    for (const auth of ['bearer', 'basic'] as const) {
      // The header's value starts before character 300 of the quote and ends after it.
      const f = await fake((req) => ({ status: 502, body: `${'-'.repeat(250)} Authorization: ${req.headers.authorization} ${'-'.repeat(200)}` }));
      const credentials = auth === 'bearer' ? { bearerToken: token } : { username: 'trento', password: token };
      const answer = await trentoView(prometheusApi(endpoint(f, { auth, ...credentials })), { pollMs: 50, waitMs: 100 }).prove(push(A));
      const message = 'error' in answer ? answer.error.message : '';
      expect(message, auth).toContain('Authorization: ');
      const sent = auth === 'bearer' ? token : Buffer.from(`trento:${token}`).toString('base64');
      expect(message.includes(sent.slice(0, 12)), `${auth}: ${message}`).toBe(false);
    }
  });

  it('a web page instead of the API (a wrong base URL) is said so', async () => {
    const f = await fake(() => ({ status: 200, body: '<html>Trento</html>' }));
    const view = trentoView(prometheusApi(endpoint(f)), { pollMs: 50 });
    const answer = await view.prove(push(A));
    expect(answer).toMatchObject({ error: { kind: 'bad-answer' } });
    expect('error' in answer && answer.error.message).toMatch(/no Prometheus API answer \(is the URL the Prometheus base URL/);
  });
});

describe('a request that cannot be made', () => {
  it('(a client key that does not load) fails at once and leaves no timer behind to fire later', async () => {
    const api = prometheusApi({ url: 'https://127.0.0.1:9/prometheus', auth: 'mtls', clientCert: 'not a certificate', clientKey: 'not a key', timeoutMs: 100 });
    await expect(api.query('up')).rejects.toThrow();
    // Past the whole-answer deadline (three times 100 ms): a timer left by the failed request
    // would throw here, an error vitest reports for this file.
    await new Promise((r) => setTimeout(r, 600));
  });
});

describe('an answer that trickles in', () => {
  it('is given up after three times the silence timeout, as a passing trouble (asked again at the next poll), not waited on for ever', {
    timeout: 20_000,
  }, async () => {
    // A proxy that sends the headers, then a byte every 200 ms: never silent for the 500 ms timeout.
    let timer: NodeJS.Timeout | undefined;
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      timer = setInterval(() => res.write(' '), 200);
      res.on('close', () => clearInterval(timer));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const error = await prometheusApi({ url, auth: 'none', timeoutMs: 500 })
        .query('up')
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(error).toBeInstanceOf(PrometheusError);
      // The whole answer's deadline (or, on a machine too busy to write every 200 ms, the
      // silence timeout): either way given up, where the run waited for ever before.
      expect(error).toMatchObject({
        kind: 'unreachable',
        transient: true,
        message: expect.stringMatching(/no answer within (2 s \(only part of one came\)|1 s)/),
      });
    } finally {
      clearInterval(timer);
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
