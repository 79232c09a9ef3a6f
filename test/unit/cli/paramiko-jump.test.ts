// The in-process client (ansible_connection=paramiko) against real SSH servers (ssh2's, on
// loopback, in this process): which credentials reach a jump host and the target, and a jump
// host that breaks off its handshake fails that host alone, never the run.
import { connect, createServer, type Server as NetServer } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Connection, Server, utils } from 'ssh2';
import { sh } from '../../../src/exec/command.ts';
import type { ConnectionSpec } from '../../../src/exec/connection.ts';
import { openParamikoSession } from '../../../src/exec/paramiko.ts';
import { ConnectError } from '../../../src/exec/session.ts';

const dir = mkdtempSync(join(tmpdir(), 'tp-paramiko-jump-'));
/** An ed25519 key ssh2 can read back: its generator writes a public half that begins with a zero
 *  byte 31 bytes long, which its own parser then refuses ("Malformed OpenSSH private key"), about
 *  one key in 256 (2 of 500 tried): such a key is drawn again, not left to fail a run by chance. */
function ed25519Key(): string {
  for (;;) {
    const key = utils.generateKeyPairSync('ed25519').private;
    if (!(utils.parseKey(key) instanceof Error)) return key;
  }
}
const hostKey = ed25519Key();
const clientKey = join(dir, 'id_ed25519');
writeFileSync(clientKey, ed25519Key(), { mode: 0o600 });

const closers: (() => void)[] = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

const listen = async (server: Server | NetServer): Promise<number> => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => server.close());
  return (server.address() as { port: number }).port;
};

/** An SSH server that takes any public key and records every login attempt (a password with its value). */
function sshServer(attempts: string[], onReady: (client: Connection) => void): Server {
  return new Server({ hostKeys: [hostKey] }, (client) => {
    client.on('error', () => undefined);
    client.on('authentication', (ctx) => {
      attempts.push(ctx.method === 'password' ? `password:${ctx.password}` : ctx.method);
      if (ctx.method === 'publickey') return ctx.accept();
      ctx.reject(['publickey', 'password']);
    });
    client.on('ready', () => onReady(client));
  });
}

const spec = (port: number, jumpPort: number | undefined, extra: Partial<ConnectionSpec> = {}): ConnectionSpec =>
  ({
    host: 'db1',
    transport: 'paramiko',
    address: '127.0.0.1',
    port,
    user: 'root',
    privateKeyPath: clientKey,
    knownHostsFiles: [],
    strictHostKeyChecking: false,
    // a login that should succeed never runs into it on a busy machine (both ends are this
    // process); the silent jump hosts below have their own
    timeoutMs: 30_000,
    scriptTimeoutSeconds: 0,
    retries: 0,
    ...(jumpPort !== undefined ? { jump: [{ address: '127.0.0.1', port: jumpPort, user: 'jumper' }] } : {}),
    openssh: {},
    ...extra,
  }) as unknown as ConnectionSpec;

