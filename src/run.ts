// The run: gather facts, plan, show, apply, verify (pyinfra's order). Every host's plan is
// computed, and every host's settings validated, before any host is changed. One host's
// failure never stops the others; the tally decides the exit code.
import { markerReader } from './apply/markers.ts';
import { applyScript, needsApply, planSteps, verifyScript } from './apply/script.ts';
import { type ConnectionDefaults, connectionFor, truthy } from './exec/connection.ts';
import { connectionSettingsErrors } from './exec/connection-settings.ts';
import { connector } from './exec/connector.ts';
import { ConnectError, type Session } from './exec/session.ts';
import { factsScript } from './facts/script.ts';
import { FactsError, type HostFacts, parseFacts } from './facts/parse.ts';
import { type Inventory, limitHosts } from './inventory/index.ts';
import type { Emit, HostStatus } from './output/events.ts';
import type { SecretSet } from './output/redact.ts';
import { connectionForDisplay, execCommandLine, factsOutputForDisplay, scriptForDisplay } from './output/verbose.ts';
import { type MetricsProvider, type Platform, platformOf } from './platform.ts';
import { planHost } from './plan/plan.ts';
import { ALWAYS_AVAILABLE_HANDLERS, ROLES } from '../roles/index.ts';
import { siteTemplatesFor, type TemplateSet } from './render/template-search.ts';
import type { HostPlan } from './plan/types.ts';
import { agentIdFromMachineId } from './settings/agent-id.ts';
import { loadRoleDefaults } from './settings/defaults.ts';
import { type PlayView, playPatternOf, playViewOf } from './settings/discovery.ts';
import { agentConfigFor, installMonitoringDep, packageStateFor, serverCaPemFor, shortSecretWarnings, usedSecrets, validateHostVars } from './settings/validate.ts';
import { rollOut } from './rollout/rollout.ts';
import { type SerialItem, serialText, wavesOf } from './rollout/waves.ts';
import { forEachLimit } from './util/pool.ts';
import { prometheusApi, type PrometheusEndpoint } from './verify/prometheus-api.ts';
import { proofRequestFor, verifyEndpointFor, type VerifyPrometheusOptions } from './verify/run-proof.ts';
import { trentoView } from './verify/trento-view.ts';

export interface RunOptions {
  limit?: string;
  check: boolean;
  diff: boolean;
  forks: number;
  extraVars: { vars: Record<string, unknown>; origins: Record<string, string> };
  uninstall: boolean;
  purge: boolean;
  connection: ConnectionDefaults;
  /** Ansible's control_path_dir: where the run's private folder of OpenSSH control sockets goes. */
  controlPathDir?: string;
  zyppLockTimeoutSeconds: number;
  /** Most a host may send for one script (stdout); past it the host fails. */
  maxHostOutputBytes?: number;
  /** First Ctrl-C: start nothing new, let hosts in flight finish their script. */
  stop: AbortSignal;
  /** Second Ctrl-C: drop every connection now (remote scripts still finish atomically). */
  abort: AbortSignal;
  /** --syntax-check: stop after the settings every host can be checked for without a connection. */
  settingsOnly?: boolean;
  /** Where each role template is loaded from (a site's own first; see template-search.ts). */
  templates?: TemplateSet;
  /** --serial: hosts in waves, each applied and verified before the next (Ansible's serial). */
  serial?: SerialItem[];
  /** --max-fail-percentage: later waves do not start past it (Ansible's max_fail_percentage). */
  maxFailPercentage?: number;
  /** --verify-prometheus: after each host's rollout, ask Trento's Prometheus for its up{agentID}. */
  verifyPrometheus?: VerifyPrometheusOptions;
}

export interface RunSinkHooks {
  emit: Emit;
  /** The sink's one secret list; the run adds each host's credentials before its first event. */
  secrets: Pick<SecretSet, 'add'>;
}

