// The alloy role (push hosts, SLES 16): the alloy package, Alloy in directory mode, trento.alloy
// (0640 alloy:alloy) in the folder Alloy really loads, Alloy enabled and running.
// Alloy loads exactly $CONFIG_FILE (trento-facts.md): a file in /etc/alloy/config.d/ or a
// systemd Environment= drop-in would be ignored, so when CONFIG_FILE names one file the role
// switches that one line to the file's folder, as the official playbook does, and keeps the
// old line so uninstall can put it back.
import { sh } from '../../../src/exec/command.ts';
import { FILE_ACCESS, PACKAGES, PATHS, UNITS } from '../../../src/facts/paths.ts';
import {
  adminService,
  adminServiceRestored,
  file,
  fileAbsent,
  installedByToolkit,
  service,
  packagesWanted,
  unifiedDiff,
  unitPrior,
} from '../../../src/plan/ops.ts';
import type { Change, RoleTasks, TaskContext } from '../../../src/plan/types.ts';
import type { HostFacts } from '../../../src/facts/types.ts';
import { unitRunning } from '../../../src/facts/sources/units.ts';
import { renderTrentoAlloy } from '../../../src/render/trento-alloy.ts';
import { maskAlloy } from '../../../src/settings/secrets.ts';
import { alloyHandlers } from '../handlers/main.ts';

/** Where trento.alloy must be for Alloy to load it: the CONFIG_FILE folder. */
export function trentoAlloyPath(ctx: TaskContext): string {
  return `${ctx.facts.alloy.configDir || PATHS.alloyDefaultDir}/${PATHS.trentoAlloyName}`;
}

/** trento.alloy in Alloy's default folder where Alloy loads another (undefined where it loads
 *  that folder, however CONFIG_FILE spells it). */
function legacyTrentoAlloy(ctx: TaskContext): string | undefined {
  const legacy = `${PATHS.alloyDefaultDir}/${PATHS.trentoAlloyName}`;
  return trentoAlloyPath(ctx) === legacy || ctx.facts.alloy.configDirIsDefault ? undefined : legacy;
}

/** What makes a trento.alloy Trento's: its remote_write component (the toolkit's and the agent's templates). */
const TRENTO_PIPELINE = /^prometheus\.remote_write\s+"trento"\s*\{/m;

/** The last CONFIG_FILE line of the text (its CR dropped), as the host's tp_alloy_config_line
 *  finds it; undefined when there is none. */
function configFileLine(sysconfig: string): string | undefined {
  return sysconfig
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter(isConfigFileLine)
    .at(-1);
}

/** A CONFIG_FILE line as systemd finds the key (src/apply/alloy.sh's TP_CONFIG_FILE_ERE). */
const isConfigFileLine = (line: string) => /^[ \t]*CONFIG_FILE[ \t]*=/.test(line);

/** The same edit tp_alloy_dir_mode (src/apply/alloy.sh) makes on the host, computed here to
 *  show it: every CONFIG_FILE line set to the folder, or one added at the end when there is none. */
export function dirModeText(sysconfig: string, dir: string): string {
  // Inside "...", systemd reads \ " ` $ as escapes (env-file.c): they are written escaped.
  const line = `CONFIG_FILE="${`${dir}/`.replace(/[\\"`$]/g, '\\$&')}"`;
  // Lines as grep and awk see them on the host (split at LF only; a CR LF line keeps its CR).
  const lines = sysconfig.split('\n');
  const last = lines.map((l) => isConfigFileLine(l)).lastIndexOf(true);
  if (last >= 0) {
    // Only the last CONFIG_FILE line, the one systemd uses (as tp_alloy_dir_mode edits it).
    const edited = lines.map((l, i) => (i === last ? `${line}${l.endsWith('\r') ? '\r' : ''}` : l)).join('\n');
    // awk ends every line it prints: a file without a final newline gets one.
    return edited.endsWith('\n') ? edited : `${edited}\n`;
  }
  return `${sysconfig}${sysconfig === '' || sysconfig.endsWith('\n') ? '' : '\n'}${line}\n`;
}

