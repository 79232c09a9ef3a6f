// The apply library's file rules (src/apply/lib.sh, src/shell/safe-files.sh) run by a local bash
// in a scratch folder: exact modes whether the umask or chmod makes them, one staging folder per
// folder and run, the toolkit's records as sorted sets; and the remote command that feeds every
// script to bash (src/exec/session.ts), over a pipe as sshd gives it and over a socket as Node does.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { applyPrelude, scriptLibrary } from '../../../src/apply/script-lib.ts';
import { type Command, shellQuote, toShell } from '../../../src/exec/command.ts';
import type { ConnectionSpec } from '../../../src/exec/connection.ts';
import { remoteShell, wrapScript } from '../../../src/exec/session.ts';
import { CONFIGURE_ALLOY_STAGE_PREFIX } from '../../../src/shell/index.ts';
import { configureAlloyScript } from '../../../roles/trento_agent/tasks/main.ts';

const scratch = mkdtempSync(join(tmpdir(), 'tp-apply-lib-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const library = toShell(scriptLibrary({ zyppLockTimeoutSeconds: 5 }));

/** Runs BODY after the apply library, with the toolkit's records in STATE; stdout and status. */
function run(body: string, state = join(scratch, 'state'), env: Record<string, string> = {}): { code: number | null; stdout: string; stderr: string } {
  const script = `${library}\nTP_STATE_DIR=${state}\n${body}`;
  const r = spawnSync('/bin/bash', ['-c', wrapScript(script)], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const modeOf = (path: string) => (statSync(path).mode & 0o7777).toString(8).padStart(4, '0');

describe('tp_write_text / tp_write: the file as asked, whatever makes the mode', () => {
  for (const mode of ['0600', '0640', '0644', '0400', '0755', '0700', '4755']) {
    it(`mode ${mode}`, () => {
      const dir = join(scratch, `m${mode}`);
      mkdirSync(dir, { mode: 0o755 });
      const r = run(`tp_write_text ${dir}/f root root ${mode} $'a\\nb\\n' && tp_write ${dir}/g root root ${mode} ${Buffer.from('x\0y').toString('base64')}`);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(modeOf(join(dir, 'f'))).toBe(mode);
      expect(modeOf(join(dir, 'g'))).toBe(mode);
      expect(readFileSync(join(dir, 'f'), 'utf8')).toBe('a\nb\n');
      expect(readFileSync(join(dir, 'g'))).toEqual(Buffer.from('x\0y'));
      // the staging folder is gone with the run, nothing else left beside the files
      expect(readdirSync(dir).sort()).toEqual(['f', 'g']);
    });
  }

  it('the umask is the library one again after a write (022)', () => {
    const r = run(`tp_write_text ${scratch}/u root root 0600 x && umask`);
    expect(r.stdout.trim()).toBe('0022');
  });

  it('writes into one folder share one staging folder; the old file is kept until the run ends, then removed with it', () => {
    const dir = join(scratch, 'shared');
    mkdirSync(dir, { mode: 0o755 });
    const r = run(
      `tp_write_text ${dir}/a root root 0600 one && tp_write_text ${dir}/a root root 0600 two && tp_write_text ${dir}/b root root 0600 three && ` +
        `echo "stages=\${#TP_STAGES[@]}" && cat "\${TP_PREV[${dir}/a]}"`,
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('stages=1\none');
    expect(readFileSync(join(dir, 'a'), 'utf8')).toBe('two');
    expect(readdirSync(dir).sort()).toEqual(['a', 'b']);
  });

  it("a folder that is a mount of its own (bound onto itself: its parent's device) is refused before anything is written, naming it; it was an EXDEV on every run", () => {
    const parent = join(scratch, 'bind-parent');
    const mounted = join(parent, 'alloy');
    mkdirSync(mounted, { recursive: true });
    chmodSync(parent, 0o755);
    chmodSync(mounted, 0o770); // as the alloy package ships /etc/alloy: no root-only folder inside
    writeFileSync(join(mounted, 'trento.alloy'), 'old\n');
    // A mount namespace of its own: the bind mount goes with the process.
    const inBindMount = (body: string) =>
      spawnSync(
        'unshare',
        ['-m', '--propagation', 'private', '/bin/bash', '-c', wrapScript(`${library}\nmount --bind ${mounted} ${mounted} || exit 99\n${body}`)],
        {
          encoding: 'utf8',
        },
      );
    for (const body of [`tp_write_text ${mounted}/trento.alloy root root 0640 new`, `tp_remove ${mounted}/trento.alloy`]) {
      const r = inBindMount(body);
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr).toMatch(
        new RegExp(
          `^${mounted} is a mount of its own \\(a bind mount\\?\\) without a folder only root writes to: .*nothing was written in ${mounted}: unmount it`,
        ),
      );
      expect(readFileSync(join(mounted, 'trento.alloy'), 'utf8')).toBe('old\n');
    }
    // Not bound: written as ever (staged in the root-only parent).
    expect(run(`tp_write_text ${mounted}/trento.alloy root root 0640 new`).code).toBe(0);
    expect(readFileSync(join(mounted, 'trento.alloy'), 'utf8')).toBe('new');
  });

  it('a folder other accounts can write to is staged in its root-only parent, never in itself', () => {
    const parent = join(scratch, 'trusted');
    const open = join(parent, 'open');
    mkdirSync(open, { recursive: true });
    chmodSync(parent, 0o755);
    chmodSync(open, 0o777);
    const r = run(`tp_stage ${open} && echo "$TP_STAGE_DIR"`);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().startsWith(`${parent}/.tp-stage.`)).toBe(true);
  });

  it('a folder inside one another account can write to is refused, as written and through a link; a sticky folder above is fine', () => {
    const shared = join(scratch, 'alloy-like'); // as /etc/alloy: 0770, a service account's group
    const inner = join(shared, 'conf');
    mkdirSync(inner, { recursive: true });
    chmodSync(shared, 0o770);
    chmodSync(inner, 0o755);
    const refused = run(`tp_stage ${inner}`);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toBe(
      `${inner} is inside ${shared}, which an account other than root can write to (owner uid 0, mode 770): it could swap a folder on the way for a link while root writes there; make ${shared} writable by root alone, or use a folder outside it\n`,
    );
    expect(readdirSync(shared)).toEqual(['conf']); // no staging folder anywhere on the way
    expect(readdirSync(inner)).toEqual([]);
    // The facts' own test of the same rule (they write nothing): the same words.
    expect(run(`tp_unsafe_above ${inner} && echo "$TP_REPLY"`).stdout).toBe(refused.stderr);
    expect(run(`tp_unsafe_above ${shared} || echo fine`).stdout).toBe('fine\n');
    // A root-owned link on the way to a root-only tree: its own bits (777) mean nothing.
    const site = join(scratch, 'srv-site');
    mkdirSync(join(site, 'conf'), { recursive: true });
    chmodSync(site, 0o755);
    symlinkSync(site, join(scratch, 'site-link'));
    expect(run(`tp_unsafe_above ${scratch}/site-link/conf || echo fine`).stdout).toBe('fine\n');
    expect(run(`tp_stage ${scratch}/site-link/conf && echo "$TP_STAGE_DIR"`).stdout.trim().startsWith(`${scratch}/site-link/conf/.tp-stage.`)).toBe(true);
    // Sticky, but the folder on the way in it is another account's: that account can rename it.
    const sticky1770 = join(scratch, 'sticky-group');
    mkdirSync(join(sticky1770, 'own'), { recursive: true });
    chmodSync(sticky1770, 0o1770);
    chownSync(join(sticky1770, 'own'), 65534, 0);
    expect(run(`tp_stage ${sticky1770}/own`).stderr).toMatch(new RegExp(`^${sticky1770}/own is inside ${sticky1770}, which an account other than root`));
    // A relative path: refused (no folder above it can be judged), never a loop.
    expect(run(`cd ${scratch} && tp_unsafe_above alloy-like && echo "$TP_REPLY"`).stdout).toBe(
      'alloy-like is not an absolute path; trento-provision only writes into folders named from /\n',
    );
    // Reached through a root-owned link: the folders where it really leads count.
    const link = join(scratch, 'via-link');
    symlinkSync(shared, link);
    expect(run(`tp_stage ${link}/conf`).stderr).toMatch(new RegExp(`^${link}/conf is inside ${shared}, which an account other than root`));
    // The folder itself may be a service account's (the rename never follows a link at the
    // target), and a sticky folder above (such as /tmp) lets nobody move root's entries.
    const sticky = join(scratch, 'sticky');
    mkdirSync(join(sticky, 'own'), { recursive: true });
    chmodSync(sticky, 0o1777);
    chmodSync(join(sticky, 'own'), 0o755);
    expect(run(`tp_stage ${sticky}/own && echo "$TP_STAGE_DIR"`).stdout.trim().startsWith(`${sticky}/own/.tp-stage.`)).toBe(true);
    expect(run(`tp_stage ${shared} && echo "$TP_STAGE_DIR"`).stdout.trim().startsWith(`${scratch}/.tp-stage.`)).toBe(true);
  });
});

describe('configure-alloy.sh and a sysconfig too large to read', () => {
  it('exits 1 naming the file, before any folder is chosen (set -e ended it later without a word, the default folder taken)', () => {
    const big = join(scratch, 'big-sysconfig');
    writeFileSync(big, `CONFIG_FILE=/srv/alloy/\n# ${'x'.repeat(1024 * 1024)}\n`);
    const script = configureAlloyScript().replace(/^TP_ALLOY_SYSCONFIG=.*$/m, `TP_ALLOY_SYSCONFIG=${big}`);
    const r = spawnSync('/bin/bash', ['-c', script], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      `configure-alloy: ${big} is larger than 1048576 bytes, so where Alloy loads its configuration from is not known; trento.alloy left as it is\n`,
    );
  });
});

describe('tp_place: the folders missing above a file', () => {
  it('are made only under a root-only folder: never through a link a service account planted (mkdir -p would follow it)', () => {
    // Alloy's /etc/alloy: 0770, its group another account's; that account put a link at x.
    const shared = mkdtempSync(join(scratch, 'shared-'));
    const victim = mkdtempSync(join(scratch, 'victim-'));
    chmodSync(shared, 0o770);
    chownSync(shared, 0, 65534);
    symlinkSync(victim, join(shared, 'x'));
    const r = run(`tp_write_text ${shared}/x/y/trento.alloy root root 0640 hello`);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cannot make the folder ${shared}/x/y: ${shared}/x on the way is not a folder`);
    expect(existsSync(join(victim, 'y'))).toBe(false);
    // No link, the folder missing two levels down: not made either, naming who can write there.
    rmSync(join(shared, 'x'));
    const deep = run(`tp_write_text ${shared}/a/b/trento.alloy root root 0640 hello`);
    expect(deep.stderr).toContain(`cannot make the folder ${shared}/a/b: ${shared}, where it would be made, can be written by another account than root`);
    expect(existsSync(join(shared, 'a'))).toBe(false);
    // Under a root-only folder (/etc/trento on a fresh host): made, and the file written, staged
    // in the folder made (it was staged in the top folder judged: / for a drop-in's new
    // trento-agent.service.d, off the file's filesystem where that differs).
    const own = mkdtempSync(join(scratch, 'own-'));
    chmodSync(own, 0o755);
    const made = run(`tp_write_text ${own}/trento/conf.d/agent.yaml root root 0600 key && printf '%s\\n' "\${TP_STAGES[@]}"`);
    expect(made.code).toBe(0);
    expect(made.stdout.trim()).toMatch(new RegExp(`^${own}/trento/conf\\.d/\\.tp-stage\\.[A-Za-z0-9]+$`));
    expect(readFileSync(join(own, 'trento', 'conf.d', 'agent.yaml'), 'utf8')).toBe('key');
  });
});

describe('tp_run: a step that succeeds sends the end of its output back at -v only (TP_STEP_OUTPUT)', () => {
  it('ok with the output at -v, a bare ok otherwise and for a silent step; a failure always with it', () => {
    const steps = 'say() { echo "Installing: trento-agent"; }; quiet() { :; }; fail() { echo boom; return 3; }';
    const b64 = (t: string) => Buffer.from(t).toString('base64');
    for (const [flag, said] of [
      [1, `@@tp ok 1 x${b64('Installing: trento-agent\n')}`],
      [0, '@@tp ok 1'],
    ] as const) {
      const r = run(`TP_STEP_OUTPUT=${flag}; ${steps}; tp_run 1 say; tp_run 2 quiet; tp_run 3 fail`);
      expect(r.stdout.split('\n').filter((l) => l.startsWith('@@tp ok') || l.startsWith('@@tp failed'))).toEqual([
        said,
        '@@tp ok 2',
        `@@tp failed 3 3 x${b64('boom\n')}`,
      ]);
    }
    expect(toShell(scriptLibrary({ zyppLockTimeoutSeconds: 5, stepOutput: true }))).toContain('TP_STEP_OUTPUT=1');
    expect(library).toContain('TP_STEP_OUTPUT=0');
  });
});

describe("tp_head: the start of Alloy's answer, to the end of a line (a secret it quotes is never sent half)", () => {
  const body = join(scratch, 'head-body');
  const head = (text: string, bytes: number) => {
    writeFileSync(body, text);
    const r = run(`tp_head ${bytes} ${body}`);
    expect(r.stderr).toBe('');
    return r.stdout;
  };
  it('whole when it fits; else the whole lines inside the window and [...]; a first line too long gives [...] alone', () => {
    expect(head('a\nb\n', 10)).toBe('a\nb\n');
    expect(head('0123456789', 10)).toBe('0123456789');
    // Alloy quoting the line its error is on, cut inside the value: that line goes
    const text = 'error at trento.alloy:5:3\n  bearer_token = "Sup3rS3cretT0ken"\n';
    expect(head(text, 45)).toBe('error at trento.alloy:5:3\n[...]');
    // the window ending right before a line break keeps its last line
    expect(head('abc\nxyz\n', 3)).toBe('abc\n[...]');
    // only the file's final newline after the window: nothing was left out
    expect(head('abc\n', 3)).toBe('abc\n');
    expect(head('ab\ncd\n', 5)).toBe('ab\ncd\n');
    expect(head(`${'#'.repeat(50)}\n`, 20)).toBe('[...]');
  });
});

describe("tp_tail: a failed step's output, its end from the start of a line (a secret cut in two is never sent half)", () => {
  const log = join(scratch, 'tail-log');
  const tail = (text: string, bytes: number, fromStdin = false) => {
    writeFileSync(log, text);
    const r = run(fromStdin ? `tp_tail ${bytes} < ${log}` : `tp_tail ${bytes} ${log}`);
    expect(r.stderr).toBe('');
    return r.stdout;
  };
  it('whole when it fits; else from the first line that starts inside the window; a last line too long gives nothing', () => {
    expect(tail('a\nb\n', 10)).toBe('a\nb\n');
    expect(tail('0123456789', 10)).toBe('0123456789');
    // "password = Sup3rS3cret\n" cut inside the value: that line is dropped, not sent as "S3cret"
    const text = 'password = Sup3rS3cret\nalloy: error in trento.alloy\n';
    for (const fromStdin of [false, true]) {
      expect(tail(text, 35, fromStdin)).toBe('alloy: error in trento.alloy\n');
    }
    // the window starting right after a line break keeps that whole line
    expect(tail('xx\nabc\n', 4)).toBe('abc\n');
    expect(tail(`${'#'.repeat(50)}\n`, 20)).toBe('');
    // NUL bytes count as the bytes they are (shown as blanks): the cut line still goes
    expect(tail('ab\0cd\nef\n', 6)).toBe('ef\n');
  });
});

describe('tp_record_edit: the records as sorted sets (what sort -u makes in the C locale)', () => {
  const state = join(scratch, 'records');
  const record = () => readFileSync(join(state, 'packages'), 'utf8');
  const sortU = (items: string[]) => {
    const r = spawnSync('sort', ['-u'], { input: items.map((i) => `${i}\n`).join(''), encoding: 'utf8', env: { LC_ALL: 'C' } });
    return r.stdout;
  };

  it('adds, keeps one of each, sorts bytewise; removes; an empty set is an empty file', () => {
    const first = ['trento-agent', 'Zeta', 'alloy', 'golang-github-prometheus-node_exporter', 'a.b', 'a-b', 'alloy'];
    expect(run(`tp_packages_record_add ${first.join(' ')}`, state).code).toBe(0);
    expect(record()).toBe(sortU(first));
    expect(statSync(join(state, 'packages')).mode & 0o777).toBe(0o600);
    expect(statSync(state).mode & 0o777).toBe(0o700);
    expect(run('tp_packages_record_add supportutils-plugin-trento alloy', state).code).toBe(0);
    expect(record()).toBe(sortU([...first, 'supportutils-plugin-trento']));
    expect(run('tp_packages_record_remove alloy Zeta not-there', state).code).toBe(0);
    expect(record()).toBe(sortU(['trento-agent', 'golang-github-prometheus-node_exporter', 'a.b', 'a-b', 'supportutils-plugin-trento']));
    expect(run('tp_packages_record_remove trento-agent golang-github-prometheus-node_exporter a.b a-b supportutils-plugin-trento', state).code).toBe(0);
    expect(record()).toBe('');
  });

  it('a full /tmp (bash before 5.1 writes a here-string there) neither empties a record nor loses a line of it', () => {
    // A big record (over what bash 5.2 passes through a pipe: it too then writes a temp file),
    // edited with TMPDIR on a full filesystem: a here-string could not be made, and the record
    // would be rewritten with the new item alone.
    const big = join(scratch, 'big-record');
    // (a few long lines: the record's sort is a builtin insertion sort, made for a dozen lines)
    const padding = Array.from({ length: 30 }, (_, i) => `padding-${String(i).padStart(2, '0')}-${'x'.repeat(2500)}`);
    mkdirSync(big, { mode: 0o700 });
    writeFileSync(join(big, 'packages'), sortU([...padding, 'alloy', 'trento-agent']), { mode: 0o600 });
    const full = mkdtempSync(join(scratch, 'full-'));
    const r = spawnSync(
      'unshare',
      [
        '--mount',
        '/bin/bash',
        '-c',
        `mount -t tmpfs -o size=16k tmpfs "$1" && (dd if=/dev/zero of="$1/fill" bs=4k count=8 2>/dev/null; true) && TMPDIR="$1" exec /bin/bash -c "$2"`,
        '-',
        full,
        wrapScript(`${library}\nTP_STATE_DIR=${big}\ntp_packages_record_add supportutils`),
      ],
      { encoding: 'utf8' },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(big, 'packages'), 'utf8')).toBe(sortU([...padding, 'alloy', 'trento-agent', 'supportutils']));
    // and a small record, through the builtins
    expect(run('tp_lines $\'one\\ntwo\\n\\nfour\'; printf "%s|" "${TP_LINES[@]}"').stdout).toBe('one|two||four|');
  });

  it('handlers: names with spaces are lines of their own', () => {
    expect(run(`tp_handlers_pending_add 'restart trento-agent' 'reload alloy'`, state).code).toBe(0);
    expect(readFileSync(join(state, 'pending-handlers'), 'utf8')).toBe('reload alloy\nrestart trento-agent\n');
    expect(run(`tp_handler_done 'reload alloy'`, state).code).toBe(0);
    expect(readFileSync(join(state, 'pending-handlers'), 'utf8')).toBe('restart trento-agent\n');
  });
});

describe('tp_packages_install: the record holds the packages before zypper runs, and keeps those installed', () => {
  const state = join(scratch, 'install-record');
  const record = () => readFileSync(join(state, 'packages'), 'utf8');
  // zypper and rpm as shell functions: the host's real ones are not the question here. rpm -q
  // prints the name of each package the fake zypper "installed" (kept in a file, as an rpmdb).
  const fakes = (zypper: string, installedBefore: string[] = []) =>
    `installed_db=${join(scratch, 'install-db')}; printf '%s\\n' ${installedBefore.join(' ')} > "$installed_db"\n` +
    `zypper() { echo "zypper $*" >> ${join(scratch, 'zypper-calls')}; ${zypper}; }\n` +
    `rpm() { local n; shift 4; for n in "$@"; do grep -qx -- "$n" "$installed_db" && echo "$n" || echo "package $n is not installed"; done; }\n`;

  it('a script killed while zypper installs leaves every package of the install in the record (the next run forgets the ones not there)', () => {
    const r = run(`${fakes('echo trento-agent >> "$installed_db"; kill -KILL $$')}tp_packages_install trento-agent hint-a alloy hint-b`, state);
    expect(r.code).toBe(null); // killed
    expect(record()).toBe('alloy\ntrento-agent\n');
  });

  it('after zypper, the packages it did not install leave the record; one already recorded by an earlier run stays when installed', () => {
    expect(run('tp_packages_record_remove alloy trento-agent && tp_packages_record_add supportutils', state).code).toBe(0);
    const r = run(
      `${fakes('echo trento-agent >> "$installed_db"; echo supportutils >> "$installed_db"; return 8')}tp_packages_install trento-agent h alloy h supportutils h`,
      state,
    );
    expect(r.code).toBe(8);
    expect(r.stderr).toContain('zypper failed (exit 8)');
    expect(record()).toBe('supportutils\ntrento-agent\n');
  });

  it('one installed since the facts were read (by the admin, meanwhile) is neither installed nor recorded, with a warning; none left: no zypper', () => {
    expect(run('tp_packages_record_remove supportutils trento-agent', state).code).toBe(0);
    rmSync(join(scratch, 'zypper-calls'), { force: true });
    const r = run(`${fakes('echo trento-agent >> "$installed_db"', ['alloy'])}tp_packages_install alloy h trento-agent h`, state);
    expect(r.code, r.stderr).toBe(0);
    expect(record()).toBe('trento-agent\n');
    expect(readFileSync(join(scratch, 'zypper-calls'), 'utf8')).toBe(
      'zypper --non-interactive install --auto-agree-with-licenses --no-recommends -- trento-agent\n',
    );
    expect(r.stdout).toContain(
      Buffer.from("package alloy was installed meanwhile (not by trento-provision): left as it is, not counted as the toolkit's").toString('base64'),
    );
    // and the step says it with its summary ("install alloy, trento-agent" did not install alloy)
    expect(r.stdout).toContain(`@@tp note 0 x${Buffer.from('alloy found installed meanwhile, not installed by this run').toString('base64')}`);
    rmSync(join(scratch, 'zypper-calls'));
    const none = run(`${fakes('return 9', ['alloy'])}tp_packages_install alloy h`, state);
    expect(none.code, none.stderr).toBe(0);
    expect(existsSync(join(scratch, 'zypper-calls'))).toBe(false);
    expect(record()).toBe('trento-agent\n');
  });
});

describe('tp_systemd_words: the words systemd makes of a lone $VAR in an Exec line', () => {
  it.each([
    ['--a=1  --b\t--c', ['--a=1', '--b', '--c']],
    ['\'a b\' "c d"e', ['a b', 'c de']],
    ["--x='y' z\\ w", ['--x=y', 'z w']],
    ["'open", ['open']], // a quote left open ends with the text
    ['"a\\"b"', ['a"b']], // a backslash in quotes takes the next character
    ['a b\\', ['a', 'b']], // a lone backslash at the end goes
    ["''", ['']],
  ])('%j', (text, words) => {
    const r = run(`tp_systemd_words ${shellQuote(text)} && printf '[%s]' "\${TP_WORDS[@]}"`);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(words.map((w) => `[${w}]`).join(''));
  });
});

describe("tp_alloy_args_in: where the host's Alloy serves HTTP and how it validates, from CUSTOM_ARGS of /etc/sysconfig/alloy", () => {
  const argsOf = (text: string) => {
    const r = run(`tp_alloy_args_in ${shellQuote(text)} && printf '%s\\n' "$TP_ALLOY_HTTP" "$TP_ALLOY_COMPONENTS" "\${TP_ALLOY_VALIDATE[@]}"`);
    expect(r.stderr).toBe('');
    return r.stdout.trim().split('\n');
  };
  const api = (base: string, prefix = '') => [base, `${base}${prefix}/api/v0/web/components`];
  it.each([
    ['', api('http://127.0.0.1:12345')],
    ['CUSTOM_ARGS=""\nCONFIG_FILE="/etc/alloy/config.alloy"\n', api('http://127.0.0.1:12345')],
    [
      'CUSTOM_ARGS="--server.http.listen-addr=0.0.0.0:12399 --stability.level=public-preview"',
      [...api('http://127.0.0.1:12399'), '--stability.level=public-preview'],
    ],
    [
      'CUSTOM_ARGS="--server.http.listen-addr 10.0.0.5:9000  --stability.level experimental\t--feature.community-components.enabled"',
      [...api('http://10.0.0.5:9000'), '--stability.level=experimental', '--feature.community-components.enabled'],
    ],
    ["CUSTOM_ARGS='--server.http.listen-addr=[::]:12345'", api('http://[::1]:12345')],
    ['CUSTOM_ARGS="--server.http.listen-addr=:7000"', api('http://127.0.0.1:7000')],
    // the UI's API under its path prefix, either form; quotes inside a word go, as systemd's
    ['CUSTOM_ARGS="--server.http.ui-path-prefix=/alloy/"', api('http://127.0.0.1:12345', '/alloy')],
    ['CUSTOM_ARGS="--server.http.ui-path-prefix alloy --server.http.listen-addr=\'127.0.0.1:9\'"', api('http://127.0.0.1:9', '/alloy')],
    // systemd's split of $CUSTOM_ARGS: quotes group words (a space inside stays in the word) and
    // go, a backslash takes the next character as it is
    [
      "CUSTOM_ARGS=\"--storage.path='/var/lib/my alloy' --server.http.ui-path-prefix '/my alloy/' --server.http.listen-addr 127.0.0.1\\\\:8\"",
      api('http://127.0.0.1:8', '/my%20alloy'), // percent-encoded, as curl and the request line need it,
    ],
    // the last line wins; a comment is not a line; a value runs on over an escaped line break
    [
      'CUSTOM_ARGS="--server.http.listen-addr=127.0.0.1:1"\n# CUSTOM_ARGS="--server.http.listen-addr=127.0.0.1:2"\nCUSTOM_ARGS="--storage.path=/x \\\n--server.http.listen-addr=127.0.0.1:3"',
      api('http://127.0.0.1:3'),
    ],
  ])('%j', (text, expected) => {
    expect(argsOf(text)).toEqual(expected);
  });

  /** tp_alloy_validate_dir on a folder NAME holding FILES, its sysconfig SYSCONFIG, the new
   *  trento.alloy empty, `alloy` the shell function ALLOY; then THEN. */
  const validateDir = (name: string, sysconfig: string, files: Record<string, string>, alloy: string, then = '') => {
    const dir = join(scratch, name);
    mkdirSync(dir);
    for (const [file, content] of Object.entries({ sysconfig, new: '', ...files })) writeFileSync(join(dir, file), content);
    return { dir, r: run(`TP_ALLOY_SYSCONFIG=${dir}/sysconfig TP_NEW=${dir}/new; alloy() { ${alloy}; }; tp_alloy_validate_dir ${dir} trento.alloy${then}`) };
  };

  it('tp_alloy_validate_dir gives alloy validate the flags Alloy runs with', () => {
    const { r } = validateDir(
      'validate-flags',
      'CUSTOM_ARGS="--stability.level=public-preview --feature.community-components.enabled"\n',
      { 'admins.alloy': '' },
      '[ "$1" = validate ] && [ "$2" != --help ] && echo "alloy $*" | sed "s|$TP_TMP/[^ ]*|STAGE|"; return 0',
    );
    expect(r.stdout).toBe('alloy validate --stability.level=public-preview --feature.community-components.enabled STAGE\n');
  });

  it("tp_alloy_validate_dir names the files Alloy refuses as they are, not the run's copies", () => {
    const { dir, r } = validateDir(
      'validate-names',
      '',
      { 'broken.alloy': 'prometheus.scrape "broken" { targets = [ }\n' },
      `[ "$2" = --help ] && return 0; local s=\${@: -1}; echo "Error: $s/broken.alloy:1:44: expected expression, got '}'"; return 1`,
      '; echo "rc=$?"',
    );
    expect(r.stdout).toBe('rc=1\n');
    expect(r.stderr).toBe(
      `Error: ${dir}/broken.alloy:1:44: expected expression, got '}'\nAlloy would refuse ${dir} with the new trento.alloy in it (alloy validate, above, names the file and the line: one of the admin's there is loaded with it)\n`,
    );
  });

  it('read again, a file without a listen address gives the default back', () => {
    const r = run(
      `tp_alloy_args_in 'CUSTOM_ARGS="--server.http.listen-addr=127.0.0.1:9"' && a=$TP_ALLOY_HTTP && tp_alloy_args_in '' && echo "$a $TP_ALLOY_HTTP \${#TP_ALLOY_VALIDATE[@]}"`,
    );
    expect(r.stdout).toBe('http://127.0.0.1:9 http://127.0.0.1:12345 0\n');
  });
});

describe('tp_place under SELinux: the label of the file replaced, or the policy default for a new one', () => {
  // This machine (and the lab) has no SELinux: chcon and restorecon are shell functions that
  // record their arguments, and TP_SELINUX_FS a folder with an enforce file (test/lab/README.md).
  const dir = join(scratch, 'selinux');
  const fs = join(dir, 'fs');
  const log = join(dir, 'calls');
  const tools = (chconFails = false) =>
    `chcon() { echo "chcon $*" >> ${log}; ${chconFails ? 'echo "Operation not supported" >&2; return 1' : 'return 0'}; }\nrestorecon() { echo "restorecon $*" >> ${log}; }\n`;
  const calls = () => (existsSync(log) ? readFileSync(log, 'utf8') : '').replaceAll(/\/new\.\d+/g, '/new.N').replaceAll(scratch, 'S');

  it('replaced: the old label (before the rename); new: restorecon (after); without SELinux: neither', () => {
    mkdirSync(fs, { recursive: true });
    writeFileSync(join(fs, 'enforce'), '1');
    rmSync(log, { force: true });
    const r = run(`${tools()}TP_SELINUX_FS=${fs}\ntp_write_text ${dir}/f root root 0644 one && tp_write_text ${dir}/f root root 0644 two`);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(calls()).toMatch(/^restorecon -- S\/selinux\/f\nchcon --reference=S\/selinux\/f -- S\/selinux\/\.tp-stage\.\w+\/new\.N\n$/);
    expect(readFileSync(join(dir, 'f'), 'utf8')).toBe('two');

    rmSync(log, { force: true });
    const off = run(`${tools()}TP_SELINUX_FS=${join(dir, 'none')}\ntp_write_text ${dir}/g root root 0644 x && tp_write_text ${dir}/g root root 0644 y`);
    expect(off.code).toBe(0);
    expect(calls()).toBe('');
  });

  it("a label that cannot be set is a warning: the file is written, and a replaced one falls back to the policy's default", () => {
    rmSync(log, { force: true });
    const r = run(`${tools(true)}TP_SELINUX_FS=${fs}\ntp_write_text ${dir}/h root root 0644 one && tp_write_text ${dir}/h root root 0644 two`);
    expect(r.code).toBe(0);
    expect(readFileSync(join(dir, 'h'), 'utf8')).toBe('two');
    expect(calls()).toMatch(/^restorecon -- S\/selinux\/h\nchcon --reference=\S+ -- \S+\nrestorecon -- S\/selinux\/h\n$/);
    expect(r.stdout).toMatch(/warn/);
  });
});

describe('tp_state_tidy: the record folder goes once every record in it is empty', () => {
  it('keeps a folder with a record that says something, or anything but empty files; removes one of empty records', () => {
    const state = join(scratch, 'tidy');
    const tidy = () => run('tp_unstage; tp_state_tidy', state);
    expect(run('tp_packages_record_add alloy && tp_handlers_pending_add x && tp_handler_done x', state).code).toBe(0);
    expect(tidy().code).toBe(0);
    expect(readdirSync(state).sort()).toEqual(['packages', 'pending-handlers']);
    // a link, even to an empty file, and a folder are not the toolkit's empty records: kept
    expect(run('tp_packages_record_remove alloy', state).code).toBe(0);
    symlinkSync('/dev/null', join(state, 'link'));
    expect(tidy().code).toBe(0);
    expect(readdirSync(state)).toContain('link');
    rmSync(join(state, 'link'));
    mkdirSync(join(state, 'sub'));
    expect(tidy().code).toBe(0);
    expect(readdirSync(state)).toContain('sub');
    rmSync(join(state, 'sub'), { recursive: true });
    // only empty records (hidden ones too): the folder goes; a run without records is a no-op
    writeFileSync(join(state, '.hidden'), '');
    writeFileSync(join(state, '..dots'), '');
    expect(tidy().code).toBe(0);
    expect(existsSync(state)).toBe(false);
    expect(tidy().code).toBe(0);
  });
});

describe("tp_clean_leftovers: a killed run's staging folders and temp files go, the agent's own stay", () => {
  it(`removes .tp-stage.*, .tp-new-*, .tp-prev-*; keeps ${CONFIGURE_ALLOY_STAGE_PREFIX}* (an agent start may be using it)`, () => {
    const dir = join(scratch, 'leftovers');
    mkdirSync(join(dir, '.tp-stage.abc123'), { recursive: true, mode: 0o755 });
    for (const name of ['.tp-new-1', '.tp-prev-2', 'trento.alloy']) writeFileSync(join(dir, name), 'x');
    // configure-alloy.sh's staging folder, made by tp_stage with the prefix the role installs it with
    expect(configureAlloyScript()).toContain(`TP_STAGE_PREFIX=${CONFIGURE_ALLOY_STAGE_PREFIX}\n`);
    const staged = run(`TP_STAGE_PREFIX=${CONFIGURE_ALLOY_STAGE_PREFIX}; TP_STAGES=(); declare -A TP_STAGE_FOR=(); tp_stage ${dir} && echo "$TP_STAGE_DIR"`);
    expect(staged.stderr).toBe('');
    const agentStage = staged.stdout.trim().split('/').pop()!;
    expect(agentStage.startsWith(CONFIGURE_ALLOY_STAGE_PREFIX)).toBe(true);
    mkdirSync(join(dir, agentStage), { recursive: true }); // as if the agent's start were still using it
    const r = run(`tp_clean_leftovers ${dir}`);
    expect(r.stderr).toBe('');
    expect(readdirSync(dir).sort()).toEqual([agentStage, 'trento.alloy']);
  });
});

describe("a record's rename is flushed to disk with its folder (before what it records is done); other files' are not", () => {
  it('fsync of the records folder after the rename, under strace', () => {
    const state = join(scratch, 'durable-state');
    const other = join(scratch, 'durable-other');
    mkdirSync(other);
    const trace = join(scratch, 'fsync.trace');
    const script = `${library}\nTP_STATE_DIR=${state}\ntp_root_dir ${state} && tp_write_text ${state}/packages root root 0600 x && tp_write_text ${other}/f root root 0600 y`;
    const r = spawnSync('strace', ['-f', '-y', '-qq', '-e', 'trace=fsync', '-o', trace, '/bin/bash', '-c', wrapScript(script)], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const synced = readFileSync(trace, 'utf8')
      .split('\n')
      .flatMap((l) => /fsync\(\d+<([^>]+)>\)/.exec(l)?.[1] ?? []);
    expect(synced).toContain(state);
    expect(synced).not.toContain(other);
    // each file itself before its rename, as before
    expect(synced.filter((p) => p.includes('/.tp-stage.') && p.includes('/new.'))).toHaveLength(2);
  });
});

describe("tp_clean_scratch: a killed run's scratch folder goes, a live run's and other accounts' stay", () => {
  it("removes root's tp-scratch.PID.* of a PID no process has; keeps its own, a live PID's, another owner's, a link", () => {
    const tmp = join(scratch, 'tmp');
    mkdirSync(tmp, { mode: 0o1777 });
    // a PID that was a process a moment ago and is none now
    const gone = spawnSync('/bin/true').pid;
    const outside = join(scratch, 'outside');
    mkdirSync(outside);
    writeFileSync(join(outside, 'kept'), 'x');
    const killed = join(tmp, `tp-scratch.${gone}.AAAAAAAA`);
    const live = join(tmp, `tp-scratch.${process.pid}.BBBBBBBB`);
    const others = join(tmp, `tp-scratch.${gone}.CCCCCCCC`);
    mkdirSync(join(killed, 'stage'), { recursive: true });
    writeFileSync(join(killed, 'stage', 'trento.alloy'), 'x');
    mkdirSync(live);
    mkdirSync(others);
    chownSync(others, 65534, 65534);
    symlinkSync(outside, join(tmp, `tp-scratch.${gone}.DDDDDDDD`));
    const r = run(`echo "$TP_TMP"; tp_clean_scratch && ls -A "$TMPDIR" | sort`, undefined, { TMPDIR: tmp });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const [own, ...left] = r.stdout.trim().split('\n');
    // the run's own folder is there (in TMPDIR, named by its PID) while the others are judged
    expect(own).toMatch(new RegExp(`^${tmp}/tp-scratch\\.\\d+\\.\\w{8}$`));
    expect(left).toEqual([own!.split('/').pop(), `tp-scratch.${process.pid}.BBBBBBBB`, `tp-scratch.${gone}.CCCCCCCC`, `tp-scratch.${gone}.DDDDDDDD`].sort());
    expect(existsSync(killed)).toBe(false);
    expect(readFileSync(join(outside, 'kept'), 'utf8')).toBe('x');
    // and the run removed its own as it ended
    expect(existsSync(own!)).toBe(false);
  });

  it('every apply script runs it once it holds the host lock', () => {
    const start = toShell(applyPrelude(['/etc/trento'], ''));
    expect(start.indexOf('tp_clean_scratch')).toBeGreaterThan(start.indexOf('tp_lock'));
  });
});

describe("tp_generation_check: a plan is applied only while the host is as its facts saw it (no other run's apply since)", () => {
  it('under the lock, right after it: the generation the facts saw, or exit 12 changing nothing; a new one written at the start and again at the end', () => {
    const dir = mkdtempSync(join(scratch, 'gen-'));
    const generation = join(dir, 'generation');
    const start = toShell(applyPrelude(['/etc/trento'], 'G0'));
    expect(start).toMatch(/^tp_lock\ntp_generation_check G0\n/);
    // None yet (a host no apply has run on since its boot) and the facts saw none: it runs.
    const first = run(`TP_GENERATION=${generation}; tp_generation_check '' && cat "$TP_GENERATION" && echo ran`);
    expect(first.stderr).toBe('');
    const [during, ran] = first.stdout.trim().split('\n');
    expect(ran).toBe('ran');
    // another word at the end (tp_cleanup): facts read while it ran never pass either
    const after = readFileSync(generation, 'utf8').trim();
    expect(during).toMatch(/^running\.\d+\.\d+\.\d+$/);
    expect(after).toMatch(/^\d+\.\d+\.\d+$/);
    expect(after).not.toBe(during);
    // Facts that saw what is there: it runs; facts from before that apply (or during it): exit 12.
    expect(run(`TP_GENERATION=${generation}; tp_generation_check ${after} && echo ran`).stdout).toBe('ran\n');
    const now = readFileSync(generation, 'utf8');
    for (const stale of ['', during!, after]) {
      const refused = run(`TP_GENERATION=${generation}; tp_generation_check '${stale}'; echo not-reached`);
      expect(refused.code).toBe(12);
      expect(refused.stdout).toBe('');
      expect(refused.stderr).toMatch(/^another trento-provision run applied changes to this host after this run read its facts: nothing was changed/);
      // and it wrote nothing: the run that did apply keeps its word
      expect(readFileSync(generation, 'utf8')).toBe(now);
    }
    // An apply killed outright (SIGKILL: no end word) leaves its "running." word, which facts read
    // while it ran would match: refused once, with a fresh word, so the next run's facts pass.
    const killed = run(`TP_GENERATION=${generation}; tp_generation_check ${now.trim()} && echo started && kill -KILL $$`);
    expect(killed.stdout).toBe('started\n');
    const left = readFileSync(generation, 'utf8').trim();
    expect(left).toMatch(/^running\./);
    const once = run(`TP_GENERATION=${generation}; tp_generation_check ${left}; echo not-reached`);
    expect([once.code, once.stdout]).toEqual([12, '']);
    expect(once.stderr).toMatch(/^an earlier trento-provision run was killed while it applied changes to this host/);
    const fresh = readFileSync(generation, 'utf8').trim();
    expect(fresh).toMatch(/^\d+\.\d+\.\d+$/);
    expect(run(`TP_GENERATION=${generation}; tp_generation_check ${fresh} && echo ran`).stdout).toBe('ran\n');
    // A word that cannot be written (root writes anywhere here: a folder that is not there stands
    // for a full or read-only /run): nothing is changed, and it says why.
    const unwritable = run(`TP_GENERATION=${dir}/not-there/generation; tp_generation_check ''; echo not-reached`);
    expect([unwritable.code, unwritable.stdout]).toEqual([12, '']);
    expect(unwritable.stderr).toMatch(/cannot write .*not-there\/generation \(is \/run full or read-only\?\): nothing was changed/);
  });
});

describe('the remote command: bash reads the whole script first, in blocks', () => {
  const spec = { scriptTimeoutSeconds: 0, user: 'root', become: undefined } as unknown as ConnectionSpec;
  const { command } = remoteShell(spec);
  // larger than a pipe's buffer, and a command inside that reads stdin: it must get nothing
  const script: Command = {
    parts: [
      {
        kind: 'raw',
        text:
          `: '${'x'.repeat(200_000)}'\nread -r line; echo "read:\${line:-nothing}"\n` +
          // bash's own read(2) calls so far: one per byte would be over 200,000
          'while read -r k v; do [ "$k" != syscr: ] || echo "reads:$v"; done </proc/$$/io',
      },
    ],
  };
  const output = (stdout: string) => {
    const reads = Number(/reads:(\d+)/.exec(stdout)?.[1]);
    return { text: stdout.replace(/reads:\d+\n/, ''), blocks: reads < 5_000 };
  };
  const input = wrapScript(toShell(script));

  it('over a pipe (as sshd hands it the script)', () => {
    const file = join(scratch, 'script.sh');
    writeFileSync(file, input);
    const r = spawnSync('/bin/sh', ['-c', `cat "$1" | ${command}`, 'sh', file], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(output(r.stdout)).toEqual({ text: 'read:nothing\n', blocks: true });
  });

  it('over a socket (a local run: Node gives its children socketpairs)', () => {
    const kind = spawnSync('/bin/sh', ['-c', '[ -p /dev/stdin ] && echo pipe || echo other'], { input: '', encoding: 'utf8' });
    expect(kind.stdout).toBe('other\n');
    const r = spawnSync('/bin/sh', ['-c', command], { input, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(output(r.stdout)).toEqual({ text: 'read:nothing\n', blocks: true });
  });

  it('a script cut short runs nothing', () => {
    const r = spawnSync('/bin/sh', ['-c', command], { input: input.slice(0, input.length - 20), encoding: 'utf8' });
    expect(r.stdout).toBe('');
    expect(r.status).not.toBe(0);
  });
});

describe('reads of files a hostile account may swap or grow (from the review of the facts)', () => {
  it('tp_read_nofollow: the bytes as they are (trailing newlines kept), a link refused, a FIFO not waited on', () => {
    const dir = join(scratch, 'nofollow');
    mkdirSync(dir);
    writeFileSync(join(dir, 'f'), 'a\n\n');
    writeFileSync(join(dir, 'secret'), 'SENTINEL\n');
    symlinkSync(join(dir, 'secret'), join(dir, 'link'));
    spawnSync('mkfifo', [join(dir, 'fifo')]);
    const r = run(
      `tp_read_nofollow ${dir}/f && printf '[%s]' "$TP_REPLY"; tp_read_nofollow ${dir}/link; echo " link=$? [$TP_REPLY]"; ` +
        `tp_read_nofollow ${dir}/fifo; echo "fifo=$? [$TP_REPLY]"`,
    );
    expect(r.stdout).toBe('[a\n\n] link=1 []\nfifo=0 []\n');
    // the validation copy (tp_alloy_validate_dir, configure-alloy.sh): the bytes, or nothing for a link
    const copy = run(`tp_copy_nofollow ${dir}/f ${dir}/copy-f; echo "f=$?"; tp_copy_nofollow ${dir}/link ${dir}/copy-link; echo "link=$?"`);
    expect(copy.stdout).toBe('f=0\nlink=1\n');
    expect(readFileSync(join(dir, 'copy-f'), 'utf8')).toBe('a\n\n');
    expect(existsSync(join(dir, 'copy-link'))).toBe(false);
  });

  it('a write whose fsync fails is not renamed into place: the old file stays, the error says why', () => {
    const dir = join(scratch, 'fsync');
    mkdirSync(dir);
    writeFileSync(join(dir, 'f'), 'old\n');
    // sync fails as on a disk that filled up after the write (btrfs reports ENOSPC at fsync)
    const r = run(`sync() { return 1; }; tp_write_text ${dir}/f root root 0644 $'new\\n'; echo "rc=$?"`);
    expect(r.stdout).toBe('rc=1\n');
    expect(r.stderr).toContain(`cannot write ${dir}/f to disk (fsync failed`);
    expect(readFileSync(join(dir, 'f'), 'utf8')).toBe('old\n');
  });

  it('tp_sysconfig_text reads at most TP_MAX_FILE_BYTES: a larger file reads as empty and fails, at once', () => {
    const file = join(scratch, 'sysconfig-big');
    writeFileSync(file, `CONFIG_FILE="/etc/alloy"\n${'#'.repeat(2000)}\n`);
    const r = run(
      `TP_MAX_FILE_BYTES=1000; tp_sysconfig_text ${file}; echo "rc=$? [$TP_REPLY]"; TP_MAX_FILE_BYTES=5000; tp_sysconfig_text ${file} && echo "${'$'}{TP_REPLY%%$'\\n'*}"`,
    );
    expect(r.stdout).toBe('rc=1 []\nCONFIG_FILE="/etc/alloy"\n');
  });
});

describe('tp_config_dir_for: one spelling per folder', () => {
  it('repeated slashes are one (CONFIG_FILE="/etc/alloy//" is /etc/alloy, not a second trento.alloy path)', () => {
    const dir = join(scratch, 'cfgdir');
    mkdirSync(dir);
    const r = run(
      `tp_config_dir_for '${dir}//' /etc/alloy; echo "$TP_REPLY"; tp_config_dir_for '${dir}///main.alloy' /etc/alloy; echo "$TP_REPLY"; tp_config_dir_for '' /etc/alloy; echo "$TP_REPLY"`,
    );
    expect(r.stdout).toBe(`${dir}\n${dir}\n/etc/alloy\n`);
  });
});

describe('tp_http: the apply asks Alloy on this host straight', () => {
  it("takes no proxy (http_proxy, ~/.curlrc's), which would answer for Alloy", async () => {
    // A plain HTTP server on loopback, in a process of its own (run() blocks this one).
    const www = mkdtempSync(join(scratch, 'www-'));
    writeFileSync(join(www, 'ready'), 'Alloy is ready.\n');
    const server = spawn('python3', ['-u', '-m', 'http.server', '--bind', '127.0.0.1', '0'], { cwd: www, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const port = await new Promise<string>((resolvePort, reject) => {
        let said = '';
        const onData = (c: Buffer) => {
          said += c.toString();
          const m = /port (\d+)/.exec(said);
          if (m) resolvePort(m[1]!);
        };
        server.stdout.on('data', onData);
        server.stderr.on('data', onData);
        server.on('exit', () => reject(new Error(`http.server ended: ${said}`)));
      });
      const home = mkdtempSync(join(scratch, 'home-'));
      writeFileSync(join(home, '.curlrc'), 'proxy = "http://127.0.0.1:9"\n');
      const tmp = mkdtempSync(join(scratch, 'http-'));
      const r = run(
        `export HOME=${home} http_proxy=http://127.0.0.1:9 HTTP_PROXY=http://127.0.0.1:9 all_proxy=http://127.0.0.1:9; TP_TMP=${tmp} TP_BODY=${tmp}/body; tp_http GET http://127.0.0.1:${port}/ready; echo; cat "$TP_BODY"`,
      );
      expect(r.stdout).toBe('200\nAlloy is ready.\n');
    } finally {
      server.kill();
    }
  });
});
