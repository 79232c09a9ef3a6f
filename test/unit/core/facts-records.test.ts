// The facts script's framing: length-prefixed records written with shell builtins (no process
// per fact), read back byte-exact whatever the files hold.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toShell } from '../../../src/exec/command.ts';
import { wrapScript } from '../../../src/exec/session.ts';
import { parseFacts } from '../../../src/facts/parse.ts';
import { readRecords, RecordsError } from '../../../src/facts/records.ts';
import { factsScript } from '../../../src/facts/script.ts';
import { updates } from '../../../src/facts/sources/updates.ts';
import { safeFiles } from '../../../src/shell/index.ts';

const run = (managedFiles: string[]) =>
  execFileSync('/bin/bash', ['-s'], {
    input: wrapScript(toShell(factsScript({ withContent: true, zyppLockTimeoutSeconds: 5, managedFiles }))),
    encoding: 'utf8',
    timeout: 20_000,
  });

describe('facts records', () => {
  it('reads raw and base64 records, skipping what a login file printed before the start line', () => {
    const b = (s: string) => Buffer.from(s).toString('base64');
    const text = `Welcome!\n@@tp-facts 1\nrr 1 5\nka\nb\nc\nrb 1 ${b('é\n').length}\nv${b('é\n')}\nbr ${b('ü').length} 0\n${b('ü')}\n`;
    expect(readRecords(text)).toEqual([
      ['k', 'a\nb\nc'],
      ['v', 'é\n'],
      ['ü', ''],
    ]);
  });

  it('stops at output cut short and refuses a record longer or shorter than it says', () => {
    expect(readRecords('@@tp-facts 1\nrr 1 5\nka\nb')).toEqual([]);
    expect(readRecords('@@tp-facts 1\nrr 1 1\nab\nrr 1')).toEqual([['a', 'b']]);
    expect(() => readRecords('@@tp-facts 1\nrr 1 1\nkéx\n')).toThrow(RecordsError);
    expect(() => readRecords('@@tp-facts 1\nkey\tdmFsdWU=\n')).toThrow(/unexpected facts output/);
  });

  it('keeps every byte of file contents: newlines, tabs, control bytes, UTF-8, Latin-1, NUL, empty files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-records-'));
    const files: Record<string, Buffer> = {
      text: Buffer.from('a: 1\n\n\tb: "x"\n\n\n'),
      'no-newline': Buffer.from('last line'),
      empty: Buffer.alloc(0),
      utf8: Buffer.from('# Größe: 10 €\nkey: ✓\n'),
      control: Buffer.from([0x01, 0x1b, 0x5b, 0x0d, 0x0a, 0x7f]),
      nul: Buffer.from([0x61, 0x00, 0x62, 0x0a, 0x00]),
      'records-inside': Buffer.from('rr 4 4\nfakedone\n@@tp-facts 1\n'),
    };
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
    const facts = parseFacts(run(Object.keys(files).map((n) => join(dir, n))));
    for (const [name, content] of Object.entries(files)) {
      const fact = facts.files[join(dir, name)]!;
      expect(fact, name).toMatchObject({ exists: true });
      expect(Buffer.from(fact.content!, 'utf8').equals(Buffer.from(content.toString('utf8'), 'utf8')), name).toBe(true);
      expect(fact.sha256, name).toMatch(/^[0-9a-f]{64}$/);
    }
    // Latin-1 bytes travel as base64 and arrive as the controller reads any file: decoded as UTF-8
    writeFileSync(join(dir, 'latin1'), Buffer.from([0x47, 0x72, 0xf6, 0xdf, 0x65, 0x0a]));
    expect(parseFacts(run([join(dir, 'latin1')])).files[join(dir, 'latin1')]!.content).toBe(Buffer.from([0x47, 0x72, 0xf6, 0xdf, 0x65, 0x0a]).toString('utf8'));
  });

  it('names with spaces, newlines, backslashes and UTF-8 get their own hash and content', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-records-'));
    // a carriage return: coreutils 9 (SLES 16, Debian 12) escapes it in sha256sum's line, 8.32 does not
    const names = ['a b', 'new\nline', 'back\\slash', 'ünï', '-dash', 'carriage\rreturn'];
    for (const [i, n] of names.entries()) writeFileSync(join(dir, n), `content ${i}\n`);
    const facts = parseFacts(run(names.map((n) => join(dir, n))));
    const sha = (n: string) =>
      execFileSync('sha256sum', ['--', join(dir, n)], { encoding: 'utf8' })
        .replace(/^\\/, '')
        .slice(0, 64);
    names.forEach((n, i) => {
      expect(facts.files[join(dir, n)], n).toMatchObject({ exists: true, content: `content ${i}\n`, sha256: sha(n) });
    });
  });

  it('an owner or group name with a space (SSSD\'s "domain users") stays one name; a file there but unreadable is a problem, never absent', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-records-'));
    const file = join(dir, 'agent.yaml');
    writeFileSync(file, 'x\n', { mode: 0o640 });
    chmodSync(file, 0o640);
    chownSync(file, 0, 4242);
    // the group database with such a group, for this process tree alone (a mount namespace)
    writeFileSync(join(dir, 'group'), `${readFileSync('/etc/group', 'utf8')}domain users:x:4242:\n`);
    const out = execFileSync('unshare', ['--mount', '/bin/bash', '-c', 'mount --bind -- "$1" /etc/group && exec /bin/bash -s', '-', join(dir, 'group')], {
      input: wrapScript(toShell(factsScript({ withContent: true, zyppLockTimeoutSeconds: 5, managedFiles: [file] }))),
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(parseFacts(out).files[file]).toMatchObject({ exists: true, owner: 'root', group: 'domain users', mode: '640', content: 'x\n' });
    // /proc/self/mem: a regular file to stat, an I/O error to read from its start
    expect(() => parseFacts(run(['/proc/self/mem']))).toThrow('/proc/self/mem is there but could not be read (sha256sum failed');
  });

  it('the output is ASCII, so the connection decoding it as UTF-8 cannot shift a length', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-records-'));
    writeFileSync(join(dir, 'ü'), Buffer.from([0xff, 0xfe, 0xc3, 0xa9]));
    const out = execFileSync('/bin/bash', ['-s'], {
      input: wrapScript(toShell(factsScript({ withContent: true, zyppLockTimeoutSeconds: 5, managedFiles: [join(dir, 'ü')] }))),
    });
    expect(out.every((byte) => byte < 0x80)).toBe(true);
  });
});

