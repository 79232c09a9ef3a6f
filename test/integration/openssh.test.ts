// SSH as data centers use it, through the real OpenSSH client (the default transport) against
// the lab's real sshd: a bastion as the only way in (ProxyJump from an ssh_config file, and a
// ProxyCommand that is not `ssh -W`), an encrypted key held by a running ssh-agent, a user
// certificate signed by a lab CA, host keys signed by a lab host CA (@cert-authority), a
// password login with -k (sshpass), a Kerberos login (GSSAPI, the lab's own KDC). Each also
// through ansible_connection=paramiko, which must refuse what it cannot do. And: one SSH
// handshake per host per run, nothing left behind.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { type AddressInfo, connect, createServer } from 'node:net';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { join as joinCommand, raw } from '../../src/exec/command.ts';
import { connectionFor } from '../../src/exec/connection.ts';
import { connector } from '../../src/exec/connector.ts';
import { terminateMaster } from '../../src/exec/ssh-mux.ts';
import type { LabInfo } from '../lab/inventory.ts';
import { repoRoot } from '../lab/paths.ts';
import { startKdc } from '../lab/kdc.ts';
import { ANSIBLE_CORE, describeWith, FIDO_SOFT_KEY, KERBEROS, SK_DUMMY, SOFTHSM, SOFTHSM_LIBRARY } from '../support/requires.ts';
import { compiledCli } from '../support/compiled-cli.ts';
import { freshLab, hostsBy, type LabHost, mustOnHost, onHost, provision, withLabNames } from './helpers.ts';

let info: LabInfo;
let pull: LabHost[];
let push: LabHost[];
const work = mkdtempSync(join(tmpdir(), 'tp-openssh-'));
const VARS = {
  trento_server_name: 'trento.lab.example',
  agent_web_api_key: 'openssh-api-key',
  rabbitmq_password: 'rabbit',
  agent_prometheus_auth: 'none',
  provision_rabbitmq: false,
};
/** Undo steps (sshd_config blocks, agents) run after the file, whatever happened. */
const cleanups: (() => Promise<unknown> | unknown)[] = [];

beforeAll(async () => {
  info = await freshLab();
  ({ pull, push } = hostsBy(info));
});

afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

const statusOf = (run: Awaited<ReturnType<typeof provision>>, host: string) => run.report?.hosts.find((h) => h.host === host);
const sh = (cmd: string, args: string[], input?: string) => execFileSync(cmd, args, { encoding: 'utf8', ...(input !== undefined ? { input } : {}) });

/** A YAML inventory: hosts with exactly the given variables (nothing added), Trento vars on the group. */
function inventory(hosts: Record<string, Record<string, unknown>>, groupVars: Record<string, unknown> = {}): string {
  const dir = mkdtempSync(join(work, 'inv-'));
  writeFileSync(join(dir, 'hosts.yml'), stringify({ all: { children: { agents: { hosts, vars: { ...VARS, ...groupVars } } } } }));
  return join(dir, 'hosts.yml');
}

/** A command on a lab host as root, straight from the machine or through a bastion (-J). */
function onLabHost(host: LabHost, command: string, via?: LabHost): string {
  return onLabHostWith(host, via ? ['-J', via.name] : [], command);
}

/** A command on a lab host as root, with more ssh options. */
function onLabHostWith(host: LabHost, options: string[], command: string): string {
  return execFileSync('ssh', ['-F', info.sshConfig, '-o', 'BatchMode=yes', ...options, host.name, command], { encoding: 'utf8' });
}

/**
 * Adds a block at the end of a host's sshd_config and reloads sshd (checked with sshd -t
 * first). Returns the undo, which also runs after the file whatever happened.
 */
function sshdConfig(host: LabHost, name: string, block: string, via?: LabHost): () => void {
  const begin = `# tp-test ${name} begin`;
  const end = `# tp-test ${name} end`;
  const remove = `sed -i '/^${begin}$/,/^${end}$/d' /etc/ssh/sshd_config`;
  // sshd re-execs on SIGHUP and listens again: ready when it logs so (10 s at most), not after a guess.
  const listening = "grep -c 'Server listening on 0.0.0.0' /var/log/sshd.log";
  const reload = `/usr/sbin/sshd -t && n=$(${listening}) && kill -HUP $(cat /run/sshd.pid) && for i in $(seq 200); do [ "$(${listening})" -gt "$n" ] && break; sleep 0.05; done && [ "$(${listening})" -gt "$n" ]`;
  onLabHost(host, `${remove}; printf '%s\\n' '${begin}' '${block.split('\n').join("' '")}' '${end}' >> /etc/ssh/sshd_config; ${reload}`, via);
  let undone = false;
  const undo = () => {
    if (undone) return;
    undone = true;
    onLabHost(host, `${remove}; ${reload}`, via);
  };
  cleanups.push(undo);
  return undo;
}

/**
 * A command run once this login's own "Accepted" line is in the sshd log: sshd's monitor writes
 * it while the session already runs, so on a loaded machine it can land after the command has
 * read the log. The line is this login's by its client port ($SSH_CONNECTION).
 */
const afterOwnLogin = (command: string) =>
  `p=\${SSH_CONNECTION#* }; p=\${p%% *}; for i in $(seq 200); do grep -q "Accepted .* port $p ssh2" /var/log/sshd.log && break; sleep 0.05; done; ${command}`;
/** Where the host's sshd log ends now (this read's own login included). */
const sshdLogMark = (host: LabHost, via?: LabHost) => Number(onLabHost(host, afterOwnLogin('wc -l < /var/log/sshd.log'), via).trim());
/** The sshd log since `mark`, without this read's own login. */
function sshdLogSince(host: LabHost, mark: number, via?: LabHost): string {
  const out = onLabHost(host, afterOwnLogin(`echo "port $p"; tail -n +${mark + 1} /var/log/sshd.log`), via).split('\n');
  const ownPort = out[0]!;
  return out
    .slice(1)
    .filter((l) => !(l.includes('Accepted ') && l.includes(` ${ownPort} ssh2`)))
    .join('\n');
}

/** Processes whose command line mentions `text` (the control folder of a run). */
function processesMentioning(text: string): string[] {
  try {
    return execFileSync('pgrep', ['-af', '--', text], { encoding: 'utf8' }).trim().split('\n');
  } catch (error) {
    // pgrep exits 1 when nothing matches; anything else (no pgrep at all) must not read as "none".
    if ((error as { status?: number }).status === 1) return [];
    throw error;
  }
}

/** The control sockets (masters up) in the run folders inside a control_path_dir. */
function controlSockets(dir: string): string[] {
  // Entries can vanish between readdir and stat while a run is going: OpenSSH binds a master's
  // socket under a temporary name (c0.XXXX) and renames it, and a run removes its folder at the end.
  const gone = (e: unknown) => (e as NodeJS.ErrnoException).code === 'ENOENT';
  const entries = (d: string): string[] => {
    try {
      return readdirSync(d);
    } catch (e) {
      if (gone(e)) return [];
      throw e;
    }
  };
  const isSocket = (f: string): boolean => {
    try {
      return statSync(f).isSocket();
    } catch (e) {
      if (gone(e)) return false;
      throw e;
    }
  };
  return entries(dir).flatMap((d) => entries(join(dir, d)).filter((f) => isSocket(join(dir, d, f))));
}

/** A folder for control sockets with a short path (a socket path has room for ~100 bytes, and
 *  the suite's TMPDIR is long), removed after the file. */
