// --playbook-dir: ansible-playbook reads group_vars/ and host_vars/ beside its playbook, above the
// inventory's. Read when named; said when the admin runs from such a folder without naming it (an
// agent_* value there would otherwise not apply, without a word). The compiled CLI, for real.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../lab/paths.ts';
import { cliEntry } from '../../support/compiled-cli.ts';

const { INIT_CWD: _npmFolder, ...env } = process.env;
const syntaxCheck = (cwd: string, inventory: string, ...args: string[]) =>
  spawnSync(process.execPath, [cliEntry('provision'), '-i', inventory, '-e', 'agent_web_api_key=abcdefgh12345678', '--syntax-check', ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...env, CI: 'true' },
  });

describe('group_vars beside the playbook (--playbook-dir)', () => {
  it('read with --playbook-dir, above the inventory; without it, a folder holding them is named with what to do; an inventory folder is not', () => {
    const site = mkdtempSync(join(tmpdir(), 'tp-playbook-dir-'));
    const inventory = join(site, 'inventory');
    cpSync(join(repoRoot, 'inventories', 'example'), inventory, { recursive: true });
    mkdirSync(join(site, 'group_vars'));
    writeFileSync(join(site, 'group_vars', 'agents.yml'), 'agent_log_level: chatty\n');

    const unnamed = syntaxCheck(site, inventory);
    expect(unnamed.status, unnamed.stdout + unnamed.stderr).toBe(0);
    expect(unnamed.stderr).toContain(
      `[WARNING]: ${join(site, 'group_vars')} is not read: this folder holds no inventory of this run, and ansible-playbook would read it beside its playbook; pass --playbook-dir ${site} to read it as Ansible does`,
    );

    const named = syntaxCheck(site, inventory, '--playbook-dir', '.');
    expect(named.status).toBe(1);
    expect(named.stdout).toContain(`agent_log_level (from ${join(site, 'group_vars', 'agents.yml')}:1): invalid value: chatty`);
    expect(named.stderr).not.toContain('is not read');

    // The inventory's own group_vars, from its folder: read as the inventory's, nothing to say.
    mkdirSync(join(inventory, 'group_vars'));
    writeFileSync(join(inventory, 'group_vars', 'agents.yml'), 'agent_log_level: debug\n');
    const own = syntaxCheck(inventory, '.');
    expect(own.status, own.stdout + own.stderr).toBe(0);
    expect(own.stderr).not.toContain('is not read');

    const missing = syntaxCheck(site, inventory, '--playbook-dir', 'nowhere');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain(`ERROR! --playbook-dir nowhere: ${join(site, 'nowhere')} is not a folder`);
  });
});
