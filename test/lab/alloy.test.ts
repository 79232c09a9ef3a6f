// The Alloy stand-in inside a host, where the toolkit depends on it (docs/contracts.md):
// driven over SSH, talking to it with curl inside the host on 127.0.0.1:12345.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentLab } from './current.ts';
import { ssh, sshOk } from './ssh.ts';

const lab = currentLab();
const cfg = lab.sshConfig;
const host = (lab.hosts.find((h) => h.product === 'sles-sap-16.0') ?? lab.hosts.find((h) => h.product === 'sles-16.0'))!;
const D = '/tmp/lab-alloy-test';
const URL = 'http://127.0.0.1:12345';
const run = (cmd: string) => sshOk(cfg, host.name, cmd);

/** HTTP status and body of a request made inside the host. */
async function curl(method: 'GET' | 'POST', path: string): Promise<{ status: number; body: string }> {
  const out = await run(`curl -s -X ${method} -w '\\n%{http_code}' ${URL}${path}`);
  const i = out.lastIndexOf('\n');
  return { status: Number(out.slice(i + 1)), body: out.slice(0, i) };
}

async function labConfig(): Promise<{ files: string[]; components: string[]; reloads: number; lastError: string | null; uid: number }> {
  const r = await curl('GET', '/-/lab/config');
  expect(r.status).toBe(200);
  return JSON.parse(r.body);
}

beforeAll(async () => {
  expect(host, 'the lab needs a SLES 16 host').toBeDefined();
  const busy = await run('ss -Hltn "sport = :12345" | wc -l');
  expect(busy.trim(), `${host.name}: something already listens on 127.0.0.1:12345 (alloy.service from another test?)`).toBe('0');
  await run(
    `rpm -q --quiet alloy || zypper --non-interactive install alloy >/dev/null; ` +
      `rm -rf ${D}; mkdir -p ${D}/conf.d/sub ${D}/data; chown alloy:alloy ${D}/data; ` +
      `printf 'logging {\\n  level = "info"\\n}\\n' > ${D}/conf.d/a.alloy; ` +
      `printf 'prometheus.exporter.unix "node" {\\n}\\n' > ${D}/conf.d/b.alloy; ` +
      // Neither a subfolder nor another extension is loaded (both would be invalid if they were).
      `printf 'prometheus.exporter.unix "node" {\\n}\\n' > ${D}/conf.d/sub/c.alloy; ` +
      `printf 'this is { not alloy\\n' > ${D}/conf.d/notes.txt; ` +
      `chmod -R a+rX ${D}/conf.d; ` +
      `setsid runuser -u alloy -- /usr/bin/alloy run --server.http.listen-addr=127.0.0.1:12345 --storage.path=${D}/data ${D}/conf.d ` +
      `</dev/null >${D}/alloy.log 2>&1 & echo $! > ${D}/pid; ` +
      `for i in $(seq 100); do curl -sf ${URL}/-/ready >/dev/null && break; sleep 0.1; done; curl -sf ${URL}/-/ready`,
  );
});

afterAll(async () => {
  // Back to a host without alloy, for the tests that come next.
  await ssh(
    cfg,
    host.name,
    `pkill -u alloy; for i in $(seq 30); do pgrep -u alloy >/dev/null || break; sleep 0.1; done; pkill -9 -u alloy; ` +
      `rm -rf ${D}; zypper -n rm alloy >/dev/null 2>&1; userdel -f alloy >/dev/null 2>&1; groupdel alloy >/dev/null 2>&1; rm -rf /etc/alloy /var/lib/alloy; true`,
  );
});

describe('Alloy stand-in', () => {
  it('loads the *.alloy files directly inside the config directory, as its user', async () => {
    const c = await labConfig();
    expect(c.files).toEqual([`${D}/conf.d/a.alloy`, `${D}/conf.d/b.alloy`]);
    expect(c.components).toEqual(['prometheus.exporter.unix.node']);
    expect(c.lastError).toBeNull();
    const uid = (await run('id -u alloy')).trim();
    expect(String(c.uid)).toBe(uid);
    expect((await curl('GET', '/-/ready')).status).toBe(200);
  });

  it('refuses a component declared twice across files, keeps the previous config, answers 400 on reload', async () => {
    const before = await labConfig();
    await run(`printf 'prometheus.exporter.unix "node" {\\n}\\n' > ${D}/conf.d/dup.alloy; chmod 644 ${D}/conf.d/dup.alloy`);
    const r = await curl('POST', '/-/reload');
    expect(r.status).toBe(400);
    expect(r.body).toMatch(/prometheus\.exporter\.unix\.node.*already declared/);
    const after = await labConfig();
    expect(after.files).toEqual(before.files);
    expect(after.lastError).toMatch(/already declared/);
    expect((await curl('GET', '/-/ready')).status).toBe(200);
    const v = await ssh(cfg, host.name, `runuser -u alloy -- /usr/bin/alloy validate ${D}/conf.d`);
    expect(v.code).toBe(1);
    expect(v.stdout + v.stderr).toMatch(/already declared/);
    await run(`rm ${D}/conf.d/dup.alloy`);
    const ok = await curl('POST', '/-/reload');
    expect(ok.status).toBe(200);
    expect(ok.body).toMatch(/config reloaded/);
    expect((await labConfig()).reloads).toBe(before.reloads + 1);
  });

  it('only reads the files its user can read', async () => {
    // Valid content, but root-only: Alloy (user alloy) cannot read it, so the config is invalid.
    await run(`printf 'prometheus.exporter.self "me" {\\n}\\n' > ${D}/conf.d/d.alloy; chmod 600 ${D}/conf.d/d.alloy`);
    const r = await curl('POST', '/-/reload');
    expect(r.status).toBe(400);
    expect(r.body).toMatch(/d\.alloy: permission denied/);
    expect((await labConfig()).files).not.toContain(`${D}/conf.d/d.alloy`);
    // root can read it: validate as root passes, as alloy fails.
    expect((await ssh(cfg, host.name, `/usr/bin/alloy validate ${D}/conf.d`)).code).toBe(0);
    expect((await ssh(cfg, host.name, `runuser -u alloy -- /usr/bin/alloy validate ${D}/conf.d`)).code).toBe(1);
    await run(`chmod 644 ${D}/conf.d/d.alloy`);
    expect((await curl('POST', '/-/reload')).status).toBe(200);
    expect((await labConfig()).files).toContain(`${D}/conf.d/d.alloy`);
  });

  it('exits non-zero with the error on stderr when the config is invalid at start', async () => {
    await run(`mkdir -p ${D}/bad; printf 'logging {\\n' > ${D}/bad/x.alloy; chmod -R a+rX ${D}/bad`);
    const r = await ssh(
      cfg,
      host.name,
      `cd ${D} && runuser -u alloy -- /usr/bin/alloy run --server.http.listen-addr=127.0.0.1:12399 --storage.path=${D}/data ${D}/bad`,
      { timeoutMs: 20_000 },
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/x\.alloy/);
  });
});
