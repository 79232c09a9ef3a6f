// The trento_agent role: the agent package, /etc/trento/agent.yaml, the unit drop-in that ties
// the agent to its metrics provider and, on push hosts whose agent has `generate alloy`, the
// configure-alloy.sh that the drop-in runs before the agent starts.
import { readFileSync } from 'node:fs';
import ejs from 'ejs';
import { toShell } from '../../../src/exec/command.ts';
import { CONFIGURE_ALLOY_STAGE_PREFIX, prelude, safeFiles } from '../../../src/shell/index.ts';
import { ALLOY_HTTP, FILE_ACCESS, PACKAGES, PATHS, PROVIDERS, TOOLKIT_MARK, UNITS } from '../../../src/facts/paths.ts';
import { agentLeftoversRemoved, file, fileAbsent, fileRecordForgotten, foldersEmptied, installedByToolkit, service } from '../../../src/plan/ops.ts';
import type { RoleTasks, TaskContext } from '../../../src/plan/types.ts';
import { renderAgentYaml } from '../../../src/render/agent-yaml.ts';
import { agentWritesTheSame } from '../../../src/render/trento-alloy.ts';
import { maskAgentYaml } from '../../../src/settings/secrets.ts';
import { rebuildTrustStore, reloadSystemdUnits } from '../handlers/main.ts';

const roleFile = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');

/** configure-alloy.sh as installed: the role's file with the paths, unit, owner and mode it
 *  needs (from the tables every role uses) and the shared safe-file functions in it (the host has
 *  no trento-provision library to source; the script must stand alone). Its staging folders have
 *  a prefix of their own: a provision run's clean-up of its own leftovers never removes one that
 *  the agent's start is using. */
