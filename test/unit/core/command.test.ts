import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { data, MASK, secret, sh, shellQuote, toDisplay, toShell } from '../../../src/exec/command.ts';

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

  it('masks secrets and file contents when shown, never when run', () => {
    const c = sh`curl -u ${secret('s3cr3t')} --data ${data('payload', '7 bytes')}`;
    expect(toDisplay(c)).toBe(`curl -u ${MASK} --data <7 bytes>`);
    expect(toDisplay(c)).not.toContain('s3cr3t');
    expect(toShell(c)).toContain('s3cr3t');
  });
});
