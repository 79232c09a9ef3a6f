// loadInventory beyond what ansible-inventory --list shows: origins, groups per host, group
// metadata, vaulted values and files, run order, host lists.

import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InventoryError, loadInventory, VaultedValue } from '../../../src/inventory/index.ts';

const FIXTURES = resolve(import.meta.dirname, '../../fixtures/inventories');
const valid = (name: string, file = ''): string => join(FIXTURES, 'valid', name, file);

describe('a file with a shebang', () => {
  it('executable: refused as a dynamic inventory script (Ansible would run it); not executable: read as INI, the line a comment', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-shebang-'));
    const file = join(dir, 'hosts');
    writeFileSync(file, '#!/usr/bin/env python3\n[hana]\nvmhana01\n', { mode: 0o755 });
    await expect(loadInventory(file)).rejects.toThrow(/dynamic inventory scripts are not supported/);
    chmodSync(file, 0o644);
    expect([...(await loadInventory(file)).hosts.keys()]).toEqual(['vmhana01']);
  });
});

describe('loadInventory', () => {
  it('names the file and line of every winning value (origins)', async () => {
    const inv = await loadInventory(valid('ini-basic', 'hosts'));
    const web1 = inv.hosts.get('web1')!;
    expect(web1.vars.http_port).toBe(8080);
    expect(web1.origins.http_port).toBe(`${valid('ini-basic', 'hosts')}:6`);
    // [production:vars] beats [all:vars]
    expect(web1.vars.env).toBe('production');
    expect(web1.origins.env).toBe(`${valid('ini-basic', 'hosts')}:19`);
    expect(web1.origins.ansible_user).toBe(`${valid('ini-basic', 'hosts')}:23`);
    // host:port sets ansible_port from the host line
    const db1 = inv.hosts.get('db1')!;
    expect(db1.vars.ansible_port).toBe(2222);
  });

  it('points origins at group_vars/host_vars files and their lines', async () => {
    const inv = await loadInventory(valid('vars-files', 'hosts'));
    const web1 = inv.hosts.get('web1')!;
    expect(web1.vars.source).toBe('host_vars_web1');
    expect(web1.origins.source).toBe(`${valid('vars-files', 'host_vars/web1.yml')}:2`);
    expect(web1.origins.web_list).toBe(`${valid('vars-files', 'group_vars/web/10-main.yml')}:2`);
    expect(web1.origins.all_file_only).toBe(`${valid('vars-files', 'group_vars/all.yml')}:3`);
    const db1 = inv.hosts.get('db1')!;
    expect(db1.vars.db_port).toBe(5432);
    expect(db1.origins.db_port).toBe(`${valid('vars-files', 'group_vars/db.json')}:1`);
    // a port given as host:port in YAML
    const port = await loadInventory(valid('yaml-host-port', 'hosts.yml'));
    expect(port.hosts.get('web2.example.com')!.origins.ansible_port).toBe(`${valid('yaml-host-port', 'hosts.yml')}:3`);
  });

  it("lists each host's groups, all first, then in precedence order", async () => {
    const inv = await loadInventory(valid('yaml-depth', 'hosts.yaml'));
    expect(inv.hosts.get('h1')!.groups).toEqual(['all', 'alpha', 'grandparent', 'zeta', 'parent', 'child']);
    expect(inv.hosts.get('h1')!.vars.level).toBe('child');
    expect(inv.hosts.get('h1')!.vars.tie).toBe('zeta');
    const prio = await loadInventory(valid('yaml-priority', 'hosts.yml'));
    expect(prio.groups.get('low')!.priority).toBe(10);
    expect(prio.groups.get('prio_child')!.priority).toBe(-5);
    expect(prio.groups.get('prio_child')!.depth).toBe(2);
    // ansible_group_priority is the group's priority, not a variable
    expect(prio.groups.get('low')!.vars).not.toHaveProperty('ansible_group_priority');
    expect(prio.hosts.get('h1')!.vars.who).toBe('prio_child');
  });

  it('describes groups: hosts, children, parents, own vars with group_vars files over them', async () => {
    const inv = await loadInventory(valid('ini-children', 'hosts'));
    const europe = inv.groups.get('europe')!;
    expect(europe.children).toEqual(['france', 'germany']);
    expect(europe.parents).toEqual(['world']);
    expect(europe.vars).toEqual({ continent: 'europe', timezone_hint: 'CET' });
    expect(inv.groups.get('world')!.parents).toEqual(['all']);
    const files = await loadInventory(valid('vars-files', 'hosts'));
    expect(files.groups.get('db')!.vars.source).toBe('group_vars_db_json');
    expect(files.groups.get('db')!.vars.db_inventory_only).toBe(1);
  });

  it('keeps !vault values opaque and prints them like ansible-inventory', async () => {
    const inv = await loadInventory(valid('yaml-types', 'hosts.yml'));
    const key = inv.hosts.get('vaulted')!.vars.agent_web_api_key;
    expect(key).toBeInstanceOf(VaultedValue);
    const vaulted = key as VaultedValue;
    expect(vaulted.ciphertext.startsWith('$ANSIBLE_VAULT;1.1;AES256\n')).toBe(true);
    expect(vaulted.origin).toMatch(/hosts\.yml:\d+$/);
    expect(String(vaulted)).not.toContain('ANSIBLE_VAULT');
    expect(JSON.parse(JSON.stringify(vaulted))).toEqual({ __ansible_vault: vaulted.ciphertext });
  });

  it('reports a vault-encrypted vars file instead of failing', async () => {
    const dir = join(FIXTURES, 'unit', 'vaulted-file');
    const inv = await loadInventory(join(dir, 'hosts'));
    expect(inv.encryptedFiles).toEqual([join(dir, 'group_vars/agents.yml')]);
    expect(inv.warnings.join('\n')).toContain('encrypted with Ansible Vault');
    expect(inv.hosts.get('sap01')!.vars).toEqual({ ansible_host: '192.0.2.1', plain: 1 });
  });

  it('orders hosts as Ansible runs them (the all pattern)', async () => {
    const inv = await loadInventory(valid('ini-basic', 'hosts'));
    expect([...inv.hosts.keys()]).toEqual(['loose1', 'web1', 'web2', 'loose2', 'db1', 'db2']);
    expect(inv.hostDeclarationOrder).toEqual(['loose1', 'loose2', 'web1', 'web2', 'db1', 'db2']);
  });

  it('accepts several sources and comma-separated host lists', async () => {
    const inv = await loadInventory(['web1,web2:2222,', valid('ini-basic', 'hosts')]);
    expect(inv.hosts.get('web2')!.vars.ansible_port).toBe(2222);
    expect(inv.hosts.has('db1')).toBe(true);
    expect(inv.sources[0]).toBe('web1,web2:2222,');
  });

  it('resolves relative paths against cwd', async () => {
    const inv = await loadInventory('hosts', { cwd: valid('ini-basic') });
    expect(inv.sources).toEqual([valid('ini-basic', 'hosts')]);
  });

  it('fails on a folder without any inventory', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'empty-inventory-'));
    await expect(loadInventory(empty)).rejects.toThrow(/no inventory was found/);
    await expect(loadInventory(join(empty, 'missing'))).rejects.toThrow(InventoryError);
  });
});

