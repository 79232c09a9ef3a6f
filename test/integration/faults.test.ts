// Faults injected for real on the lab. After each: every managed file is untouched or fully
// new, no temp file is left, the recap and exit code tell the truth, a later run converges.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LabInfo } from '../lab/inventory.ts';
import { freshLab, hostsBy, iniInventory, type LabHost, LEFTOVERS_COMMAND, mustOnHost, onHost, provision, type Report, spawnProvision } from './helpers.ts';

let info: LabInfo;
let pull: LabHost[];
let push: LabHost[];
const VARS = {
  trento_server_name: 'trento.lab.example',
  agent_web_api_key: 'fault-api-key',
  rabbitmq_password: 'rabbit',
  provision_rabbitmq: false,
  agent_prometheus_auth: 'none',
};

const statusOf = (run: Awaited<ReturnType<typeof provision>>, host: string) => run.report?.hosts.find((h) => h.host === host);

/**
 * Kills the sshd session that runs the apply script, not ours: while the apply holds the host's
 * lock (its whole run: installs, writes, restarts, checks), the session above any bash that is
 * not this command's own. Waiting for one step (zypper) instead lost the race on a loaded
 * machine: the install could end between two polls.
 */
const KILL_APPLY_SESSION =
  // No apply yet (the facts take no lock): no process has the host's lock file open. Looked at,
  // never taken: a probe holding the lock for a moment made the apply starting then find it
  // busy ("another trento-provision run is working on this host").
  "ls -l /proc/[0-9]*/fd 2>/dev/null | grep -q ' /run/trento-provision/lock$' || exit 0; " +
  'session() { p=$1; while [ "$p" -gt 1 ]; do [ "$(ps -o comm= -p $p)" = sshd ] && { echo $p; return; }; p=$(ps -o ppid= -p $p | tr -d " "); done; }; ' +
  'mine=$(session $$); for b in $(pgrep -x bash); do s=$(session $b); ' +
  'if [ -n "$s" ] && [ "$s" != "$mine" ]; then kill -9 $s && echo killed; exit 0; fi; done';

/** The host's lock (src/apply/script-lib.ts HOST_LOCK) waited for, 180 s at most: "idle" once
 *  no apply script holds it. The apply of a push host killed mid-install still waits for Alloy
 *  to be ready and deliver (up to 35 s) after its install and restarts, and longer on a busy
 *  machine: polls with a fixed count (30 s) could give up first. */
const APPLY_FINISHED = 'mkdir -p -m 0700 /run/trento-provision; timeout 180 flock /run/trento-provision/lock true 2>/dev/null && echo idle || echo busy';

/** Waits until the host's apply script (going on without its connection) has finished. */
async function untilIdle(h: LabHost) {
  const state = (await onHost(info, h.name, APPLY_FINISHED)).stdout;
  expect(state, `${h.name}: its apply script still holds the lock after 180 s`).toContain('idle');
}

async function noLeftovers(hosts: LabHost[]) {
  for (const h of hosts) expect(await mustOnHost(info, h.name, LEFTOVERS_COMMAND), `${h.name} has leftovers`).toBe('');
}

beforeAll(async () => {
  info = await freshLab();
  ({ pull, push } = hostsBy(info));
});

