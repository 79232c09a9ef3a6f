// trento-provision (installed) / npm run provision -- --inventory NAME|PATH [...]; see --help.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { AnsibleConfigError } from '../src/cli/ansible-config.ts';
import { CliError, HELP, parseCli } from '../src/cli/args.ts';
import { completionScript } from '../src/cli/completion.ts';
import { connectionDefaultsOf } from '../src/cli/connection-defaults.ts';
import { invocationDir, packageInfo, packageRoot } from '../src/cli/invocation.ts';
import { unreadPlaybookVars } from '../src/cli/playbook-dir.ts';
import { askBecomePassword, PromptError, PromptInterrupted, terminalPrompt } from '../src/cli/prompt.ts';
import { answerSignals, type EarlySignals, earlySignals, type Hangup, type LateSignals, leave, RunInterrupted } from '../src/cli/signals.ts';
import { resolveVaultSecrets } from '../src/cli/vault-secrets.ts';
import { PasswordFileError, passwordFromFile } from '../src/cli/password-files.ts';
import { originOf } from '../src/inventory/errors.ts';
import { groupHosts, InventoryError, limitHosts, loadInventory, matchHosts, parseExtraVars } from '../src/inventory/index.ts';
import { listHostsText } from '../src/output/list-hosts.ts';
import type { Redactor } from '../src/output/redact.ts';
import { reportPathProblem } from '../src/output/report-file.ts';
import { inventorySourceHolding, type ReportFile, removeReportFiles, reportFiles, writeReports } from '../src/output/reports.ts';
import { createSink, type Sink } from '../src/output/sink.ts';
import { exitCode, fold } from '../src/output/tally.ts';
import { terminalChoice } from '../src/output/terminal.ts';
import { findTemplates, templateSearchDirs } from '../src/render/template-search.ts';
import { run, UsageError } from '../src/run/index.ts';
import { MIN_FREE_TEXT_SECRET } from '../src/settings/secrets.ts';
import { playPatternOf } from '../src/settings/discovery.ts';
import type { VerifyPrometheusOptions } from '../src/verify/run-proof.ts';

// The package's own folder (the repository, or the installed package): inventories/NAME, version.
const projectDir = packageRoot(import.meta.url);

