import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { toShell } from '../../../src/exec/command.ts';
import { wrapScript } from '../../../src/exec/session.ts';
import { parseFacts } from '../../../src/facts/parse.ts';
import { readRecords } from '../../../src/facts/records.ts';
import { ALLOY_FROM_MAJOR, platformOf } from '../../../src/platform.ts';
import { parseOsRelease } from '../../../src/facts/sources/host.ts';
import { factsScript } from '../../../src/facts/script.ts';
import { MARK_WITHIN, MAX_HOST_FILE_BYTES, PACKAGES, TOOLKIT_MARK } from '../../../src/facts/paths.ts';
import { configureAlloyScript } from '../../../roles/trento_agent/tasks/main.ts';
import { packages } from '../../../src/facts/sources/packages.ts';
import { clockSkewMs } from '../../../src/facts/sources/clock.ts';

describe('facts', () => {
  it('the facts script runs on a real system and parses back', () => {
    const out = execFileSync('/bin/bash', ['-s'], {
      input: wrapScript(toShell(factsScript({ withContent: true, zyppLockTimeoutSeconds: 5 }))),
      encoding: 'utf8',
    });
    const facts = parseFacts(out);
    expect(facts.osRelease.ID).toBeTruthy();
    expect(facts.uid).toBe(process.getuid!());
    expect(facts.tools.has('base64')).toBe(true);
    expect(facts.files['/etc/trento/agent.yaml']).toBeDefined();
  });

  it('silences no command inside a command substitution: bash then forks the command from a subshell, two processes for one', () => {
    // `x=$(cmd)` execs cmd in the substitution's subshell; `x=$(cmd 2>/dev/null)` makes bash 5.2
    // fork it from there: a process more per tool on every host, every run. The facts silence
    // such commands around the substitution instead: `{ x=$(cmd); } 2>/dev/null`.
    // The command's parent is the shell itself when the subshell exec'd it, the subshell when it forked it.
    const parentIsTheShell = (substitution: string) =>
      execFileSync('/bin/bash', ['-c', `${substitution}; [ "$x" = "$$" ] && echo yes || echo no`], { encoding: 'utf8' }).trim();
    expect(parentIsTheShell(`x=$(/bin/sh -c 'echo $PPID')`)).toBe('yes');
    expect(parentIsTheShell(`x=$(/bin/sh -c 'echo $PPID' 2>/dev/null)`)).toBe('no');
    expect(parentIsTheShell(`{ x=$(/bin/sh -c 'echo $PPID'); } 2>/dev/null`)).toBe('yes');
    const script = toShell(factsScript({ withContent: true, withUpdates: true, zyppLockTimeoutSeconds: 5 }));
    const silencedInside = script.split('\n').filter((line) => !line.trim().startsWith('#') && /\$\([^()]*2>\s*\/dev\/null[^()]*\)/.test(line));
    expect(silencedInside).toEqual([]);
  });

  it("an rpm that does not answer for every package (a damaged rpm database prints only errors) fails the host's facts: read as 'not installed', the plan would install what is there and forget the toolkit's record", () => {
    const names = Object.values(PACKAGES);
    const answer = (lines: string[]) => packages.parse(new Map([['packages', lines.join('\n')]]));
    expect(answer(names.map((n, i) => (i === 0 ? `${n} 3.1.0-1.1` : `package ${n} is not installed`)))).toEqual({
      facts: { packages: { [names[0]!]: '3.1.0-1.1' } },
    });
    expect(answer([]).problems).toEqual([
      `rpm -q gave no answer for ${names.join(', ')} (a damaged rpm database? 'rpm --rebuilddb' on the host): what is installed cannot be known`,
    ]);
    expect(answer([`${names[0]} 3.1.0-1.1`]).problems?.[0]).toMatch(new RegExp(`^rpm -q gave no answer for ${names[1]}, `));
    // No rpm at all (not a SUSE system): nothing installed, and the platform rules say the rest.
    expect(packages.parse(new Map())).toEqual({ facts: { packages: {} } });
  });

  it("asks the repositories for trento-agent only where the host can get Alloy: the shell reads os-release's major as the platform rules do", () => {
    // The real facts script with each product's real os-release bound over /etc/os-release (a
    // mount namespace of this process tree alone); the records say whether zypper was asked.
    const recordsFor = (osRelease: string) => {
      const out = execFileSync('unshare', ['--mount', '/bin/bash', '-c', 'mount --bind -- "$1" /etc/os-release && exec /bin/bash -s', '-', osRelease], {
        input: wrapScript(toShell(factsScript({ withContent: false, zyppLockTimeoutSeconds: 5 }))),
        encoding: 'utf8',
        timeout: 20_000,
      });
      return new Map(readRecords(out));
    };
    const fixtures = fileURLToPath(new URL('../../fixtures/os-release/', import.meta.url));
    const dir = mkdtempSync(join(tmpdir(), 'tp-os-release-'));
    const written = (name: string, text: string) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };
    // [os-release, the major the shell skips at, or 'asked']
    const cases: [string, number | 'asked'][] = [
      [join(fixtures, 'sles-15-sp7'), 15],
      [join(fixtures, 'sles-sap-15-sp6'), 15],
      [join(fixtures, 'opensuse-leap-15.6'), 15],
      [join(fixtures, 'sl-micro-6.2'), 'asked'], // VERSION_ID="16.0" (refused as transactional, after the facts)
      [join(fixtures, 'sles-16.0'), 'asked'],
      [join(fixtures, 'sles-sap-16.0'), 'asked'],
      [join(fixtures, 'opensuse-leap-16.0'), 'asked'],
      // the last VERSION_ID line counts, as parseOsRelease reads it
      [written('two-lines', 'ID="sles"\nVERSION_ID="15.7"\nVERSION_ID="16.0"\n'), 'asked'],
      [written('two-lines-back', 'ID="sles"\nVERSION_ID="16.0"\nVERSION_ID=\'15.7\'\n'), 15],
      // a value the shell cannot read as a plain number is asked about (Number() reads 0x10 as 16)
      [written('hex', 'ID=sles\nVERSION_ID=0x10\n'), 'asked'],
      [written('none', 'ID=sles\n'), 'asked'],
    ];
    for (const [file, expected] of cases) {
      const records = recordsFor(file);
      expect(records.get('done'), file).toBe('yes');
      const platform = platformOf({ osRelease: parseOsRelease(readFileSync(file, 'utf8')), baseProduct: '' });
      if (expected !== 'asked') {
        expect(records.get('agent-candidate-skipped'), file).toBe(String(expected));
        expect(records.has('agent-candidate-rc'), file).toBe(false);
        // the platform rules give such a host no Alloy: nothing needed the answer
        expect(expected).toBeLessThan(ALLOY_FROM_MAJOR);
        expect(platform.supported && platform.provider, file).not.toBe('alloy');
      } else {
        expect(records.has('agent-candidate-skipped'), file).toBe(false);
        // zypper was run (this machine's, with no repository offering trento-agent)
        expect(records.get('agent-candidate-rc'), file).toMatch(/^\d+$/);
      }
    }
    // Not asked on uninstall, whatever the host is.
    const uninstall = new Map(
      readRecords(
        execFileSync('/bin/bash', ['-s'], {
          input: wrapScript(toShell(factsScript({ withContent: false, withCandidate: false, zyppLockTimeoutSeconds: 5 }))),
          encoding: 'utf8',
        }),
      ),
    );
    expect([uninstall.get('done'), uninstall.has('agent-candidate-rc'), uninstall.has('agent-candidate-skipped')]).toEqual(['yes', false, false]);
  });

  it("reads the host's clock as the facts end, after the slow sources: the clocks' difference is never taken too small (a sample from before the rollout would pass as proof)", () => {
    // The sources after the probes' clock (zypper's, in real life) made slow: a second and a half.
    const script = toShell(factsScript({ withContent: false, zyppLockTimeoutSeconds: 5 }));
    const clockSource = script.indexOf('# Fact source "clock"');
    expect(clockSource).toBeGreaterThan(script.indexOf('record probe:now'));
    const slow = `${script.slice(0, clockSource)}sleep 1.5\n${script.slice(clockSource)}`;
    const before = Date.now();
    const facts = parseFacts(execFileSync('/bin/bash', ['-s'], { input: wrapScript(slow), encoding: 'utf8' }));
    const answeredAt = Date.now();
    expect(facts.clockAtEnd).toBeDefined();
    // bash 5 here: EPOCHREALTIME, to the microsecond
    expect(String(facts.clockAtEnd)).toMatch(/^\d+\.\d+$/);
    expect(facts.clockAtEnd! * 1000).toBeGreaterThanOrEqual(facts.probes.hostNow! * 1000 + 1500);
    // Same clock here: the difference is the return trip at most, never less than the truth by more.
    const skew = clockSkewMs(facts, answeredAt)!;
    expect(skew).toBeLessThanOrEqual(0);
    expect(skew).toBeGreaterThan(before - answeredAt);
    // Without EPOCHREALTIME (bash 4.4, SLES 15): whole seconds, rounded up.
    const records = new Map(
      readRecords(
        execFileSync('/bin/bash', ['-s'], {
          input: wrapScript(`unset EPOCHREALTIME\n${toShell(factsScript({ withContent: false, zyppLockTimeoutSeconds: 5 }))}`),
          encoding: 'utf8',
        }),
      ),
    );
    expect(records.get('clock:end')).toMatch(/^\d+$/);
    expect(Number(records.get('clock:end')) * 1000).toBeGreaterThan(before);
  });

  it('parses os-release quoting like the shell', () => {
    expect(parseOsRelease('# c\nID="sles"\nNAME=\'x y\'\nVERSION_ID=16.0\nA="q\\"x"\n')).toEqual({
      ID: 'sles',
      NAME: 'x y',
      VERSION_ID: '16.0',
      A: 'q"x',
    });
  });

  const factsOf = (managedFiles: string[]) =>
    execFileSync('/bin/bash', ['-s'], {
      input: wrapScript(toShell(factsScript({ withContent: true, zyppLockTimeoutSeconds: 5, managedFiles }))),
      encoding: 'utf8',
      timeout: 20_000,
    });

  it('keeps file contents byte-exact, trailing newlines included', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-facts-'));
    const path = join(dir, 'f');
    writeFileSync(path, 'a\n\n', { mode: 0o640 });
    const facts = parseFacts(factsOf([path]));
    expect(facts.files[path]).toMatchObject({ exists: true, mode: '640', content: 'a\n\n' });
    expect(facts.files[path]!.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('never reads through a link, a FIFO or an oversized file: the host is refused, naming them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-facts-'));
    const secret = join(dir, 'shadow');
    writeFileSync(secret, 'root:SENTINEL-HASH:19000::::::\n', { mode: 0o600 });
    symlinkSync(secret, join(dir, 'link'));
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    writeFileSync(join(dir, 'big'), Buffer.alloc(MAX_HOST_FILE_BYTES + 1));
    const out = factsOf([join(dir, 'link'), join(dir, 'fifo'), join(dir, 'big')]); // a FIFO would hang sha256sum/cat
    expect(out).not.toContain('SENTINEL');
    expect(out).not.toContain(Buffer.from('SENTINEL').toString('base64').slice(0, 8));
    expect(() => parseFacts(out)).toThrow(new RegExp(`${join(dir, 'link')} is a symbolic link to ${secret}`));
    expect(() => parseFacts(out)).toThrow(/fifo is a fifo, not a regular file/);
    expect(() => parseFacts(out)).toThrow(new RegExp(`big is ${MAX_HOST_FILE_BYTES + 1} bytes`));
  });

  it("reads whether an installed program carries the toolkit's mark near its top (configure-alloy.sh's does; a package's own would not)", () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-facts-mark-'));
    const files = {
      ours: configureAlloyScript(),
      package: '#!/bin/bash\n# configure-alloy.sh, shipped by trento-agent\n',
      late: `#!/bin/bash\n${'#\n'.repeat(MARK_WITHIN / 2)}# ${TOOLKIT_MARK}\n`, // the mark past the top
      empty: '',
    };
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content, { mode: 0o755 });
    const paths = Object.keys(files).map((name) => join(dir, name));
    const out = execFileSync('/bin/bash', ['-s'], {
      input: wrapScript(
        toShell(
          factsScript({
            withContent: false,
            zyppLockTimeoutSeconds: 5,
            managedFiles: [...paths, join(dir, 'absent')],
            markedFiles: [...paths, join(dir, 'absent')],
          }),
        ),
      ),
      encoding: 'utf8',
      timeout: 20_000,
    });
    const facts = parseFacts(out);
    expect(Object.fromEntries(Object.keys(files).map((name) => [name, facts.files[join(dir, name)]?.marked]))).toEqual({
      ours: true,
      package: false,
      late: false,
      empty: false,
    });
    expect(facts.files[join(dir, 'absent')]).toEqual({ path: join(dir, 'absent'), exists: false });
    // Only the listed files are read for it.
    expect(parseFacts(factsOf([paths[0]!])).files[paths[0]!]?.marked).toBeUndefined();
  });

  it("trento.alloy, in a folder Alloy's account writes to, is read once without following a link and hashed from what was read", () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-facts-alloy-'));
    writeFileSync(join(dir, 'trento.alloy'), 'prometheus.remote_write "trento" {}\n\n');
    // Alloy's folder is the lab machine's default one unless /etc/sysconfig/alloy names another: here, the scratch folder.
    const script = wrapScript(toShell(factsScript({ withContent: false, zyppLockTimeoutSeconds: 5 }))).replace(
      /^TP_ALLOY_DEFAULT_DIR=.*$/m,
      `TP_ALLOY_DEFAULT_DIR=${dir}`,
    );
    const facts = parseFacts(execFileSync('/bin/bash', ['-s'], { input: script, encoding: 'utf8', timeout: 20_000 }));
    const file = facts.files[join(dir, 'trento.alloy')];
    expect(file).toMatchObject({ exists: true, content: 'prometheus.remote_write "trento" {}\n\n' });
    expect(file?.sha256).toBe(createHash('sha256').update('prometheus.remote_write "trento" {}\n\n').digest('hex'));
  });

  it('Alloy on a single file: the other *.alloy files of its folder, which directory mode would start loading', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-facts-dormant-'));
    for (const name of ['config.alloy', 'staging.alloy', 'trento.alloy', 'notes.txt']) writeFileSync(join(dir, name), '// x\n');
    mkdirSync(join(dir, 'sub.alloy')); // a folder: Alloy loads files only
    const sysconfig = join(dir, 'sysconfig-alloy');
    writeFileSync(sysconfig, `CONFIG_FILE="${dir}/config.alloy"\n`, { mode: 0o644 });
    const script = wrapScript(toShell(factsScript({ withContent: false, zyppLockTimeoutSeconds: 5 }))).replace(
      /^TP_ALLOY_SYSCONFIG=.*$/m,
      `TP_ALLOY_SYSCONFIG=${sysconfig}`,
    );
    const facts = parseFacts(execFileSync('/bin/bash', ['-s'], { input: script, encoding: 'utf8', timeout: 20_000 }));
    expect(facts.alloy.configIsDir).toBe(false);
    expect(facts.alloy.dormantFiles).toEqual(['staging.alloy']);
  });

  it("tells Alloy's default folder spelled otherwise (/etc/alloy/., a link to it) from another folder: its trento.alloy is the one Alloy loads", () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-facts-default-dir-'));
    const other = mkdtempSync(join(tmpdir(), 'tp-facts-other-dir-'));
    symlinkSync(dir, `${other}/link`);
    const sysconfig = join(other, 'sysconfig-alloy');
    const factsFor = (line: string) => {
      writeFileSync(sysconfig, `${line}\n`, { mode: 0o644 });
      const script = wrapScript(toShell(factsScript({ withContent: false, zyppLockTimeoutSeconds: 5 })))
        .replace(/^TP_ALLOY_SYSCONFIG=.*$/m, `TP_ALLOY_SYSCONFIG=${sysconfig}`)
        .replace(/^TP_ALLOY_DEFAULT_DIR=.*$/m, `TP_ALLOY_DEFAULT_DIR=${dir}`);
      return parseFacts(execFileSync('/bin/bash', ['-s'], { input: script, encoding: 'utf8', timeout: 20_000 })).alloy;
    };
    expect(factsFor(`CONFIG_FILE="${dir}/."`)).toMatchObject({ configDir: `${dir}/.`, configDirIsDefault: true });
    expect(factsFor(`CONFIG_FILE="${other}/link/"`)).toMatchObject({ configDirIsDefault: true });
    expect(factsFor(`CONFIG_FILE="${other}/"`).configDirIsDefault).toBeUndefined();
    expect(factsFor(`CONFIG_FILE="${dir}/"`).configDirIsDefault).toBeUndefined(); // the same spelling: nothing to tell
  });

  it("on uninstall, whether Alloy would take its folder without trento.alloy (the lab's Alloy stand-in validates): not where a file of the admin's uses Trento's pipeline, its Error line naming the file as it is", () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-facts-without-trento-'));
    const bin = mkdtempSync(join(tmpdir(), 'tp-facts-alloy-bin-'));
    symlinkSync(fileURLToPath(new URL('../../lab/host/alloy', import.meta.url)), join(bin, 'alloy'));
    writeFileSync(join(dir, 'trento.alloy'), 'prometheus.remote_write "trento" {\n  endpoint {\n    url = "https://t/api/v1/write"\n  }\n}\n');
    const sysconfig = join(dir, 'sysconfig-alloy');
    writeFileSync(sysconfig, `CONFIG_FILE="${dir}/"\n`, { mode: 0o644 });
    const refusedWith = (admin: string) => {
      writeFileSync(join(dir, 'admin.alloy'), admin);
      // (the script sets the host's PATH: the stand-in's folder goes first in it)
      const script = wrapScript(toShell(factsScript({ withContent: false, forUninstall: true, zyppLockTimeoutSeconds: 5 })))
        .replace(/^TP_ALLOY_SYSCONFIG=.*$/m, `TP_ALLOY_SYSCONFIG=${sysconfig}`)
        .replace(/ PATH=\/usr\/sbin:/, ` PATH=${bin}:/usr/sbin:`);
      const out = execFileSync('/bin/bash', ['-s'], { input: script, encoding: 'utf8', timeout: 20_000 });
      return parseFacts(out).alloy.withoutTrentoRefused;
    };
    expect(refusedWith('prometheus.scrape "admin" {\n  targets    = []\n  forward_to = [prometheus.remote_write.trento.receiver]\n}\n')).toBe(
      `Error: ${dir}/admin.alloy:3:17: component "prometheus.remote_write.trento.receiver" does not exist or is out of scope`,
    );
    expect(refusedWith('prometheus.exporter.self "admin" {\n}\n')).toBeUndefined();
    // An admin file broken on its own (refused with trento.alloy too): not trento.alloy's absence.
    expect(refusedWith('prometheus.scrape "admin" {\n  targets = [\n}\n')).toBeUndefined();
    // A file Alloy reaches through a link (which the facts never read through) defines what
    // another uses: the folder's copy would lack it, so nothing is judged.
    const elsewhere = mkdtempSync(join(tmpdir(), 'tp-facts-linked-'));
    writeFileSync(join(elsewhere, 'rw.alloy'), 'prometheus.remote_write "admin" {\n  endpoint {\n    url = "https://m/api/v1/write"\n  }\n}\n');
    symlinkSync(join(elsewhere, 'rw.alloy'), join(dir, 'rw.alloy'));
    expect(refusedWith('prometheus.scrape "admin" {\n  targets    = []\n  forward_to = [prometheus.remote_write.admin.receiver]\n}\n')).toBeUndefined();
    expect(refusedWith('prometheus.scrape "admin" {\n  targets    = []\n  forward_to = [prometheus.remote_write.trento.receiver]\n}\n')).toBeUndefined();
  });

  it("on uninstall, the copies of Alloy's files (trento.alloy's credentials) for alloy validate go with their folder when a signal ends the script meanwhile (--remote-timeout's TERM to its group, a lost connection's HUP), and the script dies of that signal", async () => {
    for (const signal of ['SIGTERM', 'SIGHUP'] as const) {
      const dir = mkdtempSync(join(tmpdir(), 'tp-facts-copies-'));
      const scratch = mkdtempSync(join(tmpdir(), 'tp-facts-scratch-'));
      const bin = mkdtempSync(join(tmpdir(), 'tp-facts-slow-alloy-'));
      const validating = join(bin, 'validating');
      // The lab's Alloy stand-in, slow to validate (a large folder on a busy host).
      const standIn = fileURLToPath(new URL('../../lab/host/alloy', import.meta.url));
      writeFileSync(join(bin, 'alloy'), `#!/bin/bash\n[ "$2" = --help ] || { : >'${validating}'; sleep 60; }\nexec '${standIn}' "$@"\n`, { mode: 0o755 });
      writeFileSync(join(dir, 'trento.alloy'), 'prometheus.remote_write "trento" {\n  endpoint {\n    url = "https://t/api/v1/write"\n  }\n}\n');
      writeFileSync(join(dir, 'admin.alloy'), 'prometheus.exporter.self "admin" {\n}\n');
      const sysconfig = join(dir, 'sysconfig-alloy');
      writeFileSync(sysconfig, `CONFIG_FILE="${dir}/"\n`, { mode: 0o644 });
      const script = wrapScript(toShell(factsScript({ withContent: false, forUninstall: true, zyppLockTimeoutSeconds: 5 })))
        .replace(/^TP_ALLOY_SYSCONFIG=.*$/m, `TP_ALLOY_SYSCONFIG=${sysconfig}`)
        .replace(/ PATH=\/usr\/sbin:/, ` PATH=${bin}:/usr/sbin:`);
      // Its own process group, as the remote command's: the signal reaches bash and alloy alike.
      const child = spawn('/bin/bash', ['-s'], { detached: true, stdio: ['pipe', 'ignore', 'ignore'], env: { ...process.env, TMPDIR: scratch } });
      const ended = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, killedBy) => resolve(killedBy)));
      child.stdin.end(script);
      for (let waited = 0; !existsSync(validating); waited += 50) {
        if (waited > 20_000) throw new Error('alloy validate never started');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(readdirSync(scratch), 'the copies, while alloy validates').toHaveLength(1);
      process.kill(-child.pid!, signal);
      expect(await ended, signal).toBe(signal);
      expect(readdirSync(scratch), signal).toEqual([]);
    }
  });

  it("on uninstall, the files Alloy loads besides trento.alloy (its folder's *.alloy, or the one file): the admin's pipelines, where its package does not own them as they are", () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-facts-admin-pipelines-'));
    for (const name of ['config.alloy', 'admin.alloy', 'trento.alloy', 'notes.txt']) writeFileSync(join(dir, name), '// x\n');
    mkdirSync(join(dir, 'sub.alloy')); // a folder: Alloy loads files only
    symlinkSync(join(dir, 'notes.txt'), join(dir, 'linked.alloy'));
    const sysconfig = join(dir, 'sysconfig-alloy');
    const factsFor = (line: string, forUninstall: boolean) => {
      writeFileSync(sysconfig, `${line}\n`, { mode: 0o644 });
      const script = wrapScript(toShell(factsScript({ withContent: false, forUninstall, zyppLockTimeoutSeconds: 5 }))).replace(
        /^TP_ALLOY_SYSCONFIG=.*$/m,
        `TP_ALLOY_SYSCONFIG=${sysconfig}`,
      );
      return parseFacts(execFileSync('/bin/bash', ['-s'], { input: script, encoding: 'utf8', timeout: 20_000 })).alloy.adminPipelines;
    };
    // This machine has no alloy package: nothing there is the package's own. (The lab's package,
    // whose config.alloy is its own while unchanged, is provision-cases' uninstall case.)
    expect(factsFor(`CONFIG_FILE="${dir}/"`, true)).toEqual(['admin.alloy', 'config.alloy', 'linked.alloy'].map((n) => join(dir, n)));
    expect(factsFor(`CONFIG_FILE="${dir}/config.alloy"`, true)).toEqual([join(dir, 'config.alloy')]);
    expect(factsFor(`CONFIG_FILE="${dir}/trento.alloy"`, true)).toEqual([]);
    // Not asked (every run but an uninstall): not read, no process.
    expect(factsFor(`CONFIG_FILE="${dir}/"`, false)).toBeUndefined();
  });

  it("warns where fs.protected_hardlinks is 0: Alloy's account could then hard-link a root-only file into its folder, which root reads", () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-facts-hardlinks-'));
    const sysconfig = join(dir, 'sysconfig-alloy');
    writeFileSync(sysconfig, `CONFIG_FILE="${dir}/"\n`, { mode: 0o644 });
    const setting = join(dir, 'protected_hardlinks');
    const warningsWith = (value: string) => {
      writeFileSync(setting, `${value}\n`);
      const script = wrapScript(toShell(factsScript({ withContent: false, zyppLockTimeoutSeconds: 5 })))
        .replace(/^TP_ALLOY_SYSCONFIG=.*$/m, `TP_ALLOY_SYSCONFIG=${sysconfig}`)
        .replace(/^TP_PROTECTED_HARDLINKS=.*$/m, `TP_PROTECTED_HARDLINKS=${setting}`);
      return parseFacts(execFileSync('/bin/bash', ['-s'], { input: script, encoding: 'utf8', timeout: 20_000 })).warnings;
    };
    expect(warningsWith('0')).toContainEqual(
      expect.stringMatching(new RegExp(`^fs\\.protected_hardlinks is 0 on this host: Alloy's account can hard-link a root-only file into ${dir}/?, `)),
    );
    expect(warningsWith('1').join('\n')).not.toContain('protected_hardlinks');
  });

  it('names the folders where a killed apply left a staging folder, which the plan removes first', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-facts-left-'));
    writeFileSync(join(dir, 'agent.yaml'), 'api-key: new\n');
    mkdirSync(join(dir, '.tp-stage.Ab12Cd'));
    writeFileSync(join(dir, '.tp-stage.Ab12Cd', 'prev.0'), 'api-key: old\n');
    const facts = parseFacts(factsOf([join(dir, 'agent.yaml')]));
    expect(facts.leftovers).toContain(dir);
    const { leftoversRemoved } = await import('../../../src/plan/ops.ts');
    const change = leftoversRemoved(facts);
    expect(change?.summary).toMatch(new RegExp(`^remove what a killed run left in .*${dir}`));
    // the apply library's own cleaner, with the folder quoted
    expect(toShell(change!.script)).toContain(`tp_clean_leftovers`);
    expect(leftoversRemoved({ ...facts, leftovers: [] })).toBeNull();
    expect(facts.leftoversLive).toBeUndefined();
  });

  it('on uninstall only, names the folders where a killed agent start (configure-alloy.sh) left its staging folder, which the uninstall removes once the agent is stopped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-facts-agent-left-'));
    writeFileSync(join(dir, 'trento.alloy'), 'password = "new"\n');
    mkdirSync(join(dir, '.tp-agent-stage.Xy34Zw'));
    writeFileSync(join(dir, '.tp-agent-stage.Xy34Zw', 'previous'), 'password = "old"\n');
    const factsFor = (forUninstall: boolean) =>
      parseFacts(
        execFileSync('/bin/bash', ['-s'], {
          input: wrapScript(toShell(factsScript({ withContent: false, forUninstall, zyppLockTimeoutSeconds: 5, managedFiles: [join(dir, 'trento.alloy')] }))),
          encoding: 'utf8',
          timeout: 20_000,
        }),
      );
    const uninstall = factsFor(true);
    expect(uninstall.agentLeftovers).toEqual([dir]);
    // Not the toolkit's own leftovers (a provision run never touches the folder an agent start may be using).
    expect(uninstall.leftovers ?? []).not.toContain(dir);
    expect(factsFor(false).agentLeftovers).toBeUndefined();
    const { agentLeftoversRemoved } = await import('../../../src/plan/ops.ts');
    const change = agentLeftoversRemoved(uninstall);
    expect(change?.summary).toBe(`remove what a killed start of configure-alloy.sh left in ${dir} (its staging folders, holding an earlier trento.alloy)`);
    expect(toShell(change!.script)).toBe(`tp_clean_agent_leftovers ${dir}`);
    expect(agentLeftoversRemoved({ ...uninstall, agentLeftovers: [] })).toBeNull();
  });

  it("tells a live run's staging folders from a killed run's: a run that holds the host's lock now (read in /proc/locks, never taken)", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-facts-live-'));
    const run = join(dir, 'run');
    mkdirSync(run);
    writeFileSync(join(dir, 'agent.yaml'), 'api-key: new\n');
    mkdirSync(join(dir, '.tp-stage.Ab12Cd'));
    writeFileSync(join(run, 'lock'), '');
    const factsNow = () =>
      parseFacts(
        execFileSync('/bin/bash', ['-s'], {
          input: wrapScript(toShell(factsScript({ withContent: false, zyppLockTimeoutSeconds: 5, managedFiles: [join(dir, 'agent.yaml')] }))).replace(
            /^TP_GENERATION=.*$/m,
            `TP_GENERATION=${join(run, 'generation')}`,
          ),
          encoding: 'utf8',
          timeout: 20_000,
        }),
      );
    expect(factsNow().leftoversLive).toBeUndefined();
    // Another run's apply holding the lock as tp_lock does (flock on the lock file).
    // (a group of its own: flock runs sleep as its child, which holds the lock too)
    const holder = spawn('flock', ['-n', join(run, 'lock'), 'sleep', '30'], { stdio: 'ignore', detached: true });
    try {
      // once the kernel lists the lock (a fixed pause could end before flock ran on a busy machine)
      const inode = `:${statSync(join(run, 'lock')).ino} `;
      for (let i = 0; i < 400 && !readFileSync('/proc/locks', 'utf8').includes(inode); i++) await new Promise((r) => setTimeout(r, 50));
      const live = factsNow();
      expect(live.leftoversLive).toBe(true);
      const { leftoversRemoved } = await import('../../../src/plan/ops.ts');
      expect(leftoversRemoved(live)).toBeNull();
    } finally {
      process.kill(-holder.pid!, 'SIGTERM');
    }
  });

  it('on uninstall, the folders --purge may remove: what each holds (dot files, a dangling link) and that no package owns it, by rpm; not a link to a folder, nor on other runs', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tp-facts-folders-'));
    const [full, empty, gone, linked] = ['trento', 'share-trento', 'missing', 'linked'].map((n) => join(root, n)) as [string, string, string, string];
    mkdirSync(full);
    mkdirSync(empty);
    for (const name of ['agent.yaml', '.agent.yaml.swp', '*']) writeFileSync(join(full, name), 'x\n');
    symlinkSync(join(root, 'nowhere'), join(full, 'dangling'));
    symlinkSync(full, linked);
    const foldersOf = (forUninstall: boolean) =>
      parseFacts(
        execFileSync('/bin/bash', ['-s'], {
          input: wrapScript(toShell(factsScript({ withContent: false, forUninstall, zyppLockTimeoutSeconds: 5, purgedFolders: [full, empty, gone, linked] }))),
          encoding: 'utf8',
          timeout: 20_000,
        }),
      ).folders;
    // This machine's rpm database has no package owning a temporary folder: rpm says so.
    expect(foldersOf(true)).toEqual({
      [full]: { ownedByPackage: false, entries: ['*', '.agent.yaml.swp', 'agent.yaml', 'dangling'] },
      [empty]: { ownedByPackage: false, entries: [] },
    });
    // This machine's rpm database holds no package: a folder one owns is rpm's answer with a
    // name, parsed here; no answer at all ('?': no rpm, a damaged database) is read as owned too.
    const { folders } = await import('../../../src/facts/sources/folders.ts');
    expect(folders.parse(new Map([['folder:/etc/trento', 'trento-agent\nagent.yaml\n']])).facts.folders).toEqual({
      '/etc/trento': { ownedByPackage: true, entries: ['agent.yaml'] },
    });
    expect(folders.parse(new Map([['folder:/etc/trento', '?\n']])).facts.folders?.['/etc/trento']?.ownedByPackage).toBe(true);
    expect(foldersOf(false)).toEqual({});
  });

  it('refuses output that was cut short', () => {
    expect(() => parseFacts('@@tp-facts 1\nrr 10 7\nos-releaseID=sles\n')).toThrow(/did not finish/);
    expect(() => parseFacts('@@tp-facts 1\nrr 10 7\nos-releaseID=sles\nrr 4 3\ndoneye')).toThrow(/did not finish/);
  });
});

