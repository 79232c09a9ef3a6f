// Colour and the live spinner, decided once from the environment, as Ansible and the Node
// ecosystem decide them (one table: ansible.utils.color, Node's tty.getColorDepth, ora).
import { ansibleBool } from '../inventory/truthiness.ts';

export interface TerminalStreams {
  stdout: { isTTY?: boolean };
  stderr: { isTTY?: boolean; columns?: number };
}

export interface TerminalChoice {
  color: boolean;
  /** The ora spinner on stderr. Off wherever its redraws would end up as residue in a log. */
  live: boolean;
}

/** FORCE_COLOR as Node reads it: set and not 0/false turns colour on; 0/false turns it off. */
function forceColor(env: NodeJS.ProcessEnv): boolean | undefined {
  if (ansibleBool(env.ANSIBLE_FORCE_COLOR) === true) return true;
  const node = env.FORCE_COLOR;
  if (node === undefined) return undefined;
  return !['0', 'false'].includes(node.toLowerCase());
}

export function terminalChoice(env: NodeJS.ProcessEnv, streams: TerminalStreams): TerminalChoice {
  const dumb = env.TERM === 'dumb';
  // Ansible: ANSIBLE_NOCOLOR (NO_COLOR too since 2.11) off, then not a TTY off, then
  // ANSIBLE_FORCE_COLOR on over everything; Node's FORCE_COLOR the same way.
  const colorRules: [boolean, boolean][] = [
    [forceColor(env) !== undefined, forceColor(env) === true],
    [ansibleBool(env.ANSIBLE_NOCOLOR) === true, false],
    [env.NO_COLOR !== undefined && env.NO_COLOR !== '', false],
    [dumb, false],
    [!streams.stdout.isTTY, false],
  ];
  const color = colorRules.find(([applies]) => applies)?.[1] ?? true;
  // ora's own rule (TTY, not TERM=dumb, not CI) plus a known width: without it ora cannot tell
  // how many lines to clear. With CI set ora would print a stray "- text" line instead.
  const live = Boolean(streams.stdout.isTTY && streams.stderr.isTTY) && (streams.stderr.columns ?? 0) > 0 && !dumb && env.CI === undefined;
  return { color, live };
}