interface HostState {
  name: string;
  vars: Record<string, unknown>;
  origins: Record<string, string>;
  /** The inventory as the play sees it from this host (groups, other hosts' variables). */
  play: PlayView;
  session?: Session;
  facts?: HostFacts;
  platform?: Platform & { provider: MetricsProvider };
  agentId?: string;
  plan?: HostPlan;
  done: boolean;
  status?: HostStatus;
}

export class UsageError extends Error {}


export async function run(inventory: Inventory, options: RunOptions, sink: RunSinkHooks): Promise<void> {
  const started = Date.now();
  // --limit keeps the play's (inventory) order, as ansible-playbook does.
  const names = limitHosts(inventory, options.limit, playPatternOf(inventory)).hosts;
  if (names.length === 0) {
    throw new UsageError(`no hosts matched ${options.limit ? `--limit ${options.limit}` : 'the inventory'} in ${inventory.sources.join(', ')}`);
  }
  const hosts: HostState[] = names.map((name) => {
    const entry = inventory.hosts.get(name)!;
    return {
      name,
      vars: { ...entry.vars, ...options.extraVars.vars },
      origins: { ...entry.origins, ...options.extraVars.origins },
      play: playViewOf(inventory, name, options.extraVars.vars),
      done: false,
    };
  });
  const defaults = loadRoleDefaults(); // read once, not per host
  // Only the secrets the toolkit uses (vault values and typed passwords are in the set already):
  // a server-side password it never reads must not mask its letters in every message. Every
  // secret of agent.yaml and trento.alloy is one of these values (or its URL-encoded spelling,
  // which the set covers), so the set is complete before the first event.
  const used = new Map(hosts.map((h) => [h, usedSecrets(h.vars, h.origins, defaults, h.play)]));
  sink.secrets.add([...used.values()].flat().map((s) => s.value));
  const emit = sink.emit;
  const end = (exitCodeHint?: number) => emit({ type: 'run-end', exitCode: exitCodeHint ?? 0, durationMs: Date.now() - started });

  emit({ type: 'run-start', mode: options.uninstall ? 'uninstall' : 'install', check: options.check, hosts: names, forks: options.forks });

  // 1. Settings that need no host: all of them, before any connection.
  let settingsFailed = false;
  for (const h of hosts) {
    if (h.vars.ansible_become_method !== undefined && String(h.vars.ansible_become_method) !== 'sudo') {
      emit({ type: 'settings-error', host: h.name, variable: 'ansible_become_method', origin: h.origins.ansible_become_method ?? 'inventory', message: `only sudo is supported, not ${String(h.vars.ansible_become_method)}` });
      settingsFailed = true;
    } else if (
      h.vars.ansible_become_method === undefined &&
      options.connection.becomeMethod !== undefined &&
      options.connection.becomeMethod !== 'sudo' &&
      (h.vars.ansible_become !== undefined ? truthy(h.vars.ansible_become) : options.connection.become)
    ) {
      emit({ type: 'settings-error', host: h.name, variable: 'become_method', origin: options.connection.becomeMethodOrigin ?? 'ansible.cfg', message: `only sudo is supported, not ${options.connection.becomeMethod}` });
      settingsFailed = true;
    }
    const port = h.vars.ansible_port;
    if (port !== undefined && !(/^\d{1,5}$/.test(String(port)) && Number(port) >= 1 && Number(port) <= 65535)) {
      emit({ type: 'settings-error', host: h.name, variable: 'ansible_port', origin: h.origins.ansible_port ?? 'inventory', message: `expected a port number 1-65535, not ${JSON.stringify(String(port))}` });
      settingsFailed = true;
    }
    for (const e of connectionSettingsErrors(h.vars, h.origins, options.connection)) {
      emit({ type: 'settings-error', host: h.name, ...e });
      settingsFailed = true;
    }
    if (options.uninstall) continue;
    for (const message of shortSecretWarnings(used.get(h) ?? [])) emit({ type: 'host-warning', host: h.name, message });
    for (const e of validateHostVars(h.vars, h.origins, defaults, h.play)) {
      emit({ type: 'settings-error', host: h.name, ...e });
      settingsFailed = true;
    }
  }
  // --verify-prometheus: one set of credentials for the run, from the agent's variables.
  let verifyEndpoint: PrometheusEndpoint | undefined;
  if (options.verifyPrometheus && !options.uninstall && !options.check) {
    const { endpoint, errors } = verifyEndpointFor(hosts, options.verifyPrometheus, defaults);
    for (const e of errors) emit({ type: 'settings-error', ...e });
    if (errors.length) settingsFailed = true;
    verifyEndpoint = endpoint;
  }
  if (settingsFailed) return end(1);
  if (options.settingsOnly) return end(0);

  const finish = (h: HostState, status: HostStatus, message?: string) => {
    if (h.done) return;
    h.done = true;
    h.status = status;
    // check: what would change (a pending handler alone counts); apply: every step that ran
    const changed = h.plan ? (options.check ? h.plan.changes.length || h.plan.handlers.length : planSteps(h.plan).length) : 0;
    emit({ type: 'host-done', host: h.name, status, changed, roundTrips: h.session?.roundTrips() ?? 0, ...(message ? { message } : {}) });
    h.session?.close();
  };
  const onAbort = () => {
    for (const h of hosts) h.session?.close();
  };
  options.abort.addEventListener('abort', onAbort, { once: true });
  const sessions = connector(options.controlPathDir ? { controlPathDir: options.controlPathDir } : {});

  try {
    // 2. Facts: one round trip per host.
    emit({ type: 'phase', phase: 'facts', total: hosts.length });
    await forEachLimit(hosts, options.forks, async (h) => {
      if (options.stop.aborted) return finish(h, 'skipped', 'not started: interrupted');
      const spec = connectionFor(h.name, h.vars, options.connection);
      emit({ type: 'host-connect', host: h.name, details: connectionForDisplay(spec) });
      let session: Session;
      try {
        session = h.session = await sessions.open(spec);
      } catch (error) {
        const message = error instanceof ConnectError ? error.message : (error as Error).message;
        emit({ type: 'host-unreachable', host: h.name, message });
        return finish(h, 'unreachable', undefined);
      }
      const upgrades = !options.uninstall && packageStateFor(h.vars, h.origins, defaults, h.play) === 'latest';
      const facts = factsScript({ withContent: options.diff || options.uninstall, withUpdates: upgrades, zyppLockTimeoutSeconds: options.zyppLockTimeoutSeconds });
      emit({ type: 'host-exec', host: h.name, script: 'facts', command: execCommandLine(spec), body: scriptForDisplay(facts) });
      const { result, problem } = await runBounded(session, facts, options);
      emit({ type: 'host-exec-result', host: h.name, script: 'facts', code: result.code, output: [factsOutputForDisplay(result.stdout), result.stderr].filter((t) => t.trim()).join('\n') });
      if (problem) return finish(h, 'failed', `reading facts: ${problem}`);
      try {
        if (result.code !== 0) throw new FactsError(result.stderr.trim() || `exit ${result.code}`);
        h.facts = parseFacts(result.stdout);
      } catch (error) {
        const becomeHint = /password is required|sudo:/.test(result.stderr)
          ? ' (become failed: give ansible_become_password or allow NOPASSWD sudo for this user)'
          : '';
        if (result.code === null) {
          emit({ type: 'host-unreachable', host: h.name, message: `connection lost while reading facts: ${result.stderr}` });
          return finish(h, 'unreachable');
        }
        return finish(h, 'failed', `cannot read facts: ${(error as Error).message}${becomeHint}`);
      }
      const platform = platformOf(h.facts);
      if (!platform.supported || !platform.provider) {
        emit({ type: 'host-refused', host: h.name, product: platform.product, reason: platform.refusal ?? 'unsupported' });
        return finish(h, 'skipped');
      }
      h.platform = platform as Platform & { provider: MetricsProvider };
      try {
        h.agentId = agentIdFromMachineId(h.facts.machineId);
      } catch (error) {
        return finish(h, 'failed', `/etc/machine-id: ${(error as Error).message}; run systemd-machine-id-setup on the host`);
      }
      emit({ type: 'host-facts', host: h.name, product: platform.product, provider: platform.provider, mode: platform.mode!, agentId: h.agentId });
      for (const message of h.facts.warnings) emit({ type: 'host-warning', host: h.name, message });
    });

    // 3. Settings that depend on the platform, then plans: all before any change.
    const ready = hosts.filter((h) => !h.done && h.platform && h.facts && h.agentId);
    emit({ type: 'phase', phase: 'plan', total: ready.length });
    const configs = new Map<HostState, ReturnType<typeof agentConfigFor>['config']>();
    for (const h of ready) {
      if (options.uninstall) continue;
      const { config, errors } = agentConfigFor(h.vars, h.origins, h.platform!.mode!, defaults, h.play);
      for (const e of errors) emit({ type: 'settings-error', host: h.name, ...e });
      if (errors.length) settingsFailed = true;
      configs.set(h, config);
    }
    if (settingsFailed) {
      for (const h of hosts) h.session?.close();
      return end(1);
    }
    for (const h of ready) {
      h.plan = planHost({
        roles: ROLES[h.platform!.provider!],
        alwaysAvailableHandlers: ALWAYS_AVAILABLE_HANDLERS,
        host: h.name,
        facts: h.facts!,
        platform: h.platform!,
        agentId: h.agentId!,
        config: configs.get(h) ?? { 'prometheus-mode': h.platform!.mode! },
        installMonitoringDep: installMonitoringDep(h.vars, h.origins, defaults),
        serverCaPem: serverCaPemFor(h.vars, h.origins, defaults, h.play),
        packageState: packageStateFor(h.vars, h.origins, defaults, h.play),
        withDiff: options.diff,
        uninstall: options.uninstall,
        purge: options.purge,
        ...(options.templates ? { templates: options.templates } : {}),
      });
      emit({
        type: 'host-plan',
        host: h.name,
        changes: h.plan.changes.map((c) => ({ id: c.id, summary: c.summary, ...(c.details ? { details: c.details } : {}), ...(c.diff ? { diff: c.diff } : {}) })),
        handlers: h.plan.handlers.map((x) => x.summary),
        ...(options.uninstall ? {} : { siteTemplates: siteTemplatesFor(options.templates, h.platform!.provider) }),
      });
      for (const w of h.plan.warnings) emit({ type: 'host-warning', host: h.name, message: w });
    }

    // Waves over every selected host in play order, reached or not: Ansible batches the
    // play's hosts before it knows which answer, and a host that failed counts in its batch.
    const inWaves = options.serial !== undefined || options.maxFailPercentage !== undefined;
    const waves = wavesOf(hosts, options.serial ?? []);
    if (inWaves) {
      emit({
        type: 'waves',
        serial: options.serial ? serialText(options.serial) : null,
        maxFailPercentage: options.maxFailPercentage ?? null,
        waves: waves.map((w) => w.map((h) => h.name)),
      });
    }
    const rollout = (applyWave: (list: HostState[]) => Promise<void>) =>
      rollOut(
        waves,
        { check: options.check, stop: options.stop, ...(options.maxFailPercentage !== undefined ? { maxFailPercentage: options.maxFailPercentage } : {}) },
        {
          emit,
          applyWave,
          // --check: the hosts a run would apply or verify; a run: those not finished yet.
          pending: (h) => (options.check ? ready.includes(h) && (h.status === 'ok' || h.status === 'changed') : !h.done),
          notStarted: (h, message) => finish(h, 'skipped', message),
        },
      );

    if (options.check) {
      for (const h of ready) finish(h, needsApply(h.plan!) ? 'changed' : 'ok');
      if (inWaves) await rollout(async () => undefined);
      return end();
    }

    // 4. Apply (or only verify, when nothing is to change): one round trip per host, in waves
    // when asked (each wave applied and verified before the next starts).
    emit({ type: 'phase', phase: 'apply', total: ready.length });
    // 5. With --verify-prometheus, each host that finished its rollout is then proved from
    // Trento's side, outside the fork pool (waiting on Prometheus holds no SSH slot); a wave
    // is done when Prometheus has answered for its hosts too.
    let viewErrorShown = false;
    const view = verifyEndpoint ? trentoView(prometheusApi(verifyEndpoint), options.verifyPrometheus?.waitMs ? { waitMs: options.verifyPrometheus.waitMs } : {}) : undefined;
    if (verifyEndpoint) emit({ type: 'trento-view-start', url: verifyEndpoint.url, auth: verifyEndpoint.auth });
    const proveThenFinish = (proofs: Promise<void>[]) => (h: HostState, status: HostStatus, message?: string) => {
      if (!view || (status !== 'ok' && status !== 'changed')) return finish(h, status, message);
      h.session?.close();
      const request = proofRequestFor(h.name, h.agentId!, h.platform!.mode!, configs.get(h) ?? { 'prometheus-mode': h.platform!.mode! });
      proofs.push(
        view.prove(request).then((answer) => {
          if ('error' in answer) {
            // Prometheus itself: one error for the run (printed once), not a failure of this host.
            if (!viewErrorShown) emit({ type: 'trento-view-error', kind: answer.error.kind, message: answer.error.message });
            viewErrorShown = true;
            return finish(h, status, message);
          }
          emit({ type: 'trento-view-host', host: h.name, proof: answer.proof });
          if (answer.proof.ok) return finish(h, status, message);
          const limit = `${Math.round(answer.proof.limitMs / 1000)} s`;
          return finish(h, 'failed', `Trento does not see this host: ${answer.proof.message} (waited ${limit}, ${options.verifyPrometheus?.waitMs ? '--verify-wait' : 'two scrape intervals'})`);
        }),
      );
    };
    // A second Ctrl-C stops waiting for Prometheus too (the hosts left are reported as stopped).
    const aborted = new Promise<void>((r) => (options.abort.aborted ? r() : options.abort.addEventListener('abort', () => r(), { once: true })));
    const applyAll = async (list: HostState[]) => {
      const proofs: Promise<void>[] = [];
      await forEachLimit(list, options.forks, async (h) => {
        if (options.stop.aborted) return finish(h, 'skipped', 'not started: interrupted');
        await applyHost(h, options, emit, proveThenFinish(proofs));
      });
      if (proofs.length && !inWaves) emit({ type: 'phase', phase: 'verify', total: proofs.length });
      await Promise.race([Promise.all(proofs), aborted]);
    };
    if (inWaves) await rollout(applyAll);
    else await applyAll(ready);
  } finally {
    options.abort.removeEventListener('abort', onAbort);
    for (const h of hosts) if (!h.done) finish(h, 'failed', 'stopped before this host finished');
    // No ssh process and no control socket outlives the run.
    await sessions.close();
  }
  return end();
}

