// The drop-in's ExecStartPre: configure-alloy.sh regenerates trento.alloy with the agent's own
// `generate alloy` when the agent starts. Same content: nothing happens. Drifted content: it is
// replaced atomically (0640 alloy:alloy) and Alloy reloads. Broken output: the file is kept.
import { beforeAll, describe, expect, it } from 'vitest';
import type { LabInfo } from '../lab/inventory.ts';
import { freshLab, hostsBy, type LabHost, mustOnHost, provision, restartUnit } from './helpers.ts';

let info: LabInfo;
let h: LabHost;
const reloads = async () =>
  Number(await mustOnHost(info, h.name, `curl -s 127.0.0.1:12345/-/lab/config | python3 -c 'import json,sys; print(json.load(sys.stdin)["reloads"])'`));

beforeAll(async () => {
  info = await freshLab();
  h = hostsBy(info).push[0]!;
  const run = await provision(['--inventory', info.inventoryDir, '--limit', h.name]);
  expect(run.code, run.stdout).toBe(0);
});

describe('configure-alloy.sh (ExecStartPre of trento-agent on SLES 16)', () => {
  it('leaves an up-to-date trento.alloy alone: no write, no reload', async () => {
    const before = await reloads();
    const sum = await mustOnHost(info, h.name, 'sha256sum /etc/alloy/trento.alloy');
    await mustOnHost(info, h.name, '/usr/share/trento/configure-alloy.sh 2>/dev/null');
    expect(await mustOnHost(info, h.name, 'sha256sum /etc/alloy/trento.alloy')).toBe(sum);
    expect(await reloads()).toBe(before);
  });

  it('after a start that was cut short (its staging folder left): the file current, Alloy is reloaded all the same', async () => {
    // A start killed after its rename may never have reloaded Alloy (the stage is in /etc, the
    // nearest root-only folder above Alloy's).
    const before = await reloads();
    await mustOnHost(info, h.name, 'mkdir -m 0700 /etc/.tp-agent-stage.cut123');
    const out = await mustOnHost(info, h.name, '/usr/share/trento/configure-alloy.sh 2>&1');
    expect(out).toContain('configure-alloy: /etc/alloy/trento.alloy is current; Alloy reloaded (an earlier start was cut short)');
    expect(await reloads()).toBe(before + 1);
    expect(await mustOnHost(info, h.name, 'ls -a /etc | grep -c "^\\.tp-agent-stage" || true')).toBe('0\n');
    // and the next start is quiet again
    await mustOnHost(info, h.name, '/usr/share/trento/configure-alloy.sh 2>/dev/null');
    expect(await reloads()).toBe(before + 1);
  });

  it("replaces a drifted trento.alloy with the agent's own output and reloads Alloy", async () => {
    const before = await reloads();
    const sum = await mustOnHost(info, h.name, 'sha256sum /etc/alloy/trento.alloy');
    await mustOnHost(info, h.name, 'sed -i \'s/scrape_interval = "[^"]*"/scrape_interval = "59s"/\' /etc/alloy/trento.alloy');
    await mustOnHost(info, h.name, restartUnit('trento-agent'));
    expect(await mustOnHost(info, h.name, 'sha256sum /etc/alloy/trento.alloy')).toBe(sum);
    expect(await mustOnHost(info, h.name, 'stat -c "%a %U:%G" /etc/alloy/trento.alloy; ls -a /etc/alloy | grep -c "^\\.tp-" || true')).toBe(
      '640 alloy:alloy\n0\n',
    );
    expect(await reloads()).toBe(before + 1);
  });

  it('the drop-in put back without a daemon-reload (NeedDaemonReload): the run reloads systemd and restarts the agent, then is quiet', async () => {
    const dropIn = '/etc/systemd/system/trento-agent.service.d/trento-provision.conf';
    await mustOnHost(
      info,
      h.name,
      `cp -p ${dropIn} /root/dropin && sed -i '/ExecStartPre/d' ${dropIn} && systemctl daemon-reload && cp -p /root/dropin ${dropIn}`,
    );
    expect(await mustOnHost(info, h.name, 'systemctl show -p NeedDaemonReload trento-agent.service')).toBe('NeedDaemonReload=yes\n');
    const run = await provision(['--inventory', info.inventoryDir, '--limit', h.name]);
    expect(run.code, run.stdout).toBe(0);
    expect(run.stdout).toMatch(/trento-agent\.service's unit files changed on disk since systemd read them \(NeedDaemonReload\)/);
    expect(await mustOnHost(info, h.name, 'systemctl show -p NeedDaemonReload trento-agent.service; systemctl is-active trento-agent')).toBe(
      'NeedDaemonReload=no\nactive\n',
    );
    const again = await provision(['--inventory', info.inventoryDir, '--limit', h.name]);
    // nothing more to do (its checks may take a second round trip while the restarted agent settles)
    expect(again.stdout).toMatch(new RegExp(`${h.name} \\| OK \\| up to date`));
    expect(again.stdout).toMatch(new RegExp(`${h.name} +: ok=\\d+ +changed=0 `));
  });

  it('keeps the current file when generate alloy prints nothing, and the agent still starts', async () => {
    const sum = await mustOnHost(info, h.name, 'sha256sum /etc/alloy/trento.alloy');
    // An agent whose generate prints nothing (a broken agent.yaml for generate, say).
    await mustOnHost(
      info,
      h.name,
      'cp /usr/bin/trento-agent /root/ta && printf "#!/bin/sh\\n[ \\"\\$1\\" = generate ] && exit 0\\nexec /root/ta \\"\\$@\\"\\n" > /usr/bin/trento-agent',
    );
    const out = await mustOnHost(info, h.name, '/usr/share/trento/configure-alloy.sh 2>&1; echo rc=$?');
    expect(out).toMatch(/printed nothing; keeping \/etc\/alloy\/trento.alloy\nrc=1/);
    await mustOnHost(info, h.name, `${restartUnit('trento-agent')} && systemctl is-active trento-agent`);
    expect(await mustOnHost(info, h.name, 'sha256sum /etc/alloy/trento.alloy')).toBe(sum);
    await mustOnHost(info, h.name, 'cp /root/ta /usr/bin/trento-agent');
  });

  it('a file Alloy refuses to load (a CA path missing on this host: validate builds no component) is put back as it was, Alloy reloads it, and the agent still starts', async () => {
    const sum = await mustOnHost(info, h.name, 'sha256sum /etc/alloy/trento.alloy');
    // The scrape interval Alloy runs (the lab Alloy's view of its graph) and the one on disk.
    const running = async () =>
      mustOnHost(
        info,
        h.name,
        `curl -s 127.0.0.1:12345/-/lab/config/blocks | python3 -c 'import json,sys; print(*[b["attrs"]["scrape_interval"] for b in json.load(sys.stdin) if b["name"] == "prometheus.scrape" and b["label"] == "trento_system"])'`,
      );
    const onDisk = async () => mustOnHost(info, h.name, `sed -n 's/^ *scrape_interval *= *"\\(.*\\)"$/\\1/p' /etc/alloy/trento.alloy`);
    expect(await running()).toBe(await onDisk());
    // agent.yaml asks for a CA file this host does not have: `generate alloy` writes its ca_file,
    // `alloy validate` passes it, Alloy's reload refuses it (prometheus/common reads the file then).
    // And another scrape interval: Alloy (1.9) installs the new graph on such a refusal all the
    // same, the component it could not build on its old arguments, the scrape on its new ones,
    // so the script must reload the file it put back.
    await mustOnHost(
      info,
      h.name,
      "cp -p /etc/trento/agent.yaml /root/agent.yaml && printf 'prometheus-tls-ca-cert: /etc/pki/trento/missing.pem\\nprometheus-scrape-interval: 47s\\n' >> /etc/trento/agent.yaml",
    );
    try {
      const out = await mustOnHost(info, h.name, '/usr/share/trento/configure-alloy.sh 2>&1; echo rc=$?');
      expect(out).toMatch(
        /configure-alloy: Alloy refused the new \/etc\/alloy\/trento\.alloy \(HTTP 400 .*\); the previous file is back and Alloy reloaded\nrc=1/,
      );
      expect(await mustOnHost(info, h.name, 'sha256sum /etc/alloy/trento.alloy')).toBe(sum);
      expect(await mustOnHost(info, h.name, 'stat -c "%a %U:%G" /etc/alloy/trento.alloy; ls -a /etc /etc/alloy | grep -c "^\\.tp-" || true')).toBe(
        '640 alloy:alloy\n0\n',
      );
      // what Alloy runs is what is on disk again (not the refused file's 47s)
      expect(await running()).toBe(await onDisk());
      expect(await onDisk()).not.toBe('47s\n');
      // as the agent's ExecStartPre (its "-" prefix): the agent starts all the same
      await mustOnHost(info, h.name, `${restartUnit('trento-agent')} && systemctl is-active trento-agent`);
      expect(await mustOnHost(info, h.name, 'sha256sum /etc/alloy/trento.alloy')).toBe(sum);
    } finally {
      await mustOnHost(info, h.name, `cp -p /root/agent.yaml /etc/trento/agent.yaml && ${restartUnit('trento-agent')}`);
    }
  });
  it("when Alloy refuses the folder without the new file too (an admin's *.alloy broken, not reloaded), the script puts the file back and says so, never advising a restart that would stop every pipeline", async () => {
    const sum = await mustOnHost(info, h.name, 'sha256sum /etc/alloy/trento.alloy');
    // An admin's pipeline written without a reload, with an error only Alloy's evaluation finds
    // (two auth methods: `alloy validate` passes it), and a drifted agent.yaml.
    await mustOnHost(
      info,
      h.name,
      `printf 'prometheus.remote_write "admin" {\\n  endpoint {\\n    url          = "https://metrics.example.com/api/v1/write"\\n    bearer_token = "admin-token"\\n\\n    basic_auth {\\n      username = "a"\\n      password = "b"\\n    }\\n  }\\n}\\n' > /etc/alloy/admin.alloy && chown root:alloy /etc/alloy/admin.alloy && chmod 0640 /etc/alloy/admin.alloy && cp -p /etc/trento/agent.yaml /root/agent.yaml && echo 'prometheus-scrape-interval: 41s' >> /etc/trento/agent.yaml`,
    );
    try {
      const out = await mustOnHost(info, h.name, '/usr/share/trento/configure-alloy.sh 2>&1; echo rc=$?');
      expect(out).toMatch(
        /and refuses the folder without it too \(HTTP 400\): another file in \/etc\/alloy is wrong .*; the previous file is back; do not restart Alloy before that file is fixed/,
      );
      expect(out).toMatch(/rc=1\n$/);
      expect(out).not.toMatch(/systemctl restart/);
      expect(await mustOnHost(info, h.name, 'sha256sum /etc/alloy/trento.alloy')).toBe(sum);
    } finally {
      await mustOnHost(
        info,
        h.name,
        `rm -f /etc/alloy/admin.alloy && cp -p /root/agent.yaml /etc/trento/agent.yaml && curl -sf -X POST 127.0.0.1:12345/-/reload >/dev/null && ${restartUnit('trento-agent')}`,
      );
    }
  });
});