/** Files Alloy does not load now (on a single file) and will once it loads the folder: said where
 *  the admin looks, under the switch (--diff) and as a warning (--check and every run), as they
 *  start running. */
const dormantPipelines = (facts: HostFacts) =>
  facts.alloy.configIsDir ? [] : facts.alloy.dormantFiles.map((n) => `${facts.alloy.configDir || PATHS.alloyDefaultDir}/${n}`);
const dormantNote = (dormant: string[], dir: string) =>
  `Alloy will also load ${dormant.join(', ')}, which it does not load now: move what must not run out of ${dir}/ first`;

function directoryMode(ctx: TaskContext): Change | null {
  const { facts } = ctx;
  if (facts.alloy.configIsDir) return null;
  const current = facts.alloy.configFile || `${PATHS.alloyPackageConfigFile} (package default)`;
  const dir = facts.alloy.configDir || PATHS.alloyDefaultDir;
  const sysconfig = facts.files[PATHS.alloySysconfig];
  const dormant = dormantPipelines(facts);
  return {
    id: `line:${PATHS.alloySysconfig}:CONFIG_FILE`,
    kind: 'line',
    summary: `switch Alloy to directory mode: CONFIG_FILE ${current} -> ${dir}/ (only that line of ${PATHS.alloySysconfig}; the old line is kept in ${PATHS.savedAlloyConfigFile} for uninstall)`,
    ...(dormant.length ? { details: [dormantNote(dormant, dir)] } : {}),
    ...(ctx.withDiff && sysconfig?.content !== undefined
      ? {
          // The changed line alone: the admin's other lines there may hold Alloy's environment
          // secrets (an API key variable), which no run knows to mask.
          diff: unifiedDiff(PATHS.alloySysconfig, PATHS.alloySysconfig, sysconfig.content, dirModeText(sysconfig.content, dir), 0),
        }
      : {}),
    script: sh`tp_alloy_dir_mode ${PATHS.alloySysconfig} ${PATHS.savedAlloyConfigFile} ${PATHS.ownAlloyConfigLine}`,
    notify: ['restart alloy'],
  };
}

