import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { data, sh, shellQuote, toDisplay, toShell } from '../../../src/exec/command.ts';

const echoBack = (script: string) => execFileSync('/bin/bash', ['-c', script], { encoding: 'utf8' });

describe('command parts', () => {
  it.each(["it's", 'a b', '$(touch /tmp/pwned)', '`id`', 'x;y', 'new\nline', '', '\\', '"q"', '*'])(
    'quotes %j so the shell sees it as one literal word',
    (value) => {
      expect(echoBack(toShell(sh`printf '%s' ${value}`))).toBe(value);
    },
  );

  it('leaves plain words readable', () => {
    expect(shellQuote('/etc/trento/agent.yaml')).toBe('/etc/trento/agent.yaml');
  });

  // Secrets are not a part kind: none belongs on a command line, and what is shown goes through
  // the run's one SecretSet (test/unit/core/output.test.ts).
  it('shows file contents by their label, never when run', () => {
    const c = sh`printf %s ${data('s3cr3t-payload', '14 bytes')} > f`;
    expect(toDisplay(c)).toBe('printf %s <14 bytes> > f');
    expect(toDisplay(c)).not.toContain('s3cr3t');
    expect(toShell(c)).toContain('s3cr3t');
  });
});