export function configureAlloyScript(): string {
  const [head, tail] = roleFile('files/configure-alloy.sh').split(/^# @safe-files@.*\n/m);
  if (tail === undefined) throw new Error('roles/trento_agent/files/configure-alloy.sh has lost its "# @safe-files@" line');
  const settings = prelude({
    TP_ALLOY_SYSCONFIG: PATHS.alloySysconfig,
    TP_ALLOY_DEFAULT_DIR: PATHS.alloyDefaultDir,
    TP_TRENTO_ALLOY: PATHS.trentoAlloyName,
    TP_ALLOY_UNIT: UNITS.alloy,
    TP_ALLOY_OWNER: `${FILE_ACCESS.trentoAlloy.owner}:${FILE_ACCESS.trentoAlloy.group}`,
    TP_ALLOY_MODE: FILE_ACCESS.trentoAlloy.mode,
    TP_ALLOY_HTTP: ALLOY_HTTP,
    TP_STAGE_PREFIX: CONFIGURE_ALLOY_STAGE_PREFIX,
  });
  return `${head}${toShell(settings)}\n${toShell(safeFiles())}${tail}`;
}

/**
 * The agent regenerates trento.alloy before it starts (configure-alloy.sh) only where it can
 * (3.1.0+), where the file is the role's (a site's own trento.alloy.ejs would be replaced by the
 * agent's template at every agent start), where agent.yaml is the role's too (the agent renders
 * trento.alloy from agent.yaml, the toolkit from the settings: a site agent.yaml.ejs that writes
 * other prometheus-* values would make the two files differ, and each run and each agent start
 * undo the other's) and where the agent's raw output is the role's escaped one
 * (agentWritesTheSame). Elsewhere the toolkit alone writes the file.
 */
function agentRegeneratesAlloy(ctx: TaskContext): boolean {
  return agentCanRegenerate(ctx) && agentWritesTheSame(ctx.settings.agent, ctx.agentId) && !foreignScript(ctx);
}

/** A configure-alloy.sh that is not the toolkit's (no TOOLKIT_MARK: a trento-agent release that
 *  ships its own at that path): neither replaced nor removed, and not run by the toolkit's drop-in
 *  (what it does is its package's business), so the toolkit renders trento.alloy alone. */
const foreignScript = (ctx: TaskContext) => {
  const script = ctx.facts.files[PATHS.configureAlloyScript];
  return script?.exists === true && script.marked === false;
};

/** Removed only when it is the toolkit's. */
const scriptAbsent = (ctx: TaskContext) => (foreignScript(ctx) ? null : fileAbsent(PATHS.configureAlloyScript, ctx.facts, ctx.withDiff));

/** A push host whose agent has `generate alloy` and whose trento.alloy is the role's template. */
const agentCanRegenerate = (ctx: TaskContext) =>
  ctx.platform.provider === 'alloy' && ctx.agentHasGenerateAlloy && !ctx.templates?.['trento.alloy.ejs'].site && !ctx.templates?.['agent.yaml.ejs'].site;

export function dropInContent(ctx: TaskContext): string {
  const withScript = agentRegeneratesAlloy(ctx);
  return ejs.render(roleFile('templates/trento-agent-dropin.conf.ejs'), {
    unit: PROVIDERS[ctx.platform.provider].unit,
    configureAlloy: withScript ? PATHS.configureAlloyScript : '',
  });
}

export function install(ctx: TaskContext): RoleTasks {
  const { facts, withDiff } = ctx;
  const installedNow = !facts.packages[PACKAGES.agent];
  const withScript = agentRegeneratesAlloy(ctx);
  // The drop-in as it should be on disk, but systemd not told (put back by hand, a backup): the
  // agent runs without what it says (Wants=, After=, the ExecStartPre).
  const unitStale = facts.units[UNITS.agent]?.needsReload === true;
  return {
    warnings: [
      ...(agentCanRegenerate(ctx) && foreignScript(ctx)
        ? [
            `${PATHS.configureAlloyScript} is not trento-provision's (it lacks the line "${TOOLKIT_MARK}": a trento-agent release's own?); it is left as it is, trento.alloy is rendered by the toolkit alone and the agent unit gets no ExecStartPre`,
          ]
        : []),
      ...(agentCanRegenerate(ctx) && !withScript && !foreignScript(ctx)
        ? [
            "a value of trento.alloy needs an escape (a quote, a backslash or a control character) that 'trento-agent generate alloy' does not write; trento.alloy is rendered by the toolkit alone and the agent unit gets no ExecStartPre",
          ]
        : []),
      ...(unitStale
        ? [`${UNITS.agent}'s unit files changed on disk since systemd read them (NeedDaemonReload): systemd reads them again and the agent is restarted`]
        : []),
      // rpm's copy of an agent.yaml whose package went (an uninstall without --purge on SLES 15,
      // an upgrade to a release whose package no longer ships the file): the API key and the
      // RabbitMQ password it held, readable by root only, for as long as nobody removes it.
      ...(facts.files[PATHS.agentConfigSavedByRpm]?.exists
        ? [
            `${PATHS.agentConfigSavedByRpm} (rpm's copy of an earlier agent.yaml) is still there and may hold an old API key and RabbitMQ password: remove it if nothing needs it (--uninstall --purge removes it too)`,
          ]
        : []),
      // Dropped from the settings, the anchor the toolkit wrote stays trusted by every program on
      // the host: said, not removed (the admin may have moved Trento, or made the CA theirs).
      ...(ctx.settings.serverCaPem === undefined && facts.record.files.includes(PATHS.serverCaCert) && facts.files[PATHS.serverCaCert]?.exists
        ? [
            `${PATHS.serverCaCert}, the CA trento-provision wrote for agent_server_ca_cert, is still trusted by the whole host though agent_server_ca_cert is no longer set: remove it and run update-ca-certificates if Trento no longer needs it (--uninstall --purge removes it)`,
          ]
        : []),
    ],
    ...(unitStale ? { dueHandlers: ['reload systemd units' as const, 'restart trento-agent' as const] } : {}),
    installPackages: [PACKAGES.agent],
    whenMissing: {
      [PACKAGES.agent]: "enable the channel that ships Trento's agent (SLES for SAP: the SAP Applications module; zypper repos, SUSEConnect --status)",
    },
    changes: [
      file(
        {
          path: PATHS.agentConfig,
          content: renderAgentYaml(ctx.settings.agent, ctx.templates?.['agent.yaml.ejs'].path),
          ...FILE_ACCESS.agentConfig,
          mask: maskAgentYaml,
          notify: ['restart trento-agent'],
          ...(installedNow && ctx.platform.agentPackageShipsConfig ? { shippedBy: PACKAGES.agent } : {}),
        },
        facts,
        withDiff,
      ),
      withScript
        ? file({ path: PATHS.configureAlloyScript, content: configureAlloyScript(), ...FILE_ACCESS.configureAlloyScript }, facts, withDiff)
        : scriptAbsent(ctx),
      file(
        {
          path: PATHS.agentDropIn,
          content: dropInContent(ctx),
          ...FILE_ACCESS.agentDropIn,
          notify: ['restart trento-agent'],
          after: reloadSystemdUnits,
        },
        facts,
        withDiff,
      ),
      // As the official role: only when agent_server_ca_cert is set; the trust store is rebuilt
      // only when the file changed (the official role runs update-ca-certificates every time), and
      // the agent restarted: Go reads the system roots once per process (crypto/x509), and a
      // reload keeps them. So does Alloy, which pushes to Trento over TLS with them when
      // trento.alloy names no ca_file: restarted too, where it is the provider (the official
      // role has no Alloy to restart).
      ctx.settings.serverCaPem !== undefined
        ? file(
            {
              path: PATHS.serverCaCert,
              content: ctx.settings.serverCaPem,
              ...FILE_ACCESS.serverCaCert,
              after: rebuildTrustStore,
              notify: ctx.platform.provider === 'alloy' ? ['restart trento-agent', 'restart alloy'] : ['restart trento-agent'],
              // The official playbook's path: an admin may have put their own anchor there.
              recorded: true,
            },
            facts,
            withDiff,
          )
        : // Dropped from the settings: once the file is gone too, the record must go, or a later
          // --purge would remove an anchor the admin puts at this official path.
          fileRecordForgotten(PATHS.serverCaCert, facts),
      service(UNITS.agent, { enabled: true, running: true }, facts, installedNow),
    ],
  };
}

export function uninstall(ctx: TaskContext): RoleTasks {
  const { facts, withDiff } = ctx;
  // --purge removes the server CA anchor only where the toolkit wrote it (its files record).
  const anchorOurs = facts.record.files.includes(PATHS.serverCaCert);
  const anchorKept = ctx.purge && !anchorOurs && facts.files[PATHS.serverCaCert]?.exists === true;
  const removePackages = facts.packages[PACKAGES.agent] ? [PACKAGES.agent] : [];
  // Where the package shipped agent.yaml as its config file (SLE 15), rpm keeps a changed one
  // under another name when the package goes: the plan cannot say "stays" at the old path alone.
  const configKept = !ctx.purge && installedByToolkit(PACKAGES.agent, facts) && facts.files[PATHS.agentConfig]?.exists === true;
  const rpmKeeps = ctx.platform.agentPackageShipsConfig
    ? ` (the package shipped it: rpm keeps it as ${PATHS.agentConfigSavedByRpm} when trento-agent is removed)`
    : '';
  // The files it removes besides the anchor (elsewhere): what --purge's folders may have held.
  const removals = [
    // Its trento-agent.service.d folder too, when the toolkit's drop-in was all there was.
    fileAbsent(PATHS.agentDropIn, facts, withDiff, { after: reloadSystemdUnits, folderIfEmpty: true }),
    scriptAbsent(ctx),
    ctx.purge ? fileAbsent(PATHS.agentConfig, facts, withDiff, { mask: maskAgentYaml }) : null,
    // The copy rpm saved of it when an earlier uninstall removed the package (SLE 15): the API
    // key is in it too.
    ctx.purge ? fileAbsent(PATHS.agentConfigSavedByRpm, facts, withDiff, { mask: maskAgentYaml }) : null,
    // And the package's new default rpm set beside it when an upgrade found agent.yaml changed:
    // only with the package gone (an admin's trento-agent that stays keeps its files).
    ctx.purge && (!facts.packages[PACKAGES.agent] || installedByToolkit(PACKAGES.agent, facts))
      ? fileAbsent(PATHS.agentConfigNewFromRpm, facts, withDiff, { mask: maskAgentYaml })
      : null,
  ];
  return {
    warnings: [
      ...(anchorKept
        ? [`${PATHS.serverCaCert} was not written by trento-provision (not in ${PATHS.stateDir}/files); it stays, and the trust store with it`]
        : []),
      ...(configKept ? [`${PATHS.agentConfig} stays, with the API key in it${rpmKeeps}; --purge removes it`] : []),
    ],
    removePackages,
    changes: [
      service(UNITS.agent, { enabled: false, running: false }, facts, false),
      agentLeftoversRemoved(facts),
      ...removals,
      // An Alloy that stays running (the admin's, or one loading pipelines of theirs) holds the
      // system roots it read at its start, this CA among them: restarted, as when the CA came
      // (the handler exists only where Alloy keeps running; else nothing is notified).
      ctx.purge && anchorOurs
        ? fileAbsent(PATHS.serverCaCert, facts, withDiff, {
            after: rebuildTrustStore,
            recorded: true,
            ...(ctx.platform.provider === 'alloy' ? { notify: ['restart alloy'] } : {}),
          })
        : null,
      ctx.purge ? fileRecordForgotten(PATHS.serverCaCert, facts) : null,
      // /etc/trento and /usr/share/trento where the toolkit made them (SLES 16: no package owns them)
      ...(ctx.purge ? foldersEmptied(removals, facts) : []),
    ],
  };
}
