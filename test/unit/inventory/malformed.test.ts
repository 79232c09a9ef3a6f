// Malformed inventories: where ansible-core fails (with INVENTORY_ANY_UNPARSED_IS_FAILED, so a
// source it cannot parse is an error rather than a warning), loadInventory fails too, with an
// InventoryError naming the file and the line (the same line Ansible names, where it names one).

import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { need } from '../../support/requires.ts';
import { InventoryError, loadInventory } from '../../../src/inventory/index.ts';
import { ANSIBLE_CORE, ansibleInventoryList, hasAnsible, removeScratch } from './ansible-judge.ts';

const MALFORMED = resolve(import.meta.dirname, '../../fixtures/inventories/malformed');

interface Case {
  name: string;
  dir: string;
  source: string;
  file: string;
  line?: number;
  message: string;
  /** A value the message must not hold (a password on the line). */
  notShown?: string;
}

const cases: Case[] = readdirSync(MALFORMED)
  .sort()
  .map((d) => ({ name: d, dir: join(MALFORMED, d), ...JSON.parse(readFileSync(join(MALFORMED, d, 'case.json'), 'utf8')) }));

async function ourError(c: Case): Promise<InventoryError> {
  try {
    await loadInventory(join(c.dir, c.source));
  } catch (e) {
    if (e instanceof InventoryError) return e;
    throw e;
  }
  throw new Error(`${c.name}: loadInventory accepted a malformed inventory`);
}

describe('malformed inventories', () => {
  afterAll(removeScratch);

  it('has a corpus', () => expect(cases.length).toBeGreaterThanOrEqual(15));

  // Start every ansible run at once (the runner limits concurrency); each test awaits its own.
  const judged = new Map(cases.map((c) => [c.name, hasAnsible ? ansibleInventoryList({ sources: [join(c.dir, c.source)] }, c.dir) : undefined]));

  describe.each(cases)('$name', (c) => {
    it('fails with the file, the line and what is wrong', async () => {
      const error = await ourError(c);
      const file = join(c.dir, c.file);
      expect(error.file).toBe(file);
      expect(error.line).toBe(c.line);
      expect(error.message.startsWith(c.line ? `${file}:${c.line}: ` : `${file}: `)).toBe(true);
      expect(error.message.toLowerCase()).toContain(c.message.toLowerCase());
      if (c.notShown) expect(error.message).not.toContain(c.notShown);
    });

    it('ansible-core fails on it too, at the same line', { timeout: 300_000 }, async (ctx) => {
      need(ctx, ANSIBLE_CORE);
      const r = (await judged.get(c.name))!;
      expect(r.code, r.stdout).not.toBe(0);
      // Ansible wraps warnings at 80 columns, even inside paths: compare without whitespace.
      const stderr = r.stderr.replace(/\s+/g, '');
      const file = join(c.dir, c.file);
      // INI errors: "path:LINE: message"; YAML errors: "... 'path': line N, column M"
      const ini = new RegExp(`${regexpEscape(file)}:(\\d+):`).exec(stderr);
      const yaml = /\.ya?ml$/.test(c.file) ? new RegExp(`${regexpEscape(file)}':line(\\d+),column`).exec(stderr) : null;
      const line = ini?.[1] ?? yaml?.[1];
      if (line !== undefined && c.line !== undefined) expect(Number(line)).toBe(c.line);
    });
  });
});

function regexpEscape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
