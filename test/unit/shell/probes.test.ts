// src/shell/probes.sh against a local HTTP server (loopback) that answers like Alloy and
// node_exporter: what the facts read of a provider, and that the checks' functions agree.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, realpathSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForStart } from '../../lab/proc.ts';
import { freePort } from '../../support/ports.ts';
import { describeWith, NODE_EXPORTER } from '../../support/requires.ts';
import { scriptLibrary } from '../../../src/apply/script-lib.ts';
import { toShell } from '../../../src/exec/command.ts';
import { wrapScript } from '../../../src/exec/session.ts';

const PROBES = readFileSync(new URL('../../../src/shell/probes.sh', import.meta.url), 'utf8');
const SENT = 'prometheus_remote_storage_queue_highest_sent_timestamp_seconds';
const FAILED = 'prometheus_remote_storage_samples_failed_total';
/** What the facts read of Alloy (src/facts/sources/providers.sh), in one line: READY RUNS LAST_SENT FAILED. */
const ALLOY_FACTS = 'tp_alloy_running; printf "%s %s " "$TP_ALLOY_READY" "$TP_ALLOY_RUNS"; tp_alloy_queue';

/** What the fake Alloy answers, per path: [status, body]. */
let answers: Record<string, [number, string]> = {};
/** Or answers made at each request (a provider whose metrics move). */
let served: ((url: string) => [number, string] | undefined) | undefined;
let server: Server;
let base = '';

