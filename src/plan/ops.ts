// Operations: each compares one piece of desired state with the host's facts and returns the
// change that closes the gap (or null when the host already matches). They never run anything.
import type { HostSettings } from '../settings/host-settings.ts';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { type Command, data, join, raw, sh } from '../exec/command.ts';
import { PACKAGES, PATHS, PROVIDER_UNIT_PACKAGES } from '../facts/paths.ts';
import type { HostFacts } from '../facts/types.ts';
import { unitRunning, unitStopped } from '../facts/sources/units.ts';
import type { Change, DiffRequest, Handler, HandlerName, ServiceSteps } from './types.ts';

// Libraries loaded on first use (synchronous, cached by require).
const load = createRequire(import.meta.url);

/**
 * A unified diff of two texts (for a change's --diff). The diff library is loaded by the first diff (require is
 * synchronous and caches): a run without --diff, or with nothing to change, never pays its
 * ~20 ms of start-up.
 */
export function unifiedDiff(oldName: string, newName: string, before: string, after: string, context = 3): string {
  const { createTwoFilesPatch } = load('diff') as typeof import('diff');
  return createTwoFilesPatch(oldName, newName, before, after, undefined, undefined, { context });
}

export interface FileSpec {
  path: string;
  content: string;
  owner: string;
  group: string;
  mode: string; // octal, e.g. "0640"
  /** Masks secrets in this file's text (old or new) before it is shown in a diff. */
  mask?: (text: string) => string;
  notify?: HandlerName[];
  /** Extra shell run against the temp file ($TP_NEW) before it replaces the target. */
  validate?: Command;
  /** The handler that belongs to the write itself, run at once after it: daemon-reload after a
   *  unit file changed (see Change.followUp). */
  after?: Handler;
  /** A path the admin may use too (the server CA anchor): once written, the path goes into the
   *  toolkit's files record (facts.record.files), so --purge removes it only where the toolkit
   *  wrote it. A file already right but not recorded (an earlier version wrote it) is recorded. */
  recorded?: boolean;
  /** Absent now, but a package this run installs first puts its own default there (SLE 15's
   *  trento-agent ships agent.yaml as a config file): said, so the dry run tells what happens. */
  shippedBy?: string;
}

/** The change's script, then its follow-up handler, whose record it clears once that ran. */
function withAfter(script: Command, after: Handler | undefined): Pick<Change, 'script' | 'followUp'> {
  if (!after) return { script };
  return { script: join([script, after.script, sh`tp_handler_done ${after.name}`], ' &&\n'), followUp: after.name };
}

const normMode = (mode: string) => mode.replace(/^0+(?=\d)/, '');
const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

function fileDiff(path: string, before: string | undefined, after: string, context: number, mask = (t: string) => t): string {
  if (before !== undefined && before !== after && mask(before) === mask(after)) {
    // The only difference is inside a masked value: say so rather than show an empty diff.
    return `--- ${path}\n+++ ${path}\n (a secret value changed; not shown)\n`;
  }
  const diff = unifiedDiff(before === undefined ? '/dev/null' : path, path, before === undefined ? '' : mask(before), mask(after), context);
  // A key rotated in the same run as a visible change: its masked line reads as unchanged.
  return before !== undefined && secretChangedUnseen(before, after, mask) ? `${diff} (a secret value changed too; not shown)\n` : diff;
}

/** Whether a line that looks the same once masked (`api-key: "********"`) holds another secret
 *  than before. Read line by line, where masking keeps the lines (it replaces values within them). */
function secretChangedUnseen(before: string, after: string, mask: (t: string) => string): boolean {
  const [rawBefore, rawAfter, maskedBefore, maskedAfter] = [before, after, mask(before), mask(after)].map((t) => t.split('\n'));
  if (rawBefore!.length !== maskedBefore!.length || rawAfter!.length !== maskedAfter!.length) return false;
  const shownBefore = new Set(maskedBefore);
  const heldBefore = new Set(rawBefore);
  return maskedAfter!.some((line, i) => line !== rawAfter![i] && shownBefore.has(line) && !heldBefore.has(rawAfter![i]!));
}

