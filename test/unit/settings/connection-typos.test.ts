// ansible_* variables one or two letters off one the toolkit reads: warned about, naming the one
// meant; Ansible's other variables and names far from any are the inventory's own business.
import { describe, expect, it } from 'vitest';
import { connectionVariableTypos } from '../../../src/settings/connection-typos.ts';

describe('connection variable typos', () => {
  it('names the variable meant, where the typo was written, and never its value', () => {
    const warnings = connectionVariableTypos(
      { ansible_usr: 'root', ansible_become_pasword: 'S3cretBecomePw', ansible_sshh_common_args: '-o X=1' },
      { ansible_usr: 'hosts.yml:8', ansible_become_pasword: 'group_vars/all.yml:2' },
    );
    expect(warnings).toEqual([
      'ansible_usr (hosts.yml:8) is no variable Ansible or trento-provision reads, so it changes nothing: did you mean ansible_user?',
      'ansible_become_pasword (group_vars/all.yml:2) is no variable Ansible or trento-provision reads, so it changes nothing: did you mean ansible_become_password?',
      'ansible_sshh_common_args (inventory) is no variable Ansible or trento-provision reads, so it changes nothing: did you mean ansible_ssh_common_args?',
    ]);
    expect(warnings.join('\n')).not.toContain('S3cret');
  });

  it('leaves alone what the toolkit reads, what Ansible reads and the toolkit does not, and names far from any', () => {
    const vars = {
      ansible_user: 'root',
      ansible_ssh_pass: 'x',
      ansible_paramiko_host_key_checking: false,
      ansible_python_interpreter: '/usr/bin/python3',
      ansible_remote_tmp: '/tmp',
      ansible_site_rack: 'r12',
      // Ansible's other become plugins' and paramiko's own: theirs, not typos of sudo's or ssh's
      ansible_dzdo_user: 'root',
      ansible_ksu_user: 'root',
      ansible_su_pass: 'x',
      ansible_paramiko_port: 22,
      agent_web_api_kye: 'not this check',
    };
    expect(connectionVariableTypos(vars, {})).toEqual([]);
  });
});