describe('connections', () => {
  it('a host that is down and a closed port are unreachable; the other host completes; exit 4', async () => {
    // An address on the lab's own network where no host lives.
    const ghostAddress = info.gateway.replace(/\.\d+$/, '.250');
    const ghost = { ...pull[0]!, name: 'ghost', address: ghostAddress };
    const inv = await iniInventory(info, [{ host: ghost }, { host: pull[0]!, vars: { ansible_port: '2222' } }, { host: pull[1]! }], VARS);
    // pull[0] appears twice (as itself on a closed port): give the second entry its own name.
    const run = await provision(['-i', inv, '--timeout', '15']); // long enough for the healthy host on a loaded machine; the others fail without waiting for it (refused at once, the ghost's ARP in ~3 s)
    expect(run.code, run.stdout).toBe(4);
    expect(statusOf(run, 'ghost')?.status).toBe('unreachable');
    expect(statusOf(run, 'ghost')?.message).toContain(`${ghostAddress}:22`);
    expect(statusOf(run, pull[0]!.name)?.status).toBe('unreachable');
    expect(statusOf(run, pull[0]!.name)?.message).toMatch(/:2222.*(ECONNREFUSED|refused)/);
    expect(statusOf(run, pull[1]!.name)?.status).toBe('changed');
    expect(run.stdout).toMatch(/ghost +: ok=0 +changed=0 +unreachable=1/);
  });

  it('a wrong key is an authentication failure, reported as unreachable', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-key-'));
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'k')]);
    const inv = await iniInventory(info, [{ host: pull[1]!, vars: { ansible_ssh_private_key_file: join(dir, 'k') } }], VARS);
    const run = await provision(['-i', inv]);
    expect(run.code).toBe(4);
    expect(statusOf(run, pull[1]!.name)?.message).toMatch(/authentication failed for root@/);
  });

  it('an unknown host key is refused with its fingerprint and the fix; a changed one too; the opt-out works', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-kh-'));
    const empty = join(dir, 'empty');
    writeFileSync(empty, '');
    const h = pull[1]!;
    const inv = await iniInventory(info, [{ host: h, vars: { ansible_ssh_common_args: `'-o UserKnownHostsFile=${empty}'` } }], VARS);
    const unknown = await provision(['-i', inv]);
    expect(unknown.code).toBe(4);
    expect(statusOf(unknown, h.name)?.message).toMatch(/unknown host key for 10\.\d+\.[0-9.]+: ssh-ed25519 SHA256:\S+ is not in .*ssh-keyscan/);

    const other = info.hosts.find((x) => x.name !== h.name)!;
    const otherKey = execFileSync('sh', ['-c', `grep '^${other.name},' ${info.knownHosts} | cut -d' ' -f2-`], { encoding: 'utf8' });
    const wrong = join(dir, 'wrong');
    writeFileSync(wrong, `${h.address} ${otherKey}`);
    const inv2 = await iniInventory(info, [{ host: h, vars: { ansible_ssh_common_args: `'-o UserKnownHostsFile=${wrong}'` } }], VARS);
    const changed = await provision(['-i', inv2]);
    expect(changed.code).toBe(4);
    expect(statusOf(changed, h.name)?.message).toMatch(/HOST KEY CHANGED .*ssh-keygen -R/);

    const optOut = await provision(['-i', inv, '--check'], { ANSIBLE_HOST_KEY_CHECKING: 'False' });
    expect(optOut.code, optOut.stdout).toBe(0);
  });
});

