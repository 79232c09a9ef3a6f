import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { toDisplay, toShell } from '../../../src/exec/command.ts';
import type { FileFact, HostFacts } from '../../../src/facts/types.ts';
import { files } from '../../../src/facts/sources/files.ts';
import { parseUpdates, updates } from '../../../src/facts/sources/updates.ts';
import { AGENT_YAML_TEMPLATE } from '../../../src/render/agent-yaml.ts';
import { TRENTO_ALLOY_TEMPLATE } from '../../../src/render/trento-alloy.ts';
import { PACKAGES, PATHS, TOOLKIT_MARK } from '../../../src/facts/paths.ts';
import { platformOf } from '../../../src/platform.ts';
import { checksScript, deliveryWaitSeconds, provenByFacts } from '../../../src/plan/checks.ts';
import { planHost, versionAtLeast } from '../../../src/plan/plan.ts';
import type { HostPlan } from '../../../src/plan/types.ts';
import type { HostSettings } from '../../../src/settings/host-settings.ts';
import { applyScript, planSteps } from '../../../src/apply/script.ts';
import { ALWAYS_AVAILABLE_HANDLERS, ROLES } from '../../../roles/index.ts';
import { agentConfigFor } from '../../../src/settings/validate.ts';

const VARS = {
  agent_web_api_key: 'api-SENTINEL-key',
  agent_trento_server_url: 'https://trento.example.com',
  agent_prometheus_remote_write_url: 'https://trento.example.com/prometheus/api/v1/write',
  agent_prometheus_auth: 'bearer',
  agent_prometheus_auth_bearer_token: 'tok-SENTINEL',
  agent_rabbitmq_password: 'rabbit-SENTINEL',
  agent_rabbitmq_host: 'rabbitmq.example.com',
};
const ORIGINS = Object.fromEntries(Object.keys(VARS).map((k) => [k, 'group_vars/all.yml']));

const CA_PEM = readFileSync(new URL('../../fixtures/official-playbook/server-ca.pem', import.meta.url), 'utf8');

function freshFacts(version: string): HostFacts {
  return {
    osRelease: { ID: 'sles', VERSION_ID: version },
    baseProduct: 'SLES.prod',
    machineId: 'dummy-machine-id',
    hostname: 'h',
    uid: 0,
    tools: new Set(['rpm', 'zypper', 'curl', 'systemctl']),
    packages: {},
    agentCandidateVersion: '3.1.0-1.1',
    units: {},
    alloy: { configFile: '', configIsDir: false, configDir: '/etc/alloy', droppedBySingleFile: [], dormantFiles: [] },
    files: {},
    probes: {},
    record: { packages: [], pendingHandlers: [], files: [], units: [] },
    warnings: [],
  };
}

/** A plan for these facts; `extra` overrides plan inputs and, by name, the host's settings. */
function planFor(facts: HostFacts, extra: Partial<Omit<Parameters<typeof planHost>[0], 'settings'>> & Partial<HostSettings> = {}): HostPlan {
  const platform = platformOf(facts);
  if (!platform.supported) throw new Error(`test facts of a refused host: ${platform.refusal}`);
  const { config, errors } = agentConfigFor(VARS, ORIGINS, platform.mode);
  expect(errors).toEqual([]);
  const {
    installMonitoringDep = true,
    supportutils = { enabled: true, updateCache: true },
    serverCaPem,
    packageState = 'present',
    agent = config,
    ...inputs
  } = extra;
  return planHost({
    roles: ROLES[platform.provider],
    alwaysAvailableHandlers: ALWAYS_AVAILABLE_HANDLERS,
    host: 'h',
    facts,
    platform,
    agentId: '779cdd70-e9e2-58ca-b18a-bf3eb3f71244',
    // supportutils: roles/supportutils/defaults/main.yml
    settings: { agent, installMonitoringDep, supportutils, ...(serverCaPem !== undefined ? { serverCaPem } : {}), packageState },
    withDiff: { context: 3 },
    uninstall: false,
    purge: false,
    ...inputs,
  });
}

/** Facts of a host on which `plan` has been applied: what a second run sees. */
function converged(facts: HostFacts, plan: HostPlan): HostFacts {
  const files: Record<string, FileFact> = { ...facts.files };
  const script = plan.changes.map((c) => toShell(c.script)).join('\n');
  for (const m of script.matchAll(/tp_write (\S+) (\S+) (\S+) (\S+) '?([A-Za-z0-9+/=]+)'?/g)) {
    const content = Buffer.from(m[5]!, 'base64').toString('utf8');
    files[m[1]!] = {
      path: m[1]!,
      exists: true,
      owner: m[2],
      group: m[3],
      mode: m[4]!.replace(/^0/, ''),
      sha256: createHash('sha256').update(content).digest('hex'),
      content,
    };
  }
  const units = Object.fromEntries(
    ['trento-agent.service', 'alloy.service', 'prometheus-node_exporter.service'].map((u) => [u, { state: 'active', enabled: 'enabled' }]),
  );
  return {
    ...facts,
    packages: {
      'trento-agent': '3.1.0-1.1',
      alloy: '1.9.2-1',
      'golang-github-prometheus-node_exporter': '1.5.0-1',
      supportutils: '3.2.10-1.1',
      'supportutils-plugin-trento': '2.5.0-1.1',
    },
    units,
    alloy: { ...facts.alloy, configFile: '/etc/alloy/', configIsDir: true },
    files,
    // what the install step recorded on the host
    record: {
      packages: (plan.changes.find((c) => c.id === 'packages:install')?.details ?? [])
        .filter((d) => d.startsWith('+ package '))
        .map((d) => d.replace('+ package ', '')),
      pendingHandlers: [],
      // the paths whose write also recorded them (FileSpec.recorded)
      files: plan.changes.filter((c) => toShell(c.script).includes('tp_record_edit files add')).map((c) => c.id.replace(/^(file|record:files):/, '')),
      // the admin's units whose state before the service step recorded
      units: plan.changes.flatMap((c) => (c.service?.recordState ? [c.service.recordState] : [])),
    },
  };
}

