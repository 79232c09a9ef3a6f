// ansible_become_flags / become_flags: the admin's sudo options, passed on as Ansible's sudo
// plugin passes them (with a password, -n is dropped), each one quoted word: data, never shell
// code. Options that would undo what the toolkit relies on (the script and the password on
// sudo's stdin, the script's exit code, ansible_become_user as the user, the host's own root)
// are refused by name, before any host is touched.
import { shlexSplit } from '../inventory/shlex.ts';

/** Ansible's default become_flags for sudo. */
export const DEFAULT_SUDO_FLAGS = '-H -S -n';

interface SudoOption {
  short?: string;
  long: string;
  /** Takes a value: `-g wheel`, `-gwheel`, `--group wheel`, `--group=wheel`. */
  value?: true;
  /** Why the toolkit cannot pass it on (absent: passed as written). */
  refused?: string;
}

const SUDO_OPTIONS: readonly SudoOption[] = [
  { short: 'H', long: 'set-home' },
  { short: 'S', long: 'stdin' },
  { short: 'n', long: 'non-interactive' },
  { short: 'E', long: 'preserve-env' },
  { short: 'P', long: 'preserve-groups' },
  { short: 'B', long: 'bell' },
  { short: 'k', long: 'reset-timestamp' },
  { short: 'N', long: 'no-update' },
  { short: 'i', long: 'login' },
  { short: 's', long: 'shell' },
  { short: 'g', long: 'group', value: true },
  { short: 'D', long: 'chdir', value: true },
  { short: 'C', long: 'close-from', value: true },
  { short: 'T', long: 'command-timeout', value: true },
  { short: 'r', long: 'role', value: true },
  { short: 't', long: 'type', value: true },
  { short: 'p', long: 'prompt', value: true },
  { short: 'u', long: 'user', value: true, refused: 'the user to become is ansible_become_user (--become-user)' },
  { short: 'U', long: 'other-user', value: true, refused: 'it only goes with -l, which runs no command' },
  { short: 'A', long: 'askpass', refused: "the sudo password travels on sudo's stdin (-S); give it as ansible_become_password or with -K" },
  { short: 'b', long: 'background', refused: "the toolkit waits for its script's end and exit code on every host" },
  { short: 'R', long: 'chroot', value: true, refused: 'the toolkit reads and changes the host itself, not a tree inside it' },
  { short: 'e', long: 'edit', refused: 'sudoedit runs no command' },
  { short: 'l', long: 'list', refused: 'it runs no command' },
  { short: 'v', long: 'validate', refused: 'it runs no command' },
  { short: 'K', long: 'remove-timestamp', refused: 'it runs no command' },
  { short: 'V', long: 'version', refused: 'it runs no command' },
];

export type SudoFlags = { words: string[] } | { problem: string };

/**
 * become_flags as sudo arguments, one option per word (`-HSn` is `-H -S -n`, `-gwheel` is `-g
 * wheel`: the same to sudo), or what is wrong with them. Split as Ansible splits them (shlex).
 */
export function parseSudoFlags(text: string): SudoFlags {
  let written: string[];
  try {
    written = shlexSplit(text, false);
  } catch (error) {
    return { problem: `cannot be split into words as Ansible splits it: ${(error as Error).message}` };
  }
  const words: string[] = [];
  /** The options given (long names; --preserve-env=LIST as "preserve-env="). */
  const given = new Set<string>();
  // An unknown option is named by its place, not repeated: it may be anything, a password too.
  const take = (option: SudoOption | undefined, shown: string, place: number): string | undefined => {
    if (option === undefined) return `word ${place} is not a sudo option the toolkit knows`;
    if (option.refused) return `"${shown}" cannot be honoured: ${option.refused}`;
    return undefined;
  };
  for (let i = 0; i < written.length; i++) {
    const word = written[i]!;
    if (word.startsWith('--') && word.length > 2) {
      const [name, inline] = splitOnce(word.slice(2), '=');
      const option = SUDO_OPTIONS.find((o) => o.long === name);
      const problem = take(option, `--${name}`, i + 1);
      if (problem) return { problem };
      // --preserve-env=LIST is the one long option whose value is optional.
      if (inline !== undefined && !option!.value && name !== 'preserve-env') return { problem: `"--${name}" takes no value` };
      given.add(inline !== undefined && name === 'preserve-env' ? 'preserve-env=' : name!);
      if (option!.value && inline === undefined) {
        const next = written[++i];
        if (next === undefined) return { problem: `"--${name}" needs a value` };
        words.push(`--${name}`, next);
      } else {
        words.push(word);
      }
      continue;
    }
    // Not repeated in the message: a stray word may be anything, a password pasted there too.
    if (!/^-[^-]/.test(word)) return { problem: `word ${i + 1} is not an option: sudo would run it as the command` };
    for (let c = 1; c < word.length; c++) {
      const option = SUDO_OPTIONS.find((o) => o.short === word[c]);
      const problem = take(option, `-${word[c]}`, i + 1);
      if (problem) return { problem };
      words.push(`-${word[c]}`);
      given.add(option!.long);
      if (!option!.value) continue;
      const value = c + 1 < word.length ? word.slice(c + 1) : written[++i];
      if (value === undefined) return { problem: `"-${word[c]}" needs a value` };
      words.push(value);
      break;
    }
  }
  const conflict = SUDO_CONFLICTS.find(([a, b]) => given.has(a) && given.has(b));
  const named = (long: string) => `-${SUDO_OPTIONS.find((o) => o.long === long)!.short} (--${long})`;
  if (conflict) return { problem: `${named(conflict[0])} and ${named(conflict[1])} cannot go together (sudo refuses them)` };
  return { words };
}

/** Options sudo refuses together ("you may not specify both the -i and -s options"); -E is
 *  --preserve-env, the whole environment (--preserve-env=LIST goes with -i). */
const SUDO_CONFLICTS: readonly [string, string][] = [
  ['login', 'shell'],
  ['login', 'preserve-env'],
];

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}

/**
 * The options sudo gets, from parsed become_flags. With a password, -n is dropped as Ansible
 * drops it, and sudo reads the password from stdin (-S) with no prompt shown (-p '', after the
 * admin's -p, so it wins): the script follows the password there. Without one, -n is added when
 * missing, so a sudo that wants a password fails at once instead of waiting for one.
 */
export function sudoArguments(words: readonly string[], withPassword: boolean): string[] {
  const kept: string[] = [];
  const given = new Set<string>();
  // Option by option: a value (`-p -n`) is never taken for an option.
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    const option = SUDO_OPTIONS.find((o) => (word.startsWith('--') ? word.split('=')[0] === `--${o.long}` : word === `-${o.short}`));
    const value = option?.value && !word.includes('=') ? [words[++i]!] : [];
    if (option) given.add(option.long);
    if (withPassword && option?.long === 'non-interactive') continue;
    kept.push(word, ...value);
  }
  if (withPassword) return [...kept, ...(given.has('stdin') ? [] : ['-S']), '-p', ''];
  return given.has('non-interactive') ? kept : [...kept, '-n'];
}
