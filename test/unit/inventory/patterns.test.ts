// Pattern details not covered by the ansible comparison table.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InventoryError, limitHosts, loadInventory, matchHosts, selectHosts, splitHostPattern } from '../../../src/inventory/index.ts';

const LIMIT_FIXTURE = resolve(import.meta.dirname, '../../fixtures/inventories/valid/limit-file');

describe('host patterns', () => {
  it('splits like Ansible: commas, else colons outside brackets, IPv6 and ranges kept whole', () => {
    expect(splitHostPattern('a,b[1], c[2:3] , d')).toEqual(['a', 'b[1]', 'c[2:3]', 'd']);
    expect(splitHostPattern('web:&db:!web1')).toEqual(['web', '&db', '!web1']);
    expect(splitHostPattern('web[1:3]')).toEqual(['web[1:3]']);
    expect(splitHostPattern('2001:db8::1')).toEqual(['2001:db8::1']);
    expect(splitHostPattern('host:22')).toEqual(['host:22']);
    // Ansible drops an unbalanced bracket and matches what is left ('~' then matches every host):
    // refused, so a limit meant for one host never selects the fleet.
    for (const bad of ['~[bad', '~sles[2', 'agents[0:', 'web]1', 'a:b[1']) expect(() => splitHostPattern(bad), bad).toThrow(/unbalanced '[[\]]'/);
  });

  it('reads @file limits relative to cwd, one pattern per line', async () => {
    const inv = await loadInventory(join(LIMIT_FIXTURE, 'hosts'));
    expect(limitHosts(inv, '@limit.txt', 'all', { cwd: LIMIT_FIXTURE }).hosts).toEqual(['web2', 'web5', 'db1', 'db2', 'db3']);
    expect(() => limitHosts(inv, '@nope.txt', 'all', { cwd: LIMIT_FIXTURE })).toThrow(InventoryError);
    expect(() => limitHosts(inv, '@.', 'all', { cwd: LIMIT_FIXTURE })).toThrow(/must be a file/);
  });

  it('keeps the play order under --limit and reports patterns that match nothing', async () => {
    const inv = await loadInventory(join(LIMIT_FIXTURE, 'hosts'));
    expect(selectHosts(inv, 'db1,web1')).toEqual(['db1', 'web1']);
    expect(limitHosts(inv, 'db1,web1').hosts).toEqual(['web1', 'db1']);
    expect(matchHosts(inv, 'web1,nosuch').warnings).toEqual(['Could not match supplied host pattern, ignoring: nosuch']);
    expect(limitHosts(inv, undefined, 'db').hosts).toEqual(['db1', 'db2', 'db3']);
  });

  it("reads a ~regex with Python's spellings (ansible-core matches with Python's re): (?i) and other leading flags, (?P<name>...), (?P=name)", async () => {
    const inv = await loadInventory(join(LIMIT_FIXTURE, 'hosts'));
    expect(selectHosts(inv, '~(?i)WEB[12]$')).toEqual(['web1', 'web2']);
    expect(selectHosts(inv, '~(?P<kind>db)(?P<n>[13])')).toEqual(['db1', 'db3']);
    expect(selectHosts(inv, '~(?P<c>w)e(?P=c)?b1')).toEqual(['web1']);
    expect(() => selectHosts(inv, '~(unclosed')).toThrow(/invalid host list pattern/);
    // A '~' with nothing after it (Ansible: an empty regex, every host) is refused, as a limit too.
    expect(() => selectHosts(inv, 'web1,~')).toThrow(/'~' has no regular expression after it/);
    expect(() => limitHosts(inv, '~', 'all')).toThrow(/would match every host/);
  });

  it('an exclusion with a subscript whose base matches nothing (!web0[1:2], meant as web01 and web02) is refused: it would exclude nothing; a plain one that matches nothing is warned about, as in Ansible, or an error with host_pattern_mismatch = error', async () => {
    const inv = await loadInventory(join(LIMIT_FIXTURE, 'hosts'));
    expect(() => limitHosts(inv, 'all:!web0[1:2]')).toThrow(
      /the pattern !web0\[1:2\] excludes nothing: web0 matches no host or group, and \[1:2\] is a subscript/,
    );
    expect(limitHosts(inv, 'all:!db[0:1]').hosts).not.toContain('db1'); // a group's subscript excludes its hosts
    // a group that exists but has no hosts: nothing to exclude, rightly; not refused
    const dir = mkdtempSync(join(tmpdir(), 'tp-patterns-'));
    writeFileSync(join(dir, 'hosts'), '[empty]\n[web]\nweb1\n');
    expect(limitHosts(await loadInventory(join(dir, 'hosts')), 'all:!empty[0]').hosts).toEqual(['web1']);
    const typo = limitHosts(inv, 'all:!wbe1');
    expect(typo.hosts).toContain('web1');
    expect(typo.warnings).toEqual(['Could not match supplied host pattern, ignoring: wbe1']);
    expect(() => limitHosts(inv, 'all:!wbe1', 'all', { hostPatternMismatch: 'error' })).toThrow(/^Could not match supplied host pattern, ignoring: wbe1$/);
    expect(limitHosts(inv, 'all:!wbe1', 'all', { hostPatternMismatch: 'ignore' }).warnings).toEqual([]);
  });

  it('explains an out-of-range subscript', async () => {
    const inv = await loadInventory(join(LIMIT_FIXTURE, 'hosts'));
    expect(() => selectHosts(inv, 'db[3]')).toThrow(/db\[3\].*3 host/);
  });
});
