import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toShell } from '../../../src/exec/command.ts';
import { wrapScript } from '../../../src/exec/session.ts';
import { parseFacts, parseOsRelease } from '../../../src/facts/parse.ts';
import { factsScript } from '../../../src/facts/script.ts';

describe('facts', () => {
  it('the facts script runs on a real system and parses back', () => {
    const out = execFileSync('/bin/bash', ['-s'], { input: wrapScript(toShell(factsScript(true))), encoding: 'utf8' });
    const facts = parseFacts(out);
    expect(facts.osRelease.ID).toBeTruthy();
    expect(facts.uid).toBe(process.getuid!());
    expect(facts.tools.has('base64')).toBe(true);
    expect(facts.files['/etc/trento/agent.yaml']).toBeDefined();
  });

  it('parses os-release quoting like the shell', () => {
    expect(parseOsRelease('# c\nID="sles"\nNAME=\'x y\'\nVERSION_ID=16.0\nA="q\\"x"\n')).toEqual({
      ID: 'sles',
      NAME: 'x y',
      VERSION_ID: '16.0',
      A: 'q"x',
    });
  });

  it('keeps file contents byte-exact, trailing newlines included', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-facts-'));
    const path = join(dir, 'f');
    writeFileSync(path, 'a\n\n', { mode: 0o640 });
    const script = `emit() { printf '%s\\t%s\\n' "$1" "$(printf '%s' "$2" | base64 -w0)"; }
emit "file:${path}" "$(stat -c '%U %G %a %F' ${path}) $(sha256sum ${path} | cut -d' ' -f1)"
emit "content:${path}" "$(cat ${path}; echo x)"
emit done yes`;
    const facts = parseFacts(execFileSync('/bin/bash', ['-c', script], { encoding: 'utf8' }));
    expect(facts.files[path]).toMatchObject({ exists: true, mode: '640', type: 'regular file', content: 'a\n\n' });
    expect(facts.files[path]!.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses output that was cut short', () => {
    expect(() => parseFacts('os-release\tSUQ9c2xlcw==\n')).toThrow(/did not finish/);
  });
});

describe('unit states', () => {
  it('reads one systemctl show for several units, missing ones as not-found', async () => {
    const { parseUnits } = await import('../../../src/facts/parse.ts');
    expect(parseUnits('Id=a.service\nActiveState=active\nUnitFileState=enabled\n\nUnitFileState=\nId=b.service\nActiveState=inactive\n')).toEqual({
      'a.service': { active: true, enabled: 'enabled' },
      'b.service': { active: false, enabled: 'not-found' },
    });
  });
});