export function install(ctx: TaskContext): RoleTasks {
  const { facts, withDiff } = ctx;
  const target = trentoAlloyPath(ctx);
  // A trento.alloy (Trento's pipeline, read by the facts as a file in Alloy's folder always is)
  // the toolkit or the agent wrote in Alloy's default folder before the admin pointed CONFIG_FILE
  // at another: Alloy no longer loads it, and its Trento credentials would stay behind for good
  // (an uninstall removes it too). Not a file of another kind of the admin's.
  const legacy = legacyTrentoAlloy(ctx);
  const held = facts.files[legacy ?? '']?.content;
  const leftBehind = legacy !== undefined && held !== undefined && TRENTO_PIPELINE.test(held);
  // With agent_install_monitoring_dep: false Alloy is the admin's to install. Where it is not
  // (no sysconfig, which the package ships and directory mode needs), the apply would write
  // trento.alloy for an alloy account that does not exist and fail half way: refused first.
  const alloyMissing = !ctx.settings.installMonitoringDep && !facts.files[PATHS.alloySysconfig]?.exists;
  // Directory mode loads only the folder's *.alloy files: the admin's pipeline in a file of
  // another name would stop running, while Trento's would be proved and the run say "changed".
  const dropsConfigFile = !facts.alloy.configIsDir && facts.alloy.configFileNotAlloy === true;
  const dormant = dormantPipelines(facts);
  return withStaleAlloy(
    {
      refusals: [
        ...(alloyMissing
          ? [
              facts.packages[PACKAGES.alloy]
                ? `${PATHS.alloySysconfig} is missing, though the ${PACKAGES.alloy} package is installed, and agent_install_monitoring_dep is false: put it back (zypper install --force ${PACKAGES.alloy}) and run again`
                : `Alloy is not installed (no ${PATHS.alloySysconfig}) and agent_install_monitoring_dep is false, which leaves installing it to you: install the ${PACKAGES.alloy} package, or set agent_install_monitoring_dep: true, and run again`,
            ]
          : []),
        ...(dropsConfigFile
          ? [
              `Alloy's CONFIG_FILE in ${PATHS.alloySysconfig} is ${facts.alloy.configFile}, whose name does not end in .alloy: Trento's trento.alloy needs Alloy to load its folder, and Alloy loads only the *.alloy files of a folder, so that file would stop being loaded; rename it to a NAME.alloy in the same folder and point CONFIG_FILE at the new name (or at the folder), restart Alloy, and run again`,
            ]
          : []),
      ],
      warnings: [
        ...(dormant.length ? [`switching Alloy to directory mode: ${dormantNote(dormant, facts.alloy.configDir || PATHS.alloyDefaultDir)}`] : []),
        ...(leftBehind
          ? [
              `${legacy} is Trento's, left from when Alloy loaded ${PATHS.alloyDefaultDir}/ (CONFIG_FILE now names ${facts.alloy.configFile}): Alloy no longer loads it; it is removed, with the Trento credentials it holds`,
            ]
          : []),
      ],
      installPackages: packagesWanted(ctx, [PACKAGES.alloy]),
      whenMissing: {
        [PACKAGES.alloy]:
          'enable the channel that ships it (zypper repos, SUSEConnect --status), or set agent_install_monitoring_dep: false and run Alloy yourself',
      },
      changes: [
        // trento.alloy first, validated with the folder as directory mode will load it: should
        // Alloy refuse that folder (a clashing file of the admin's), CONFIG_FILE is never switched
        // to it, and Alloy, still in single-file mode, ignores the folder's other files.
        file(
          {
            path: target,
            content: renderTrentoAlloy(ctx.settings.agent, ctx.agentId, ctx.templates?.['trento.alloy.ejs'].path),
            ...FILE_ACCESS.trentoAlloy,
            mask: maskAlloy,
            validate: sh`tp_alloy_validate_dir ${target.slice(0, -PATHS.trentoAlloyName.length - 1)} ${PATHS.trentoAlloyName}`,
            notify: ['reload alloy'],
          },
          facts,
          withDiff,
        ),
        // Reloaded all the same: an Alloy started before the admin's CONFIG_FILE edit still runs
        // that folder, whose trento.alloy a reload would keep loading, old credentials and all,
        // and pass the checks; without it, the reload leaves Alloy without Trento's pipeline and
        // the handler restarts it onto CONFIG_FILE's folder. Put back should Alloy refuse.
        leftBehind ? fileAbsent(legacy, facts, withDiff, { mask: maskAlloy, restorable: true, notify: ['reload alloy'] }) : null,
        directoryMode(ctx),
        adminService(UNITS.alloy, { enabled: true, running: true }, facts, !facts.packages[PACKAGES.alloy], PACKAGES.alloy),
      ],
      handlers: alloyHandlers('present', leftBehind ? [target, legacy, PATHS.alloySysconfig] : [target, PATHS.alloySysconfig]),
    },
    facts,
    true,
  );
}

/**
 * Alloy ready with a pipeline its files no longer give it (the probe's reading): without
 * Trento's though trento.alloy is in place (an admin's reload of a folder that refused it, a
 * CONFIG_FILE changed without a restart), or still with it after trento.alloy went (removed by
 * hand, or by an uninstall whose reload never ran). Nothing to write, so nothing would notify the
 * reload, and the check on what Alloy runs would fail on every run: the reload is due (it names
 * Alloy's refusal, if any), with a warning saying why. (A reload reads the path Alloy was started
 * with: where CONFIG_FILE changed since, tp_alloy_apply restarts Alloy once the reload left it
 * without what it should run.)
 */