describe('!unsafe on a mapping of the inventory itself', () => {
  it('is an error naming the file and the line (Ansible would empty what is nested in it); on a value it is read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-unsafe-structure-'));
    const file = join(dir, 'hosts.yml');
    writeFileSync(file, 'all:\n  hosts:\n    db1:\n  vars: !unsafe\n    pw: "{{ x }}"\n');
    await expect(loadInventory(file)).rejects.toThrow(
      `${file}:4: a !unsafe tag on a mapping of the inventory itself (hosts, vars, children or a vars file); put !unsafe on each value instead`,
    );
    writeFileSync(file, 'all:\n  hosts:\n    db1:\n  vars:\n    pw: !unsafe "{{ x }}"\n');
    expect(String((await loadInventory(file)).hosts.get('db1')!.vars.pw)).toBe('{{ x }}');
    // The `hosts: NAME` shorthand with a tagged name is that host (ansible-inventory --list
    // then prints the name itself as {"__ansible_unsafe": "web1"}: a listing quirk not copied).
    writeFileSync(file, 'web:\n  hosts: !unsafe web1\n');
    expect([...(await loadInventory(file)).hosts.keys()]).toEqual(['web1']);
  });
});

describe('an INI file with bytes that are not UTF-8', () => {
  it('in a comment line: read, as Ansible reads it (Latin-1 comments); in a host or a value: refused, naming the line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-latin1-'));
    const file = join(dir, 'hosts');
    writeFileSync(file, Buffer.from('# base de donn\xe9es\n[db]\ndb1 note=caf\xe9\n', 'latin1'));
    await expect(loadInventory(file)).rejects.toThrow(
      `${file}:3: is not valid UTF-8 (a byte that is not text, outside a comment line); save the file as UTF-8`,
    );
    writeFileSync(file, Buffer.from('# base de donn\xe9es\n[db]\ndb1 note=cafe\n', 'latin1'));
    expect((await loadInventory(file)).hosts.get('db1')!.vars.note).toBe('cafe');
  });
});

