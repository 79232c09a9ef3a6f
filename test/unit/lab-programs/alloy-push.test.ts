// The Alloy stand-in's remote write (test/lab/host/alloy, with Debian's python3-protobuf and
// python3-snappy), run on this machine against a receiver on 127.0.0.1 that decodes what a
// Prometheus receiver decodes (snappy + protobuf WriteRequest) with an independent decoder: the
// npm package prometheus-remote-write (protobufjs, snappyjs).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { createRequire } from 'node:module';
import { hostname, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { describeWith, REMOTE_WRITE_PYTHON } from '../../support/requires.ts';
import { freePort } from '../../support/ports.ts';

const here = dirname(fileURLToPath(import.meta.url));
const ALLOY = resolve(here, '../../lab/host/alloy');
const FIXTURES = resolve(here, '../../fixtures/trento-agent');
const AGENT_ID = '779cdd70-e9e2-58ca-b18a-bf3eb3f71244';

interface Series {
  labels: Array<{ name: string; value: string }>;
  samples: Array<{ value: number; timestamp: number | { toNumber(): number } }>;
}
interface Received {
  headers: IncomingHttpHeaders;
  series: Series[];
}

const decoderInstalled = (() => {
  try {
    createRequire(import.meta.url).resolve('prometheus-remote-write');
    return true;
  } catch {
    return false;
  }
})();
const REMOTE_WRITE = {
  what: `${REMOTE_WRITE_PYTHON.what}, and the npm package prometheus-remote-write (the test's decoder)`,
  available: REMOTE_WRITE_PYTHON.available && decoderInstalled,
  fix: `${REMOTE_WRITE_PYTHON.fix} (it runs npm ci)`,
};

/** snappy + WriteRequest decoding with the package's own dependencies. */
function decoder(): (body: Buffer) => Promise<Series[]> {
  const require = createRequire(import.meta.url);
  const main = require.resolve('prometheus-remote-write');
  const prw = require(main) as { deserialize(b: Uint8Array): Promise<{ timeseries: Series[] }> };
  const snappy = createRequire(main)('snappyjs') as { uncompress(b: Uint8Array): Uint8Array };
  return async (body) => (await prw.deserialize(snappy.uncompress(new Uint8Array(body)))).timeseries;
}

let dir = '';
const cleanups: Array<() => void> = [];

/** A receiver answering STATUS (over TLS with `tls`); `connections` counts the connections it
 *  accepted, `open` those still open (kept open by the server for a minute, so only the sender can
 *  close them sooner). */
async function receiver(
  status: number,
  tls?: { key: string; cert: string },
  closeIdle: false | 'end' | 'destroy' = false,
): Promise<{ url: string; got: Received[]; connections: () => number; open: () => number }> {
  const decode = decoder();
  const got: Received[] = [];
  let connections = 0;
  let open = 0;
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void decode(Buffer.concat(chunks)).then(
        (series) => got.push({ headers: req.headers, series }),
        () => got.push({ headers: req.headers, series: [] }),
      );
      res.writeHead(status).end(status === 401 ? 'Unauthorized\n' : '');
      // closeIdle: the server ends each kept connection 100 ms after its answer, as a server whose
      // idle timeout is shorter than the push interval does (the answer still says keep-alive);
      // 'destroy' drops it with no TLS close_notify, as an nginx worker leaving at a reload can
      if (closeIdle) res.on('finish', () => setTimeout(() => (closeIdle === 'end' ? req.socket.end() : req.socket.destroy()), 100));
    });
  };
  const keepAliveTimeout = 60_000;
  const srv: Server = tls ? createTlsServer({ ...tls, keepAliveTimeout }, handler) : createServer({ keepAliveTimeout }, handler);
  // connections that carried requests: over TLS those whose handshake succeeded
  srv.on(tls ? 'secureConnection' : 'connection', (socket) => {
    connections++;
    open++;
    socket.on('close', () => open--);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  cleanups.push(() => srv.close());
  cleanups.push(() => srv.closeAllConnections());
  const a = srv.address();
  const scheme = tls ? 'https' : 'http';
  return { url: `${scheme}://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}/api/v1/write`, got, connections: () => connections, open: () => open };
}

async function startAlloy(config: string, env: NodeJS.ProcessEnv = {}): Promise<{ child: ChildProcess; port: number; stderr: () => string }> {
  const port = await freePort();
  const child = spawn(ALLOY, ['run', `--server.http.listen-addr=127.0.0.1:${port}`, `--storage.path=${join(dir, 'data')}`, config], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...env },
  });
  cleanups.push(() => child.exitCode === null && child.kill('SIGKILL'));
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return { child, port, stderr: () => err };
}

