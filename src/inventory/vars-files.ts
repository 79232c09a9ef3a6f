// group_vars/ and host_vars/ as Ansible's host_group_vars plugin reads them: for a group or host
// NAME it takes the first of NAME, NAME.yml, NAME.yaml, NAME.json that exists; a folder is read
// whole (sorted, recursively; files without extension or with one of those extensions; hidden
// files and backups~ skipped), later files overriding earlier ones.

import { readdir, readFile, stat } from 'node:fs/promises';
import { join, extname } from 'node:path';
import { InventoryError, originOf } from './errors.ts';
import { pushOnce, type VarSlot } from './inventory-data.ts';
import { convert, isMap, isScalar, keyString, lineOf, mapEntries, parseAnsibleYaml } from './yaml-load.ts';

export const VARS_EXTENSIONS = ['.yml', '.yaml', '.json'];

/** Variables of one file, in file order. `encrypted` when the whole file is a Vault envelope. */
export interface VarsFile {
  file: string;
  vars: Map<string, VarSlot>;
  warnings: string[];
  encrypted: boolean;
  /** Encrypted, and decrypted with the vault secrets the load was given: every value is a secret. */
  decrypted?: boolean;
  /** Encrypted, and none of those secrets opens it (only with VarsFileCache.deferUnreadable). */
  unreadable?: InventoryError;
}

/**
 * Reads each file and folder listing once per inventory load: the cache belongs to the caller
 * (one load), so nothing stays in memory between loads. Listing group_vars/ once instead of
 * probing four names per host keeps big inventories fast.
 */
export interface VarsFileCache {
  files: Map<string, Promise<VarsFile>>;
  listings: Map<string, Promise<Set<string> | null>>;
  kinds: Map<string, Promise<'file' | 'dir' | null>>;
  /** Decrypts a whole-file vault (throws naming the file); absent: such files are skipped with a warning. */
  decrypt?: (text: string, file: string) => string;
  /** A vault file none of the secrets opens is marked unreadable instead of failing the load:
   *  only the hosts that use it fail (ansible-playbook decrypts only what the play reads). */
  deferUnreadable?: boolean;
}

export function newVarsFileCache(decrypt?: (text: string, file: string) => string, deferUnreadable = false): VarsFileCache {
  return { files: new Map(), listings: new Map(), kinds: new Map(), ...(decrypt ? { decrypt } : {}), deferUnreadable };
}

function cachedKind(path: string, cache: VarsFileCache): Promise<'file' | 'dir' | null> {
  let pending = cache.kinds.get(path);
  if (!pending) {
    pending = kind(path);
    cache.kinds.set(path, pending);
  }
  return pending;
}

function listing(dir: string, cache: VarsFileCache): Promise<Set<string> | null> {
  let pending = cache.listings.get(dir);
  if (!pending) {
    pending = readdir(dir).then(
      (names) => new Set(names),
      () => null,
    );
    cache.listings.set(dir, pending);
  }
  return pending;
}

async function kind(path: string): Promise<'file' | 'dir' | null> {
  try {
    const s = await stat(path);
    return s.isDirectory() ? 'dir' : s.isFile() ? 'file' : 'file';
  } catch {
    return null;
  }
}

/** DataLoader.find_vars_files(dir, name) */
export async function findVarsFiles(dir: string, name: string, cache: VarsFileCache): Promise<string[]> {
  const names = await listing(dir, cache);
  for (const ext of ['', ...VARS_EXTENSIONS]) {
    // Names with a '/' can reach into subfolders, so only a plain name can be ruled out here.
    if (names && !name.includes('/') && !names.has(name + ext)) continue;
    const full = join(dir, name + ext);
    const k = await cachedKind(full, cache);
    if (k === 'dir') return dirVarsFiles(full);
    if (k === 'file') return [full];
  }
  return [];
}

async function dirVarsFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  let entries: string[];
  try {
    entries = (await readdir(dir)).sort(compareCodePoints);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    throw new InventoryError(`cannot list this folder (${code}); check that this user may read it`, { file: dir });
  }
  for (const entry of entries) {
    if (entry.startsWith('.') || entry.endsWith('~')) continue;
    const full = join(dir, entry);
    const ext = extname(entry);
    const k = await kind(full);
    if (k === 'dir' && !ext) found.push(...(await dirVarsFiles(full)));
    else if (k === 'file' && (!ext || VARS_EXTENSIONS.includes(ext))) found.push(full);
  }
  return found;
}

/** readFile with an InventoryError (naming the file) instead of a bare ENOENT/EACCES. */
async function readBytes(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    throw new InventoryError(`cannot read this file (${code}); check that it exists and that this user may read it`, { file });
  }
}

/** A YAML file's text: strict UTF-8, as PyYAML refuses the bytes Ansible could not decode. */
export async function readText(file: string): Promise<string> {
  const { text, badLines } = decodeUtf8(await readBytes(file));
  if (badLines.length > 0) throw notUtf8(file, badLines[0]!);
  return text;
}

/**
 * An inventory source's text, each byte that is not UTF-8 read as U+FFFD, and the 1-based lines
 * that hold one: Ansible decodes inventories with surrogateescape, so its INI plugin loads such
 * a file (a Latin-1 comment is common) where its YAML plugin fails. Each plugin decides.
 */
