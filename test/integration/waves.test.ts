// Waves on the lab (--serial, --max-fail-percentage): a real failure in wave 2 stops the
// rollout, wave 1 is converged and verified, the later wave is never started and named in the
// recap and the JSON report; --check only shows the waves; Ctrl-C during a wave starts no other.
// Five lab hosts through --limit (play order = the inventory's), one lab for the whole file.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LabInfo } from '../lab/inventory.ts';
import { freshLab, hostsBy, type LabHost, mustOnHost, provision, SNAPSHOT_COMMAND, spawnProvision } from './helpers.ts';

let info: LabInfo;
let five: LabHost[];
let limit: string;

interface Rollout {
  serial: string | null;
  maxFailPercentage: number | null;
  waves: { wave: number; hosts: string[]; status: string; failed: number }[];
  stopped: { wave: number | null; reason: string } | null;
  notStarted: string[];
}
const rolloutOf = (run: Awaited<ReturnType<typeof provision>>) => (run.report as unknown as { rollout: Rollout | null } | undefined)?.rollout;
const hostOf = (run: Awaited<ReturnType<typeof provision>>, name: string) => run.report?.hosts.find((h) => h.host === name);

beforeAll(async () => {
  info = await freshLab();
  const { pull, push } = hostsBy(info);
  const supported = new Set([...pull, ...push].map((h) => h.name));
  // The first five supported hosts in the inventory's order: [a, b] [c, d] [e] with --serial 2.
  five = info.hosts.filter((h) => supported.has(h.name)).slice(0, 5);
  expect(five).toHaveLength(5);
  limit = five.map((h) => h.name).join(',');
});

