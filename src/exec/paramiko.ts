// ansible_connection=paramiko: the in-process client (ssh2 through node-ssh), chosen
// explicitly, never a fallback. Its own module so that a run over OpenSSH (the default) never
// loads ssh2: the connector imports this file only when a host asks for paramiko, which keeps
// ~60 ms off every other run's start-up.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { StringDecoder } from 'node:string_decoder';
import { NodeSSH } from 'node-ssh';
import { type AuthenticationType, Client, type ClientChannel } from 'ssh2';
import { toShell } from './command.ts';
import { type ConnectionSpec, type JumpHost, KEEPALIVE } from './connection.ts';
import { findKnownKeys, fingerprint, keyTypeOf, lookupName, readKnownHostsFiles } from './known-hosts.ts';
import { ConnectError, remoteShell, type Session, wrapScript } from './session.ts';

async function defaultKey(): Promise<Buffer | undefined> {
  for (const name of ['id_ed25519', 'id_ecdsa', 'id_rsa']) {
    const path = `${homedir()}/.ssh/${name}`;
    if (existsSync(path)) return readFile(path);
  }
  return undefined;
}

function classify(error: Error, hostKeyProblem: string | undefined, spec: ConnectionSpec): ConnectError {
  if (hostKeyProblem) return new ConnectError('host-key', hostKeyProblem);
  const message = error.message || String(error);
  if (/Encrypted private|passphrase/i.test(message)) {
    return new ConnectError(
      'auth',
      `cannot use the private key of ${spec.user}@${spec.address}:${spec.port}: ${message}. ansible_connection=paramiko cannot ask ssh-agent for an encrypted key's identity; use ansible_connection=ssh (the default)`,
    );
  }
  if (/authentication methods failed|auth/i.test(message) && !/ECONN|timed out/i.test(message)) {
    return new ConnectError(
      'auth',
      `authentication failed for ${spec.user}@${spec.address}:${spec.port} (${message}); check ansible_user and ansible_ssh_private_key_file${spec.password !== undefined ? ', and the password offered (ansible_password / ansible_ssh_pass, -k, --connection-password-file)' : ''}`,
    );
  }
  return new ConnectError('unreachable', `cannot reach ${spec.address}:${spec.port}: ${message}`);
}

/** The host key check that OpenSSH's StrictHostKeyChecking=yes does, with a message saying what to do. */
export async function hostKeyPolicy(spec: Pick<ConnectionSpec, 'knownHostsFiles' | 'address' | 'port' | 'host' | 'strictHostKeyChecking'>) {
  const files = await readKnownHostsFiles(spec.knownHostsFiles);
  const names = [lookupName(spec.address, spec.port)];
  if (spec.host !== spec.address) names.push(lookupName(spec.host, spec.port));
  const known = findKnownKeys(files, names);
  const types = [...new Set(known.keys.map((k) => k.type))];
  let problem: string | undefined;
  const verify = (key: Buffer): boolean => {
    const fp = fingerprint(key);
    // A revoked key is refused even with checking off, as OpenSSH refuses it with
    // StrictHostKeyChecking=no: the admin marked it as a key no host may use any more.
    if (known.revoked.some((k) => k.blob.equals(key))) {
      problem = `host key ${fp} of ${spec.address} is marked @revoked in ${known.revoked[0]!.file}`;
      return false;
    }
    if (!spec.strictHostKeyChecking) return true;
    if (known.keys.some((k) => k.blob.equals(key))) return true;
    const where = spec.knownHostsFiles.join(', ');
    problem = known.keys.length
      ? `HOST KEY CHANGED for ${names[0]}: it now offers ${keyTypeOf(key)} ${fp}, which differs from ` +
        `${known.keys.map((k) => `${k.file}:${k.line}`).join(', ')}. This may be an attack or a reinstalled host. ` +
        `If the change is expected, remove the old entry (ssh-keygen -R '${names[0]}' -f ${known.keys[0]!.file}) and add the new one.`
      : `unknown host key for ${names[0]}: ${keyTypeOf(key)} ${fp} is not in ${where}. ` +
        `Check the fingerprint on the host (ssh-keygen -lf /etc/ssh/ssh_host_${keyTypeOf(key).replace(/^ssh-/, '')}_key.pub), ` +
        `then add it (ssh-keyscan -p ${spec.port} ${spec.address} >> ${spec.knownHostsFiles[0]}), ` +
        `or opt out of host key checking like Ansible (ANSIBLE_HOST_KEY_CHECKING=False).` +
        (known.certAuthorities ? ` (${where} has a @cert-authority for this host: host certificates need ansible_connection=ssh, the default.)` : '');
    return false;
  };
  return { verify, types, problem: () => problem };
}