export function file(spec: FileSpec, facts: HostFacts, withDiff: DiffRequest): Change | null {
  const current = facts.files[spec.path];
  const contentDiffers = !current?.exists || current.sha256 !== sha256(spec.content);
  const metaDiffers = !current?.exists || current.owner !== spec.owner || current.group !== spec.group || current.mode !== normMode(spec.mode);
  const unrecorded = spec.recorded === true && !facts.record.files.includes(spec.path);
  if (!contentDiffers && !metaDiffers) {
    // Adopting a file someone else put in place: whatever put it there may not have run what
    // follows a write (a CA anchor copied without update-ca-certificates), so the record runs it
    // and notifies, once; later runs find the file recorded and plan nothing.
    return unrecorded
      ? {
          id: `record:files:${spec.path}`,
          kind: 'file',
          path: spec.path,
          summary: `record ${spec.path} as written by trento-provision (it is as the toolkit writes it)`,
          ...withAfter(recordFile(spec.path, 'add'), spec.after),
          ...(spec.notify ? { notify: spec.notify } : {}),
        }
      : null;
  }
  // The owner and mode it had are said whenever they change, also beside new content: a 0644
  // agent.yaml had its API key readable by every user (a key to rotate), which a drift report
  // must not leave unsaid.
  const what = !current?.exists
    ? 'create'
    : [contentDiffers ? 'update' : '', metaDiffers ? `fix owner/mode (was ${current.owner}:${current.group} ${current.mode})` : ''].filter(Boolean).join(', ');
  const over = !current?.exists && spec.shippedBy ? `, over the default the ${spec.shippedBy} package installs there` : '';
  return {
    id: `file:${spec.path}`,
    kind: 'file',
    path: spec.path,
    summary: `${what} ${spec.path} (${spec.mode} ${spec.owner}:${spec.group})${over}`,
    ...(withDiff && contentDiffers
      ? { diff: fileDiff(spec.path, current?.exists ? current.content : undefined, spec.content, withDiff.context, spec.mask) }
      : {}),
    // Owner or mode alone are fixed by writing the file anew too: chown/chmod by path would act
    // on whatever a service account put at the path by then (a link's target).
    ...withAfter(writeCommand(spec), spec.after),
    ...(spec.notify ? { notify: spec.notify } : {}),
  };
}

/** The toolkit's files record (facts.record.files) with PATH added or removed. */
const recordFile = (path: string, how: 'add' | 'remove'): Command => sh`tp_record_edit files ${how} ${path}`;

/** tp_write (see script-lib.ts) writes a temp file beside the target, validates, then renames;
 *  a recorded path is then recorded (after the write: a cut in between leaves the toolkit's file
 *  unrecorded, which --purge keeps, never the admin's recorded). */
function writeCommand(spec: FileSpec): Command {
  const content = data(Buffer.from(spec.content, 'utf8').toString('base64'), `${Buffer.byteLength(spec.content)} bytes`);
  const write = sh`tp_write ${spec.path} ${spec.owner} ${spec.group} ${spec.mode} ${content} ${spec.validate ? 'tp_validate_new' : ''}`;
  const written = spec.recorded ? join([write, recordFile(spec.path, 'add')], ' &&\n') : write;
  if (!spec.validate) return written;
  return join([raw('tp_validate_new() {\n'), spec.validate, raw('\n}\n'), written], '');
}

/** A folder removed where nothing is left in it: a file put there meanwhile keeps it (and is not
 *  this run's to remove). */
const folderRemovedIfEmpty = (folder: string): Command => sh`rmdir --ignore-fail-on-non-empty -- ${folder}`;

export function fileAbsent(
  path: string,
  facts: HostFacts,
  withDiff: DiffRequest,
  opts: {
    notify?: HandlerName[];
    mask?: (t: string) => string;
    after?: Handler;
    recorded?: boolean;
    restorable?: boolean;
    /** The folder goes too when nothing else is left in it (one the write made, as a unit's .d). */
    folderIfEmpty?: boolean;
  } = {},
): Change | null {
  const current = facts.files[path];
  if (!current?.exists) return null;
  // restorable: a handler that finds the result wrong can put the file back (tp_remove, tp_restore).
  const rm = opts.restorable ? sh`tp_remove ${path}` : sh`rm -f -- ${path}`;
  const folder = path.slice(0, path.lastIndexOf('/')) || '/';
  const removed = opts.folderIfEmpty ? join([rm, folderRemovedIfEmpty(folder)], ' &&\n') : rm;
  // A recorded path (FileSpec.recorded) leaves the record with the file.
  const remove = opts.recorded ? join([removed, recordFile(path, 'remove')], ' &&\n') : removed;
  return {
    id: `file:${path}`,
    kind: 'file',
    path,
    summary: `remove ${path}`,
    ...(withDiff && current.content !== undefined
      ? { diff: unifiedDiff(path, '/dev/null', (opts.mask ?? ((t) => t))(current.content), '', withDiff.context) }
      : {}),
    ...withAfter(remove, opts.after),
    ...(opts.notify ? { notify: opts.notify } : {}),
  };
}