beforeAll(async () => {
  server = createServer((req, res) => {
    const [status, body] = served?.(req.url ?? '') ?? answers[req.url ?? ''] ?? [404, 'not found\n'];
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

/** Runs FUNCTION of probes.sh with Alloy and node_exporter at the fake server (async: the server runs in this process). */
async function probe(
  fn: string,
  http = base,
  nodeMetrics = `${http}/node/metrics`,
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve) => {
    // A probe that hangs is killed (code null, its answer cut): the assertions on its answer fail.
    const p = spawn('/bin/bash', ['-c', `${PROBES}\n${fn}`], {
      env: { PATH: '/usr/bin:/bin', TP_ALLOY_HTTP: http, TP_NODE_EXPORTER_METRICS: nodeMetrics, ...env },
      timeout: 60_000,
    });
    let stdout = '';
    p.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    p.on('error', (e) => resolve({ code: -1, stdout: String(e) }));
    p.on('close', (code) => resolve({ code, stdout }));
  });
}

describe('a listener that sends its status and then stalls', () => {
  it('holds no probe beyond TP_HTTP_WAIT: the body is read for that long at most', async () => {
    // Answers every request with a 200 status line and headers, then sends nothing more.
    const held: import('node:net').Socket[] = [];
    const stalling = createNetServer((socket) => {
      held.push(socket);
      // The probe closes its end when its wait is over: a reset here is expected.
      socket.on('error', () => undefined);
      socket.once('data', () => socket.write('HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n'));
    });
    await new Promise<void>((r) => stalling.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(stalling.address() as AddressInfo).port}`;
    try {
      const r = await probe(
        `${ALLOY_FACTS}; tp_alloy_has prometheus.remote_write.trento; echo "has=$?"; tp_node_exporter_serves; echo "serves=$?"`,
        url,
        `${url}/metrics`,
        {
          TP_HTTP_WAIT: '3',
        },
      );
      // A 200 for the component is the components API's yes (only its status line is read);
      // the metrics page and node_exporter's stall: no answer.
      // (Three body reads of at most TP_HTTP_WAIT each: no hang, or probe() kills it and this fails.)
      expect(r.stdout).toBe('yes yes - -\nhas=0\nserves=1\n');
    } finally {
      for (const socket of held) socket.destroy();
      await new Promise<void>((r) => stalling.close(() => r()));
    }
  });
});

/** What Alloy's components API answers for the components it runs
 *  (/api/v0/web/components/ID: 200 with the component; any other ID gets the fake's 404, as Alloy's). */
const running = (...ids: string[]): Record<string, [number, string]> =>
  Object.fromEntries(ids.map((id) => [`/api/v0/web/components/${id}`, [200, JSON.stringify({ localID: id, moduleID: '' })]]));
const metrics = (lines: string[]) => `# HELP x\n${lines.join('\n')}\n`;
const trentoQueue = (url: string, value: string) => `${SENT}{component_id="prometheus.remote_write.trento",url="${url}"} ${value}`;

describe('tp_alloy_running and tp_alloy_queue (what the facts read of Alloy)', () => {
  it('ready, running trento.alloy, the newest delivery over every queue of the component', async () => {
    answers = {
      '/-/ready': [200, 'Alloy is ready.\n'],
      ...running('prometheus.scrape.default', 'prometheus.remote_write.trento'),
      '/metrics': [
        200,
        metrics([
          `${SENT}{component_id="prometheus.remote_write.other",url="x"} 1800000999`,
          trentoQueue('https://a/api/v1/write', '1.8000001e+09'),
          trentoQueue('https://b/api/v1/write', '1800000123'),
          // refused for good since Alloy started: summed over the component's queues, not others'
          `${FAILED}{component_id="prometheus.remote_write.trento",url="https://a/api/v1/write"} 4`,
          `${FAILED}{component_id="prometheus.remote_write.trento",url="https://b/api/v1/write"} 3`,
          `${FAILED}{component_id="prometheus.remote_write.other",url="x"} 100`,
        ]),
      ],
    };
    expect((await probe(ALLOY_FACTS)).stdout).toBe('yes yes 1800000123 7\n');
  });

  it('never delivered, trento.alloy not loaded, not ready: each said apart', async () => {
    answers = {
      '/-/ready': [503, 'Alloy is not ready.\n'],
      ...running('prometheus.scrape.default'),
      '/metrics': [200, metrics([`${SENT}{component_id="prometheus.remote_write.other",url="x"} 1800000999`])],
    };
    expect((await probe(ALLOY_FACTS)).stdout).toBe('no no - -\n');
  });

  it('an error page is not an answer, and no Alloy at all reads as nothing', async () => {
    answers = {
      '/-/ready': [200, 'ok'],
      '/api/v0/web/components/prometheus.remote_write.trento': [500, '"prometheus.remote_write.trento"'],
      '/metrics': [500, trentoQueue('u', '5')],
    };
    expect((await probe(ALLOY_FACTS)).stdout).toBe('yes no - -\n');
    // a port nothing listens on (the server's, closed for this call, is not reused: use port 9 on loopback)
    expect((await probe(ALLOY_FACTS, 'http://127.0.0.1:9')).stdout).toBe('no no - -\n');
  });

  it('agrees with the checks: tp_alloy_has and tp_rw_metric read the same', async () => {
    answers = {
      ...running('prometheus.remote_write.trento'),
      '/metrics': [200, metrics([trentoQueue('u', '1800000042')])],
    };
    expect((await probe('tp_alloy_has prometheus.remote_write.trento')).code).toBe(0);
    expect((await probe('tp_alloy_has prometheus.remote_write.other')).code).toBe(1);
    // an error page naming the component is not Alloy running it; no Alloy at all is not either
    answers['/api/v0/web/components/prometheus.remote_write.trento'] = [500, '"prometheus.remote_write.trento"'];
    expect((await probe('tp_alloy_has prometheus.remote_write.trento')).code).toBe(1);
    expect((await probe('tp_alloy_has prometheus.remote_write.trento', 'http://127.0.0.1:9')).code).toBe(1);
    // under --server.http.ui-path-prefix (TP_ALLOY_COMPONENTS, from CUSTOM_ARGS): asked there, not at the root
    answers = { '/ui/api/v0/web/components/prometheus.remote_write.trento': [200, '{"localID":"prometheus.remote_write.trento"}'] };
    const prefixed = { TP_ALLOY_COMPONENTS: `${base}/ui/api/v0/web/components` };
    expect((await probe('tp_alloy_has prometheus.remote_write.trento', base, `${base}/node/metrics`, prefixed)).code).toBe(0);
    expect((await probe('tp_alloy_has prometheus.remote_write.trento')).code).toBe(1);
    answers = { '/metrics': [200, metrics([trentoQueue('u', '1800000042')])] };
    expect((await probe(`curl -fsS "$TP_ALLOY_HTTP/metrics" | tp_rw_metric ${SENT} max`)).stdout).toBe('1800000042\n');
  });
});

describe("tp_alloy_lacks: the uninstall's proof that Alloy no longer runs Trento's pipeline", () => {
  it("is Alloy's own 404 for the component, never an error page, a silence or no Alloy at all", async () => {
    answers = running('prometheus.scrape.default');
    expect((await probe('tp_alloy_lacks prometheus.remote_write.trento')).code).toBe(0);
    answers = running('prometheus.remote_write.trento');
    expect((await probe('tp_alloy_lacks prometheus.remote_write.trento')).code).toBe(1);
    answers['/api/v0/web/components/prometheus.remote_write.trento'] = [500, 'internal error\n'];
    expect((await probe('tp_alloy_lacks prometheus.remote_write.trento; echo "$TP_HTTP_CODE"')).stdout).toBe('500\n');
    expect((await probe('tp_alloy_lacks prometheus.remote_write.trento')).code).toBe(1);
    expect((await probe('tp_alloy_lacks prometheus.remote_write.trento', 'http://127.0.0.1:9')).code).toBe(1);
    const silent = createNetServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    try {
      expect((await probe('tp_alloy_lacks prometheus.remote_write.trento', url, `${url}/metrics`, { TP_HTTP_WAIT: '1' })).code).toBe(1);
    } finally {
      silent.close();
    }
  });
});

describe('the probes read HTTP themselves (bash /dev/tcp)', () => {
  it('a provider that accepts and never answers is "no" once the wait is over, not a hung facts script', async () => {
    const silent = createNetServer(() => undefined); // accepts, reads nothing, writes nothing
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    try {
      // Each wait is bounded by TP_HTTP_WAIT, not by the server: a hang is killed by probe() and fails here.
      expect((await probe(ALLOY_FACTS, url, `${url}/metrics`, { TP_HTTP_WAIT: '1' })).stdout).toBe('no no - -\n');
      expect((await probe('tp_node_exporter_serves', url, `${url}/metrics`, { TP_HTTP_WAIT: '1' })).code).toBe(1);
      expect((await probe('tp_alloy_has prometheus.remote_write.trento', url, `${url}/metrics`, { TP_HTTP_WAIT: '1' })).code).toBe(1);
    } finally {
      silent.close();
    }
  });

  it("need nothing on the host but bash, grep, awk and coreutils' timeout (no curl)", async () => {
    const bin = mkdtempSync(join(tmpdir(), 'tp-probes-bin-'));
    for (const tool of ['grep', 'awk', 'timeout']) symlinkSync(realpathSync(`/usr/bin/${tool}`), join(bin, tool));
    answers = {
      '/-/ready': [200, 'Alloy is ready.\n'],
      ...running('prometheus.remote_write.trento'),
      '/metrics': [200, metrics([trentoQueue('u', '1800000042')])],
      '/node/metrics?collect%5B%5D=loadavg': [200, metrics(['node_load1 1'])],
    };
    const only = { PATH: bin };
    expect((await probe(ALLOY_FACTS, base, `${base}/node/metrics`, only)).stdout).toBe('yes yes 1800000042 0\n');
    expect((await probe('tp_alloy_has prometheus.remote_write.trento', base, `${base}/node/metrics`, only)).code).toBe(0);
    expect((await probe('tp_node_exporter_serves', base, `${base}/node/metrics`, only)).code).toBe(0);
  });

  it('sends a plain HTTP/1.0 GET with the path and query as given, and closes every connection it opened', async () => {
    const seen: string[] = [];
    answers = { '/node/metrics?collect%5B%5D=loadavg': [200, metrics(['node_load1 1'])] };
    const record = createServer((req, res) => {
      seen.push(`${req.method} ${req.url} HTTP/${req.httpVersion} host=${req.headers.host}`);
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('node_load1 1\n');
    });
    await new Promise<void>((r) => record.listen(0, '127.0.0.1', r));
    const port = (record.address() as AddressInfo).port;
    try {
      // sockets only (Node's stdio pipes are sockets too, hence "the same before and after"): a count of
      // every descriptor races with the command substitution's own pipe, whose write end the shell
      // may not have closed yet when the child lists the shell's descriptors
      const fds = 'ls -l /proc/$$/fd | grep -c socket:';
      const out = await probe(
        `before=$(${fds}); tp_node_exporter_serves; echo "rc=$? open before=$before after=$(${fds})"`,
        base,
        `http://127.0.0.1:${port}/metrics`,
      );
      expect(seen).toEqual([`GET /metrics?collect%5B%5D=loadavg HTTP/1.0 host=127.0.0.1:${port}`]);
      expect(out.stdout.trim()).toMatch(/^rc=0 open before=(\d+) after=\1$/);
      // the check reads the status line alone and still closes its connection, found or not
      answers = running('prometheus.remote_write.trento');
      for (const [component, rc] of [
        ['prometheus.remote_write.trento', 0],
        ['prometheus.remote_write.other', 1],
      ] as const) {
        const has = await probe(`before=$(${fds}); tp_alloy_has ${component}; echo "rc=$? open before=$before after=$(${fds})"`);
        expect(has.stdout.trim()).toMatch(new RegExp(`^rc=${rc} open before=(\\d+) after=\\1$`));
      }
    } finally {
      record.close();
    }
  });
});

describe('tp_node_exporter_serves', () => {
  const FILTERED = '/node/metrics?collect%5B%5D=loadavg';

  it('asks for the load average collector alone, and for the whole page only when that is refused', async () => {
    // The whole page failing proves the filtered request was enough.
    answers = { [FILTERED]: [200, metrics(['node_load1 0.5'])], '/node/metrics': [500, 'no'] };
    expect((await probe('tp_node_exporter_serves')).code).toBe(0);
    // node_exporter without the loadavg collector answers the filter with 400.
    answers = { [FILTERED]: [400, 'missing collector: loadavg'], '/node/metrics': [200, metrics(['node_cpu_seconds_total 1'])] };
    expect((await probe('tp_node_exporter_serves')).code).toBe(0);
  });

  it('needs node metrics on a 200', async () => {
    answers = { '/node/metrics': [200, metrics(['node_load1 0.5'])] };
    expect((await probe('tp_node_exporter_serves')).code).toBe(0);
    answers = { '/node/metrics': [200, metrics(['go_goroutines 7'])] };
    expect((await probe('tp_node_exporter_serves')).code).toBe(1);
    answers = { '/node/metrics': [500, metrics(['node_load1 0.5'])] };
    expect((await probe('tp_node_exporter_serves')).code).toBe(1);
  });
});

// The real node_exporter (Debian's; the lab's hosts run the same binary): the filter it honours,
// and the 400 it gives for a collector it runs without, which the probe falls back from.
describeWith(NODE_EXPORTER, 'tp_node_exporter_serves against the real node_exporter', () => {
  const started: ChildProcess[] = [];
  afterAll(() => {
    for (const p of started) p.kill();
  });

  /** A node_exporter on a free loopback port; its /metrics URL once it answers. */
  async function nodeExporter(...flags: string[]): Promise<string> {
    const port = await freePort();
    const log = join(mkdtempSync(join(tmpdir(), 'node-exporter-')), 'log');
    const fd = openSync(log, 'a');
    const p = spawn('/usr/bin/prometheus-node-exporter', [`--web.listen-address=127.0.0.1:${port}`, ...flags], { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    started.push(p);
    const url = `http://127.0.0.1:${port}/metrics`;
    await waitForStart(
      `node_exporter on port ${port}`,
      async () => (await probe(`curl -fsS -o /dev/null ${url}`)).code === 0,
      () => p.exitCode === null && p.signalCode === null,
      log,
      10_000,
    );
    return url;
  }
  const serves = (url: string) => probe('tp_node_exporter_serves', base, url);
  const httpGet = (url: string) => probe(`curl -s -w '\n%{http_code}' '${url}'`);

  it('honours the filter: node metrics, a fraction of the whole page', async () => {
    const url = await nodeExporter();
    const filtered = (await httpGet(`${url}?collect%5B%5D=loadavg`)).stdout;
    const whole = (await httpGet(url)).stdout;
    expect(filtered).toMatch(/^node_load1 .*\n200$/ms);
    expect(filtered.length * 5).toBeLessThan(whole.length);
    expect((await serves(url)).code).toBe(0);
  });

  it('falls back to the whole page on a node_exporter without the loadavg collector', async () => {
    const url = await nodeExporter('--no-collector.loadavg');
    expect((await httpGet(`${url}?collect%5B%5D=loadavg`)).stdout).toMatch(/\n400$/);
    expect((await serves(url)).code).toBe(0);
  });

  it('fails where nothing answers', async () => {
    expect((await serves('http://127.0.0.1:9/metrics')).code).toBe(1);
  });

  it("the apply's check (tp_node_exporter_up) waits for one that listens only a while after its start returned: one try would fail a host that is fine", async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/metrics`;
    // As `systemctl start` returns once the process is forked: it listens a second later here.
    const late = `(sleep 1; exec /usr/bin/prometheus-node-exporter --web.listen-address=127.0.0.1:${port} >/dev/null 2>&1) & ne=$!`;
    const run = await withLibrary(
      `TP_NODE_EXPORTER_METRICS=${url}\n${late}\ntp_node_exporter_serves; echo "one try: $?"\ntp_node_exporter_up 10; echo "waited: $?"\nkill $ne; pkill -f -- '--web.listen-address=127.0.0.1:${port}'`,
    );
    expect(run.stdout).toBe('one try: 1\nwaited: 0\n');
  });
});

/** Runs SCRIPT after the apply library, as every apply script starts (Alloy and node_exporter at the fake server). */
async function withLibrary(script: string, timeout = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const library = toShell(scriptLibrary({ zyppLockTimeoutSeconds: 5 }));
  return new Promise((resolve) => {
    const p = spawn('/bin/bash', ['-c', wrapScript(`${library}\nTP_ALLOY_HTTP=${base}\nTP_NODE_EXPORTER_METRICS=${base}/node/metrics\n${script}`)], {
      timeout,
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe("tp_node_exporter_up (the apply's check): says what it got", () => {
  it.each([
    ['nothing listens', 'http://127.0.0.1:9/metrics', undefined, 'nothing listens there (connection refused)'],
    ['an error status', undefined, [500, 'no'] as [number, string], 'HTTP 500'],
    [
      'a page without node metrics',
      undefined,
      [200, metrics(['go_goroutines 7'])] as [number, string],
      'HTTP 200 without node_ metrics (another program on that port?)',
    ],
  ])('%s', async (_, url, answer, why) => {
    answers = answer ? { '/node/metrics': answer, '/node/metrics?collect%5B%5D=loadavg': answer } : {};
    const run = await withLibrary(`${url ? `TP_NODE_EXPORTER_METRICS=${url}\n` : ''}tp_node_exporter_up 1`);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `node_exporter does not serve node metrics at ${url ?? `${base}/node/metrics`} after 1s (last answer: ${why}); journalctl -u prometheus-node_exporter.service says why`,
    );
  });

  it('a listener that accepts and never answers holds each try 2 s, not 20: the check ends (within the 30 s this test allows) and says so', async () => {
    const silent = createNetServer(() => {}); // accepts, never writes
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/metrics`;
      const run = await withLibrary(`TP_NODE_EXPORTER_METRICS=${url}\ntp_node_exporter_up 1`, 30_000);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('(last answer: HTTP status not sent within 2s)');
    } finally {
      silent.close();
    }
  });
});

describe('tp_alloy_delivers (the verify step): a batch delivered, never a refused one', () => {
  // The apply library, as every apply script starts with it; Alloy at the fake server.
  const library = toShell(scriptLibrary({ zyppLockTimeoutSeconds: 5 }));
  /** /metrics answers, one per request (the last one repeats): [sent, failed] of Trento's queue,
   *  Alloy's last configuration load at `loadedAt`; either may be worked out when asked for. */
  type Reading = [number, number] | (() => [number, number]);
  async function delivers(readings: Reading[], wait = 4, loadedAt: number | (() => number) = 0): Promise<{ code: number | null; stderr: string }> {
    let n = 0;
    served = (url) => {
      if (url !== '/metrics') return undefined;
      const reading = readings[Math.min(n++, readings.length - 1)]!;
      const [sent, failed] = typeof reading === 'function' ? reading() : reading;
      return [
        200,
        metrics([
          `alloy_config_last_load_success_timestamp_seconds ${typeof loadedAt === 'function' ? loadedAt() : loadedAt}`,
          trentoQueue('u', String(sent)),
          `${FAILED}{component_id="prometheus.remote_write.trento",url="u"} ${failed}`,
        ]),
      ];
    };
    try {
      return await new Promise((resolve) => {
        const p = spawn('/bin/bash', ['-c', wrapScript(`${library}\nTP_ALLOY_HTTP=${base}\ntp_alloy_delivers ${wait}`)]);
        let stderr = '';
        p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
        p.on('close', (code) => resolve({ code, stderr }));
      });
    } finally {
      served = undefined;
    }
  }

  it("an Alloy that does not answer at all: said so, with where it serves, not blamed on Trento's URL or credentials", async () => {
    const run = await withLibrary('TP_ALLOY_HTTP=http://127.0.0.1:9\ntp_alloy_delivers 1');
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^Alloy's \/metrics at http:\/\/127\.0\.0\.1:9 did not answer in the last 1 s \(HTTP 000\): Alloy is not running, or serves elsewhere \(--server\.http\.listen-addr in CUSTOM_ARGS of \/etc\/sysconfig\/alloy changed without a restart of Alloy\?\); journalctl -u alloy\.service says why$/m,
    );
    expect(run.stderr).not.toMatch(/agent_prometheus_remote_write_url/);
  });

  it('a batch sent with no more samples failed, still so a reading later: delivered', async () => {
    // Four readings a second apart: a wait of 4 s held them on an idle machine, not beside three
    // lab workers (each reading is curl, awk and date). A passing check returns at its fourth.
    expect(
      (
        await delivers(
          [
            [100, 5],
            [100, 5],
            [160, 5],
            [160, 5],
          ],
          60,
        )
      ).code,
    ).toBe(0);
  });

  it('every batch refused for good (a wrong password: 401), the sent timestamp moving all the same: not delivered, with the failed count', async () => {
    // fresh timestamps: recent enough for a check that trusted the timestamp alone. 10 s: the
    // readings that refuse some must come before the check gives up on a busy machine (4 s held
    // three readings only while each took under a second); the last one repeats till then.
    const t = Math.floor(Date.now() / 1000);
    const r = await delivers(
      [
        [t - 20, 0],
        [t - 5, 0],
        [t - 5, 40],
        [t, 40],
        [t, 80],
        [t + 2, 80],
        [t + 2, 120],
        [t + 4, 120],
        [t + 4, 160],
      ],
      10,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Alloy has delivered no metrics to the remote-write URL in the last 10 s \(samples failed: 160, retried: \);/);
  });

  it('a timestamp recent but no batch since the check began: not delivered (it may be the configuration before this one)', async () => {
    // The clock read again for each call: one that waits its 3 s would leave the next a sample
    // already older than its window on a slow machine.
    const now = () => Math.floor(Date.now() / 1000);
    expect((await delivers([[now(), 0]], 3)).code).toBe(1);
    // ... unless its samples are later than Alloy's last configuration load, nothing refused: the
    // sample and the load as of the reading (bash's start and the first reading can take seconds
    // on a busy machine), a wait that never ends before it (the check returns at the second)
    expect((await delivers([() => [now(), 0]], 10, () => now() - 2.5)).code).toBe(0);
    let t = now();
    expect((await delivers([[t - 3, 0]], 3, t - 2.5)).code).toBe(1); // sampled before the load
    t = now();
    expect((await delivers([[t, 5]], 3, t - 2.5)).code).toBe(1); // refused some since Alloy started
  });
});

describe('tp_alloy_reload (the apply): an Alloy started moments before the run', () => {
  it('its unit active and its HTTP server not listening yet: waited for as a start is, then reloaded once, not failed', async () => {
    const port = await freePort();
    const reloads: string[] = [];
    const late = createServer((req, res) => {
      if (req.url === '/-/reload') reloads.push(req.method ?? '');
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(req.url === '/-/ready' ? 'Alloy is ready.\n' : 'config reloaded\n');
    });
    // Alloy listens 1.5 s after the run's first try (nothing there: connection refused).
    const listening = new Promise<void>((r) => setTimeout(() => late.listen(port, '127.0.0.1', r), 1500));
    try {
      const run = await withLibrary(
        `systemctl() { [ "$1 $2 $3" = 'is-active --quiet alloy.service' ]; }\nTP_ALLOY_HTTP=http://127.0.0.1:${port}\ntp_alloy_reload`,
      );
      expect(run.code, run.stderr).toBe(0);
      expect(reloads).toEqual(['POST']);
      // Stopped (nothing to wait for): the refusal as before, at once.
      const stopped = await withLibrary(`systemctl() { return 3; }\nTP_ALLOY_HTTP=http://127.0.0.1:9\ntp_alloy_reload`);
      expect(stopped.code).toBe(1);
      expect(stopped.stderr).toMatch(/^Alloy's HTTP endpoint http:\/\/127\.0\.0\.1:9 did not answer the reload/m);
    } finally {
      await listening;
      await new Promise<void>((r) => late.close(() => r()));
    }
  });
});

describe("tp_alloy_apply's proof that Alloy dropped Trento's pipeline (uninstall)", () => {
  it('fails on an Alloy that still runs it, and on one whose API does not say it no longer does (not a 404), naming what it answered', async () => {
    let component: [number, string] = [500, 'internal error\n'];
    const alloy = createServer((req, res) => {
      const [status, body] = req.url === '/api/v0/web/components/prometheus.remote_write.trento' ? component : [200, 'ok\n'];
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(body);
    });
    const port = await freePort();
    await new Promise<void>((r) => alloy.listen(port, '127.0.0.1', r));
    const apply = () =>
      withLibrary(`systemctl() { return 0; }\nTP_ALLOY_SYSCONFIG=/nonexistent\nTP_ALLOY_HTTP_DEFAULT=http://127.0.0.1:${port}\ntp_alloy_apply reload absent`);
    try {
      const unsure = await apply();
      expect(unsure.code).not.toBe(0);
      expect(unsure.stderr).toContain(
        "Alloy did not say whether it still runs Trento's pipeline after the restart (its API answered 500 for prometheus.remote_write.trento, not 404)",
      );
      component = [200, '{"localID":"prometheus.remote_write.trento"}'];
      const still = await apply();
      expect(still.code).not.toBe(0);
      expect(still.stderr).toContain("Alloy still runs Trento's pipeline after the restart");
      component = [404, '404 page not found\n'];
      const gone = await apply();
      expect(gone.code, gone.stderr).toBe(0);
    } finally {
      await new Promise<void>((r) => alloy.close(() => r()));
    }
  });
});

describe('tp_alloy_ready (after a restart or a reload)', () => {
  it('an Alloy whose unit failed (a crash, not a slow start) ends the wait at once, saying so; one still activating is waited for', async () => {
    const failed = await withLibrary(
      `systemctl() { [ "$1" = is-active ] && echo failed; return 3; }\nTP_ALLOY_HTTP=http://127.0.0.1:9\nstart=$SECONDS; tp_alloy_ready; echo "rc=$? waited=$((SECONDS - start))"`,
    );
    expect(failed.stdout).toMatch(/^rc=1 waited=[0-5]$/m);
    expect(failed.stderr).toMatch(
      /^Alloy stopped before it was ready \(alloy\.service is failed; last answer: HTTP 000 [\s\S]*journalctl -u alloy\.service says why$/m,
    );
    // activating (Type=notify, or waiting for its Restart=): not a reason to stop waiting
    const port = await freePort();
    const late = createServer((_req, res) => res.end('Alloy is ready.\n'));
    const listening = new Promise<void>((r) => setTimeout(() => late.listen(port, '127.0.0.1', r), 2500));
    try {
      const activating = await withLibrary(
        `systemctl() { [ "$1" = is-active ] && echo activating; return 3; }\nTP_ALLOY_HTTP=http://127.0.0.1:${port}\ntp_alloy_ready; echo "rc=$?"`,
      );
      expect(activating.stdout, activating.stderr).toBe('rc=0\n');
    } finally {
      await listening;
      await new Promise<void>((r) => late.close(() => r()));
    }
  });
});

describe('tp_alloy_running (what --check reads of Alloy)', () => {
  it("ready and running Trento's pipeline, by bash alone: no process", async () => {
    answers = { '/-/ready': [200, 'Alloy is ready.\n'], ...running('prometheus.remote_write.trento') };
    expect((await probe('tp_alloy_running; echo "$TP_ALLOY_READY $TP_ALLOY_RUNS"', base, `${base}/node/metrics`, { PATH: '/nonexistent' })).stdout).toBe(
      'yes yes\n',
    );
    answers = { '/-/ready': [200, 'Alloy is ready.\n'] };
    expect((await probe('tp_alloy_running; echo "$TP_ALLOY_READY $TP_ALLOY_RUNS"', base, `${base}/node/metrics`, { PATH: '/nonexistent' })).stdout).toBe(
      'yes no\n',
    );
    expect((await probe('tp_alloy_running; echo "$TP_ALLOY_READY $TP_ALLOY_RUNS"', 'http://127.0.0.1:9')).stdout).toBe('no no\n');
  });
});
