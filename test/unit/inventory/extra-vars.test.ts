// -e/--extra-vars against ansible-core: `ansible-inventory -i 'h1,' --list -e ...` puts the
// extra vars into the only host's variables, which must equal parseExtraVars().

import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeWith } from '../../support/requires.ts';
import { InventoryError, parseExtraVars } from '../../../src/inventory/index.ts';
import { parseKeyValues, splitArgs } from '../../../src/inventory/extra-vars.ts';
import { ansibleJson } from '../../../src/inventory/listing.ts';
import { ANSIBLE_CORE, exactJson, run, removeScratch } from './ansible-judge.ts';

const DIR = resolve(import.meta.dirname, '../../fixtures/inventories/extra-vars');

const TABLE: string[][] = [
  ['a=1 b=2'],
  ['msg="hello world" other=\'single quoted\''],
  ['d=e=f', 'e==x', 'f=', 'g= spaced '],
  ['path=/usr/bin/python3 flag=True n=1.5 list=[1,2]'],
  ['esc="a\\tb" nl=line1\\nline2 q=\\"quoted\\"'],
  ['a=1  b=2', 'a=3'],
  ['free words a=1'],
  ['tpl="{{ foo }}" jinja={{ a }} c={% if x %}y{% endif %}'],
  ['k\\=v=1'],
  ['{"j": [1, 2], "o": {"x": null}}'],
  ['[1, 2]'],
  ['{x: yes, y: 0755, z: 1.10}'],
  ['@vars.yml', 'version=override'],
  ['@vars.json'],
  ['@list.yml'],
  ['@empty.yml'],
  // Numbers keep every digit and their kind (issue 14): JSON, YAML, files, and key=value text.
  ['{"big": 12345678901234567890, "f": 1.0, "e": 1e3, "neg": -98765432109876543210, "l": [1E-7, 1e16]}'],
  ['{big: 12345678901234567890, f: 1.0, hex: 0xFFFFFFFFFFFFFFFFFF, s: 190:20:30:15:10:5:4, y: 1e3}'],
  ['@numbers.yml', '@numbers.json'],
  ['big=12345678901234567890 f=1.0'],
  ['./vars.yml'],
  ['unbalanced="quote'],
  ['a=1', '', 'b=2'],
  ['multi=line1\nline2 x=1'],
  ['x=\\UFFFFFFFF'],
  ['x=\\N{BULLET} y=\\u00e9'],
];

/** Where the toolkit refuses on purpose what Ansible accepts: words that are not key=value, which
 *  Ansible keeps as a variable named _raw_params that nothing reads (a setting silently lost). */
const FREE_WORDS = new Set([['d=e=f', 'e==x', 'f=', 'g= spaced '], ['free words a=1'], ['multi=line1\nline2 x=1']].map((a) => JSON.stringify(a)));
/** And a \N{NAME} escape, which Ansible reads by Python's table of Unicode names: Node has none,
 *  so it is refused rather than kept as written (the value Ansible would use is another). */
const NAMED_ESCAPES = new Set([JSON.stringify(['x=\\N{BULLET} y=\\u00e9'])]);

async function ansibleExtraVars(args: string[]): Promise<Record<string, unknown> | 'error'> {
  const r = await run('ansible-inventory', ['-i', 'h1,', '--list', ...args.flatMap((a) => ['-e', a])], DIR);
  if (r.code !== 0) return 'error';
  return (exactJson(r.stdout) as { _meta: { hostvars: Record<string, Record<string, unknown>> } })._meta.hostvars.h1 ?? {};
}

function ours(args: string[]): Record<string, unknown> | 'error' {
  try {
    return exactJson(ansibleJson(parseExtraVars(args, DIR).vars)) as Record<string, unknown>;
  } catch (e) {
    if (e instanceof InventoryError) return 'error';
    throw e;
  }
}