describe('waves', () => {
  it('--check --serial shows which hosts go in which wave and changes nothing', async () => {
    const before = await mustOnHost(info, five[0]!.name, SNAPSHOT_COMMAND);
    const run = await provision(['--inventory', info.inventoryDir, '--limit', limit, '--check', '--serial', '2']);
    expect(run.code, run.stdout).toBe(0);
    const [a, b, c, d, e] = five.map((h) => h.name);
    expect(run.stdout).toContain(`ROLLOUT: 3 wave(s) (--serial 2)`);
    expect(run.stdout).toContain(`  wave 1/3: ${a}, ${b}\n  wave 2/3: ${c}, ${d}\n  wave 3/3: ${e}\n`);
    expect(run.stdout).not.toMatch(/WAVE \[/); // no wave is started in check mode
    expect(rolloutOf(run)).toEqual({
      serial: '2',
      maxFailPercentage: null,
      waves: [
        { wave: 1, hosts: [a, b], status: 'checked', failed: 0 },
        { wave: 2, hosts: [c, d], status: 'checked', failed: 0 },
        { wave: 3, hosts: [e], status: 'checked', failed: 0 },
      ],
      stopped: null,
      notStarted: [],
    });
    expect(await mustOnHost(info, five[0]!.name, SNAPSHOT_COMMAND)).toBe(before);
  });

  it('a host failing in wave 2 with --max-fail-percentage 0: wave 1 converged and verified, wave 3 never started', async () => {
    const [a, b, c, d, e] = five.map((h) => h.name) as [string, string, string, string, string];
    // d fails for real: no repository to install from (as in faults.test.ts).
    await mustOnHost(info, d, 'zypper -q -n mr -d lab');
    try {
      const untouched = await mustOnHost(info, e, SNAPSHOT_COMMAND);
      const run = await provision(['--inventory', info.inventoryDir, '--limit', limit, '--serial', '2', '--max-fail-percentage', '0']);
      expect(run.code, run.stdout).toBe(2);

      // The waves ran in order and the second stopped the rollout.
      const out = run.stdout;
      expect(out.indexOf(`WAVE [1/3]: ${a}, ${b}`)).toBeGreaterThan(-1);
      expect(out.indexOf(`WAVE [2/3]: ${c}, ${d}`)).toBeGreaterThan(out.indexOf('WAVE 1 done: 2 of 2 host(s) converged and verified, 0 skipped, 0 failed'));
      expect(out).not.toContain('WAVE [3/3]');
      expect(out).toContain('WAVE 2 stopped the rollout: 1 of 2 host(s) failed, more than --max-fail-percentage 0');
      expect(out).toContain(`ROLLOUT STOPPED: wave 2: 1 of 2 host(s) failed, more than --max-fail-percentage 0; later waves do not start; not started: ${e}`);
      expect(out).toContain(`${e} | SKIPPED | not started: wave 3 of 3 never started`);
      // The recap names the waves and the host never started.
      const recap = out.slice(out.indexOf('PLAY RECAP'));
      expect(recap).toMatch(new RegExp(`${d} +: .*failed=1`));
      expect(recap).toMatch(new RegExp(`${e} +: .*changed=0 .*skipped=1`));
      expect(recap).toContain(`  wave 3: not started     ${e}`);
      expect(recap).toContain(`not started (nothing changed on them): ${e}`);

      // The report: the same story, host by host.
      expect(rolloutOf(run)).toEqual({
        serial: '2',
        maxFailPercentage: 0,
        waves: [
          { wave: 1, hosts: [a, b], status: 'done', failed: 0 },
          { wave: 2, hosts: [c, d], status: 'stopped', failed: 1 },
          { wave: 3, hosts: [e], status: 'not-started', failed: 0 },
        ],
        stopped: { wave: 2, reason: 'wave 2: 1 of 2 host(s) failed, more than --max-fail-percentage 0' },
        notStarted: [e],
      });
      for (const name of [a, b, c]) {
        const h = hostOf(run, name)!;
        expect(h.status, name).toBe('changed');
        expect(h.checks.length, name).toBeGreaterThan(0);
        expect(
          h.checks.every((x) => x.ok),
          JSON.stringify(h.checks),
        ).toBe(true);
      }
      expect(hostOf(run, d)?.status).toBe('failed');
      expect(hostOf(run, e)).toMatchObject({ status: 'skipped', changes: expect.arrayContaining([expect.objectContaining({ applied: false })]) });
      expect(hostOf(run, e)?.message).toMatch(/^not started: wave 3 of 3 never started \(wave 2: .*\); nothing was changed on this host$/);
      // Wave 1 really serves: the agent runs with its configuration; wave 3 is as it was.
      for (const name of [a, b])
        expect(await mustOnHost(info, name, 'systemctl is-active trento-agent; test -s /etc/trento/agent.yaml && echo configured')).toBe(
          'active\nconfigured\n',
        );
      expect(await mustOnHost(info, e, SNAPSHOT_COMMAND)).toBe(untouched);
    } finally {
      // the repository back, whatever failed above: the later tests install from it
      await mustOnHost(info, d, 'zypper -q -n mr -e lab');
    }
  });

  it('--max-fail-percentage without --serial (one wave), --forks 1: once the first host failed no other starts (stricter than Ansible, which runs its current task on the whole batch)', async () => {
    const [a, b, c, d, e] = five.map((h) => h.name) as [string, string, string, string, string];
    // a fails for real: its agent package gone, no repository to install it again from.
    await mustOnHost(info, a, 'zypper -q -n rm trento-agent >/dev/null && zypper -q -n mr -d lab');
    try {
      const untouched = await mustOnHost(info, e, SNAPSHOT_COMMAND);
      const run = await provision(['--inventory', info.inventoryDir, '--limit', limit, '--forks', '1', '--max-fail-percentage', '0']);
      expect(run.code, run.stdout).toBe(2);
      expect(hostOf(run, a)?.status).toBe('failed');
      const reason = '1 of 5 host(s) failed, more than --max-fail-percentage 0';
      for (const name of [b, c, d, e]) {
        expect(hostOf(run, name), name).toMatchObject({
          status: 'skipped',
          message: `not started: wave 1 stopped (${reason}); nothing was changed on this host`,
        });
      }
      expect(rolloutOf(run)?.stopped).toEqual({ wave: 1, reason: `wave 1: ${reason}` });
      expect(rolloutOf(run)?.notStarted).toEqual([b, c, d, e]);
      expect(run.stdout).toContain(`ROLLOUT STOPPED: wave 1: ${reason}`);
      expect(await mustOnHost(info, e, SNAPSHOT_COMMAND)).toBe(untouched);
    } finally {
      await mustOnHost(info, a, 'zypper -q -n mr -e lab');
    }
  });

  it('Ctrl-C during a wave: its hosts finish, no later wave starts, exit 99', async () => {
    // d and e still have everything to do (d failed, e never started): one wave each.
    const [d, e] = [five[3]!.name, five[4]!.name];
    const untouched = await mustOnHost(info, e, SNAPSHOT_COMMAND);
    const run = spawnProvision(['--inventory', info.inventoryDir, '--limit', `${d},${e}`, '--serial', '1'], (out, child) => {
      if (out.includes('WAVE [1/2]') && !child.killed) child.kill('SIGINT');
    });
    expect(await run.exited, run.output()).toBe(99);
    const out = run.output();
    expect(out).toMatch(new RegExp(`${d} \\| DONE \\| \\d+ change\\(s\\) applied and verified`));
    expect(out).not.toContain('WAVE [2/2]');
    expect(out).toContain(`ROLLOUT STOPPED: wave 1: interrupted; later waves do not start; not started: ${e}`);
    expect(out).toMatch(new RegExp(`${e} \\| SKIPPED \\| not started: wave 2 of 2 never started`));
    // On the hosts: d's wave finished (its agent runs), e was never touched.
    expect(await mustOnHost(info, d, 'systemctl is-active trento-agent')).toBe('active\n');
    expect(await mustOnHost(info, e, SNAPSHOT_COMMAND)).toBe(untouched);
  });

  it('all waves: the rollout goes through and the run converges', async () => {
    const run = await provision(['--inventory', info.inventoryDir, '--limit', limit, '--serial', '40%', '--max-fail-percentage', '0']);
    expect(run.code, run.stdout).toBe(0);
    // 40% of 5 hosts: waves of 2, 2, 1.
    expect(rolloutOf(run)?.waves.map((w) => [w.hosts.length, w.status])).toEqual([
      [2, 'done'],
      [2, 'done'],
      [1, 'done'],
    ]);
    expect(rolloutOf(run)?.stopped).toBeNull();
    expect(run.report?.hosts.every((h) => h.status === 'ok' || h.status === 'changed')).toBe(true);
  });

  it('a converged host of a later wave is verified on the host at its wave, not by the facts read before the first', async () => {
    // Every host converged (the case above). a has its agent package to install again (wave 1);
    // b, converged when the facts are read, loses its agent while wave 1 runs.
    // a comes first in the play (--limit keeps the inventory's order), so it is wave 1.
    const { pull } = hostsBy(info);
    const a = five[0]!.name;
    const b = five.slice(1).find((h) => pull.includes(h))!.name;
    await mustOnHost(info, a, 'zypper -q -n rm trento-agent >/dev/null');
    let paused = false;
    let stoppedB: Promise<unknown> | undefined;
    // The run is paused (SIGSTOP) as wave 1 starts, b's agent stopped meanwhile, and the run goes on.
    const run = spawnProvision(['--inventory', info.inventoryDir, '--limit', `${a},${b}`, '--serial', '1', '-v'], (out, child) => {
      if (paused || !out.includes('WAVE [1/2]')) return;
      paused = true;
      child.kill('SIGSTOP');
      stoppedB = mustOnHost(info, b, 'systemctl stop trento-agent').finally(() => child.kill('SIGCONT'));
    });
    try {
      const code = await run.exited;
      await stoppedB;
      const out = run.output();
      expect(code, out).toBe(2);
      expect(out).toMatch(new RegExp(`${a} \\| DONE \\| \\d+ change\\(s\\) applied and verified`));
      expect(out.indexOf(`WAVE [2/2]: ${b}`)).toBeGreaterThan(out.indexOf(`${a} | DONE`));
      // -v: what a step that succeeded printed (zypper's account of the install) under it
      expect(out).toMatch(new RegExp(`${a} \\| CHANGED \\| install trento-agent\\n( {4}.*\\n)*? {4}.*Installing: trento-agent`));
      // Not "VERIFIED ... (read with the facts)": the checks ran on b at wave 2 and found the agent stopped.
      expect(out).not.toContain(`${b} | VERIFIED | trento-agent is running (read with the facts)`);
      expect(out).toContain(`${b} | FAILED | check failed: trento-agent is running`);
      expect(out.slice(out.indexOf('PLAY RECAP'))).toMatch(new RegExp(`${b} +: .*failed=1`));
    } finally {
      // b converges again (its agent started): the host as the file's other cases leave it.
      const again = await provision(['--inventory', info.inventoryDir, '--limit', `${a},${b}`]);
      expect(again.code, again.stdout).toBe(0);
    }
  });

  it("a host whose master went before its wave (ControlPersist ran out) and whose new login is refused: unreachable, 'nothing was run', not a connection lost mid-apply", async () => {
    const { pull } = hostsBy(info);
    const a = five[0]!.name;
    const b = five.slice(1).find((h) => pull.includes(h))!;
    // Both have a change to make: b's apply comes in wave 2, after its master's 1 s ControlPersist.
    for (const name of [a, b.name]) await mustOnHost(info, name, 'rm /etc/trento/agent.yaml');
    const knownHosts = join(mkdtempSync(join(tmpdir(), 'tp-waves-kh-')), 'known_hosts');
    const lines = readFileSync(info.knownHosts, 'utf8').split('\n');
    writeFileSync(knownHosts, lines.join('\n'));
    const ofB = (l: string) => l.split(' ')[0]!.split(',').includes(b.name);
    const otherKey = lines
      .find((l) => l && !ofB(l))!
      .split(' ')
      .slice(1)
      .join(' ');
    let paused = false;
    let changed: Promise<unknown> | undefined;
    const run = spawnProvision(
      [
        '--inventory',
        info.inventoryDir,
        '--limit',
        `${a},${b.name}`,
        '--serial',
        '1',
        '-e',
        `ansible_ssh_common_args='-o UserKnownHostsFile=${knownHosts} -o StrictHostKeyChecking=yes'`,
        '-e',
        "ansible_ssh_args='-C -o ControlMaster=auto -o ControlPersist=1s'",
      ],
      (out, child) => {
        if (paused || !out.includes('WAVE [1/2]')) return;
        paused = true;
        child.kill('SIGSTOP');
        // b's host key "changes" (another host's key in the run's known_hosts), and its idle master
        // has 1 s to go before the run goes on.
        writeFileSync(knownHosts, lines.map((l) => (ofB(l) ? `${l.split(' ')[0]} ${otherKey}` : l)).join('\n'));
        changed = new Promise((r) => setTimeout(r, 2500)).finally(() => child.kill('SIGCONT'));
      },
    );
    try {
      const code = await run.exited;
      await changed;
      const out = run.output();
      expect(code, out).toBe(4);
      expect(out).toMatch(new RegExp(`${a} \\| DONE \\| `));
      expect(out).toMatch(new RegExp(`${b.name} \\| UNREACHABLE \\| logging in again for the apply: HOST KEY CHANGED for .*; nothing was run on the host`));
      expect(out).not.toContain('connection lost during apply');
      // true: nothing ran on b
      expect(await mustOnHost(info, b.name, 'test -e /etc/trento/agent.yaml && echo yes || echo no')).toBe('no\n');
    } finally {
      const again = await provision(['--inventory', info.inventoryDir, '--limit', `${a},${b.name}`]);
      expect(again.code, again.stdout).toBe(0);
    }
  });
});