export async function readInventoryText(file: string): Promise<{ text: string; badLines: number[] }> {
  return decodeUtf8(await readBytes(file));
}

export function notUtf8(file: string, line: number, what = 'a byte that is not text'): InventoryError {
  return new InventoryError(`is not valid UTF-8 (${what}); save the file as UTF-8`, { file, line });
}

function decodeUtf8(bytes: Buffer): { text: string; badLines: number[] } {
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes), badLines: [] };
  } catch {
    const text = bytes.toString('utf8');
    const badLines = text.split('\n').flatMap((line, i) => (line.includes('\uFFFD') ? [i + 1] : []));
    return { text, badLines };
  }
}

export function compareCodePoints(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function loadVarsFile(file: string, cache: VarsFileCache): Promise<VarsFile> {
  let pending = cache.files.get(file);
  if (!pending) {
    pending = readVarsFile(file, cache.decrypt, cache.deferUnreadable);
    cache.files.set(file, pending);
  }
  return pending;
}

async function readVarsFile(file: string, decrypt?: (text: string, file: string) => string, deferUnreadable = false): Promise<VarsFile> {
  let text = await readText(file);
  const result: VarsFile = { file, vars: new Map(), warnings: [], encrypted: false };
  if (text.startsWith('$ANSIBLE_VAULT;')) {
    result.encrypted = true;
    if (!decrypt) {
      result.warnings.push(
        `${file} is encrypted with Ansible Vault; its variables are not loaded (give a vault password: --vault-password-file, --ask-vault-pass or --vault-id)`,
      );
      return result;
    }
    try {
      text = decrypt(text, file);
    } catch (error) {
      if (!deferUnreadable || !(error instanceof InventoryError)) throw error;
      result.unreadable = error;
      return result;
    }
    result.decrypted = true;
  }
  // Ansible's DataLoader tries JSON first, then YAML.
  let json: unknown;
  let isJson = false;
  try {
    json = JSON.parse(text);
    isJson = true;
  } catch {
    /* not JSON */
  }
  let loaded: ReturnType<typeof parseAnsibleYaml> | undefined;
  try {
    loaded = parseAnsibleYaml(text, file);
  } catch (e) {
    if (!isJson) throw e;
  }
  if (isJson) {
    if (json === null || json === false || json === 0 || json === '' || (Array.isArray(json) && json.length === 0)) return result;
    if (typeof json !== 'object' || Array.isArray(json)) throw notAMapping(file, undefined);
    if (loaded && isMap(loaded.contents)) {
      // The parsed YAML nodes keep every digit of a number (JSON.parse would round big ints).
      for (const e of mapEntries(loaded, loaded.contents)) {
        result.vars.set(keyString(e.key), { value: convert(loaded, e.value), origin: originOf(file, lineOf(loaded, e.keyNode)) });
      }
      return result;
    }
    for (const [k, v] of Object.entries(json as Record<string, unknown>)) result.vars.set(k, { value: v, origin: originOf(file, undefined) });
    return result;
  }
  const contents = loaded!.contents;
  // Empty files, `---` alone, `~`, `false`... are ignored like Ansible ignores falsy data.
  if (contents === null || (isScalar(contents) && !contents.value)) return result;
  if (!isMap(contents)) throw notAMapping(file, lineOf(loaded!, contents));
  for (const e of mapEntries(loaded!, contents)) {
    result.vars.set(keyString(e.key), { value: convert(loaded!, e.value), origin: originOf(file, lineOf(loaded!, e.keyNode)) });
  }
  result.warnings.push(...loaded!.warnings);
  return result;
}

function notAMapping(file: string, line: number | undefined): InventoryError {
  return new InventoryError('a variables file must be a mapping of variable names to values (name: value), not a list or a single value', {
    file,
    line,
  });
}

/**
 * The variables group_vars/NAME or host_vars/NAME under `baseDir` give, files merged in order.
 * Names starting with '/' are skipped like Ansible does (chroot-style host names).
 */
export async function entityVars(
  baseDir: string,
  subdir: 'group_vars' | 'host_vars',
  name: string,
  cache: VarsFileCache,
  warnings: string[],
  encryptedFiles: string[],
  unreadable: InventoryError[] = [],
): Promise<Map<string, VarSlot>> {
  const vars = new Map<string, VarSlot>();
  if (name.startsWith('/')) return vars;
  const dir = join(baseDir, subdir);
  const k = await cachedKind(dir, cache);
  if (k !== 'dir') {
    if (k === 'file') pushOnce(warnings, `Found ${subdir} that is not a directory, skipping: ${dir}`);
    return vars;
  }
  for (const file of await findVarsFiles(dir, name, cache)) {
    const loaded = await loadVarsFile(file, cache);
    for (const w of loaded.warnings) pushOnce(warnings, w);
    if (loaded.unreadable) unreadable.push(loaded.unreadable);
    else if (loaded.encrypted && !loaded.decrypted && !encryptedFiles.includes(file)) encryptedFiles.push(file);
    for (const [key, slot] of loaded.vars) vars.set(key, slot);
  }
  return vars;
}
