import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hostKeyPolicy } from '../../../src/exec/paramiko.ts';
import { findKnownKeys, fingerprint, keyTypeOf, lookupName } from '../../../src/exec/known-hosts.ts';
import { sshOptions, splitArgs } from '../../../src/exec/connection.ts';

const blob = (type: string, body: string) => {
  const t = Buffer.from(type);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(t.length);
  return Buffer.concat([len, t, Buffer.from(body)]);
};
const key = blob('ssh-ed25519', 'key-one');
const other = blob('ssh-ed25519', 'key-two');

function hashed(name: string): string {
  const salt = randomBytes(20);
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

describe('known_hosts', () => {
  it('matches plain, bracketed-port, comma-listed and hashed names', () => {
    const text = [
      `a.example,10.0.0.1 ssh-ed25519 ${key.toString('base64')}`,
      `[10.0.0.2]:2222 ssh-ed25519 ${key.toString('base64')}`,
      `${hashed('10.0.0.3')} ssh-ed25519 ${key.toString('base64')}`,
      `@revoked 10.0.0.4 ssh-ed25519 ${other.toString('base64')}`,
      `# comment`,
    ].join('\n');
    const files = [{ path: 'kh', text }];
    expect(findKnownKeys(files, [lookupName('10.0.0.1', 22)]).keys).toHaveLength(1);
    expect(findKnownKeys(files, [lookupName('10.0.0.2', 2222)]).keys[0]!.blob.equals(key)).toBe(true);
    expect(findKnownKeys(files, [lookupName('10.0.0.2', 22)]).keys).toHaveLength(0);
    expect(findKnownKeys(files, ['10.0.0.3']).keys[0]!.line).toBe(3);
    expect(findKnownKeys(files, ['10.0.0.4']).revoked).toHaveLength(1);
    expect(keyTypeOf(key)).toBe('ssh-ed25519');
    expect(fingerprint(key)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });

  it('paramiko refuses a @revoked key even with host key checking off, as OpenSSH does; accepts an unknown one then', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-kh-'));
    const file = join(dir, 'known_hosts');
    writeFileSync(file, `@revoked 10.0.0.4 ssh-ed25519 ${other.toString('base64')}\n`);
    const spec = { knownHostsFiles: [file], address: '10.0.0.4', port: 22, host: 'db4' };
    for (const strictHostKeyChecking of [true, false]) {
      const policy = await hostKeyPolicy({ ...spec, strictHostKeyChecking });
      expect(policy.verify(other)).toBe(false);
      expect(policy.problem()).toMatch(/^host key SHA256:\S+ of 10\.0\.0\.4 is marked @revoked in /);
      expect(policy.verify(key)).toBe(!strictHostKeyChecking);
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads -o options from ansible_ssh_common_args as ssh does', () => {
    const o = sshOptions([`-o UserKnownHostsFile="/tmp/a b/kh" -oStrictHostKeyChecking=no -o 'ProxyJump bastion'`]);
    expect(o.get('userknownhostsfile')).toBe('/tmp/a b/kh');
    expect(o.get('stricthostkeychecking')).toBe('no');
    expect(o.get('proxyjump')).toBe('bastion');
    expect(splitArgs(`a 'b c' "d\\"e"`)).toEqual(['a', 'b c', 'd"e']);
  });
});