describe('parseExtraVars', () => {
  afterAll(removeScratch);

  it('keeps values of key=value as strings and removes surrounding quotes', () => {
    expect(parseKeyValues('a=1 b="x y" c=\'z\'')).toEqual({ a: '1', b: 'x y', c: 'z' });
    expect(splitArgs('a="b c" d={{ e f }}')).toEqual(['a="b c"', 'd={{ e f }}']);
  });

  it('names where each variable came from: an inline one by its place, never its text (a secret the run masks later, or a short one it never masks)', () => {
    const { origins } = parseExtraVars(['a=1', '@vars.yml', '{"agent_rabbitmq_password": "trento"}'], DIR);
    expect(origins.a).toBe('-e argument 1');
    expect(origins.version).toBe(`${join(DIR, 'vars.yml')}:3`);
    expect(origins.agent_rabbitmq_password).toBe('-e argument 3');
  });

  it("quotes no inline -e value in its errors (Ansible does; nothing masks a secret's letters yet)", () => {
    const secret = 'Sup3rS3cretApiKey';
    for (const arg of [`agent_web_api_key="${secret}{{ x`, `[ "${secret}" ]`, `agent_web_api_key='${secret}`]) {
      let said = '';
      try {
        parseExtraVars(['a=1', arg], DIR);
      } catch (error) {
        said = (error as Error).message;
      }
      expect(said).toMatch(/^(-e argument 2: failed at splitting extra vars|invalid extra vars data supplied: -e argument 2 could not be made)/);
      expect(said).not.toContain(secret.slice(0, 6));
    }
  });

  it('refuses words that are not key=value (YAML without braces, spaces around =), never quoting them', () => {
    const secret = 'NEWSECRETKEY77';
    for (const [arg, words] of [
      [`agent_web_api_key: ${secret}`, 2],
      [`agent_web_api_key = ${secret}`, 3],
      ['agent_web_api_key', 1],
      [`a=1 ${secret}`, 1],
    ] as const) {
      let said = '';
      try {
        parseExtraVars(['b=2', arg], DIR);
      } catch (error) {
        said = (error as Error).message;
      }
      expect(said, arg).toMatch(new RegExp(`^-e argument 2 has ${words} word\\(s\\) that are not key=value \\(not shown`));
      expect(said).not.toContain(secret.slice(0, 6));
    }
    expect(parseExtraVars(['agent_web_api_key=x', '{agent_web_api_key: y}', ''], DIR).vars).toEqual({ agent_web_api_key: 'y' });
  });

  it('-e @~/FILE and @$VAR/FILE are opened as Ansible opens them (unfrackpath: ~ and $VARS expanded)', () => {
    const fromHome = parseExtraVars(['@~/vars.yml'], '/nonexistent', [], {}, DIR).vars;
    expect(fromHome).toEqual(parseExtraVars(['@vars.yml'], DIR).vars);
    expect(parseExtraVars(['@$VARS_DIR/vars.yml'], '/nonexistent', [], { VARS_DIR: DIR }).vars).toEqual(fromHome);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal ${VAR}, as an admin writes it, is the data here
    expect(parseExtraVars(['@${VARS_DIR}/vars.yml'], '/nonexistent', [], { VARS_DIR: DIR }).vars).toEqual(fromHome);
  });

  it('an escape Ansible refuses (past U+10FFFF) or reads by a Unicode name is an error naming the argument, never a crash or the text as written', () => {
    expect(() => parseExtraVars(['a=1', 'x=\\UFFFFFFFF'], DIR)).toThrow(/^-e argument 2: a \\U escape is past the last Unicode character/);
    // (never quoting the escape: it is part of a value, maybe a password)
    expect(() => parseExtraVars(['x=pa\\N{SECRETPART}ss'], DIR)).toThrow(
      /^-e argument 1: a \\N\{NAME\} escape cannot be read here; write the character itself$/,
    );
    expect(parseExtraVars(['x=C:\\Nodes'], DIR).vars).toEqual({ x: 'C:\\Nodes' });
  });

  it('fails clearly on a file that is not a mapping', () => {
    expect(() => parseExtraVars(['@list.yml'], DIR)).toThrow(/could not be made into a dictionary/);
    expect(() => parseExtraVars(['@missing.yml'], DIR)).toThrow(/missing\.yml/);
    // Ansible keeps a bare word as _raw_params, which nothing reads: refused, naming what to write.
    expect(() => parseExtraVars(['vars.yml'], DIR)).toThrow(/^-e argument 1 has 1 word\(s\) that are not key=value .*or -e @FILE$/);
    expect(() => parseExtraVars(['./vars.yml'], DIR)).toThrow(/prepend/);
  });

  describeWith(ANSIBLE_CORE, 'matches ansible-core', () => {
    const judged = TABLE.map((args) => [args, ansibleExtraVars(args)] as const);
    it.each(judged.map(([args, p], i) => ({ i, args, p })))('-e $args', { timeout: 300_000 }, async ({ args, p }) => {
      const theirs = await p;
      if (FREE_WORDS.has(JSON.stringify(args))) {
        expect(theirs).toHaveProperty('_raw_params');
        expect(ours(args)).toBe('error');
      } else if (NAMED_ESCAPES.has(JSON.stringify(args))) {
        expect(theirs).toMatchObject({ x: '\u2022', y: 'é' });
        expect(ours(args)).toBe('error');
      } else expect(ours(args)).toEqual(theirs);
    });
  });
});