describe('unit states', () => {
  it('reads one systemctl show for several units, missing ones as not-found', async () => {
    const { parseUnits } = await import('../../../src/facts/sources/units.ts');
    expect(
      parseUnits(
        'Id=a.service\nActiveState=active\nUnitFileState=enabled\nNeedDaemonReload=yes\n\nUnitFileState=\nId=b.service\nActiveState=inactive\nNeedDaemonReload=no\n',
      ),
    ).toEqual({
      'a.service': { state: 'active', enabled: 'enabled', needsReload: true },
      'b.service': { state: 'inactive', enabled: 'not-found' },
    });
  });
});

describe('unit states when systemd does not answer, or a unit has another name', () => {
  it('a failed systemctl show is a problem naming it, never "every unit absent"; an alias is read by its place', async () => {
    const { units } = await import('../../../src/facts/sources/units.ts');
    const { UNITS } = await import('../../../src/facts/paths.ts');
    const failed = units.parse(
      new Map([
        ['units-failed', '1 Failed to connect to bus: Connection timed out'],
        ['units', ''],
      ]),
    );
    expect(failed.problems?.[0]).toMatch(
      /^systemctl show failed \(exit 1: Failed to connect to bus: Connection timed out; systemd or D-Bus not answering\?\): the state of trento-agent\.service, .* cannot be known/,
    );
    // a system without systemd (a container): no unit states, no problem
    expect(units.parse(new Map([['units-failed', "1 System has not been booted with systemd as init system (PID 1). Can't operate."]]))).toEqual({
      facts: { units: {} },
    });
    // node_exporter's unit installed under another name, with prometheus-node_exporter.service an alias of it
    const names = Object.values(UNITS);
    const text = names
      .map((n) =>
        n === UNITS.nodeExporter ? 'Id=node_exporter.service\nActiveState=active\nUnitFileState=enabled' : `Id=${n}\nActiveState=inactive\nUnitFileState=`,
      )
      .join('\n\n');
    expect(units.parse(new Map([['units', text]])).facts?.units?.[UNITS.nodeExporter]).toEqual({ state: 'active', enabled: 'enabled' });
  });
});
