// agent_server_ca_cert: the CA of a Trento server signed by a private CA, added to the host's
// trust store as the official role does (/etc/pki/trust/anchors/trento-server-ca.pem, 0644,
// then update-ca-certificates), so the agent can reach that server over https.
//
// Why the value is parsed here: a truncated paste or a key instead of a certificate would be
// written to the trust store and silently ignored by update-ca-certificates; the agent would
// then fail at run time far from the cause. Node's X509Certificate parses each block for real.
import { X509Certificate } from 'node:crypto';
import { ansibleBool } from '../inventory/truthiness.ts';

const BLOCK = /-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+?-----END CERTIFICATE-----/gu;

/** The PEM text to write, or the problem with the value (which never quotes the value). */
export function serverCaPem(value: string, asBase64: unknown): { ok: true; pem: string } | { ok: false; problem: string } {
  let text = value;
  if (ansibleBool(asBase64 ?? false) === true) {
    const compact = value.replace(/\s+/gu, '');
    if (!/^[A-Za-z0-9+/]+={0,2}$/u.test(compact) || compact.length % 4 !== 0) {
      return { ok: false, problem: 'is not base64 (agent_server_ca_cert_as_base64 is true): give base64 of the PEM file, e.g. base64 -w0 ca.pem' };
    }
    text = Buffer.from(compact, 'base64').toString('utf8');
  }
  const blocks = text.match(BLOCK) ?? [];
  if (blocks.length === 0) {
    return {
      ok: false,
      problem:
        'is not a PEM certificate (expected -----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----' +
        `${ansibleBool(asBase64 ?? false) === true ? ' after base64 decoding' : '; for base64 of the file set agent_server_ca_cert_as_base64: true'})`,
    };
  }
  const rest = blocks.reduce((acc, block) => acc.replace(block, ''), text);
  if (rest.trim() !== '') {
    return { ok: false, problem: 'has text besides its PEM certificates (a private key or a partial block?): give only the CA certificate(s)' };
  }
  for (const [index, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch (error) {
      return { ok: false, problem: `certificate ${index + 1} of ${blocks.length} does not parse (${(error as Error).message}): is it complete?` };
    }
  }
  return { ok: true, pem: text.endsWith('\n') ? text : `${text}\n` };
}
