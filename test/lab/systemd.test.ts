// The lab's systemctl on a real lab host, where the toolkit depends on systemd's semantics:
// Type=simple starts return at once, Restart=on-failure restarts, and a loaded unit keeps its
// definition until daemon-reload (NeedDaemonReload=yes meanwhile).
import { afterAll, describe, expect, it } from 'vitest';
import { currentLab } from './current.ts';
import { sshOk } from './ssh.ts';

const lab = currentLab();
const cfg = lab.sshConfig;
const host = lab.hosts[0]!.name;
const on = (command: string) => sshOk(cfg, host, command);
const UNITS = ['lab-dies', 'lab-flaky', 'lab-dropin'];

async function until(check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 200));
  }
}

const show = (unit: string, props: string) => on(`systemctl show ${unit} -p ${props}`);

afterAll(async () => {
  await on(
    `systemctl disable --now ${UNITS.join(' ')} 2>/dev/null; rm -rf ${UNITS.map((u) => `/etc/systemd/system/${u}.service*`).join(' ')} /root/lab-ran; systemctl daemon-reload`,
  );
});

describe('lab systemctl on a host', () => {
  it('Type=simple: start returns 0 for a service that dies 0.4 s later; the unit is failed afterwards', async () => {
    await on(`printf '[Service]\\nExecStart=/bin/sh -c "sleep 0.4; exit 4"\\n' > /etc/systemd/system/lab-dies.service`);
    expect(await on('systemctl start lab-dies; echo rc=$?')).toBe('rc=0\n');
    await until(async () => (await on('systemctl is-active lab-dies || true')) === 'failed\n');
    expect(await show('lab-dies', 'ActiveState,Result')).toBe('ActiveState=failed\nResult=exit-code\n');
  });

  it('Restart=on-failure: a crashed service comes back with a new main PID, NRestarts counts it', async () => {
    await on(
      `rm -f /root/lab-ran; printf '[Service]\\nExecStart=/bin/sh -c "if [ -e /root/lab-ran ]; then exec sleep 600; fi; echo \\$\\$ > /root/lab-ran; sleep 0.3; exit 1"\\nRestart=on-failure\\nRestartSec=0.5\\n' > /etc/systemd/system/lab-flaky.service`,
    );
    await on('systemctl start lab-flaky');
    await until(async () => (await show('lab-flaky', 'NRestarts')) === 'NRestarts=1\n');
    await until(async () => (await on('systemctl is-active lab-flaky || true')) === 'active\n');
    const first = (await on('cat /root/lab-ran')).trim(); // the crashed run's pid, from itself
    const second = await show('lab-flaky', 'MainPID');
    expect(second).not.toBe(`MainPID=${first}\n`);
    expect(second).not.toBe('MainPID=0\n');
    // The new main process is the service's, and runs.
    expect(await on(`cat /proc/${second.trim().split('=')[1]}/cmdline | tr '\\0' ' '`)).toMatch(/^sleep 600 $/);
  });

  it('a drop-in for a loaded unit is not used before daemon-reload; NeedDaemonReload says so until then', async () => {
    await on(
      `printf '[Service]\\nExecStart=/bin/sh -c "echo vendor > /run/lab-dropin; exec sleep 600"\\n[Install]\\nWantedBy=multi-user.target\\n' > /etc/systemd/system/lab-dropin.service`,
    );
    await on('systemctl daemon-reload && systemctl enable --now lab-dropin');
    await until(async () => (await on('cat /run/lab-dropin 2>/dev/null || true')) === 'vendor\n');
    expect(await show('lab-dropin', 'NeedDaemonReload')).toBe('NeedDaemonReload=no\n');
    await on(
      `mkdir -p /etc/systemd/system/lab-dropin.service.d && printf '[Service]\\nExecStart=\\nExecStart=/bin/sh -c "echo dropin > /run/lab-dropin; exec sleep 600"\\n' > /etc/systemd/system/lab-dropin.service.d/50-tp.conf`,
    );
    expect(await show('lab-dropin', 'NeedDaemonReload')).toBe('NeedDaemonReload=yes\n');
    const warned = await on('rm -f /run/lab-dropin; systemctl restart lab-dropin 2>&1');
    expect(warned).toContain("Run 'systemctl daemon-reload' to reload units.");
    await until(async () => (await on('cat /run/lab-dropin 2>/dev/null || true')) === 'vendor\n');
    await on('systemctl daemon-reload');
    expect(await show('lab-dropin', 'NeedDaemonReload')).toBe('NeedDaemonReload=no\n');
    await on('rm -f /run/lab-dropin; systemctl restart lab-dropin');
    await until(async () => (await on('cat /run/lab-dropin 2>/dev/null || true')) === 'dropin\n');
  });
});
