#!/usr/bin/env tsx
// npm run demo: the lab and its server side up, every host provisioned, and what Trento would
// see: per host its product, metrics provider, agent ID and whether Prometheus answers
// `up{agentID="<id>"}` == 1 (Trento Web's health query), plus Prometheus' own web page.
//   npm run demo [-- --auth none|basic|bearer|mtls]   (default: the lab inventory's, none)
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { labUp } from '../test/lab/lab.ts';
import { productByMix } from '../test/lab/products.ts';
import { AUTH_METHODS, isPullProduct, type AuthMethod } from '../test/lab/server.ts';
import { repoRoot } from '../test/lab/paths.ts';
import { upOf } from '../test/integration/prometheus.ts';
import { agentIdFromMachineId } from '../src/settings/agent-id.ts';

const isPush = (product: string) => /^(sles-16|sles-sap-16|opensuse-leap-16)/.test(product) && productByMix(product).channel !== null;

function provision(args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...process.execArgv, 'scripts/provision.ts', ...args], { cwd: repoRoot, stdio: 'inherit' });
    child.on('close', (code) => resolve(code ?? 1));
  });
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { auth: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write('Usage: npm run demo [-- --auth none|basic|bearer|mtls]\n');
    return 0;
  }
  const auth = values.auth as AuthMethod | undefined;
  if (auth !== undefined && !AUTH_METHODS.includes(auth)) throw new Error(`--auth ${auth}: expected one of ${AUTH_METHODS.join(', ')}`);

  const log = (s: string) => process.stderr.write(`demo: ${s}\n`);
  log('bringing up the lab (hosts, Prometheus, nginx)');
  const { info } = await labUp({ log: (s) => log(`lab: ${s}`) });
  const server = info.server!;
  const extra: Record<string, string> = {};
  if (auth) {
    extra.agent_prometheus_auth = auth;
    extra.agent_prometheus_remote_write_url = server.remoteWrite[auth];
    if (auth === 'basic')
      Object.assign(extra, { agent_prometheus_auth_username: server.basicAuth.username, agent_prometheus_auth_password: server.basicAuth.password });
    if (auth === 'bearer') extra.agent_prometheus_auth_bearer_token = server.bearerToken;
    if (auth === 'mtls')
      Object.assign(extra, { agent_prometheus_tls_client_cert: server.hostClientCert, agent_prometheus_tls_client_key: server.hostClientKey });
  }
  log(`provisioning ${info.hosts.length} host(s) from ${info.inventoryDir}`);
  const code = await provision(['--inventory', info.inventoryDir, ...(auth ? ['-e', JSON.stringify(extra)] : [])]);
  const since = Date.now() / 1000;

  // Pushed samples and the next scrape arrive within a few seconds: wait for them (bounded).
  const rows = info.hosts.map((h) => ({
    h,
    provider: isPullProduct(h.product) ? 'node_exporter (pull)' : isPush(h.product) ? 'grafana_alloy (push)' : '-',
    exporter: isPullProduct(h.product) ? 'node_exporter' : isPush(h.product) ? 'grafana_alloy' : null,
    agentId: agentIdFromMachineId(h.machineId),
    up: false,
  }));
  const deadline = Date.now() + 20_000;
  for (;;) {
    for (const r of rows) {
      if (!r.exporter || r.up) continue;
      const a = await upOf(info, r.agentId);
      // A fresh sample only: one from before this run does not prove anything.
      r.up = a.up.get(r.exporter) === 1 && (a.at.get(r.exporter) ?? 0) > since;
    }
    if (rows.every((r) => !r.exporter || r.up) || Date.now() > deadline) break;
    await new Promise((res) => setTimeout(res, 1000));
  }

  const table = [['HOST', 'PRODUCT', 'METRICS PROVIDER', 'AGENT ID', 'PROMETHEUS SEES IT (up == 1)']];
  for (const r of rows) {
    table.push([r.h.name, productByMix(r.h.product).summary, r.provider, r.exporter ? r.agentId : '-', r.exporter ? (r.up ? 'yes' : 'NO') : 'not supported']);
  }
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  const out = table.map((row) =>
    row
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd(),
  );
  const supported = rows.filter((r) => r.exporter);
  const seen = supported.filter((r) => r.up).length;
  out.push('');
  out.push(`Prometheus sees ${seen} of ${supported.length} supported host(s) (provision exit code ${code}).`);
  out.push(
    `Prometheus: ${server.prometheusUrl}  (Trento's query in its web page: ${server.prometheusUrl}/classic/graph?g0.expr=${encodeURIComponent('up{agentID!=""}')}&g0.tab=1)`,
  );
  out.push('Stop the lab with: npm run lab -- down');
  process.stdout.write(`${out.join('\n')}\n`);
  return seen === supported.length && code === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`demo: ${(e as Error).message}\n`);
    process.exit(1);
  },
);