/**
 * --purge, after the files: each folder the toolkit may have made for its files (the facts read
 * those of PURGED_FOLDERS that are there) that no package owns and that holds nothing but files
 * these changes remove. Retire phase, with the packages: a folder a package owns goes with it.
 */
export function foldersEmptied(removals: readonly (Change | null)[], facts: HostFacts): Change[] {
  const removed = new Set(removals.flatMap((c) => (c?.kind === 'file' && c.path !== undefined ? [c.path] : [])));
  return Object.entries(facts.folders ?? {}).flatMap(([folder, fact]): Change[] =>
    fact.ownedByPackage || !fact.entries.every((name) => removed.has(`${folder}/${name}`))
      ? []
      : [
          {
            id: `folder:${folder}`,
            kind: 'file',
            phase: 'retire',
            summary: `remove the folder ${folder}, empty once its files are gone`,
            script: folderRemovedIfEmpty(folder),
          },
        ],
  );
}

/** A recorded path (FileSpec.recorded) whose file is gone (the admin removed it): the record
 *  forgets it, so a file the admin puts there later is never taken for the toolkit's. */
export function fileRecordForgotten(path: string, facts: HostFacts): Change | null {
  if (facts.files[path]?.exists || !facts.record.files.includes(path)) return null;
  return {
    id: `record:files:${path}`,
    kind: 'file',
    path,
    summary: `forget ${path} in the record of what trento-provision wrote (it is gone)`,
    script: recordFile(path, 'remove'),
  };
}

const names = (command: string, list: string[]): Command => join([raw(command), ...list.map((n) => sh` ${n}`)], '');

export interface InstallOptions {
  /** Per package, what the admin can do when no enabled repository has it (the role's own switch). */
  whenMissing?: Readonly<Record<string, string>>;
  /** zypper refresh first (supportutils_update_cache, as the official role's update_cache). */
  refresh?: boolean;
}

/** One zypper call for every missing package: one transaction, one solver run. What it installs
 *  is recorded on the host, so uninstall can tell the toolkit's packages from the admin's; a
 *  package no enabled repository has is named with what to do (tp_packages_install, lib.sh). */
export function packagesInstalled(wanted: string[], facts: HostFacts, options: InstallOptions = {}): Change | null {
  const missing = wanted.filter((n) => !facts.packages[n]);
  if (missing.length === 0) return null;
  const install = join([raw('tp_packages_install'), ...missing.map((n) => sh` ${n} ${options.whenMissing?.[n] ?? 'enable the channel that ships it'}`)], '');
  return {
    id: 'packages:install',
    kind: 'packages',
    summary: `install ${missing.join(', ')}${options.refresh ? ' (repositories refreshed first)' : ''}`,
    details: [...(options.refresh ? ['~ zypper refresh'] : []), ...missing.map((n) => `+ package ${n}`)],
    script: options.refresh ? join([raw('tp_zypper_refresh'), install], ' &&\n') : install,
  };
}

/** A handler's script: restart UNIT and check it still runs after a short wait (a unit that dies
 *  at once must not be reported as restarted). */
export function restartAndCheck(unit: string): Command {
  return sh`tp_unit_start restart ${unit} && sleep 0.5 && systemctl is-active --quiet ${unit} || { echo ${`${unit} is not running after the restart; see journalctl -u ${unit}`} >&2; false; }`;
}

/** The handler that makes a package's new binaries run once it is upgraded: its service's restart. */
const RESTART_AFTER_UPGRADE: Readonly<Record<string, HandlerName>> = {
  [PACKAGES.agent]: 'restart trento-agent',
  [PACKAGES.alloy]: 'restart alloy',
  [PACKAGES.nodeExporter]: 'restart node_exporter',
};

/**
 * One zypper call upgrading every installed package the repositories have newer versions of
 * (agent_package_state: latest). Packages installed in this run are already the newest.
 */