describe('errors about an inventory line never quote its values (a password there is not known as one yet)', () => {
  /** Each text, written to `file`, is refused with an error matching its pattern, never showing `secret`. */
  async function expectRefusedUnquoted(file: string, cases: [string, RegExp][], secret: RegExp): Promise<void> {
    for (const [text, expected] of cases) {
      writeFileSync(file, text);
      const error = await loadInventory(file).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(error, text).toBeInstanceOf(InventoryError);
      expect(error!.message, text).toMatch(expected);
      expect(error!.message, text).not.toMatch(secret);
    }
  }

  it('a broken quote, a word without =, a YAML-style line in [vars], an unreadable value: the file, the line and the name only', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-ini-secret-'));
    const file = join(dir, 'hosts');
    const cases: [string, RegExp][] = [
      ["[agents]\nh1 ansible_become_password='Summer's Secret 2024'\n", /:2: error parsing the host definition of h1: .*the values are not shown/],
      [
        '[agents]\nh1 ansible_become_password=Summer Secret2024\n',
        /:2: expected key=value host variable assignments after h1, got a word without '=' \(word 3 of the line/,
      ],
      [
        '[agents]\nh1\n[agents:vars]\nrabbitmq_password: MySecretPass123\n',
        /:4: expected name=value, got a line without '='.*looks like YAML's "rabbitmq_password: value"/,
      ],
      ['[agents]\nh1\n[agents:vars]\nrabbitmq_password={[1]: 2, "Secret": 3}\n', /:4: cannot read the value of rabbitmq_password: unhashable type/],
    ];
    await expectRefusedUnquoted(file, cases, /Secret/);
  });

  it('YAML: a password read as a tag or an alias (unquoted, starting with ! or *; the text of a vault-encrypted file is read by the same code) and an INI-style host line: the file, the line, what to do', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-yaml-secret-'));
    const file = join(dir, 'hosts.yml');
    const host = (vars: string) => `all:\n  hosts:\n    db1:\n${vars}`;
    const cases: [string, RegExp][] = [
      [
        host('      ansible_password: !K3yS3cretValue99\n'),
        /:4: could not determine a constructor for a tag: an unquoted value starting with '!' is read as a YAML tag \(not shown/,
      ],
      [
        host('      ansible_password: *Pa55wordS3cret\n'),
        /:4: found an undefined alias: an unquoted value starting with '\*' is read as a YAML alias \(not shown.*quote the value/,
      ],
      [host('      ansible_password: !S3cret!JJ\n'), /:4: YAML syntax error: a tag that cannot be read: /],
      [host('      ansible_password: !S3cret%zzOO\n'), /:4: YAML syntax error: a tag that cannot be read: /],
      [host('      ansible_password: !!S3cretFF\n'), /:4: could not determine a constructor for a tag: /],
      [host('      pw: !S3cret [1]\n'), /:4: could not determine a constructor for the tag on a list \(not shown/],
      // (the `hosts: NAME` shorthand, with INI's variables after the name: Ansible takes the whole line as the name)
      [
        'all:\n  children:\n    hana:\n      hosts: hana01 ansible_host=127.0.0.1 ansible_password=S3cretHostName\n',
        /:4: a host name with blanks in it \(not shown/,
      ],
    ];
    await expectRefusedUnquoted(file, cases, /S3cret/);
  });
});

describe('as Ansible reads them (found by a review against ansible-inventory)', () => {
  it('ansible_group_priority=2.5 is int()ed to 2; a second -i folder with nothing to read is a warning, not silence', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-priority-'));
    writeFileSync(join(dir, 'hosts'), '[a]\nh1\n[b]\nh1\n[a:vars]\nansible_group_priority=2.5\nx=from-a\n[b:vars]\nansible_group_priority=1\nx=from-b\n');
    const empty = mkdtempSync(join(tmpdir(), 'tp-empty-source-'));
    const inv = await loadInventory([join(dir, 'hosts'), empty]);
    // Priority 2 beats 1: a's value wins although b sorts after it.
    expect(inv.hosts.get('h1')!.vars.x).toBe('from-a');
    expect(inv.warnings).toContain(`${empty}: no inventory was found there (no file Ansible would read); it adds no host`);
  });
});
