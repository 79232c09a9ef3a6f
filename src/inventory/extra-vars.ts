// -e/--extra-vars as ansible-core reads them (utils/vars.load_extra_vars): each value is
// `@FILE` (YAML or JSON), inline YAML/JSON when it starts with `{` or `[`, or `key=value`
// pairs split like Ansible's split_args/parse_kv (quotes group words, values stay strings,
// surrounding quotes are removed, backslash escapes are decoded). Later -e values override
// earlier ones; extra vars beat every inventory variable.

import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { unfrackPath } from '../util/unfrack-path.ts';
import { InventoryError, originOf } from './errors.ts';
import { setOwn } from './records.ts';
import { isVaultText, type VaultSecret } from './vault.ts';
import { collectLeaves, decryptedFile, decryptInline, inlineDecrypter } from './vault-values.ts';
import { convert, isMap, keyString, lineOf, mapEntries, parseAnsibleYaml } from './yaml-load.ts';

export interface ExtraVars {
  vars: Record<string, unknown>;
  /** variable -> "-e argument N" (key=value or inline JSON/YAML: never the text, which may hold
   *  a secret the run masks only later, and a short one never) or "FILE:LINE" for -e @FILE */
  origins: Record<string, string>;
  /** Every value that came out of a vault (a vault-encrypted @FILE, an inline !vault): secrets. */
  vaultValues: string[];
}

/**
 * `vault`: the run's vault secrets. As Ansible, a vault-encrypted @FILE and inline `!vault`
 * values are decrypted with them (neither is ever used as its ciphertext).
 */
export function parseExtraVars(
  args: string[],
  cwd: string,
  vault: readonly VaultSecret[] = [],
  env: NodeJS.ProcessEnv = process.env,
  home: string = homedir(),
): ExtraVars {
  const vars: Record<string, unknown> = {};
  const origins: Record<string, string> = {};
  const vaultValues = new Set<string>();
  const decryptValue = inlineDecrypter(vault, vaultValues);
  const set = (key: string, value: unknown, origin: string): void => {
    setOwn(vars, key, decryptInline(value, decryptValue));
    origins[key] = origin;
  };
  for (const [i, arg] of args.entries()) {
    if (!arg) continue;
    const argument = `-e argument ${i + 1}`;
    if (arg.startsWith('@')) {
      // As Ansible opens it (unfrackpath): `-e @~/secrets.yml` has a ~ no shell expanded.
      const file = unfrackPath(arg.slice(1), cwd, env, home);
      let text = readVarsText(file);
      const encrypted = isVaultText(text);
      if (encrypted) text = decryptedFile(text, vault, file);
      for (const [k, v, origin] of dataFile(file, text, `'${arg}'`)) {
        set(k, v, origin);
        if (encrypted) collectLeaves(vars[k], vaultValues);
      }
    } else if (arg[0] === '/' || arg[0] === '.') {
      throw new InventoryError(`please prepend extra_vars filename '${arg}' with '@' (-e @${arg})`);
    } else if (arg[0] === '[' || arg[0] === '{') {
      for (const [k, v] of dataFile('-e', arg, argument)) set(k, v, argument);
    } else {
      let pairs: Record<string, unknown>;
      try {
        pairs = parseKeyValues(arg);
      } catch (error) {
        throw error instanceof InventoryError ? new InventoryError(`${argument}: ${error.message}`) : error;
      }
      // Ansible keeps words without '=' as a variable named _raw_params, which nothing reads:
      // -e 'agent_web_api_key: KEY' (YAML without braces) or 'key = value' would then be a
      // setting the admin gave and the run silently went without.
      if ('_raw_params' in pairs) {
        const words = splitArgs(String(pairs._raw_params)).length;
        throw new InventoryError(
          `${argument} has ${words} word(s) that are not key=value (not shown: they may hold a secret); write key=value with no spaces around '=', a JSON/YAML mapping in braces (-e '{"key": "value"}'), or -e @FILE`,
        );
      }
      for (const [k, v] of Object.entries(pairs)) set(k, v, argument);
    }
  }
  return { vars, origins, vaultValues: [...vaultValues].filter((v) => v !== '') };
}

function readVarsText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    throw new InventoryError('unable to read the extra vars file; check the path after -e @', { file });
  }
}

/** YAML or JSON text that must be a mapping: [key, value, origin][]. `what` names it in an
 *  error: the @FILE argument, or "-e argument N" (an inline value is never quoted: it may hold a secret). */
function dataFile(file: string, text: string, what: string): [string, unknown, string][] {
  const loaded = parseAnsibleYaml(text, file);
  if (!isMap(loaded.contents)) {
    throw new InventoryError(`invalid extra vars data supplied: ${what} could not be made into a dictionary; use key=value, a JSON/YAML mapping or @file`);
  }
  return mapEntries(loaded, loaded.contents).map((e) => [keyString(e.key), convert(loaded, e.value), originOf(file, lineOf(loaded, e.keyNode))]);
}