export function packagesUpgraded(names: string[], facts: HostFacts): Change | null {
  const newer = [...new Set(names)].filter((n) => facts.packages[n] && facts.updates?.[n] && facts.updates[n] !== facts.packages[n]);
  if (newer.length === 0) return null;
  return {
    id: 'packages:upgrade',
    kind: 'packages',
    summary: `upgrade ${newer.map((n) => `${n} ${facts.packages[n]} -> ${facts.updates![n]}`).join(', ')}`,
    details: newer.map((n) => `~ package ${n} ${facts.packages[n]} -> ${facts.updates![n]}`),
    script: join([sh`tp_packages_upgrade`, ...newer.map((n) => sh` ${n} ${facts.packages[n]!}`)], ''),
    notify: upgradeHandlers(newer),
  };
}

/**
 * The new binaries run only once their services restart (SUSE's %service_del_postun may restart
 * them, but not where DISABLE_RESTART_ON_UPDATE=yes), and with the package's new unit file only
 * after systemd reads it again: a package without SUSE's service macros (a third-party build)
 * leaves systemd on the old definition (NeedDaemonReload=yes), the restart would run that, and the
 * next run would find the unit stale and restart it once more.
 */
function upgradeHandlers(upgraded: string[]): HandlerName[] {
  const restarts = upgraded.flatMap((n) => (RESTART_AFTER_UPGRADE[n] ? [RESTART_AFTER_UPGRADE[n]] : []));
  return restarts.length > 0 ? ['reload systemd units', ...restarts] : [];
}

/** Is the package on the host because this toolkit installed it (its record on the host)? The
 *  one test that tells the toolkit's packages from the admin's. */
export function installedByToolkit(name: string, facts: HostFacts): boolean {
  return Boolean(facts.packages[name]) && facts.record.packages.includes(name);
}

/** Removes the packages asked for that this toolkit installed (its record on the host) and
 *  nothing else: never a package the admin had, never dependencies (no --clean-deps, which can
 *  take the packages a host relies on with it), never one another installed package needs. */
export function packagesRemoved(asked: string[], facts: HostFacts): Change | null {
  const present = asked.filter((n) => installedByToolkit(n, facts));
  if (present.length === 0) return null;
  return {
    id: 'packages:remove',
    kind: 'packages',
    summary: `remove ${present.join(', ')} (installed by trento-provision)`,
    details: present.map((n) => `- package ${n} ${facts.packages[n]}`),
    // tp_packages_remove keeps one that another installed package needs (zypper would take that
    // one with it), with a warning.
    script: names('tp_packages_remove', present),
  };
}

/** Packages in the toolkit's record that are no longer installed (the admin removed them) leave
 *  the record, so one the admin installs again later is theirs, never removed by a --purge as the
 *  toolkit's; except those this run installs again (`reinstalled`), which stay the toolkit's. */
export function packagesRecordPruned(facts: HostFacts, reinstalled: readonly string[] = []): Change | null {
  const gone = facts.record.packages.filter((n) => !facts.packages[n] && !reinstalled.includes(n));
  if (gone.length === 0) return null;
  return {
    id: 'record:packages',
    kind: 'packages',
    summary: `forget ${gone.join(', ')} in the record of what trento-provision installed (no longer installed)`,
    script: names('tp_packages_record_remove', gone),
  };
}

/** Packages asked to be removed that the toolkit did not install: left in place, said so. */
export function packagesKept(asked: string[], facts: HostFacts): string[] {
  return asked.filter((n) => facts.packages[n] && !installedByToolkit(n, facts));
}

export interface ServiceWant {
  enabled: boolean;
  running: boolean;
}

/** UnitFileState values `systemctl enable` leaves as they are (see service()). */
const NOT_ENABLEABLE = new Set(['static', 'generated', 'transient', 'indirect', 'alias']);

/** Enable/start or stop/disable a unit. Restarts are handlers, not this. */
export function service(unit: string, want: ServiceWant, facts: HostFacts, installedNow: boolean): Change | null {
  const fact = facts.units[unit];
  // A unit whose package is installed in this run is neither enabled nor running yet.
  const isEnabled = installedNow ? false : fact?.enabled === 'enabled';
  // States `systemctl enable` does not change (no [Install] section, a generator's or a runtime
  // unit, an alias, one enabled through Also=): enabling there would be planned on every run.
  const enableable = installedNow || !NOT_ENABLEABLE.has(fact?.enabled ?? '');
  return serviceChange({
    unit,
    enable: want.enabled && !isEnabled && enableable,
    disable: !want.enabled && isEnabled,
    start: want.running && (installedNow || !unitRunning(fact)),
    // A unit waiting for its Restart= is stopped too: disabled only, it would come back.
    stop: !want.running && !installedNow && !unitStopped(fact),
  });
}

