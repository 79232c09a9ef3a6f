// The bench's preflight (bench/preflight.ts): a tool that cannot run the reference playbook is
// skipped with the reason, never timed. ansible-doc (part of ansible-core) exits 0 and prints {}
// for a module it does not know: that must read as missing.
import { expect, it } from 'vitest';
import { ansibleProblem } from '../../../bench/preflight.ts';
import { ANSIBLE_CORE, describeWith } from '../../support/requires.ts';

describeWith(ANSIBLE_CORE, "the bench's Ansible preflight", () => {
  it('a module ansible-core has is found; one no collection has is named as missing', () => {
    expect(ansibleProblem('ansible.builtin.command')).toBeNull();
    expect(ansibleProblem('community.general.no_such_module_here')).toBe(
      "bench/ansible/site.yml needs community.general.no_such_module_here, which this machine's Ansible lacks (Debian's ansible bundle has it: bash bench/setup.sh)",
    );
  });
});
