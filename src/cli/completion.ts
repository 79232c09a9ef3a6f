// `trento-provision completion bash`: a bash completion script for the flags (from the one
// flag table) and the inventory names under the package's inventories/.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CliError, flagNames } from './args.ts';

/** Flags whose value is a file: bash completes file names there. */
const FILE_FLAGS = [
  '--json',
  '--junit',
  '--private-key',
  '--key-file',
  '--vault-password-file',
  '--vault-pass-file',
  '--connection-password-file',
  '--conn-pass-file',
  '--become-password-file',
  '--become-pass-file',
];
const INVENTORY_FLAGS = ['-i', '--inventory'];

function inventoryNames(projectDir: string): string[] {
  const dir = join(projectDir, 'inventories');
  return existsSync(dir) ? readdirSync(dir).filter((n) => statSync(join(dir, n)).isDirectory()) : [];
}

/** Single-quoted for bash: the names are data. */
const sq = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;

export function completionScript(shell: string | undefined, command: string, projectDir: string): string {
  if (shell !== 'bash') {
    throw new CliError(`completion: only bash is supported, not "${shell ?? ''}"; use: ${command} completion bash > /etc/bash_completion.d/${command}`);
  }
  const fn = `_${command.replace(/[^A-Za-z0-9_]/g, '_')}`;
  return `# bash completion for ${command}; load with: source <(${command} completion bash)
${fn}() {
  local cur prev
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  case "$prev" in
    ${INVENTORY_FLAGS.join('|')})
      COMPREPLY=( $(compgen -W ${sq(inventoryNames(projectDir).join(' '))} -- "$cur") $(compgen -f -- "$cur") )
      return ;;
    ${FILE_FLAGS.join('|')})
      COMPREPLY=( $(compgen -f -- "$cur") )
      return ;;
  esac
  if [[ $COMP_CWORD -eq 1 && "$cur" != -* ]]; then
    COMPREPLY=( $(compgen -W 'completion' -- "$cur") )
    return
  fi
  COMPREPLY=( $(compgen -W ${sq(flagNames().join(' '))} -- "$cur") )
}
complete -o default -F ${fn} ${command}
`;
}