/** An admin's unit as it was before the toolkit first enabled or started it (its record line). */
export interface UnitPrior {
  enabled: boolean;
  running: boolean;
  line: string;
}

/** "UNIT ENABLED ACTIVE" -> "ENABLED, ACTIVE", for a summary. */
const stateWords = (line: string | undefined) => (line ?? '').split(' ').slice(1).join(', ');

export function unitPrior(facts: HostFacts, unit: string): UnitPrior | undefined {
  const line = facts.record.units.find((l) => l.split(' ')[0] === unit);
  if (!line) return undefined;
  const [, enabled, state] = line.split(' ');
  return { enabled: enabled === 'enabled', running: state === 'active', line };
}

/**
 * service() for the unit of a package the admin installed (`pkg` not in the toolkit's record):
 * the install that first finds it off records how it was (disabled, inactive), so uninstall
 * puts back what the admin had, never leaving on a port they kept closed. Only before the
 * toolkit was ever there (its drop-in of the agent's unit not written yet): a unit found down by
 * a later run crashed or was stopped since, and the toolkit's start is no change to undo. A unit
 * that failed or waits for its Restart= was meant to run. Not a unit the toolkit installed (its
 * package goes with --purge), nor one already recorded.
 */
export function adminService(unit: string, want: ServiceWant, facts: HostFacts, installedNow: boolean, pkg: string): Change | null {
  const change = service(unit, want, facts, installedNow);
  const before = !facts.files[PATHS.agentDropIn]?.exists;
  if (!change?.service || installedNow || !before || installedByToolkit(pkg, facts) || unitPrior(facts, unit)) return change;
  const fact = facts.units[unit];
  const enabled = fact?.enabled || 'disabled';
  const active = !fact || fact.state === 'inactive' ? 'inactive' : 'active';
  if (enabled === 'enabled' && active === 'active') return change;
  return serviceChange({ ...change.service, recordState: `${unit} ${enabled} ${active}` });
}

/**
 * Uninstall: an admin's unit the toolkit turned on is turned off again where it was off before
 * (adminService's record), and the record forgets it. Only ever stopped or disabled: what the
 * admin enabled, started or masked since stays as they left it.
 */
export function adminServiceRestored(unit: string, facts: HostFacts): Change | null {
  const prior = unitPrior(facts, unit);
  if (!prior || priorStale(facts, unit)) return null; // unitsRecordPruned forgets it
  const fact = facts.units[unit];
  return serviceChange({
    unit,
    enable: false,
    start: false,
    disable: !prior.enabled && fact?.enabled === 'enabled',
    // A unit waiting for its Restart= is stopped too: it would come back.
    stop: !prior.running && !unitStopped(fact),
    forgetState: prior.line,
  });
}

/** A unit's record line is no longer the admin's to have put back: its package is gone, or is
 *  the toolkit's now (installed again by it after the admin removed theirs). */
function priorStale(facts: HostFacts, unit: string): boolean {
  const pkg = PROVIDER_UNIT_PACKAGES[unit];
  return !pkg || !facts.packages[pkg] || installedByToolkit(pkg, facts);
}

/** Lines of the units record whose package is no longer installed, or is now the toolkit's
 *  (installed again by it after the admin removed theirs): forgotten by every run, so a later
 *  uninstall never turns off a service it has no say over. */
export function unitsRecordPruned(facts: HostFacts): Change | null {
  const gone = facts.record.units.filter((line) => priorStale(facts, line.split(' ')[0]!));
  if (gone.length === 0) return null;
  return {
    id: 'record:units',
    kind: 'service',
    summary: `forget how ${gone.map((l) => l.split(' ')[0]).join(', ')} was before trento-provision (its package is gone, or is trento-provision's now)`,
    script: join([raw('tp_record_edit units remove'), ...gone.map((l) => sh` ${l}`)], ''),
  };
}

/** What a killed apply left in the toolkit's folders (facts.leftovers): its staging folders keep a
 *  hard link to each file it replaced (an old agent.yaml with a rotated API key). Removed under
 *  the host's lock, first, by a run that would otherwise find the host converged and never look. */
