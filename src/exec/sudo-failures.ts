// What sudo's refusal means for the admin: sudo's own words (1.9, as on SLES 15 and 16) read
// into what to change. One table, read where a host's first script (the facts) runs through sudo.

interface SudoFailure {
  /** sudo's message, as it prints it on stderr. */
  said: RegExp;
  /** What to do. */
  hint: string;
}

const SUDO_FAILURES: readonly SudoFailure[] = [
  {
    said: /a password is required|a terminal is required to read the password/,
    // sudo asks before it looks at the rules: also a user with no rule for this (a rule for
    // another host, user or command only)
    hint: 'sudo wants a password: give ansible_become_password (vaulted) or -K, or let this user run any command as the become user on this host without one (NOPASSWD)',
  },
  {
    said: /incorrect password attempt|Sorry, try again\./,
    hint: 'sudo refused the password: check where it came from (ansible_become_password, -K, --become-password-file or ansible.cfg become_password_file)',
  },
  {
    said: /you must have a tty to run sudo/,
    hint: "sudoers requires a terminal for this user (Defaults requiretty), and the toolkit sends its scripts on stdin, as Ansible's pipelining does: allow it without one (Defaults:USER !requiretty)",
  },
  {
    said: /is not in the sudoers file|is not allowed to (?:run sudo|execute)|may not run sudo on/,
    hint: 'this user may not run commands as the become user with sudo on this host: check sudoers, ansible_user and ansible_become_user',
  },
  {
    // (sudo 1.9.13 prints "not allowed set a command timeout", without "to")
    said: /not permitted to use the -[A-Za-z] option|not allowed to preserve the environment|not allowed (?:to )?set a command timeout/,
    hint: 'sudoers does not allow an option of become_flags for this user: change ansible_become_flags or sudoers',
  },
];

/** The hint for a run whose stderr holds one of sudo's refusals; undefined when sudo said none. */
export function sudoFailureHint(stderr: string): string | undefined {
  return SUDO_FAILURES.find((f) => f.said.test(stderr))?.hint;
}