async function main(hangup: Hangup): Promise<number> {
  // Every relative path the admin gives (-i, --private-key, @file, vault password files,
  // ./ansible.cfg, ansible_ssh_private_key_file, --limit @file) starts from the folder the
  // admin ran the command in; under `npm run` that is INIT_CWD, not the repository. One chdir
  // here, before anything reads a path, makes every layer agree.
  const adminDir = invocationDir(process.env, process.cwd(), projectDir);
  process.chdir(adminDir);
  const argv = process.argv.slice(2);
  if (argv[0] === 'completion') {
    process.stdout.write(completionScript(argv[1], 'trento-provision', projectDir));
    return 0;
  }
  const cli = parseCli(argv, process.env, projectDir, { cwd: adminDir });
  if (cli.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (cli.version) {
    for (const w of cli.warnings) process.stderr.write(`[WARNING]: ${w}\n`);
    const { name, version } = packageInfo(projectDir);
    process.stdout.write(
      `${name} ${version}\n  config file = ${cli.configFile ?? 'None'}\n  package location = ${projectDir}\n  node version = ${process.version}\n`,
    );
    return 0;
  }
  // Created before the first secret is known: the sink owns the run's one secret list, and
  // everything printed from here on (errors included) goes through it, and into log_path's file.
  const sink = await createSink({
    verbosity: cli.verbosity,
    diff: cli.diff,
    ...terminalChoice(process.env, { stdout: process.stdout, stderr: process.stderr }),
    out: process.stdout,
    ...(cli.logPath !== undefined ? { logPath: cli.logPath } : {}),
  });
  for (const w of cli.warnings) sink.say(`[WARNING]: ${w}\n`, 'stderr');
  if (cli.verbosity > 0) sink.say(cli.configFile ? `Using ${cli.configFile} as config file\n` : 'No config file found; using defaults\n');
  try {
    return await provision(cli, sink, adminDir, hangup);
  } catch (error) {
    const clean = scrubbed(error, sink.secrets.redact);
    sink.log(fatalText(clean));
    throw clean;
  }
}

/** How a run's end by an error is printed: an error of the admin's making by its message, any
 *  other (a defect of the toolkit's) with its stack. */
function fatalText(error: unknown): string {
  const known =
    error instanceof CliError ||
    error instanceof InventoryError ||
    error instanceof UsageError ||
    error instanceof PasswordFileError ||
    error instanceof PromptError ||
    error instanceof RunInterrupted ||
    error instanceof AnsibleConfigError;
  return `ERROR! ${known ? error.message : ((error as Error).stack ?? String(error))}`;
}

/** The error with every known secret masked in its message (and stack), its class kept. */
function scrubbed(error: unknown, redact: Redactor): unknown {
  if (!(error instanceof Error)) return new Error(redact(String(error)));
  error.message = redact(error.message);
  if (error.stack !== undefined) error.stack = redact(error.stack);
  return error;
}

async function provision(cli: ReturnType<typeof parseCli>, sink: Sink, adminDir: string, hangup: Hangup): Promise<number> {
  // A report that cannot be written is a usage error now, before any prompt or host: after
  // the rollout it could only be lost.
  const reports = reportFiles(cli);
  for (const [flag, path] of reports) {
    const problem = reportPathProblem(path);
    if (problem) throw new CliError(`${flag} ${path}: ${problem}`, { help: false });
  }
  const started = Date.now();
  // What the run is doing before it reaches a host, for the report of a failure there.
  const at: Step = { step: 'command line' };
  const early = earlySignals(hangup);
  try {
    return await runPlay(cli, sink, adminDir, hangup, reports, at, early);
  } catch (thrown) {
    // A vault script killed by the Ctrl-C that reached it too fails: the run was interrupted
    // (the toolkit's own handler may run just after the script's death is seen).
    const error =
      (!(thrown instanceof PromptInterrupted) && (await early.interruptionBehind(thrown instanceof PasswordFileError ? thrown.killedBy : undefined))) || thrown;
    // Stopped before any host (an inventory, vault, -e or --limit error): the reports say so,
    // so a CI job never reads the previous run's as this one's. Not once the run started: its
    // hosts' results are not all known.
    if (sink.tally.timeline.length === 0) await failureReports(reports, cli, sink, adminDir, error, at.step, Date.now() - started);
    throw error;
  } finally {
    early.release();
  }
}

/**
 * The reports of a run that failed before it reached any host: no host, the error as a settings
 * error of the whole run (host "all": nothing was changed anywhere), exit code 1. Never written
 * over an inventory the run was given (a --json that is a typo for the inventory's name).
 */
async function failureReports(
  reports: readonly ReportFile[],
  cli: ReturnType<typeof parseCli>,
  sink: Sink,
  adminDir: string,
  error: unknown,
  step: string,
  durationMs: number,
) {
  const tally = sink.tally;
  tally.mode = cli.uninstall ? 'uninstall' : 'install';
  tally.check = cli.check;
  // Ctrl-C at a password prompt or before any host: the run exits 99, and its report says so
  // (interrupted, no error).
  tally.interrupted = error instanceof PromptInterrupted || error instanceof RunInterrupted;
  const where = error instanceof InventoryError && error.file ? originOf(error.file, error.line) : 'command line';
  const message = error instanceof InventoryError ? error.detail : error instanceof Error ? error.message : String(error);
  if (!tally.interrupted) fold(tally, { type: 'settings-errors', errors: [{ host: 'all', variable: step, origin: where, message }] });
  const inventories = cli.inventories.map((i) => resolve(adminDir, i));
  const writable = reports.filter(([, path]) => inventorySourceHolding(resolve(adminDir, path), inventories) === undefined);
  await writeReports(writable, tally, durationMs, sink.secrets.redact, { detailed: cli.detailedExitcode });
}

/** What a run does before it reaches a host, as the report of a failure there names it (the
 *  `variable` of its settings error). */
interface Step {
  step: 'command line' | 'vault or password' | 'inventory' | '--limit' | '-e' | '--verify-prometheus';
}

/**
 * The SSH and sudo passwords, asked or read from their files before any connection, like
 * ansible-playbook -k / -K: the prompt wins over the file, as in Ansible's ask_passwords. None
 * for --list-hosts, which connects nowhere (ansible-playbook asks nothing there either).
 */
async function loginPasswords(
  cli: ReturnType<typeof parseCli>,
  prompt: ReturnType<typeof terminalPrompt>,
  adminDir: string,
): Promise<{ sshPassword?: string; becomePassword?: string }> {
  // As ansible-playbook: neither lists nor a syntax check connect anywhere, so none is asked for
  // (a CI syntax check under become_ask_pass = True has no terminal to ask on).
  if (cli.listHosts || cli.syntaxCheck) return {};
  const files = { cwd: adminDir };
  const sshPassword = cli.ssh.askPass ? await prompt('SSH password: ') : cli.ssh.passwordFile && (await passwordFromFile(cli.ssh.passwordFile, files));
  const becomePassword = cli.become.askPass
    ? await askBecomePassword(prompt, cli.ssh.askPass ? sshPassword : undefined)
    : cli.become.passwordFile && (await passwordFromFile(cli.become.passwordFile, files));
  return { ...(sshPassword !== undefined ? { sshPassword } : {}), ...(becomePassword !== undefined ? { becomePassword } : {}) };
}

/** The play from the command line: the prompts, the inventory, --limit, the run on the hosts,
 *  its recap and its reports. */
async function runPlay(
  cli: ReturnType<typeof parseCli>,
  sink: Sink,
  adminDir: string,
  hangup: Hangup,
  reports: readonly ReportFile[],
  at: Step,
  early: EarlySignals,
): Promise<number> {
  at.step = 'vault or password';
  const prompt = terminalPrompt(early.stop);
  const vaultSecrets = await resolveVaultSecrets(cli.vault, prompt, adminDir);
  sink.secrets.add(vaultSecrets.map((s) => s.password));
  early.check();
  const { sshPassword, becomePassword } = await loginPasswords(cli, prompt, adminDir);
  sink.secrets.add([sshPassword, becomePassword].filter((p) => p !== undefined));
  early.check();
  // As for the inventory's secrets (shortSecretWarnings): a short one cannot be looked for in
  // free text without masking ordinary words, so a host that echoes it would show it.
  const typed: [string, string | undefined][] = [
    [`the SSH password (${cli.ssh.askPass ? '-k' : cli.ssh.passwordFile?.origin})`, sshPassword],
    [`the BECOME password (${cli.become.askPass ? '-K' : cli.become.passwordFile?.origin})`, becomePassword],
    ...vaultSecrets.map((s): [string, string] => [`the vault password of id ${s.id} (${s.source})`, s.password]),
  ];
  for (const [what, value] of typed) {
    if (value && value.length < MIN_FREE_TEXT_SECRET) {
      sink.say(
        `[WARNING]: ${what} is ${value.length} characters long: too short to hide in free text (a host that echoes it would show it); use one of ${MIN_FREE_TEXT_SECRET} or more characters\n`,
        'stderr',
      );
    }
  }
  at.step = 'inventory';
  const inventory = await loadInventory(cli.inventories, {
    ...(cli.playbookDir !== undefined ? { playbookDir: cli.playbookDir } : {}),
    vault: { secrets: vaultSecrets, decryptValues: true, deferUnreadable: true },
  });
  const unread = unreadPlaybookVars(adminDir, inventory.sources, cli.playbookDir);
  if (unread) sink.say(`[WARNING]: ${unread}\n`, 'stderr');
  early.check();
  // A report written over an inventory source (a typo: --json hosts.yml) or into an inventory
  // folder (read as inventory by the next run) is refused.
  for (const [flag, path] of reports) {
    const source = inventorySourceHolding(path, inventory.sources);
    if (source)
      throw new CliError(`${flag} ${path}: ${path === source ? 'is' : 'lies in'} the inventory source ${source}; write the report elsewhere`, { help: false });
  }
  // Whatever came out of a vault is secret, whatever its variable's name.
  sink.secrets.add(inventory.vaultValues);
  // The play's hosts (group agents when there is one) after --limit, for the list and the run
  // alike; a pattern of the limit that matches nothing is warned about, as ansible-playbook does
  // (a mistyped name in a list would drop its host without a word).
  const pattern = playPatternOf(inventory);
  at.step = '--limit';
  const selection = limitHosts(inventory, cli.limit, pattern, { cwd: adminDir, hostPatternMismatch: cli.hostPatternMismatch });
  for (const w of [...inventory.warnings, ...selection.warnings]) sink.say(`[WARNING]: ${w}\n`, 'stderr');
  if (selection.hosts.length === 0 && cli.limit !== undefined) {
    // "no hosts matched" would be wrong where the limit names hosts, only none of the play's.
    const outside = matchHosts(inventory, cli.limit, { cwd: adminDir }).hosts;
    if (outside.length > 0) {
      const play = groupHosts(inventory, pattern);
      throw new UsageError(
        `--limit ${cli.limit} selects ${outside.slice(0, 5).join(', ')}${outside.length > 5 ? ` and ${outside.length - 5} more` : ''}, which the play does not run on: it runs on ${pattern === 'all' ? 'every host' : `group ${pattern}`} (${play.length} host(s)${play.length ? `: ${play.slice(0, 5).join(', ')}${play.length > 5 ? ', ...' : ''}` : ''}); the Trento server, RabbitMQ, Postgres and Prometheus hosts of the official playbook's inventory get no agent`,
      );
    }
    // As ansible-playbook's --list-hosts: a limit that leaves no host is an error, not an empty list.
    if (cli.listHosts) throw new UsageError(`no hosts matched --limit ${cli.limit} in ${inventory.sources.join(', ')}`);
  }
  if (cli.listHosts) {
    // No connection and no settings check: the inventory's view, like ansible-playbook --list-hosts.
    const mode = cli.uninstall ? (cli.purge ? 'purge' : 'uninstall') : 'install';
    sink.say(listHostsText(inventory, selection.hosts, mode, pattern, sink.secrets.redact));
    return 0;
  }
  at.step = '-e';
  const extraVars = parseExtraVars(cli.extraVars, adminDir, vaultSecrets);
  sink.secrets.add(extraVars.vaultValues);
  at.step = '--verify-prometheus';
  const verifyPrometheus = cli.verify ? verifyPrometheusOptions(cli.verify) : undefined;
  // The controller's own TLS key for --verify-prometheus is a secret of the run like a typed
  // password (its basic/bearer credentials are the agent's variables, in the list already).
  if (verifyPrometheus?.clientKey) sink.secrets.add(verifyPrometheus.clientKey);
  const stop = new AbortController();
  const abort = new AbortController();
  const late: LateSignals = { reporting: false, signalled: false };
  early.check();
  early.release();
  answerSignals(sink.emit, { stop, abort }, hangup, late);
  const started = Date.now();
  // From here on the run reaches hosts, and a report is written only at its end: a run that
  // crashes or is killed meanwhile must leave none rather than the previous run's, which a CI job
  // would read as this one's. (Not earlier: a path that is an inventory source is refused above.)
  await removeReportFiles(reports);
  // run() first reads the played hosts' variables: a vault of theirs opens only then.
  at.step = 'inventory';
  await run(
    inventory,
    {
      hosts: selection.hosts,
      ...(cli.limit ? { limit: cli.limit } : {}),
      check: cli.check,
      diff: cli.diff,
      diffContext: cli.diffContext,
      forks: cli.forks,
      ...(cli.serial ? { serial: cli.serial } : {}),
      ...(cli.maxFailPercentage !== undefined ? { maxFailPercentage: cli.maxFailPercentage } : {}),
      extraVars,
      uninstall: cli.uninstall,
      purge: cli.purge,
      connection: connectionDefaultsOf(cli, { ...(sshPassword !== undefined ? { sshPassword } : {}), ...(becomePassword ? { becomePassword } : {}) }),
      maxHostOutputBytes: cli.maxHostOutputMiB * 1024 * 1024,
      ...(cli.ssh.controlPathDir ? { controlPathDir: cli.ssh.controlPathDir } : {}),
      zyppLockTimeoutSeconds: cli.zyppLockTimeoutSeconds,
      stepOutput: cli.verbosity >= 1,
      stop: stop.signal,
      abort: abort.signal,
      ...(cli.syntaxCheck ? { settingsOnly: true } : {}),
      templates: findTemplates(templateSearchDirs(inventory.sources, projectDir)),
      ...(verifyPrometheus ? { verifyPrometheus } : {}),
    },
    sink,
  );
  late.reporting = true;
  sink.stop();
  if (cli.syntaxCheck) {
    const errors = sink.tally.settingsErrors.length;
    sink.say(
      errors === 0
        ? `\nsyntax check passed: inventory and settings of ${sink.tally.hosts.size} host(s) are valid (no host was contacted)\n`
        : `\nsyntax check failed: ${errors} settings error(s) (no host was contacted). Fix the variables named above and run again.\n`,
    );
    return errors === 0 ? 0 : 1;
  }
  if (sink.tally.settingsErrors.length === 0) sink.recap();
  else sink.say(`\n${sink.tally.settingsErrors.length} settings error(s): nothing was changed on any host. Fix the variables named above and run again.\n`);
  const policy = { detailed: cli.detailedExitcode };
  const durationMs = Date.now() - started;
  // A signal during the report writes below changes neither this code nor the reports (late).
  const code = exitCode(sink.tally, policy);
  // The reports go through the same secret list as every line above; one lost leaves the run's
  // own code as it is (3 only where it was 0: the hosts are as the recap says).
  const lost = await writeReports(reports, sink.tally, durationMs, sink.secrets.redact, policy);
  return lost && code === 0 ? REPORT_LOST : code;
}

/** Exit code of a run that went as its recap says but whose --json or --junit report was lost. */
const REPORT_LOST = 3;

/** The --verify-* files read here, once, before any host is touched. */
function verifyPrometheusOptions(v: NonNullable<ReturnType<typeof parseCli>['verify']>): VerifyPrometheusOptions {
  const pem = (flag: string, path: string | undefined) => {
    if (path === undefined) return undefined;
    try {
      return readFileSync(path, 'utf8');
    } catch (error) {
      throw new CliError(`${flag} ${path}: ${(error as Error).message}`, { help: false });
    }
  };
  const ca = pem('--verify-ca', v.caFile);
  const clientCert = pem('--verify-client-cert', v.clientCertFile);
  const clientKey = pem('--verify-client-key', v.clientKeyFile);
  return {
    url: v.url,
    ...(v.auth ? { auth: v.auth } : {}),
    ...(ca ? { ca } : {}),
    ...(clientCert ? { clientCert } : {}),
    ...(clientKey ? { clientKey } : {}),
    ...(v.waitSeconds ? { waitMs: v.waitSeconds * 1000 } : {}),
  };
}

const hangup: Hangup = { hungUp: false };
main(hangup).then(
  (code) => leave(code, hangup),
  (error) => {
    process.stderr.write(`${fatalText(error)}\n`);
    if (error instanceof CliError && error.help) process.stderr.write('Run with --help for the options.\n');
    leave(error instanceof PromptInterrupted || error instanceof RunInterrupted ? 99 : 1, hangup);
  },
);