const DEFAULT_MAX_HOST_OUTPUT_BYTES = 64 * 1024 * 1024;

/**
 * Runs a script with the limits a hostile or broken host must not escape: what it may send is
 * bounded (past the bound the session is closed and the host fails, so the controller never
 * holds more), and a script that outlives --remote-timeout is stopped (on the host by timeout(1),
 * exit 124/137; if the host does not even answer that, the controller closes the session 30 s
 * later).
 */
async function runBounded(
  session: Session,
  script: Parameters<Session['run']>[0],
  options: RunOptions,
  onOutput?: (chunk: string) => void,
): Promise<{ result: Awaited<ReturnType<Session['run']>>; problem?: string }> {
  const maxBytes = options.maxHostOutputBytes ?? DEFAULT_MAX_HOST_OUTPUT_BYTES;
  const limit = options.connection.scriptTimeoutSeconds ?? 0;
  let problem: string | undefined;
  let received = 0;
  const timer =
    limit > 0
      ? setTimeout(() => {
          problem ??= `the host did not finish its script within --remote-timeout ${limit} s (nor stop it); the connection was closed`;
          session.close();
        }, (limit + 30) * 1000)
      : undefined;
  try {
    const result = await session.run(script, (chunk) => {
      received += Buffer.byteLength(chunk);
      if (received > maxBytes && !problem) {
        problem = `the host sent more than ${Math.round(maxBytes / 1024 / 1024)} MiB for one script (--max-host-output); the connection was closed`;
        session.close();
      }
      if (!problem) onOutput?.(chunk);
    });
    if (!problem && limit > 0 && (result.code === 124 || result.code === 137)) {
      problem = `the script ran longer than --remote-timeout ${limit} s and was stopped on the host with everything it started`;
    }
    return { result, ...(problem ? { problem } : {}) };
  } finally {
    if (timer) clearTimeout(timer);
  }
}