async function readPrivateKey(spec: ConnectionSpec): Promise<Buffer | undefined> {
  // paramiko's look_for_keys = False: only ssh-agent's keys (and the password), as with Ansible.
  if (!spec.privateKeyPath) return spec.lookForKeys === false ? undefined : defaultKey();
  try {
    return await readFile(spec.privateKeyPath);
  } catch (error) {
    throw new ConnectError('auth', `cannot read private key ${spec.privateKeyPath}: ${(error as Error).message}`);
  }
}

/**
 * The host key algorithms to offer for the key types known_hosts has for the host. An RSA key
 * is written there as ssh-rsa, which is also the name of its SHA-1 signatures, which OpenSSH 8.8
 * and later no longer offer: its SHA-2 signatures first, as OpenSSH and paramiko offer them.
 */
function hostKeyAlgorithms(knownTypes: readonly string[]): string[] {
  return [...new Set(knownTypes.flatMap((t) => (t === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [t])))];
}

/** What ssh2 needs to authenticate and check the host key, for the target or a jump host. */
async function connectConfig(spec: ConnectionSpec, privateKey: Buffer | undefined) {
  const policy = await hostKeyPolicy(spec);
  const agent = process.env.SSH_AUTH_SOCK && !spec.privateKeyPath ? process.env.SSH_AUTH_SOCK : undefined;
  return {
    policy,
    config: {
      host: spec.address,
      port: spec.port,
      username: spec.user,
      ...(privateKey ? { privateKey: privateKey.toString('utf8') } : {}),
      ...(agent ? { agent } : {}),
      ...(spec.password !== undefined ? { password: spec.password } : {}),
      // The password last, as paramiko tries it (ssh2's own order sends it before any key): a
      // host that takes the key never sees it, nor counts it as a failed login.
      authHandler: [
        'none',
        ...(privateKey ? ['publickey'] : []),
        ...(agent ? ['agent'] : []),
        ...(spec.password !== undefined ? ['password'] : []),
      ] as AuthenticationType[],
      readyTimeout: spec.timeoutMs,
      keepaliveInterval: KEEPALIVE.intervalSeconds * 1000,
      keepaliveCountMax: KEEPALIVE.countMax,
      hostVerifier: (key: Buffer) => policy.verify(key),
      // Like OpenSSH: prefer the key types we already know for this host.
      ...(spec.strictHostKeyChecking && policy.types.length ? { algorithms: { serverHostKey: hostKeyAlgorithms(policy.types) as never } } : {}),
    },
  };
}

/**
 * ProxyJump: an SSH connection to each jump host in turn (same key, same known_hosts, same
 * strictness as the target, like OpenSSH's -J), each one tunnelled through the one before;
 * the last one opens a direct-tcpip channel to the target, which becomes the target's socket.
 */
async function openJumps(spec: ConnectionSpec, jumps: JumpHost[], privateKey: Buffer | undefined): Promise<{ sock: ClientChannel; clients: Client[] }> {
  const clients: Client[] = [];
  let sock: ClientChannel | undefined;
  const hops = [...jumps.map((j) => ({ address: j.address, port: j.port })), { address: spec.address, port: spec.port }];
  try {
    for (let i = 0; i < jumps.length; i++) {
      const j = jumps[i]!;
      // The target's password is the target's: never offered to a jump host (same key, same
      // known_hosts, as OpenSSH's -J).
      const jumpSpec: ConnectionSpec = {
        ...spec,
        host: j.address,
        address: j.address,
        port: j.port,
        user: j.user,
        password: undefined,
        become: undefined,
        jump: undefined,
      };
      const { policy, config } = await connectConfig(jumpSpec, privateKey);
      const client = new Client();
      clients.push(client);
      await new Promise<void>((resolveReady, reject) => {
        client.once('ready', () => resolveReady());
        // For the client's whole life, before it connects: ssh2 reports a failed handshake twice
        // (a timeout, then the lost connection), and a jump host that drops later fails the
        // target's connection. An error nobody hears would end the whole run.
        client.on('error', (error) => reject(classify(error, policy.problem(), jumpSpec)));
        client.connect({ ...config, ...(sock ? { sock } : {}) });
      });
      const next = hops[i + 1]!;
      sock = await new Promise<ClientChannel>((resolveChannel, reject) => {
        client.forwardOut('127.0.0.1', 0, next.address, next.port, (error, channel) => {
          if (error) {
            reject(new ConnectError('unreachable', `cannot reach ${next.address}:${next.port}: ${error.message}`));
          } else resolveChannel(channel);
        });
      });
    }
  } catch (error) {
    for (const c of clients) c.end();
    const jump = `${jumps.map((j) => `${j.user}@${j.address}:${j.port}`).join(' -> ')}`;
    if (error instanceof ConnectError) throw new ConnectError(error.failure, `via jump host ${jump}: ${error.message}`);
    throw new ConnectError('unreachable', `via jump host ${jump}: ${(error as Error).message}`);
  }
  return { sock: sock!, clients };
}