describe('plans per platform', () => {
  it('SLES 15 SP7: node_exporter and the agent in pull mode, no Alloy', () => {
    const plan = planFor(freshFacts('15.7'));
    const summaries = plan.changes.map((c) => c.summary);
    expect(summaries[0]).toBe(
      'install golang-github-prometheus-node_exporter, trento-agent, supportutils, supportutils-plugin-trento (repositories refreshed first)',
    );
    expect(summaries.join('\n')).not.toMatch(/alloy/i);
    // SLE 15's package ships agent.yaml itself: the dry run says the toolkit's goes over it.
    expect(summaries).toContain(`create ${PATHS.agentConfig} (0600 root:root), over the default the trento-agent package installs there`);
    expect(planFor(freshFacts('16.0')).changes.map((c) => c.summary)).toContain(`create ${PATHS.agentConfig} (0600 root:root)`);
    expect(summaries.join('\n')).toMatch(/enable prometheus-node_exporter.service, start prometheus-node_exporter.service/);
    const dropIn = plan.changes.find((c) => c.id === `file:${PATHS.agentDropIn}`)!;
    expect(dropIn.diff).toMatch(/\+Wants=prometheus-node_exporter.service/);
    expect(dropIn.diff).not.toMatch(/ExecStartPre/);
  });

  it('SLES 16: Alloy in directory mode with trento.alloy, the agent in push mode with ExecStartPre', () => {
    const plan = planFor(freshFacts('16.0'));
    const ids = plan.changes.map((c) => c.id);
    expect(plan.changes[0]!.summary).toBe('install alloy, trento-agent, supportutils, supportutils-plugin-trento (repositories refreshed first)');
    expect(ids).toContain('line:/etc/sysconfig/alloy:CONFIG_FILE');
    expect(ids).toContain('file:/etc/alloy/trento.alloy');
    expect(plan.changes.find((c) => c.id === 'file:/etc/alloy/trento.alloy')!.summary).toBe('create /etc/alloy/trento.alloy (0640 alloy:alloy)');
    expect(plan.changes.find((c) => c.id === `file:${PATHS.agentDropIn}`)!.diff).toMatch(/ExecStartPre=-\/usr\/share\/trento\/configure-alloy.sh/);
    expect(ids).toContain(`file:${PATHS.configureAlloyScript}`);
    // CONFIG_FILE changed: a restart stands in for the reload.
    expect(plan.handlers.map((h) => h.name)).toEqual(['restart alloy', 'restart trento-agent']);
  });

  it("SLES 16 with a site agent.yaml.ejs: no ExecStartPre (the agent would render trento.alloy from the site's agent.yaml, the toolkit from the settings)", () => {
    const templates = {
      'agent.yaml.ejs': { path: AGENT_YAML_TEMPLATE, site: true },
      'trento.alloy.ejs': { path: TRENTO_ALLOY_TEMPLATE, site: false },
    };
    const plan = planFor(freshFacts('16.0'), { templates });
    expect(plan.changes.map((c) => c.id)).not.toContain(`file:${PATHS.configureAlloyScript}`);
    expect(plan.changes.find((c) => c.id === `file:${PATHS.agentDropIn}`)!.diff).not.toMatch(/ExecStartPre/);
  });

  it('a host whose facts did not ask the repositories for trento-agent is planned as far as it needs the answer: refused where it gets Alloy, planned where it does not', () => {
    const { agentCandidateVersion: _, ...notAsked15 } = { ...freshFacts('15.7'), agentCandidateSkippedForMajor: 15 };
    const sles15 = planFor(notAsked15);
    expect(sles15.refusals).toEqual([]);
    expect(sles15.changes.find((c) => c.id === 'packages:install')?.summary).toMatch(/trento-agent/);
    const { agentCandidateVersion: __, ...notAsked16 } = { ...freshFacts('16.0'), agentCandidateSkippedForMajor: 15 };
    expect(planFor(notAsked16).refusals.join()).toMatch(
      /^the facts script read os-release's major version as 15 and did not ask the repositories for trento-agent, but this host is SLES 16\.0 and gets Alloy/,
    );
    // with trento-agent installed its own version decides: nothing to ask
    expect(planFor({ ...notAsked16, packages: { [PACKAGES.agent]: '3.1.0-1.1' } }).refusals).toEqual([]);
    // an uninstall asks nothing
    expect(planFor(notAsked16, { uninstall: true }).refusals).toEqual([]);
  });

  it('SLES 16 with an agent without generate alloy: no ExecStartPre, a warning', () => {
    const plan = planFor({ ...freshFacts('16.0'), agentCandidateVersion: '3.0.2-1' });
    expect(plan.changes.map((c) => c.id)).not.toContain(`file:${PATHS.configureAlloyScript}`);
    expect(plan.changes.find((c) => c.id === `file:${PATHS.agentDropIn}`)!.diff).not.toMatch(/ExecStartPre/);
    expect(plan.warnings.join()).toMatch(/generate alloy/);
  });

  it("SLES 16 with an agent newer than the releases whose 'generate alloy' output was checked: the toolkit renders trento.alloy alone (no ExecStartPre, no writing in turn), a warning", () => {
    for (const [version, script] of [
      ['3.1.0-1.1', true],
      ['3.1.7-1', true],
      ['3.2.0-1', false],
      ['4.0.0-1', false],
    ] as const) {
      const plan = planFor({ ...freshFacts('16.0'), agentCandidateVersion: version });
      expect(plan.changes.map((c) => c.id).includes(`file:${PATHS.configureAlloyScript}`), version).toBe(script);
      expect(plan.changes.find((c) => c.id === `file:${PATHS.agentDropIn}`)!.diff!.includes('ExecStartPre'), version).toBe(script);
      expect(plan.warnings.join(), version).toBe(
        script
          ? ''
          : `trento-agent ${version} is newer than the releases whose 'generate alloy' output trento-provision was checked against (below 3.2.0); trento.alloy is rendered by the toolkit alone and the agent unit gets no ExecStartPre, so the two never write it in turn`,
      );
    }
    // A converged 3.1 host whose agent is upgraded past them: the ExecStartPre and its script go.
    const converged31 = converged(freshFacts('16.0'), planFor(freshFacts('16.0')));
    const upgraded = planFor({ ...converged31, packages: { ...converged31.packages, 'trento-agent': '3.2.0-1' } });
    expect(upgraded.changes.map((c) => c.summary)).toEqual(
      expect.arrayContaining([`remove ${PATHS.configureAlloyScript}`, `update ${PATHS.agentDropIn} (0644 root:root)`]),
    );
  });

  it("a configure-alloy.sh that is not the toolkit's (a trento-agent release's own, without the toolkit's mark) is neither replaced, nor removed, nor run by the drop-in", () => {
    const script = (marked: boolean): FileFact => ({
      path: PATHS.configureAlloyScript,
      exists: true,
      owner: 'root',
      group: 'root',
      mode: '755',
      sha256: 'a'.repeat(64),
      marked,
    });
    const withScript = (facts: HostFacts, marked: boolean): HostFacts => ({
      ...facts,
      files: { ...facts.files, [PATHS.configureAlloyScript]: script(marked) },
    });
    const ids = (plan: HostPlan) => plan.changes.map((c) => c.id);
    const dropIn = (plan: HostPlan) => plan.changes.find((c) => c.id === `file:${PATHS.agentDropIn}`)!.diff!;

    const foreign = planFor(withScript(freshFacts('16.0'), false));
    expect(ids(foreign)).not.toContain(`file:${PATHS.configureAlloyScript}`);
    expect(dropIn(foreign)).not.toMatch(/ExecStartPre/);
    expect(foreign.warnings).toEqual([
      `${PATHS.configureAlloyScript} is not trento-provision's (it lacks the line "${TOOLKIT_MARK}": a trento-agent release's own?); it is left as it is, trento.alloy is rendered by the toolkit alone and the agent unit gets no ExecStartPre`,
    ]);
    // An agent without 'generate alloy' and an uninstall (--purge too) leave it alone as well.
    expect(ids(planFor({ ...withScript(freshFacts('16.0'), false), agentCandidateVersion: '3.0.2-1' }))).not.toContain(`file:${PATHS.configureAlloyScript}`);
    const installed = withScript(converged(freshFacts('16.0'), planFor(freshFacts('16.0'))), false);
    for (const purge of [false, true]) expect(ids(planFor(installed, { uninstall: true, purge }))).not.toContain(`file:${PATHS.configureAlloyScript}`);

    // The toolkit's own (an earlier release's content) is replaced, and removed on uninstall.
    const ours = planFor(withScript(freshFacts('16.0'), true));
    expect(ours.changes.find((c) => c.id === `file:${PATHS.configureAlloyScript}`)?.summary).toBe(`update ${PATHS.configureAlloyScript} (0755 root:root)`);
    expect(dropIn(ours)).toMatch(/ExecStartPre/);
    expect(ours.warnings).toEqual([]);
    expect(ids(planFor(withScript(converged(freshFacts('16.0'), planFor(freshFacts('16.0'))), true), { uninstall: true }))).toContain(
      `file:${PATHS.configureAlloyScript}`,
    );
  });

  it.each([
    ['a backslash', 'C:\\new-token'],
    ['a quote', 'tok"en'],
    ['a line break', 'tok\nen'],
  ])("SLES 16, a printed value with %s: no ExecStartPre (the agent's raw output would differ), a warning without the value", (_, token) => {
    const agent = { ...agentConfigFor(VARS, ORIGINS, 'push').config, 'prometheus-auth-bearer-token': token };
    const plan = planFor(freshFacts('16.0'), { agent });
    expect(plan.changes.map((c) => c.id)).not.toContain(`file:${PATHS.configureAlloyScript}`);
    expect(plan.changes.find((c) => c.id === `file:${PATHS.agentDropIn}`)!.diff).not.toMatch(/ExecStartPre/);
    expect(plan.warnings.join()).toMatch(/needs an escape .* that 'trento-agent generate alloy' does not write/);
    expect(JSON.stringify(plan.warnings)).not.toContain('tok');
    // Not printed with bearer auth: a password with a quote changes nothing.
    const unprinted = planFor(freshFacts('16.0'), { agent: { ...agent, 'prometheus-auth-bearer-token': 'plain', 'prometheus-auth-password': 'p"w' } });
    expect(unprinted.changes.map((c) => c.id)).toContain(`file:${PATHS.configureAlloyScript}`);
    expect(unprinted.warnings).toEqual([]);
  });

  it.each(['15.4', '16.0'])('a converged %s host plans nothing and restarts nothing', (version) => {
    const first = planFor(freshFacts(version));
    const second = planFor(converged(freshFacts(version), first));
    expect(second.changes.map((c) => c.summary)).toEqual([]);
    expect(second.handlers).toEqual([]);
  });

  it('secrets never appear in summaries, diffs or shown commands', () => {
    const plan = planFor(freshFacts('16.0'));
    const shown = JSON.stringify(plan.changes.map((c) => [c.summary, c.details, c.diff, toDisplay(c.script)]));
    expect(shown).not.toContain('SENTINEL');
    expect(toShell(plan.changes.find((c) => c.id === `file:${PATHS.agentConfig}`)!.script)).not.toContain('SENTINEL'); // base64 on the wire
  });

  it('an API key rotated in the same run as a visible change is said in the diff, not shown (its masked line reads as unchanged)', () => {
    const base = planFor(freshFacts('15.7'));
    const facts = converged(freshFacts('15.7'), base);
    const { config: agent } = agentConfigFor(VARS, ORIGINS, 'pull');
    const diffOf = (changes: Record<string, string>) =>
      planFor(facts, { agent: { ...agent!, ...changes } }).changes.find((c) => c.id === `file:${PATHS.agentConfig}`)?.diff ?? '';
    // the key alone: the file differs only inside the masked value
    expect(diffOf({ 'api-key': 'api-ROTATED-key' })).toContain(' (a secret value changed; not shown)');
    // the key and the server URL: the URL's lines, and the note that a secret changed too
    const both = diffOf({ 'api-key': 'api-ROTATED-key', 'server-url': 'https://trento2.example.com' });
    expect(both).toMatch(/^\+server-url: "https:\/\/trento2\.example\.com"$/m);
    expect(both).toMatch(/ \(a secret value changed too; not shown\)\n$/);
    expect(both).not.toContain('ROTATED');
    // the URL alone: no such note
    expect(diffOf({ 'server-url': 'https://trento2.example.com' })).not.toContain('a secret value changed');
  });

  it('a diff has the lines of context asked for ([diff] context, 3 by default), around the change alone', () => {
    const facts = converged(freshFacts('15.7'), planFor(freshFacts('15.7')));
    const { config: agent } = agentConfigFor(VARS, ORIGINS, 'pull');
    const diffWith = (context: number) =>
      planFor(facts, { agent: { ...agent!, 'server-url': 'https://trento2.example.com' }, withDiff: { context } }).changes.find(
        (c) => c.id === `file:${PATHS.agentConfig}`,
      )!.diff!;
    const lines = (diff: string) => diff.split('\n').filter((l) => l.startsWith(' ')).length;
    expect(lines(diffWith(0))).toBe(0);
    expect(lines(diffWith(1))).toBeGreaterThan(0);
    expect(lines(diffWith(3))).toBeGreaterThan(lines(diffWith(1)));
    expect(diffWith(0)).toMatch(/^\+server-url: "https:\/\/trento2\.example\.com"$/m);
    expect(
      planFor(facts, { agent: { ...agent!, 'server-url': 'https://trento2.example.com' }, withDiff: false }).changes.find(
        (c) => c.id === `file:${PATHS.agentConfig}`,
      )!.diff,
    ).toBeUndefined();
  });

  it("a trento.alloy left in Alloy's default folder after the admin pointed CONFIG_FILE at another is removed (its credentials would stay behind), said in a warning; once gone, nothing", () => {
    const elsewhere = (facts: HostFacts): HostFacts => ({
      ...facts,
      alloy: { ...facts.alloy, configFile: '/srv/alloy/', configIsDir: true, configDir: '/srv/alloy' },
    });
    const legacy: FileFact = {
      path: '/etc/alloy/trento.alloy',
      exists: true,
      owner: 'alloy',
      group: 'alloy',
      mode: '640',
      sha256: 'b'.repeat(64),
      content: 'prometheus.remote_write "trento" {\n  endpoint {\n    url = "https://old"\n  }\n}\n',
    };
    const facts = elsewhere(converged(elsewhere(freshFacts('16.0')), planFor(elsewhere(freshFacts('16.0')))));
    expect(facts.files['/srv/alloy/trento.alloy']?.exists).toBe(true);
    expect(planFor(facts).changes).toEqual([]);
    const left = planFor({ ...facts, files: { ...facts.files, [legacy.path]: legacy } });
    expect(left.changes.map((c) => c.summary)).toEqual(['remove /etc/alloy/trento.alloy']);
    // Reloaded: an Alloy started before the admin's edit still runs /etc/alloy, and its reload
    // would keep the old file; the handler puts it back should Alloy refuse.
    expect(left.handlers.map((h) => h.name)).toEqual(['reload alloy']);
    expect(toShell(left.handlers[0]!.script)).toContain('/etc/alloy/trento.alloy');
    expect(left.warnings).toEqual([
      "/etc/alloy/trento.alloy is Trento's, left from when Alloy loaded /etc/alloy/ (CONFIG_FILE now names /srv/alloy/): Alloy no longer loads it; it is removed, with the Trento credentials it holds",
    ]);
    // Not a file of another kind that has the name, nor where CONFIG_FILE spells the default
    // folder otherwise (/etc/alloy/.: the file Alloy loads).
    expect(planFor({ ...facts, files: { ...facts.files, [legacy.path]: { ...legacy, content: '// mine\n' } } }).changes).toEqual([]);
    const spelled = { ...facts, alloy: { ...facts.alloy, configDirIsDefault: true as const }, files: { ...facts.files, [legacy.path]: legacy } };
    expect(planFor(spelled).changes.map((c) => c.id)).not.toContain(`file:${legacy.path}`);
    expect(planFor(spelled, { uninstall: true }).changes.filter((c) => c.id === `file:${legacy.path}`)).toEqual([]);
    // In the default folder it is the file itself.
    expect(planFor(converged(freshFacts('16.0'), planFor(freshFacts('16.0')))).changes).toEqual([]);
  });

  it("uninstall where a file of the admin's in Alloy's folder uses Trento's pipeline: refused before any change (the reload would be refused once the agent is stopped); a stopped Alloy is told of", () => {
    const facts = converged(freshFacts('16.0'), planFor(freshFacts('16.0')));
    const errors = 'Error: /etc/alloy/admin.alloy:3:17: component "prometheus.remote_write.trento.receiver" does not exist or is out of scope';
    const depends = { ...facts, alloy: { ...facts.alloy, withoutTrentoRefused: errors } };
    const said = `Alloy would refuse /etc/alloy/ without trento.alloy: a file of yours there uses Trento's pipeline (alloy validate: ${errors}); `;
    expect(planFor(depends, { uninstall: true }).refusals).toEqual([
      `${said}change it so that it no longer refers to prometheus.remote_write.trento (or move it out of the folder), then run the uninstall again; nothing was changed`,
    ]);
    const stopped = { ...depends, units: { ...depends.units, 'alloy.service': { state: 'inactive', enabled: 'disabled' } } };
    const told = planFor(stopped, { uninstall: true });
    expect(told.refusals).toEqual([]);
    expect(told.warnings).toContain(`${said}Alloy, stopped now, would not start on what the uninstall leaves until that file is changed`);
    // Nothing to say once trento.alloy is gone (an earlier uninstall), nor without the facts' finding.
    const { [PATHS.alloyDefaultDir + '/trento.alloy']: _, ...withoutFile } = depends.files;
    expect(planFor({ ...depends, files: withoutFile }, { uninstall: true }).refusals).toEqual([]);
    expect(planFor(facts, { uninstall: true }).refusals).toEqual([]);
  });

  it('uninstall removes what the toolkit added, restores CONFIG_FILE and keeps Alloy', () => {
    const first = planFor(freshFacts('16.0'));
    const facts = converged(freshFacts('16.0'), first);
    facts.files[PATHS.savedAlloyConfigFile] = { path: PATHS.savedAlloyConfigFile, exists: true, content: 'CONFIG_FILE="/etc/alloy/config.alloy"\n' };
    facts.files[PATHS.alloySysconfig] = { path: PATHS.alloySysconfig, exists: true, content: 'CONFIG_FILE="/etc/alloy/"\n' };
    const plan = planFor(facts, { uninstall: true });
    const summaries = plan.changes.map((c) => c.summary);
    expect(summaries).toEqual([
      'stop trento-agent.service, disable trento-agent.service',
      `remove ${PATHS.agentDropIn}`,
      `remove ${PATHS.configureAlloyScript}`,
      'remove /etc/alloy/trento.alloy',
      'restore CONFIG_FILE in /etc/sysconfig/alloy to CONFIG_FILE="/etc/alloy/config.alloy"',
      `forget the saved CONFIG_FILE line (${PATHS.savedAlloyConfigFile}): Alloy runs on the restored line (once the checks pass)`,
      // Last, once Alloy is proven on what is left: a refused reload puts trento.alloy back, and
      // the agent it feeds is still installed.
      'remove supportutils-plugin-trento, trento-agent (installed by trento-provision) (once the checks pass)',
    ]);
    expect(plan.changes.at(-1)?.phase).toBe('retire');
    // The record goes only once Alloy is proven on the restored line: a restart that fails puts
    // the toolkit's line back, and the next uninstall needs the record to restore it again.
    expect(plan.changes.find((c) => c.summary.startsWith('forget the saved'))?.phase).toBe('retire');
    expect(plan.handlers.map((h) => h.name)).toEqual(['restart alloy']);
    expect(plan.checks.map((c) => c.name)).toContain('Alloy keeps running');
    // The drop-in's folder goes with it when nothing else is in it (then the units are reloaded).
    expect(toShell(plan.changes.find((c) => c.id === `file:${PATHS.agentDropIn}`)!.script)).toMatch(
      /^rm -f -- \S+ &&\nrmdir --ignore-fail-on-non-empty -- '?\/etc\/systemd\/system\/trento-agent\.service\.d'? &&\nsystemctl daemon-reload/u,
    );
    // Should Alloy refuse what is left, trento.alloy and the CONFIG_FILE line come back.
    expect(toShell(plan.changes.find((c) => c.id === 'file:/etc/alloy/trento.alloy')!.script)).toBe('tp_remove /etc/alloy/trento.alloy');
    expect(toShell(plan.handlers[0]!.script)).toBe('tp_alloy_apply restart absent /etc/alloy/trento.alloy /etc/sysconfig/alloy');

    // A file that had no CONFIG_FILE line (the record is empty): the one the toolkit added goes.
    const added = { ...facts, files: { ...facts.files, [PATHS.savedAlloyConfigFile]: { path: PATHS.savedAlloyConfigFile, exists: true, content: '\n' } } };
    expect(planFor(added, { uninstall: true }).changes.map((c) => c.summary)).toContain(
      'remove the CONFIG_FILE line trento-provision added to /etc/sysconfig/alloy (it had none)',
    );

    // The line the toolkit wrote is still there: restored. The admin set another since: it stays,
    // the records go, and nothing restarts Alloy for it.
    facts.files[PATHS.ownAlloyConfigLine] = { path: PATHS.ownAlloyConfigLine, exists: true, content: 'CONFIG_FILE="/etc/alloy/"\n' };
    expect(planFor(facts, { uninstall: true }).changes.map((c) => c.summary)).toContain(
      'restore CONFIG_FILE in /etc/sysconfig/alloy to CONFIG_FILE="/etc/alloy/config.alloy"',
    );
    const changed = {
      ...facts,
      files: { ...facts.files, [PATHS.alloySysconfig]: { path: PATHS.alloySysconfig, exists: true, content: 'CONFIG_FILE="/srv/pipelines/"\r\n' } },
    };
    const kept = planFor(changed, { uninstall: true });
    expect(kept.changes.map((c) => c.summary)).toContain(
      `forget the saved CONFIG_FILE line (${PATHS.savedAlloyConfigFile}): CONFIG_FILE in /etc/sysconfig/alloy was changed since trento-provision set it (CONFIG_FILE="/srv/pipelines/"), and stays`,
    );
    expect(kept.changes.map((c) => c.summary).join('\n')).not.toMatch(/restore CONFIG_FILE/);
    expect(kept.handlers.map((h) => h.name)).toEqual(['reload alloy']);

    // The folder holds a pipeline of the admin's that single-file mode would stop loading: the
    // line stays (Alloy keeps loading it), the record too, and the plan says why and what to do.
    const withAdmins = { ...facts, alloy: { ...facts.alloy, configDir: '/etc/alloy', droppedBySingleFile: ['admin.alloy'] } };
    const keptDir = planFor(withAdmins, { uninstall: true });
    expect(keptDir.changes.map((c) => c.summary).join('\n')).not.toMatch(/CONFIG_FILE/);
    expect(keptDir.warnings).toContain(
      `CONFIG_FILE in /etc/sysconfig/alloy stays CONFIG_FILE="/etc/alloy/" (directory mode): Alloy loads /etc/alloy/admin.alloy there, which the line trento-provision replaced (CONFIG_FILE="/etc/alloy/config.alloy") would stop loading; to go back to that line, move what they hold into the file it names (or out of the folder) and run the uninstall again (${PATHS.savedAlloyConfigFile} keeps the line)`,
    );
    expect(keptDir.handlers.map((h) => h.name)).toEqual(['reload alloy']);
    // The file the saved line names is not there (SUSE's package ships no config.alloy): Alloy
    // could not start on it, so a running Alloy keeps the folder, with a warning; a stopped one
    // (it reads the line when started, and failed on it before the toolkit too) gets the line.
    const noFile = { ...facts, alloy: { ...facts.alloy, singleFileMissing: '/etc/alloy/config.alloy' } };
    const keptNoFile = planFor(noFile, { uninstall: true });
    expect(keptNoFile.changes.map((c) => c.summary).join('\n')).not.toMatch(/CONFIG_FILE/);
    expect(keptNoFile.warnings).toContain(
      `CONFIG_FILE in /etc/sysconfig/alloy stays CONFIG_FILE="/etc/alloy/" (directory mode): the line trento-provision replaced (CONFIG_FILE="/etc/alloy/config.alloy") names /etc/alloy/config.alloy, which does not exist, so Alloy could not start on it; to go back to that line, create /etc/alloy/config.alloy (Alloy's configuration) and run the uninstall again (${PATHS.savedAlloyConfigFile} keeps the line)`,
    );
    expect(keptNoFile.handlers.map((h) => h.name)).toEqual(['reload alloy']);
    // Alloy would refuse that file alone (the facts' alloy validate: a config of the admin's that
    // uses Trento's component): as above, the folder stays for a running Alloy, with Alloy's words.
    const refusedFile = {
      ...facts,
      alloy: {
        ...facts.alloy,
        singleFileRefused: {
          file: '/etc/alloy/config.alloy',
          errors: 'Error: /etc/alloy/config.alloy:5:16: component "prometheus.remote_write.trento.receiver" does not exist',
        },
      },
    };
    const keptRefused = planFor(refusedFile, { uninstall: true });
    expect(keptRefused.changes.map((c) => c.summary).join('\n')).not.toMatch(/CONFIG_FILE/);
    expect(keptRefused.warnings).toContain(
      `CONFIG_FILE in /etc/sysconfig/alloy stays CONFIG_FILE="/etc/alloy/" (directory mode): Alloy would not load /etc/alloy/config.alloy alone, which the line trento-provision replaced (CONFIG_FILE="/etc/alloy/config.alloy") names (alloy validate: Error: /etc/alloy/config.alloy:5:16: component "prometheus.remote_write.trento.receiver" does not exist); to go back to that line, make /etc/alloy/config.alloy load on its own and run the uninstall again (${PATHS.savedAlloyConfigFile} keeps the line)`,
    );
    expect(keptRefused.handlers.map((h) => h.name)).toEqual(['reload alloy']);
    const stoppedRefused = { ...refusedFile, units: { ...refusedFile.units, 'alloy.service': { state: 'inactive', enabled: 'enabled' } } };
    expect(planFor(stoppedRefused, { uninstall: true }).changes.map((c) => c.summary)).toContain(
      'restore CONFIG_FILE in /etc/sysconfig/alloy to CONFIG_FILE="/etc/alloy/config.alloy"',
    );
    const stoppedNoFile = { ...noFile, units: { ...noFile.units, 'alloy.service': { state: 'inactive', enabled: 'enabled' } } };
    expect(planFor(stoppedNoFile, { uninstall: true }).changes.map((c) => c.summary)).toContain(
      'restore CONFIG_FILE in /etc/sysconfig/alloy to CONFIG_FILE="/etc/alloy/config.alloy"',
    );
    // --purge of the toolkit's Alloy that now loads a pipeline of the admin's: Alloy stays (it
    // would stop their pipeline with it), installed, running, in directory mode, and says why.
    const withAdminsOurs = {
      ...withAdmins,
      alloy: { ...withAdmins.alloy, adminPipelines: ['/etc/alloy/admin.alloy'] },
      record: { ...withAdmins.record, packages: [...withAdmins.record.packages, 'alloy'] },
    };
    const purged = planFor(withAdminsOurs, { uninstall: true, purge: true });
    expect(purged.changes.map((c) => c.summary).join('\n')).not.toMatch(/CONFIG_FILE|alloy\.service/);
    expect(purged.changes.flatMap((c) => c.details ?? []).filter((d) => d.startsWith('- package alloy '))).toEqual([]);
    expect(purged.handlers.map((h) => h.name)).toEqual(['reload alloy']);
    // and what it is checked for: running on, without Trento's pipeline
    expect(purged.checks.map((c) => c.name)).toEqual(expect.arrayContaining(['Alloy keeps running', 'Alloy no longer runs trento.alloy']));
    expect(purged.warnings[0]).toBe(
      "Alloy stays installed and running (reloaded without trento.alloy), though trento-provision installed it and --purge removes what it installed: it also loads /etc/alloy/admin.alloy, not trento-provision's, which would stop with it; to remove Alloy, move them away and run the uninstall with --purge again (or remove the package yourself)",
    );
    // The admin's pipeline in the very file the saved line names (their config.alloy, which
    // single-file mode loads too), or on a host whose line an earlier uninstall put back: the
    // facts name what Alloy loads that is not its package's own, and Alloy stays all the same.
    for (const alloy of [
      { ...withAdminsOurs.alloy, droppedBySingleFile: [], adminPipelines: ['/etc/alloy/config.alloy'] },
      { ...facts.alloy, configFile: '/etc/alloy/config.alloy', adminPipelines: ['/etc/alloy/config.alloy'] },
    ]) {
      const keptAlloy = planFor({ ...withAdminsOurs, alloy }, { uninstall: true, purge: true });
      expect(keptAlloy.changes.flatMap((c) => c.details ?? []).filter((d) => d.startsWith('- package alloy '))).toEqual([]);
      expect(keptAlloy.warnings.join('\n')).toMatch(/Alloy stays installed and running .*: it also loads \/etc\/alloy\/config\.alloy, not trento-provision's/);
    }
    // Once they are gone, --purge removes it and the line goes back.
    const purgedAlone = planFor(
      { ...withAdminsOurs, alloy: { ...withAdminsOurs.alloy, droppedBySingleFile: [], dormantFiles: [], adminPipelines: [] } },
      { uninstall: true, purge: true },
    );
    expect(purgedAlone.changes.map((c) => c.summary)).toContain('restore CONFIG_FILE in /etc/sysconfig/alloy to CONFIG_FILE="/etc/alloy/config.alloy"');
    expect(purgedAlone.changes.flatMap((c) => c.details ?? [])).toContainEqual(expect.stringMatching(/^- package alloy /));
    // (and the record is forgotten for what it is: Alloy goes, it runs on no line)
    expect(purgedAlone.changes.map((c) => c.summary)).toContain(
      `forget the saved CONFIG_FILE line (${PATHS.savedAlloyConfigFile}): /etc/sysconfig/alloy has it back as Alloy's package goes (--purge)`,
    );

    // The line is back already (an uninstall whose checks failed after the restore): the records
    // are forgotten, nothing is written or restarted for them.
    const restored = {
      ...facts,
      files: { ...facts.files, [PATHS.alloySysconfig]: { path: PATHS.alloySysconfig, exists: true, content: 'CONFIG_FILE="/etc/alloy/config.alloy"\n' } },
    };
    // (a line with blanks around it, as the admin wrote it, is the saved one too)
    restored.files[PATHS.alloySysconfig]!.content = '  CONFIG_FILE="/etc/alloy/config.alloy" \n';
    const back = planFor(restored, { uninstall: true });
    expect(back.changes.map((c) => c.summary)).toContain(`forget the saved CONFIG_FILE line (${PATHS.savedAlloyConfigFile}): /etc/sysconfig/alloy has it back`);
    expect(back.changes.map((c) => c.summary).join('\n')).not.toMatch(/restore CONFIG_FILE/);
    expect(back.changes.find((c) => c.summary.startsWith('forget the saved'))?.phase).toBeUndefined();
    // ... but where that uninstall's restart of Alloy did not finish (it runs now), only once
    // Alloy is proven on the line: a failing restart puts the toolkit's line back.
    const pendingRestart = { ...restored, record: { ...restored.record, pendingHandlers: ['restart alloy'] } };
    const retried = planFor(pendingRestart, { uninstall: true });
    expect(retried.handlers.map((h) => h.name)).toEqual(['restart alloy']);
    expect(retried.changes.find((c) => c.summary.startsWith('forget the saved'))?.phase).toBe('retire');

    // Alloy's package removed by the admin, its sysconfig with it: the saved line is forgotten,
    // nothing to restore (the restore would fail this uninstall and every later one).
    delete facts.files[PATHS.alloySysconfig];
    const gone = planFor(facts, { uninstall: true });
    expect(gone.changes.map((c) => c.summary)).toContain(
      `forget the saved CONFIG_FILE line (${PATHS.savedAlloyConfigFile}): /etc/sysconfig/alloy is gone, Alloy was removed`,
    );
    expect(gone.changes.map((c) => c.summary).join('\n')).not.toMatch(/restore CONFIG_FILE/);

    // An Alloy the admin had stopped is not asked to keep running (nor started by the restart).
    const stopped = { ...facts, units: { ...facts.units, 'alloy.service': { state: 'inactive', enabled: 'enabled' } } };
    const stoppedPlan = planFor(stopped, { uninstall: true });
    expect(stoppedPlan.checks.map((c) => c.name)).not.toContain('Alloy keeps running');
    // ... nor reloaded or restarted, in the plan either: it reads what is left when it starts
    expect(stoppedPlan.handlers.map((h) => h.name)).toEqual([]);
    expect(planFor(facts, { uninstall: true }).handlers.map((h) => h.name)).toContain('reload alloy');
  });
});

describe('a restart handler that will run starts its stopped unit: each unit starts once', () => {
  const AGENT_UNIT = 'trento-agent.service';
  const serviceChange = (plan: HostPlan, unit: string) => plan.changes.find((c) => c.id === `service:${unit}`);
  const everyScript = (plan: HostPlan) => [...plan.changes.map((c) => toShell(c.script)), ...plan.handlers.map((h) => toShell(h.script))].join('\n');

  it('cold SLES 16: Alloy and the agent are enabled by their changes and started by their restarts, after every file is written', () => {
    const plan = planFor(freshFacts('16.0'));
    expect(plan.handlers.map((h) => h.name)).toEqual(['restart alloy', 'restart trento-agent']);
    for (const [unit, handler] of [
      ['alloy.service', 'restart alloy'],
      [AGENT_UNIT, 'restart trento-agent'],
    ] as const) {
      const change = serviceChange(plan, unit)!;
      // The start is only recorded: the handler starts the unit, or the script does on a failure.
      expect(toShell(change.script)).toBe(`systemctl enable ${unit} &&\ntp_defer_start ${unit}`);
      expect(change.summary).toBe(`enable ${unit}, start ${unit} (by the handler '${handler}')`);
      expect(change.details).toEqual([`+ enable ${unit}`, `+ start ${unit} (by the handler '${handler}')`]);
    }
    const script = everyScript(plan);
    expect(script).not.toMatch(/tp_unit_start start (alloy|trento-agent)\.service/);
    expect(script.match(/tp_alloy_apply restart present/g)).toHaveLength(1);
    expect(script.match(/tp_unit_start restart trento-agent\.service/g)).toHaveLength(1);
    // Each handler takes its unit's start as it begins; every step's failure path starts what
    // is still deferred (a failed Alloy restart must not leave the agent stopped).
    const text = toShell(applyScript(plan, { zyppLockTimeoutSeconds: 60 }));
    expect(text).toMatch(/tp_deferred_taken alloy\.service\n\{\ntp_alloy_apply restart present/);
    expect(text).toMatch(/tp_deferred_taken trento-agent\.service\n\{\ntp_unit_start restart trento-agent\.service/);
    expect(text.match(/^tp_run \d+ tp_s\d+ \|\| (.*)$/gm)?.map((l) => l.replace(/^.*\|\| /, ''))).toEqual(
      Array(plan.changes.length + plan.handlers.length).fill('tp_fail_exit'),
    );
  });

  it('cold SLES 15: node_exporter, which nothing restarts, is started by its change; the agent by its restart', () => {
    const plan = planFor(freshFacts('15.7'));
    expect(toShell(serviceChange(plan, 'prometheus-node_exporter.service')!.script)).toMatch(/tp_unit_start start prometheus-node_exporter\.service$/);
    expect(toShell(serviceChange(plan, AGENT_UNIT)!.script)).toBe(`systemctl enable ${AGENT_UNIT} &&\ntp_defer_start ${AGENT_UNIT}`);
    expect(plan.handlers.map((h) => h.name)).toEqual(['restart trento-agent']);
  });

  it('an enabled, stopped agent whose configuration changes: its change only records the start, the restart makes it', () => {
    const fresh = freshFacts('15.7');
    const facts = converged(fresh, planFor(fresh));
    facts.units[AGENT_UNIT] = { state: 'inactive', enabled: 'enabled' };
    facts.files = { ...facts.files, [PATHS.agentConfig]: { ...facts.files[PATHS.agentConfig]!, sha256: 'other' } };
    const plan = planFor(facts);
    expect(plan.changes.map((c) => c.id)).toEqual([`file:${PATHS.agentConfig}`, `service:${AGENT_UNIT}`]);
    expect(serviceChange(plan, AGENT_UNIT)!.summary).toBe(`start ${AGENT_UNIT} (by the handler 'restart trento-agent')`);
    expect(toShell(serviceChange(plan, AGENT_UNIT)!.script)).toBe(`tp_defer_start ${AGENT_UNIT}`);
    expect(plan.handlers.map((h) => h.name)).toEqual(['restart trento-agent']);
  });

  it('a stopped agent with nothing else to change is started by its change (no handler)', () => {
    const fresh = freshFacts('15.7');
    const facts = converged(fresh, planFor(fresh));
    facts.units[AGENT_UNIT] = { state: 'inactive', enabled: 'enabled' };
    const plan = planFor(facts);
    expect(plan.changes.map((c) => toShell(c.script))).toEqual([`tp_unit_start start ${AGENT_UNIT}`]);
    expect(plan.handlers).toEqual([]);
  });

  it('uninstall stops an agent waiting for its Restart= (activating): disabled only, it would come back; the facts do not prove it stopped', () => {
    const fresh = freshFacts('15.7');
    const facts = converged(fresh, planFor(fresh));
    facts.units[AGENT_UNIT] = { state: 'activating', enabled: 'enabled' };
    const plan = planFor(facts, { uninstall: true });
    expect(toShell(serviceChange(plan, AGENT_UNIT)!.script)).toBe(`systemctl stop ${AGENT_UNIT} &&\nsystemctl disable ${AGENT_UNIT}`);
    const stopped = plan.checks.find((c) => c.name === 'trento-agent is stopped')!;
    expect(stopped.heldByFacts).toBe(false);
    expect(toShell(stopped.script)).toBe(`tp_verify 'trento-agent is stopped' tp_unit_stopped ${AGENT_UNIT}`);
    // reloading: running (systemctl is-active answers 0); nothing to start on install
    facts.units[AGENT_UNIT] = { state: 'reloading', enabled: 'enabled' };
    expect(planFor(facts).changes.map((c) => c.id)).not.toContain(`service:${AGENT_UNIT}`);
    // failed: no process, nothing restarts it; only disabled
    facts.units[AGENT_UNIT] = { state: 'failed', enabled: 'enabled' };
    const failed = planFor(facts, { uninstall: true });
    expect(toShell(serviceChange(failed, AGENT_UNIT)!.script)).toBe(`systemctl disable ${AGENT_UNIT}`);
    expect(failed.checks.find((c) => c.name === 'trento-agent is stopped')!.heldByFacts).toBe(true);
  });

  it('a unit the plan must enable or start that the admin masked refuses the host (never unmasked); uninstall and a masked unit left alone do not', () => {
    const fresh = freshFacts('15.7');
    expect(planFor(fresh).refusals).toEqual([]);
    fresh.units['prometheus-node_exporter.service'] = { state: 'inactive', enabled: 'masked' };
    expect(planFor(fresh).refusals).toEqual([
      "prometheus-node_exporter.service is masked (systemctl mask): systemd will neither enable nor start it, and trento-provision does not unmask what an admin masked; run 'systemctl unmask prometheus-node_exporter.service' on the host if Trento's monitoring is to use it, then run again",
    ]);
    // uninstall stops and disables, which a mask does not get in the way of
    const converged16 = converged(freshFacts('16.0'), planFor(freshFacts('16.0')));
    converged16.units[AGENT_UNIT] = { state: 'inactive', enabled: 'masked' };
    expect(planFor(converged16, { uninstall: true }).refusals).toEqual([]);
    // masked for this boot only (systemctl mask --runtime): refused alike
    fresh.units['prometheus-node_exporter.service'] = { state: 'inactive', enabled: 'masked-runtime' };
    expect(planFor(fresh).refusals).toHaveLength(1);
    // a SLES 16 host whose node_exporter is masked: nothing starts it there
    converged16.units['prometheus-node_exporter.service'] = { state: 'inactive', enabled: 'masked' };
    expect(planFor(converged16, { uninstall: true }).refusals).toEqual([]);
    expect(planFor(converged16).refusals.map((r) => r.split(' ')[0])).toEqual([AGENT_UNIT]);
  });

  it('agent_install_monitoring_dep: false on a SLES 16 host without Alloy refuses the host before any change (trento.alloy would be written for an alloy account that is not there)', () => {
    const fresh = freshFacts('16.0');
    expect(planFor(fresh, { installMonitoringDep: false }).refusals).toEqual([
      'Alloy is not installed (no /etc/sysconfig/alloy) and agent_install_monitoring_dep is false, which leaves installing it to you: install the alloy package, or set agent_install_monitoring_dep: true, and run again',
    ]);
    // The run installs it (the default), or the admin did: no refusal.
    expect(planFor(fresh).refusals).toEqual([]);
    const admins = {
      ...fresh,
      packages: { ...fresh.packages, alloy: '1.9.2-1' },
      files: { ...fresh.files, [PATHS.alloySysconfig]: { path: PATHS.alloySysconfig, exists: true, content: 'CONFIG_FILE="/etc/alloy/config.alloy"\n' } },
    };
    expect(planFor(admins, { installMonitoringDep: false }).refusals).toEqual([]);
    // Uninstall is never refused for it.
    expect(planFor(fresh, { installMonitoringDep: false, uninstall: true }).refusals).toEqual([]);
    // The package there, its sysconfig gone: said so.
    expect(planFor({ ...fresh, packages: { ...fresh.packages, alloy: '1.9.2-1' } }, { installMonitoringDep: false }).refusals).toEqual([
      '/etc/sysconfig/alloy is missing, though the alloy package is installed, and agent_install_monitoring_dep is false: put it back (zypper install --force alloy) and run again',
    ]);
  });

  it('CONFIG_FILE naming a file whose name does not end in .alloy refuses the host before any change: directory mode would stop loading it', () => {
    const fresh = freshFacts('16.0');
    const river = { ...fresh, alloy: { ...fresh.alloy, configFile: '/etc/alloy/config.river', configFileNotAlloy: true } };
    expect(planFor(river).refusals).toEqual([
      "Alloy's CONFIG_FILE in /etc/sysconfig/alloy is /etc/alloy/config.river, whose name does not end in .alloy: Trento's trento.alloy needs Alloy to load its folder, and Alloy loads only the *.alloy files of a folder, so that file would stop being loaded; rename it to a NAME.alloy in the same folder and point CONFIG_FILE at the new name (or at the folder), restart Alloy, and run again",
    ]);
    // A *.alloy file, or a folder already: nothing is dropped, no refusal. Uninstall is never refused for it.
    expect(planFor({ ...fresh, alloy: { ...fresh.alloy, configFile: '/etc/alloy/config.alloy' } }).refusals).toEqual([]);
    expect(planFor({ ...river, alloy: { ...river.alloy, configIsDir: true } }).refusals).toEqual([]);
    expect(planFor(river, { uninstall: true }).refusals).toEqual([]);
  });

  it('a unit systemctl enable leaves as it is (static: no [Install], generated, transient, indirect, alias) gets no enable, so the run converges', () => {
    const fresh = freshFacts('15.7');
    const facts = converged(fresh, planFor(fresh));
    for (const enabled of ['static', 'generated', 'transient', 'indirect', 'alias']) {
      facts.units[AGENT_UNIT] = { state: 'active', enabled };
      expect(
        planFor(facts).changes.map((c) => c.id),
        enabled,
      ).toEqual([]);
    }
    // enabled for this boot only: made lasting, once
    facts.units[AGENT_UNIT] = { state: 'active', enabled: 'enabled-runtime' };
    expect(planFor(facts).changes.map((c) => c.summary)).toEqual([`enable ${AGENT_UNIT}`]);
  });

  it('a stopped Alloy whose trento.alloy changes is started once, by its restart handler after every file is written, not started then reloaded (a reload right after the start asked an Alloy not yet listening)', () => {
    const fresh = freshFacts('16.0');
    const facts = converged(fresh, planFor(fresh));
    facts.units['alloy.service'] = { state: 'inactive', enabled: 'enabled' };
    const alloyFile = '/etc/alloy/trento.alloy';
    facts.files = { ...facts.files, [alloyFile]: { ...facts.files[alloyFile]!, sha256: 'other' } };
    const plan = planFor(facts);
    expect(toShell(serviceChange(plan, 'alloy.service')!.script)).toBe('tp_defer_start alloy.service');
    expect(plan.handlers.map((h) => h.name)).toEqual(['restart alloy']);
    // A running Alloy is reloaded, as before.
    facts.units['alloy.service'] = { state: 'active', enabled: 'enabled' };
    expect(planFor(facts).handlers.map((h) => h.name)).toEqual(['reload alloy']);
  });
});

describe('role switches come resolved from the settings layer (issue 14)', () => {
  it('agent_install_monitoring_dep false: no node_exporter package and no service change on a pull host', () => {
    const plan = planFor(freshFacts('15.7'), { installMonitoringDep: false, supportutils: { enabled: false, updateCache: true } });
    expect(plan.changes[0]!.summary).toBe('install trento-agent');
    expect(plan.changes.map((c) => c.id)).not.toContain('service:prometheus-node_exporter.service');
  });
});

describe('hostile or broken hosts (issue 17)', () => {
  it('uninstall --purge removes only the packages the toolkit recorded, never with --clean-deps', () => {
    const first = planFor(freshFacts('15.7'));
    const facts = converged(freshFacts('15.7'), first);
    facts.record.packages = ['trento-agent']; // node_exporter was the admin's
    const plan = planFor(facts, { uninstall: true, purge: true });
    const remove = plan.changes.find((c) => c.id === 'packages:remove')!;
    expect(toShell(remove.script)).toBe('tp_packages_remove trento-agent');
    expect(JSON.stringify(plan.changes.map((c) => toShell(c.script)))).not.toContain('clean-deps');
    expect(plan.warnings.join('\n')).toMatch(/golang-github-prometheus-node_exporter was not installed by trento-provision/);
    // Nor is the admin's node_exporter stopped or disabled: their package, their service.
    expect(plan.changes.map((c) => c.id)).not.toContain('service:prometheus-node_exporter.service');
  });

  it("uninstall --purge removes rpm's copy of agent.yaml (agent.yaml.rpmsave, the API key in it) that an earlier uninstall left; plain uninstall leaves it", () => {
    const facts = converged(freshFacts('15.7'), planFor(freshFacts('15.7')));
    facts.files[PATHS.agentConfigSavedByRpm] = {
      path: PATHS.agentConfigSavedByRpm,
      exists: true,
      sha256: 'x',
      owner: 'root',
      group: 'root',
      mode: '600',
    };
    expect(planFor(facts, { uninstall: true, purge: true }).changes.map((c) => c.summary)).toContain(`remove ${PATHS.agentConfigSavedByRpm}`);
    expect(planFor(facts, { uninstall: true }).changes.map((c) => c.summary)).not.toContain(`remove ${PATHS.agentConfigSavedByRpm}`);
    // The package's new default rpm left beside the toolkit's file after an upgrade: --purge too.
    facts.files[PATHS.agentConfigNewFromRpm] = { ...facts.files[PATHS.agentConfigSavedByRpm]!, path: PATHS.agentConfigNewFromRpm };
    expect(planFor(facts, { uninstall: true, purge: true }).changes.map((c) => c.summary)).toContain(`remove ${PATHS.agentConfigNewFromRpm}`);
    expect(planFor(facts, { uninstall: true }).changes.map((c) => c.summary)).not.toContain(`remove ${PATHS.agentConfigNewFromRpm}`);
    // An admin's trento-agent (not in the record) stays installed, and keeps its files.
    const admins = { ...facts, record: { ...facts.record, packages: facts.record.packages.filter((p) => p !== 'trento-agent') } };
    expect(planFor(admins, { uninstall: true, purge: true }).changes.map((c) => c.summary)).not.toContain(`remove ${PATHS.agentConfigNewFromRpm}`);
  });

  it('uninstall --purge removes the folders the toolkit made for its files once they hold nothing else, after the checks; not one a package owns, one holding a file of the admin, nor without --purge', () => {
    const facts = converged(freshFacts('16.0'), planFor(freshFacts('16.0')));
    expect(facts.files[PATHS.agentConfig]?.exists).toBe(true);
    const withFolder = (fact: { ownedByPackage: boolean; entries: string[] }) => ({ ...facts, folders: { '/etc/trento': fact } });
    const folderChange = (f: HostFacts, purge = true) => planFor(f, { uninstall: true, purge }).changes.find((c) => c.id === 'folder:/etc/trento');
    const removed = folderChange(withFolder({ ownedByPackage: false, entries: ['agent.yaml'] }));
    expect(removed?.summary).toBe('remove the folder /etc/trento, empty once its files are gone');
    expect(removed?.phase).toBe('retire');
    expect(toShell(removed!.script)).toBe('rmdir --ignore-fail-on-non-empty -- /etc/trento');
    expect(folderChange(withFolder({ ownedByPackage: false, entries: ['agent.yaml'] }), false)).toBeUndefined();
    expect(folderChange(withFolder({ ownedByPackage: true, entries: ['agent.yaml'] }))).toBeUndefined();
    expect(folderChange(withFolder({ ownedByPackage: false, entries: ['agent.yaml', 'site.conf'] }))).toBeUndefined();
    // An empty folder no package owns goes; the facts read none elsewhere (only PURGED_FOLDERS).
    expect(folderChange(withFolder({ ownedByPackage: false, entries: [] }))).toBeDefined();
    expect(folderChange(facts)).toBeUndefined();
  });

  it('uninstall removes what a killed agent start left (configure-alloy.sh staging folders) after stopping the agent; an install never does', () => {
    const facts = { ...converged(freshFacts('16.0'), planFor(freshFacts('16.0'))), agentLeftovers: ['/etc'] };
    const ids = planFor(facts, { uninstall: true }).changes.map((c) => c.id);
    expect(ids).toContain('leftovers:configure-alloy');
    expect(ids.indexOf('service:trento-agent.service')).toBeGreaterThanOrEqual(0);
    expect(ids.indexOf('leftovers:configure-alloy')).toBeGreaterThan(ids.indexOf('service:trento-agent.service'));
    expect(planFor(facts).changes.map((c) => c.id)).not.toContain('leftovers:configure-alloy');
  });

  it("staging folders a run holding the host's lock is using now are its own: no removal planned, and said (an apply now stops at the lock)", () => {
    const facts = { ...converged(freshFacts('16.0'), planFor(freshFacts('16.0'))), leftovers: ['/etc/trento'] };
    expect(planFor(facts).changes.map((c) => c.id)).toContain('leftovers');
    const live = planFor({ ...facts, leftoversLive: true as const });
    expect(live.changes.map((c) => c.id)).not.toContain('leftovers');
    expect(live.warnings).toContain(
      "another trento-provision run is applying on this host now (it holds the host's lock): the staging folders in /etc/trento are its own, and this plan may be stale when it ends; an apply now stops at that lock (exit 11): run again once it has finished",
    );
  });

  it('a plain uninstall that removes the agent package says where agent.yaml and its API key stay (rpm renames it on SLES 15); not with --purge, nor where the package stays', () => {
    const facts = converged(freshFacts('15.7'), planFor(freshFacts('15.7')));
    const said = `${PATHS.agentConfig} stays, with the API key in it (the package shipped it: rpm keeps it as ${PATHS.agentConfigSavedByRpm} when trento-agent is removed); --purge removes it`;
    expect(planFor(facts, { uninstall: true }).warnings).toContain(said);
    expect(planFor(facts, { uninstall: true, purge: true }).warnings).not.toContain(said);
    // The admin's trento-agent (not in the record) is not removed: agent.yaml stays where it is.
    expect(planFor({ ...facts, record: { ...facts.record, packages: [] } }, { uninstall: true }).warnings).not.toContain(said);
    // SLES 16's package does not ship agent.yaml: no word of rpm's copy there.
    const sixteen = converged(freshFacts('16.0'), planFor(freshFacts('16.0')));
    expect(planFor(sixteen, { uninstall: true }).warnings).toContain(`${PATHS.agentConfig} stays, with the API key in it; --purge removes it`);
  });

  it("install runs name rpm's saved agent.yaml (an old API key) and a CA anchor the toolkit wrote that the settings no longer ask for; neither is removed", () => {
    const facts = converged(freshFacts('15.7'), planFor(freshFacts('15.7')));
    expect(planFor(facts).warnings).toEqual([]);
    const saved = { ...facts, files: { ...facts.files, [PATHS.agentConfigSavedByRpm]: { path: PATHS.agentConfigSavedByRpm, exists: true } } };
    const plan = planFor(saved);
    expect(plan.changes).toEqual([]);
    expect(plan.warnings).toEqual([
      expect.stringMatching(new RegExp(`^${PATHS.agentConfigSavedByRpm} \\(rpm's copy of an earlier agent.yaml\\) is still there and may hold an old API key`)),
    ]);

    const withCa = converged(freshFacts('15.7'), planFor(freshFacts('15.7'), { serverCaPem: CA_PEM }));
    withCa.record.files = [PATHS.serverCaCert];
    expect(planFor(withCa, { serverCaPem: CA_PEM }).warnings).toEqual([]);
    const dropped = planFor(withCa);
    expect(dropped.changes).toEqual([]);
    expect(dropped.warnings).toEqual([
      expect.stringMatching(/trento-server-ca\.pem, the CA trento-provision wrote for agent_server_ca_cert, is still trusted by the whole host/),
    ]);
    // One the admin put there (not in the record) is theirs: no word.
    expect(planFor({ ...withCa, record: { ...withCa.record, files: [] } }).warnings).toEqual([]);
  });

  it("uninstall --purge leaves an Alloy the admin installed running and enabled (its own pipelines); the toolkit's is stopped", () => {
    const facts = converged(freshFacts('16.0'), planFor(freshFacts('16.0')));
    facts.record.packages = ['trento-agent']; // Alloy was the admin's
    const admins = planFor(facts, { uninstall: true, purge: true });
    expect(admins.changes.map((c) => c.id)).not.toContain('service:alloy.service');
    expect(admins.warnings.join('\n')).toMatch(/alloy was not installed by trento-provision/);
    // trento.alloy still goes, and Alloy (kept running) reloads without it.
    expect(admins.changes.map((c) => c.summary).join('\n')).toMatch(/remove \/etc\/alloy\/trento\.alloy/);
    expect(admins.handlers.map((h) => h.name)).toContain('reload alloy');
    facts.record.packages = ['alloy', 'trento-agent'];
    const toolkits = planFor(facts, { uninstall: true, purge: true });
    expect(toolkits.changes.map((c) => c.summary)).toContain('stop alloy.service, disable alloy.service');
  });

  it('the install step records what it installed and names, per package, what to do when a repository lacks it', () => {
    const install = planFor(freshFacts('16.0'), { supportutils: { enabled: false, updateCache: true } }).changes[0]!;
    expect(toShell(install.script)).toBe(
      "tp_packages_install alloy 'enable the channel that ships it (zypper repos, SUSEConnect --status), or set agent_install_monitoring_dep: false and run Alloy yourself'" +
        " trento-agent 'enable the channel that ships Trento'\\''s agent (SLES for SAP: the SAP Applications module; zypper repos, SUSEConnect --status)'",
    );
  });

  it('a handler an earlier run left pending runs again on an otherwise converged host', () => {
    const first = planFor(freshFacts('15.4'));
    const facts = converged(freshFacts('15.4'), first);
    facts.record.pendingHandlers = ['restart trento-agent', 'no such handler'];
    const plan = planFor(facts);
    expect(plan.changes).toEqual([]);
    expect(plan.handlers.map((h) => h.name)).toEqual(['restart trento-agent']);
    expect(plan.warnings.join()).toMatch(/'restart trento-agent' did not finish in an earlier run/);
  });

  it("a pending handler no role of this host has now (node_exporter's restart on a host moved to SLES 16) is forgotten once, not kept for good", () => {
    const facts = converged(freshFacts('16.0'), planFor(freshFacts('16.0')));
    facts.record.pendingHandlers = ['restart node_exporter'];
    const plan = planFor(facts);
    const forget = plan.changes.find((c) => c.id === 'record:pending-handlers')!;
    expect(forget.summary).toBe("forget the pending 'restart node_exporter' (recorded by an earlier run that did not finish; no role of this host has it now)");
    expect(toShell(forget.script)).toBe("tp_handler_done 'restart node_exporter'");
    expect(plan.handlers).toEqual([]);
    facts.record.pendingHandlers = [];
    expect(planFor(facts).changes).toEqual([]);
  });

  it('a change records its handlers and its follow-up before it runs; the follow-up clears its own record once it ran', () => {
    const plan = planFor(freshFacts('15.7'));
    const text = toShell(applyScript(plan, { zyppLockTimeoutSeconds: 60 }));
    const dropIn =
      /tp_handlers_pending_add 'reload systemd units' 'restart trento-agent' && \{\ntp_write \/etc\/systemd\/system\/trento-agent\.service\.d\/trento-provision\.conf [^\n]*\nsystemctl daemon-reload &&\ntp_handler_done 'reload systemd units'\n\}/;
    expect(text).toMatch(dropIn);
    expect(text).toMatch(/tp_handlers_pending_add 'restart trento-agent' && \{\ntp_write \/etc\/trento\/agent\.yaml /);
    // Run at once by its change, so not again among the handlers.
    expect(plan.handlers.map((h) => h.name)).toEqual(['restart trento-agent']);
  });

  it('a change notifying a handler the plan runs a superseding one for (reload alloy, when restart alloy runs) records it before it runs; the restart clears both', () => {
    const plan = planFor(freshFacts('16.0'), { serverCaPem: CA_PEM });
    expect(plan.handlers.map((h) => h.name)).toContain('restart alloy');
    expect(plan.handlers.map((h) => h.name)).not.toContain('reload alloy');
    const text = toShell(applyScript(plan, { zyppLockTimeoutSeconds: 60 }));
    // trento.alloy's write owes Alloy a reload: recorded, for the restart that will do it to clear
    expect(text).toMatch(/tp_handlers_pending_add 'reload alloy' && \{\ntp_validate_new\(\) \{\n[^}]*\}\ntp_write \/etc\/alloy\/trento\.alloy /);
    expect(text).toMatch(/\} && tp_handler_done 'restart alloy' 'reload alloy'/);
  });

  it('a follow-up an earlier run recorded (its change was cut short after the write) runs as a handler, before the restart', () => {
    const facts = converged(freshFacts('15.7'), planFor(freshFacts('15.7'), { serverCaPem: CA_PEM }));
    facts.record.pendingHandlers = ['rebuild trust store', 'reload systemd units', 'restart trento-agent'];
    const plan = planFor(facts, { serverCaPem: CA_PEM });
    expect(plan.changes).toEqual([]);
    expect(plan.handlers.map((h) => h.name)).toEqual(['reload systemd units', 'rebuild trust store', 'restart trento-agent']);
    const text = toShell(applyScript(plan, { zyppLockTimeoutSeconds: 60 }));
    expect(text).toMatch(/\{\nsystemctl daemon-reload\n\} && tp_handler_done 'reload systemd units'/);
    expect(text).toMatch(/\{\nupdate-ca-certificates\n\} && tp_handler_done 'rebuild trust store'/);
    // Uninstall drops the agent's restart (it is stopped), not the follow-ups.
    const uninstall = planFor(facts, { uninstall: true });
    expect(uninstall.handlers.map((h) => h.name)).toEqual(['reload systemd units', 'rebuild trust store']);
    // ... and forgets the restart (its record cleared), without announcing it as running again.
    const forget = uninstall.changes.find((c) => c.id === 'record:pending-handlers')!;
    expect(toShell(forget.script)).toBe("tp_handler_done 'restart trento-agent'");
    expect(uninstall.warnings.join('\n')).not.toMatch(/'restart trento-agent' did not finish/);
    expect(uninstall.warnings.join('\n')).toMatch(/'rebuild trust store' did not finish in an earlier run/);
  });

  it("uninstall --purge of the toolkit's Alloy forgets a pending Alloy restart it has nothing to run for", () => {
    const facts = converged(freshFacts('16.0'), planFor(freshFacts('16.0')));
    facts.record.packages = ['alloy', 'trento-agent'];
    facts.record.pendingHandlers = ['restart alloy'];
    const plan = planFor(facts, { uninstall: true, purge: true });
    expect(plan.handlers.map((h) => h.name)).not.toContain('restart alloy');
    expect(toShell(plan.changes.find((c) => c.id === 'record:pending-handlers')!.script)).toBe("tp_handler_done 'restart alloy'");
    expect(plan.warnings.join('\n')).not.toMatch(/'restart alloy'/);
    // Without --purge Alloy stays and its handlers run: nothing forgotten.
    const kept = planFor(facts, { uninstall: true });
    expect(kept.changes.map((c) => c.id)).not.toContain('record:pending-handlers');
  });

  it('owner or mode alone are fixed by writing the file anew, never chown/chmod by path', () => {
    const first = planFor(freshFacts('16.0'));
    const facts = converged(freshFacts('16.0'), first);
    facts.files['/etc/alloy/trento.alloy'] = { ...facts.files['/etc/alloy/trento.alloy']!, owner: 'root', mode: '644' };
    const plan = planFor(facts);
    const fix = plan.changes.find((c) => c.id === 'file:/etc/alloy/trento.alloy')!;
    expect(fix.summary).toBe('fix owner/mode (was root:alloy 644) /etc/alloy/trento.alloy (0640 alloy:alloy)');
    expect(toShell(fix.script)).toMatch(/^tp_validate_new\(\) \{[\s\S]*tp_write \/etc\/alloy\/trento.alloy alloy alloy 0640 /m);
    expect(toShell(fix.script)).not.toMatch(/chown|chmod/);
    // With new content too, the owner and mode it had are still said: a 0644 agent.yaml had its
    // API key readable by every user, which a drift report must not leave unsaid.
    const agentYaml = facts.files['/etc/trento/agent.yaml']!;
    facts.files['/etc/trento/agent.yaml'] = {
      ...agentYaml,
      owner: 'nobody',
      mode: '644',
      sha256: 'drifted',
      content: `${agentYaml.content}log-level: debug\n`,
    };
    expect(planFor(facts).changes.find((c) => c.id === 'file:/etc/trento/agent.yaml')!.summary).toBe(
      'update, fix owner/mode (was nobody:root 644) /etc/trento/agent.yaml (0600 root:root)',
    );
  });
});

describe('versions', () => {
  it.each([
    ['3.1.0-1.1', true],
    ['3.0.2-1', false],
    ['3.10.0', true],
    ['4.0', true],
    ['2.9.9', false],
    // an epoch, as zypper prints a candidate's version
    ['1:3.1.0-1.1', true],
    ['2:3.0.2-1', false],
  ])('%s has generate alloy: %s', (v, yes) => expect(versionAtLeast(v, '3.1.0')).toBe(yes));
});

describe('verify: a push host must prove that Alloy delivers (issue 7)', () => {
  it('waits one scrape interval + 10 s for a delivery on install, not on uninstall', () => {
    const install = toShell(checksScript(planFor(freshFacts('16.0')).checks));
    expect(install).toMatch(/tp_verify 'Alloy delivers metrics to the remote-write URL' tp_alloy_delivers 25\b/);
    const pull = toShell(checksScript(planFor(freshFacts('15.5')).checks));
    expect(pull).not.toContain('tp_alloy_delivers');
    const facts = { ...freshFacts('16.0'), packages: { alloy: '1.9.2-1.1', 'trento-agent': '3.1.0-1.1' } };
    expect(toShell(checksScript(planFor(facts, { uninstall: true }).checks))).not.toContain('tp_alloy_delivers');
  });

  it('the wait follows agent_prometheus_scrape_interval', () => {
    expect(deliveryWaitSeconds({ 'prometheus-mode': 'push', 'prometheus-scrape-interval': '2s' })).toBe(12);
    expect(deliveryWaitSeconds({ 'prometheus-mode': 'push', 'prometheus-scrape-interval': '1m30s' })).toBe(100);
    expect(deliveryWaitSeconds({ 'prometheus-mode': 'push', 'prometheus-scrape-interval': '500ms' })).toBe(11);
    expect(deliveryWaitSeconds({ 'prometheus-mode': 'push' })).toBe(25);
  });
});

describe('a converged host is proven by its facts: one round trip (issue 12 item 1)', () => {
  const NOW = 1_800_000_000;
  const serving = { nodeExporterServes: true, alloyReady: true, alloyRunsTrento: true, alloyLastSent: NOW - 5, hostNow: NOW, alloyFailed: 0 };
  const convergedFor = (version: string) => {
    const fresh = freshFacts(version);
    return converged(fresh, planFor(fresh));
  };

  it.each(['15.7', '16.0'])('SLES %s: every check holds in the facts, nothing to change: no second round trip', (version) => {
    const facts = { ...convergedFor(version), probes: serving };
    const plan = planFor(facts);
    expect(plan.changes).toEqual([]);
    expect(plan.checks.map((c) => [c.name, c.heldByFacts])).toEqual(plan.checks.map((c) => [c.name, true]));
    expect(provenByFacts(plan)).toBe(true);
  });

  it('a provider that did not answer, or an Alloy without trento.alloy, needs the checks on the host', () => {
    const pull = convergedFor('15.7');
    expect(provenByFacts(planFor({ ...pull, probes: { ...serving, nodeExporterServes: false } }))).toBe(false);
    expect(provenByFacts(planFor({ ...pull, probes: {} }))).toBe(false);
    const push = convergedFor('16.0');
    expect(provenByFacts(planFor({ ...push, probes: { ...serving, alloyReady: false } }))).toBe(false);
    expect(provenByFacts(planFor({ ...push, probes: { ...serving, alloyRunsTrento: false } }))).toBe(false);
    // a recent sent timestamp with batches refused for good (it moves after those too): checked
    // on the host, which waits for a batch delivered; so is an Alloy whose count is unknown
    expect(provenByFacts(planFor({ ...push, probes: { ...serving, alloyFailed: 3 } }))).toBe(false);
    const { alloyFailed: _unknown, ...noCount } = serving;
    expect(provenByFacts(planFor({ ...push, probes: noCount }))).toBe(false);
  });

  it("the agent's unit files changed on disk without a daemon-reload (NeedDaemonReload): systemd reads them again and the agent restarts, though nothing is written", () => {
    const push = convergedFor('16.0');
    const agent = push.units['trento-agent.service']!;
    const stale = planFor({ ...push, probes: serving, units: { ...push.units, 'trento-agent.service': { ...agent, needsReload: true } } });
    expect(stale.changes).toEqual([]);
    expect(stale.handlers.map((h) => h.name)).toEqual(['reload systemd units', 'restart trento-agent']);
    expect(stale.warnings.join()).toMatch(/trento-agent\.service's unit files changed on disk since systemd read them \(NeedDaemonReload\)/);
    // not on uninstall, where the agent is stopped and its drop-in removed
    expect(
      planFor(
        { ...push, probes: serving, units: { ...push.units, 'trento-agent.service': { ...agent, needsReload: true } } },
        { uninstall: true },
      ).handlers.map((h) => h.name),
    ).not.toContain('restart trento-agent');
  });

  it('Alloy running a pipeline its files no longer give it: the reload is due though nothing changes, with why; not where a change reloads it anyway, nor with Alloy down', () => {
    const push = convergedFor('16.0');
    // Install: trento.alloy in place, Alloy ready without Trento's pipeline.
    const without = planFor({ ...push, probes: { ...serving, alloyRunsTrento: false } });
    expect(without.changes).toEqual([]);
    expect(without.handlers.map((h) => h.name)).toEqual(['reload alloy']);
    expect(without.warnings.join()).toMatch(
      /Alloy is running without Trento's pipeline \(prometheus\.remote_write\.trento\), though trento\.alloy is as it should be: it is reloaded/,
    );
    // Uninstall: trento.alloy already gone (by hand), Alloy still running Trento's pipeline.
    const gone = { ...push, files: { ...push.files, '/etc/alloy/trento.alloy': { path: '/etc/alloy/trento.alloy', exists: false } } };
    const stale = planFor({ ...gone, probes: serving }, { uninstall: true });
    expect(stale.changes.map((c) => c.summary).join('\n')).not.toMatch(/trento\.alloy/);
    expect(stale.handlers.map((h) => h.name)).toEqual(['reload alloy']);
    expect(stale.warnings.join()).toMatch(/Alloy still runs Trento's pipeline .*though trento\.alloy is gone: it is reloaded without it/);
    // Not due: a converged uninstall; a change that reloads anyway (no warning then); Alloy not
    // answering (its start is the service step's); a --check (no probes); the toolkit's own
    // Alloy going with --purge.
    expect(planFor({ ...gone, probes: { ...serving, alloyRunsTrento: false } }, { uninstall: true }).handlers).toEqual([]);
    const removing = planFor({ ...push, probes: serving }, { uninstall: true });
    expect(removing.handlers.map((h) => h.name)).toEqual(['reload alloy']);
    expect(removing.warnings.join()).not.toMatch(/Trento's pipeline/);
    expect(planFor({ ...push, probes: { ...serving, alloyReady: false, alloyRunsTrento: false } }).handlers).toEqual([]);
    expect(planFor({ ...push, probes: {} }).handlers).toEqual([]);
    const ours = { ...gone, record: { ...gone.record, packages: ['alloy', 'trento-agent'] } };
    expect(planFor({ ...ours, probes: serving }, { uninstall: true, purge: true }).handlers.map((h) => h.name)).not.toContain('reload alloy');
  });

  it("Alloy's probes answered while alloy.service is not running (another process on its port): its unit is checked too", () => {
    const push = { ...convergedFor('16.0'), probes: serving };
    const stopped = { ...push, units: { ...push.units, 'alloy.service': { state: 'inactive', enabled: 'enabled' } } };
    const plan = planFor(stopped);
    expect(plan.checks.find((c) => c.name === 'Alloy is running')).toMatchObject({ heldByFacts: false });
    expect(toShell(plan.checks.find((c) => c.name === 'Alloy is running')!.script)).toBe(
      "tp_verify 'Alloy is running' systemctl is-active --quiet alloy.service",
    );
    expect(provenByFacts(plan)).toBe(false);
    // On uninstall, a running Alloy's unit is asked too.
    const probedOnly = { ...push, units: { ...push.units, 'alloy.service': { state: 'active', enabled: 'enabled' } } };
    expect(toShell(planFor(probedOnly, { uninstall: true }).checks.find((c) => c.name === 'Alloy keeps running')!.script)).toBe(
      "tp_verify 'Alloy keeps running' eval 'tp_alloy_ready && systemctl is-active --quiet alloy.service'",
    );
  });

  it("Alloy must have delivered within the verify wait (one scrape interval + 10 s) by the host's own clock", () => {
    const push = convergedFor('16.0');
    const sentAgo = (s: number | undefined) => planFor({ ...push, probes: { ...serving, alloyLastSent: s === undefined ? undefined : NOW - s } });
    expect(provenByFacts(sentAgo(25))).toBe(true);
    expect(provenByFacts(sentAgo(26))).toBe(false);
    expect(provenByFacts(sentAgo(undefined))).toBe(false);
    expect(provenByFacts(planFor({ ...push, probes: { ...serving, alloyLastSent: 0 } }))).toBe(false);
  });

  it('a stopped agent, a change or a pending handler needs the second round trip', () => {
    const push = { ...convergedFor('16.0'), probes: serving };
    const stopped = { ...push, units: { ...push.units, 'trento-agent.service': { state: 'inactive', enabled: 'enabled' } } };
    const plan = planFor(stopped);
    expect(plan.changes.map((c) => c.id)).toContain('service:trento-agent.service');
    expect(provenByFacts(plan)).toBe(false);
    const pending = { ...push, record: { ...push.record, pendingHandlers: ['restart trento-agent'] } };
    expect(provenByFacts(planFor(pending))).toBe(false);
  });

  it('uninstall: an uninstalled host is proven when the agent is stopped and Alloy runs without trento.alloy', () => {
    const fresh = freshFacts('16.0');
    const uninstalled: HostFacts = {
      ...fresh,
      packages: { alloy: '1.9.2-1' },
      units: { 'alloy.service': { state: 'active', enabled: 'enabled' } },
      probes: { alloyReady: true, alloyRunsTrento: false, alloyLastSent: NOW - 100, hostNow: NOW },
    };
    const plan = planFor(uninstalled, { uninstall: true });
    expect(plan.changes).toEqual([]);
    expect(plan.checks.map((c) => c.name)).toEqual(['trento-agent is stopped', 'Alloy keeps running', 'Alloy no longer runs trento.alloy']);
    expect(provenByFacts(plan)).toBe(true);
    expect(provenByFacts(planFor({ ...uninstalled, probes: { ...uninstalled.probes, alloyRunsTrento: true } }, { uninstall: true }))).toBe(false);
    expect(provenByFacts(planFor({ ...uninstalled, probes: { alloyReady: false } }, { uninstall: true }))).toBe(false);
  });
});

describe('agent_server_ca_cert (official role: trust anchor + update-ca-certificates)', () => {
  const PEM = CA_PEM;

  it('writes the anchor 0644 and rebuilds the trust store, then nothing on a converged host; --purge removes it', () => {
    const plan = planFor(freshFacts('15.7'), { serverCaPem: PEM });
    const ca = plan.changes.find((c) => c.id === `file:${PATHS.serverCaCert}`)!;
    expect(ca.summary).toBe(`create ${PATHS.serverCaCert} (0644 root:root)`);
    expect(toShell(ca.script)).toMatch(/&&\nupdate-ca-certificates &&\ntp_handler_done 'rebuild trust store'$/u);
    expect(ca.followUp).toBe('rebuild trust store');
    expect(ca.diff).toContain('+-----BEGIN CERTIFICATE-----');
    expect(ca.notify).toEqual(['restart trento-agent']);

    const again = planFor(converged(freshFacts('15.7'), plan), { serverCaPem: PEM });
    expect(again.changes).toEqual([]);

    const purge = planFor(converged(freshFacts('15.7'), plan), { uninstall: true, purge: true });
    const removed = purge.changes.find((c) => c.id === `file:${PATHS.serverCaCert}`)!;
    expect(removed.summary).toBe(`remove ${PATHS.serverCaCert}`);
    expect(toShell(removed.script)).toMatch(/update-ca-certificates &&\ntp_handler_done 'rebuild trust store'$/u);
    const keep = planFor(converged(freshFacts('15.7'), plan), { uninstall: true, purge: false });
    expect(keep.changes.map((c) => c.id)).not.toContain(`file:${PATHS.serverCaCert}`);
  });

  it('on an Alloy host a new or changed CA restarts Alloy too (Go reads the system roots once per process; a reload keeps them), on a converged host as well', () => {
    const bare = planFor(freshFacts('16.0'));
    const facts = converged(freshFacts('16.0'), bare);
    expect(planFor(facts).changes).toEqual([]);
    const plan = planFor(facts, { serverCaPem: PEM });
    expect(plan.changes.map((c) => c.id)).toEqual([`file:${PATHS.serverCaCert}`]);
    expect(plan.changes[0]!.notify).toEqual(['restart trento-agent', 'restart alloy']);
    expect(plan.handlers.map((h) => h.name)).toEqual(expect.arrayContaining(['restart trento-agent', 'restart alloy']));
    expect(plan.handlers.map((h) => h.name)).not.toContain('reload alloy');
    // node_exporter makes no TLS connection: nothing but the agent on SLES 15
    expect(planFor(converged(freshFacts('15.7'), planFor(freshFacts('15.7'))), { serverCaPem: PEM }).handlers.map((h) => h.name)).not.toContain(
      'restart alloy',
    );
  });

  it('--purge of the CA anchor the toolkit wrote restarts an Alloy that stays running (it holds the roots it read at its start); one it stops is not restarted', () => {
    const withCa = converged(freshFacts('16.0'), planFor(freshFacts('16.0'), { serverCaPem: PEM }));
    withCa.record.files = [PATHS.serverCaCert];
    // The admin's Alloy stays running: restarted (which supersedes the reload for trento.alloy).
    const admins = { ...withCa, record: { ...withCa.record, packages: ['trento-agent'] } };
    const kept = planFor(admins, { uninstall: true, purge: true });
    expect(kept.changes.find((c) => c.id === `file:${PATHS.serverCaCert}`)?.notify).toEqual(['restart alloy']);
    expect(kept.handlers.map((h) => h.name)).toEqual(['restart alloy']);
    // The toolkit's Alloy is stopped and removed: nothing to restart.
    const ours = { ...withCa, record: { ...withCa.record, packages: ['alloy', 'trento-agent'] } };
    expect(planFor(ours, { uninstall: true, purge: true }).handlers.map((h) => h.name)).toEqual([]);
    // Without --purge the anchor stays, and Alloy is only reloaded without trento.alloy.
    expect(planFor(admins, { uninstall: true }).handlers.map((h) => h.name)).toEqual(['reload alloy']);
  });

  it("an anchor the facts cannot use (a link to the admin's bundle) fails the host only where the plan touches it", () => {
    // As the facts hand it over: a link at the official path is a file the toolkit cannot use,
    // not a problem of the whole host (files.parse: the CA anchor is touched only by a setting).
    const why = `${PATHS.serverCaCert} is a symbolic link to /etc/ssl/admin-bundle.pem; trento-provision neither reads nor writes through links: replace it with a regular file (or remove it) and run again`;
    const linked = files.parse(new Map([[`file:${PATHS.serverCaCert}`, 'symlink /etc/ssl/admin-bundle.pem']]));
    expect(linked.problems).toEqual([]);
    expect(linked.facts.files[PATHS.serverCaCert]).toEqual({ path: PATHS.serverCaCert, exists: true, unusable: why });
    // any other managed file that cannot be used still fails the host at the facts
    expect(files.parse(new Map([[`file:${PATHS.agentConfig}`, 'symlink /tmp/x']])).problems?.[0]).toMatch(/agent\.yaml is a symbolic link to \/tmp\/x/);

    const facts = { ...freshFacts('15.7'), files: linked.facts.files };
    // agent_server_ca_cert unset: the anchor is not the toolkit's business
    const unset = planFor(facts);
    expect(unset.refusals).toEqual([]);
    expect(unset.changes.map((c) => c.id)).toContain(`file:${PATHS.agentConfig}`);
    expect(unset.changes.map((c) => c.id).filter((id) => id.includes(PATHS.serverCaCert))).toEqual([]);
    // set: the write would replace the admin's link: refused, naming it
    expect(planFor(facts, { serverCaPem: CA_PEM }).refusals).toEqual([why]);
    // --purge: the admin's link stays (never the toolkit's); one the toolkit recorded is refused
    expect(planFor(facts, { uninstall: true, purge: true }).refusals).toEqual([]);
    const recorded = { ...facts, record: { ...facts.record, files: [PATHS.serverCaCert] } };
    expect(planFor(recorded, { uninstall: true, purge: true }).refusals).toEqual([why]);
    expect(planFor(recorded, { uninstall: true, purge: false }).refusals).toEqual([]);
  });

  it("is recorded as the toolkit's when written, and --purge removes only an anchor the toolkit wrote (the official playbook's path may hold the admin's)", () => {
    const plan = planFor(freshFacts('15.7'), { serverCaPem: PEM });
    const ca = plan.changes.find((c) => c.id === `file:${PATHS.serverCaCert}`)!;
    expect(toShell(ca.script)).toMatch(
      /^tp_write .*&&\ntp_record_edit files add '?\/etc\/pki\/trust\/anchors\/trento-server-ca\.pem'? &&\nupdate-ca-certificates/su,
    );
    const ours = converged(freshFacts('15.7'), plan);
    expect(ours.record.files).toEqual([PATHS.serverCaCert]);
    const purged = planFor(ours, { uninstall: true, purge: true }).changes.find((c) => c.id === `file:${PATHS.serverCaCert}`)!;
    expect(toShell(purged.script)).toMatch(/^rm -f -- \S+ &&\ntp_record_edit files remove \S+ &&\nupdate-ca-certificates/u);

    // The admin's anchor at that path, the toolkit never told to write one: kept, with a warning.
    const admins = { ...ours, record: { ...ours.record, files: [] } };
    const purge = planFor(admins, { uninstall: true, purge: true });
    expect(purge.changes.map((c) => c.id)).not.toContain(`file:${PATHS.serverCaCert}`);
    expect(purge.warnings).toContain(
      `${PATHS.serverCaCert} was not written by trento-provision (not in /var/lib/trento-provision/files); it stays, and the trust store with it`,
    );

    // Written right by an earlier version, which kept no record: the next run records it, once.
    // What put it there may not have rebuilt the trust store (copied into an image, no
    // update-ca-certificates): recording it rebuilds it and restarts the agent, once.
    const adopt = planFor(admins, { serverCaPem: PEM });
    expect(adopt.changes.map((c) => [c.id, c.summary])).toEqual([
      [`record:files:${PATHS.serverCaCert}`, `record ${PATHS.serverCaCert} as written by trento-provision (it is as the toolkit writes it)`],
    ]);
    expect(toShell(adopt.changes[0]!.script)).toMatch(
      /^tp_record_edit files add \S+ &&\nupdate-ca-certificates .*&&\ntp_handler_done 'rebuild trust store'$/su,
    );
    expect(adopt.changes[0]!.notify).toEqual(['restart trento-agent']);
    expect(adopt.handlers.map((h) => h.name)).toEqual(['restart trento-agent']);
    expect(planFor(converged(admins, adopt), { serverCaPem: PEM }).changes).toEqual([]);

    // agent_server_ca_cert dropped and the file removed: an install run forgets the record too, so
    // a later --purge cannot take an anchor the admin puts at this path for the toolkit's.
    const dropped = { ...ours, files: { ...ours.files } };
    delete dropped.files[PATHS.serverCaCert];
    const forget = planFor(dropped);
    expect(forget.changes.map((c) => c.summary)).toEqual([`forget ${PATHS.serverCaCert} in the record of what trento-provision wrote (it is gone)`]);
    const admins2 = { ...converged(dropped, forget), files: ours.files };
    expect(admins2.record.files).toEqual([]);
    expect(planFor(admins2, { uninstall: true, purge: true }).changes.map((c) => c.id)).not.toContain(`file:${PATHS.serverCaCert}`);
    // Dropped from the settings but the file still there: it stays the toolkit's, nothing planned.
    expect(planFor(ours).changes).toEqual([]);

    // Recorded, but the admin removed it: the record forgets it, so a later anchor of theirs is theirs.
    const gone = { ...ours, files: { ...ours.files } };
    delete gone.files[PATHS.serverCaCert];
    expect(planFor(gone, { uninstall: true, purge: true }).changes.map((c) => c.summary)).toContain(
      `forget ${PATHS.serverCaCert} in the record of what trento-provision wrote (it is gone)`,
    );
  });

  it('nothing is done when agent_server_ca_cert is unset', () => {
    expect(planFor(freshFacts('16.0')).changes.map((c) => c.id)).not.toContain(`file:${PATHS.serverCaCert}`);
  });
});

describe('agent_package_state: latest', () => {
  it('upgrades the installed packages the repositories have newer versions of, restarts what runs them, and converges', () => {
    const old = converged(freshFacts('16.0'), planFor(freshFacts('16.0')));
    const facts = { ...old, packages: { ...old.packages, 'trento-agent': '3.0.2-1.1' }, updates: { 'trento-agent': '3.1.0-1.1', unrelated: '9-1' } };
    const present = planFor(facts);
    expect(present.changes.map((c) => c.id)).not.toContain('packages:upgrade');
    const latest = planFor(facts, { packageState: 'latest' });
    const upgrade = latest.changes.find((c) => c.id === 'packages:upgrade')!;
    expect(upgrade.summary).toBe('upgrade trento-agent 3.0.2-1.1 -> 3.1.0-1.1');
    // tp_packages_upgrade gets each package's installed version, to prove the upgrade took
    expect(toShell(upgrade.script)).toMatch(/^tp_packages_upgrade '?trento-agent'? '?3\.0\.2-1\.1'?$/u);
    expect(latest.handlers.map((h) => h.name)).toContain('restart trento-agent');
    // Nothing newer: nothing to do, changed=0.
    const upToDate = { ...old, updates: {} };
    expect(planFor(upToDate, { packageState: 'latest' }).changes).toEqual([]);
  });

  it('an upgraded node_exporter is restarted, so the new binary is what the checks see', () => {
    const old = converged(freshFacts('15.7'), planFor(freshFacts('15.7')));
    const facts = { ...old, updates: { [PACKAGES.nodeExporter]: '1.9.1-1.1' } };
    const latest = planFor(facts, { packageState: 'latest' });
    // systemd reads the package's new unit file before the restart (a package without SUSE's
    // service macros does not make it), so the restart runs the new definition.
    expect(latest.changes.find((c) => c.id === 'packages:upgrade')!.notify).toEqual(['reload systemd units', 'restart node_exporter']);
    expect(latest.handlers.map((h) => h.name)).toEqual(['reload systemd units', 'restart node_exporter']);
    const handler = latest.handlers.find((h) => h.name === 'restart node_exporter')!;
    expect(toShell(handler.script)).toMatch(/^tp_unit_start restart '?prometheus-node_exporter\.service'? && sleep 0\.5 && systemctl is-active --quiet /u);
    // not restarted otherwise
    expect(planFor(old).handlers).toEqual([]);
  });

  it('reads zypper list-updates as name and available version', () => {
    expect(parseUpdates('trento-agent 3.1.0-1.1\nalloy 1.10.0-1\n')).toEqual({ 'trento-agent': '3.1.0-1.1', alloy: '1.10.0-1' });
  });

  it("a zypper list-updates that failed is the host's problem, not 'nothing newer' (a held lock: exit 7)", () => {
    const read = (rc: string) =>
      updates.parse(
        new Map([
          ['updates', ''],
          ['updates-rc', rc],
          ['updates-output', 'System management is locked by the application with pid 42 (zypper).'],
        ]),
      );
    expect(read('0')).toEqual({ facts: { updates: {} } });
    expect(read('7').problems?.[0]).toMatch(
      /^zypper list-updates failed \(exit 7: another process holds the package lock\): System management is locked .*; agent_package_state: latest cannot know/,
    );
    expect(read('106').warnings?.[0]).toMatch(/exit 106/);
  });
});

describe("an admin's node_exporter or Alloy the toolkit turned on is put back as it was by uninstall", () => {
  const NE = 'golang-github-prometheus-node_exporter';
  const NE_UNIT = 'prometheus-node_exporter.service';
  /** A fresh host where the admin installed PKG long ago and keeps its unit as UNIT_STATE. */
  const withAdmins = (version: string, pkg: string, unit: string, state: { state: string; enabled: string }): HostFacts => {
    const fresh = freshFacts(version);
    return { ...fresh, packages: { [pkg]: '1.0-1' }, units: { [unit]: state } };
  };
  const byId = (plan: HostPlan, id: string) => plan.changes.find((c) => c.id === id);
  const FORGET = `- forget how ${NE_UNIT} was before trento-provision (recorded)`;

  it('SLES 15: the first install records the state before its enable/start; uninstall (with or without --purge) puts it back and forgets it', () => {
    const facts = withAdmins('15.7', NE, NE_UNIT, { state: 'inactive', enabled: 'disabled' });
    const install = planFor(facts);
    const on = byId(install, `service:${NE_UNIT}`)!;
    expect(on.summary).toBe(`record how ${NE_UNIT} was (disabled, inactive), for uninstall, enable ${NE_UNIT}, start ${NE_UNIT}`);
    expect(toShell(on.script)).toBe(
      `tp_record_edit units add '${NE_UNIT} disabled inactive' &&\nsystemctl enable ${NE_UNIT} &&\ntp_unit_start start ${NE_UNIT}`,
    );
    const done = converged(facts, install);
    expect(done.record.units).toEqual([`${NE_UNIT} disabled inactive`]);
    expect(done.record.packages).not.toContain(NE);
    for (const purge of [false, true]) {
      const back = byId(planFor(done, { uninstall: true, purge }), `service:${NE_UNIT}`)!;
      expect(back.details).toEqual([`- stop ${NE_UNIT}`, `- disable ${NE_UNIT}`, FORGET]);
      expect(toShell(back.script)).toBe(
        `systemctl stop ${NE_UNIT} &&\nsystemctl disable ${NE_UNIT} &&\ntp_record_edit units remove '${NE_UNIT} disabled inactive'`,
      );
    }
    // Off again already (the admin turned it off): only the record goes.
    const off = { ...done, units: { ...done.units, [NE_UNIT]: { state: 'inactive', enabled: 'disabled' } } };
    expect(byId(planFor(off, { uninstall: true }), `service:${NE_UNIT}`)!.details).toEqual([FORGET]);
  });

  it('uninstall only ever stops or disables: what the admin enabled or started since stays, a unit waiting for its Restart= is stopped', () => {
    const recorded = (units: HostFacts['units'], line: string): HostFacts => {
      const facts = converged(withAdmins('15.7', NE, NE_UNIT, { state: 'active', enabled: 'enabled' }), planFor(freshFacts('15.7')));
      return { ...facts, units: { ...facts.units, ...units }, record: { ...facts.record, packages: ['trento-agent'], units: [line] } };
    };
    // Enabled before (only stopped): kept enabled, stopped.
    const stoppedOnly = planFor(recorded({}, `${NE_UNIT} enabled inactive`), { uninstall: true });
    expect(byId(stoppedOnly, `service:${NE_UNIT}`)!.details).toEqual([`- stop ${NE_UNIT}`, FORGET]);
    // The admin disabled and stopped it since: nothing enabled or started again.
    const adminsOff = planFor(recorded({ [NE_UNIT]: { state: 'inactive', enabled: 'disabled' } }, `${NE_UNIT} enabled active`), { uninstall: true });
    expect(byId(adminsOff, `service:${NE_UNIT}`)!.details).toEqual([FORGET]);
    // Waiting for its Restart= (activating): stopped, or it would come back.
    const restarting = planFor(recorded({ [NE_UNIT]: { state: 'activating', enabled: 'enabled' } }, `${NE_UNIT} enabled inactive`), { uninstall: true });
    expect(byId(restarting, `service:${NE_UNIT}`)!.details).toEqual([`- stop ${NE_UNIT}`, FORGET]);
  });

  it('recorded only when the toolkit first comes and finds it off: not a unit that crashed or waits for its Restart= (meant to run), not at a later run, not a package the toolkit installed', () => {
    const first = (state: { state: string; enabled: string }) =>
      byId(planFor(withAdmins('15.7', NE, NE_UNIT, state)), `service:${NE_UNIT}`)?.service?.recordState;
    expect(first({ state: 'inactive', enabled: 'enabled' })).toBe(`${NE_UNIT} enabled inactive`);
    expect(first({ state: 'failed', enabled: 'disabled' })).toBe(`${NE_UNIT} disabled active`);
    expect(first({ state: 'failed', enabled: 'enabled' })).toBeUndefined();
    expect(first({ state: 'activating', enabled: 'enabled' })).toBeUndefined();
    expect(first({ state: 'active', enabled: 'enabled' })).toBeUndefined();
    // A later run (the toolkit's drop-in is there) that finds the admin's unit down: started, not recorded.
    const provisioned = converged(withAdmins('15.7', NE, NE_UNIT, { state: 'active', enabled: 'enabled' }), planFor(freshFacts('15.7')));
    const crashed = {
      ...provisioned,
      packages: { ...provisioned.packages },
      units: { ...provisioned.units, [NE_UNIT]: { state: 'failed', enabled: 'enabled' } },
      record: { ...provisioned.record, packages: ['trento-agent'] },
    };
    const later = byId(planFor(crashed), `service:${NE_UNIT}`)!;
    expect(later.details).toEqual([`+ start ${NE_UNIT}`]);
    // The toolkit's own: never recorded, never restored.
    const fresh = planFor(freshFacts('15.7'));
    expect(byId(fresh, `service:${NE_UNIT}`)!.service?.recordState).toBeUndefined();
    const ours = converged(freshFacts('15.7'), fresh);
    expect(ours.record.units).toEqual([]);
    expect(byId(planFor(ours, { uninstall: true }), `service:${NE_UNIT}`)).toBeUndefined();
  });

  it("a line whose package is gone, or is the toolkit's now (installed again by it), is forgotten by every run; never restored", () => {
    const facts = converged(withAdmins('15.7', NE, NE_UNIT, { state: 'active', enabled: 'enabled' }), planFor(freshFacts('15.7')));
    const { [NE]: _removed, ...left } = facts.packages;
    const line = `${NE_UNIT} disabled inactive`;
    const gone = { ...facts, packages: left, record: { ...facts.record, packages: ['trento-agent'], units: [line] } };
    for (const uninstall of [false, true]) {
      const plan = planFor(gone, { uninstall });
      expect(byId(plan, 'record:units')?.summary).toBe(`forget how ${NE_UNIT} was before trento-provision (its package is gone, or is trento-provision's now)`);
      expect(toShell(byId(plan, 'record:units')!.script)).toBe(`tp_record_edit units remove '${line}'`);
    }
    const theToolkits = { ...facts, record: { ...facts.record, packages: ['trento-agent', NE], units: [line] } };
    const uninstall = planFor(theToolkits, { uninstall: true });
    expect(byId(uninstall, 'record:units')).toBeDefined();
    expect(byId(uninstall, `service:${NE_UNIT}`)).toBeUndefined(); // the toolkit's own stays running without --purge
  });

  it("SLES 16: the admin's stopped, disabled Alloy is stopped and disabled again: no reload, no check that it keeps running", () => {
    const facts = withAdmins('16.0', 'alloy', 'alloy.service', { state: 'inactive', enabled: 'disabled' });
    facts.files['/etc/sysconfig/alloy'] = { path: '/etc/sysconfig/alloy', exists: true, content: 'CONFIG_FILE="/etc/alloy/config.alloy"\n' };
    const install = planFor(facts);
    expect(byId(install, 'service:alloy.service')!.service?.recordState).toBe('alloy.service disabled inactive');
    const done = converged(facts, install);
    const uninstall = planFor(done, { uninstall: true });
    expect(byId(uninstall, 'service:alloy.service')!.details).toEqual([
      '- stop alloy.service',
      '- disable alloy.service',
      '- forget how alloy.service was before trento-provision (recorded)',
    ]);
    expect(uninstall.handlers.map((h) => h.name)).not.toContain('reload alloy');
    expect(uninstall.checks.map((c) => c.name)).not.toContain('Alloy keeps running');
    // The admin has given it pipelines since (their config.alloy, in the folder it loads): it is
    // neither stopped nor disabled, the record stays for a later uninstall, and the plan says so;
    // it is reloaded without trento.alloy and checked to keep running.
    const withPipeline = { ...done, alloy: { ...done.alloy, adminPipelines: ['/etc/alloy/config.alloy'] } };
    const leftOn = planFor(withPipeline, { uninstall: true });
    expect(byId(leftOn, 'service:alloy.service')).toBeUndefined();
    expect(leftOn.warnings).toContain(
      "alloy.service is not stopped or disabled, though it was disabled and inactive before trento-provision turned it on: it loads /etc/alloy/config.alloy (not trento-provision's, whether there before or added since), which would stop with it, or not start at boot; to put it back as it was, run 'systemctl disable --now alloy.service' on the host (or move them away and run the uninstall again)",
    );
    expect(leftOn.handlers.map((h) => h.name)).toContain('reload alloy');
    expect(leftOn.checks.map((c) => c.name)).toContain('Alloy keeps running');
    // The same Alloy stopped just now (the admin's maintenance), still enabled: not disabled
    // either (it would not come back at boot with their pipelines), the record kept, and said.
    const stoppedNow = { ...withPipeline, units: { ...withPipeline.units, 'alloy.service': { ...withPipeline.units['alloy.service']!, state: 'inactive' } } };
    const leftEnabled = planFor(stoppedNow, { uninstall: true });
    expect(byId(leftEnabled, 'service:alloy.service')).toBeUndefined();
    expect(leftEnabled.warnings.join('\n')).toContain('alloy.service is not stopped or disabled, though it was disabled and inactive before');
    // Running before (only disabled): kept running, reloaded without trento.alloy, and checked.
    const running = { ...done, record: { ...done.record, units: ['alloy.service disabled active'] } };
    const kept = planFor(running, { uninstall: true });
    expect(byId(kept, 'service:alloy.service')!.details).toEqual([
      '- disable alloy.service',
      '- forget how alloy.service was before trento-provision (recorded)',
    ]);
    expect(kept.handlers.map((h) => h.name)).toContain('reload alloy');
    expect(kept.checks.map((c) => c.name)).toContain('Alloy keeps running');
  });
});

describe('SLES 15 -> 16 migration (issue 16 item 2)', () => {
  const NE = 'golang-github-prometheus-node_exporter';
  const NE_UNIT = 'prometheus-node_exporter.service';

  /** A host the toolkit provisioned as SLES 15 (pull) that now reports 16.0: no Alloy yet. */
  function migrated(recorded: string[]): HostFacts {
    const pulled = converged(freshFacts('15.4'), planFor(freshFacts('15.4')));
    const { alloy: _alloy, ...packages } = pulled.packages;
    const { 'alloy.service': _unit, ...units } = pulled.units;
    return {
      ...pulled,
      osRelease: { ID: 'sles', VERSION_ID: '16.0' },
      packages,
      units,
      alloy: { configFile: '', configIsDir: false, configDir: '/etc/alloy', droppedBySingleFile: [], dormantFiles: [] },
      record: { packages: recorded, pendingHandlers: [], files: [], units: [] },
    };
  }

  /** What the next run sees once `plan` ran without --purge: node_exporter stopped, disabled, kept. */
  function afterMigration(facts: HostFacts, plan: HostPlan): HostFacts {
    const done = converged(facts, plan);
    done.units[NE_UNIT] = { state: 'inactive', enabled: 'disabled' };
    done.record.packages = [...facts.record.packages, ...done.record.packages];
    return done;
  }

  it('the switch to directory mode names the *.alloy files Alloy does not load now and will then (an admin draft starts running)', () => {
    const facts = migrated([NE, 'trento-agent']);
    facts.alloy = { ...facts.alloy, configFile: '/etc/alloy/config.alloy', dormantFiles: ['staging.alloy', 'old-test.alloy'] };
    const change = planFor(facts).changes.find((c) => c.id === `line:${PATHS.alloySysconfig}:CONFIG_FILE`)!;
    expect(change.details).toEqual([
      'Alloy will also load /etc/alloy/staging.alloy, /etc/alloy/old-test.alloy, which it does not load now: move what must not run out of /etc/alloy/ first',
    ]);
    // and as a warning, which --check and a run show without --diff
    expect(planFor(facts).warnings).toContain(
      'switching Alloy to directory mode: Alloy will also load /etc/alloy/staging.alloy, /etc/alloy/old-test.alloy, which it does not load now: move what must not run out of /etc/alloy/ first',
    );
    facts.alloy.dormantFiles = [];
    expect(planFor(facts).changes.find((c) => c.id === `line:${PATHS.alloySysconfig}:CONFIG_FILE`)!.details).toBeUndefined();
    expect(planFor(facts).warnings.join()).not.toMatch(/will also load/);
  });

  it("the switch's diff shows the CONFIG_FILE line alone: the sysconfig's other lines may hold the admin's secrets (Alloy's environment)", () => {
    const facts = migrated([NE, 'trento-agent']);
    facts.alloy = { ...facts.alloy, configFile: '/etc/alloy/config.alloy' };
    facts.files[PATHS.alloySysconfig] = {
      path: PATHS.alloySysconfig,
      exists: true,
      content: 'GRAFANA_CLOUD_TOKEN=glc_AdminSecret1\nCONFIG_FILE="/etc/alloy/config.alloy"\nCUSTOM_ARGS="--token=AdminSecret2"\n',
    };
    const diff = planFor(facts).changes.find((c) => c.id === `line:${PATHS.alloySysconfig}:CONFIG_FILE`)!.diff!;
    expect(diff).toMatch(/^-CONFIG_FILE="\/etc\/alloy\/config\.alloy"$/m);
    expect(diff).toMatch(/^\+CONFIG_FILE="\/etc\/alloy\/"$/m);
    expect(diff).not.toMatch(/AdminSecret/);
  });

  it("the toolkit's node_exporter: Alloy wired, the agent switched to push, the drop-in rewired, node_exporter stopped and disabled (kept)", () => {
    const facts = migrated([NE, 'trento-agent']);
    expect(facts.units[NE_UNIT]).toEqual({ state: 'active', enabled: 'enabled' });
    const plan = planFor(facts);
    expect(plan.changes.map((c) => c.summary)).toEqual([
      'install alloy',
      'create /etc/alloy/trento.alloy (0640 alloy:alloy)',
      'switch Alloy to directory mode: CONFIG_FILE /etc/alloy/config.alloy (package default) -> /etc/alloy/ (only that line of /etc/sysconfig/alloy; the old line is kept in /var/lib/trento-provision/alloy-CONFIG_FILE.orig for uninstall)',
      "enable alloy.service, start alloy.service (by the handler 'restart alloy')",
      `update ${PATHS.agentConfig} (0600 root:root)`,
      `create ${PATHS.configureAlloyScript} (0755 root:root)`,
      `update ${PATHS.agentDropIn} (0644 root:root)`,
      `stop ${NE_UNIT}, disable ${NE_UNIT} (once Alloy and trento-agent pass their checks)`,
    ]);
    expect(plan.changes.map((c) => c.phase ?? 'converge')).toEqual([...Array(7).fill('converge'), 'retire']);
    const byId = (id: string) => plan.changes.find((c) => c.id === id)!;
    expect(byId(`file:${PATHS.agentConfig}`).diff).toMatch(/^\+prometheus-mode: "push"$/m);
    expect(byId(`file:${PATHS.agentDropIn}`).diff).toMatch(/^-Wants=prometheus-node_exporter.service\n[\s\S]*^\+Wants=alloy.service$/m);
    expect(byId(`service:${NE_UNIT}`).details).toEqual([`- stop ${NE_UNIT}`, `- disable ${NE_UNIT}`]);
    expect(toShell(byId(`service:${NE_UNIT}`).script)).toBe(`systemctl stop ${NE_UNIT} &&\nsystemctl disable ${NE_UNIT}`);
    expect(plan.changes.map((c) => c.id)).not.toContain('packages:remove');
    expect(plan.handlers.map((h) => h.name)).toEqual(['restart alloy', 'restart trento-agent']);
    expect(toShell(checksScript(plan.retiredChecks))).toMatch(
      /tp_verify 'node_exporter \(installed by trento-provision, now unused\) is stopped' tp_unit_stopped prometheus-node_exporter.service/,
    );
    expect(toShell(checksScript(plan.checks))).not.toContain(NE_UNIT);
    expect(plan.warnings).toEqual([]);

    // Once migrated (node_exporter stopped and disabled, still installed): nothing more to do.
    const again = planFor(afterMigration(facts, plan));
    expect(again.changes).toEqual([]);
    expect(again.handlers).toEqual([]);
    expect(toShell(checksScript(again.retiredChecks))).toContain('is stopped');
  });

  it("an admin's node_exporter the toolkit turned on is left alone by the migration (issue 16), and put back as it was by an uninstall", () => {
    const facts = migrated(['trento-agent']);
    facts.record.units = [`${NE_UNIT} disabled inactive`];
    expect(planFor(facts).changes.map((c) => c.id)).not.toContain(`service:${NE_UNIT}`);
    // ...but the admin is told that it serves on for nobody, and what to do.
    expect(planFor(facts).warnings).toEqual([
      expect.stringMatching(new RegExp(`^${NE_UNIT} was off before trento-provision turned it on .*stop and disable it if nothing else uses it`)),
    ]);
    // Not once it is off again, nor for one the admin had running before the toolkit came.
    expect(planFor({ ...facts, units: { ...facts.units, [NE_UNIT]: { state: 'inactive', enabled: 'disabled' } } }).warnings).toEqual([]);
    expect(planFor({ ...facts, record: { ...facts.record, units: [] } }).warnings).toEqual([]);
    expect(planFor(facts, { uninstall: true }).changes.find((c) => c.id === `service:${NE_UNIT}`)?.details).toEqual([
      `- stop ${NE_UNIT}`,
      `- disable ${NE_UNIT}`,
      `- forget how ${NE_UNIT} was before trento-provision (recorded)`,
    ]);
  });

  it('the retire runs last in the apply script: after every handler and the checks that prove Alloy, and only if all of them passed', () => {
    const plan = planFor(migrated([NE, 'trento-agent']), { purge: true });
    const steps = planSteps(plan);
    expect(steps.map((st) => st.id).slice(-4)).toEqual(['handler:restart alloy', 'handler:restart trento-agent', `service:${NE_UNIT}`, 'packages:remove']);
    const text = toShell(applyScript(plan, { zyppLockTimeoutSeconds: 60 }));
    // Step numbers in the script are the ones the markers report (planSteps).
    const stopStep = steps.findIndex((st) => st.id === `service:${NE_UNIT}`);
    // Each piece found after the one before it: the order the host runs them in.
    let from = text.indexOf('tp_lock');
    const next = (needle: string) => {
      const i = text.indexOf(needle, from);
      expect(i, `${needle} after position ${from}`).toBeGreaterThan(-1);
      from = i + needle.length;
      return i;
    };
    next(`tp_run ${stopStep - 1} `); // the agent restart, the last handler
    next('tp_mark applied');
    next("tp_verify 'Alloy is ready'");
    next("tp_verify 'Alloy delivers metrics to the remote-write URL'");
    next("tp_verify 'trento-agent is running'");
    next('if tp_all_verified; then');
    next(`tp_run ${stopStep} `);
    next(`tp_run ${stopStep + 1} `);
    next("tp_verify 'node_exporter (installed by trento-provision, now unused) is stopped'");
    next('\nelse\ntp_warn ');
    next('\nfi\n');
    next('tp_mark "done"');
    expect(text.slice(text.indexOf(`tp_s${stopStep}() {`))).toMatch(/^tp_s\d+\(\) \{\nsystemctl stop prometheus-node_exporter.service &&\nsystemctl disable/);
    // Nothing but the retire sits behind the gate; without a retire there is no gate.
    expect(text.match(/if tp_all_verified/g)).toHaveLength(1);
    const fresh = planFor(freshFacts('16.0'));
    expect(toShell(applyScript(fresh, { zyppLockTimeoutSeconds: 60 }))).not.toContain('if tp_all_verified');
  });

  it('a host where the retire did not run (a failed reload, a failed check) plans it again, even with nothing else left to do', () => {
    const facts = migrated([NE, 'trento-agent']);
    // Alloy and the agent converged, node_exporter untouched (still recorded, active, enabled).
    const stuck = converged(facts, planFor(facts));
    stuck.record.packages = [NE, 'trento-agent', 'alloy'];
    const again = planFor(stuck);
    expect(again.changes.map((c) => c.id)).toEqual([`service:${NE_UNIT}`]);
    expect(again.handlers).toEqual([]);
    const text = toShell(applyScript(again, { zyppLockTimeoutSeconds: 60 }));
    expect(text.indexOf("tp_verify 'Alloy delivers")).toBeLessThan(text.indexOf('if tp_all_verified; then'));
    expect(text).toContain('tp_run 0 tp_s0');
  });

  it("--purge also removes the toolkit's node_exporter, after it is stopped; on a retired host only the removal is left", () => {
    const plan = planFor(migrated([NE, 'trento-agent']), { purge: true });
    const ids = plan.changes.map((c) => c.id);
    expect(ids.slice(-2)).toEqual([`service:${NE_UNIT}`, 'packages:remove']);
    const remove = plan.changes.at(-1)!;
    expect(remove.summary).toBe(`remove ${NE} (installed by trento-provision) (once Alloy and trento-agent pass their checks)`);
    expect(remove.phase).toBe('retire');
    expect(toShell(remove.script)).toBe(`tp_packages_remove ${NE}`);

    const later = planFor(afterMigration(migrated([NE, 'trento-agent']), planFor(migrated([NE, 'trento-agent']))), { purge: true });
    expect(later.changes.map((c) => c.summary)).toEqual([`remove ${NE} (installed by trento-provision) (once Alloy and trento-agent pass their checks)`]);
  });

  it('a node_exporter the admin had before the toolkit came is left as it is, --purge or not', () => {
    for (const purge of [false, true]) {
      const plan = planFor(migrated(['trento-agent']), { purge });
      expect(plan.changes.map((c) => c.summary)).toContain('install alloy');
      expect(plan.changes.map((c) => c.id)).not.toContain(`service:${NE_UNIT}`);
      expect(plan.changes.map((c) => c.id)).not.toContain('packages:remove');
      expect(toShell(checksScript(plan.checks))).not.toContain(NE_UNIT);
      expect(toShell(checksScript(plan.retiredChecks))).toBe('');
      expect(plan.warnings).toEqual([]);
    }
  });

  it('a SLES 16 host the toolkit set up as 16 never plans anything for node_exporter', () => {
    const fresh = planFor(freshFacts('16.0'), { purge: true });
    expect(JSON.stringify(fresh.changes.map((c) => c.id))).not.toContain('node_exporter');
  });

  it("uninstall keeps the toolkit's node_exporter as on a pull host; --uninstall --purge stops and removes it", () => {
    const facts = migrated([NE, 'trento-agent']);
    const keep = planFor(facts, { uninstall: true });
    expect(keep.changes.map((c) => c.id)).not.toContain(`service:${NE_UNIT}`);
    const purge = planFor(facts, { uninstall: true, purge: true });
    // Stopped with the others; the packages go once the checks pass, as on every uninstall.
    expect(purge.changes.map((c) => c.summary)).toContain(`stop ${NE_UNIT}, disable ${NE_UNIT}`);
    expect(purge.changes.filter((c) => c.phase === 'retire').map((c) => c.id)).toEqual(['packages:remove']);
    expect(purge.changes.find((c) => c.id === 'packages:remove')!.summary).toBe(
      `remove ${NE}, trento-agent (installed by trento-provision) (once the checks pass)`,
    );
  });
});

describe("the toolkit's package record", () => {
  it('forgets a recorded package that is no longer installed, so one the admin installs later stays theirs', () => {
    const facts = converged(freshFacts('16.0'), planFor(freshFacts('16.0')));
    expect(facts.record.packages).toContain('alloy');
    const removedByAdmin = { ...facts, packages: Object.fromEntries(Object.entries(facts.packages).filter(([n]) => n !== 'alloy')) };
    const plan = planFor(removedByAdmin, { uninstall: true });
    const pruned = plan.changes.find((c) => c.id === 'record:packages')!;
    expect(pruned.summary).toBe('forget alloy in the record of what trento-provision installed (no longer installed)');
    expect(toShell(pruned.script)).toBe('tp_packages_record_remove alloy');
    // Nothing to forget where every recorded package is there.
    expect(planFor(facts, { uninstall: true }).changes.map((c) => c.id)).not.toContain('record:packages');
  });

  it('install runs forget one too, unless they install it again: supportutils removed by the admin, then switched off', () => {
    const facts = converged(freshFacts('16.0'), planFor(freshFacts('16.0')));
    expect(facts.record.packages).toContain('supportutils');
    const removedByAdmin = { ...facts, packages: Object.fromEntries(Object.entries(facts.packages).filter(([n]) => !n.startsWith('supportutils'))) };
    // Still wanted: installed again, and stays in the record.
    const again = planFor(removedByAdmin);
    expect(again.changes.map((c) => c.id)).not.toContain('record:packages');
    expect(again.changes[0]!.summary).toMatch(/^install supportutils, supportutils-plugin-trento/);
    // Switched off: forgotten, so a supportutils the admin installs later is never the toolkit's to --purge.
    const off = planFor(removedByAdmin, { supportutils: { enabled: false, updateCache: true } });
    expect(off.changes.map((c) => c.summary)).toEqual([
      'forget supportutils, supportutils-plugin-trento in the record of what trento-provision installed (no longer installed)',
    ]);
  });
});

describe('supportutils (official role supportutils: supportutils_enabled, default true)', () => {
  const SUPPORT = ['supportutils', 'supportutils-plugin-trento'];

  it.each(['15.4', '16.0'])('%s: both packages in the one zypper call, refreshed first; off: neither, no refresh', (version) => {
    const on = planFor(freshFacts(version)).changes[0]!;
    expect(on.details).toEqual(expect.arrayContaining(['~ zypper refresh', ...SUPPORT.map((p) => `+ package ${p}`)]));
    expect(toShell(on.script)).toMatch(/^tp_zypper_refresh &&\ntp_packages_install /u);
    expect(toShell(on.script)).toMatch(/ supportutils-plugin-trento 'enable the channel that ships trento-agent .*or set supportutils_enabled: false/u);
    const off = planFor(freshFacts(version), { supportutils: { enabled: false, updateCache: true } }).changes[0]!;
    expect(off.summary).not.toMatch(/supportutils|refresh/u);
    expect(toShell(off.script)).not.toMatch(/supportutils|refresh/u);
  });

  it('supportutils_update_cache false: no refresh; a refresh only when a support package is missing', () => {
    const noCache = planFor(freshFacts('15.7'), { supportutils: { enabled: true, updateCache: false } }).changes[0]!;
    expect(toShell(noCache.script)).toMatch(/^tp_packages_install /u);
    const facts = { ...freshFacts('15.7'), packages: { supportutils: '3.2.10-1.1', 'supportutils-plugin-trento': '2.5.0-1.1' } };
    const agentOnly = planFor(facts).changes[0]!;
    expect(agentOnly.summary).toBe('install golang-github-prometheus-node_exporter, trento-agent');
  });

  it('a converged host plans nothing; enabling it later on a converged host installs just the two', () => {
    const withoutSupport = planFor(freshFacts('15.7'), { supportutils: { enabled: false, updateCache: true } });
    const facts = converged(freshFacts('15.7'), withoutSupport);
    for (const p of SUPPORT) delete facts.packages[p];
    expect(planFor(facts, { supportutils: { enabled: false, updateCache: true } }).changes).toEqual([]);
    const later = planFor(facts);
    expect(later.changes.map((c) => c.summary)).toEqual(['install supportutils, supportutils-plugin-trento (repositories refreshed first)']);
    expect(later.handlers).toEqual([]);
    expect(planFor(converged(facts, later)).changes).toEqual([]);
  });

  it('agent_package_state: latest upgrades them too', () => {
    const old = converged(freshFacts('15.7'), planFor(freshFacts('15.7')));
    const facts = { ...old, updates: { supportutils: '3.2.11-1.1' } };
    const upgrade = planFor(facts, { packageState: 'latest' }).changes.find((c) => c.id === 'packages:upgrade')!;
    expect(upgrade.summary).toBe('upgrade supportutils 3.2.10-1.1 -> 3.2.11-1.1');
    // no service runs it: no daemon-reload, no restart
    expect(planFor(facts, { packageState: 'latest' }).handlers).toEqual([]);
  });

  it("uninstall removes the plugin the toolkit installed; supportutils only with --purge; never the admin's", () => {
    const facts = converged(freshFacts('15.7'), planFor(freshFacts('15.7')));
    const keep = planFor(facts, { uninstall: true });
    expect(keep.changes.find((c) => c.id === 'packages:remove')!.summary).toBe(
      'remove supportutils-plugin-trento, trento-agent (installed by trento-provision) (once the checks pass)',
    );
    const purge = planFor(facts, { uninstall: true, purge: true });
    expect(toShell(purge.changes.find((c) => c.id === 'packages:remove')!.script)).toMatch(
      /^tp_packages_remove supportutils-plugin-trento supportutils trento-agent golang-github-prometheus-node_exporter$/u,
    );
    const admins = { ...facts, record: { ...facts.record, packages: ['trento-agent', 'golang-github-prometheus-node_exporter'] } };
    const kept = planFor(admins, { uninstall: true, purge: true });
    expect(kept.changes.find((c) => c.id === 'packages:remove')!.summary).toBe(
      'remove trento-agent, golang-github-prometheus-node_exporter (installed by trento-provision) (once the checks pass)',
    );
    expect(kept.warnings.join('\n')).toMatch(/package supportutils-plugin-trento was not installed by trento-provision/u);
    expect(kept.warnings.join('\n')).toMatch(/package supportutils was not installed by trento-provision/u);
  });
});
