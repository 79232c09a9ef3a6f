#!/usr/bin/env tsx
// npm run provision -- --inventory NAME|PATH [...]; see --help.
import { fileURLToPath } from 'node:url';
import { CliError, HELP, parseCli } from '../src/cli/args.ts';
import { InventoryError, loadInventory, parseExtraVars } from '../src/inventory/index.ts';
import { writeJsonReport } from '../src/output/json-report.ts';
import { createSink } from '../src/output/sink.ts';
import { exitCode } from '../src/output/tally.ts';
import { run, UsageError } from '../src/run.ts';

const projectDir = fileURLToPath(new URL('..', import.meta.url));

async function main(): Promise<number> {
  const cli = parseCli(process.argv.slice(2), process.env, projectDir);
  if (cli.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const inventory = await loadInventory(cli.inventories);
  for (const w of inventory.warnings) process.stderr.write(`[WARNING]: ${w}\n`);
  const extraVars = parseExtraVars(cli.extraVars, process.cwd());
  const sink = createSink({
    verbosity: cli.verbosity,
    diff: cli.diff,
    color: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR,
    // A terminal with a known width: ora computes how many lines to clear from it.
    live: Boolean(process.stdout.isTTY && process.stderr.isTTY && (process.stderr.columns ?? 0) > 0),
    out: process.stdout,
  });
  const stop = new AbortController();
  const abort = new AbortController();
  const onSignal = (signal: string) => {
    if (!stop.signal.aborted) {
      sink.emit({ type: 'interrupted', message: `${signal}: no new host is started; hosts in flight finish their current script (again to abort at once)` });
      stop.abort();
    } else {
      sink.emit({ type: 'interrupted', message: `${signal} again: dropping every connection; files on hosts are still never half-written` });
      abort.abort();
    }
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  const started = Date.now();
  await run(
    inventory,
    {
      ...(cli.limit ? { limit: cli.limit } : {}),
      check: cli.check,
      diff: cli.diff,
      forks: cli.forks,
      extraVars,
      uninstall: cli.uninstall,
      purge: cli.purge,
      connection: {
        timeoutMs: cli.timeoutSeconds * 1000,
        hostKeyChecking: !/^(false|no|0|off)$/i.test(process.env.ANSIBLE_HOST_KEY_CHECKING ?? 'true'),
        ...(cli.user ? { user: cli.user } : {}),
        ...(cli.privateKey ? { privateKeyPath: cli.privateKey } : {}),
      },
      zyppLockTimeoutSeconds: cli.zyppLockTimeoutSeconds,
      stop: stop.signal,
      abort: abort.signal,
    },
    sink,
  );
  sink.stop();
  if (sink.tally.settingsErrors.length === 0) sink.recap();
  else process.stdout.write(`\n${sink.tally.settingsErrors.length} settings error(s): nothing was changed on any host. Fix the variables named above and run again.\n`);
  if (cli.json) await writeJsonReport(cli.json, sink.tally, Date.now() - started, (t) => t);
  return exitCode(sink.tally);
}

main().then(
  (code) => process.exit(code),
  (error) => {
    const known = error instanceof CliError || error instanceof InventoryError || error instanceof UsageError;
    process.stderr.write(`ERROR: ${known ? error.message : (error as Error).stack ?? String(error)}\n`);
    if (error instanceof CliError) process.stderr.write('Run with --help for the options.\n');
    process.exit(1);
  },
);