describe('paramiko through a jump host', () => {
  it("the target's password reaches neither the jump host nor, when the key is taken, the target", async () => {
    const seen = { bastion: [] as string[], target: [] as string[] };
    const target = await listen(sshServer(seen.target, () => undefined));
    const bastion = await listen(
      sshServer(seen.bastion, (client) =>
        client.on('tcpip', (accept, _reject, info) => {
          const channel = accept();
          const socket = connect(info.destPort, info.destIP);
          socket.on('error', () => undefined);
          channel.pipe(socket).pipe(channel);
        }),
      ),
    );
    const session = await openParamikoSession(spec(target, bastion, { password: 'TARGET-ROOT-PASSWORD' }));
    session.close();
    expect(seen.bastion).toContain('publickey');
    expect(seen.target).toContain('publickey');
    expect([...seen.bastion, ...seen.target].filter((a) => a.startsWith('password'))).toEqual([]);
  });

  it('a password is still offered to the target when its key is refused', async () => {
    const attempts: string[] = [];
    const target = await listen(
      new Server({ hostKeys: [hostKey] }, (client) => {
        client.on('error', () => undefined);
        client.on('authentication', (ctx) => {
          attempts.push(ctx.method);
          if (ctx.method === 'password' && ctx.password === 'right') return ctx.accept();
          ctx.reject(['publickey', 'password']);
        });
      }),
    );
    const session = await openParamikoSession(spec(target, undefined, { password: 'right' }));
    session.close();
    // the key first, the password after it was refused
    expect(attempts.indexOf('publickey')).toBeLessThan(attempts.indexOf('password'));
    // A wrong password: the refusal names the password among what to check, not the key alone.
    const refused = await openParamikoSession(spec(target, undefined, { password: 'wrong' })).then(
      (s) => (s.close(), undefined),
      (error: Error) => error,
    );
    expect(refused).toBeInstanceOf(ConnectError);
    expect(refused?.message).toMatch(
      /^authentication failed for .*; check ansible_user and ansible_ssh_private_key_file, and the password offered \(ansible_password/,
    );
    expect(refused?.message).not.toContain('wrong');
  });

  it("-vvvv: the client's account of the login comes before the first script's stderr, once, and with a failed login; never the password", async () => {
    const target = await listen(
      sshServer([], (client) =>
        client.on('session', (accept) =>
          accept().on('exec', (acceptExec) => {
            const channel = acceptExec();
            channel.stderr.write('from the script\n');
            channel.exit(0);
            channel.end();
          }),
        ),
      ),
    );
    const debugging = { openssh: { verbosity: 4 } } as unknown as Partial<ConnectionSpec>;
    const session = await openParamikoSession(spec(target, undefined, debugging));
    const first = await session.run(sh`true`);
    const second = await session.run(sh`true`);
    session.close();
    expect(first.stderr).toMatch(/Handshake[\s\S]*\nfrom the script\n$/);
    expect(second.stderr).toBe('from the script\n');
    // Not asked for (-vvv and below): the script's stderr alone.
    const quiet = await openParamikoSession(spec(target, undefined));
    expect((await quiet.run(sh`true`)).stderr).toBe('from the script\n');
    quiet.close();
    // A refused login at -vvvv: the account follows the reason; the password is not in it.
    const refusing = await listen(
      new Server({ hostKeys: [hostKey] }, (client) => {
        client.on('error', () => undefined);
        client.on('authentication', (ctx) => ctx.reject(['password']));
      }),
    );
    const refused = await openParamikoSession(spec(refusing, undefined, { ...debugging, password: 'Sup3rSecretPw' })).then(
      (s) => (s.close(), undefined),
      (error: Error) => error,
    );
    expect(refused?.message).toMatch(/^authentication failed for [^\n]*\n[\s\S]*Handshake/);
    expect(refused?.message).not.toContain('Sup3rSecretPw');
  });

  for (const [what, greet] of [
    ['accepts the connection and never speaks', false],
    ['sends a banner, then garbage, then resets', true],
  ] as const) {
    it(`a jump host that ${what}: that host fails (unreachable), the process goes on`, async () => {
      const silent = createServer((socket) => {
        socket.on('error', () => undefined);
        if (greet) {
          socket.write('SSH-2.0-x\r\n');
          socket.write(Buffer.alloc(64, 0xff));
          setTimeout(() => socket.resetAndDestroy(), 50);
        }
      });
      const port = await listen(silent);
      // 1.5 s: the wait for a host that never completes the handshake is what this is about
      const failure = await openParamikoSession(spec(1, port, { timeoutMs: 1500 })).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(ConnectError);
      expect((failure as ConnectError).message).toMatch(/^via jump host jumper@127\.0\.0\.1:\d+: /);
      // ssh2's second error of the failed handshake comes a moment later: it must find a listener
      await new Promise((r) => setTimeout(r, 1000));
    });
  }
});
