// The official playbook's own example inventory on the lab: `dedicated-nodes` as its admin has
// it (placeholders replaced by lab addresses, SSH settings of the lab added), run with
// `-e agent_web_api_key=...` and agent_server_ca_cert as the official role takes it. The official
// play's supportutils role too: supportutils and supportutils-plugin-trento (supportutils_enabled).
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { LabInfo } from '../lab/inventory.ts';
import { HOST_CERTS } from '../lab/server.ts';
import { freshLab, hostsBy, type LabHost, mustOnHost, onHost, provision } from './helpers.ts';

const FIXTURES = join(import.meta.dirname, '../fixtures/official-playbook');
const CA_PATH = '/etc/pki/trust/anchors/trento-server-ca.pem';
const API_KEY = 'official-example-api-key';

let info: LabInfo;
let agents: LabHost[];
let inv: string;
let caVars: string;
let pem: string;

/** dedicated-nodes/inventory.yml with the lab's hosts as its agents and the gateway as its RabbitMQ host. */
async function dedicatedNodes(): Promise<string> {
  const doc = parse(await readFile(join(FIXTURES, 'dedicated-nodes', 'inventory.yml'), 'utf8')) as {
    all: { children: Record<string, { hosts: Record<string, Record<string, unknown>> }>; vars: Record<string, unknown> };
  };
  const groups = doc.all.children;
  groups.agents!.hosts = Object.fromEntries(agents.map((h) => [h.name, { ansible_host: h.address, ansible_user: 'root' }]));
  groups.rabbitmq_hosts!.hosts['vitellone-mq']!.ansible_host = info.gateway;
  // The lab's name for its gateway (in every host's /etc/hosts and in the edge's certificate).
  doc.all.vars.trento_server_name = 'lab-gateway';
  doc.all.vars.ansible_ssh_private_key_file = info.keyFile;
  doc.all.vars.ansible_ssh_common_args = `-o UserKnownHostsFile=${info.knownHosts}`;
  const dir = await mkdtemp(join(tmpdir(), 'tp-official-'));
  await writeFile(join(dir, 'inventory.yml'), stringify(doc));
  return join(dir, 'inventory.yml');
}

const SUPPORT = ['supportutils', 'supportutils-plugin-trento'];
/** What rpm says of the support packages on a host: "NAME VERSION" or "NAME absent", one a line. */
const supportPackages = (host: string) =>
  mustOnHost(
    info,
    host,
    `for p in ${SUPPORT.join(' ')}; do rpm -q --qf "%{NAME} %{VERSION}\\n" $p >/dev/null 2>&1 && echo "$p installed" || echo "$p absent"; done`,
  );

/**
 * On `host`: a second channel, signed with the lab key like every lab channel, holding only
 * supportutils (as SUSE's base channel does), and the lab's own channel (trento-agent and the
 * plugin, as the channel that ships Trento) disabled: a host whose Trento channel is off.
 */
async function onlyBaseChannel(host: string): Promise<void> {
  const repomd = await mustOnHost(
    info,
    host,
    'rm -rf /root/lab-base && mkdir /root/lab-base && cp /srv/repo/supportutils-[0-9]*.rpm /root/lab-base/ && ' +
      'createrepo_c --quiet --no-database /root/lab-base && cat /root/lab-base/repodata/repomd.xml',
  );
  const packages = join(info.labDir, 'packages');
  const home = join(packages, readdirSync(packages).find((d) => readdirSync(join(packages, d)).includes('gnupg'))!, 'gnupg');
  const signature = execFileSync(
    'gpg',
    ['--batch', '--quiet', '--homedir', home, '--local-user', 'Lab Packages Signing Key', '--armor', '--detach-sign', '--output', '-'],
    {
      input: repomd,
      encoding: 'utf8',
    },
  );
  execFileSync('gpgconf', ['--homedir', home, '--kill', 'gpg-agent']);
  await mustOnHost(
    info,
    host,
    `cat > /root/lab-base/repodata/repomd.xml.asc <<'EOF'\n${signature}EOF\n` +
      'sed -e "s/^\\[lab\\]/[lab-base]/" -e "s|^baseurl=.*|baseurl=file:///root/lab-base|" -e "s/^name=.*/name=lab base channel/" ' +
      '/etc/zypp/repos.d/lab.repo > /etc/zypp/repos.d/lab-base.repo && zypper -n -q mr -d lab',
  );
}