function withStaleAlloy(tasks: RoleTasks, facts: HostFacts, wantsTrento: boolean): RoleTasks {
  const { alloyReady, alloyRunsTrento } = facts.probes;
  const reloads = tasks.changes.some((c) => c?.notify?.some((h) => h === 'reload alloy' || h === 'restart alloy'));
  if (alloyReady !== true || alloyRunsTrento === undefined || alloyRunsTrento === wantsTrento || reloads) return tasks;
  return {
    ...tasks,
    dueHandlers: ['reload alloy'],
    warnings: [
      ...(tasks.warnings ?? []),
      wantsTrento
        ? `Alloy is running without Trento's pipeline (prometheus.remote_write.trento), though ${PATHS.trentoAlloyName} is as it should be: it is reloaded`
        : `Alloy still runs Trento's pipeline (prometheus.remote_write.trento), though ${PATHS.trentoAlloyName} is gone: it is reloaded without it`,
    ],
  };
}

export function uninstall(ctx: TaskContext): RoleTasks {
  const { facts, withDiff } = ctx;
  const target = trentoAlloyPath(ctx);
  const legacy = legacyTrentoAlloy(ctx);
  const purge = ctx.purge && Boolean(facts.packages[PACKAGES.alloy]);
  // Only the toolkit's own Alloy (its record on the host) is stopped: one the admin installed runs
  // their own pipelines too, keeps running (reloaded without trento.alloy) and keeps its package.
  // So does the toolkit's own where the admin has since given it pipelines of theirs (a file it
  // loads besides trento.alloy that is not its package's own, unchanged: their config.alloy, an
  // admin.alloy in its folder): --purge would stop them with it, without a word.
  const adminPipelines = facts.alloy.adminPipelines ?? [];
  const toolkits = purge && installedByToolkit(PACKAGES.alloy, facts);
  const ours = toolkits && adminPipelines.length === 0;
  // The admin's Alloy back to how it was before the toolkit enabled or started it; stopped, it
  // has nothing to reload (it reads its files when they start it), as the toolkit's own going.
  // Neither stopped nor disabled where it loads pipelines of the admin's now (given since the
  // toolkit turned it on): left as it is, record kept, with a warning saying how to finish. Also
  // when it is stopped just now (the admin's maintenance): disabled, it would not come back at
  // boot with their pipelines.
  const putBack = ours ? null : adminServiceRestored(UNITS.alloy, facts);
  const turnedOnByToolkit = unitPrior(facts, UNITS.alloy)?.running === false;
  const keptForAdmin = adminPipelines.length > 0 && turnedOnByToolkit && Boolean(putBack?.service?.stop || putBack?.service?.disable);
  const restored = keptForAdmin ? null : putBack;
  const stopped = ours || Boolean(restored?.service?.stop);
  // An Alloy that does not run (the admin stopped it) reads what the uninstall leaves when it
  // starts: nothing to reload or restart, and the plan does not say it would (the apply would not).
  const idle = stopped || !unitRunning(facts.units[UNITS.alloy]);
  const restore = configFileRestored(facts, ours, idle);
  // A pipeline of the admin's in Alloy's folder that uses Trento's (the facts' alloy validate of
  // the folder without trento.alloy): the reload would be refused once the agent is stopped and
  // its files gone. A running Alloy refuses the host before any change, --check too; a stopped
  // one is told of (it would not start on what is left).
  const withoutTrento = facts.files[target]?.exists ? facts.alloy.withoutTrentoRefused : undefined;
  const dependsOnTrento = (then: string) =>
    `Alloy would refuse ${facts.alloy.configDir}/ without ${PATHS.trentoAlloyName}: a file of yours there uses Trento's pipeline (alloy validate: ${withoutTrento?.split('\n').join(' ')}); ${then}`;
  const tasks: RoleTasks = {
    refusals:
      withoutTrento && !idle
        ? [
            dependsOnTrento(
              'change it so that it no longer refers to prometheus.remote_write.trento (or move it out of the folder), then run the uninstall again; nothing was changed',
            ),
          ]
        : [],
    removePackages: purge && adminPipelines.length === 0 ? [PACKAGES.alloy] : [],
    warnings: [
      ...(withoutTrento && idle ? [dependsOnTrento('Alloy, stopped now, would not start on what the uninstall leaves until that file is changed')] : []),
      ...(keptForAdmin
        ? [
            `${UNITS.alloy} is not stopped or disabled, though it was ${unitPrior(facts, UNITS.alloy)?.line.split(' ').slice(1).join(' and ')} before trento-provision turned it on: it loads ${adminPipelines.join(', ')} (not trento-provision's, whether there before or added since), which would stop with it, or not start at boot; to put it back as it was, run 'systemctl disable --now ${UNITS.alloy}' on the host (or move them away and run the uninstall again)`,
          ]
        : []),
      ...(toolkits && adminPipelines.length > 0
        ? [
            `Alloy stays installed and running (reloaded without ${PATHS.trentoAlloyName}), though trento-provision installed it and --purge removes what it installed: it also loads ${adminPipelines.join(', ')}, not trento-provision's, which would stop with it; to remove Alloy, move them away and run the uninstall with --purge again (or remove the package yourself)`,
          ]
        : []),
      ...restore.warnings,
    ],
    changes: [
      // Put back, with the CONFIG_FILE line, should Alloy refuse what is left (a config of the
      // admin's that refers to Trento's component): Alloy then runs on what it ran, and its
      // next start finds the same files.
      fileAbsent(target, facts, withDiff, { notify: ['reload alloy'], mask: maskAlloy, restorable: true }),
      legacy === undefined ? null : fileAbsent(legacy, facts, withDiff, { mask: maskAlloy, restorable: true }),
      ...restore.changes,
      ours ? service(UNITS.alloy, { enabled: false, running: false }, facts, false) : restored,
    ],
    handlers: idle ? [] : alloyHandlers('absent', legacy === undefined ? [target, PATHS.alloySysconfig] : [target, legacy, PATHS.alloySysconfig]),
  };
  return idle ? tasks : withStaleAlloy(tasks, facts, false);
}

