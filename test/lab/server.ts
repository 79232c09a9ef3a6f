// The server side of the lab: what Trento's server would run, from Debian's packages, on the
// machine side of the lab network (the bridge's gateway address), owned by the lab:
// - Prometheus (`prometheus`) with the remote-write receiver, Trento's 15 s scrape interval and its data
//   under $LAB_DIR/server/prometheus; it scrapes the pull hosts' node_exporter from a file_sd
//   list shaped like Trento Web's targets API (agentID, exporter_name, hostname);
// - nginx (`nginx`) as the TLS edge of `/prometheus/api/v1/write` and of the query API under
//   `/prometheus/api/v1/`, one port per authentication method (none, basic, bearer, mTLS), with
//   a lab CA made by openssl at the first `up`.
// `up` starts them (or leaves them running), `down` stops them, `status` shows them.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LabPaths } from './paths.ts';
import { hostProgramsDir } from './paths.ts';
import { productByMix } from './products.ts';
import type { HostRecord, LabNet } from './state.ts';
import { writeAtomic } from './state.ts';
import { cmdline, isAlive, must, run, spawnDetached, stopPid, waitForStart } from './proc.ts';

export type AuthMethod = 'none' | 'basic' | 'bearer' | 'mtls';
export const AUTH_METHODS: readonly AuthMethod[] = ['none', 'basic', 'bearer', 'mtls'];

/** nginx port per authentication method, all on the gateway address. */
export const EDGE_PORTS: Record<AuthMethod, number> = { none: 443, basic: 8443, bearer: 9443, mtls: 10443 };
export const PROMETHEUS_PORT = 9090;
/** Trento's default scrape interval (the agent's prometheus-scrape-interval, 15s): the lab's
 *  Prometheus scrapes pull hosts as often as a Trento server would, not more (issue 12). */
export const SCRAPE_INTERVAL = '15s';
export const REMOTE_WRITE_PATH = '/prometheus/api/v1/write';
/** Prometheus' HTTP API (query, targets, status) behind the edge; its base URL is /prometheus. */
export const QUERY_API_PATH = '/prometheus/api/v1/';
/** Where every lab host finds the lab's CA and client certificate (written at each host start):
 *  outside /etc/trento, which a real SLES 16 host has only once agent.yaml is written there (its
 *  package ships /usr/etc/trento), so the lab shows the toolkit making that folder. */
export const HOST_CERTS = {
  dir: '/etc/pki/trento-lab',
  ca: '/etc/pki/trento-lab/lab-ca.crt',
  clientCert: '/etc/pki/trento-lab/lab-client.crt',
  clientKey: '/etc/pki/trento-lab/lab-client.key',
  /** SUSE's system CA bundle (Debian's userland in the hosts does not read it; Alloy does). */
  systemBundle: '/etc/ssl/ca-bundle.pem',
  /** The same roots as a vendor trust anchor, so update-ca-certificates rebuilds the bundle with them. */
  vendorAnchor: '/usr/share/pki/trust/anchors/lab-system-roots.pem',
} as const;
const SYSTEM_ROOTS = '/etc/ssl/certs/ca-certificates.crt';

/** What lab.json says about the server side (tests and the demo read it). */
export interface ServerInfo {
  prometheusUrl: string;
  remoteWrite: Record<AuthMethod, string>;
  /** Prometheus' base URL behind the edge, per method (its /api/v1/query, /targets, /status). */
  edgePrometheus: Record<AuthMethod, string>;
  basicAuth: { username: string; password: string };
  bearerToken: string;
  /** On the machine. */
  caCert: string;
  /** On the machine: a client certificate and key the mTLS port accepts. */
  clientCert: string;
  clientKey: string;
  /** In every host. */
  hostCaCert: string;
  hostClientCert: string;
  hostClientKey: string;
  scrapeInterval: string;
  targetsFile: string;
}

