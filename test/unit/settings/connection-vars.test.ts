// Connection variables pointing at other variables, as Ansible inventories write them: the
// connection must get the values, never the Jinja text (a password "{{ vault_sudo_password }}"
// sent to sudo literally).
import { describe, expect, it } from 'vitest';
import { templatedConnectionVars } from '../../../src/settings/connection-vars.ts';
import { loadRoleDefaults } from '../../../src/settings/defaults.ts';

const defaults = loadRoleDefaults();

describe('templated connection variables', () => {
  it('ansible_* values with Jinja are evaluated against the host variables; the others stay as they are', () => {
    const vars = {
      ansible_become_password: '{{ vault_sudo_password }}',
      ansible_user: "{{ admin_user | default('root') }}",
      ansible_port: 2222,
      ansible_host: '10.0.0.5',
      vault_sudo_password: 's3cret-from-vault',
      agent_web_api_key: '{{ not_a_connection_variable }}',
    };
    const { vars: out, problems } = templatedConnectionVars('db1', vars, { ansible_become_password: 'group_vars/all.yml:3' }, defaults);
    expect(problems).toEqual([]);
    expect(out).toEqual({ ...vars, ansible_become_password: 's3cret-from-vault', ansible_user: 'root' });
    expect(vars.ansible_become_password).toBe('{{ vault_sudo_password }}'); // the inventory's copy is untouched
  });

  it("Ansible's inventory_hostname and inventory_hostname_short can be used", () => {
    const { vars: out, problems } = templatedConnectionVars(
      'vmhana01.sap.corp',
      { ansible_host: '{{ inventory_hostname_short }}.mgmt.corp', ansible_ssh_common_args: '-o HostKeyAlias={{ inventory_hostname }}' },
      {},
      defaults,
    );
    expect(problems).toEqual([]);
    expect(out).toEqual({ ansible_host: 'vmhana01.mgmt.corp', ansible_ssh_common_args: '-o HostKeyAlias=vmhana01.sap.corp' });
  });

  it('Jinja that gives an empty value is set empty, as a plain "" is (Ansible accepts both): \'{{ jump | default("") }}\'', () => {
    const { vars: out, problems } = templatedConnectionVars('db1', { ansible_ssh_extra_args: "{{ jump | default('') }}" }, {}, defaults);
    expect(problems).toEqual([]);
    expect(out).toEqual({ ansible_ssh_extra_args: '' });
    const set = templatedConnectionVars('db1', { ansible_ssh_extra_args: "{{ jump | default('') }}", jump: '-J bastion' }, {}, defaults);
    expect(set.vars.ansible_ssh_extra_args).toBe('-J bastion');
  });

  it('a reference to a variable the host does not have is a problem naming the variable and where it was set', () => {
    const { vars: out, problems } = templatedConnectionVars(
      'db1',
      { ansible_password: '{{ missing_pw }}' },
      { ansible_password: 'host_vars/db1.yml:2' },
      defaults,
    );
    expect(out.ansible_password).toBeUndefined();
    expect(problems).toEqual([
      {
        variable: 'ansible_password',
        origin: 'host_vars/db1.yml:2',
        message: expect.stringContaining('is undefined here: its Jinja names missing_pw, which this host does not have'),
      },
    ]);
    const unsupported = templatedConnectionVars('db1', { ansible_user: '{{ lookup("env", "USER") }}' }, {}, defaults);
    expect(unsupported.problems).toEqual([expect.objectContaining({ variable: 'ansible_user', message: expect.stringMatching(/cannot evaluate/) })]);
    // A password pointing at a variable whose Jinja fails: that one named, its words hidden.
    const inner = templatedConnectionVars('db1', { ansible_become_password: '{{ vault_sudo }}', vault_sudo: 'ab{{c|S3cr3tPart}}' }, {}, defaults);
    expect(inner.problems.map((p) => p.message)).toEqual([
      'is undefined here: vault_sudo, which it names, cannot evaluate its Jinja (the reason is not shown: it would quote part of a secret). Put the plain value instead, or mark it !unsafe.',
    ]);
    // A password's Jinja error quotes none of its words.
    const secret = templatedConnectionVars('db1', { ansible_become_password: 'Pw{{ S3cr3tPart | h4x }}end' }, {}, defaults);
    expect(secret.problems.map((p) => p.message)).toEqual([
      'cannot evaluate its Jinja (the reason is not shown: it would quote part of a secret). Put the plain value instead, or mark it !unsafe.',
    ]);
  });

  it('a problem never shows the value: it may hold the password (review finding: a raw block with an unsupported filter after it)', () => {
    const value = '{% raw %}Pa{{ss-Secret9{% endraw %}{{ pw_suffix | b64decode }}';
    const failing = templatedConnectionVars('db1', { ansible_become_password: value, pw_suffix: 'eA==' }, {}, defaults);
    expect(failing.problems).toEqual([
      expect.objectContaining({
        variable: 'ansible_become_password',
        message: expect.stringContaining('the reason is not shown: it would quote part of a secret'),
      }),
    ]);
    const missing = templatedConnectionVars('db1', { ansible_become_password: '{% raw %}Pa{{ss-Secret9{% endraw %}{{ nope }}' }, {}, defaults);
    expect(missing.problems).toHaveLength(1);
    expect(JSON.stringify([failing.problems, missing.problems])).not.toContain('Secret9');
    // Nor a piece of it quoted by the Jinja error (review finding).
    for (const [value, piece] of [
      ['Zq7{{x!Hunter2}}', 'Hunter2'],
      ["{{ 'S3cr3t!' ~ }}", 'S3cr3t'],
      ["{{ 'S3cr3t!' 'more' }}", 'S3cr3t'],
    ] as const) {
      const { problems } = templatedConnectionVars('db1', { ansible_become_password: value, x: 1 }, {}, defaults);
      expect(problems, value).toHaveLength(1);
      expect(JSON.stringify(problems)).not.toContain(piece);
    }
  });
});
