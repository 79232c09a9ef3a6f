// The real CLI on a real pseudo-terminal (util-linux `script`), as an admin or a CI runner
// with a TTY sees it: spinner only where it can be redrawn, colour as the environment says.
// Two hosts that refuse connections (127.0.0.1 port 1) make a short run with host lines.
import { execFileSync } from 'node:child_process';
import { expect, it } from 'vitest';
import { packageRoot } from '../../../src/cli/invocation.ts';
import { describeWith, SCRIPT_PTY } from '../../support/requires.ts';
import { cliEntry } from '../../support/compiled-cli.ts';

const repo = packageRoot(import.meta.url);

/** Everything the terminal received, bytes as written (escape sequences included). */
function onPty(env: NodeJS.ProcessEnv): string {
  const command = [
    process.execPath,
    cliEntry('provision'),
    '-i',
    'example',
    '-e',
    'agent_web_api_key=pty-test-api-key',
    '-e',
    'ansible_host=127.0.0.1',
    '-e',
    'ansible_port=1',
    '-T',
    '2',
    '--check',
  ]
    .map((w) => `'${w}'`)
    .join(' ');
  // A pty made without a parent terminal has no size; give it one, as a terminal window has.
  const base: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, TERM: 'xterm-256color' };
  try {
    return execFileSync('script', ['-q', '-e', '-c', `stty cols 120 rows 40; exec ${command}`, '/dev/null'], {
      cwd: repo,
      env: { ...base, ...env },
      encoding: 'utf8',
    });
  } catch (error) {
    // Exit 4 (unreachable) is expected; the output is what is checked.
    const e = error as { status?: number; stdout?: string };
    if (e.status === 4 && e.stdout !== undefined) return e.stdout;
    throw error;
  }
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: the test looks for terminal control characters on purpose
const SPINNER = /\x1b\[\?25l|- connecting|[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/u;
// biome-ignore lint/suspicious/noControlCharactersInRegex: the test looks for terminal control characters on purpose
const COLOUR = /\x1b\[(3\d|9\d)m/;
/** Each case is a whole CLI run; on a loaded 2-core machine that can take longer than the unit default. */
const RUN = 120_000;

describeWith(SCRIPT_PTY, 'on a pseudo-terminal', () => {
  it(
    'a plain terminal gets the spinner and colour (the checks below can see both)',
    () => {
      const out = onPty({});
      expect(out).toMatch(SPINNER);
      expect(out).toMatch(COLOUR);
      expect(out).toContain('PLAY RECAP');
    },
    RUN,
  );

  it(
    'CI set: no spinner, no stray "- connecting" line; the host lines and recap intact',
    () => {
      const out = onPty({ CI: 'true' });
      expect(out).not.toMatch(SPINNER);
      expect(out).toMatch(/hana01 \| UNREACHABLE \|/);
      expect(out).toContain('PLAY RECAP');
    },
    RUN,
  );

  it(
    'TERM=dumb: no escape sequence at all',
    () => {
      const out = onPty({ TERM: 'dumb' });
      expect(out).not.toContain('\x1b');
      expect(out).toContain('PLAY RECAP');
    },
    RUN,
  );

  it.each([{ NO_COLOR: '1' }, { ANSIBLE_NOCOLOR: 'True' }])(
    '%o: no colour',
    (env) => {
      expect(onPty(env)).not.toMatch(COLOUR);
    },
    RUN,
  );

  it(
    'ANSIBLE_FORCE_COLOR over ANSIBLE_NOCOLOR, as Ansible decides',
    () => {
      expect(onPty({ ANSIBLE_NOCOLOR: '1', ANSIBLE_FORCE_COLOR: '1' })).toMatch(COLOUR);
    },
    RUN,
  );
});