const statuses = (run: Awaited<ReturnType<typeof provision>>) => Object.fromEntries((run.report?.hosts ?? []).map((h) => [h.host, h.status]));

beforeAll(async () => {
  info = await freshLab();
  const { pull, push } = hostsBy(info);
  agents = [pull[0]!, push[0]!];
  inv = await dedicatedNodes();
  pem = await readFile(join(FIXTURES, 'server-ca.pem'), 'utf8');
  caVars = join(await mkdtemp(join(tmpdir(), 'tp-ca-')), 'ca.yml');
  // As base64, the official role's other form.
  await writeFile(caVars, stringify({ agent_server_ca_cert: Buffer.from(pem).toString('base64'), agent_server_ca_cert_as_base64: true }));
}, 900_000);

describe("the official playbook's dedicated-nodes example", () => {
  it('refuses a CA that is not a PEM certificate, before touching any host', async () => {
    const run = await provision(['-i', inv, '-e', `agent_web_api_key=${API_KEY}`, '-e', 'agent_server_ca_cert=not-a-certificate']);
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(run.stdout + run.stderr).toMatch(/agent_server_ca_cert \(from -e[^)]*\): is not a PEM certificate/u);
    for (const h of agents) expect(await mustOnHost(info, h.name, `test -e ${CA_PATH} && echo present || echo absent`), h.name).toBe('absent\n');
  });

  it('--check --diff shows the CA anchor and changes nothing', async () => {
    const run = await provision(['-i', inv, '-e', `agent_web_api_key=${API_KEY}`, '-e', `@${caVars}`, '--check', '--diff']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    for (const h of agents) {
      const host = run.report!.hosts.find((x) => x.host === h.name)!;
      const ca = host.changes.find((c) => c.id === `file:${CA_PATH}`)!;
      expect(ca.summary).toBe(`create ${CA_PATH} (0644 root:root)`);
      expect(ca.diff).toContain('+-----BEGIN CERTIFICATE-----');
      expect(await mustOnHost(info, h.name, `test -e ${CA_PATH} && echo present || echo absent`), h.name).toBe('absent\n');
      const packages = host.changes.find((c) => c.id === 'packages:install')!;
      expect(packages.details).toEqual(expect.arrayContaining(['~ zypper refresh', ...SUPPORT.map((p) => `+ package ${p}`)]));
      expect(run.stdout).toContain('+ package supportutils-plugin-trento');
      expect(await supportPackages(h.name)).toBe('supportutils absent\nsupportutils-plugin-trento absent\n');
    }
  });

  it('provisions both agents: discovered RabbitMQ, basic auth from trento_prometheus_auth*, the CA trusted; readable output', async () => {
    const run = await provision(['-i', inv, '-e', `agent_web_api_key=${API_KEY}`, '-e', `@${caVars}`]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(statuses(run), run.stdout + run.stderr).toEqual(Object.fromEntries(agents.map((h) => [h.name, 'changed'])));
    for (const h of agents) {
      expect(await mustOnHost(info, h.name, `stat -c '%U:%G %a' ${CA_PATH}`)).toBe('root:root 644\n');
      expect(await mustOnHost(info, h.name, `cat ${CA_PATH}`)).toBe(pem);
      const bundle = await mustOnHost(info, h.name, 'cat /etc/ssl/ca-bundle.pem');
      expect(bundle).toContain(pem.trim());
      const agent = await mustOnHost(info, h.name, 'cat /etc/trento/agent.yaml');
      expect(agent).toContain(`facts-service-url: "amqp://trento:trento@${info.gateway}/trento"`);
      // The official play's supportutils role: supportconfig finds Trento's plugin.
      expect(await supportPackages(h.name)).toBe('supportutils installed\nsupportutils-plugin-trento installed\n');
      expect(await mustOnHost(info, h.name, 'supportconfig')).toMatch(/^plugin: trento$/mu);
    }
    const push = await mustOnHost(info, agents[1]!.name, 'cat /etc/trento/agent.yaml');
    expect(push).toContain('prometheus-auth: "basic"');
    expect(push).toContain('prometheus-auth-username: "prometheus"');
    // "trento" (agent_rabbitmq_password) is too short to be searched for in messages: a warning,
    // and no variable name comes out as "********_prometheus_auth".
    expect(run.stdout).toContain('too short to hide in free text');
    expect(run.stdout + run.stderr).not.toMatch(/\*{8}_/u);
    expect(run.stdout + run.stderr + JSON.stringify(run.report)).not.toContain('your-prometheus-password');
  });

  it('a second run changes nothing', async () => {
    const run = await provision(['-i', inv, '-e', `agent_web_api_key=${API_KEY}`, '-e', `@${caVars}`]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(statuses(run), run.stdout + run.stderr).toEqual(Object.fromEntries(agents.map((h) => [h.name, 'ok'])));
  });

  it('agent_package_state: present leaves an older agent and node_exporter alone; --upgrade upgrades both to the newest and restarts them, then changes nothing', async () => {
    const host = agents[0]!.name; // a pull host: node_exporter too
    const NODE_EXPORTER = 'golang-github-prometheus-node_exporter';
    await mustOnHost(info, host, `zypper --non-interactive --quiet install --oldpackage trento-agent=3.0.2 ${NODE_EXPORTER}=1.5.0 >/dev/null`);
    const version = () => mustOnHost(info, host, "rpm -q --qf '%{VERSION}' trento-agent");
    const exporterVersion = () => mustOnHost(info, host, `rpm -q --qf '%{VERSION}' ${NODE_EXPORTER}`);
    const exporterPid = async () => (await mustOnHost(info, host, 'systemctl show -p MainPID --value prometheus-node_exporter.service')).trim();
    expect(await version()).toBe('3.0.2');
    expect(await exporterVersion()).toBe('1.5.0');
    const base = ['-i', inv, '-e', `agent_web_api_key=${API_KEY}`, '-e', `@${caVars}`, '--limit', host];

    // (The downgrade left the agent's unit stale, NeedDaemonReload: this run reloads systemd and
    // restarts the agent, and leaves both packages as they are.)
    const present = await provision(base);
    expect(present.code, present.stdout + present.stderr).toBe(0);
    expect(await version()).toBe('3.0.2');
    expect(await exporterVersion()).toBe('1.5.0');

    const check = await provision([...base, '--upgrade', '--check']);
    // One change for the packages: "upgrade trento-agent 3.0.2-1.1 -> 3.1.0-1.1, golang-... 1.5.0-1.1 -> 1.8.2-1.1"
    const upgrades = check.report!.hosts[0]!.changes.map((c) => c.summary).filter((s) => s.startsWith('upgrade '));
    expect(upgrades).toHaveLength(1);
    expect(upgrades[0]).toMatch(/[ ,]trento-agent 3\.0\.2-\S+ -> 3\.1\.0-[^\s,]+/u);
    expect(upgrades[0]).toMatch(/[ ,]golang-github-prometheus-node_exporter 1\.5\.0-\S+ -> 1\.8\.2-[^\s,]+/u);
    expect(await version()).toBe('3.0.2');

    const pidBefore = await exporterPid();
    const upgrade = await provision([...base, '--upgrade']);
    expect(upgrade.code, upgrade.stdout + upgrade.stderr).toBe(0);
    expect(statuses(upgrade), upgrade.stdout + upgrade.stderr).toEqual({ [host]: 'changed' });
    expect(await version()).toBe('3.1.0');
    expect(await exporterVersion()).toBe('1.8.2');
    expect(await mustOnHost(info, host, 'systemctl is-active trento-agent.service prometheus-node_exporter.service')).toBe('active\nactive\n');
    // The upgraded node_exporter runs the new package: a new process, not the one from before.
    expect(await exporterPid()).not.toBe(pidBefore);

    const again = await provision([...base, '--upgrade']);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(statuses(again), again.stdout + again.stderr).toEqual({ [host]: 'ok' });
  });

  it('--uninstall --purge removes the anchor and the CA leaves the trust store; plain --uninstall keeps it (and supportutils, not the plugin)', async () => {
    const keep = await provision(['-i', inv, '--uninstall', '--limit', agents[0]!.name]);
    expect(keep.code, keep.stdout + keep.stderr).toBe(0);
    expect((await onHost(info, agents[0]!.name, `test -e ${CA_PATH}`)).code).toBe(0);
    // As the official cleanup: the plugin is Trento's and goes; supportutils is general tooling.
    expect(await supportPackages(agents[0]!.name)).toBe('supportutils installed\nsupportutils-plugin-trento absent\n');
    // SLE 15's package ships agent.yaml as a %config(noreplace) file: its removal kept the
    // toolkit's (with the API key) as agent.yaml.rpmsave, rpm's rule for a changed config file.
    expect(await mustOnHost(info, agents[0]!.name, 'grep -c "^api-key: " /etc/trento/agent.yaml.rpmsave')).toBe('1\n');
    const run = await provision(['-i', inv, '--uninstall', '--purge']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    for (const h of agents) {
      const ca = run.report!.hosts.find((x) => x.host === h.name)!.changes.find((c) => c.id === `file:${CA_PATH}`);
      expect(ca, run.stdout).toMatchObject({ summary: `remove ${CA_PATH}`, applied: true });
      expect(await mustOnHost(info, h.name, `test -e ${CA_PATH} && echo present || echo absent`), h.name).toBe('absent\n');
      expect(await mustOnHost(info, h.name, 'cat /etc/ssl/ca-bundle.pem')).not.toContain(pem.trim());
      expect(await supportPackages(h.name)).toBe('supportutils absent\nsupportutils-plugin-trento absent\n');
      // Nothing of the toolkit's is left: rpm's copy of agent.yaml went too, and its record folder
      // with its last record.
      expect(await mustOnHost(info, h.name, 'ls /etc/trento/agent.yaml* 2>&1 || true')).toMatch(/No such file or directory/);
      expect(await mustOnHost(info, h.name, 'ls -A /var/lib/trento-provision 2>&1 || true')).toMatch(/No such file or directory/);
    }

    // An anchor the admin put at that path (the toolkit never wrote one): --purge keeps it and
    // says so; the trust store keeps the CA.
    const h = agents[0]!.name;
    await mustOnHost(info, h, `printf '%s\\n' '${pem.trim()}' > ${CA_PATH} && update-ca-certificates`);
    try {
      const admins = await provision(['-i', inv, '--uninstall', '--purge', '--limit', h]);
      expect(admins.code, admins.stdout + admins.stderr).toBe(0);
      expect(admins.report!.hosts[0]!.warnings.join('\n')).toContain(`${CA_PATH} was not written by trento-provision`);
      expect(await mustOnHost(info, h, `test -e ${CA_PATH} && cat /etc/ssl/ca-bundle.pem`)).toContain(pem.trim());
    } finally {
      await mustOnHost(info, h, `rm -f ${CA_PATH} && update-ca-certificates`);
    }
  });

  it('supportutils_enabled: false installs neither; a host whose channels lack the plugin fails alone, naming it and what to do', async () => {
    const base = ['-i', inv, '-e', `agent_web_api_key=${API_KEY}`];
    const off = await provision([...base, '-e', 'supportutils_enabled=false']);
    expect(off.code, off.stdout + off.stderr).toBe(0);
    expect(statuses(off), off.stdout + off.stderr).toEqual(Object.fromEntries(agents.map((h) => [h.name, 'changed'])));
    for (const h of agents) {
      expect(await supportPackages(h.name)).toBe('supportutils absent\nsupportutils-plugin-trento absent\n');
      expect(await mustOnHost(info, h.name, 'systemctl is-active trento-agent.service')).toBe('active\n');
    }

    const [lacking, fine] = [agents[0]!.name, agents[1]!.name];
    await onlyBaseChannel(lacking);
    try {
      const run = await provision(base);
      expect(run.code, run.stdout + run.stderr).toBe(2);
      expect(statuses(run), run.stdout + run.stderr).toEqual({ [lacking]: 'failed', [fine]: 'changed' });
      const failed = run.report!.hosts.find((x) => x.host === lacking)!;
      const step = JSON.stringify(failed);
      expect(step).toMatch(
        /package supportutils-plugin-trento is in no enabled repository: enable the channel that ships trento-agent [^"]*or set supportutils_enabled: false/u,
      );
      // supportutils is in the enabled channel: it is not named as missing.
      expect(step).not.toMatch(/package supportutils is in no enabled repository/u);
      expect(run.stdout).toMatch(/package supportutils-plugin-trento is in no enabled repository/u);
      expect(await supportPackages(lacking)).toBe('supportutils absent\nsupportutils-plugin-trento absent\n');
      expect(await supportPackages(fine)).toBe('supportutils installed\nsupportutils-plugin-trento installed\n');
    } finally {
      await mustOnHost(info, lacking, 'rm -rf /etc/zypp/repos.d/lab-base.repo /root/lab-base && zypper -n -q mr -e lab');
    }
    const again = await provision(base);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(statuses(again), again.stdout + again.stderr).toEqual({ [lacking]: 'changed', [fine]: 'ok' });
    expect(await supportPackages(lacking)).toBe('supportutils installed\nsupportutils-plugin-trento installed\n');
    const out = await provision(['-i', inv, '--uninstall', '--purge']);
    expect(out.code, out.stdout + out.stderr).toBe(0);
  });

  it("a SLES 16 host that does not trust Trento's CA: Alloy's pushes fail with the TLS error; agent_server_ca_cert then rebuilds the trust store and restarts Alloy, which delivers", async () => {
    // A push host the other cases leave alone, whose trust store lacks the lab's CA (the CA
    // Trento's edge is signed with), as a real host before the admin adds their private CA.
    const host = hostsBy(info).push[1]!.name;
    const labCa = (await readFile(info.server!.caCert, 'utf8')).trim();
    const caFile = join(await mkdtemp(join(tmpdir(), 'tp-labca-')), 'ca.yml');
    await writeFile(caFile, stringify({ agent_server_ca_cert: `${labCa}\n` }));
    // No ca_file in trento.alloy (the lab inventory names the lab's CA file): Alloy trusts the system's roots.
    const base = ['-i', info.inventoryDir, '--limit', host, '-e', 'agent_prometheus_scrape_interval=10s', '-e', 'agent_prometheus_tls_ca_cert='];
    const keep = '/root/vendor-anchor.keep';
    const dropLabCa = `import sys; a, ca = sys.argv[1:]; t = open(a).read(); open(a, 'w').write(t.replace(open(ca).read().strip(), ''))`;
    await mustOnHost(
      info,
      host,
      `cp -p ${HOST_CERTS.vendorAnchor} ${keep} && python3 -c "${dropLabCa}" ${HOST_CERTS.vendorAnchor} ${HOST_CERTS.ca} && update-ca-certificates`,
    );
    try {
      expect(await mustOnHost(info, host, 'cat /etc/ssl/ca-bundle.pem')).not.toContain(labCa.trim());
      const untrusted = await provision(base);
      expect(untrusted.code, untrusted.stdout + untrusted.stderr).toBe(2);
      // Alloy retries every batch (its TLS handshake fails: x509, unknown authority).
      expect(untrusted.stdout).toMatch(new RegExp(`^${host} \\| FAILED \\| check failed: Alloy delivers metrics to the remote-write URL$`, 'mu'));
      expect(untrusted.stdout).toMatch(/Alloy has delivered no metrics to the remote-write URL in the last 20 s \(samples failed: 0, retried: [1-9]/u);

      const trusted = await provision([...base, '-e', `@${caFile}`]);
      expect(trusted.code, trusted.stdout + trusted.stderr).toBe(0);
      const changes = trusted.report!.hosts.find((h) => h.host === host)!.changes.map((c) => c.id);
      expect(changes).toEqual([`file:${CA_PATH}`]);
      expect(trusted.stdout).toMatch(/restart alloy/u);
      expect(await mustOnHost(info, host, 'cat /etc/ssl/ca-bundle.pem')).toContain(labCa.trim());
    } finally {
      await mustOnHost(info, host, `cp -p ${keep} ${HOST_CERTS.vendorAnchor} && rm ${keep} && update-ca-certificates`);
    }
    const out = await provision(['-i', info.inventoryDir, '--limit', host, '--uninstall', '--purge']);
    expect(out.code, out.stdout + out.stderr).toBe(0);
  });
});
