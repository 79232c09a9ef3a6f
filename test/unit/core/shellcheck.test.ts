// The shell that runs on hosts is checked by shellcheck, as the host gets it: each program with
// its generated prelude and the shared functions (src/shell/safe-files.sh) in place.
import { spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';
import { applyScript } from '../../../src/apply/script.ts';
import { toShell } from '../../../src/exec/command.ts';
import { factsScript } from '../../../src/facts/script.ts';
import { configureAlloyScript } from '../../../roles/trento_agent/tasks/main.ts';
import { describeWith } from '../../support/requires.ts';
import { HANDLER_ORDER, type HostPlan } from '../../../src/plan/types.ts';
import { sh } from '../../../src/exec/command.ts';
import { check } from '../../../src/plan/checks.ts';

const SHELLCHECK = { what: 'shellcheck', available: spawnSync('shellcheck', ['--version'], { stdio: 'ignore' }).status === 0, fix: 'bash scripts/setup.sh' };

function shellcheck(text: string): string {
  const r = spawnSync('shellcheck', ['--shell=bash', '--format=gcc', '-'], { input: text, encoding: 'utf8' });
  return r.stdout + r.stderr;
}

/** A plan with one step of every kind the library offers, so the whole library is exercised. */
const plan: HostPlan = {
  host: 'h',
  changes: [
    {
      id: 'file:/etc/trento/agent.yaml',
      kind: 'file',
      summary: 'x',
      script: sh`tp_write /etc/trento/agent.yaml root root 0600 ${'eA=='}`,
      notify: ['restart trento-agent'],
    },
    { id: 'service:old.service', kind: 'service', summary: 'stop old.service', script: sh`systemctl stop old.service`, phase: 'retire' },
  ],
  handlers: HANDLER_ORDER.map((name) => ({ name, summary: name, script: sh`tp_alloy_apply reload present /etc/alloy/trento.alloy` })),
  checks: [check('node_exporter serves /metrics', false, sh`tp_node_exporter_serves`)],
  retiredChecks: [check('old.service is stopped', false, sh`eval ${'! systemctl is-active --quiet old.service'}`)],
  refusals: [],
  warnings: [],
  basedOn: '',
};

describeWith(SHELLCHECK, 'shellcheck', () => {
  it.each([
    ['the facts script', () => toShell(factsScript({ withContent: true, zyppLockTimeoutSeconds: 60 }))],
    ['an apply script', () => `#!/bin/bash\n${toShell(applyScript(plan, { zyppLockTimeoutSeconds: 60 }))}`],
    ['configure-alloy.sh as installed', () => configureAlloyScript()],
  ])('%s has no warning', (_name, text) => {
    expect(shellcheck(text())).toBe('');
  });
});
