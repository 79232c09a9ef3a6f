// The admin-facing command line: the admin's folder, the informational flags, the "did you
// mean" hint, colour and spinner choice, and the bash completion script.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CliError, flagNames, parseCli, resolveInventory } from '../../../src/cli/args.ts';
import { completionScript } from '../../../src/cli/completion.ts';
import { invocationDir, packageInfo, packageRoot } from '../../../src/cli/invocation.ts';
import { type TerminalChoice, terminalChoice, type TerminalStreams } from '../../../src/output/terminal.ts';
import { cliEntry } from '../../support/compiled-cli.ts';

const repo = packageRoot(import.meta.url);
const noSettings = { settings: { origins: {}, warnings: [] } };

describe("the admin's folder", () => {
  it('is INIT_CWD when npm moved the process to the package folder (npm run), else the cwd', () => {
    expect(invocationDir({ INIT_CWD: '/home/admin/site' }, repo, repo)).toBe('/home/admin/site');
    // A bin started by another npm script in another folder keeps its cwd.
    expect(invocationDir({ INIT_CWD: '/elsewhere' }, '/home/admin/site', repo)).toBe('/home/admin/site');
    expect(invocationDir({}, repo, repo)).toBe(repo);
  });

  it('the package root holds package.json, named trento-provision', () => {
    expect(packageInfo(repo).name).toBe('trento-provision');
  });

  it('relative -i, --private-key and --json start from it; a bare name still finds inventories/NAME', () => {
    const admin = mkdtempSync(join(tmpdir(), 'tp-admin-'));
    writeFileSync(join(admin, 'hosts'), 'h1\n');
    mkdirSync(join(admin, 'example-local'));
    const cli = parseCli(['-i', './hosts', '--private-key', 'keys/id', '--json', 'out/r.json'], {}, repo, { ...noSettings, cwd: admin });
    expect(cli.inventories).toEqual([join(admin, 'hosts')]);
    expect(cli.privateKey).toBe(join(admin, 'keys', 'id'));
    expect(cli.json).toBe(join(admin, 'out', 'r.json'));
    expect(resolveInventory('example', repo, admin)).toBe(join(repo, 'inventories', 'example'));
    expect(resolveInventory('a,b,', repo, admin)).toBe('a,b,');
    // ANSIBLE_INVENTORY as Ansible's pathlist: items trimmed, $VARS expanded (no shell reads it)
    mkdirSync(join(admin, 'site'));
    writeFileSync(join(admin, 'site', 'hosts2'), 'h2\n');
    const fromEnv = parseCli([], { ANSIBLE_INVENTORY: 'hosts, $SITE/hosts2', SITE: join(admin, 'site') }, repo, { cwd: admin });
    expect(fromEnv.inventories).toEqual([join(admin, 'hosts'), join(admin, 'site', 'hosts2')]);
    // ~/ as Ansible expands it (ANSIBLE_INVENTORY='~/site/hosts' reaches no shell)
    expect(() => resolveInventory('~/no-such-site/hosts', repo, admin)).toThrow(
      `inventory ${join(homedir(), 'no-such-site', 'hosts')} does not exist (-i ~/no-such-site/hosts)`,
    );
    // A path is a path: its error names it and where it was taken from, not the package's inventories/.
    expect(() => resolveInventory('./nowhere', repo, admin)).toThrow(`inventory ${join(admin, 'nowhere')} does not exist (-i ./nowhere, from ${admin})`);
    writeFileSync(join(admin, 'site.yml'), 'h1:\n');
    expect(() => resolveInventory('site.yaml', repo, admin)).toThrow(
      `inventory ${join(admin, 'site.yaml')} does not exist (-i site.yaml, from ${admin}): did you mean site.yml?`,
    );
    expect(() => resolveInventory('nowhere', repo, admin)).toThrow(/inventory "nowhere" is neither a path nor a folder under inventories\/ \(there: /);
    // ansible.cfg's inventory = (resolved against its folder): named as the setting that gave it
    const cfg = join(admin, 'ansible.cfg');
    writeFileSync(cfg, '[defaults]\ninventory = ./site-hosts\n');
    expect(() => parseCli([], { ANSIBLE_CONFIG: cfg }, repo, { cwd: admin })).toThrow(
      `inventory ${join(admin, 'site-hosts')} does not exist (${cfg} [defaults] inventory)`,
    );
  });
});

describe("npm run inventory, from the admin's folder", () => {
  it('reads -i and ./ansible.cfg from the folder npm was run in (INIT_CWD), as the run does', () => {
    const admin = mkdtempSync(join(tmpdir(), 'tp-admin-inv-'));
    writeFileSync(join(admin, 'hosts'), 'h1 ansible_host=192.0.2.7\n');
    writeFileSync(join(admin, 'ansible.cfg'), '[defaults]\ninventory = hosts\n');
    const list = (args: string[]) =>
      JSON.parse(
        execFileSync(process.execPath, [cliEntry('inventory'), ...args], {
          cwd: repo, // where npm runs the script
          env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ANSIBLE_'))), INIT_CWD: admin },
          encoding: 'utf8',
        }),
      ) as { _meta: { hostvars: Record<string, Record<string, unknown>> } };
    expect(list(['-i', 'hosts', '--list'])._meta.hostvars).toEqual({ h1: { ansible_host: '192.0.2.7' } });
    expect(list(['--list'])._meta.hostvars).toEqual({ h1: { ansible_host: '192.0.2.7' } });
    // a bare name is still the package's inventories/NAME
    expect(Object.keys(list(['-i', 'example', '--list'])._meta.hostvars).length).toBeGreaterThan(0);
  });
});

describe('npm run inventory, a mistyped flag', () => {
  it.each([
    ['--lst', '--list'],
    ['--hots', '--host'],
    ['--grpah', '--graph'],
    ['--list-host', '--list-hosts'],
    ['--inventroy', '--inventory'],
    ['--vault-passwrd-file', '--vault-password-file'],
    ['-I', '-i'],
  ])('%s is an error naming the closest known flag (%s), exit 1', (given, meant) => {
    const run = spawnSync(process.execPath, [cliEntry('inventory'), '-i', 'example', given], { cwd: repo, encoding: 'utf8' });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`unknown option ${given}; did you mean ${meant}?`);
  });
});