function shortFolder(prefix: string): string {
  const dir = mkdtempSync(join('/tmp', prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** After a run: no control socket in the folder, no process (an ssh master) naming it. */
function expectNothingLeftIn(dir: string): void {
  expect(readdirSync(dir)).toEqual([]);
  expect(processesMentioning(dir)).toEqual([]);
}

/** A root login to a lab host with the lab's key, its host key checked against the lab's known_hosts. */
const rootLogin = (h: LabHost) => ({
  ansible_host: h.address,
  ansible_user: 'root',
  ansible_ssh_private_key_file: info.keyFile,
  ansible_ssh_common_args: `-o UserKnownHostsFile=${info.knownHosts}`,
});

/** The machine's end of the lab network, as a target host sees it. */
const machineAddress = () => info.gateway;

describe('a bastion as the only way to a group of hosts', () => {
  let bastion: LabHost;
  let targets: LabHost[];
  let config: string;

  const undo: (() => void)[] = [];

  beforeAll(() => {
    bastion = push[0]!;
    targets = [pull[0]!, pull[1]!];
    // The targets refuse every login that comes straight from the machine (undone through the bastion).
    for (const t of targets) undo.push(sshdConfig(t, 'bastion-only', `Match Address ${machineAddress()}\n  DenyUsers *`, bastion));
    config = join(work, 'ssh_config');
    const hostsBlock = targets.map((t) => `Host ${t.name}\n  HostName ${t.address}\n  ProxyJump bastion\n`).join('\n');
    writeFileSync(
      config,
      `${hostsBlock}\nHost bastion\n  HostName ${bastion.address}\n\nHost *\n  User root\n  IdentityFile ${info.keyFile}\n  IdentitiesOnly yes\n  UserKnownHostsFile ${info.knownHosts}\n  StrictHostKeyChecking yes\n`,
    );
  });

  afterAll(() => {
    for (const u of undo) u();
  });

  it('direct logins are refused: the bastion really is the only way', async () => {
    const direct = await provision([
      '-i',
      inventory(
        { [targets[0]!.name]: { ansible_host: targets[0]!.address, ansible_ssh_private_key_file: info.keyFile, ansible_user: 'root' } },
        { ansible_ssh_common_args: `-o UserKnownHostsFile=${info.knownHosts}` },
      ),
      '--check',
    ]);
    expect(direct.code, direct.stdout).toBe(4);
    expect(statusOf(direct, targets[0]!.name)?.message).toMatch(/authentication failed for root@/);
  });

  it('ProxyJump from an ssh_config file (-F in ansible_ssh_common_args): hosts named as in the file, nothing else set', async () => {
    const marks = targets.map((t) => sshdLogMark(t, bastion));
    const hosts = Object.fromEntries(targets.map((t) => [t.name, {}]));
    const run = await provision(['-i', inventory(hosts, { ansible_ssh_common_args: `-F ${config}` }), '--check']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    for (const [i, t] of targets.entries()) {
      expect(statusOf(run, t.name)?.status).toBe('changed');
      const log = sshdLogSince(t, marks[i]!, bastion);
      // One login per host for the whole run: facts (and apply) share the master connection.
      expect(log.match(/Accepted publickey for root from (\S+)/g)).toEqual([`Accepted publickey for root from ${bastion.address}`]);
    }
  });

  it('the same through --ssh-common-args', async () => {
    const run = await provision(['-i', inventory({ [targets[1]!.name]: {} }), '--check', '--ssh-common-args', `-F ${config}`]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
  });

  it('a ProxyCommand that is not `ssh -W` (a bash /dev/tcp relay on the bastion)', async () => {
    const relay = join(work, 'via-bastion');
    writeFileSync(
      relay,
      `#!/bin/bash\n# ProxyCommand: a TCP relay run on the bastion by bash, no ssh -W, no nc.\n` +
        `exec ssh -F ${config} -q bastion "exec bash -c 'exec 3<>/dev/tcp/$1/$2; cat <&3 & cat >&3'"\n`,
    );
    chmodSync(relay, 0o755);
    const t = targets[0]!;
    const mark = sshdLogMark(t, bastion);
    const vars = {
      ansible_host: t.address,
      ansible_user: 'root',
      ansible_ssh_private_key_file: info.keyFile,
      ansible_ssh_common_args: `-o UserKnownHostsFile=${info.knownHosts} -o ProxyCommand="${relay} %h %p"`,
    };
    const run = await provision(['-i', inventory({ [t.name]: vars }), '--check']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(sshdLogSince(t, mark, bastion)).toContain(`Accepted publickey for root from ${bastion.address}`);

    // paramiko cannot run that command: a settings error naming it, before any host is touched.
    const paramiko = await provision(['-i', inventory({ [t.name]: { ...vars, ansible_connection: 'paramiko' } }), '--check']);
    expect(paramiko.code).toBe(1);
    expect(paramiko.report?.settingsErrors).toEqual([
      expect.objectContaining({
        host: t.name,
        variable: 'ansible_ssh_common_args',
        message: expect.stringContaining(`-o ProxyCommand=${relay} %h %p (only the "ssh -W`),
      }),
    ]);
    expect(paramiko.report?.hosts.every((h) => h.roundTrips === 0)).toBe(true);
  });

  it('paramiko refuses the -F file too, naming the option and the host, and touches no host', async () => {
    const run = await provision([
      '-i',
      inventory(Object.fromEntries(targets.map((t) => [t.name, {}])), { ansible_ssh_common_args: `-F ${config}` }),
      '--check',
      '-c',
      'paramiko',
    ]);
    expect(run.code).toBe(1);
    expect(run.report?.settingsErrors.map((e) => [e.host, e.message])).toEqual(
      targets.map((t) => [t.name, expect.stringMatching(new RegExp(`^-F ${config.replace(/[.]/g, '\\.')} cannot be honoured by ansible_connection=paramiko`))]),
    );
  });
});

describe('keys and certificates OpenSSH knows', () => {
  it('an encrypted key whose identity is in a running ssh-agent', async () => {
    const h = pull[2]!;
    const key = join(work, 'enc_key');
    sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'agent-passphrase', '-C', 'tp-enc', '-f', key]);
    await mustOnHost(info, h.name, `echo '${sh('cat', [`${key}.pub`]).trim()}' >> /root/.ssh/authorized_keys`);
    cleanups.push(() => onHost(info, h.name, "sed -i '/ tp-enc$/d' /root/.ssh/authorized_keys"));
    const agentSock = join(work, 'agent.sock');
    const agentOut = sh('ssh-agent', ['-a', agentSock]);
    const agentPid = /SSH_AGENT_PID=(\d+)/.exec(agentOut)![1]!;
    cleanups.push(() => process.kill(Number(agentPid), 'SIGTERM'));
    const askpass = join(work, 'askpass');
    writeFileSync(askpass, '#!/bin/sh\necho agent-passphrase\n');
    chmodSync(askpass, 0o700);
    execFileSync('ssh-add', [key], {
      env: { ...process.env, SSH_AUTH_SOCK: agentSock, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0' },
      stdio: 'ignore',
    });

    const vars = {
      ansible_host: h.address,
      ansible_user: 'root',
      ansible_ssh_private_key_file: key,
      ansible_ssh_common_args: `-o UserKnownHostsFile=${info.knownHosts}`,
    };
    const inv = inventory({ [h.name]: vars });
    const run = await provision(['-i', inv, '--check'], { SSH_AUTH_SOCK: agentSock });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    // Without the agent the key cannot be used (BatchMode: no passphrase prompt).
    const noAgent = await provision(['-i', inv, '--check'], { SSH_AUTH_SOCK: '' });
    expect(noAgent.code).toBe(4);
    expect(statusOf(noAgent, h.name)?.message).toMatch(/authentication failed for root@/);
    // paramiko reads the key file and cannot decrypt it: refused with the reason.
    const paramiko = await provision(['-i', inv, '--check', '-c', 'paramiko'], { SSH_AUTH_SOCK: agentSock });
    expect(paramiko.code).toBe(4);
    expect(statusOf(paramiko, h.name)?.message).toMatch(/encrypted key.*use ansible_connection=ssh/i);
  });

  it('a user certificate signed by a lab CA (sshd TrustedUserCAKeys), the key itself not authorized', async () => {
    const h = pull[2]!;
    const ca = join(work, 'user_ca');
    sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'lab user CA', '-f', ca]);
    const key = join(work, 'cert_key');
    sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    sh('ssh-keygen', ['-q', '-s', ca, '-I', 'tp-test', '-n', 'root', '-V', '+1h', `${key}.pub`]);
    await mustOnHost(info, h.name, `echo '${sh('cat', [`${ca}.pub`]).trim()}' > /etc/ssh/tp_user_ca.pub`);
    sshdConfig(h, 'user-ca', 'TrustedUserCAKeys /etc/ssh/tp_user_ca.pub');
    const mark = sshdLogMark(h);
    const vars = {
      ansible_host: h.address,
      ansible_user: 'root',
      ansible_ssh_private_key_file: key,
      ansible_ssh_common_args: `-o UserKnownHostsFile=${info.knownHosts}`,
    };
    const run = await provision(['-i', inventory({ [h.name]: vars }), '--check']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(sshdLogSince(h, mark)).toMatch(/Accepted publickey for root .*ED25519-CERT.*ID tp-test/);

    // paramiko: CertificateFile is refused up front; the bare key is not authorized.
    const withCert = { ...vars, ansible_connection: 'paramiko', ansible_ssh_common_args: `${vars.ansible_ssh_common_args} -o CertificateFile=${key}-cert.pub` };
    const refused = await provision(['-i', inventory({ [h.name]: withCert }), '--check']);
    expect(refused.code).toBe(1);
    expect(refused.report?.settingsErrors[0]?.message).toMatch(/^-o CertificateFile=\S+ cannot be honoured by ansible_connection=paramiko/);
    const bare = await provision(['-i', inventory({ [h.name]: { ...vars, ansible_connection: 'paramiko' } }), '--check']);
    expect(bare.code).toBe(4);
    expect(statusOf(bare, h.name)?.message).toMatch(/authentication failed/);
  });

  it("paramiko logs in with the key in ~/.ssh when no key file is set, and not with look_for_keys = False (ANSIBLE_PARAMIKO_LOOK_FOR_KEYS), as Ansible's paramiko plugin", async () => {
    const h = pull[2]!;
    const home = mkdtempSync(join(work, 'home-'));
    mkdirSync(join(home, '.ssh'), { mode: 0o700 });
    writeFileSync(join(home, '.ssh', 'id_ed25519'), readFileSync(info.keyFile), { mode: 0o600 });
    const vars = {
      ansible_host: h.address,
      ansible_user: 'root',
      ansible_connection: 'paramiko',
      ansible_ssh_common_args: `-o UserKnownHostsFile=${info.knownHosts}`,
    };
    const inv = inventory({ [h.name]: vars });
    // No ssh-agent: the key file is the only way in.
    const env = { HOME: home, SSH_AUTH_SOCK: '' };
    const looked = await provision(['-i', inv, '--check'], env);
    expect(looked.code, looked.stdout + looked.stderr).toBe(0);
    const notLooked = await provision(['-i', inv, '--check'], { ...env, ANSIBLE_PARAMIKO_LOOK_FOR_KEYS: 'False' });
    expect(notLooked.code, notLooked.stdout + notLooked.stderr).toBe(4);
    expect(statusOf(notLooked, h.name)?.message).toMatch(/authentication failed for root@/);
  });

  it('a host key signed by a lab host CA, known only through @cert-authority', async () => {
    const h = pull[1]!;
    const hostCa = join(work, 'host_ca');
    sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'lab host CA', '-f', hostCa]);
    const pub = join(work, 'host_key.pub');
    writeFileSync(pub, await mustOnHost(info, h.name, 'cat /etc/ssh/ssh_host_ed25519_key.pub'));
    sh('ssh-keygen', ['-q', '-s', hostCa, '-h', '-I', h.name, '-n', `${h.address},${h.name}`, '-V', '+1h', pub]);
    await mustOnHost(info, h.name, `echo '${sh('cat', [join(work, 'host_key-cert.pub')]).trim()}' > /etc/ssh/ssh_host_ed25519_key-cert.pub`);
    sshdConfig(h, 'host-cert', 'HostCertificate /etc/ssh/ssh_host_ed25519_key-cert.pub');
    const caOnly = join(work, 'known_hosts_ca');
    writeFileSync(caOnly, `@cert-authority * ${sh('cat', [`${hostCa}.pub`]).trim()}\n`);
    const vars = {
      ansible_host: h.address,
      ansible_user: 'root',
      ansible_ssh_private_key_file: info.keyFile,
      ansible_ssh_common_args: `-o UserKnownHostsFile=${caOnly} -o StrictHostKeyChecking=yes`,
    };
    const run = await provision(['-i', inventory({ [h.name]: vars }), '--check']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    // A known_hosts without the CA: the host is unknown, with the fingerprint and the fix.
    const empty = join(work, 'known_hosts_empty');
    writeFileSync(empty, '');
    const unknown = await provision([
      '-i',
      inventory({ [h.name]: { ...vars, ansible_ssh_common_args: `-o UserKnownHostsFile=${empty} -o StrictHostKeyChecking=yes` } }),
      '--check',
    ]);
    expect(unknown.code).toBe(4);
    expect(statusOf(unknown, h.name)?.message).toMatch(
      /unknown host key for 10\.[0-9.]+: ssh-ed25519(-cert-v01@openssh\.com)? SHA256:\S+ is not in .*ssh-keyscan/,
    );
    // paramiko cannot check host certificates: refused, and it says why.
    const paramiko = await provision(['-i', inventory({ [h.name]: { ...vars, ansible_connection: 'paramiko' } }), '--check']);
    expect(paramiko.code).toBe(4);
    expect(statusOf(paramiko, h.name)?.message).toMatch(/@cert-authority for this host: host certificates need ansible_connection=ssh/);
  });
});

describe('an RSA host key, known only as ssh-rsa (ssh-keyscan -t rsa, an older fleet), on an OpenSSH that offers no SHA-1 signatures (8.8 and later)', () => {
  it("paramiko verifies it with its SHA-2 signatures, as OpenSSH and Ansible's paramiko do, and connects", async () => {
    const h = pull[0]!;
    const key = join(work, 'ssh_host_rsa_key');
    sh('ssh-keygen', ['-q', '-t', 'rsa', '-b', '3072', '-N', '', '-C', 'lab rsa host key', '-f', key]);
    const b64 = (f: string) => readFileSync(f).toString('base64');
    await mustOnHost(
      info,
      h.name,
      `echo ${b64(key)} | base64 -d > /etc/ssh/ssh_host_rsa_key && chmod 600 /etc/ssh/ssh_host_rsa_key && echo ${b64(`${key}.pub`)} | base64 -d > /etc/ssh/ssh_host_rsa_key.pub`,
    );
    const undo = sshdConfig(h, 'rsa-host-key', 'HostKey /etc/ssh/ssh_host_rsa_key');
    try {
      const rsaOnly = join(work, 'known_hosts_rsa');
      writeFileSync(rsaOnly, `${h.address} ${readFileSync(`${key}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ')}\n`);
      const vars = { ...rootLogin(h), ansible_connection: 'paramiko', ansible_ssh_common_args: `-o UserKnownHostsFile=${rsaOnly}` };
      const run = await provision(['-i', inventory({ [h.name]: vars }), '--check']);
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(['ok', 'changed']).toContain(statusOf(run, h.name)?.status);
    } finally {
      undo();
      await mustOnHost(info, h.name, 'rm -f /etc/ssh/ssh_host_rsa_key /etc/ssh/ssh_host_rsa_key.pub');
    }
  });
});

describe('a password login with -k (sshpass)', () => {
  /**
   * The lab's admin-pw (first SLES 15 host), whose password is also its sudo password, let in by
   * password alone (no key offered): the host, the password and its connection variables (become
   * on, no password given).
   */
  const passwordLogin = async () => {
    const h = pull.find((x) => x.sudoUsers?.includes('admin-pw'))!;
    const password = 'lab-sudo-password';
    await mustOnHost(info, h.name, `echo 'admin-pw:${password}' | chpasswd`);
    sshdConfig(h, 'password', 'Match User admin-pw\n  PasswordAuthentication yes');
    const vars: Record<string, unknown> = {
      ansible_host: h.address,
      ansible_user: 'admin-pw',
      ansible_ssh_common_args: `-o UserKnownHostsFile=${info.knownHosts} -o PubkeyAuthentication=no`,
      ansible_become: true,
    };
    return { h, password, vars };
  };

  it('the password typed at the prompt logs in; it is never shown, never on a command line', async () => {
    const login = await passwordLogin();
    const { h } = login;
    const sshPassword = login.password;
    const vars = { ...login.vars, ansible_become_password: sshPassword };
    const inv = inventory({ [h.name]: vars });
    const report = join(work, 'pw-report.json');
    // -k asks on the terminal: run the CLI in a pseudo-terminal (script(1)) and type the password.
    const command = [...compiledCli('provision'), '-i', inv, '--check', '-k', '--json', report].join(' ');
    const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd: repoRoot, env: { ...process.env, NO_COLOR: '1' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let typed = false;
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      if (!typed && out.includes('SSH password:')) {
        typed = true;
        child.stdin.write(`${sshPassword}\r`);
      }
    });
    const code = await new Promise<number>((r) => child.on('close', (c) => r(c ?? -1)));
    expect(code, out).toBe(0);
    expect(out).not.toContain(sshPassword);
    expect(await mustOnHost(info, h.name, 'tail -n 20 /var/log/sshd.log')).toMatch(/Accepted password for admin-pw/);
    // The same password as ansible_password: no prompt, masked in the report.
    const run = await provision(['-i', inventory({ [h.name]: { ...vars, ansible_password: sshPassword } }), '--check']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(JSON.stringify(run.report) + run.stdout + run.stderr).not.toContain(sshPassword);
    // A wrong password is an authentication failure.
    const wrong = await provision(['-i', inventory({ [h.name]: { ...vars, ansible_password: 'not-it' } }), '--check']);
    expect(wrong.code).toBe(4);
    expect(statusOf(wrong, h.name)?.message).toMatch(/authentication failed for admin-pw@.*password was refused/);
  });

  it('--connection-password-file and --become-password-file (a file, a script printing it), and their ansible.cfg settings: log in and sudo; never shown; a wrong one is refused', async () => {
    // No password in the inventory, no key: only the files can log in and sudo.
    const { h, password, vars } = await passwordLogin();
    const inv = inventory({ [h.name]: vars });
    const dir = join(work, 'pw-files');
    mkdirSync(dir, { recursive: true });
    const sshFile = join(dir, 'ssh-pass');
    writeFileSync(sshFile, `  ${password}\n\n`, { mode: 0o600 }); // whitespace around it dropped, as Ansible does
    const sudoScript = join(dir, 'sudo-pass.sh');
    writeFileSync(sudoScript, `#!/bin/sh\necho '${password}'\n`, { mode: 0o700 });
    const mark = sshdLogMark(h);
    const run = await provision(['-i', inv, '--check', '--connection-password-file', sshFile, '--become-password-file', sudoScript]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(sshdLogSince(h, mark)).toMatch(/Accepted password for admin-pw/);
    expect(JSON.stringify(run.report) + run.stdout + run.stderr).not.toContain(password);
    // Without the sudo password the same run fails on sudo: the script's password is what sudo took.
    const noSudo = await provision(['-i', inv, '--check', '--conn-pass-file', sshFile]);
    expect(noSudo.code, noSudo.stdout + noSudo.stderr).toBe(2);
    expect(statusOf(noSudo, h.name)?.message).toMatch(/become failed: sudo wants a password/);
    // ansible.cfg's settings (relative to its folder) and ANSIBLE_BECOME_PASSWORD_FILE.
    writeFileSync(join(dir, 'ansible.cfg'), '[defaults]\nconnection_password_file = ssh-pass\n');
    const fromCfg = await provision(['-i', inv, '--check'], { ANSIBLE_CONFIG: join(dir, 'ansible.cfg'), ANSIBLE_BECOME_PASSWORD_FILE: sudoScript });
    expect(fromCfg.code, fromCfg.stdout + fromCfg.stderr).toBe(0);
    // A wrong password in the file is an authentication failure, and a failing script stops the
    // run before any host is contacted, naming the script.
    const wrongFile = join(dir, 'wrong');
    writeFileSync(wrongFile, 'not-it-at-all\n', { mode: 0o600 });
    const wrong = await provision(['-i', inv, '--check', '--connection-password-file', wrongFile, '--become-password-file', sudoScript]);
    expect(wrong.code).toBe(4);
    expect(statusOf(wrong, h.name)?.message).toMatch(/authentication failed for admin-pw@.*password was refused/);
    const failing = join(dir, 'failing.sh');
    writeFileSync(failing, '#!/bin/sh\necho vault locked >&2\nexit 3\n', { mode: 0o700 });
    const before = sshdLogMark(h);
    const broken = await provision(['-i', inv, '--check', '--connection-password-file', sshFile, '--become-password-file', failing]);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/--become-password-file: the password script .*failing\.sh returned an error \(rc=3\): vault locked/);
    expect(sshdLogSince(h, before)).not.toMatch(/admin-pw/);
  });

  it('ansible_sshpass_prompt: sshpass answers that prompt (a login step asking "Kennwort:", before ssh logs in with the key)', async () => {
    const h = pull[0]!;
    const password = 'wrapper-pw-4711';
    const answers = join(work, 'kennwort-answers');
    // ansible_ssh_executable: asks on its terminal (sshpass's pty) with its own prompt, notes a
    // right answer, then is ssh with the key only.
    const wrapper = join(work, 'ssh-kennwort');
    writeFileSync(
      wrapper,
      `#!/bin/bash\nprintf 'Kennwort: ' > /dev/tty\nIFS= read -r -t 3 answer < /dev/tty || exit 255\n[ "$answer" = '${password}' ] || exit 255\necho ok >> '${answers}'\nexec ssh -o PasswordAuthentication=no -o BatchMode=yes "$@"\n`,
      { mode: 0o755 },
    );
    const vars = {
      ...rootLogin(h),
      ansible_ssh_executable: wrapper,
      ansible_password: password,
    };
    const run = await provision(['-i', inventory({ [h.name]: { ...vars, ansible_sshpass_prompt: 'Kennwort:' } }), '--check']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(readFileSync(answers, 'utf8')).toMatch(/^ok\n/);
    expect(JSON.stringify(run.report) + run.stdout + run.stderr).not.toContain(password);
    // Without it sshpass waits for its own "assword" prompt: nobody answers, the host is unreachable.
    const unanswered = await provision(['-i', inventory({ [h.name]: vars }), '--check']);
    expect(statusOf(unanswered, h.name)?.status).toBe('unreachable');
  });
});

describeWith(KERBEROS, 'a Kerberos login (GSSAPI) with a ticket from kinit, no key at all', () => {
  const password = 'alice-kerberos-password';
  let hosts: LabHost[];
  let ccache: string;
  let kdcEnv: (ccache?: string) => NodeJS.ProcessEnv;
  let names: string[];
  // Only Kerberos can log in: no key is given and OpenSSH may not try one.
  const sshArgs = () => `-o UserKnownHostsFile=${info.knownHosts} -o StrictHostKeyChecking=yes -o GSSAPIAuthentication=yes -o PubkeyAuthentication=no`;
  // Hosts by name only (no ansible_host): GSSAPI asks for host/<the name ssh connects to>.
  const byName = () => inventory(Object.fromEntries(hosts.map((h) => [h.name, { ansible_user: 'root' }])), { ansible_ssh_common_args: sshArgs() });

  beforeAll(async () => {
    hosts = [pull[3]!, push[1]!];
    // The realm's KDC on the lab's gateway address, its files in the lab folder; stopped after the file.
    const kdc = await startKdc(info.gateway, join(info.labDir, 'kdc'));
    cleanups.push(() => kdc.stop());
    kdcEnv = kdc.env;
    kdc.addUser('alice', password);
    for (const h of hosts) {
      // The host's own /etc/krb5.conf (its overlay; the machine's stays as it is), its keytab,
      // and root's .k5login letting alice in; all undone after the file.
      const keytab = kdc.hostKeytab(h.name).toString('base64');
      await mustOnHost(
        info,
        h.name,
        `[ -e /etc/krb5.conf.tp-test ] || ! [ -e /etc/krb5.conf ] || cp -p /etc/krb5.conf /etc/krb5.conf.tp-test; ` +
          `printf '%s' '${kdc.krb5Conf}' > /etc/krb5.conf && (umask 077; echo '${keytab}' | base64 -d > /etc/krb5.keytab) && echo 'alice@${kdc.realm}' > /root/.k5login`,
      );
      cleanups.push(() =>
        onHost(
          info,
          h.name,
          'rm -f /etc/krb5.keytab /root/.k5login; if [ -e /etc/krb5.conf.tp-test ]; then mv /etc/krb5.conf.tp-test /etc/krb5.conf; else rm -f /etc/krb5.conf; fi',
        ),
      );
      sshdConfig(h, 'gssapi', 'GSSAPIAuthentication yes');
    }
    // A ticket for alice in a credential cache of this file's own (KRB5CCNAME), by password.
    ccache = join(work, 'krb5cc_alice');
    kdc.kinit('alice', password, ccache);
    names = withLabNames(info, work);
  });

  it('provision --check through OpenSSH logs in by gssapi-with-mic as alice@LAB.TEST, one login per host', async () => {
    const marks = hosts.map((h) => sshdLogMark(h));
    const run = await provision(['-i', byName(), '--check'], kdcEnv(ccache), names);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    for (const [i, h] of hosts.entries()) {
      expect(statusOf(run, h.name)?.status).toBe('changed');
      const log = sshdLogSince(h, marks[i]!);
      expect(log.match(/Accepted \S+ for \S+ from \S+ port \d+ ssh2: \S+/g)?.map((l) => l.replace(/ port \d+/, ''))).toEqual([
        `Accepted gssapi-with-mic for root from ${info.gateway} ssh2: alice@LAB.TEST`,
      ]);
    }
  });

  it('without a ticket the same run is refused: Kerberos really is what logs in', async () => {
    const run = await provision(['-i', byName(), '--check'], kdcEnv(join(work, 'krb5cc_nobody')), names);
    expect(run.code, run.stdout + run.stderr).toBe(4);
    for (const h of hosts) expect(statusOf(run, h.name)?.message).toMatch(/authentication failed for root@/);
  });

  it('paramiko cannot do GSSAPI: a settings error naming the option and the host, no host touched', async () => {
    const inv = inventory(Object.fromEntries(hosts.map((h) => [h.name, { ansible_user: 'root' }])), {
      ansible_ssh_common_args: `-o UserKnownHostsFile=${info.knownHosts} -o GSSAPIAuthentication=yes`,
    });
    const run = await provision(['-i', inv, '--check', '-c', 'paramiko'], kdcEnv(ccache), names);
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(run.report?.settingsErrors).toEqual(
      hosts.map((h) =>
        expect.objectContaining({
          host: h.name,
          variable: 'ansible_ssh_common_args',
          message: expect.stringMatching(/^-o GSSAPIAuthentication=yes cannot be honoured by ansible_connection=paramiko; use ansible_connection=ssh/),
        }),
      ),
    );
    expect(run.report?.hosts.every((h) => h.roundTrips === 0)).toBe(true);
  });
});

describeWith(FIDO_SOFT_KEY, "a FIDO security key (ed25519-sk), with OpenSSH's software authenticator", () => {
  // sk-dummy.so is OpenSSH's own FIDO middleware for its regression tests (Debian's
  // openssh-tests): it signs as a token does, presence flag included, without a device or a touch.
  let h: LabHost;
  let key: string;
  const vars = (extra: string) => ({
    ansible_host: h.address,
    ansible_user: 'root',
    ansible_ssh_private_key_file: key,
    // IdentitiesOnly: no other key (~/.ssh, an agent) may log in instead.
    ansible_ssh_common_args: `-o UserKnownHostsFile=${info.knownHosts} -o IdentitiesOnly=yes ${extra}`,
  });

  beforeAll(async () => {
    h = pull[2]!;
    key = join(work, 'id_ed25519_sk');
    sh('ssh-keygen', ['-q', '-t', 'ed25519-sk', '-w', SK_DUMMY, '-N', '', '-f', key, '-C', 'tp-fido-test']);
    const pub = readFileSync(`${key}.pub`, 'utf8').trim();
    await mustOnHost(info, h.name, `printf '%s\\n' '${pub}' >> /root/.ssh/authorized_keys`);
    cleanups.push(() => onHost(info, h.name, "sed -i '/ tp-fido-test$/d' /root/.ssh/authorized_keys"));
  });

  it('logs in with the security key (SecurityKeyProvider in ansible_ssh_common_args): sshd accepts an ED25519-SK key', async () => {
    const mark = sshdLogMark(h);
    const run = await provision(['-i', inventory({ [h.name]: vars(`-o SecurityKeyProvider=${SK_DUMMY}`) }), '--check']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(statusOf(run, h.name)?.roundTrips).toBe(1);
    expect(
      sshdLogSince(h, mark)
        .match(/Accepted \S+ for \S+ from \S+ port \d+ ssh2: \S+/g)
        ?.map((l) => l.replace(/ port \d+/, '')),
    ).toEqual([`Accepted publickey for root from ${info.gateway} ssh2: ED25519-SK`]);
  });

  it('without the authenticator the key cannot sign: authentication fails, so the security key is what logged in', async () => {
    const run = await provision(['-i', inventory({ [h.name]: vars('') }), '--check']);
    expect(run.code, run.stdout + run.stderr).toBe(4);
    expect(statusOf(run, h.name)?.message).toMatch(/authentication failed for root@/);
  });

  it('paramiko cannot use a security key: SecurityKeyProvider is a settings error naming it and the host; the key alone is refused by ssh2', async () => {
    const paramikoVars = { ...vars(''), ansible_ssh_common_args: `-o UserKnownHostsFile=${info.knownHosts} -o SecurityKeyProvider=${SK_DUMMY}` };
    const refused = await provision(['-i', inventory({ [h.name]: paramikoVars }), '--check', '-c', 'paramiko']);
    expect(refused.code, refused.stdout + refused.stderr).toBe(1);
    expect(refused.report?.settingsErrors).toEqual([
      expect.objectContaining({
        host: h.name,
        variable: 'ansible_ssh_common_args',
        message: expect.stringMatching(/^-o SecurityKeyProvider=\S+ cannot be honoured by ansible_connection=paramiko; use ansible_connection=ssh/),
      }),
    ]);
    expect(refused.report?.hosts.every((x) => x.roundTrips === 0)).toBe(true);
    const keyOnly = { ...paramikoVars, ansible_ssh_common_args: `-o UserKnownHostsFile=${info.knownHosts}` };
    const run = await provision(['-i', inventory({ [h.name]: keyOnly }), '--check', '-c', 'paramiko']);
    expect(run.code, run.stdout + run.stderr).toBe(4);
    expect(statusOf(run, h.name)?.message).toMatch(/sk-ssh-ed25519@openssh\.com/);
  });
});

/**
 * The toolkit started as a user starts it, to be signalled mid-run: node itself, no wrapper
 * between it and the signal (tsx's SIGKILLs a child that does not confirm a relayed signal within
 * 30 ms, which a loaded machine misses). With `ownGroup`, in a process group of its own, as a
 * terminal's foreground job: a ^C (SIGINT to the group) reaches every process in it.
 */
function startProvision(args: string[], env: NodeJS.ProcessEnv, ownGroup: boolean) {
  const [node, entry] = compiledCli('provision');
  const child = spawn(node, [entry, ...args], {
    cwd: repoRoot,
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: ownGroup,
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  // As a shell reports it: killed by a signal is 128 + its number.
  const exited = new Promise<number>((r) => child.on('close', (c, signal) => r(c ?? (signal ? 128 + constants.signals[signal] : -1))));
  return { child, out: () => out, exited };
}

/** The inventory of the interrupt tests: three pull hosts, root with the lab's key, `vars` for all. */
function interruptedHosts(vars: Record<string, string> = {}): string {
  const hosts = Object.fromEntries(
    pull.slice(0, 3).map((h) => [h.name, { ansible_host: h.address, ansible_user: 'root', ansible_ssh_private_key_file: info.keyFile }]),
  );
  return inventory(hosts, { ansible_ssh_common_args: `-o UserKnownHostsFile=${info.knownHosts}`, ...vars });
}

/** Waits (up to 30 s) until `ready()`; fails naming `what` if it never is. It returns on the
 *  first reading that holds: asked once more at the end, a passing state could read otherwise. */
async function until(ready: () => boolean, what = 'the condition'): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (ready()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`waited 30 s for ${what}`);
}

/**
 * A TCP relay on this machine to a lab host's sshd, counting the connections it gets and the
 * bytes each client sent; the first `refuse` are closed at once, and the first one relayed is
 * cut once its client has sent more than `cutAfterClientBytes`. Each connection is held
 * `holdMs` before it is relayed (a slow network: the client waits for sshd's banner). Bound to
 * `address` (any loopback address) and `port` (0: any).
 */
async function relayTo(
  h: LabHost,
  {
    refuse = 0,
    address = '127.0.0.1',
    port = 0,
    cutAfterClientBytes = Number.POSITIVE_INFINITY,
    silenceAfterClientBytes = Number.POSITIVE_INFINITY,
    holdMs = 0,
  } = {},
): Promise<{ port: number; connections: () => number; clientBytes: () => number[]; close: () => void }> {
  let seen = 0;
  const sent: number[] = [];
  const server = createServer((client) => {
    seen++;
    if (seen <= refuse) return void client.destroy();
    const index = sent.push(0) - 1;
    let upstream: ReturnType<typeof connect> | undefined;
    client.on('error', () => upstream?.destroy());
    const relay = () => {
      if (client.destroyed) return;
      const up = connect(22, h.address);
      upstream = up;
      client.on('data', (chunk: Buffer) => {
        sent[index]! += chunk.length;
        if (index === 0 && sent[index]! > cutAfterClientBytes) {
          client.destroy();
          up.destroy();
        }
        // A partition: both connections stay open and nothing more gets through either way (no
        // FIN, no RST), as when a firewall drops a connection's state or a VM is paused.
        if (index === 0 && sent[index]! > silenceAfterClientBytes) {
          client.unpipe(up);
          up.unpipe(client);
          up.on('data', () => undefined);
        }
      });
      up.on('error', () => client.destroy());
      client.pipe(up).pipe(client);
    };
    if (holdMs > 0) setTimeout(relay, holdMs);
    else relay();
  });
  await new Promise<void>((ready, failed) => {
    server.once('error', failed);
    server.listen(port, address, ready);
  });
  const close = () => server.close();
  cleanups.push(close);
  return { port: (server.address() as AddressInfo).port, connections: () => seen, clientBytes: () => [...sent], close };
}

/**
 * How many bytes a client sends to a host, through a relay, past the login and short of the
 * whole facts run (an ssh `true` through one, then a --check through another): the middle, so a
 * relay that acts there does so while the facts script is on its way, after the login.
 */
async function bytesWhileFactsTravel(h: LabHost): Promise<number> {
  const probe = await relayTo(h);
  const login = spawn('ssh', [
    '-i',
    info.keyFile,
    '-l',
    'root',
    '-p',
    String(probe.port),
    ...throughRelay(h).ansible_ssh_common_args.split(' '),
    '127.0.0.1',
    'true',
  ]);
  expect(await new Promise((done) => login.on('close', done))).toBe(0);
  const whole = await provision(['-i', inventory({ [h.name]: { ansible_host: '127.0.0.1', ansible_port: probe.port, ...throughRelay(h) } }), '--check']);
  expect(whole.code, whole.stdout + whole.stderr).toBe(0);
  const [loginBytes, runBytes] = probe.clientBytes() as [number, number];
  expect(runBytes).toBeGreaterThan(loginBytes + 2000);
  return Math.round((loginBytes + runBytes) / 2);
}

/** Login settings for a lab host reached through a relay on this machine: its key is known under its address. */
const throughRelay = (h: LabHost) => ({
  ansible_user: 'root',
  ansible_ssh_private_key_file: info.keyFile,
  ansible_ssh_common_args: `-o UserKnownHostsFile=${info.knownHosts} -o HostKeyAlias=${h.address}`,
});

describeWith(SOFTHSM, 'a smart card login (ansible_ssh_pkcs11_provider), with a SoftHSM token holding the only copy of the key', () => {
  const PIN = '4321';
  let h: LabHost;
  let env: NodeJS.ProcessEnv;
  let fingerprint: string;
  const vars = (pin: string) => ({
    ansible_host: h.address,
    ansible_user: 'root',
    ansible_ssh_pkcs11_provider: SOFTHSM_LIBRARY,
    ansible_password: pin,
    ansible_ssh_common_args: `-o UserKnownHostsFile=${info.knownHosts}`,
  });

  beforeAll(async () => {
    h = pull[0]!;
    const token = mkdtempSync(join(work, 'softhsm-'));
    mkdirSync(join(token, 'tokens'));
    writeFileSync(join(token, 'softhsm2.conf'), `directories.tokendir = ${token}/tokens\nobjectstore.backend = file\nlog.level = ERROR\n`);
    env = { SOFTHSM2_CONF: join(token, 'softhsm2.conf') };
    const hsm = (...args: string[]) => execFileSync('softhsm2-util', args, { encoding: 'utf8', env: { ...process.env, ...env } });
    hsm('--init-token', '--free', '--label', 'tp-card', '--pin', PIN, '--so-pin', '87654321');
    const key = join(token, 'card-key');
    sh('ssh-keygen', ['-q', '-t', 'ecdsa', '-b', '256', '-m', 'PKCS8', '-N', '', '-C', 'tp-pkcs11-test', '-f', key]);
    hsm('--import', key, '--token', 'tp-card', '--label', 'login', '--id', '01', '--pin', PIN);
    rmSync(key); // the token holds the only copy of the private key
    fingerprint = sh('ssh-keygen', ['-l', '-f', `${key}.pub`]).split(' ')[1]!;
    const pub = readFileSync(`${key}.pub`, 'utf8').trim();
    await mustOnHost(info, h.name, `printf '%s\\n' '${pub}' >> /root/.ssh/authorized_keys`);
    cleanups.push(() => onHost(info, h.name, "sed -i '/ tp-pkcs11-test$/d' /root/.ssh/authorized_keys"));
  });

  it("logs in with the token's key, the PIN given by sshpass at the token's prompt and never shown; one login for facts and apply", async () => {
    const mark = sshdLogMark(h);
    const run = await provision(['-i', inventory({ [h.name]: vars(PIN) }), '-vvvv'], env);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(
      sshdLogSince(h, mark)
        .match(/Accepted \S+ for \S+ from \S+ port \d+ ssh2: \S+ \S+/g)
        ?.map((l) => l.replace(/ port \d+/, '')),
    ).toEqual([`Accepted publickey for root from ${info.gateway} ssh2: ECDSA ${fingerprint}`]);
    // ssh's own -vvv account shows the token was used; the PIN is in no output
    expect(run.stdout + run.stderr).toMatch(/pkcs11/i);
    expect(`${run.stdout}${run.stderr}${JSON.stringify(run.report)}`).not.toMatch(new RegExp(`\\b${PIN}\\b`));
  });

  it('a wrong PIN logs nobody in: the host is unreachable, the message says the token refused the PIN', async () => {
    const run = await provision(['-i', inventory({ [h.name]: vars('9999') }), '--check'], env);
    expect(run.code, run.stdout + run.stderr).toBe(4);
    expect(statusOf(run, h.name)?.message).toMatch(/^authentication failed for root@\S+: the PKCS#11 token refused the PIN \(.+\); check ansible_password/);
  });

  it('without a PIN, or through paramiko: a settings error naming the variable and the host, no host touched', async () => {
    const { ansible_password: _pin, ...noPin } = vars(PIN);
    const missing = await provision(['-i', inventory({ [h.name]: noPin }), '--check'], env);
    expect(missing.code, missing.stdout + missing.stderr).toBe(1);
    expect(missing.report?.settingsErrors).toEqual([
      expect.objectContaining({
        host: h.name,
        variable: 'ansible_ssh_pkcs11_provider',
        message: expect.stringMatching(/^needs the token's PIN as the SSH password/),
      }),
    ]);
    const paramiko = await provision(['-i', inventory({ [h.name]: vars(PIN) }), '--check', '-c', 'paramiko'], env);
    expect(paramiko.code, paramiko.stdout + paramiko.stderr).toBe(1);
    expect(paramiko.report?.settingsErrors).toEqual([
      expect.objectContaining({
        host: h.name,
        variable: 'ansible_ssh_pkcs11_provider',
        message: expect.stringMatching(/ansible_connection=paramiko does not run/),
      }),
    ]);
    expect([...missing.report!.hosts, ...paramiko.report!.hosts].every((x) => x.roundTrips === 0)).toBe(true);
  });
});

describe('a host that cannot be reached at first (ansible_ssh_retries, as Ansible)', () => {
  it('refused twice, the host is connected a third time and checked; with no retries it is unreachable after one try', async () => {
    const h = pull[1]!;
    const relay = await relayTo(h, { refuse: 2 });
    const vars = { ansible_host: '127.0.0.1', ansible_port: relay.port, ...throughRelay(h) };
    const retried = await provision(['-i', inventory({ [h.name]: { ...vars, ansible_ssh_retries: 2 } }), '--check']);
    expect(retried.code, retried.stdout + retried.stderr).toBe(0);
    expect(statusOf(retried, h.name)?.status).not.toBe('unreachable');
    expect(relay.connections()).toBe(3);
    // refused connections reached nothing: the one round trip is the facts read that got through
    expect(statusOf(retried, h.name)?.roundTrips).toBe(1);
    expect(retried.stdout).toMatch(/connecting again \(retry 1 of 2/);
    expect(retried.stdout).toMatch(/connecting again in 1 s \(retry 2 of 2/);
    relay.close();

    const once = await relayTo(h, { refuse: 1 });
    const refused = await provision(['-i', inventory({ [h.name]: { ...vars, ansible_port: once.port } }), '--check']);
    expect(statusOf(refused, h.name)?.status).toBe('unreachable');
    expect(once.connections()).toBe(1);
  });

  it('Ctrl-C while the run waits to connect again: the host is reported not tried again (interrupted), not unreachable, and no connection is made after it', async () => {
    const h = pull[1]!;
    const relay = await relayTo(h, { refuse: 1000 });
    cleanups.push(() => relay.close());
    const vars = { ansible_host: '127.0.0.1', ansible_port: relay.port, ...throughRelay(h), ansible_ssh_retries: 5 };
    const json = join(mkdtempSync(join(work, 'retry-int-')), 'report.json');
    const { child, out, exited } = startProvision(['-i', inventory({ [h.name]: vars }), '--check', '--json', json], {}, true);
    // The pause before the third try is 3 s: the ^C comes in it.
    await until(() => /connecting again in 3 s/.test(out()));
    expect(out()).toMatch(/connecting again in 3 s \(retry 3 of 5/);
    const connectionsAtTheSignal = relay.connections();
    process.kill(-child.pid!, 'SIGINT');
    expect(await exited, out()).toBe(99);
    const report = JSON.parse(readFileSync(json, 'utf8')) as { hosts: { host: string; status: string; message?: string }[] };
    expect(report.hosts.find((x) => x.host === h.name)).toMatchObject({
      status: 'skipped',
      message: expect.stringMatching(/^not tried again: interrupted \(cannot reach /),
    });
    expect(out()).not.toMatch(/UNREACHABLE/);
    // No connection after the ^C (a loaded machine may have made its fourth try before it).
    expect(relay.connections()).toBe(connectionsAtTheSignal);
  });

  it('a second interrupt that cuts a facts read with retries left reports the read cut by it (skipped: the facts only read), not "not tried again" nor unreachable', async () => {
    const h = pull[1]!;
    // The "ssh" holds the facts read open until the run drops it: started, it says so and waits.
    const dir = mkdtempSync(join(work, 'cut-read-'));
    const started = join(dir, 'started');
    const wrapper = join(dir, 'ssh-holding');
    writeFileSync(wrapper, `#!/bin/sh\ntouch '${started}'\nexec sleep 60\n`);
    chmodSync(wrapper, 0o755);
    const json = join(dir, 'report.json');
    const vars = { ...rootLogin(h), ansible_ssh_executable: wrapper, ansible_ssh_retries: 2 };
    const { child, out, exited } = startProvision(['-i', inventory({ [h.name]: vars }), '--check', '--json', json], {}, false);
    await until(() => existsSync(started));
    expect(existsSync(started), out()).toBe(true);
    child.kill('SIGINT');
    await until(() => /no new host is started/.test(out()));
    child.kill('SIGINT');
    expect(await exited, out()).toBe(99);
    const report = JSON.parse(readFileSync(json, 'utf8')) as { hosts: { host: string; status: string; message?: string }[] };
    expect(report.hosts.find((x) => x.host === h.name)).toMatchObject({ status: 'skipped', message: 'facts not read: cut by the interrupt' });
    expect(out()).not.toMatch(/not tried again|UNREACHABLE/);
  });

  it('a SIGTERM while a paramiko host is still connecting: nothing is run on it once it has connected', async () => {
    const h = pull[1]!;
    const relay = await relayTo(h, { holdMs: 3000 });
    const vars = {
      ansible_host: '127.0.0.1',
      ansible_port: relay.port,
      ansible_user: 'root',
      ansible_ssh_private_key_file: info.keyFile,
      ansible_connection: 'paramiko',
      ansible_ssh_common_args: '-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null',
    };
    const json = join(mkdtempSync(join(work, 'paramiko-int-')), 'report.json');
    const { child, out, exited } = startProvision(['-i', inventory({ [h.name]: vars }), '--check', '--json', json], {}, false);
    await until(() => relay.connections() === 1);
    expect(relay.connections(), out()).toBe(1);
    child.kill('SIGTERM');
    expect(await exited, out()).toBe(99);
    const report = JSON.parse(readFileSync(json, 'utf8')) as { hosts: { host: string; status: string; product: string | null; message?: string }[] };
    // Connected after the signal (the relay held it 3 s): its facts were never read.
    expect(report.hosts.find((x) => x.host === h.name)).toMatchObject({ status: 'skipped', product: null, message: 'facts not read: cut by the interrupt' });
  });

  it('a connection lost after the login while the facts are read: read again on a new connection (the facts script only reads); with no retries the host is unreachable', async () => {
    const h = pull[1]!;
    const vars = { ansible_host: '127.0.0.1', ...throughRelay(h) };
    const cutAt = await bytesWhileFactsTravel(h);
    const cutting = await relayTo(h, { cutAfterClientBytes: cutAt });
    const retried = await provision(['-i', inventory({ [h.name]: { ...vars, ansible_port: cutting.port, ansible_ssh_retries: 1 } }), '--check']);
    expect(retried.code, retried.stdout + retried.stderr).toBe(0);
    expect(statusOf(retried, h.name)?.status).not.toBe('unreachable');
    // the facts script reached the host twice: both round trips count
    expect(statusOf(retried, h.name)?.roundTrips).toBe(2);
    expect(cutting.connections()).toBe(2);
    expect(retried.stdout).toMatch(/connection lost while reading facts: .*; connecting again \(retry 1 of 1/);

    const once = await relayTo(h, { cutAfterClientBytes: cutAt });
    const lost = await provision(['-i', inventory({ [h.name]: { ...vars, ansible_port: once.port } }), '--check']);
    expect(lost.code, lost.stdout + lost.stderr).toBe(4);
    expect(statusOf(lost, h.name)?.status).toBe('unreachable');
    expect(lost.stdout).toMatch(/connection lost while reading facts/);
    expect(once.connections()).toBe(1);
  });
});

describe('a host gone silent (a partition: the connection open, nothing gets through)', () => {
  it("is given up by ssh's keepalive, the admin's ServerAlive* first, else the toolkit's (a minute), with no --remote-timeout to end it; the other hosts finish; nothing left", async () => {
    const [quick, slow, fine] = [pull[0]!, pull[1]!, pull[2]!];
    const cp = join(work, 'silent-cp');
    mkdirSync(cp);
    const silenceAt = await bytesWhileFactsTravel(quick);
    const [toQuick, toSlow] = [await relayTo(quick, { silenceAfterClientBytes: silenceAt }), await relayTo(slow, { silenceAfterClientBytes: silenceAt })];
    const hosts = inventory({
      // The admin's own keepalive (first on the command line, so it wins over the toolkit's).
      [quick.name]: {
        ansible_host: '127.0.0.1',
        ansible_port: toQuick.port,
        ...throughRelay(quick),
        ansible_ssh_extra_args: '-o ServerAliveInterval=1 -o ServerAliveCountMax=2',
      },
      // The toolkit's own: ServerAliveInterval=15, ServerAliveCountMax=4.
      [slow.name]: { ansible_host: '127.0.0.1', ansible_port: toSlow.port, ...throughRelay(slow) },
      [fine.name]: rootLogin(fine),
    });
    const run = await provision(['-i', hosts, '--check', '--remote-timeout', '0'], { ANSIBLE_SSH_CONTROL_PATH_DIR: cp });
    expect(run.code, run.stdout + run.stderr).toBe(4);
    for (const h of [quick, slow]) {
      expect(statusOf(run, h.name)?.status, h.name).toBe('unreachable');
      expect(statusOf(run, h.name)?.message, h.name).toBe('connection lost while reading facts: Timeout, server 127.0.0.1 not responding.');
    }
    expect(statusOf(run, fine.name)?.status).toMatch(/^(ok|changed)$/);
    // The admin's keepalive (seconds) gave its host up before the toolkit's (a minute) did.
    const gaveUp = (h: LabHost) => run.stdout.indexOf(`${h.name} | UNREACHABLE`);
    expect(gaveUp(quick)).toBeGreaterThan(-1);
    expect(gaveUp(quick)).toBeLessThan(gaveUp(slow));
    expect([toQuick.connections(), toSlow.connections()]).toEqual([1, 1]);
    expectNothingLeftIn(cp);
  }, 240_000);
});

describe("a host's output as it arrives", () => {
  it.each(['ssh', 'paramiko'])('%s: a character split between two reads stays one character (stdout, stderr and what is streamed)', async (transport) => {
    const h = pull[2]!;
    const sessions = connector();
    try {
      const session = await sessions.open(connectionFor(h.name, rootLogin(h), { timeoutMs: 30_000, hostKeyChecking: true, transport }));
      // Twice: the script that logs in (with OpenSSH, the one that makes the master), then one
      // through the connection made.
      for (const round of ['connecting', 'connected']) {
        const streamed: string[] = [];
        // é is c3 a9: the two bytes leave the host in two writes, a pause between them.
        const r = await session.run(joinCommand([raw(String.raw`printf '\303'; printf '\303' >&2; sleep 0.3; printf '\251\n'; printf '\251\n' >&2`)]), (text) =>
          streamed.push(text),
        );
        expect(r.code, `${round}: ${r.stderr}`).toBe(0);
        expect(r.stdout, round).toBe('é\n');
        expect(r.stderr, round).toBe('é\n');
        expect(streamed.join(''), round).toBe('é\n');
      }
      expect(session.roundTrips()).toBe(2);
    } finally {
      await sessions.close();
    }
  });
});

describe("what ssh's own log cannot tell", () => {
  it("a -q in the admin's arguments silences ssh's log: a script that fails is still the host's failure, not a connection's", async () => {
    const h = pull[1]!;
    const vars = { ...rootLogin(h), ansible_ssh_extra_args: '-q', ansible_become: true, ansible_become_user: '', ansible_become_exe: '/bin/false' };
    // -vvvv puts ssh's -vvv before the extra args, whose -q then silences the log entirely.
    const run = await provision(['-i', inventory({ [h.name]: vars }), '--check', '-vvvv']);
    expect(run.code, run.stdout + run.stderr).toBe(2);
    expect(statusOf(run, h.name)).toMatchObject({ status: 'failed', message: 'cannot read facts: exit 1' });
  });

  it("an option this OpenSSH refuses (it says so before its log starts): named, with where ssh's options come from, and not retried", async () => {
    const h = pull[1]!;
    const mark = sshdLogMark(h);
    const vars = { ...rootLogin(h), ansible_ssh_retries: 2, ansible_ssh_extra_args: '-o BogusOption=yes' };
    const run = await provision(['-i', inventory({ [h.name]: vars }), '--check']);
    expect(statusOf(run, h.name)?.status, run.stdout + run.stderr).toBe('unreachable');
    expect(run.stdout).toMatch(
      /ssh refused its options before connecting to \S+: command-line: line 0: Bad configuration option: bogusoption; check ansible_ssh_args/,
    );
    expect(run.stdout).not.toMatch(/logged nothing|connecting again/);
    expect(sshdLogSince(h, mark)).not.toMatch(/Connection from|Accepted/);
  });

  it.each([
    ['RequestTTY force', 'a terminal would echo the script and the sudo password'],
    ['RemoteCommand exec bash -l', 'ssh refuses a command with it'],
    ['RequestTTY yes\n  RemoteCommand tmux new -A -s main', 'the usual pair for interactive logins'],
  ])('an ssh_config kept for interactive logins (%s: %s) gives way, as to OpenSSH scp: the facts and the apply run', async (lines) => {
    const h = pull[2]!;
    const config = join(mkdtempSync(join(work, 'interactive-')), 'ssh_config');
    writeFileSync(config, `Host *\n  ${lines}\n`);
    const vars = { ...rootLogin(h), ansible_ssh_common_args: `${rootLogin(h).ansible_ssh_common_args} -F ${config}` };
    const run = await provision(['-i', inventory({ [h.name]: vars })]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(statusOf(run, h.name)?.status).toMatch(/^(ok|changed)$/);
    // A second run over the same config finds nothing to change: the facts were read right.
    const again = await provision(['-i', inventory({ [h.name]: vars })]);
    expect(statusOf(again, h.name)).toMatchObject({ status: 'ok', changes: [] });
  });

  it('a failure of this machine is not retried (the master cannot make its socket), before the login or after it', async () => {
    const h = pull[1]!;
    // The run's socket is DIR/tp-ssh-XXXXXX/c0 (17 bytes after DIR). ssh refuses a ControlPath of
    // 108 bytes or more before it connects; one of 100 passes that check, but the master first
    // listens on it plus 17 bytes (a temporary name), which fails once logged in.
    const dirOf = (socketLength: number) => {
      const base = shortFolder('tp-long-');
      const dir = join(base, 'd'.repeat(socketLength - 17 - base.length - 1));
      mkdirSync(dir);
      return dir;
    };
    for (const [socketLength, logins, said] of [
      [100, 1, /too long for Unix domain socket/],
      [120, 0, /ControlPath too long/],
    ] as const) {
      const mark = sshdLogMark(h);
      const vars = { ...rootLogin(h), ansible_ssh_retries: 2, ansible_control_path_dir: dirOf(socketLength) };
      // A run (--check makes no master); it fails before any change.
      const run = await provision(['-i', inventory({ [h.name]: vars })]);
      expect(statusOf(run, h.name)?.status, run.stdout + run.stderr).toBe('unreachable');
      expect(run.stdout).toMatch(said);
      expect(run.stdout).not.toMatch(/connecting again/);
      expect(sshdLogSince(h, mark).match(/Accepted publickey/g) ?? []).toHaveLength(logins);
      // --check makes no socket (ControlPath=none): the same folder does not stop it.
      const check = await provision(['-i', inventory({ [h.name]: vars }), '--check']);
      expect(statusOf(check, h.name)?.status, check.stdout + check.stderr).toMatch(/^(ok|changed)$/);
    }
  });
});

describeWith(ANSIBLE_CORE, "which of Ansible's names for one setting wins, judged by ansible itself on the same relays", () => {
  /** ansible's ad-hoc `raw` (no Python needed on the host) through its ssh connection, no master
   *  kept; run asynchronously, since the relays it goes through live in this process. */
  function ansibleRaw(inventoryFile: string, host: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
    const child = spawn('ansible', ['-i', inventoryFile, host, '-m', 'raw', '-a', 'true'], {
      env: { ...process.env, ANSIBLE_SSH_ARGS: '-o ControlMaster=no', ANSIBLE_STDOUT_CALLBACK: 'minimal', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    return new Promise((done) => child.on('close', (code) => done(`exit ${code}: ${output}`)));
  }

  it('ansible_ssh_port over ansible_port, ansible_ssh_user over ansible_user, ansible_ssh_host over ansible_host, whatever their order in the file', async () => {
    const h = pull[1]!;
    const good = await relayTo(h);
    const decoy = await relayTo(h, { refuse: Number.POSITIVE_INFINITY });
    // The winning names first in the file: what decides is Ansible's list, not the order written.
    const ports = inventory({
      [h.name]: {
        ansible_ssh_port: good.port,
        ansible_port: decoy.port,
        ansible_host: '127.0.0.1',
        ...throughRelay(h),
        ansible_ssh_user: 'root',
        ansible_user: 'tp-nobody',
      },
    });
    const run = await provision(['-i', ports, '--check']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect([good.connections(), decoy.connections()]).toEqual([1, 0]);
    expect(await ansibleRaw(ports, h.name)).toMatch(/^exit 0:/);
    expect([good.connections(), decoy.connections()]).toEqual([2, 0]);

    // The same port on two loopback addresses: only the address differs.
    const goodHost = await relayTo(h, { address: '127.0.0.1' });
    const decoyHost = await relayTo(h, { refuse: Number.POSITIVE_INFINITY, address: '127.0.0.2', port: goodHost.port });
    const hosts = inventory({ [h.name]: { ansible_ssh_host: '127.0.0.1', ansible_host: '127.0.0.2', ansible_port: goodHost.port, ...throughRelay(h) } });
    const viaHost = await provision(['-i', hosts, '--check']);
    expect(viaHost.code, viaHost.stdout + viaHost.stderr).toBe(0);
    expect([goodHost.connections(), decoyHost.connections()]).toEqual([1, 0]);
    expect(await ansibleRaw(hosts, h.name)).toMatch(/^exit 0:/);
    expect([goodHost.connections(), decoyHost.connections()]).toEqual([2, 0]);
  });

  it('the port of ansible.cfg ([defaults] remote_port) and of ANSIBLE_REMOTE_PORT when the inventory sets none', async () => {
    const h = pull[1]!;
    const cfgRelay = await relayTo(h);
    const noPort = inventory({ [h.name]: { ansible_host: '127.0.0.1', ...throughRelay(h) } });
    const cfg = join(mkdtempSync(join(work, 'cfg-')), 'ansible.cfg');
    writeFileSync(cfg, `[defaults]\nremote_port = ${cfgRelay.port}\n`);
    const fromCfg = await provision(['-i', noPort, '--check'], { ANSIBLE_CONFIG: cfg });
    expect(fromCfg.code, fromCfg.stdout + fromCfg.stderr).toBe(0);
    expect(cfgRelay.connections()).toBe(1);
    expect(await ansibleRaw(noPort, h.name, { ANSIBLE_CONFIG: cfg })).toMatch(/^exit 0:/);
    expect(cfgRelay.connections()).toBe(2);

    const envRelay = await relayTo(h);
    const fromEnv = await provision(['-i', noPort, '--check'], { ANSIBLE_REMOTE_PORT: String(envRelay.port) });
    expect(fromEnv.code, fromEnv.stdout + fromEnv.stderr).toBe(0);
    expect(envRelay.connections()).toBe(1);
    expect(await ansibleRaw(noPort, h.name, { ANSIBLE_REMOTE_PORT: String(envRelay.port) })).toMatch(/^exit 0:/);
    expect(envRelay.connections()).toBe(2);
  });
});

describe('nothing left behind', () => {
  it('one handshake per host for facts and apply; every master and control socket gone at the end', async () => {
    const h = pull[2]!;
    const cp = join(work, 'cp');
    mkdirSync(cp);
    // Something to change, so the run takes both round trips (a converged host takes one).
    await mustOnHost(info, h.name, 'rm -f /etc/trento/agent.yaml');
    const mark = sshdLogMark(h);
    const vars = rootLogin(h);
    const run = await provision(['-i', inventory({ [h.name]: vars })], { ANSIBLE_SSH_CONTROL_PATH_DIR: cp });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(statusOf(run, h.name)).toMatchObject({ status: 'changed', roundTrips: 2 });
    expect(sshdLogSince(h, mark).match(/Accepted publickey/g)).toHaveLength(1);
    expectNothingLeftIn(cp);
  });

  it.each([
    // --check makes no master of the run's own: with a ControlPath of the admin's it makes one there.
    { run: "--check with the admin's ControlPath", args: ['--check'], adminControlPath: true },
    { run: 'a run', args: [], adminControlPath: false },
  ])(
    '$run: a converged host (nothing left to run) lets its master go as soon as its facts are in, not once the last host has answered',
    async ({ args, adminControlPath }) => {
      const [fast, slow] = [pull[2]!, pull[0]!];
      // Converged first: its plan then has nothing to change and every check held by its facts.
      const converge = await provision(['-i', inventory({ [fast.name]: rootLogin(fast) })]);
      expect(converge.code, converge.stdout + converge.stderr).toBe(0);
      // The slow host's ssh waits for a file this test makes only once it has seen the fast host's
      // session end in that host's sshd log (or after 45 s): without the early close, that end
      // would come only after the slow host's facts.
      const dir = mkdtempSync(join(work, 'early-close-'));
      const go = join(dir, 'go');
      const wrapper = join(dir, 'ssh-waiting');
      writeFileSync(
        wrapper,
        `#!/bin/sh\ncase "$*" in *'${slow.address}'*) for i in $(seq 600); do [ -e '${go}' ] && break; sleep 0.1; done ;; esac\nexec ssh "$@"\n`,
      );
      chmodSync(wrapper, 0o755);
      const log = join(info.labDir, 'hosts', fast.name, 'upper', 'var', 'log', 'sshd.log');
      const before = readFileSync(log, 'utf8').length;
      const hosts = inventory({ [fast.name]: rootLogin(fast), [slow.name]: { ...rootLogin(slow), ansible_ssh_executable: wrapper } });
      const sockets = adminControlPath ? shortFolder('tp-ec-') : undefined;
      const env = sockets ? { ANSIBLE_SSH_ARGS: `-C -o ControlMaster=auto -o ControlPersist=60s -o ControlPath=${sockets}/cm-%C` } : {};
      const run = provision(['-i', hosts, ...args], env);
      const ended = () => /Disconnected from user root /.test(readFileSync(log, 'utf8').slice(before));
      const deadline = Date.now() + 45_000;
      while (!ended() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const closedBeforeTheSlowHost = ended();
      writeFileSync(go, '');
      const done = await run;
      expect(done.code, done.stdout + done.stderr).toBe(0);
      expect(statusOf(done, fast.name)).toMatchObject({ status: 'ok', roundTrips: 1 });
      expect(closedBeforeTheSlowHost).toBe(true);
      if (sockets) expectNothingLeftIn(sockets);
    },
  );

  it("the admin's own ControlPath in ssh_args (it wins, as with Ansible): the master this run made there is closed at the end; one the admin had open is used and left open", async () => {
    const h = pull[2]!;
    // %C is 40 bytes: the folder's path must be short.
    const sockets = shortFolder('tp-cp-');
    const sshArgs = `-C -o ControlMaster=auto -o ControlPersist=60s -o ControlPath=${sockets}/cm-%C`;
    const vars = rootLogin(h);
    // A run and --check (which makes no master of the run's own): both make theirs at the
    // admin's path, log in once and leave nothing there.
    for (const args of [[], ['--check']]) {
      const before = sshdLogMark(h);
      const run = await provision(['-i', inventory({ [h.name]: vars }), ...args, '-vvvv'], { ANSIBLE_SSH_ARGS: sshArgs });
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(run.stdout).toMatch(/control_persist_detach: backgrounding master process/);
      expect(sshdLogSince(h, before).match(/Accepted publickey/g)).toHaveLength(1);
      expectNothingLeftIn(sockets);
    }

    // The admin's own master, open before the run: the run goes through it (no login of its
    // own) and leaves it as it found it.
    const adminSsh = ['-o', `ControlPath=${sockets}/cm-%C`, '-o', `UserKnownHostsFile=${info.knownHosts}`, '-i', info.keyFile, '-l', 'root'];
    sh('ssh', [...adminSsh, '-o', 'BatchMode=yes', '-M', '-N', '-f', h.address]);
    cleanups.push(() => spawnSync('ssh', [...adminSsh, '-O', 'exit', h.address], { stdio: 'ignore' })); // gone already: fine
    expect(processesMentioning(sockets)).toHaveLength(1);
    let mark = sshdLogMark(h);
    const reused = await provision(['-i', inventory({ [h.name]: vars }), '--check'], { ANSIBLE_SSH_ARGS: sshArgs });
    expect(reused.code, reused.stdout + reused.stderr).toBe(0);
    expect(sshdLogSince(h, mark).match(/Accepted publickey/g)).toBeNull();
    expect(processesMentioning(sockets)).toHaveLength(1);
    expect(readdirSync(sockets)).toHaveLength(1);
    // A first script that fails through that master (here the "sudo" is /bin/false) failed on
    // the host: ssh logs no login there, but the session opened, so the host was reached.
    // (become_user '': sudo's own default, root, so the "sudo" runs though the login is root)
    const failingBecome = { ...vars, ansible_become: true, ansible_become_user: '', ansible_become_exe: '/bin/false' };
    mark = sshdLogMark(h);
    const failing = await provision(['-i', inventory({ [h.name]: failingBecome }), '--check'], { ANSIBLE_SSH_ARGS: sshArgs });
    expect(failing.code, failing.stdout + failing.stderr).toBe(2);
    expect(statusOf(failing, h.name)).toMatchObject({ status: 'failed', message: expect.stringMatching(/^cannot read facts: /) });
    expect(sshdLogSince(h, mark).match(/Accepted publickey/g)).toBeNull();
    expect(processesMentioning(sockets)).toHaveLength(1);
    execFileSync('ssh', [...adminSsh, '-O', 'exit', h.address], { stdio: 'ignore' });

    // -S in ssh_args (it beats every -o ControlPath): the master this run made there is closed too.
    const viaS = await provision(['-i', inventory({ [h.name]: vars }), '--check'], {
      ANSIBLE_SSH_ARGS: `-C -o ControlMaster=auto -o ControlPersist=60s -S ${sockets}/s-%C`,
    });
    expect(viaS.code, viaS.stdout + viaS.stderr).toBe(0);
    expectNothingLeftIn(sockets);
  });

  it("Ansible's control_path template and a host's ansible_control_path_dir: the master's socket where they say, in the run's private folder; closed and gone at the end", async () => {
    const h = pull[2]!;
    const cp = shortFolder('tp-cpd-');
    const vars = {
      ...rootLogin(h),
      ansible_control_path_dir: cp,
    };
    // A run (--check makes no master of the run's own).
    const run = await provision(['-i', inventory({ [h.name]: vars }), '-vvvv'], { ANSIBLE_SSH_CONTROL_PATH: '%(directory)s/cm-%%h' });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    // ssh's own account (-vvv, shown at -vvvv) of where it made the master's socket
    const escaped = cp.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    expect(run.stdout).toMatch(new RegExp(`muxserver_listen: temporary control path ${escaped}/tp-ssh-\\w+/c0\\.d/cm-${h.address.replace(/\./g, '\\.')}\\.`));
    expectNothingLeftIn(cp);
  });

  it("--check (one round trip per host) forks no master: one login, ssh's own log shows no master; a run makes one", async () => {
    const h = pull[2]!;
    const vars = rootLogin(h);
    const master = /control_persist_detach: backgrounding master process/;
    let mark = sshdLogMark(h);
    const check = await provision(['-i', inventory({ [h.name]: vars }), '--check', '-vvvv']);
    expect(check.code, check.stdout + check.stderr).toBe(0);
    expect(statusOf(check, h.name)).toMatchObject({ roundTrips: 1 });
    expect(check.stdout).toMatch(/Authenticated to /);
    expect(check.stdout).not.toMatch(master);
    expect(check.stdout).not.toMatch(/muxserver_listen/);
    expect(sshdLogSince(h, mark).match(/Accepted publickey/g)).toHaveLength(1);
    mark = sshdLogMark(h);
    const run = await provision(['-i', inventory({ [h.name]: vars }), '-vvvv']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(master);
    expect(sshdLogSince(h, mark).match(/Accepted publickey/g)).toHaveLength(1);
  });

  it('a converged host costs one ssh process, a changed one two; masters are closed without another ssh', async () => {
    const h = pull[2]!;
    const cp = join(work, 'cp-count');
    mkdirSync(cp);
    // ansible_ssh_executable: a wrapper that notes every ssh the toolkit starts, the program
    // that started it, and the `_` it was started with (a shell that execs a command sets `_` to
    // that command's path; a process started directly by node inherits the toolkit's), then is ssh.
    const calls = join(work, 'ssh-calls');
    const parents = join(work, 'ssh-parents');
    const underscores = join(work, 'ssh-underscores');
    const wrapper = join(work, 'ssh-counting');
    writeFileSync(
      wrapper,
      `#!/bin/sh\nprintf '%s\\n' "$*" >> '${calls}'\nps -o comm= -p $PPID >> '${parents}'\n` +
        `tr '\\0' '\\n' < /proc/$$/environ | grep '^_=' >> '${underscores}'\nexec ssh "$@"\n`,
    );
    chmodSync(wrapper, 0o755);
    const inv = inventory({
      [h.name]: {
        ansible_host: h.address,
        ansible_user: 'root',
        ansible_ssh_private_key_file: info.keyFile,
        ansible_ssh_executable: wrapper,
        ansible_ssh_common_args: `-o UserKnownHostsFile=${info.knownHosts}`,
      },
    });
    const sshCalls = () => readFileSync(calls, 'utf8').trim().split('\n').filter(Boolean);
    await mustOnHost(info, h.name, 'rm -f /etc/trento/agent.yaml');
    writeFileSync(calls, '');
    const env = { ANSIBLE_SSH_CONTROL_PATH_DIR: cp, _: 'started-by-the-test' };
    const changed = await provision(['-i', inv], env);
    expect(changed.code, changed.stdout + changed.stderr).toBe(0);
    expect(statusOf(changed, h.name)).toMatchObject({ status: 'changed', roundTrips: 2 });
    expect(sshCalls()).toHaveLength(2);
    writeFileSync(calls, '');
    const warm = await provision(['-i', inv], env);
    expect(warm.code, warm.stdout + warm.stderr).toBe(0);
    expect(statusOf(warm, h.name)).toMatchObject({ status: 'ok', roundTrips: 1 });
    // The one ssh logged in (-v into the run's log) and forked the master; no `-O exit` after it.
    expect(sshCalls()).toHaveLength(1);
    expect(sshCalls()[0]).toMatch(/ -v -E \S+\.log -- /);
    // Started by the toolkit itself, with no shell in between: none waits beside it, and none
    // was started (and exec'd ssh) on the way.
    expect(readFileSync(parents, 'utf8').trim().split('\n')).toEqual(['node', 'node', 'node']);
    expect(readFileSync(underscores, 'utf8').trim().split('\n')).toEqual(['_=started-by-the-test', '_=started-by-the-test', '_=started-by-the-test']);
    expectNothingLeftIn(cp);
  });

  it('terminateMaster asks a real master to exit through its socket, as ssh -O exit does, or to stop listening, as ssh -O stop does', async () => {
    const dir = mkdtempSync(join(work, 'mux-'));
    const socket = join(dir, 's');
    onLabHostWith(pull[0]!, ['-o', 'ControlMaster=auto', '-o', 'ControlPersist=60s', '-o', `ControlPath=${socket}`], 'true');
    expect(processesMentioning(socket)).toHaveLength(1);
    expect(await terminateMaster(socket)).toEqual({ kind: 'terminated' });
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && (existsSync(socket) || processesMentioning(socket).length > 0)) await new Promise((r) => setTimeout(r, 20));
    expect(existsSync(socket)).toBe(false);
    expect(processesMentioning(socket)).toEqual([]);
    // Nothing listening any more: nothing to terminate, and no error.
    expect(await terminateMaster(socket)).toEqual({ kind: 'no-master' });

    // stop (ssh -O stop): a session another client has open on the master ends as it would, then the master goes.
    onLabHostWith(pull[0]!, ['-o', 'ControlMaster=auto', '-o', 'ControlPersist=60s', '-o', `ControlPath=${socket}`], 'true');
    const other = spawn('ssh', ['-F', info.sshConfig, '-o', `ControlPath=${socket}`, pull[0]!.name, 'echo started; sleep 1; echo finished'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let said = '';
    other.stdout.on('data', (c: Buffer) => (said += c.toString()));
    const ended = new Promise<number | null>((r) => other.on('close', r));
    // Its session is open on the master (it runs on the host) before the master is told to stop.
    await until(() => said.includes('started'), 'the second session to start on the host');
    // ...through the master: the client has no TCP connection of its own (ss lists each socket's processes)
    expect(execFileSync('ss', ['-tnpH'], { encoding: 'utf8' })).not.toContain(`pid=${other.pid},`);
    expect(await terminateMaster(socket, 5000, 'stop')).toEqual({ kind: 'terminated' });
    expect(await ended).toBe(0);
    expect(said).toBe('started\nfinished\n');
    const gone = Date.now() + 5000;
    while (Date.now() < gone && processesMentioning(socket).length > 0) await new Promise((r) => setTimeout(r, 20));
    expect(processesMentioning(socket)).toEqual([]);
  });

  it('SIGTERM during the run (a supervisor stopping it): the run stops at once, not after the hosts in flight; no ssh process and no socket remain', async () => {
    const cp = join(work, 'cp-term');
    mkdirSync(cp);
    const inv = interruptedHosts();
    // A run, not --check (which makes no master); interrupted while the facts are read, before any change.
    const { child, out, exited } = startProvision(['-i', inv], { ANSIBLE_SSH_CONTROL_PATH_DIR: cp }, false);
    // Wait until at least one master is up, then one SIGTERM.
    await until(() => controlSockets(cp).length > 0);
    expect(controlSockets(cp).length, out()).toBeGreaterThan(0);
    child.kill('SIGTERM');
    expect(await exited, out()).toBe(99);
    expect(out()).toMatch(/SIGTERM: dropping every connection/);
    // Interrupted while the facts were read: no host was changed, and none is blamed.
    expect(out()).not.toMatch(/changed=[1-9]/);
    expect(out()).not.toMatch(/UNREACHABLE/);
    expectNothingLeftIn(cp);
  });

  it.each(['SIGTERM', 'SIGHUP'] as const)('%s during --check (no master: the ssh commands in flight): the run stops them, nothing remains', async (signal) => {
    const cp = join(work, `cp-check-${signal}`);
    mkdirSync(cp);
    // ansible_ssh_executable: a wrapper that holds each host's ssh for a minute before it starts
    // it, so the signal finds every host in flight (its command line names the run's folder).
    // One that outlives its wait says so in a file. One sleep, not a loop of short ones: each
    // fork is for a moment a second process with the wrapper's command line, which the count of
    // processes naming the run's folder below would see.
    const wrapper = join(work, `ssh-held-${signal}`);
    const outlived = join(work, `ssh-held-${signal}-outlived`);
    writeFileSync(wrapper, `#!/bin/sh\nsleep 60\ntouch '${outlived}'\nexec ssh "$@"\n`);
    chmodSync(wrapper, 0o755);
    const inv = interruptedHosts({ ansible_ssh_executable: wrapper });
    const { child, out, exited } = startProvision(['-i', inv, '--check'], { ANSIBLE_SSH_CONTROL_PATH_DIR: cp }, false);
    // (until fails past its wait: a second count here could see a wrapper's sleep between its
    // fork and its exec, the wrapper's command line for a moment)
    await until(() => processesMentioning(cp).length === 3);
    expect(controlSockets(cp)).toEqual([]);
    child.kill(signal);
    // After a hangup the process ends by SIGHUP itself once its reports are written (129).
    expect(await exited, out()).toBe(signal === 'SIGHUP' ? 129 : 99);
    expect(out()).toMatch(new RegExp(`${signal}: dropping every connection`));
    expectNothingLeftIn(cp);
    expect(existsSync(outlived)).toBe(false);
  });

  it('an ssh that ignores SIGTERM is killed after a grace; a second SIGTERM while the run waits for it leaves at once (143), the ssh killed and the folder gone', async () => {
    // ansible_ssh_executable: a wrapper (a ProxyCommand-like helper of the admin's, say) that
    // ignores SIGTERM, as does the sleep it starts; it writes its pid so the test can look.
    const dir = mkdtempSync(join(work, 'ssh-deaf-'));
    const wrapper = join(dir, 'ssh-deaf');
    writeFileSync(wrapper, `#!/bin/sh\ntrap '' TERM\necho $$ > "${dir}/pid.$$"\nsleep 120\n`);
    chmodSync(wrapper, 0o755);
    const pids = () =>
      readdirSync(dir)
        .filter((f) => f.startsWith('pid.'))
        .map((f) => Number(f.slice(4)));
    // Running, not a zombie waiting for init to reap it (a killed child of the toolkit's).
    const alive = (pid: number) => {
      try {
        return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
      } catch {
        return false;
      }
    };
    const inv = interruptedHosts({ ansible_ssh_executable: wrapper });
    /** A --check with its control folder `cp`, once every host's "ssh" runs; then one SIGTERM. */
    const terminatedInFlight = async (cp: string) => {
      for (const f of readdirSync(dir)) if (f.startsWith('pid.')) rmSync(join(dir, f));
      mkdirSync(cp);
      const run = startProvision(['-i', inv, '--check'], { ANSIBLE_SSH_CONTROL_PATH_DIR: cp }, false);
      await until(() => pids().length === 3);
      expect(pids().length, run.out()).toBe(3);
      run.child.kill('SIGTERM');
      return run;
    };

    // One SIGTERM: the run sends SIGTERM, then SIGKILL after the grace; it ends (99), nothing left.
    const cp1 = join(dir, 'cp1');
    const first = await terminatedInFlight(cp1);
    expect(await first.exited, first.out()).toBe(99);
    await until(() => pids().filter(alive).length === 0, 'the held ssh processes to be gone');
    expectNothingLeftIn(cp1);

    // A second SIGTERM during that grace: no wait for it.
    const cp2 = join(dir, 'cp2');
    const second = await terminatedInFlight(cp2);
    await until(() => /SIGTERM: dropping every connection/.test(second.out()));
    second.child.kill('SIGTERM');
    expect(await second.exited, second.out()).toBe(143);
    expect(second.out()).toMatch(/SIGTERM while closing the connections: leaving now/);
    // Nothing else would end them now (they ignore SIGTERM and sleep 120 s): the exit killed them
    // (SIGKILL sent as it left: each is gone once the kernel has run it, a moment later).
    await until(() => pids().filter(alive).length === 0, 'the held ssh processes to be gone');
    expectNothingLeftIn(cp2);
  });

  it('the terminal closing (SIGHUP, the toolkit its session leader): the connections dropped, the reports written, the process ended by the hangup, not aborting; nothing left', async () => {
    const dir = mkdtempSync(join(work, 'hangup-'));
    const cp = join(dir, 'cp');
    mkdirSync(cp);
    // ansible_ssh_executable: holds each host's "ssh" (a sleep) and says it started.
    const wrapper = join(dir, 'ssh-waits');
    writeFileSync(wrapper, `#!/bin/sh\necho $$ > "${dir}/pid.$$"\nexec sleep 120\n`);
    chmodSync(wrapper, 0o755);
    const json = join(dir, 'report.json');
    // A terminal of its own (python's pty): read until every host's ssh runs, then hang it up.
    const terminal = `
import os, pty, select, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
deadline = time.time() + 60
while time.time() < deadline and len([f for f in os.listdir(${JSON.stringify(dir)}) if f.startswith('pid.')]) < 3:
    if select.select([fd], [], [], 0.05)[0]:
        try:
            os.read(fd, 65536)
        except OSError:
            break
os.close(fd)
status = os.waitpid(pid, 0)[1]
print('signal %d' % os.WTERMSIG(status) if os.WIFSIGNALED(status) else 'exit %d' % os.WEXITSTATUS(status))
`;
    const inv = interruptedHosts({ ansible_ssh_executable: wrapper });
    const ended = spawnSync('python3', ['-c', terminal, ...compiledCli('provision'), '-i', inv, '--check', '--json', json], {
      cwd: repoRoot,
      env: { ...process.env, NO_COLOR: '1', ANSIBLE_SSH_CONTROL_PATH_DIR: cp },
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(ended.stderr).toBe('');
    // SIGHUP (1), not SIGABRT (6): Node 20's exit aborts on a terminal that is gone.
    expect(ended.stdout.trim()).toBe('signal 1');
    const report = JSON.parse(readFileSync(json, 'utf8')) as { hosts: { status: string; message?: string }[] };
    expect(report.hosts.map((x) => [x.status, x.message])).toEqual(Array(3).fill(['skipped', 'facts not read: cut by the interrupt']));
    expectNothingLeftIn(cp);
  });

  it('Ctrl-C on the terminal (SIGINT to the whole process group): hosts in flight finish through their master, exit 99, nothing left', async () => {
    const cp = join(work, 'cp-int');
    mkdirSync(cp);
    const inv = interruptedHosts();
    // A run, not --check (which makes no master); interrupted while the facts are read, before any change.
    const { child, out, exited } = startProvision(['-i', inv], { ANSIBLE_SSH_CONTROL_PATH_DIR: cp }, true);
    await until(() => controlSockets(cp).length > 0);
    expect(controlSockets(cp).length, out()).toBeGreaterThan(0);
    process.kill(-child.pid!, 'SIGINT');
    expect(await exited, out()).toBe(99);
    expect(out()).not.toMatch(/changed=[1-9]/);
    // The ssh processes are not in the terminal's group: the ^C did not cut the hosts in flight.
    expect(out()).not.toMatch(/UNREACHABLE|connection lost/);
    expectNothingLeftIn(cp);
  });
});