describe('faults during apply', () => {
  it('the connection dropped mid-apply: the host finishes atomically on its own, the run says so, a later run converges', async () => {
    const h = push[0]!;
    const run = spawnProvision(['--inventory', info.inventoryDir, '--limit', h.name]);
    // Wait until the apply script is running on the host (zypper is installing), then kill
    // the host's sshd session processes (not the listening sshd).
    const deadline = Date.now() + 60_000;
    let killed = false;
    while (Date.now() < deadline && !run.output().includes('CHANGED')) {
      const r = await onHost(info, h.name, KILL_APPLY_SESSION);
      killed = r.stdout.includes('killed');
      if (killed) break;
      await new Promise((r2) => setTimeout(r2, 50));
    }
    expect(killed, `never saw the apply running: ${run.output()}`).toBe(true);
    const code = await run.exited;
    expect(code, run.output()).toBe(4);
    // with the reason the master logged (its client, ssh -q, says nothing)
    expect(run.output()).toMatch(/UNREACHABLE \| connection lost during apply \(the connection closed before the script's exit status came back\)/);
    // The script goes on without its connection; give it time to finish, then look: the host got
    // there on its own (a script that died with its session would leave this to the next run).
    await untilIdle(h);
    await noLeftovers([h]);
    expect(
      await mustOnHost(
        info,
        h.name,
        'rpm -q --qf "%{NAME}\\n" alloy trento-agent; test -s /etc/alloy/trento.alloy && test -s /etc/trento/agent.yaml && echo files; systemctl is-active alloy.service trento-agent.service',
      ),
    ).toBe('alloy\ntrento-agent\nfiles\nactive\nactive\n');
    const again = await provision(['--inventory', info.inventoryDir, '--limit', h.name]);
    expect(again.code, again.stdout).toBe(0);
    const third = await provision(['--inventory', info.inventoryDir, '--limit', h.name]);
    expect(statusOf(third, h.name)?.changes).toEqual([]);
  });

  it('zypper locked by another process: waits the configured time, then a clear error; the lock holder is untouched', async () => {
    const h = pull[2]!;
    await mustOnHost(info, h.name, 'nohup sleep 120 >/dev/null 2>&1 & echo $! > /run/zypp.pid');
    const run = await provision(['--inventory', info.inventoryDir, '--limit', h.name, '--zypper-lock-timeout', '2']);
    expect(run.code).toBe(2);
    // A SLES 15 host's facts do not ask zypper (what the repositories offer decides nothing
    // there; an Alloy host's facts wait for the lock: hostile-host.test.ts): the install waits as
    // long, then the host fails with zypper's reason. (zypper exits 7 only once ZYPP_LOCK_TIMEOUT
    // has run out: the wait is zypper's own)
    expect(run.stdout).toMatch(/zypper: another process held the package lock for 2s \(exit 7\); retry when it has finished/);
    expect(run.stdout).not.toMatch(/zypper info trento-agent/);
    // the lock holder is untouched: still running (kill -0 fails otherwise), then stopped here
    await mustOnHost(info, h.name, 'kill -0 $(cat /run/zypp.pid) && kill $(cat /run/zypp.pid); rm -f /run/zypp.pid');
    await noLeftovers([h]);
  });

  it("two runs at once: a plan made before the other run's apply is not applied (the host fails saying so, nothing changed, no change claimed); the next run converges", async () => {
    // x before y in the inventory: with --serial 1, x is the first wave, y the second. (Not
    // pull[2]: the cases around this one need it as the zypper-lock case leaves it.)
    const [x, y] = [pull[0]!, pull[3]!];
    const both = ['--inventory', info.inventoryDir, '--limit', `${x.name},${y.name}`];
    expect((await provision(both)).code).toBe(0);
    // Work for both runs on y (agent.yaml changed by hand); on x, a package to install that waits
    // for zypper's lock, held here: run B's first wave stays on x while run A does all of y.
    await mustOnHost(info, y.name, "echo '# changed by hand' >> /etc/trento/agent.yaml");
    await mustOnHost(info, x.name, 'zypper -n -q rm supportutils-plugin-trento >/dev/null && { nohup sleep 120 >/dev/null 2>&1 & echo $! > /run/zypp.pid; }');
    const report = join(mkdtempSync(join(tmpdir(), 'tp-two-runs-')), 'b.json');
    let b: ReturnType<typeof spawnProvision> | undefined;
    try {
      b = spawnProvision([...both, '--serial', '1', '--zypper-lock-timeout', '90', '--json', report]);
      // B has read both hosts' facts once its apply on x waits for zypper's lock.
      await mustOnHost(
        info,
        x.name,
        'for i in $(seq 600); do pgrep -x zypper >/dev/null && exit 0; sleep 0.1; done; echo "no zypper waiting on the lock" >&2; exit 1',
      );
      expect(b.output()).toMatch(new RegExp(`WAVE \\[1/2\\]: ${x.name}$`, 'm'));
      const a = await provision(['--inventory', info.inventoryDir, '--limit', y.name]);
      expect(a.code, a.stdout).toBe(0);
      expect(statusOf(a, y.name)?.status).toBe('changed');
    } finally {
      await mustOnHost(info, x.name, 'kill $(cat /run/zypp.pid); rm -f /run/zypp.pid');
    }
    const afterA = await mustOnHost(info, y.name, 'sha256sum /etc/trento/agent.yaml');
    expect(await b!.exited, b!.output()).toBe(2);
    const hosts = (JSON.parse(readFileSync(report, 'utf8')) as Report).hosts;
    const hostReport = (h: LabHost) => {
      const r = hosts.find((r2) => r2.host === h.name);
      expect(r, `${h.name} in the report`).toBeDefined();
      return r!;
    };
    const [bx, by] = [hostReport(x), hostReport(y)];
    expect(bx.status, b!.output()).toBe('changed');
    // y: B's plan (update agent.yaml, restart the agent) came from before A's apply: not run.
    expect(by.status).toBe('failed');
    expect(by.message).toMatch(/another trento-provision run applied changes to this host after this run read its facts: nothing was changed/);
    expect(by.changes.filter((c) => c.applied)).toEqual([]);
    expect(b!.output()).not.toMatch(new RegExp(`^${y.name} \\| CHANGED`, 'm'));
    expect(await mustOnHost(info, y.name, 'sha256sum /etc/trento/agent.yaml; grep -c "changed by hand" /etc/trento/agent.yaml || true')).toBe(`${afterA}0\n`);
    const again = await provision(both);
    expect(again.code, again.stdout).toBe(0);
    for (const h of [x, y]) expect(statusOf(again, h.name)?.changes, h.name).toEqual([]);
  });

  it('a package not found (104) fails the host with what to check; a repository that fails to refresh (106) is a warning', async () => {
    const h = pull[2]!;
    await mustOnHost(info, h.name, 'zypper -q -n mr -d lab');
    const missing = await provision(['--inventory', info.inventoryDir, '--limit', h.name]);
    expect(missing.code).toBe(2);
    expect(missing.stdout).toMatch(/package not found in any enabled repository \(exit 104\)/);
    // Each package named, with what to do (the role's channel, or its switch).
    expect(missing.stdout).toMatch(/package trento-agent is in no enabled repository: enable the channel that ships Trento's agent/);
    expect(missing.stdout).toMatch(/package supportutils-plugin-trento is in no enabled repository: .*or set supportutils_enabled: false/);
    // Recorded before zypper ran, they left the record again: nothing was installed.
    expect(await mustOnHost(info, h.name, 'cat /var/lib/trento-provision/packages 2>/dev/null || true')).not.toMatch(
      /^(trento-agent|supportutils-plugin-trento)$/m,
    );
    // With no enabled repository the refresh before the support packages only warns.
    expect(statusOf(missing, h.name)?.warnings.join()).toMatch(/zypper refresh failed \(exit 6\)/);
    await mustOnHost(info, h.name, 'zypper -q -n mr -e lab && zypper -q -n ar -f file:///srv/missing-repo broken');
    const warned = await provision(['--inventory', info.inventoryDir, '--limit', h.name]);
    expect(warned.code, warned.stdout).toBe(0);
    expect(statusOf(warned, h.name)?.warnings.join()).toMatch(/could not be refreshed.*exit 106/);
    await mustOnHost(info, h.name, 'zypper -q -n rr broken');
  });

  it('disk full where agent.yaml is written: the write fails, the old file is intact, no temp file is left', async () => {
    const h = pull[3] ?? pull[0]!;
    const first = await provision(['--inventory', info.inventoryDir, '--limit', h.name]);
    expect(first.code, first.stdout).toBe(0);
    const before = await mustOnHost(info, h.name, 'sha256sum /etc/trento/agent.yaml');
    // A tiny tmpfs over /etc/trento holding the current file and nothing else to spare.
    await mustOnHost(
      info,
      h.name,
      'cp -a /etc/trento/agent.yaml /root/agent.yaml && mount -t tmpfs -o size=8k,mode=755 tmpfs /etc/trento && cp -a /root/agent.yaml /etc/trento/ && (dd if=/dev/zero of=/etc/trento/fill bs=1k count=64 2>/dev/null; true)',
    );
    const run = await provision(['--inventory', info.inventoryDir, '--limit', h.name, '-e', 'agent_log_level=debug']);
    expect(run.code).toBe(2);
    expect(run.stdout).toMatch(/cannot write \/etc\/trento\/agent.yaml .*the old file is unchanged/);
    expect(await mustOnHost(info, h.name, 'sha256sum /etc/trento/agent.yaml')).toBe(before);
    expect(await mustOnHost(info, h.name, 'ls -a /etc/trento')).toBe('.\n..\nagent.yaml\nfill\n');
    await mustOnHost(info, h.name, 'umount /etc/trento');
  });
});

describe('interrupting the orchestrator', () => {
  it('SIGINT: no new host starts, hosts in flight finish; exit 99; no partial file anywhere; a later run converges', async () => {
    await provision(['--inventory', info.inventoryDir, '--uninstall', '--purge']);
    const run = spawnProvision(['--inventory', info.inventoryDir, '--forks', '1'], (out, child) => {
      if (/CHANGED/.test(out) && !child.killed) child.kill('SIGINT');
    });
    expect(await run.exited, run.output()).toBe(99);
    expect(run.output()).toMatch(/INTERRUPTED/);
    expect(run.output()).toMatch(/SKIPPED \| not started: interrupted/);
    expect(run.output()).toMatch(/PLAY RECAP/);
    // The host in flight (the one whose change was on screen) finished its script, as the run
    // promised: DONE in this run, never cut, and converged on the host itself.
    const inFlight = /^(\S+) \| CHANGED \|/m.exec(run.output())?.[1];
    expect(inFlight, run.output()).toBeDefined();
    expect(run.output()).not.toMatch(/cut by the interrupt/);
    expect(run.output()).toMatch(new RegExp(`^${inFlight} \\| DONE \\|`, 'm'));
    expect(await mustOnHost(info, inFlight!, 'test -s /etc/trento/agent.yaml && echo agent.yaml; systemctl is-active trento-agent.service')).toBe(
      'agent.yaml\nactive\n',
    );
    await noLeftovers([...pull, ...push]);
    const again = await provision(['--inventory', info.inventoryDir]);
    expect(again.code, again.stdout).toBe(0);
  });

  it('a second SIGINT aborts at once, still without partial files', async () => {
    await provision(['--inventory', info.inventoryDir, '--uninstall', '--purge']);
    let first = false;
    let second = false;
    const run = spawnProvision(['--inventory', info.inventoryDir], (out, child) => {
      if (/CHANGED/.test(out) && !first) {
        first = true;
        child.kill('SIGINT');
      }
      // The second once the run has taken the first (a person's second Ctrl-C comes later
      // still): two sent 50 ms apart could reach a loaded machine as one, the kernel merging a
      // signal still pending into the next.
      if (first && !second && /INTERRUPTED: SIGINT: no new host/.test(out)) {
        second = true;
        child.kill('SIGINT');
      }
    });
    expect(await run.exited, run.output()).toBe(99);
    // It did not wait for the hosts in flight: some were cut mid-apply (failed, cut by the
    // interrupt, not "unreachable": they were reached).
    expect(run.output()).toMatch(/the apply was cut by the interrupt; the host goes on with its script on its own/);
    expect(run.output()).not.toMatch(/UNREACHABLE/);
    // Remote scripts finish on their own: wait for them, then look for partial files.
    for (const h of [...pull, ...push]) await untilIdle(h);
    await noLeftovers([...pull, ...push]);
    const again = await provision(['--inventory', info.inventoryDir]);
    expect(again.code, again.stdout).toBe(0);
  });
});
