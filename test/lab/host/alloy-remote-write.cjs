#!/usr/bin/node
// Remote-write sender of the lab's Alloy stand-in (test/lab/host/alloy starts it as a child).
// The stand-in collects and labels samples; this helper turns them into a Prometheus remote-write
// request with the npm package `prometheus-remote-write` (protobuf via protobufjs, snappy via
// snappyjs) and sends it with the endpoint's auth and TLS settings, as Alloy's
// prometheus.remote_write would.
//
// Protocol: one JSON request per line on stdin, one JSON answer per line on stdout.
//   request: { id, url, timeoutMs, basicAuth?: { username, password }, bearerToken?,
//              tls?: { caFile?, certFile?, keyFile?, insecureSkipVerify? },
//              timeseries: [{ labels: { __name__, ... }, samples: [{ value, timestamp }] }] }
//   answer:  { id, status, body?, error? }   status 0: the request never got an HTTP answer
'use strict';
const fs = require('node:fs');
const http = require('node:http');
const https = require('node:https');
const readline = require('node:readline');
const { pushTimeseries } = require('prometheus-remote-write');

const tls = require('node:tls');

const USER_AGENT = 'Alloy/v1.9.2 (lab stand-in)';
const KEEP_ALIVE = new https.Agent({ keepAlive: true, maxSockets: 4, timeout: 90_000 });
// Without ca_file Alloy (Go) trusts the system's CA bundle: SUSE's file first.
const SYSTEM_BUNDLES = ['/etc/ssl/ca-bundle.pem', '/etc/ssl/certs/ca-certificates.crt'];

function systemRoots() {
  for (const f of SYSTEM_BUNDLES) {
    try {
      return [...tls.rootCertificates, fs.readFileSync(f, 'utf8')];
    } catch {
      /* next */
    }
  }
  return undefined;
}

/** A fetch for prometheus-remote-write with Alloy's tls_config (ca_file, cert_file, key_file). */
function fetchWith(req) {
  return (url, init) =>
    new Promise((resolve, reject) => {
      const u = new URL(url);
      const t = req.tls || {};
      const options = { method: init.method, headers: { ...init.headers }, timeout: req.timeoutMs || 30000 };
      if (u.protocol === 'https:') {
        // Files are read at each request: a missing or unreadable file is that request's error.
        options.ca = t.caFile ? fs.readFileSync(t.caFile) : systemRoots();
        if (t.certFile) options.cert = fs.readFileSync(t.certFile);
        if (t.keyFile) options.key = fs.readFileSync(t.keyFile);
        options.rejectUnauthorized = !t.insecureSkipVerify;
        // Connections are kept and reused, as Alloy's Go HTTP client does (90 s idle): a TLS
        // handshake and a context of ~300 CA certificates per push cost ~50 ms of CPU per push.
        // The agent pools sockets by these TLS options, so a changed file gets a new connection.
        options.agent = KEEP_ALIVE;
      }
      const body = Buffer.from(init.body);
      options.headers['Content-Length'] = String(body.length);
      const r = (u.protocol === 'https:' ? https : http).request(u, options, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode || 0, statusText: res.statusMessage || '', text: async () => text });
        });
        res.on('error', reject);
      });
      r.on('timeout', () => r.destroy(new Error(`context deadline exceeded after ${options.timeout} ms`)));
      r.on('error', reject);
      r.end(body);
    });
}

async function handle(req) {
  const headers = {
    'Content-Encoding': 'snappy',
    'X-Prometheus-Remote-Write-Version': '0.1.0',
    'User-Agent': USER_AGENT,
  };
  if (req.bearerToken) headers.Authorization = `Bearer ${req.bearerToken}`;
  // Labels sorted by name, as the remote-write spec asks.
  const timeseries = req.timeseries.map((t) => ({
    labels: Object.fromEntries(Object.entries(t.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    samples: t.samples,
  }));
  const r = await pushTimeseries(timeseries, {
    url: req.url,
    auth: req.basicAuth,
    headers,
    fetch: fetchWith(req),
    timeout: req.timeoutMs,
    console: { info() {}, warn() {}, error() {} },
  });
  return { status: r.status, body: r.errorMessage || '' };
}

let pending = 0;
let closed = false;
const done = () => {
  pending--;
  if (closed && pending === 0) process.exit(0);
};
const rl = readline.createInterface({ input: process.stdin, terminal: false });
rl.on('line', (line) => {
  let req;
  try {
    req = JSON.parse(line);
  } catch (e) {
    process.stdout.write(JSON.stringify({ id: null, status: 0, error: `bad request: ${e.message}` }) + '\n');
    return;
  }
  pending++;
  handle(req)
    .then(
      (r) => process.stdout.write(JSON.stringify({ id: req.id, ...r }) + '\n'),
      (e) => process.stdout.write(JSON.stringify({ id: req.id, status: 0, error: String((e && e.message) || e) }) + '\n'),
    )
    .finally(done);
});
// The stand-in closes stdin when it no longer pushes: finish what was asked, then exit.
rl.on('close', () => {
  closed = true;
  if (pending === 0) process.exit(0);
});