export interface ServerPaths {
  dir: string;
  pki: string;
  caKey: string;
  caCert: string;
  serverKey: string;
  serverCert: string;
  serverFor: string; // the gateway address the server certificate was made for
  clientKey: string;
  clientCert: string;
  secrets: string;
  promDir: string;
  promConfig: string;
  promData: string;
  promLog: string;
  promPid: string;
  targets: string;
  nginxDir: string;
  nginxConf: string;
  nginxLog: string;
  nginxPid: string;
  htpasswd: string;
}

export function serverPaths(paths: LabPaths): ServerPaths {
  const dir = join(paths.labDir, 'server');
  const pki = join(dir, 'pki');
  const promDir = join(dir, 'prometheus');
  const nginxDir = join(dir, 'nginx');
  return {
    dir,
    pki,
    caKey: join(pki, 'ca.key'),
    caCert: join(pki, 'ca.crt'),
    serverKey: join(pki, 'server.key'),
    serverCert: join(pki, 'server.crt'),
    serverFor: join(pki, 'server.for'),
    clientKey: join(pki, 'client.key'),
    clientCert: join(pki, 'client.crt'),
    secrets: join(dir, 'secrets.json'),
    promDir,
    promConfig: join(promDir, 'prometheus.yml'),
    promData: join(promDir, 'data'),
    promLog: join(promDir, 'prometheus.log'),
    promPid: join(promDir, 'prometheus.pid'),
    targets: join(promDir, 'targets', 'node_exporter.json'),
    nginxDir,
    nginxConf: join(nginxDir, 'nginx.conf'),
    nginxLog: join(nginxDir, 'error.log'),
    nginxPid: join(nginxDir, 'nginx.pid'),
    htpasswd: join(nginxDir, 'htpasswd'),
  };
}

interface Secrets {
  username: string;
  password: string;
  bearerToken: string;
}

function secrets(sp: ServerPaths): Secrets {
  if (existsSync(sp.secrets)) return JSON.parse(readFileSync(sp.secrets, 'utf8')) as Secrets;
  const s: Secrets = { username: 'trento', password: randomBytes(12).toString('hex'), bearerToken: randomBytes(24).toString('hex') };
  writeAtomic(sp.secrets, `${JSON.stringify(s, null, 2)}\n`, 0o600);
  return s;
}

export function serverInfo(paths: LabPaths, net: LabNet): ServerInfo {
  const sp = serverPaths(paths);
  const s = secrets(sp);
  const edge = (m: AuthMethod) => `https://${net.gateway}${EDGE_PORTS[m] === 443 ? '' : `:${EDGE_PORTS[m]}`}`;
  const remoteWrite = Object.fromEntries(AUTH_METHODS.map((m) => [m, `${edge(m)}${REMOTE_WRITE_PATH}`])) as Record<AuthMethod, string>;
  const edgePrometheus = Object.fromEntries(AUTH_METHODS.map((m) => [m, `${edge(m)}/prometheus`])) as Record<AuthMethod, string>;
  return {
    prometheusUrl: `http://${net.gateway}:${PROMETHEUS_PORT}`,
    remoteWrite,
    edgePrometheus,
    basicAuth: { username: s.username, password: s.password },
    bearerToken: s.bearerToken,
    caCert: sp.caCert,
    clientCert: sp.clientCert,
    clientKey: sp.clientKey,
    hostCaCert: HOST_CERTS.ca,
    hostClientCert: HOST_CERTS.clientCert,
    hostClientKey: HOST_CERTS.clientKey,
    scrapeInterval: SCRAPE_INTERVAL,
    targetsFile: sp.targets,
  };
}

// ---------------------------------------------------------------------------- PKI

const openssl = (args: string[], what: string) => must('openssl', args, what);

/**
 * The lab CA (kept for the lab's life: hosts carry it), a server certificate for the gateway
 * address (re-made when the address changes), and one client certificate for mTLS.
 */