export function leftoversRemoved(facts: HostFacts): Change | null {
  const dirs = facts.leftovers ?? [];
  // A run at work now (it holds the host's lock): its own staging folders (plan.ts warns).
  if (dirs.length === 0 || facts.leftoversLive) return null;
  return cleaning(
    'leftovers',
    `remove what a killed run left in ${dirs.join(', ')} (staging folders holding the files it replaced)`,
    'tp_clean_leftovers',
    dirs,
  );
}

/** Uninstall: what a killed start of configure-alloy.sh left (facts.agentLeftovers), its staging
 *  folder holding a hard link to the trento.alloy it replaced, credentials included. The agent's
 *  next start would clear it, and after an uninstall none comes. Planned after the agent's stop:
 *  no start can be using one then. */
export function agentLeftoversRemoved(facts: HostFacts): Change | null {
  const dirs = facts.agentLeftovers ?? [];
  if (dirs.length === 0) return null;
  return cleaning(
    'leftovers:configure-alloy',
    `remove what a killed start of configure-alloy.sh left in ${dirs.join(', ')} (its staging folders, holding an earlier trento.alloy)`,
    'tp_clean_agent_leftovers',
    dirs,
  );
}

/** A change that runs one of the apply library's cleaners (lib.sh tp_clean_listed) over folders. */
function cleaning(id: string, summary: string, cleaner: 'tp_clean_leftovers' | 'tp_clean_agent_leftovers', dirs: string[]): Change {
  return { id, kind: 'file', summary, script: join([raw(cleaner), ...dirs.map((d) => sh` ${d}`)], '') };
}

/** Why a unit this plan enables or starts cannot be: the admin masked it (systemctl mask), and
 *  systemd refuses both. The toolkit never unmasks an admin's choice; it says so before any
 *  change instead of failing half way through the host. */
export function maskedUnitsInTheWay(changes: readonly Change[], facts: HostFacts): string[] {
  return changes
    .flatMap((c) => (c.service && (c.service.enable || c.service.start) && /^masked/.test(facts.units[c.service.unit]?.enabled ?? '') ? [c.service.unit] : []))
    .map(
      (unit) =>
        `${unit} is masked (systemctl mask): systemd will neither enable nor start it, and trento-provision does not unmask what an admin masked; run 'systemctl unmask ${unit}' on the host if Trento's monitoring is to use it, then run again`,
    );
}

/** The change that makes `steps` (stop first), or null when there is none. A start left to a
 *  handler is only recorded here (tp_defer_start, lib.sh): the handler starts the unit, or the
 *  script does if a failure keeps the handler from running. */
export function serviceChange(steps: ServiceSteps): Change | null {
  const { unit, startedBy } = steps;
  const run: [boolean, Command, string][] = [
    [
      steps.recordState !== undefined,
      sh`tp_record_edit units add ${steps.recordState ?? ''}`,
      `+ record how ${unit} was (${stateWords(steps.recordState)}), for uninstall`,
    ],
    [steps.stop, sh`systemctl stop ${unit}`, `- stop ${unit}`],
    [steps.enable, sh`systemctl enable ${unit}`, `+ enable ${unit}`],
    [steps.disable, sh`systemctl disable ${unit}`, `- disable ${unit}`],
    startedBy
      ? [steps.start, sh`tp_defer_start ${unit}`, `+ start ${unit} (by the handler '${startedBy}')`]
      : [steps.start, sh`tp_unit_start start ${unit}`, `+ start ${unit}`],
    [
      steps.forgetState !== undefined,
      sh`tp_record_edit units remove ${steps.forgetState ?? ''}`,
      `- forget how ${unit} was before trento-provision (recorded)`,
    ],
  ];
  const taken = run.filter(([wanted]) => wanted);
  if (taken.length === 0) return null;
  return {
    id: `service:${unit}`,
    kind: 'service',
    summary: taken.map(([, , detail]) => detail.slice(2)).join(', '),
    details: taken.map(([, , detail]) => detail),
    script: join(
      taken.map(([, command]) => command),
      ' &&\n',
    ),
    service: steps,
  };
}

/** The monitoring packages a role installs, unless the admin said agent_install_monitoring_dep=false. */
export function packagesWanted(ctx: { settings: Pick<HostSettings, 'installMonitoringDep'> }, names: string[]): string[] {
  return ctx.settings.installMonitoringDep ? names : [];
}