async function applyHost(
  h: HostState,
  options: RunOptions,
  emit: Emit,
  finish: (h: HostState, status: HostStatus, message?: string) => void,
): Promise<void> {
  const plan = h.plan!;
  const steps = planSteps(plan);
  const scriptOptions = { zyppLockTimeoutSeconds: options.zyppLockTimeoutSeconds };
  const script = needsApply(plan) ? applyScript(plan, scriptOptions) : verifyScript(plan, scriptOptions);
  let failed = false;
  let sawDone = false;
  const read = markerReader((m) => {
    switch (m.kind) {
      case 'ok': {
        const s = steps[m.step];
        if (s) emit({ type: 'change-applied', host: h.name, id: s.id, summary: s.summary });
        break;
      }
      case 'failed': {
        const s = steps[m.step];
        failed = true;
        emit({ type: 'change-failed', host: h.name, id: s?.id ?? `step ${m.step}`, summary: s?.summary ?? '', rc: m.rc, output: m.output });
        break;
      }
      case 'warn':
        emit({ type: 'host-warning', host: h.name, message: m.message });
        break;
      case 'verified':
        emit({ type: 'host-verified', host: h.name, check: m.check, ok: true });
        break;
      case 'unverified':
        failed = true;
        emit({ type: 'host-verified', host: h.name, check: m.check, ok: false, output: m.output });
        break;
      case 'done':
        sawDone = true;
        break;
      default:
        break;
    }
  });
  emit({ type: 'host-exec', host: h.name, script: 'apply', command: execCommandLine(connectionFor(h.name, h.vars, options.connection)), body: scriptForDisplay(script) });
  const { result, problem } = await runBounded(h.session!, script, options, read);
  // stdout is the markers, already shown as CHANGED/FAILED and step output; stderr is the rest.
  emit({ type: 'host-exec-result', host: h.name, script: 'apply', code: result.code, output: result.stderr });
  if (problem) return finish(h, 'failed', `${problem}; the next run converges from what the host has`);
  if (result.code === null && !sawDone) {
    emit({ type: 'host-unreachable', host: h.name, message: `connection lost during apply (${result.stderr.trim()}); the host finishes the step it started on its own; run again to converge` });
    return finish(h, 'unreachable');
  }
  if (failed) return finish(h, 'failed');
  if (!sawDone) {
    const why = result.stderr.trim().split('\n').slice(-5).join('\n');
    return finish(h, 'failed', `the apply script stopped early (exit ${result.code})${why ? `: ${why}` : ''}`);
  }
  finish(h, needsApply(plan) ? 'changed' : 'ok');
}