describe('npm run inventory with -l', () => {
  it('--list-hosts -l honours host_pattern_mismatch = error, as the run does', () => {
    const run = spawnSync(process.execPath, [cliEntry('inventory'), '-i', 'example', '--list-hosts', 'all', '-l', 'no-such-host-typo'], {
      cwd: repo,
      encoding: 'utf8',
      env: { ...process.env, ANSIBLE_HOST_PATTERN_MISMATCH: 'error' },
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('ERROR! Could not match supplied host pattern, ignoring: no-such-host-typo');
  });

  it.each([['--list'], ['--graph'], ['--host', 'hana01']])(
    '%s -l: an error (the listing would show every host), not a limit dropped without a word',
    (...action) => {
      const run = spawnSync(process.execPath, [cliEntry('inventory'), '-i', 'example', ...action, '-l', 'hana01'], { cwd: repo, encoding: 'utf8' });
      expect(run.status).toBe(1);
      expect(run.stderr).toContain('-l/--limit goes with --list-hosts here');
    },
  );
});

describe("ansible-playbook's informational flags", () => {
  it('no inventory at all: an error with an example an installed command can follow (no lab name)', () => {
    expect(() => parseCli(['--check'], {}, repo, noSettings)).toThrow(
      'no inventory: give --inventory PATH (-i), e.g. -i ./hosts, or a folder name under inventories/ (or ANSIBLE_INVENTORY, or inventory = in ansible.cfg)',
    );
  });

  it('--version and -V need no inventory and name the config file', () => {
    for (const flag of ['--version', '-V']) {
      const cli = parseCli([flag], {}, repo, { settings: { origins: {}, warnings: [], file: '/site/ansible.cfg' } });
      expect(cli.version).toBe(true);
      expect(cli.configFile).toBe('/site/ansible.cfg');
    }
  });

  it('--list-hosts and --syntax-check are parsed; -vvvv counts four', () => {
    const cli = parseCli(['-i', 'example', '--list-hosts', '--syntax-check', '-vvvv'], {}, repo, noSettings);
    expect([cli.listHosts, cli.syntaxCheck, cli.verbosity]).toEqual([true, true, 4]);
  });

  it.each([
    ['--chek', '--check'],
    ['--list-host', '--list-hosts'],
    ['--syntaxcheck', '--syntax-check'],
    ['--inventroy', '--inventory'],
    ['--verison', '--version'],
    ['-d', '-D'],
    ['-j', '-J'],
  ])('unknown %s is an error naming the closest known flag (%s)', (given, meant) => {
    const call = () => parseCli(['-i', 'example', given], {}, repo, noSettings);
    expect(call).toThrow(CliError);
    expect(call).toThrow(`unknown option ${given}; did you mean ${meant}?`);
  });

  it.each([
    ['--remote-timeout', '3000000'],
    ['--timeout', '2000001'],
  ])('%s %s, past what Node timers can wait (they would fire at once, failing every host), is an error', (flag, value) => {
    expect(() => parseCli(['-i', 'example', flag, value], {}, repo, noSettings)).toThrow(`${flag} is at most 2000000 (seconds, ~23 days), not "${value}"`);
    expect(() => parseCli(['-i', 'example', flag, '2000000'], {}, repo, noSettings)).not.toThrow();
  });

  it('--zypper-lock-timeout is at most what keeps the facts wait (300 s and twice it) a timer Node honours', () => {
    expect(() => parseCli(['-i', 'example', '--zypper-lock-timeout', '999851'], {}, repo, noSettings)).toThrow(
      '--zypper-lock-timeout is at most 999850 (seconds, ~12 days), not "999851"',
    );
    expect(parseCli(['-i', 'example', '--zypper-lock-timeout', '999850'], {}, repo, noSettings)).toMatchObject({ zyppLockTimeoutSeconds: 999850 });
  });

  it('--remote-timeout 0 is no limit, however many zeros', () => {
    for (const zero of ['0', '00'])
      expect(parseCli(['-i', 'example', '--remote-timeout', zero], {}, repo, noSettings)).toMatchObject({ remoteTimeoutSeconds: 0 });
  });
});

describe('colour and spinner', () => {
  const tty: TerminalStreams = { stdout: { isTTY: true }, stderr: { isTTY: true, columns: 80 } };
  const pipe: TerminalStreams = { stdout: { isTTY: false }, stderr: { isTTY: false } };
  it.each<[string, NodeJS.ProcessEnv, TerminalStreams, TerminalChoice]>([
    ['a terminal', {}, tty, { color: true, live: true }],
    ['not a TTY', {}, pipe, { color: false, live: false }],
    ['NO_COLOR', { NO_COLOR: '1' }, tty, { color: false, live: true }],
    ['NO_COLOR empty (unset by its own rule)', { NO_COLOR: '' }, tty, { color: true, live: true }],
    ['ANSIBLE_NOCOLOR=yes', { ANSIBLE_NOCOLOR: 'yes' }, tty, { color: false, live: true }],
    ['ANSIBLE_NOCOLOR=false', { ANSIBLE_NOCOLOR: 'false' }, tty, { color: true, live: true }],
    ['TERM=dumb', { TERM: 'dumb' }, tty, { color: false, live: false }],
    ['CI on a terminal', { CI: 'true' }, tty, { color: true, live: false }],
    ['ANSIBLE_FORCE_COLOR into a pipe', { ANSIBLE_FORCE_COLOR: '1' }, pipe, { color: true, live: false }],
    ['FORCE_COLOR into a pipe', { FORCE_COLOR: '1' }, pipe, { color: true, live: false }],
    ['FORCE_COLOR=0 on a terminal', { FORCE_COLOR: '0' }, tty, { color: false, live: true }],
    [
      'ANSIBLE_FORCE_COLOR over ANSIBLE_NOCOLOR (Ansible checks force last)',
      { ANSIBLE_FORCE_COLOR: 'true', ANSIBLE_NOCOLOR: 'true' },
      pipe,
      { color: true, live: false },
    ],
    ['a terminal of unknown width', {}, { stdout: { isTTY: true }, stderr: { isTTY: true, columns: 0 } }, { color: true, live: false }],
  ])('%s', (_what, env, streams, expected) => {
    expect(terminalChoice(env, streams)).toEqual(expected);
  });
});

describe('completion bash', () => {
  const script = completionScript('bash', 'trento-provision', repo);
  const complete = (words: string[]) =>
    execFileSync(
      'bash',
      [
        '-c',
        `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _trento_provision; printf '%s\\n' "\${COMPREPLY[@]}"`,
      ],
      { encoding: 'utf8', cwd: mkdtempSync(join(tmpdir(), 'tp-compl-')) },
    )
      .split('\n')
      .filter((l) => l !== '');

  it('completes every flag of the flag table', () => {
    expect(complete(['trento-provision', '--']).sort()).toEqual(
      flagNames()
        .filter((f) => f.startsWith('--'))
        .sort(),
    );
    expect(complete(['trento-provision', '--syn'])).toEqual(['--syntax-check']);
  });

  it('completes inventory names after -i, and the completion subcommand first', () => {
    expect(complete(['trento-provision', '-i', 'exa'])).toEqual(['example']);
    expect(complete(['trento-provision', 'compl'])).toEqual(['completion']);
  });

  it('other shells are an error naming the one supported', () => {
    expect(() => completionScript('zsh', 'trento-provision', repo)).toThrow(/only bash is supported, not "zsh"/);
  });
});