describe('CONFIG_FILE of /etc/sysconfig/alloy, read with shell builtins', () => {
  // What systemd makes of the file for alloy.service's EnvironmentFile= (env-file.c), which Alloy
  // is started with. Two implementations must agree on each: the toolkit's reader and the lab's
  // systemctl stand-in (test/lab/host/systemctl, read_env_file).
  const SYSTEMCTL = join(import.meta.dirname, '../../lab/host/systemctl');
  const cases: Array<[string, string]> = [
    ['CONFIG_FILE="/etc/alloy/config.alloy"\n', '/etc/alloy/config.alloy'],
    ["CONFIG_FILE='/etc/alloy/'\n", '/etc/alloy/'],
    ['CONFIG_FILE=/etc/alloy\nCONFIG_FILE="/srv/x y/"\n', '/srv/x y/'],
    ['  \tCONFIG_FILE="a"b"\n', 'ab"'],
    ['CONFIG_FILE="\'quoted twice\'"\n', "'quoted twice'"],
    ['CONFIG_FILE="\n', '\n'],
    ['# CONFIG_FILE=/not/this\nCUSTOM_ARGS=""\n', ''],
    ['CONFIG_FILE=', ''],
    ['CONFIG_FILE=/no/newline/at/end', '/no/newline/at/end'],
    ['CONFIG_FILE=""\n', ''],
    ['CONFIG_FILE=/srv/alloy/main.alloy   \n', '/srv/alloy/main.alloy'],
    ['CONFIG_FILE="/etc/alloy/" # the admin\'s note\n', "/etc/alloy/# the admin's note"],
    ['CONFIG_FILE=  "/etc/al"\'loy/\'\n', '/etc/alloy/'],
    ['CONFIG_FILE=/srv/my\\ alloy/\n', '/srv/my alloy/'],
    ['CONFIG_FILE="/srv/a\\"b\\n"\n', '/srv/a"b\\n'],
    ['X=1\r\nCONFIG_FILE="/etc/alloy/x.alloy" \r\n', '/etc/alloy/x.alloy'],
    // blanks around the key, as systemd trims them
    ['CONFIG_FILE = /srv/alloy/main.alloy\n', '/srv/alloy/main.alloy'],
    ['CONFIG_FILE\t=/srv/alloy/main.alloy\n', '/srv/alloy/main.alloy'],
    // a key that is no variable name
    ['\vCONFIG_FILE=/x\n', ''],
    ['export CONFIG_FILE=/x\n', ''],
    // values that go on over a line break (a backslash at the end, a quote still open)
    ['CONFIG_FILE=/srv/al\\\nloy/main.alloy\n', '/srv/alloy/main.alloy'],
    ['CONFIG_FILE=/srv/alloy/\\\nmain.alloy\n', '/srv/alloy/main.alloy'],
    ['CONFIG_FILE="/srv/alloy/\\\nmain.alloy"\n', '/srv/alloy/main.alloy'],
    ['CONFIG_FILE=/srv/alloy/\\\n  main.alloy\n', '/srv/alloy/  main.alloy'],
    ['CUSTOM_ARGS="--a\nCONFIG_FILE=/srv/alloy/main.alloy\n--b"\n', ''],
    ['CONFIG_FILE=/srv/x\\ \nX=1\n', '/srv/x '],
    ['CONFIG_FILE=/srv/alloy\\\\\nX=1\n', '/srv/alloy\\'],
    // a comment ending in a backslash does not go on (systemd 254 and later, SLES 16)
    ['# note \\\nCONFIG_FILE=/srv/x\n', '/srv/x'],
  ];
  it.each(cases.map(([text, value]) => [JSON.stringify(text), text, value]))('%s', (_name, text, value) => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-sysconfig-'));
    writeFileSync(join(dir, 'alloy'), text);
    const lib = toShell(safeFiles());
    const ours = execFileSync('/bin/bash', ['-c', `${lib}\ntp_alloy_config_file "$1"`, '-', join(dir, 'alloy')], {
      encoding: 'utf8',
      env: { LC_ALL: 'C', PATH: process.env.PATH },
    });
    expect(ours.replace(/\n$/, '')).toBe(value);
    const lab = execFileSync(
      'python3',
      [
        '-c',
        'import sys\nfrom importlib.machinery import SourceFileLoader\nm = SourceFileLoader("sc", sys.argv[1]).load_module()\nprint(m.read_env_file(sys.argv[2]).get("CONFIG_FILE", ""), end="")',
        SYSTEMCTL,
        join(dir, 'alloy'),
      ],
      { encoding: 'utf8' },
    );
    expect(lab).toBe(value);
  });

  it("updates: zypper list-updates' name and available version, found by the header's names whatever their place; zypper's exit code kept", () => {
    const standard = [
      'Loading repository data...',
      'S | Repository | Name                  | Current Version | Available Version | Arch',
      '--+------------+-----------------------+-----------------+-------------------+-------',
      'v | SUSE-Other | alloy                 | 1.9.0-1.1       | 1.11.0-3.1        | x86_64',
      '  | SLE-Module | trento-agent          | 3.0.2-1.1       | 3.1.0-1.1         | noarch',
    ].join('\n');
    // columns moved and one fewer: read by place, this table gave names for versions, or nothing
    const moved = [
      'Repository | Name | Available Version | Current Version',
      '-----------+------+-------------------+----------------',
      'SLE | trento-agent | 3.1.0-1.1 | 3.0.2-1.1',
    ].join('\n');
    const unknown = ['S | Repository | Package | Candidate', '--+------------+---------+----------', '  | SLE | trento-agent | 3.1.0-1.1'].join('\n');
    const withZypper = (rc: number, table = standard) =>
      execFileSync('/bin/bash', ['-s'], {
        input: wrapScript(
          `zypper() { printf '%s\\n' '${table.replaceAll("'", "'\\''")}'; return ${rc}; }\n${toShell(factsScript({ withContent: false, withUpdates: true, zyppLockTimeoutSeconds: 5 }))}`,
        ),
        encoding: 'utf8',
        timeout: 20_000,
      });
    const records = new Map(readRecords(withZypper(0)));
    expect(records.get('updates')).toBe('alloy 1.11.0-3.1\ntrento-agent 3.1.0-1.1');
    expect(records.get('updates-rc')).toBe('0');
    expect(new Map(readRecords(withZypper(7))).get('updates-rc')).toBe('7');
    expect(updates.parse(new Map(readRecords(withZypper(0, moved))))).toEqual({ facts: { updates: { 'trento-agent': '3.1.0-1.1' } } });
    // no column of those names: a problem of the host's, never "nothing newer"
    const refused = updates.parse(new Map(readRecords(withZypper(0, unknown))));
    expect(refused.facts).toEqual({ updates: {} });
    expect(refused.problems).toEqual([
      expect.stringContaining(
        'zypper list-updates printed a table without the columns "Name" and "Available Version" (its header: S Repository Package Candidate)',
      ),
    ]);
  });

  it('the folder Alloy loads from is what dirname gives', () => {
    const lib = toShell(safeFiles());
    for (const p of ['/etc/alloy/config.alloy', '/x', '/', 'rel', 'a/b/', '/a//b//', '//x', 'a/b c/d']) {
      const ours = execFileSync('/bin/bash', ['-c', `${lib}\ntp_dirname "$1"; printf '%s' "$TP_REPLY"`, '-', p], { encoding: 'utf8' });
      expect(ours, p).toBe(execFileSync('dirname', ['--', p], { encoding: 'utf8' }).replace(/\n$/, ''));
    }
  });
});
