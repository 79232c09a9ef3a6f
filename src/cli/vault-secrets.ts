// Vault passwords from where ansible-playbook takes them: --vault-id [LABEL@]SOURCE (SOURCE a
// file, an executable script printing the password, or `prompt`), --vault-password-file FILE,
// --ask-vault-pass, and ansible.cfg / ANSIBLE_VAULT_PASSWORD_FILE / ANSIBLE_VAULT_IDENTITY_LIST.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename } from 'node:path';
import type { VaultSecret } from '../inventory/index.ts';
import { unfrackPath } from './ansible-config.ts';
import { isExecutable, isPasswordSource, PasswordFileError, runPasswordScript } from './password-files.ts';
import type { Prompt } from './prompt.ts';

export class VaultSecretError extends PasswordFileError {}

export interface VaultSources {
  /** --vault-id values, in order (config's vault_identity_list first, as Ansible). */
  vaultIds: string[];
  /** --vault-password-file values, then ansible.cfg's / ANSIBLE_VAULT_PASSWORD_FILE. */
  passwordFiles: string[];
  askVaultPass: boolean;
}

const DEFAULT_ID = 'default';

/** Ansible's build_vault_ids: every source as one LABEL@SOURCE slug. */
export function vaultIdSlugs(sources: VaultSources): string[] {
  const slugs = [...sources.vaultIds];
  if (sources.askVaultPass) slugs.push(`${DEFAULT_ID}@prompt_ask_vault_pass`);
  for (const f of sources.passwordFiles) slugs.push(`${DEFAULT_ID}@${f}`);
  return [...new Set(slugs)];
}

/** "label@source" -> [label, source]; a bare source gets the default label (Ansible's split on the first @). */
export function splitVaultId(slug: string): [string, string] {
  const at = slug.indexOf('@');
  return at < 0 ? [DEFAULT_ID, slug] : [slug.slice(0, at) || DEFAULT_ID, slug.slice(at + 1)];
}

/** A password script: run it; a `*-client` script gets `--vault-id LABEL` (Ansible's client scripts). */
function fromScript(path: string, label: string): Promise<string> {
  const name = basename(path).replace(/\.[^.]*$/, '');
  const args = name.endsWith('-client') ? ['--vault-id', label] : [];
  return runPasswordScript(path, args, (code, stderr) => new VaultSecretError(`Vault password script ${path} returned non-zero (${code}): ${stderr}`));
}

/** Reads every source once, asking on the terminal where a source is a prompt. */
export async function resolveVaultSecrets(
  sources: VaultSources,
  prompt: Prompt,
  cwd: string,
  env: NodeJS.ProcessEnv = process.env,
  home: string = homedir(),
): Promise<VaultSecret[]> {
  const secrets: VaultSecret[] = [];
  for (const slug of vaultIdSlugs(sources)) {
    const [label, source] = splitVaultId(slug);
    let password: string;
    let shown = source;
    if (source === 'prompt' || source === 'prompt_ask_vault_pass') {
      password = await prompt(source === 'prompt_ask_vault_pass' ? 'Vault password: ' : `Vault password (${label}): `);
      shown = 'the prompt';
    } else {
      // As Ansible opens it (unfrackpath): `--vault-id prod@~/.vault` has a ~ no shell expanded.
      const path = unfrackPath(source, cwd, env, home);
      shown = path;
      if (!isPasswordSource(path)) throw new VaultSecretError(`The vault password file ${path} was not found`);
      password = isExecutable(path) ? await fromScript(path, label) : readFileSync(path, 'utf8').trim();
    }
    if (password === '')
      throw new VaultSecretError(`Invalid vault password was provided from ${shown === 'the prompt' ? 'the prompt' : `file (${shown})`}: it is empty`);
    secrets.push({ id: label, password, source: shown });
  }
  return secrets;
}
