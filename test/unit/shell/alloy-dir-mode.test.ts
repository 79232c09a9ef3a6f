// Alloy's directory mode on the host (tp_alloy_dir_mode, src/apply/alloy.sh) against what the
// plan shows for it (dirModeText, roles/alloy/tasks/main.ts): the same edit for every form of
// /etc/sysconfig/alloy, the folder as the facts compute it (an empty CONFIG_FILE means Alloy's
// default folder, not "./"), and uninstall's restore putting the old line back.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dirModeText } from '../../../roles/alloy/tasks/main.ts';
import { scriptLibrary } from '../../../src/apply/script-lib.ts';
import { toShell } from '../../../src/exec/command.ts';
import { wrapScript } from '../../../src/exec/session.ts';

const scratch = mkdtempSync(join(tmpdir(), 'tp-alloy-dir-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const library = toShell(scriptLibrary({ zyppLockTimeoutSeconds: 5 }));

function run(body: string): { code: number | null; stderr: string } {
  const r = spawnSync('/bin/bash', ['-c', wrapScript(`${library}\nTP_STATE_DIR=${join(scratch, 'state')}\n${body}`)], { encoding: 'utf8' });
  return { code: r.status, stderr: r.stderr };
}

const CASES: Array<{ name: string; sysconfig: string; folder: string; restored?: string }> = [
  { name: 'the package default', sysconfig: 'CUSTOM_ARGS=""\nCONFIG_FILE="/etc/alloy/config.alloy"\n', folder: '/etc/alloy' },
  { name: 'a file elsewhere, unquoted', sysconfig: '# site\nCONFIG_FILE=/srv/alloy/main.alloy\nX=1\n', folder: '/srv/alloy' },
  { name: 'an empty CONFIG_FILE (Alloy default folder)', sysconfig: 'CONFIG_FILE=""\n', folder: '/etc/alloy' },
  { name: 'no CONFIG_FILE line (added, as lineinfile does)', sysconfig: 'CUSTOM_ARGS=""', folder: '/etc/alloy', restored: 'CUSTOM_ARGS=""\n' },
  { name: 'a quoted file with a blank after it, CRLF line endings', sysconfig: 'X=1\r\nCONFIG_FILE="/srv/alloy/main.alloy" \r\n', folder: '/srv/alloy' },
  // awk ends every line it prints: the plan's text gets the final newline the host's edit adds
  {
    name: 'the line last, without a final newline',
    sysconfig: 'X=1\nCONFIG_FILE="/etc/alloy/config.alloy"',
    folder: '/etc/alloy',
    restored: 'X=1\nCONFIG_FILE="/etc/alloy/config.alloy"\n',
  },
  { name: 'blanks around the key', sysconfig: 'CONFIG_FILE = /srv/alloy/main.alloy\n', folder: '/srv/alloy' },
  // only the last line is the one systemd uses: the others are the admin's, left as they are
  {
    name: 'two CONFIG_FILE lines (a site override after the default)',
    sysconfig: 'CONFIG_FILE="/etc/alloy/config.alloy"\n# site\nCONFIG_FILE="/srv/alloy/main.alloy"\nX=1\n',
    folder: '/srv/alloy',
  },
  // \ " ` $ are escapes inside systemd's "...": the folder is written with them escaped
  { name: 'a folder whose name needs escapes', sysconfig: "CONFIG_FILE='/srv/a\\b\"c`$d/main.alloy'\n", folder: '/srv/a\\b"c`$d' },
];

describe('Alloy directory mode: the host makes the edit the plan shows, and uninstall undoes it', () => {
  it('without /etc/sysconfig/alloy (Alloy not installed): says so and what to do, changes nothing', () => {
    const missing = join(scratch, 'no-such-sysconfig');
    const r = run(`mkdir -p -m 0700 "$TP_STATE_DIR" && tp_alloy_dir_mode ${missing} ${join(scratch, 'state', 'saved')}`);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toBe(
      `${missing} does not exist: Alloy is not installed (with agent_install_monitoring_dep: false the toolkit leaves installing it to you); install the alloy package and run again\n`,
    );
  });

  it('an edit whose awk fails (the sysconfig unreadable midway, memory) fails and writes nothing: never a cut file', () => {
    const sysconfig = join(scratch, 'alloy-awk');
    const text = 'CUSTOM_ARGS=""\nCONFIG_FILE="/etc/alloy/config.alloy"\n';
    writeFileSync(sysconfig, text);
    rmSync(join(scratch, 'state'), { recursive: true, force: true });
    // awk fails only where it makes the new text (TP_LINE set for it), as a killed or starved awk would
    const failing = 'awk() { if [ -n "${TP_LINE+x}" ]; then return 2; fi; command awk "$@"; }';
    const r = run(
      `${failing}; mkdir -p -m 0700 "$TP_STATE_DIR" && tp_alloy_dir_mode ${sysconfig} ${join(scratch, 'state', 'saved')} ${join(scratch, 'state', 'ours')}`,
    );
    expect(r.code).not.toBe(0);
    expect(readFileSync(sysconfig, 'utf8')).toBe(text);
  });

  for (const c of CASES) {
    it(c.name, () => {
      const sysconfig = join(scratch, 'alloy');
      const saved = join(scratch, 'state', 'alloy-CONFIG_FILE.orig');
      const ours = join(scratch, 'state', 'alloy-CONFIG_FILE.ours');
      rmSync(join(scratch, 'state'), { recursive: true, force: true });
      writeFileSync(sysconfig, c.sysconfig);
      const on = run(`mkdir -p -m 0700 "$TP_STATE_DIR" && tp_alloy_dir_mode ${sysconfig} ${saved} ${ours}`);
      expect(on.stderr).toBe('');
      expect(on.code).toBe(0);
      const edited = readFileSync(sysconfig, 'utf8');
      expect(edited).toBe(dirModeText(c.sysconfig, c.folder));
      expect(edited).toContain(`CONFIG_FILE="${c.folder.replace(/[\\"`$]/g, '\\$&')}/"`);
      // the facts read the folder back from the edited file as Alloy will use it
      const back = spawnSync('/bin/bash', ['-c', `${library}\ntp_read_config_file ${sysconfig}; echo "$TP_REPLY"`], { encoding: 'utf8' });
      expect(back.stdout).toBe(`${c.folder}/\n`);
      // the line it wrote, recorded for the restore
      expect(readFileSync(ours, 'utf8')).toBe(`CONFIG_FILE="${c.folder.replace(/[\\"`$]/g, '\\$&')}/"\n`);
      const off = run(`tp_alloy_restore_config_file ${sysconfig} ${saved} ${ours}`);
      expect(off.stderr).toBe('');
      expect(off.code).toBe(0);
      expect(readFileSync(sysconfig, 'utf8')).toBe(c.restored ?? c.sysconfig);
      // kept until Alloy is proven on the restored line (the plan's retire step forgets them)
      expect(existsSync(saved) && existsSync(ours)).toBe(true);
    });
  }

  it("a saved line kept from an earlier switch gives way to the line the admin set since; the toolkit's own line never replaces it", () => {
    const sysconfig = join(scratch, 'alloy');
    const saved = join(scratch, 'state', 'alloy-CONFIG_FILE.orig');
    const ours = join(scratch, 'state', 'alloy-CONFIG_FILE.ours');
    rmSync(join(scratch, 'state'), { recursive: true, force: true });
    writeFileSync(sysconfig, 'CONFIG_FILE="/etc/alloy/config.alloy"\n');
    const dirMode = () => run(`mkdir -p -m 0700 "$TP_STATE_DIR" && tp_alloy_dir_mode ${sysconfig} ${saved} ${ours}`);
    expect(dirMode().code).toBe(0);
    expect(readFileSync(saved, 'utf8')).toBe('CONFIG_FILE="/etc/alloy/config.alloy"\n');
    // The records stayed (an uninstall held back), and the admin set a single file of their own.
    writeFileSync(sysconfig, 'CONFIG_FILE="/srv/alloy/main.alloy"\n');
    expect(dirMode().code).toBe(0);
    expect(readFileSync(saved, 'utf8')).toBe('CONFIG_FILE="/srv/alloy/main.alloy"\n');
    expect(readFileSync(sysconfig, 'utf8')).toBe('CONFIG_FILE="/srv/alloy/"\n');
  });

  it('uninstall leaves a CONFIG_FILE the admin set since the switch, says so, and forgets both records', () => {
    const sysconfig = join(scratch, 'alloy');
    const saved = join(scratch, 'state', 'alloy-CONFIG_FILE.orig');
    const ours = join(scratch, 'state', 'alloy-CONFIG_FILE.ours');
    rmSync(join(scratch, 'state'), { recursive: true, force: true });
    writeFileSync(sysconfig, 'CONFIG_FILE="/etc/alloy/config.alloy"\n');
    expect(run(`mkdir -p -m 0700 "$TP_STATE_DIR" && tp_alloy_dir_mode ${sysconfig} ${saved} ${ours}`).code).toBe(0);
    writeFileSync(sysconfig, 'CONFIG_FILE="/srv/pipelines/"\n');
    const off = run(`tp_alloy_restore_config_file ${sysconfig} ${saved} ${ours}`);
    expect(off.code).toBe(0);
    expect(readFileSync(sysconfig, 'utf8')).toBe('CONFIG_FILE="/srv/pipelines/"\n');
    expect(existsSync(saved) || existsSync(ours)).toBe(false);
  });
});