/** Opens the in-process connection (with its jump hosts) and runs scripts over it. */
export async function openParamikoSession(spec: ConnectionSpec): Promise<Session> {
  const privateKey = await readPrivateKey(spec);
  const { policy, config } = await connectConfig(spec, privateKey);
  const jumps = spec.jump?.length ? await openJumps(spec, spec.jump, privateKey) : undefined;
  // -vvvv: the client's own account of the login (key exchange, host key, the methods tried), as
  // OpenSSH's -vvv is shown for ssh; before the first script's stderr, or with a failed login.
  // ssh2 says which methods it sends, never a password or a key.
  const loginLog: string[] | undefined = spec.openssh.verbosity > 3 ? [] : undefined;
  const ssh = new NodeSSH();
  try {
    await ssh.connect({ ...config, ...(jumps ? { sock: jumps.sock } : {}), ...(loginLog ? { debug: (line: string) => loginLog.push(line) } : {}) });
  } catch (error) {
    ssh.dispose();
    for (const c of jumps?.clients ?? []) c.end();
    const failure = classify(error as Error, policy.problem(), spec);
    throw loginLog ? new ConnectError(failure.failure, `${failure.message}\n${loginLog.join('\n')}`) : failure;
  }
  // Shown once: taken by the first script's result.
  let loginAccount = loginLog?.length ? `${loginLog.join('\n')}\n` : '';
  const withLogin = (stderr: string) => {
    const shown = loginAccount + stderr;
    loginAccount = '';
    return shown;
  };
  // node-ssh drops its error listener once connected; without ours a reset socket would
  // crash the whole run instead of failing this one host.
  let lostReason = 'connection closed';
  ssh.connection?.on('error', (error: Error) => (lostReason = `connection lost: ${error.message}`));
  const connectionLost = new Promise<string>((resolveLost) => {
    ssh.connection?.once('close', () => resolveLost(lostReason));
  });
  let trips = 0;
  const shell = remoteShell(spec);
  return {
    host: spec.host,
    async run(script, onOutput, onErrorBytes) {
      trips++;
      if (!ssh.isConnected()) return { code: null, stdout: '', stderr: 'connection closed' };
      // The output as streams: node-ssh's own result decodes each read alone, so a character
      // split between two reads would come out as two replacement characters.
      const decoder = new StringDecoder('utf8');
      const errorDecoder = new StringDecoder('utf8');
      let seen = '';
      let seenErrors = '';
      let errorBytes = 0;
      try {
        const result = await Promise.race([
          ssh.execCommand(shell.command, {
            stdin: shell.stdinPrefix + wrapScript(toShell(script)),
            noTrim: true,
            onStdout: (chunk: Buffer) => {
              const text = decoder.write(chunk);
              seen += text;
              onOutput?.(text);
            },
            onStderr: (chunk: Buffer) => {
              seenErrors += errorDecoder.write(chunk);
              errorBytes += chunk.length;
              onErrorBytes?.(errorBytes);
            },
          }),
          // A dropped connection does not always close the channel: without this race a
          // killed sshd session would leave the run waiting forever.
          connectionLost.then((why) => ({ lost: why })),
        ]);
        if ('lost' in result) return { code: null, stdout: seen, stderr: withLogin(result.lost) };
        return { code: result.code, stdout: seen + decoder.end(), stderr: withLogin(seenErrors + errorDecoder.end()) };
      } catch (error) {
        return { code: null, stdout: seen, stderr: withLogin((error as Error).message) };
      }
    },
    roundTrips: () => trips,
    close: () => {
      ssh.dispose();
      for (const c of jumps?.clients ?? []) c.end();
    },
  };
}
