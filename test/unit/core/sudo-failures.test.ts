// sudo's refusals (its 1.9 messages, as SLES 15 and 16 print them) read into what to do.
import { describe, expect, it } from 'vitest';
import { sudoFailureHint } from '../../../src/exec/sudo-failures.ts';

describe("sudo's refusals", () => {
  it('each message of sudo 1.9 gets its hint; other output none', () => {
    const cases: [string, RegExp][] = [
      ['sudo: a password is required\n', /^sudo wants a password/],
      [
        'sudo: a terminal is required to read the password; either use the -S option to read from standard input or configure an askpass helper\n',
        /^sudo wants a password/,
      ],
      ['Sorry, try again.\nsudo: 3 incorrect password attempts\n', /^sudo refused the password/],
      ['sudo: sorry, you must have a tty to run sudo\n', /requiretty/],
      ['admin is not in the sudoers file.  This incident will be reported.\n', /may not run commands as the become user/],
      ["Sorry, user admin is not allowed to execute '/bin/bash -c x' as root on sles15.\n", /may not run commands as the become user/],
      ['sudo: sorry, you are not allowed to preserve the environment\n', /become_flags/],
      ['sudo: you are not permitted to use the -D option\n', /become_flags/],
      // sudo 1.9.13's words, as it prints them
      ['admin is not allowed to run sudo on sles15.  This incident will be reported.\n', /may not run commands as the become user/],
      ['sudo: sorry, you are not allowed set a command timeout\n', /become_flags/],
    ];
    for (const [said, hint] of cases) expect(sudoFailureHint(said), said).toMatch(hint);
    expect(sudoFailureHint('zypper: repository not found\n')).toBeUndefined();
    expect(sudoFailureHint('')).toBeUndefined();
  });
});
