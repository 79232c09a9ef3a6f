// become_flags as sudo gets them (src/exec/sudo-flags.ts): split as Ansible splits them, the
// options sudo cannot run the toolkit's script with refused by name, -n dropped with a password
// as ansible-core's sudo plugin drops it (judged by the plugin itself).
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { ConnectionSpec } from '../../../src/exec/connection.ts';
import { remoteShell } from '../../../src/exec/session.ts';
import { parseSudoFlags, sudoArguments } from '../../../src/exec/sudo-flags.ts';
import { ANSIBLE_PYTHON, describeWith } from '../../support/requires.ts';

const words = (text: string) => {
  const parsed = parseSudoFlags(text);
  if ('problem' in parsed) throw new Error(parsed.problem);
  return parsed.words;
};
const problem = (text: string) => {
  const parsed = parseSudoFlags(text);
  return 'problem' in parsed ? parsed.problem : undefined;
};

describe('become_flags read as sudo options', () => {
  it('one option per word: clusters and attached values split, long options with = kept, quoted words as one', () => {
    expect(words('-H -S -n')).toEqual(['-H', '-S', '-n']);
    expect(words('-HSn')).toEqual(['-H', '-S', '-n']);
    expect(words('-Hgwheel -i')).toEqual(['-H', '-g', 'wheel', '-i']);
    expect(words('-g wheel --chdir /tmp --group=sap --preserve-env --preserve-env=LANG,TZ')).toEqual([
      '-g',
      'wheel',
      '--chdir',
      '/tmp',
      '--group=sap',
      '--preserve-env',
      '--preserve-env=LANG,TZ',
    ]);
    expect(words(`-p 'sudo for %u: '`)).toEqual(['-p', 'sudo for %u: ']);
    expect(words('')).toEqual([]);
  });

  it('what sudo cannot run the toolkit with is refused by name; nothing else is passed unread', () => {
    expect(problem('-u admin')).toMatch(/^"-u" cannot be honoured: the user to become is ansible_become_user/);
    expect(problem('-HSb')).toMatch(/^"-b" cannot be honoured: the toolkit waits for its script's end/);
    expect(problem('--askpass')).toMatch(/^"--askpass" cannot be honoured: the sudo password travels on sudo's stdin/);
    expect(problem('-R /mnt')).toMatch(/^"-R" cannot be honoured/);
    expect(problem('-l')).toMatch(/^"-l" cannot be honoured: it runs no command/);
    expect(problem('-X')).toBe('word 1 is not a sudo option the toolkit knows');
    expect(problem('-H --s3cr3t=x')).toBe('word 2 is not a sudo option the toolkit knows');
    expect(problem('-H id')).toBe('word 2 is not an option: sudo would run it as the command');
    expect(problem('-g')).toBe('"-g" needs a value');
    expect(problem('--set-home=yes')).toBe('"--set-home" takes no value');
    expect(problem(`-p 'open`)).toMatch(/cannot be split into words/);
    // The message never repeats a value given with an option, nor a stray word.
    expect(problem('-H secret-word')).not.toContain('secret-word');
    // What sudo itself refuses together: a settings error before any host, not a failure on each.
    expect(problem('-i -s')).toBe('-i (--login) and -s (--shell) cannot go together (sudo refuses them)');
    expect(problem('-iE')).toBe('-i (--login) and -E (--preserve-env) cannot go together (sudo refuses them)');
    expect(problem('--login --preserve-env')).toMatch(/cannot go together/);
    expect(problem('-i --preserve-env=PATH')).toBeUndefined();
    expect(problem('-p -s -i')).toBeUndefined(); // "-s" is the prompt there
  });

  it("with a password: -n dropped, -S added when missing, then -p ''; without: -n added when missing", () => {
    expect(sudoArguments(['-H', '-S', '-n'], true)).toEqual(['-H', '-S', '-p', '']);
    expect(sudoArguments(['-i', '--non-interactive'], true)).toEqual(['-i', '-S', '-p', '']);
    expect(sudoArguments(['-p', '-n', '-E'], true)).toEqual(['-p', '-n', '-E', '-S', '-p', '']);
    expect(sudoArguments(['-H', '-S', '-n'], false)).toEqual(['-H', '-S', '-n']);
    expect(sudoArguments(['-i'], false)).toEqual(['-i', '-n']);
    expect(sudoArguments([], false)).toEqual(['-n']);
  });

  it('the command line quotes every flag as data: a flag cannot add shell code', () => {
    const spec = {
      scriptTimeoutSeconds: 0,
      user: 'admin',
      become: { user: 'root', flags: words(`-p '$(touch /tmp/x); echo'`) },
    } as unknown as ConnectionSpec;
    expect(remoteShell(spec).command).toMatch(/^sudo -p '\$\(touch \/tmp\/x\); echo' -n -u root -- /);
  });
});

describeWith(ANSIBLE_PYTHON, "the options left with a password, judged by ansible-core's sudo plugin", () => {
  /** The flags ansible-core's sudo plugin puts before its -p, for a become password. */
  function ansibleFlags(flags: string[]): string[] {
    const program = [
      'import json, sys',
      'from ansible.plugins.loader import become_loader, shell_loader',
      "b = become_loader.get('sudo'); sh = shell_loader.get('sh'); out = []",
      'for f in json.load(sys.stdin):',
      "    b.set_options(direct={'become_flags': f, 'become_pass': 'x', 'become_user': 'root'})",
      "    out.append(b.build_become_command('true', sh).split(' -p \"')[0][len('sudo '):])",
      'print(json.dumps(out))',
    ].join('\n');
    const run = spawnSync('/usr/bin/python3', ['-c', program], { input: JSON.stringify(flags), encoding: 'utf8' });
    if (run.status !== 0) throw new Error(run.stderr);
    return JSON.parse(run.stdout) as string[];
  }

  it('the same options as Ansible leaves, besides the -S and -p the toolkit adds (values without an n: Ansible strips it there too)', () => {
    const cases = ['-H -S -n', '-H -S -n -E', '-HSn -i', '--non-interactive -k', '-n', '-Hn', '-E --preserve-env=LANG -s', '-g wheel -D /tmp -n'];
    const judged = ansibleFlags(cases);
    cases.forEach((flags, i) => {
      const ansible = words(judged[i]!);
      // the toolkit's own additions come last: -S when missing (the script follows the password on stdin), then -p ''
      expect(sudoArguments(words(flags), true), flags).toEqual([...ansible, ...(ansible.includes('-S') ? [] : ['-S']), '-p', '']);
    });
  });
});