export async function ensurePki(paths: LabPaths, net: LabNet): Promise<void> {
  const sp = serverPaths(paths);
  mkdirSync(sp.pki, { recursive: true, mode: 0o700 });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  if (!existsSync(sp.caKey) || !existsSync(sp.caCert)) {
    await openssl(
      [
        'req',
        '-x509',
        ...ec,
        '-keyout',
        sp.caKey,
        '-out',
        sp.caCert,
        '-days',
        '3650',
        '-subj',
        '/O=trento-provision lab/CN=Trento lab CA',
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=critical,keyCertSign,cRLSign',
      ],
      'making the lab CA',
    );
    rmSync(sp.serverFor, { force: true });
    rmSync(sp.clientCert, { force: true });
  }
  const sign = async (key: string, cert: string, cn: string, ext: string) => {
    const csr = `${cert}.csr`;
    const extFile = `${cert}.ext`;
    writeFileSync(extFile, ext);
    await openssl(['req', '-new', ...ec, '-keyout', key, '-out', csr, '-subj', `/CN=${cn}`], `making the key of ${cn}`);
    await openssl(
      ['x509', '-req', '-in', csr, '-CA', sp.caCert, '-CAkey', sp.caKey, '-CAcreateserial', '-days', '825', '-sha256', '-extfile', extFile, '-out', cert],
      `signing ${cn}`,
    );
    rmSync(csr, { force: true });
    rmSync(extFile, { force: true });
  };
  const serverFor = existsSync(sp.serverFor) ? readFileSync(sp.serverFor, 'utf8').trim() : '';
  if (serverFor !== net.gateway || !existsSync(sp.serverCert) || !existsSync(sp.serverKey)) {
    await sign(
      sp.serverKey,
      sp.serverCert,
      'lab-gateway',
      `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:${net.gateway},DNS:lab-gateway\n`,
    );
    writeFileSync(sp.serverFor, `${net.gateway}\n`);
  }
  if (!existsSync(sp.clientCert) || !existsSync(sp.clientKey)) {
    await sign(sp.clientKey, sp.clientCert, 'trento-agent', 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n');
  }
}

/**
 * The files a host gets under /etc/pki/trento-lab and /etc/ssl (its upper layer, while it is
 * stopped). The client key is 0644 because Alloy reads it as user `alloy`; it is a lab-only key.
 */
export function hostCertFiles(paths: LabPaths): Array<{ path: string; text: string; mode: number }> {
  const sp = serverPaths(paths);
  if (!existsSync(sp.caCert)) return [];
  const ca = readFileSync(sp.caCert, 'utf8');
  // The host's system trust store, SUSE's file (what Alloy trusts without ca_file): the
  // machine's public roots plus the lab CA, as an admin adds a private CA to a real host.
  const publicRoots = existsSync(SYSTEM_ROOTS) ? readFileSync(SYSTEM_ROOTS, 'utf8') : '';
  const roots = publicRoots + (publicRoots.endsWith('\n') || !publicRoots ? '' : '\n') + ca;
  return [
    { path: HOST_CERTS.systemBundle, text: roots, mode: 0o644 },
    { path: HOST_CERTS.vendorAnchor, text: roots, mode: 0o644 },
    { path: HOST_CERTS.ca, text: ca, mode: 0o644 },
    { path: HOST_CERTS.clientCert, text: readFileSync(sp.clientCert, 'utf8'), mode: 0o644 },
    { path: HOST_CERTS.clientKey, text: readFileSync(sp.clientKey, 'utf8'), mode: 0o644 },
  ];
}

// ---------------------------------------------------------------------------- configs

/** Pull hosts (SLES / SAP / Leap 15): major version 15 in the os-release fixture name. */
export function isPullProduct(product: string): boolean {
  return /^(sles-15|sles-sap-15|opensuse-leap-15)/.test(product) && productByMix(product).channel !== null;
}

/**
 * The agent ID of each pull host as Trento knows it: from the agent itself (`trento-agent id`,
 * the lab's agent program, reading that host's machine-id), never from the toolkit's own
 * computation, so a toolkit that computed IDs wrongly would not find its hosts in Prometheus.
 * The agent is not installed at `up`, so its program runs here, once per host, on the host's
 * machine-id (a few at a time: each is a Python start).
 */
export async function agentIdsFromAgent(hosts: HostRecord[]): Promise<Map<string, string>> {
  const dir = mkdtempSync(join(tmpdir(), 'lab-agent-ids-'));
  const ids = new Map<string, string>();
  try {
    const pending = hosts.filter((h) => isPullProduct(h.product));
    const worker = async () => {
      for (let h = pending.shift(); h; h = pending.shift()) {
        const file = join(dir, h.name);
        writeFileSync(file, `${h.machineId}\n`);
        const id = await must(join(hostProgramsDir, 'trento-agent'), ['id'], `trento-agent id for ${h.name}`, {
          env: { ...process.env, LAB_MACHINE_ID_PATH: file },
        });
        ids.set(h.name, id.trim());
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return ids;
}

/** file_sd list in the shape of Trento Web's /api/v1/prometheus/targets (ids: agentIdsFromAgent). */
export function targetsJson(hosts: HostRecord[], ids: Map<string, string>): string {
  const groups = hosts
    .filter((h) => isPullProduct(h.product))
    .map((h) => {
      const agentID = ids.get(h.name);
      if (!agentID) throw new Error(`no agent ID for ${h.name}: run agentIdsFromAgent over the same hosts`);
      return { targets: [`${h.address}:9100`], labels: { agentID, exporter_name: 'node_exporter', hostname: h.name } };
    });
  return `${JSON.stringify(groups, null, 2)}\n`;
}

export function prometheusYml(sp: ServerPaths): string {
  return `# Generated by \`npm run lab -- up\`: the lab's Trento-side Prometheus.
global:
  scrape_interval: ${SCRAPE_INTERVAL}
  scrape_timeout: 10s
  evaluation_interval: 15s
scrape_configs:
  # Pull hosts, listed like Trento Web's targets API lists them (agentID, exporter_name, hostname).
  - job_name: node_exporter
    file_sd_configs:
      - files: ['${sp.targets}']
        refresh_interval: 5s
`;
}

export function nginxConf(sp: ServerPaths, net: LabNet, s: Secrets): string {
  const gw = net.gateway;
  const upstream = `http://${gw}:${PROMETHEUS_PORT}/api/v1/write`;
  // Behind the same authentication: the query API, as the official playbook's proxy exposes
  // /prometheus/ (so --verify-prometheus can be tested per method).
  const location = (auth: string) => `
    location = ${REMOTE_WRITE_PATH} {${auth}
      proxy_pass ${upstream};
      proxy_set_header Authorization "";
    }
    location ${QUERY_API_PATH} {${auth}
      proxy_pass http://${gw}:${PROMETHEUS_PORT}/api/v1/;
      proxy_set_header Authorization "";
    }
    location / { return 404; }`;
  const server = (m: AuthMethod, extra: string, auth: string) => `
  # auth: ${m}
  server {
    listen ${gw}:${EDGE_PORTS[m]} ssl;${extra}${location(auth)}
  }`;
  return `# Generated by \`npm run lab -- up\`: the TLS edge of the remote-write endpoint, one port per auth method.
daemon off;
master_process on;
worker_processes 1;
user root;
pid ${sp.nginxPid};
error_log ${sp.nginxLog} notice;
events { worker_connections 512; }
http {
  default_type application/octet-stream;
  log_format lab '$remote_addr $server_port "$request" $status $body_bytes_sent "$http_user_agent" ssl_client=$ssl_client_verify';
  access_log ${join(sp.nginxDir, 'access.log')} lab;
  client_body_temp_path ${join(sp.nginxDir, 'tmp', 'body')};
  proxy_temp_path ${join(sp.nginxDir, 'tmp', 'proxy')};
  fastcgi_temp_path ${join(sp.nginxDir, 'tmp', 'fastcgi')};
  uwsgi_temp_path ${join(sp.nginxDir, 'tmp', 'uwsgi')};
  scgi_temp_path ${join(sp.nginxDir, 'tmp', 'scgi')};
  client_max_body_size 32m;
  ssl_certificate ${sp.serverCert};
  ssl_certificate_key ${sp.serverKey};
  ssl_protocols TLSv1.2 TLSv1.3;
${server('none', '', '')}
${server(
  'basic',
  '',
  `
      auth_basic "Trento lab";
      auth_basic_user_file ${sp.htpasswd};`,
)}
${server(
  'bearer',
  '',
  `
      if ($http_authorization != "Bearer ${s.bearerToken}") {
        add_header WWW-Authenticate 'Bearer realm="Trento lab"' always;
        return 401;
      }`,
)}
${server(
  'mtls',
  `
    ssl_client_certificate ${sp.caCert};
    ssl_verify_client on;`,
  '',
)}
}
`;
}

// ---------------------------------------------------------------------------- processes

function pidOf(pidFile: string, mark: string): number | null {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, 'utf8').trim());
  } catch {
    return null;
  }
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return null;
  // Only ours: the command line names this lab's server folder.
  return cmdline(pid).some((a) => a.includes(mark)) ? pid : null;
}

export function prometheusPid(paths: LabPaths): number | null {
  const sp = serverPaths(paths);
  return pidOf(sp.promPid, sp.promConfig);
}

export function nginxPid(paths: LabPaths): number | null {
  const sp = serverPaths(paths);
  return pidOf(sp.nginxPid, sp.nginxConf);
}

function tcpOpen(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const done = (ok: boolean) => {
      clearTimeout(t);
      s.destroy();
      resolve(ok);
    };
    const t = setTimeout(() => done(false), timeoutMs);
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

async function prometheusReady(url: string): Promise<boolean> {
  try {
    const r = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) });
    return r.status === 200;
  } catch {
    return false;
  }
}

