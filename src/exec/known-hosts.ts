// OpenSSH known_hosts lookup, so connections are checked against the same files `ssh` uses.
// Supports plain and hashed (|1|salt|hash) names, [host]:port entries, comma lists, negation
// and @revoked markers; @cert-authority lines are only counted (the in-process client cannot
// check host certificates: it says so instead of calling the host unknown).
import { createHash, createHmac } from 'node:crypto';
import { readFile } from 'node:fs/promises';

export interface KnownKey {
  type: string; // e.g. ssh-ed25519
  blob: Buffer; // the public key in wire format
  file: string;
  line: number;
}

export interface KnownHostsMatch {
  keys: KnownKey[];
  revoked: KnownKey[];
  /** @cert-authority lines for these names: only the OpenSSH transport can use them. */
  certAuthorities: number;
}

/** The name OpenSSH looks up: `host` on port 22, `[host]:port` otherwise. */
export function lookupName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function patternToRegExp(pattern: string): RegExp {
  const escaped = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`, 'i');
}

function hashedMatches(entry: string, name: string): boolean {
  const [, , salt, hash] = entry.split('|');
  if (!salt || !hash) return false;
  const mac = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
  return mac === hash;
}

function namesMatch(field: string, name: string): boolean {
  if (field.startsWith('|1|')) return hashedMatches(field, name);
  let matched = false;
  for (const pattern of field.split(',')) {
    const negated = pattern.startsWith('!');
    const p = negated ? pattern.slice(1) : pattern;
    if (patternToRegExp(p).test(name)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

/** Entries for `names` (any of them) in the given known_hosts texts. */
export function findKnownKeys(files: { path: string; text: string }[], names: string[]): KnownHostsMatch {
  const result: KnownHostsMatch = { keys: [], revoked: [], certAuthorities: 0 };
  for (const { path, text } of files) {
    text.split('\n').forEach((rawLine, index) => {
      const line = rawLine.trim();
      if (!line || line.startsWith('#')) return;
      const fields = line.split(/\s+/);
      let marker: string | undefined;
      if (fields[0]?.startsWith('@')) marker = fields.shift();
      const [hostField, type, key] = fields;
      if (!hostField || !type || !key) return;
      if (!names.some((n) => namesMatch(hostField, n))) return;
      if (marker === '@cert-authority') {
        result.certAuthorities++;
        return;
      }
      const entry = { type, blob: Buffer.from(key, 'base64'), file: path, line: index + 1 };
      (marker === '@revoked' ? result.revoked : result.keys).push(entry);
    });
  }
  return result;
}

export async function readKnownHostsFiles(paths: string[]): Promise<{ path: string; text: string }[]> {
  const out: { path: string; text: string }[] = [];
  for (const path of paths) {
    try {
      out.push({ path, text: await readFile(path, 'utf8') });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  return out;
}

/** SHA256:... as OpenSSH prints it. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The key type inside a wire-format public key blob (its first string). */
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const len = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + len).toString('latin1');
}