/**
 * Uninstall's steps for the CONFIG_FILE line the switch to directory mode saved (none when it
 * saved none): put back where the line is still the one the toolkit wrote, and the record
 * forgotten only once Alloy is proven on it (a retire step): should Alloy refuse the restored
 * line, the handler puts the toolkit's line back and the next uninstall restores it again.
 * Forgotten at once where the admin set another line since, where the line is back already (a
 * run whose checks failed after the restore), or where /etc/sysconfig/alloy went with Alloy's
 * package. Kept, with the folder, where the folder holds *.alloy files of the admin's that the
 * restored single-file mode would silently stop loading (unless Alloy goes with --purge), and
 * where the file the line names is not there or Alloy would refuse it alone (`alloy validate`, in
 * the facts) and Alloy runs (it would be restarted into a failure; a stopped Alloy gets the line
 * back, as it had it).
 */
function configFileRestored(facts: HostFacts, alloyRemoved: boolean, alloyStopped: boolean): { changes: Change[]; warnings: string[] } {
  const saved = facts.files[PATHS.savedAlloyConfigFile];
  if (!saved?.exists) return { changes: [], warnings: [] };
  const sysconfig = facts.files[PATHS.alloySysconfig];
  const forget = (why: string, phase?: 'retire'): Change => ({
    id: `record:${PATHS.savedAlloyConfigFile}`,
    kind: 'file',
    summary: `forget the saved CONFIG_FILE line (${PATHS.savedAlloyConfigFile}): ${why}`,
    script: sh`rm -f -- ${PATHS.savedAlloyConfigFile} ${PATHS.ownAlloyConfigLine}`,
    ...(phase ? { phase } : {}),
  });
  const only = (change: Change) => ({ changes: [change], warnings: [] });
  if (!sysconfig?.exists) return only(forget(`${PATHS.alloySysconfig} is gone, Alloy was removed`));
  const line = (saved.content ?? '').trim();
  const current = sysconfig.content === undefined ? undefined : configFileLine(sysconfig.content);
  // Back already: forgotten, but only once Alloy is proven on it where an earlier uninstall's
  // restart of Alloy did not finish (it runs now): should Alloy fail on the line, the handler puts
  // the toolkit's line back, and the next uninstall needs the record to restore it again.
  if (sysconfig.content !== undefined && (current ?? '').trim() === line) {
    return only(forget(`${PATHS.alloySysconfig} has it back`, facts.record.pendingHandlers.includes('restart alloy') ? 'retire' : undefined));
  }
  // The line the toolkit wrote (none recorded by versions before the record): where CONFIG_FILE
  // is another now, the admin set it since, and it stays.
  const ownLine = facts.files[PATHS.ownAlloyConfigLine]?.content?.split('\n')[0];
  if (ownLine && current !== ownLine) {
    return only(forget(`CONFIG_FILE in ${PATHS.alloySysconfig} was changed since trento-provision set it (${current ?? 'no line'}), and stays`));
  }
  // Alloy running in directory mode would be restarted into a failure (the restart handler then
  // puts the toolkit's line back and fails the host, at every uninstall): it keeps the folder.
  const missing = facts.alloy.singleFileMissing;
  if (missing && !alloyStopped) {
    return {
      changes: [],
      warnings: [
        `CONFIG_FILE in ${PATHS.alloySysconfig} stays ${current ?? 'a folder'} (directory mode): the line trento-provision replaced (${line || 'none, the package default'}) names ${missing}, which does not exist, so Alloy could not start on it; to go back to that line, create ${missing} (Alloy's configuration) and run the uninstall again (${PATHS.savedAlloyConfigFile} keeps the line)`,
      ],
    };
  }
  // Alloy would refuse that file alone (a config of the admin's that uses Trento's component): a
  // restart onto it would stop their pipelines, for good should the rollback's restart fail too.
  const refused = facts.alloy.singleFileRefused;
  if (refused && !alloyStopped) {
    return {
      changes: [],
      warnings: [
        `CONFIG_FILE in ${PATHS.alloySysconfig} stays ${current ?? 'a folder'} (directory mode): Alloy would not load ${refused.file} alone, which the line trento-provision replaced (${line || 'none, the package default'}) names (alloy validate: ${refused.errors.split('\n').join(' ')}); to go back to that line, make ${refused.file} load on its own and run the uninstall again (${PATHS.savedAlloyConfigFile} keeps the line)`,
      ],
    };
  }
  const dropped = facts.alloy.droppedBySingleFile;
  if (dropped.length && !alloyRemoved) {
    const names = dropped.map((n) => `${facts.alloy.configDir}/${n}`).join(', ');
    return {
      changes: [],
      warnings: [
        `CONFIG_FILE in ${PATHS.alloySysconfig} stays ${current ?? 'a folder'} (directory mode): Alloy loads ${names} there, which the line trento-provision replaced (${line || 'none, the package default'}) would stop loading; to go back to that line, move what they hold into the file it names (or out of the folder) and run the uninstall again (${PATHS.savedAlloyConfigFile} keeps the line)`,
      ],
    };
  }
  const changes: Change[] = [
    {
      id: `line:${PATHS.alloySysconfig}:CONFIG_FILE`,
      kind: 'line',
      // An empty record: the file had no CONFIG_FILE line, the toolkit added one.
      summary: line
        ? `restore CONFIG_FILE in ${PATHS.alloySysconfig} to ${line}`
        : `remove the CONFIG_FILE line trento-provision added to ${PATHS.alloySysconfig} (it had none)`,
      script: sh`tp_alloy_restore_config_file ${PATHS.alloySysconfig} ${PATHS.savedAlloyConfigFile} ${PATHS.ownAlloyConfigLine}`,
      notify: ['restart alloy'],
    },
    forget(
      alloyRemoved ? `${PATHS.alloySysconfig} has it back as Alloy's package goes (--purge)` : 'Alloy runs on the restored line (once the checks pass)',
      'retire',
    ),
  ];
  return { changes, warnings: [] };
}
