// What the bench needs beyond the project's set-up, checked before it measures anything: a run
// whose tool cannot work must be skipped with the reason, never timed (a playbook that fails at
// once would look like a very fast Ansible).
import { spawnSync } from 'node:child_process';
import { commandVersion } from './lib.ts';

/** Why ansible-playbook cannot run the reference playbook here, or null: it needs
 *  community.general (zypper), which Debian's ansible bundle carries and ansible-core does not.
 *  Without this check a playbook that fails at once would be timed as a very fast Ansible. */
export function ansibleProblem(module = 'community.general.zypper'): string | null {
  if (!commandVersion('ansible-playbook', ['--version'])) return 'ansible-playbook not installed (bash bench/setup.sh)';
  // ansible-doc exits 0 for a module it cannot find; with -j it then prints {}.
  const r = spawnSync('ansible-doc', ['-t', 'module', '-j', module], { encoding: 'utf8', env: { ...process.env, ANSIBLE_NOCOLOR: '1' } });
  if (r.status === 0 && r.stdout.includes(`"${module}"`)) return null;
  return `bench/ansible/site.yml needs ${module}, which this machine's Ansible lacks (Debian's ansible bundle has it: bash bench/setup.sh)`;
}

export function mitogenProblem(): string | null {
  // The python ansible-playbook runs with (Debian's), not whatever python3 is first on PATH.
  const r = spawnSync('/usr/bin/python3', ['-c', 'import ansible_mitogen.plugins.strategy.mitogen_linear'], { encoding: 'utf8' });
  if (r.status === 0) return null;
  return `ansible_mitogen not importable (apt-get install ansible-mitogen): ${r.stderr.trim().split('\n').pop()}`;
}