/** Start (or keep) Prometheus and nginx; (re)write the pull targets. Returns what lab.json says. */
export async function ensureServer(paths: LabPaths, net: LabNet, hosts: HostRecord[], log: (s: string) => void): Promise<ServerInfo> {
  const sp = serverPaths(paths);
  await ensurePki(paths, net);
  const info = serverInfo(paths, net);
  const s = secrets(sp);
  for (const d of [sp.promData, join(sp.promDir, 'targets'), join(sp.nginxDir, 'tmp')]) mkdirSync(d, { recursive: true });
  writeAtomic(sp.targets, targetsJson(hosts, await agentIdsFromAgent(hosts)));

  // Prometheus: a changed config is applied with SIGHUP (file_sd changes are picked up by itself).
  const promConf = prometheusYml(sp);
  const promChanged = !existsSync(sp.promConfig) || readFileSync(sp.promConfig, 'utf8') !== promConf;
  if (promChanged) writeAtomic(sp.promConfig, promConf);
  let pid = prometheusPid(paths);
  const promArgs = [
    `--config.file=${sp.promConfig}`,
    `--storage.tsdb.path=${sp.promData}`,
    `--storage.tsdb.retention.time=2d`,
    `--web.listen-address=${net.gateway}:${PROMETHEUS_PORT}`,
    '--web.enable-remote-write-receiver',
    '--web.enable-lifecycle',
    '--log.level=warn',
  ];
  const promArgsFile = join(sp.promDir, 'args');
  const argsChanged = !existsSync(promArgsFile) || readFileSync(promArgsFile, 'utf8') !== promArgs.join('\n');
  if (pid && argsChanged) {
    await stopPid(pid, 'SIGTERM', 15_000);
    pid = null;
  }
  if (!pid) {
    log(`starting Prometheus on ${info.prometheusUrl}`);
    writeFileSync(promArgsFile, promArgs.join('\n'));
    const fd = openSync(sp.promLog, 'a');
    const child = spawnDetached('prometheus', promArgs, { stdout: fd });
    child.on('error', () => {}); // reported below (no pid)
    closeSync(fd);
    if (!child.pid) throw new Error('could not start prometheus (Debian: apt-get install prometheus)');
    child.unref();
    writeFileSync(sp.promPid, `${child.pid}\n`);
    const p = child.pid;
    await waitForStart(
      'Prometheus',
      () => prometheusReady(info.prometheusUrl),
      () => isAlive(p),
      sp.promLog,
    );
  } else if (promChanged) {
    process.kill(pid, 'SIGHUP');
  }

  // nginx: htpasswd (bcrypt) and config; a changed config is applied with SIGHUP.
  // bcrypt salts differ every time: keep the file while it still accepts the lab's password.
  if (!existsSync(sp.htpasswd) || (await run('htpasswd', ['-vb', sp.htpasswd, s.username, s.password])).code !== 0) {
    const htLine = `${(await must('htpasswd', ['-nbB', s.username, s.password], 'hashing the basic-auth password')).trim()}\n`;
    writeAtomic(sp.htpasswd, htLine, 0o644);
  }
  const conf = nginxConf(sp, net, s);
  const confChanged = !existsSync(sp.nginxConf) || readFileSync(sp.nginxConf, 'utf8') !== conf;
  if (confChanged) writeAtomic(sp.nginxConf, conf, 0o600);
  chmodSync(sp.nginxConf, 0o600);
  const ngPid = nginxPid(paths);
  if (!ngPid) {
    log(`starting nginx on ${net.gateway} (ports ${AUTH_METHODS.map((m) => `${EDGE_PORTS[m]} ${m}`).join(', ')})`);
    await must('nginx', ['-t', '-q', '-e', sp.nginxLog, '-p', sp.nginxDir, '-c', sp.nginxConf], 'checking the nginx config');
    const fd = openSync(sp.nginxLog, 'a');
    const child = spawnDetached('nginx', ['-e', sp.nginxLog, '-p', sp.nginxDir, '-c', sp.nginxConf], { stdout: fd });
    child.on('error', () => {}); // reported below (no pid)
    closeSync(fd);
    if (!child.pid) throw new Error('could not start nginx (Debian: apt-get install nginx)');
    child.unref();
    const p = child.pid;
    await waitForStart(
      'nginx',
      async () => (await Promise.all(AUTH_METHODS.map((m) => tcpOpen(net.gateway, EDGE_PORTS[m])))).every(Boolean),
      () => isAlive(p),
      sp.nginxLog,
    );
  } else if (confChanged) {
    await must('nginx', ['-t', '-q', '-e', sp.nginxLog, '-p', sp.nginxDir, '-c', sp.nginxConf], 'checking the nginx config');
    process.kill(ngPid, 'SIGHUP');
  }
  return info;
}