async function until<T>(f: () => Promise<T | undefined> | T | undefined, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      const v = await f();
      if (v !== undefined) return v;
    } catch {
      /* not yet */
    }
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Snapshot {
  pushing: string[];
  pushUrls: string[];
  pushOk: number;
  pushFailed: number;
  lastPushError: string | null;
  /** each scrape's slot in its interval, ms */
  scrapeSlotsMs: Record<string, number>;
}
const snapshot = async (port: number) => (await (await fetch(`http://127.0.0.1:${port}/-/lab/config`)).json()) as Snapshot;
const metrics = async (port: number) => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
const metric = (text: string, name: string) =>
  Number(new RegExp(`^${name}\\{component_id="prometheus.remote_write.trento",[^}]*\\} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);

/** A golden trento.alloy pointed at the local receiver, scraping every second (with a timeout
 *  to match: Alloy refuses a scrape_interval below the default 10 s scrape_timeout). */
function trentoAlloy(golden: string, url: string): string {
  return readFileSync(join(FIXTURES, golden), 'utf8')
    .replace(/url = "[^"]*"/, `url = "${url}"`)
    .replace(/scrape_interval = "[^"]*"/, 'scrape_interval = "1s"\n    scrape_timeout  = "1s"');
}

/** With openssl: two CAs (EC P-256) and a server certificate for 127.0.0.1 signed by the first. */
function certificates(): { ca: string; otherCa: string; key: string; cert: string; cnOnlyCert: string } {
  const pki = join(dir, 'pki');
  mkdirSync(pki);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: pki, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  for (const ca of ['ca', 'other-ca']) openssl('req', '-x509', ...ec, '-keyout', `${ca}.key`, '-out', `${ca}.crt`, '-subj', `/CN=lab ${ca}`, '-days', '1');
  openssl('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
  writeFileSync(join(pki, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  openssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.crt',
    '-days',
    '1',
    '-extfile',
    'san.ext',
  );
  // The same key for "localhost", named in its Common Name alone (no subjectAltName): Go refuses it.
  openssl('req', '-new', '-key', 'server.key', '-out', 'cn-only.csr', '-subj', '/CN=localhost');
  openssl('x509', '-req', '-in', 'cn-only.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'cn-only.crt', '-days', '1');
  const read = (f: string) => readFileSync(join(pki, f), 'utf8');
  return { ca: read('ca.crt'), otherCa: read('other-ca.crt'), key: read('server.key'), cert: read('server.crt'), cnOnlyCert: read('cn-only.crt') };
}

const labelsOf = (s: Series) => Object.fromEntries(s.labels.map((l) => [l.name, l.value]));

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lab-alloy-push-'));
  chmodSync(dir, 0o755);
  mkdirSync(join(dir, 'conf'));
});

afterEach(() => {
  for (const c of cleanups.splice(0)) c();
  rmSync(dir, { recursive: true, force: true });
});

describeWith(REMOTE_WRITE, 'alloy stand-in: remote write of the Trento pipeline', () => {
  it('pushes CPU, memory and up with agentID/exporter_name, bearer token, protobuf + snappy; counts like Alloy', async () => {
    const rx = await receiver(204);
    writeFileSync(join(dir, 'conf', 'trento.alloy'), trentoAlloy('bearer.golden', rx.url));
    const a = await startAlloy(join(dir, 'conf'));
    const first = await until(() => rx.got.find((r) => r.series.length > 0));
    expect(first.headers.authorization).toBe('Bearer tok-123');
    expect(first.headers['content-encoding']).toBe('snappy');
    expect(first.headers['content-type']).toBe('application/x-protobuf');
    expect(first.headers['x-prometheus-remote-write-version']).toBe('0.1.0');
    const names = new Set(first.series.map((s) => labelsOf(s).__name__));
    for (const n of ['up', 'node_cpu_seconds_total', 'node_memory_MemTotal_bytes', 'node_memory_MemAvailable_bytes', 'node_load1']) expect(names).toContain(n);
    const up = first.series.find((s) => labelsOf(s).__name__ === 'up')!;
    expect(labelsOf(up)).toEqual({ __name__: 'up', agentID: AGENT_ID, exporter_name: 'grafana_alloy', instance: hostname(), job: 'integrations/unix' });
    expect(up.samples[0]!.value).toBe(1);
    const ts = Number(up.samples[0]!.timestamp);
    expect(Math.abs(ts - Date.now())).toBeLessThan(10_000);
    for (const s of first.series) {
      const labelNames = s.labels.map((l) => l.name);
      expect(labelNames).toEqual([...labelNames].sort()); // the spec: sorted by name
    }
    // Every second, as scrape_interval says, over the one connection it keeps (as Go's client does).
    await until(() => (rx.got.length >= 3 ? true : undefined), 20_000);
    expect(rx.connections()).toBe(1);
    const snap = await snapshot(a.port);
    expect(snap.pushing).toEqual(['prometheus.remote_write.trento']);
    expect(snap.pushUrls).toEqual([rx.url]);
    expect(snap.pushOk).toBeGreaterThanOrEqual(3);
    expect(snap.pushFailed).toBe(0);
    const m = await metrics(a.port);
    expect(metric(m, 'prometheus_remote_storage_samples_total')).toBeGreaterThan(0);
    expect(metric(m, 'prometheus_remote_storage_samples_failed_total')).toBe(0);
    expect(metric(m, 'prometheus_remote_storage_samples_retried_total')).toBe(0);
    expect(Math.abs(metric(m, 'prometheus_remote_storage_queue_highest_sent_timestamp_seconds') - Date.now() / 1000)).toBeLessThan(10);
  });

  it('basic auth: the username and password of the basic_auth block', async () => {
    const rx = await receiver(204);
    writeFileSync(join(dir, 'conf', 'trento.alloy'), trentoAlloy('basic.golden', rx.url));
    await startAlloy(join(dir, 'conf'));
    const first = await until(() => rx.got[0]);
    expect(first.headers.authorization).toBe(`Basic ${Buffer.from('trento:s3cret').toString('base64')}`);
  });

  it("a URL's user:password is sent as basic auth where no other authorization is set, as Go's HTTP client does", async () => {
    const rx = await receiver(204);
    const url = rx.url.replace('://', '://site%20user:p%40ss@');
    writeFileSync(join(dir, 'conf', 'trento.alloy'), trentoAlloy('none-ca.golden', url).replace(/\n\s*tls_config \{[^}]*\}/, ''));
    await startAlloy(join(dir, 'conf'));
    const first = await until(() => rx.got[0]);
    expect(first.headers.authorization).toBe(`Basic ${Buffer.from('site user:p@ss').toString('base64')}`);
  });

  it("a rejected push (401) is counted as failed and logged; it moves the highest sent timestamp all the same, as Prometheus' queue does (prometheus#10102)", async () => {
    const rx = await receiver(401);
    writeFileSync(join(dir, 'conf', 'trento.alloy'), trentoAlloy('bearer.golden', rx.url));
    const a = await startAlloy(join(dir, 'conf'));
    const snap = await until(async () => {
      const s = await snapshot(a.port);
      return s.pushFailed >= 2 ? s : undefined;
    });
    expect(snap.pushOk).toBe(0);
    expect(snap.lastPushError).toMatch(/HTTP status 401: Unauthorized/);
    const m = await metrics(a.port);
    expect(metric(m, 'prometheus_remote_storage_samples_failed_total')).toBeGreaterThan(0);
    expect(metric(m, 'prometheus_remote_storage_queue_highest_sent_timestamp_seconds')).toBeGreaterThan(0);
    expect(a.stderr()).toMatch(/level=error msg="non-recoverable error" .*component_id=prometheus.remote_write.trento .*HTTP status 401/);
  });

  it('an unreachable endpoint is a recoverable error (retried), as in Alloy', async () => {
    const port = await freePort();
    writeFileSync(join(dir, 'conf', 'trento.alloy'), trentoAlloy('bearer.golden', `http://127.0.0.1:${port}/api/v1/write`));
    const a = await startAlloy(join(dir, 'conf'));
    await until(async () => ((await snapshot(a.port)).pushFailed > 0 ? true : undefined));
    const m = await metrics(a.port);
    expect(metric(m, 'prometheus_remote_storage_samples_retried_total')).toBeGreaterThan(0);
    // a failure it retries does not move it
    expect(metric(m, 'prometheus_remote_storage_queue_highest_sent_timestamp_seconds')).toBe(0);
    expect((await snapshot(a.port)).lastPushError).toMatch(
      /^http:\/\/127\.0\.0\.1:\d+\/api\/v1\/write: Post "[^"]+": dial tcp 127\.0\.0\.1:\d+: connect: connection refused$/,
    );
  });

  it('tls_config ca_file: the server is verified against it, read at each push (a changed file is a new connection), x509 errors in Go words', async () => {
    const pki = certificates();
    const rx = await receiver(204, { key: pki.key, cert: pki.cert });
    const caFile = join(dir, 'ca.crt');
    writeFileSync(caFile, pki.ca);
    writeFileSync(join(dir, 'conf', 'trento.alloy'), trentoAlloy('none-ca.golden', rx.url).replace(/ca_file = "[^"]*"/, `ca_file = "${caFile}"`));
    const a = await startAlloy(join(dir, 'conf'));
    await until(() => (rx.got.length >= 2 ? true : undefined), 20_000);
    expect(rx.connections()).toBe(1);
    // Another CA in the file: the kept connection is not reused, the new handshake fails.
    writeFileSync(caFile, pki.otherCa);
    const failed = await until(async () => {
      const s = await snapshot(a.port);
      return s.pushFailed > 0 ? s : undefined;
    }, 20_000);
    expect(failed.lastPushError).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/api\/v1\/write: Post "[^"]+": tls: failed to verify certificate: x509: /);
    // The right CA again: pushes resume.
    writeFileSync(caFile, pki.ca);
    const before = rx.got.length;
    await until(() => (rx.got.length > before ? true : undefined), 20_000);
  });

  it("a server certificate that names the host in its Common Name alone is refused, as Go refuses it (no fallback to the CN, unlike OpenSSL's)", async () => {
    const pki = certificates();
    const rx = await receiver(204, { key: pki.key, cert: pki.cnOnlyCert });
    const caFile = join(dir, 'ca.crt');
    writeFileSync(caFile, pki.ca);
    const url = rx.url.replace('127.0.0.1', 'localhost');
    writeFileSync(join(dir, 'conf', 'trento.alloy'), trentoAlloy('none-ca.golden', url).replace(/ca_file = "[^"]*"/, `ca_file = "${caFile}"`));
    const a = await startAlloy(join(dir, 'conf'));
    const failed = await until(async () => {
      const s = await snapshot(a.port);
      return s.pushFailed > 0 ? s : undefined;
    }, 20_000);
    expect(failed.lastPushError).toMatch(/^https:\/\/localhost:\d+\/api\/v1\/write: Post "[^"]+": tls: failed to verify certificate: x509: /);
    expect(rx.got).toHaveLength(0);
  });

  it('tls_config without ca_file: the system bundle (which lacks the lab CA) refuses the server; insecure_skip_verify = true accepts it', async () => {
    const pki = certificates();
    const rx = await receiver(204, { key: pki.key, cert: pki.cert });
    const file = join(dir, 'conf', 'trento.alloy');
    const withTls = (settings: string) => trentoAlloy('none-ca.golden', rx.url).replace(/insecure_skip_verify = false\n\s*ca_file = "[^"]*"/, settings);
    writeFileSync(file, withTls('insecure_skip_verify = false'));
    expect(readFileSync(file, 'utf8')).not.toContain('ca_file');
    const a = await startAlloy(join(dir, 'conf'));
    const failed = await until(async () => {
      const s = await snapshot(a.port);
      return s.pushFailed > 0 ? s : undefined;
    }, 20_000);
    expect(failed.lastPushError).toMatch(/: tls: failed to verify certificate: x509: /);
    expect(rx.got.length).toBe(0);
    writeFileSync(file, withTls('insecure_skip_verify = true'));
    expect((await fetch(`http://127.0.0.1:${a.port}/-/reload`, { method: 'POST' })).status).toBe(200);
    await until(() => (rx.got.length > 0 ? true : undefined), 20_000);
  });

  it('a kept connection the server closed meanwhile is retried once on a new one, not counted as a failure', async () => {
    // The server closes idle connections after 100 ms; the stand-in pushes every second.
    const rx = await receiver(204, undefined, 'end');
    writeFileSync(join(dir, 'conf', 'trento.alloy'), trentoAlloy('bearer.golden', rx.url));
    const a = await startAlloy(join(dir, 'conf'));
    // three connections: at least two pushes found their kept connection closed by the server
    await until(() => (rx.connections() >= 3 ? true : undefined), 20_000);
    const snap = await snapshot(a.port);
    expect(snap.pushFailed).toBe(0);
    expect(snap.lastPushError).toBeNull();
  });

  it('the same over TLS, the connection dropped with no close_notify (an nginx worker leaving at a reload): retried, not a failure', async () => {
    const pki = certificates();
    const rx = await receiver(204, { key: pki.key, cert: pki.cert }, 'destroy');
    const caFile = join(dir, 'ca.crt');
    writeFileSync(caFile, pki.ca);
    writeFileSync(join(dir, 'conf', 'trento.alloy'), trentoAlloy('none-ca.golden', rx.url).replace(/ca_file = "[^"]*"/, `ca_file = "${caFile}"`));
    const a = await startAlloy(join(dir, 'conf'));
    await until(() => (rx.connections() >= 4 ? true : undefined), 20_000);
    const snap = await snapshot(a.port);
    expect(snap.lastPushError).toBeNull();
    expect(snap.pushFailed).toBe(0);
  });

  it("scrapes at a slot of its own in the interval, as Prometheus' scrape loop: the first batch after a start is stamped after the load, and a restart keeps the slot", async () => {
    const rx = await receiver(204);
    const interval = 4000;
    writeFileSync(
      join(dir, 'conf', 'trento.alloy'),
      trentoAlloy('bearer.golden', rx.url).replace('scrape_interval = "1s"\n    scrape_timeout  = "1s"', 'scrape_interval = "4s"\n    scrape_timeout  = "4s"'),
    );
    const firstBatch = async () => {
      const a = await startAlloy(join(dir, 'conf'));
      const before = rx.got.length;
      const batch = await until(() => rx.got.slice(before).find((r) => r.series.length > 0), 15_000);
      const loaded = Number(/^alloy_config_last_load_success_timestamp_seconds (\S+)$/m.exec(await metrics(a.port))?.[1]);
      const slots = Object.values((await snapshot(a.port)).scrapeSlotsMs);
      a.child.kill('SIGKILL');
      await new Promise((r) => (a.child.exitCode !== null ? r(null) : a.child.once('exit', r)));
      expect(slots).toHaveLength(1);
      return { stamp: Number(batch.series[0]!.samples[0]!.timestamp), loaded, slot: slots[0]! };
    };
    const one = await firstBatch();
    const two = await firstBatch();
    // the same slot of the interval both times
    expect(two.slot).toBe(one.slot);
    for (const { stamp, loaded, slot } of [one, two]) {
      expect(stamp / 1000).toBeGreaterThan(loaded);
      expect(stamp / 1000 - loaded).toBeLessThan(interval / 1000 + 1);
      // stamped at that slot: within a second of it (woken late on a busy machine, or a wall-clock
      // step between the stamp's clock and the wait's)
      const off = (((stamp - slot) % interval) + interval) % interval;
      expect(Math.min(off, interval - off)).toBeLessThan(1000);
    }
  });

  it("a kept connection unused for longer than Go's idle timeout is closed by the sender and a new one made", async () => {
    // Idle timeout 0.3 s (90 s in Alloy) against a push every second; the receiver keeps every
    // connection open for a minute, so only the stand-in can have closed the earlier ones.
    const rx = await receiver(204);
    writeFileSync(join(dir, 'conf', 'trento.alloy'), trentoAlloy('bearer.golden', rx.url));
    const a = await startAlloy(join(dir, 'conf'), { LAB_ALLOY_IDLE_CONNECTION_S: '0.3' });
    await until(() => (rx.connections() >= 3 ? true : undefined), 20_000);
    await until(() => (rx.open() <= 1 ? true : undefined), 5_000);
    const snap = await snapshot(a.port);
    expect(snap.pushFailed).toBe(0);
    expect(snap.lastPushError).toBeNull();
  });

  it('a reload without the pipeline stops the pushing and closes its connection', async () => {
    const rx = await receiver(204);
    const file = join(dir, 'conf', 'trento.alloy');
    writeFileSync(join(dir, 'conf', 'config.alloy'), 'logging {\n  level = "info"\n}\n');
    writeFileSync(file, trentoAlloy('bearer.golden', rx.url));
    const a = await startAlloy(join(dir, 'conf'));
    await until(() => rx.got[0]);
    expect(rx.open()).toBe(1);
    unlinkSync(file);
    const r = await fetch(`http://127.0.0.1:${a.port}/-/reload`, { method: 'POST' });
    expect(r.status).toBe(200);
    expect((await snapshot(a.port)).pushing).toEqual([]);
    await until(() => (rx.open() === 0 ? true : undefined), 20_000);
    const count = rx.got.length;
    await new Promise((res) => setTimeout(res, 2500));
    expect(rx.got.length).toBe(count);
  });
});
