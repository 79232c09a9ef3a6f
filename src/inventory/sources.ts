// Which parser reads an inventory source, as Ansible's InventoryManager decides: a folder is
// read entry by entry (sorted, skipping hidden files, group_vars/, host_vars/ and ignored
// extensions such as .ini, .cfg, .md, .txt); a file is tried with the enabled plugins in
// order (script, auto, yaml, ini, toml) and the first that succeeds wins; "a,b," is a host list.

import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { InventoryError } from './errors.ts';
import { parseAddress } from './host-ranges.ts';
import { isIniComment, parseIniInventory } from './ini.ts';
import { addHost, pushOnce, type InventoryDraft } from './inventory-data.ts';
import { compareCodePoints, notUtf8, readInventoryText } from './vars-files.ts';
import { parseYamlInventory } from './yaml-inventory.ts';
import { isMap, isScalar, keyString, mapEntries, parseAnsibleYaml } from './yaml-load.ts';

/** ansible-core's INVENTORY_IGNORE_EXTS default (REJECT_EXTS and .orig, .ini, .cfg, .retry): the
 *  only value of [inventory] ignore_extensions the toolkit takes (src/cli/ansible-config.ts). */
export const DEFAULT_INVENTORY_IGNORE_EXTS = ['.pyc', '.pyo', '.swp', '.bak', '~', '.rpm', '.md', '.txt', '.rst', '.orig', '.ini', '.cfg', '.retry'];
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
// IGNORED_ALWAYS plus those extensions.
const IGNORED = new RegExp(`^\\.|^host_vars$|^group_vars$|^vars_plugins$|(?:${DEFAULT_INVENTORY_IGNORE_EXTS.map(escapeRegExp).join('|')})$`);
const YAML_EXTENSIONS = ['.yaml', '.yml', '.json'];

/** Parses one source into the draft; false when a folder held nothing Ansible would read. */
export async function parseSource(draft: InventoryDraft, source: string): Promise<boolean> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(source);
  } catch {
    if (source.includes(',')) {
      parseHostList(draft, source);
      return true;
    }
    throw new InventoryError(`inventory source not found; check the path given with -i/--inventory`, { file: source });
  }
  if (info.isDirectory()) {
    let parsed = false;
    let entries: string[];
    try {
      entries = (await readdir(source)).sort(compareCodePoints);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'error';
      throw new InventoryError(`cannot list this inventory folder (${code}); check that this user may read it`, { file: source });
    }
    for (const entry of entries) {
      if (IGNORED.test(entry)) continue;
      if (await parseSource(draft, join(source, entry))) parsed = true;
    }
    return parsed;
  }
  await parseFile(draft, source);
  return true;
}

/** The host_list plugin: `-i 'web1,web2:2222,'`. */
function parseHostList(draft: InventoryDraft, list: string): void {
  for (const raw of list.split(',')) {
    const h = raw.trim();
    if (!h) continue;
    // parse_address(allow_ranges=False): `[::1]:2222` is host ::1, port 2222; a name whose host
    // part is a range (`db[1:3]`) is refused there, and the text stays the host name as written.
    const address = parseAddress(h);
    const parsed = address?.host.includes('[') ? null : address;
    const host = parsed ? parsed.host : h;
    if (!draft.hosts.has(host)) addHost(draft, host, 'ungrouped', parsed?.port, 'host list');
  }
}

interface Failure {
  plugin: 'yaml' | 'ini';
  error: InventoryError;
  /** The file is evidently in this plugin's format (so its error is the one to show). */
  meant: boolean;
}

/**
 * The yaml plugin: undefined when it parsed the file. A YAML syntax error or a document that
 * is not a mapping means "not a YAML inventory" unless the extension says it is; a mapping
 * with a wrong structure is a YAML inventory with a mistake.
 */
