// The probe `lab up` asks before starting SLES 16 hosts: null where the Alloy stand-in's modules
// import, the missing module named where they do not (a python3 that lacks them is made here:
// this machine's python3 with an isolated, empty module path).
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { alloyPushProblem } from '../../lab/host-python.ts';
import { describeWith, REMOTE_WRITE_PYTHON } from '../../support/requires.ts';

describeWith(REMOTE_WRITE_PYTHON, "the lab's check of the Alloy stand-in's Python modules", () => {
  const dir = mkdtempSync(join(tmpdir(), 'host-python-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("passes with this machine's python3", () => {
    expect(alloyPushProblem()).toBeNull();
  });

  it('names what is missing, for which python, and how to install it', () => {
    // -S: no site-packages (Debian's dist-packages), where python3-snappy and -protobuf live
    const bare = join(dir, 'python3');
    writeFileSync(bare, '#!/bin/sh\nexec /usr/bin/python3 -S "$@"\n');
    chmodSync(bare, 0o755);
    const problem = alloyPushProblem(bare);
    expect(problem).toContain(`python3-protobuf or python3-snappy is missing for ${bare}`);
    expect(problem).toMatch(/No module named '(snappy|google)'/);
    expect(problem).toContain('bash scripts/setup.sh');
  });

  it('says so when the python cannot start at all', () => {
    expect(alloyPushProblem(join(dir, 'no-such-python'))).toContain('ENOENT');
  });
});