/** Stop nginx (master and workers) and Prometheus. */
export async function stopServer(paths: LabPaths, log: (s: string) => void): Promise<void> {
  const sp = serverPaths(paths);
  const ng = nginxPid(paths);
  const prom = prometheusPid(paths);
  if (ng || prom) log('stopping Prometheus and nginx');
  // nginx: SIGTERM is its fast shutdown (workers exit with the master).
  await Promise.all([ng ? stopPid(ng, 'SIGTERM', 10_000) : null, prom ? stopPid(prom, 'SIGTERM', 15_000) : null]);
  rmSync(sp.promPid, { force: true });
  rmSync(sp.nginxPid, { force: true });
}

/** Prometheus' database (at `down --wipe`, with the hosts' disks); the CA and secrets are kept. */
export function wipeServerData(paths: LabPaths): void {
  rmSync(serverPaths(paths).promData, { recursive: true, force: true });
}

export interface ServerStatus {
  prometheus: { pid: number | null; url: string | null };
  nginx: { pid: number | null; ports: Record<AuthMethod, number> };
}

export function serverStatus(paths: LabPaths, net: LabNet | null): ServerStatus {
  return {
    prometheus: { pid: prometheusPid(paths), url: net ? `http://${net.gateway}:${PROMETHEUS_PORT}` : null },
    nginx: { pid: nginxPid(paths), ports: EDGE_PORTS },
  };
}