function parseYamlFile(draft: InventoryDraft, file: string, text: string): Failure | undefined {
  const yamlExtension = YAML_EXTENSIONS.includes(extname(file));
  let loaded: ReturnType<typeof parseAnsibleYaml>;
  try {
    loaded = parseAnsibleYaml(text, file);
  } catch (e) {
    if (!(e instanceof InventoryError)) throw e;
    return { plugin: 'yaml', error: e, meant: yamlExtension };
  }
  const contents = loaded.contents;
  if (contents === null || (isScalar(contents) && !contents.value)) {
    return {
      plugin: 'yaml',
      error: new InventoryError('the YAML inventory is empty; add groups with hosts (all: {hosts: {web1: {}}})', { file }),
      meant: yamlExtension,
    };
  }
  if (!isMap(contents)) {
    const error = new InventoryError('a YAML inventory must be a mapping of group names (all:, webservers:, ...), not a list or a single value', {
      file,
      line: 1,
    });
    return { plugin: 'yaml', error, meant: yamlExtension };
  }
  const plugin = mapEntries(loaded, contents).find((e) => keyString(e.key) === 'plugin');
  const pluginName = plugin?.value;
  if (isScalar(pluginName) && pluginName.value) {
    // The `auto` plugin would load the named inventory plugin; none is available here.
    const error = new InventoryError(
      `inventory plugin configuration (plugin: ${keyString(pluginName.value)}) is not supported; list the hosts in a YAML or INI inventory`,
      { file },
    );
    return { plugin: 'yaml', error, meant: true };
  }
  try {
    parseYamlInventory(draft, loaded);
  } catch (e) {
    if (!(e instanceof InventoryError)) throw e;
    return { plugin: 'yaml', error: e, meant: true };
  }
  for (const w of loaded.warnings) pushOnce(draft.warnings, w);
  return undefined;
}

async function parseFile(draft: InventoryDraft, file: string): Promise<void> {
  const { text, badLines } = await readInventoryText(file);
  const ext = extname(file);
  if (text.startsWith('$ANSIBLE_VAULT;')) {
    throw new InventoryError(
      'the inventory file is encrypted with Ansible Vault, which is not supported yet; decrypt it (ansible-vault decrypt) or encrypt single values with !vault',
      { file },
    );
  }
  // Ansible runs an executable file with a shebang as a dynamic inventory script. One that is not
  // executable fails to run there, and the next plugins read it: for INI a "#!" line is a comment.
  if (text.startsWith('#!') && ((await stat(file)).mode & 0o111) !== 0) {
    throw new InventoryError(
      'dynamic inventory scripts are not supported; write the inventory as a YAML or INI file (ansible-inventory -i SCRIPT --list -y > hosts.yml)',
      { file },
    );
  }

  const failures: Failure[] = [];
  if (ext === '' || YAML_EXTENSIONS.includes(ext)) {
    const failure =
      badLines.length > 0
        ? { plugin: 'yaml' as const, error: notUtf8(file, badLines[0]!), meant: YAML_EXTENSIONS.includes(ext) }
        : parseYamlFile(draft, file, text);
    if (!failure) return;
    failures.push(failure);
  }
  try {
    // Ansible's INI plugin reads bytes that are not UTF-8 as they are; in a comment line they
    // mean nothing. In a host or a value they would reach agent.yaml as garbage: refused.
    const lines = text.split('\n');
    const badData = badLines.find((n) => !isIniComment(lines[n - 1]!));
    if (badData !== undefined) throw notUtf8(file, badData, 'a byte that is not text, outside a comment line');
    parseIniInventory(draft, file, text);
    return;
  } catch (e) {
    if (!(e instanceof InventoryError)) throw e;
    failures.push({ plugin: 'ini', error: e, meant: !YAML_EXTENSIONS.includes(ext) });
  }
  if (ext === '.toml') {
    throw new InventoryError('TOML inventories are not supported; convert it to YAML (ansible-inventory -i FILE --list -y)', { file });
  }
  // Report the error of the format the file was meant to be in (Ansible tries both); when
  // that is unclear, mention the other one too. A file that opens with an INI section header
  // is INI whatever its name (a YAML inventory is a mapping; the Trento README's inventory.yml
  // is INI), so its INI error is the one that helps.
  const iniHeaded = /^\[[^\]\s,]+\]\s*$/.test(
    text
      .split(/\r?\n/)
      .find((l) => l.trim() !== '' && !isIniComment(l))
      ?.trim() ?? '',
  );
  const chosen = (iniHeaded ? failures.find((f) => f.plugin === 'ini') : undefined) ?? failures.find((f) => f.meant) ?? failures[failures.length - 1]!;
  const other = failures.find((f) => f !== chosen);
  const note = other && !chosen.meant && !iniHeaded ? ` (read as ${other.plugin.toUpperCase()}: ${other.error.message})` : '';
  throw new InventoryError(`${chosen.error.detail}${note}`, { file: chosen.error.file ?? file, line: chosen.error.line });
}