const ESCAPE = /\\U[0-9a-fA-F]{8}|\\u[0-9a-fA-F]{4}|\\x[0-9a-fA-F]{2}|\\N\{[^}]+\}|\\[\\'"abfnrtv]/g;
const SIMPLE: Record<string, string> = { '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

/** splitter._decode_escapes. Where Python's unicode-escape codec gives Ansible an error (a code
 *  point past U+10FFFF) or a character Node cannot name (\N{NAME}: no table of Unicode names
 *  here), an error saying so, never the text as written in place of what Ansible reads. */
function decodeEscapes(text: string): string {
  return text.replace(ESCAPE, (m) => {
    // (the escape is not quoted: it is part of a value, maybe a password)
    if (m[1] === 'N') throw new InventoryError('a \\N{NAME} escape cannot be read here; write the character itself');
    if (m[1] !== 'U' && m[1] !== 'u' && m[1] !== 'x') return SIMPLE[m[1]!]!;
    const cp = parseInt(m.slice(2), 16);
    if (cp > 0x10ffff) throw new InventoryError('a \\U escape is past the last Unicode character (U+10FFFF); Ansible refuses it too');
    return String.fromCodePoint(cp);
  });
}

/** quoting.unquote */
function unquote(data: string): string {
  const quoted = data.length > 1 && data[0] === data[data.length - 1] && (data[0] === '"' || data[0] === "'") && data[data.length - 2] !== '\\';
  return quoted ? data.slice(1, -1) : data;
}

/** splitter.parse_kv(args, check_raw=False); free-form words end up in `_raw_params` like Ansible. */
export function parseKeyValues(args: string): Record<string, string> {
  const options: Record<string, string> = {};
  const raw: string[] = [];
  for (const original of splitArgs(args)) {
    const x = decodeEscapes(original);
    // The first '=' not preceded by a backslash, searching from the second character.
    let pos = -1;
    for (let i = 1; i < x.length; i++) {
      if (x[i] === '=' && x[i - 1] !== '\\') {
        pos = i;
        break;
      }
    }
    if (pos === -1) {
      raw.push(x.includes('=') ? x.replace(/\\=/g, '=') : original);
      continue;
    }
    setOwn(options, x.slice(0, pos).trim(), unquote(x.slice(pos + 1).trim()));
  }
  if (raw.length) options._raw_params = joinArgs(raw);
  return options;
}

function joinArgs(parts: string[]): string {
  let result = '';
  for (const p of parts) result += result.length === 0 || result.endsWith('\n') ? p : ` ${p}`;
  return result;
}

function quoteState(token: string, quote: string | null): string | null {
  let q = quote;
  for (let i = 0; i < token.length; i++) {
    const c = token[i]!;
    if ((c === '"' || c === "'") && (i === 0 || token[i - 1] !== '\\')) {
      if (q) {
        if (c === q) q = null;
      } else q = c;
    }
  }
  return q;
}

function countBlocks(token: string, depth: number, open: string, close: string): number {
  const opens = token.split(open).length - 1;
  const closes = token.split(close).length - 1;
  if (opens === closes) return depth;
  return Math.max(0, depth + opens - closes);
}

/** splitter.split_args: whitespace split that keeps quoted strings and {{ }}/{% %}/{# #} together. */
export function splitArgs(args: string): string[] {
  const params: string[] = [];
  const items = args.split('\n');
  let quote: string | null = null;
  let insideQuotes = false;
  let printDepth = 0;
  let blockDepth = 0;
  let commentDepth = 0;
  const appendToLast = (text: string): void => {
    if (params.length === 0) params.push('');
    params[params.length - 1] += text;
  };
  items.forEach((item, itemIndex) => {
    const tokens = item.split(' ');
    let lineContinuation = false;
    tokens.forEach((token, idx) => {
      if (token.length === 0 && idx !== 0) {
        appendToLast(' ');
        return;
      }
      if (token === '\\' && !insideQuotes) {
        lineContinuation = true;
        return;
      }
      const wasInsideQuotes = insideQuotes;
      quote = quoteState(token, quote);
      insideQuotes = quote !== null;
      let appended = false;
      const inBlock = printDepth || blockDepth || commentDepth;
      if (insideQuotes && !wasInsideQuotes && !inBlock) {
        params.push(token);
        appended = true;
      } else if (inBlock || insideQuotes || wasInsideQuotes) {
        if (idx === 0 && wasInsideQuotes) appendToLast(token);
        else if (tokens.length > 1) appendToLast((idx > 0 ? ' ' : '') + token);
        else appendToLast(`\n${token}`);
        appended = true;
      }
      const prevPrint = printDepth;
      printDepth = countBlocks(token, printDepth, '{{', '}}');
      if (printDepth !== prevPrint && !appended) {
        params.push(token);
        appended = true;
      }
      const prevBlock = blockDepth;
      blockDepth = countBlocks(token, blockDepth, '{%', '%}');
      if (blockDepth !== prevBlock && !appended) {
        params.push(token);
        appended = true;
      }
      const prevComment = commentDepth;
      commentDepth = countBlocks(token, commentDepth, '{#', '#}');
      if (commentDepth !== prevComment && !appended) {
        params.push(token);
        appended = true;
      }
      if (!(printDepth || blockDepth || commentDepth) && !insideQuotes && !appended && token !== '') params.push(token);
    });
    if (items.length > 1 && itemIndex !== items.length - 1 && !lineContinuation) appendToLast('\n');
  });
  if (printDepth || blockDepth || commentDepth || insideQuotes) {
    // Not quoted, unlike Ansible: the value may hold a secret, and nothing masks it yet.
    throw new InventoryError('failed at splitting extra vars, either an unbalanced jinja2 block or quotes; quote the whole -e value');
  }
  return params;
}
