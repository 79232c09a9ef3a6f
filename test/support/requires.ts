// Tests that need a tool of the machine (ansible-core, rpmbuild, root, a lab product...) say
// so here, in one place. A test must never pass by not running:
// - with CI set, a missing requirement FAILS, naming what is missing and how to get it;
// - elsewhere the tests are skipped, and the skip's name carries the reason, which
//   scripts/test.ts prints in its summary (loudly, not as a quiet "skipped" count).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, it, type TestContext } from 'vitest';
import { alloyPushProblem } from '../lab/host-python.ts';

export interface Requirement {
  /** What is needed, for people: "ansible-core (ansible-inventory)". */
  what: string;
  /** Is it there? */
  available: boolean;
  /** How to get it: "bash scripts/setup.sh". */
  fix: string;
}

const inCi = () => Boolean(process.env.CI) && process.env.CI !== 'false' && process.env.CI !== '0';

/** The prefix scripts/test.ts looks for to list skipped tests with their reason. */
export const SKIP_MARK = 'SKIPPED, missing';

/** `describe`, or (requirement missing) a failing test in CI / a skip that says why elsewhere. */
export function describeWith(requirement: Requirement, name: string, body: () => void): void {
  if (requirement.available) {
    describe(name, body);
    return;
  }
  const reason = `${requirement.what} (${requirement.fix})`;
  if (inCi()) {
    describe(name, () => {
      it(`needs ${requirement.what}`, () => {
        throw new Error(`missing requirement: ${reason}; CI never skips a test`);
      });
    });
    return;
  }
  describe.skip(`${name} [${SKIP_MARK} ${reason}]`, body);
}

/** For a requirement known only inside a test (a lab product that is not in the mix, ...):
 *  fails in CI; elsewhere marks the test skipped (vitest reports it so) with the reason. */
export function need(ctx: TestContext, requirement: Requirement): void {
  if (requirement.available) return;
  const reason = `${requirement.what} (${requirement.fix})`;
  if (inCi()) throw new Error(`missing requirement: ${reason}; CI never skips a test`);
  process.stderr.write(`\n*** ${SKIP_MARK} ${reason}: "${ctx.task.name}" did not run ***\n`);
  ctx.skip(`${SKIP_MARK} ${reason}`);
}

const runs = (cmd: string, args: string[]) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
const onPath = (tool: string) => runs('sh', ['-c', `command -v ${tool}`]);
/** SKIP_ANSIBLE_COMPAT=1 skips the comparisons with Ansible on a workstation (about a minute of
 *  ansible runs on 2 cores); with CI set they fail instead, like any missing tool. */
const ansibleOptOut = process.env.SKIP_ANSIBLE_COMPAT ? ' (SKIP_ANSIBLE_COMPAT is set)' : '';
const SETUP = 'bash scripts/setup.sh';

/** The requirements of the suite, in one place. Each is probed once, when first imported. */
export const ANSIBLE_CORE: Requirement = {
  what: `ansible-core: ansible, ansible-inventory, ansible-playbook, ansible-config, ansible-vault${ansibleOptOut}`,
  available: !ansibleOptOut && ['ansible', 'ansible-inventory', 'ansible-config'].every((tool) => runs(tool, ['--version'])),
  fix: SETUP,
};
export const ANSIBLE_PYTHON: Requirement = {
  what: `ansible-core's Python modules for /usr/bin/python3${ansibleOptOut}`,
  available: !ansibleOptOut && runs('/usr/bin/python3', ['-c', 'import ansible']),
  fix: SETUP,
};
export const REMOTE_WRITE_PYTHON: Requirement = {
  what: "Debian's python3-protobuf and python3-snappy (the lab's Alloy stand-in encodes its remote write with them)",
  available: alloyPushProblem() === null,
  fix: SETUP,
};
export const RPM_TOOLS: Requirement = {
  what: "rpmbuild, createrepo_c, rpm2cpio and Debian's node_exporter",
  available: ['rpmbuild', 'createrepo_c', 'rpm2cpio'].every(onPath) && existsSync('/usr/bin/prometheus-node-exporter'),
  fix: SETUP,
};
export const NODE_EXPORTER: Requirement = {
  what: "Debian's node_exporter (/usr/bin/prometheus-node-exporter)",
  available: existsSync('/usr/bin/prometheus-node-exporter'),
  fix: SETUP,
};
export const ROOT: Requirement = {
  what: 'root (the test switches to another user)',
  available: process.getuid?.() === 0,
  fix: 'run the tests as root, as the README says',
};
export const SCRIPT_PTY: Requirement = {
  what: "util-linux's script (a pseudo-terminal for the CLI; Debian's bsdutils, always installed)",
  available: onPath('script') && onPath('stty'),
  fix: 'apt-get install bsdutils coreutils',
};
export const KERBEROS: Requirement = {
  what: 'MIT Kerberos: krb5kdc, kdb5_util (krb5-kdc), kadmin.local (krb5-admin-server), kinit, klist (krb5-user); unshare (util-linux); root',
  available: ['krb5kdc', 'kdb5_util', 'kadmin.local', 'kinit', 'klist', 'unshare'].every(onPath) && process.getuid?.() === 0,
  fix: SETUP,
};
/** OpenSSH's software FIDO authenticator (its regression tests' middleware). */
export const SK_DUMMY = '/usr/lib/openssh/regress/misc/sk-dummy/sk-dummy.so';
export const FIDO_SOFT_KEY: Requirement = {
  what: `OpenSSH's software FIDO authenticator ${SK_DUMMY} (Debian's openssh-tests) and ssh-keygen`,
  available: existsSync(SK_DUMMY) && onPath('ssh-keygen'),
  fix: SETUP,
};
/** SoftHSM's PKCS#11 library: a token in a folder, which OpenSSH's PKCS11Provider loads as a smart card's. */
export const SOFTHSM_LIBRARY = '/usr/lib/softhsm/libsofthsm2.so';
export const SOFTHSM: Requirement = {
  what: `SoftHSM (softhsm2-util and ${SOFTHSM_LIBRARY}, Debian's softhsm2) and ssh-keygen`,
  available: existsSync(SOFTHSM_LIBRARY) && onPath('softhsm2-util') && onPath('ssh-keygen'),
  fix: SETUP,
};
export const LINK_DELAY: Requirement = {
  what: "iptables (its NFQUEUE target), python3 (test/lab/link-delay.py) and ping (iputils-ping), for the lab's --rtt",
  available: onPath('iptables') && onPath('python3') && onPath('ping'),
  fix: SETUP,
};
