// A Kerberos realm for one lab, started and stopped by the test that needs it: Debian's MIT
// krb5kdc on the machine's end of the lab network (the bridge's gateway address, port 88), its
// database, stash, log and configuration in one folder of the lab. Nothing machine-wide: the
// processes that use the realm get KRB5_CONFIG / KRB5_KDC_PROFILE (env()), a lab host gets its
// own /etc/krb5.conf (krb5Conf()) in its overlay.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const LAB_REALM = 'LAB.TEST';

export interface Kdc {
  realm: string;
  /** The client configuration: the realm, its KDC, and no DNS (names are taken as given). */
  krb5Conf: string;
  /** For kinit, kadmin.local and the toolkit's ssh: this realm's files, not /etc's. */
  env(ccache?: string): NodeJS.ProcessEnv;
  addUser(name: string, password: string): void;
  /** A host principal host/NAME@REALM with a random key, and its keytab (for /etc/krb5.keytab). */
  hostKeytab(hostname: string): Buffer;
  /** kinit with a password (on stdin, never in argv) into the given credential cache. */
  kinit(principal: string, password: string, ccache: string): void;
  stop(): Promise<void>;
}

/**
 * Starts the lab's KDC in `dir` (made afresh: a new realm each time, so no test depends on an
 * earlier one). A KDC a killed test run left behind in the same folder is stopped first, by
 * the pid it wrote, so port 88 on the gateway is free again.
 */
export async function startKdc(gateway: string, dir: string): Promise<Kdc> {
  const pidFile = join(dir, 'kdc.pid');
  await stopStale(pidFile);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const log = join(dir, 'kdc.log');
  const kdcConf = join(dir, 'kdc.conf');
  const clientConf = join(dir, 'krb5.conf');
  writeFileSync(
    kdcConf,
    [
      '[kdcdefaults]',
      ` kdc_listen = ${gateway}:88`,
      ` kdc_tcp_listen = ${gateway}:88`,
      '[realms]',
      ` ${LAB_REALM} = {`,
      `  database_name = ${join(dir, 'principal')}`,
      `  key_stash_file = ${join(dir, 'stash')}`,
      `  acl_file = ${join(dir, 'kadm5.acl')}`,
      '  max_life = 1h',
      ' }',
      '[logging]',
      ` kdc = FILE:${log}`,
      ` admin_server = FILE:${join(dir, 'kadmin.log')}`,
      '',
    ].join('\n'),
  );
  // dns_canonicalize_hostname/rdns off: the service principal is host/<the name ssh was given>,
  // as in a data center whose DNS names are the hosts' canonical names.
  const krb5Conf = [
    '[libdefaults]',
    ` default_realm = ${LAB_REALM}`,
    ' dns_lookup_kdc = false',
    ' dns_lookup_realm = false',
    ' dns_canonicalize_hostname = false',
    ' rdns = false',
    '[realms]',
    ` ${LAB_REALM} = {`,
    `  kdc = ${gateway}:88`,
    ' }',
    '',
  ].join('\n');
  writeFileSync(clientConf, krb5Conf);
  const env = (ccache?: string): NodeJS.ProcessEnv => ({
    KRB5_CONFIG: clientConf,
    KRB5_KDC_PROFILE: kdcConf,
    ...(ccache !== undefined ? { KRB5CCNAME: `FILE:${ccache}` } : {}),
  });
  const run = (cmd: string, args: string[], input?: string) =>
    execFileSync(cmd, args, {
      encoding: 'utf8',
      env: { ...process.env, ...env() },
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(input !== undefined ? { input } : {}),
    });
  const kadmin = (query: string) => run('kadmin.local', ['-r', LAB_REALM, '-q', query]);

  // The master key is a throwaway: the realm lives as long as the test file.
  run('kdb5_util', ['create', '-s', '-r', LAB_REALM, '-P', `master-${process.pid}-${Date.now()}`]);
  const child = spawn('krb5kdc', ['-n', '-r', LAB_REALM, '-P', pidFile], { env: { ...process.env, ...env() }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  // Listening once it logs "commencing operation" (it logs the bind error otherwise).
  const deadline = Date.now() + 10_000;
  while (!(existsSync(log) && readFileSync(log, 'utf8').includes('commencing operation'))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGTERM');
      const tail = existsSync(log) ? readFileSync(log, 'utf8').split('\n').slice(-5).join('\n') : '';
      throw new Error(`krb5kdc did not start on ${gateway}:88 (${dir}): ${stderr}${tail}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }

  return {
    realm: LAB_REALM,
    krb5Conf,
    env,
    addUser(name, password) {
      kadmin(`addprinc -pw "${password}" ${name}`);
    },
    hostKeytab(hostname) {
      const keytab = join(dir, `${hostname}.keytab`);
      kadmin(`addprinc -randkey host/${hostname}`);
      kadmin(`ktadd -k ${keytab} host/${hostname}`);
      return readFileSync(keytab);
    },
    kinit(principal, password, ccache) {
      execFileSync('kinit', [principal], { env: { ...process.env, ...env(ccache) }, input: `${password}\n`, stdio: ['pipe', 'ignore', 'pipe'] });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(pidFile, { force: true });
    },
  };
}

/** Stops the krb5kdc whose pid an earlier run left in `pidFile` (only if it is one). */
async function stopStale(pidFile: string): Promise<void> {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  const comm = () => {
    try {
      return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    } catch {
      return ''; // gone
    }
  };
  if (!(pid > 0) || comm() !== 'krb5kdc') return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 5000;
  while (comm() === 'krb5kdc' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
}
